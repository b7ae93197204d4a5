// SPDX-License-Identifier: MIT
/*
 * mmap (spec 5.1) and brk (spec 5.7).
 */
#include <string.h>

#include "merge.h"

#define LEGACY_MAP_MASK                                                                     \
	(UVMA_MAP_SHARED | UVMA_MAP_PRIVATE | UVMA_MAP_FIXED | UVMA_MAP_ANONYMOUS |              \
	 UVMA_MAP_DENYWRITE | UVMA_MAP_EXECUTABLE | UVMA_MAP_UNINITIALIZED | UVMA_MAP_GROWSDOWN | \
	 UVMA_MAP_LOCKED | UVMA_MAP_NORESERVE | UVMA_MAP_POPULATE | UVMA_MAP_NONBLOCK |           \
	 UVMA_MAP_STACK | UVMA_MAP_HUGETLB)

bool may_expand_vm(struct uvma_mm *mm, uint64_t flags, unsigned long npages)
{
	/* RLIMIT_AS and RLIMIT_DATA are unlimited in the modelled process. */
	(void)mm;
	(void)flags;
	(void)npages;
	return true;
}

bool can_do_mlock(struct uvma_mm *mm)
{
	return mm->sys->cfg.cap_ipc_lock || mm->sys->cfg.rlimit_memlock;
}

bool mlock_future_ok(struct uvma_mm *mm, uint64_t flags, uint64_t bytes)
{
	uint64_t locked = bytes >> PAGE_SHIFT;

	if (!(flags & UVMA_VM_LOCKED) || mm->sys->cfg.cap_ipc_lock)
		return true;
	locked += mm->locked_vm;
	return locked <= mm->sys->cfg.rlimit_memlock >> PAGE_SHIFT;
}

bool vma_supports_mlock(const struct uvma_vma *vma)
{
	if (vma->flags & (VM_SPECIAL | UVMA_VM_DROPPABLE | UVMA_VM_HUGETLB))
		return false;
	return true;
}

/* Overcommit heuristic (vm.overcommit_memory = 0): one mapping may not exceed RAM + swap. */
static bool enough_memory(struct uvma_mm *mm, uint64_t pages)
{
	uint64_t total = mm->sys->cfg.totalram_pages;

	return !total || pages <= total;
}

static bool is_accountable(uint64_t flags)
{
	return (flags & (UVMA_VM_WRITE | UVMA_VM_SHARED | UVMA_VM_NORESERVE | UVMA_VM_HUGETLB)) ==
	       UVMA_VM_WRITE;
}

static bool vma_ksm_compatible_flags(uint64_t flags)
{
	return !(flags & (UVMA_VM_SHARED | UVMA_VM_MAYSHARE | UVMA_VM_PFNMAP | UVMA_VM_IO |
			  UVMA_VM_DONTEXPAND | UVMA_VM_HUGETLB | UVMA_VM_MIXEDMAP |
			  UVMA_VM_DROPPABLE));
}

static int execute_only_pkey(struct uvma_mm *mm)
{
	/* Allocated on first use: the lowest free key, 1 in a fresh process. */
	if (!mm->sys->cfg.pkeys)
		return 0;
	if (mm->exec_pkey < 0)
		mm->exec_pkey = 1;
	return mm->exec_pkey;
}

uint64_t calc_vm_prot_bits(int prot, int pkey)
{
	uint64_t f = 0;

	if (prot & UVMA_PROT_READ)
		f |= UVMA_VM_READ;
	if (prot & UVMA_PROT_WRITE)
		f |= UVMA_VM_WRITE;
	if (prot & UVMA_PROT_EXEC)
		f |= UVMA_VM_EXEC;
	f |= ((uint64_t)pkey << UVMA_VM_PKEY_SHIFT) & UVMA_VM_PKEY_MASK;
	return f;
}

/* Accounted pages of the VMAs in [start, end): MAP_FIXED takes them over. */
static uint64_t count_accounted(struct uvma_mm *mm, uint64_t start, uint64_t end)
{
	uint64_t pages = 0;

	for (struct uvma_vma *v = vma_find(mm, start); v && v->start < end;
	     v = vma_next_of(mm, v)) {
		uint64_t s = v->start > start ? v->start : start;
		uint64_t e = v->end < end ? v->end : end;

		if (v->flags & UVMA_VM_ACCOUNT)
			pages += (e - s) >> PAGE_SHIFT;
	}
	return pages;
}

/*
 * Map [addr, addr+len) with @vm_flags: unmap what is there, merge with the
 * neighbours or link a new VMA (spec 5.1.5).
 */
/*
 * Tree operations a MAP_FIXED over [cur's entry, end) may make: an erase per
 * VMA in the range, two splits, the insert or a merge (four).
 */
static unsigned int tree_ops_to_replace(const struct tree_cursor *from, uint64_t end)
{
	struct tree_cursor cur = *from;
	unsigned int n = 0;

	for (struct uvma_vma *v = tree_cursor_entry(&cur); v && v->start < end;
	     v = tree_cursor_next(&cur))
		n++;
	return n + 2 + 4;
}

static long mmap_region(struct uvma_mm *mm, struct uvma_file *file, uint64_t addr, uint64_t len,
			uint64_t vm_flags, uint64_t pgoff)
{
	uint64_t end = addr + len;
	uint64_t pglen = len >> PAGE_SHIFT;
	struct uvma_vma *vma = NULL, *new, *prev, *next, *existing;
	struct tree_cursor cur;
	struct uvma_file *shmem = NULL;
	bool shared_anon = !file && (vm_flags & UVMA_VM_SHARED);
	int err;

	if (!may_expand_vm(mm, vm_flags, pglen))
		return -ENOMEM;
	if (is_accountable(vm_flags)) {
		if (!enough_memory(mm, pglen - count_accounted(mm, addr, end)))
			return -ENOMEM;
		vm_flags |= UVMA_VM_ACCOUNT;
	}
	/* Everything that can fail after the old range is gone, allocated now. */
	new = vma_alloc(mm);
	if (!new)
		return -ENOMEM;
	if (shared_anon) {
		shmem = shmem_file_create(mm->sys, len);
		if (!shmem) {
			vma_free(new);
			return -ENOMEM;
		}
	}
	existing = tree_find_after(&mm->tree, addr, &cur);
	if (existing && existing->start < end) {
		/*
		 * With lock-free readers (the multi-threaded build) the nodes the
		 * unmap frees wait for a grace period instead of serving the insert:
		 * reserve for both before anything changes.
		 */
		if (mm->tree.cow) {
			err = tree_preallocate(&mm->tree, tree_ops_to_replace(&cur, end));
			if (err)
				goto out_free;
		}
		err = do_vmi_align_munmap(mm, existing, addr, end);
		if (err)
			goto out_free;
		existing = tree_find_after(&mm->tree, addr, &cur);
	}
	err = tree_preallocate(&mm->tree, 1);
	if (err)
		goto out_free;

	/*
	 * KSM-any processes mark compatible memory VM_MERGEABLE: anonymous
	 * memory and shmem before the merge attempt, other files only on a VMA
	 * newly created for them (after the driver's mmap hook).
	 */
	if (mm->merge_any && (!file || file->shmem) && vma_ksm_compatible_flags(vm_flags))
		vm_flags |= UVMA_VM_MERGEABLE;

	/* the range is free now: next is what follows it, prev what precedes */
	next = existing;
	prev = next ? tree_cursor_prev(&cur) : tree_last(&mm->tree, &cur);
	if (prev || next) {
		VMG_NEW(vmg, mm, prev, next, addr, end, vm_flags, file, pgoff);

		vma = vma_merge_new_range(&vmg);
	}
	if (vma) {
		vma_free(new);
		if (shmem)
			file_put(shmem);
	} else {
		vma = new;
		vma->start = addr;
		vma->end = end;
		vma->pgoff = pgoff;
		vma->flags = vm_flags;
		if (file) {
			vma->file = file_get(file);
			vma->ops = file->shmem ? &shmem_vm_ops : NULL;
			if (!vma->ops)
				vma->ops = &file_vm_ops;
		} else if (shmem) {
			vma->file = shmem;
			vma->ops = &shmem_vm_ops;
		}
		if (mm->merge_any && file && !file->shmem && vma_ksm_compatible_flags(vm_flags))
			vma->flags |= UVMA_VM_MERGEABLE;
		err = vma_link(mm, vma);
		UVMA_BUG_ON(err); /* preallocated */
	}
	vm_stat_account(mm, vm_flags, (long)pglen);
	if (vm_flags & UVMA_VM_LOCKED) {
		if (!vma_supports_mlock(vma))
			vma->flags &= ~VM_LOCKED_MASK;
		else
			mm->locked_vm += pglen;
	}
	return (long)addr;

out_free:
	vma_free(new);
	if (shmem)
		file_put(shmem);
	return err;
}

long uvma_mmap(struct uvma_mm *mm, uint64_t addr, uint64_t len, int prot, int flags,
	       struct uvma_file *file, uint64_t off)
{
	MM_WRITE_GUARD(mm);
	uint64_t vm_flags, pgoff;
	bool populate;
	long ret;
	int pkey = 0;

	MM_CALL(mm, "mmap");
	if (off & ~PAGE_MASK)
		return -EINVAL;
	if (!(flags & UVMA_MAP_ANONYMOUS)) {
		if (!file)
			return -EBADF;
		if (flags & UVMA_MAP_HUGETLB)
			return -EINVAL;
	} else {
		file = NULL;
		/*
		 * An anonymous hugetlbfs file: its placement wants a 2 MiB-aligned
		 * MAP_FIXED address, then the reservation fails (the host reserves
		 * no huge pages).
		 */
		if (flags & UVMA_MAP_HUGETLB)
			return ((flags & (UVMA_MAP_FIXED | UVMA_MAP_FIXED_NOREPLACE)) &&
				(addr & (PMD_SIZE - 1))) ? -EINVAL : -ENOMEM;
	}
	pgoff = off >> PAGE_SHIFT;
	if (!len)
		return -EINVAL;
	if (flags & UVMA_MAP_FIXED_NOREPLACE)
		flags |= UVMA_MAP_FIXED;
	if (!(flags & UVMA_MAP_FIXED)) {
		addr &= PAGE_MASK;
		if (addr && addr < mm->sys->cfg.mmap_min_addr)
			addr = PAGE_ALIGN(mm->sys->cfg.mmap_min_addr);
	}
	if (len > UINT64_MAX - PAGE_SIZE)
		return -ENOMEM;
	len = PAGE_ALIGN(len);
	if (pgoff + (len >> PAGE_SHIFT) < pgoff)
		return -EOVERFLOW;
	if (mm->map_count > mm->sys->cfg.max_map_count)
		return -ENOMEM;
	if (prot == UVMA_PROT_EXEC)
		pkey = execute_only_pkey(mm);

	vm_flags = calc_vm_prot_bits(prot, pkey) | mm->def_flags | VM_MAY_FLAGS;
	if (flags & UVMA_MAP_GROWSDOWN)
		vm_flags |= UVMA_VM_GROWSDOWN;
	if (flags & UVMA_MAP_LOCKED)
		vm_flags |= UVMA_VM_LOCKED;
	if (flags & UVMA_MAP_SYNC)
		vm_flags |= UVMA_VM_SYNC;
	if (flags & UVMA_MAP_STACK)
		vm_flags |= UVMA_VM_NOHUGEPAGE;

	if ((flags & UVMA_MAP_FIXED) && (addr & ~PAGE_MASK))
		return -EINVAL;
	ret = get_unmapped_area(mm, file, addr, len, pgoff, flags, vm_flags);
	if (ret < 0)
		return ret;
	addr = (uint64_t)ret;

	if (flags & UVMA_MAP_FIXED_NOREPLACE) {
		struct uvma_vma *v = vma_find(mm, addr);

		if (v && v->start < addr + len)
			return -EEXIST;
	}
	if (flags & UVMA_MAP_LOCKED) {
		if (!can_do_mlock(mm))
			return -EPERM;
		if (!mlock_future_ok(mm, vm_flags, len))
			return -EAGAIN;
	}

	if (file) {
		int type = flags & UVMA_MAP_TYPE;

		if (pgoff + (len >> PAGE_SHIFT) > (1ULL << (63 - PAGE_SHIFT)))
			return -EOVERFLOW;
		if (type == UVMA_MAP_SHARED || type == UVMA_MAP_SHARED_VALIDATE) {
			if (type == UVMA_MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_MASK))
				return -EOPNOTSUPP;
			if ((prot & UVMA_PROT_WRITE) && !file->writable)
				return -EACCES;
			vm_flags |= UVMA_VM_SHARED | UVMA_VM_MAYSHARE;
			if (!file->writable)
				vm_flags &= ~(UVMA_VM_MAYWRITE | UVMA_VM_SHARED);
		} else if (type != UVMA_MAP_PRIVATE) {
			return -EINVAL;
		}
		if (!file->readable)
			return -EACCES;
		if (vm_flags & UVMA_VM_GROWSDOWN)
			return -EINVAL;
	} else {
		switch (flags & UVMA_MAP_TYPE) {
		case UVMA_MAP_SHARED:
			if (vm_flags & UVMA_VM_GROWSDOWN)
				return -EINVAL;
			pgoff = 0;
			vm_flags |= UVMA_VM_SHARED | UVMA_VM_MAYSHARE;
			break;
		case UVMA_MAP_DROPPABLE:
			if ((flags & (UVMA_MAP_LOCKED | UVMA_MAP_HUGETLB)) ||
			    (vm_flags & UVMA_VM_GROWSDOWN))
				return -EINVAL;
			vm_flags |= UVMA_VM_DROPPABLE | UVMA_VM_NORESERVE | UVMA_VM_WIPEONFORK |
				    UVMA_VM_DONTDUMP;
			pgoff = addr >> PAGE_SHIFT;
			break;
		case UVMA_MAP_PRIVATE:
			pgoff = addr >> PAGE_SHIFT;
			break;
		default:
			return -EINVAL;
		}
	}
	if (flags & UVMA_MAP_NORESERVE)
		vm_flags |= UVMA_VM_NORESERVE;

	populate = (vm_flags & UVMA_VM_LOCKED) ||
		   (flags & (UVMA_MAP_POPULATE | UVMA_MAP_NONBLOCK)) == UVMA_MAP_POPULATE;
	ret = mmap_region(mm, file, addr, len, vm_flags, pgoff);
	if (ret >= 0 && populate)
		populate_range(mm, addr, addr + len, false, true);
	mm_debug_validate(mm);
	return ret;
}

/* ---- brk ---------------------------------------------------------------------- */

static int do_brk_flags(struct uvma_mm *mm, struct uvma_vma *brkvma, uint64_t addr, uint64_t len)
{
	uint64_t flags = UVMA_VM_READ | UVMA_VM_WRITE | VM_MAY_FLAGS | UVMA_VM_ACCOUNT |
			 mm->def_flags;
	struct uvma_vma *vma;

	if (mm->merge_any)
		flags |= UVMA_VM_MERGEABLE;
	if (!may_expand_vm(mm, flags, len >> PAGE_SHIFT))
		return -ENOMEM;
	if (mm->map_count > mm->sys->cfg.max_map_count)
		return -ENOMEM;
	if (!enough_memory(mm, len >> PAGE_SHIFT))
		return -ENOMEM;

	if (brkvma && brkvma->end == addr) {
		VMG_NEW(vmg, mm, brkvma, NULL, addr, addr + len, flags, NULL, addr >> PAGE_SHIFT);

		vmg.just_expand = true;
		if (vma_merge_new_range(&vmg))
			goto out;
		if (vmg.state == VMG_ERROR_NOMEM)
			return -ENOMEM;
	}
	vma = vma_alloc(mm);
	if (!vma)
		return -ENOMEM;
	vma->start = addr;
	vma->end = addr + len;
	vma->pgoff = addr >> PAGE_SHIFT;
	vma->flags = flags;
	if (vma_link(mm, vma)) {
		vma_free(vma);
		return -ENOMEM;
	}
out:
	vm_stat_account(mm, flags, (long)(len >> PAGE_SHIFT));
	if (flags & UVMA_VM_LOCKED)
		mm->locked_vm += len >> PAGE_SHIFT;
	return 0;
}

uint64_t uvma_brk(struct uvma_mm *mm, uint64_t brk)
{
	MM_WRITE_GUARD(mm);
	uint64_t origbrk = mm->brk, newbrk, oldbrk;
	struct uvma_vma *brkvma, *next;

	MM_CALL(mm, "brk");
	if (brk < mm->start_brk)
		goto out;
	newbrk = PAGE_ALIGN(brk);
	oldbrk = PAGE_ALIGN(mm->brk);
	if (oldbrk == newbrk) {
		mm->brk = brk;
		goto success;
	}
	if (brk <= mm->brk) {
		brkvma = vma_find(mm, newbrk);
		if (!brkvma || brkvma->start >= oldbrk)
			goto out;
		mm->brk = brk;
		if (do_vmi_align_munmap(mm, brkvma, newbrk, oldbrk))
			goto out;
		goto success;
	}
	if (newbrk > TASK_SIZE || newbrk - oldbrk > TASK_SIZE - oldbrk)
		goto out;
	if (!mlock_future_ok(mm, mm->def_flags, newbrk - oldbrk))
		goto out;
	next = vma_find(mm, oldbrk);
	if (next && next->start < newbrk + PAGE_SIZE + STACK_GUARD_GAP &&
	    newbrk + PAGE_SIZE > vm_start_gap(next))
		goto out;
	brkvma = vma_find_prev(mm, oldbrk);
	if (brkvma && brkvma->end <= mm->start_brk)
		brkvma = NULL;
	if (do_brk_flags(mm, brkvma, oldbrk, newbrk - oldbrk) < 0)
		goto out;
	mm->brk = brk;
	if (mm->def_flags & UVMA_VM_LOCKED)
		populate_range(mm, oldbrk, newbrk, false, true);
success:
	mm_debug_validate(mm);
	return brk;
out:
	mm->brk = origbrk;
	mm_debug_validate(mm);
	return origbrk;
}
