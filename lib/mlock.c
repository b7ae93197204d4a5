// SPDX-License-Identifier: MIT
/*
 * mlock, mlock2, munlock, mlockall, munlockall (spec 5.5).
 */
#include "merge.h"

static int mlock_fixup(struct uvma_vma *vma, struct uvma_vma **prev, uint64_t start, uint64_t end,
		       uint64_t newflags)
{
	struct uvma_mm *mm = vma->mm;
	uint64_t oldflags = vma->flags;
	long nr_pages;
	int err = 0;

	/* Unsupported VMAs are skipped silently: no split, no count. */
	if (newflags == oldflags || !vma_supports_mlock(vma)) {
		*prev = vma;
		return 0;
	}
	vma = vma_modify_flags(*prev, vma, start, end, &newflags, &err);
	if (!vma) {
		*prev = NULL;
		return err;
	}
	nr_pages = (long)((end - start) >> PAGE_SHIFT);
	if (!(newflags & UVMA_VM_LOCKED))
		nr_pages = -nr_pages;
	else if (oldflags & UVMA_VM_LOCKED)
		nr_pages = 0;
	mm->locked_vm += nr_pages;
	vma_set_flags(vma, newflags);
	/*
	 * mlock_vma_pages_range: drain the LRU batches, walk the pages, drain
	 * again, so that the mlock batch the walk filled holds no reference
	 * after the call (a write that follows can reuse the folio).
	 */
	if (!((newflags & oldflags) & UVMA_VM_LOCKED)) {
		lru_add_drain(mm->sys);
		mlock_range_pages(vma, start, end, newflags & UVMA_VM_LOCKED);
		lru_add_drain(mm->sys);
	}
	*prev = vma;
	return 0;
}

static int apply_vma_lock_flags(struct uvma_mm *mm, uint64_t start, uint64_t len, uint64_t flags)
{
	uint64_t end = start + len, tmp, nstart = start;
	struct uvma_vma *vma, *prev;
	int err;

	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	vma = vma_lookup(mm, start);
	if (!vma)
		return -ENOMEM;
	prev = start > vma->start ? vma : vma_prev_of(mm, vma);
	tmp = vma->start;
	while (vma && vma->start < end) {
		uint64_t newflags;

		if (vma->start != tmp)
			return -ENOMEM;
		newflags = (vma->flags & ~VM_LOCKED_MASK) | flags;
		tmp = vma->end < end ? vma->end : end;
		err = mlock_fixup(vma, &prev, nstart, tmp, newflags);
		if (err)
			return err;
		tmp = prev->end;
		nstart = tmp;
		vma = vma_find(mm, tmp);
	}
	if (tmp < end)
		return -ENOMEM;
	return 0;
}

/* Populate errors become mlock's POSIX errors. */
static int mlock_posix_error(int err)
{
	if (err == -EFAULT)
		return -ENOMEM;
	if (err == -ENOMEM)
		return -EAGAIN;
	return err;
}

static uint64_t count_mlocked_pages(struct uvma_mm *mm, uint64_t start, uint64_t len)
{
	uint64_t end = start + len, count = 0;

	for (struct uvma_vma *v = vma_find(mm, start); v && v->start < end;
	     v = vma_next_of(mm, v)) {
		if (v->flags & UVMA_VM_LOCKED) {
			uint64_t s = v->start > start ? v->start : start;
			uint64_t e = v->end < end ? v->end : end;

			count += (e - s) >> PAGE_SHIFT;
		}
	}
	return count;
}

static int do_mlock(struct uvma_mm *mm, uint64_t start, uint64_t len, uint64_t flags)
{
	uint64_t locked, limit = mm->sys->cfg.rlimit_memlock >> PAGE_SHIFT;
	int err = -ENOMEM;

	if (!can_do_mlock(mm))
		return -EPERM;
	len = PAGE_ALIGN(len + (start & ~PAGE_MASK));
	start &= PAGE_MASK;
	locked = (len >> PAGE_SHIFT) + mm->locked_vm;
	if (locked > limit && !mm->sys->cfg.cap_ipc_lock)
		locked -= count_mlocked_pages(mm, start, len);
	if (locked <= limit || mm->sys->cfg.cap_ipc_lock)
		err = apply_vma_lock_flags(mm, start, len, flags);
	if (err)
		return err;
	err = populate_range(mm, start, start + len, false, false);
	return err ? mlock_posix_error(err) : 0;
}

int uvma_mlock(struct uvma_mm *mm, uint64_t start, uint64_t len)
{
	MM_WRITE_GUARD(mm);
	int ret;

	MM_CALL(mm, "mlock");
	ret = do_mlock(mm, start, len, UVMA_VM_LOCKED);
	mm_debug_validate(mm);
	return ret;
}

int uvma_mlock2(struct uvma_mm *mm, uint64_t start, uint64_t len, int flags)
{
	MM_WRITE_GUARD(mm);
	uint64_t vm_flags = UVMA_VM_LOCKED;
	int ret;

	MM_CALL(mm, "mlock2");
	if (flags & ~UVMA_MLOCK_ONFAULT)
		return -EINVAL;
	if (flags & UVMA_MLOCK_ONFAULT)
		vm_flags |= UVMA_VM_LOCKONFAULT;
	ret = do_mlock(mm, start, len, vm_flags);
	mm_debug_validate(mm);
	return ret;
}

int uvma_munlock(struct uvma_mm *mm, uint64_t start, uint64_t len)
{
	MM_WRITE_GUARD(mm);
	int ret;

	MM_CALL(mm, "munlock");
	len = PAGE_ALIGN(len + (start & ~PAGE_MASK));
	start &= PAGE_MASK;
	ret = apply_vma_lock_flags(mm, start, len, 0);
	mm_debug_validate(mm);
	return ret;
}

/* Every VMA, whole; errors are ignored and the walk goes on. */
static void apply_mlockall_flags(struct uvma_mm *mm, int flags)
{
	uint64_t to_add = 0;
	struct uvma_vma *vma, *prev = NULL;

	mm->def_flags &= ~VM_LOCKED_MASK;
	if (flags & UVMA_MCL_FUTURE) {
		mm->def_flags |= UVMA_VM_LOCKED;
		if (flags & UVMA_MCL_ONFAULT)
			mm->def_flags |= UVMA_VM_LOCKONFAULT;
		if (!(flags & UVMA_MCL_CURRENT))
			return;
	}
	if (flags & UVMA_MCL_CURRENT) {
		to_add |= UVMA_VM_LOCKED;
		if (flags & UVMA_MCL_ONFAULT)
			to_add |= UVMA_VM_LOCKONFAULT;
	}
	for (vma = vma_find(mm, 0); vma; vma = vma_find(mm, vma->end)) {
		uint64_t newflags = (vma->flags & ~VM_LOCKED_MASK) | to_add;

		if (mlock_fixup(vma, &prev, vma->start, vma->end, newflags))
			prev = vma;
		vma = prev;
	}
}

int uvma_mlockall(struct uvma_mm *mm, int flags)
{
	MM_WRITE_GUARD(mm);
	int ret = -ENOMEM;

	MM_CALL(mm, "mlockall");
	if (!flags || (flags & ~(UVMA_MCL_CURRENT | UVMA_MCL_FUTURE | UVMA_MCL_ONFAULT)) ||
	    flags == UVMA_MCL_ONFAULT)
		return -EINVAL;
	if (!can_do_mlock(mm))
		return -EPERM;
	if (!(flags & UVMA_MCL_CURRENT) || mm->sys->cfg.cap_ipc_lock ||
	    mm->total_vm <= mm->sys->cfg.rlimit_memlock >> PAGE_SHIFT) {
		apply_mlockall_flags(mm, flags);
		ret = 0;
	}
	if (!ret && (flags & UVMA_MCL_CURRENT))
		populate_range(mm, 0, TASK_SIZE, false, true);
	mm_debug_validate(mm);
	return ret;
}

int uvma_munlockall(struct uvma_mm *mm)
{
	MM_WRITE_GUARD(mm);
	MM_CALL(mm, "munlockall");
	apply_mlockall_flags(mm, 0);
	mm_debug_validate(mm);
	return 0;
}
