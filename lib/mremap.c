// SPDX-License-Identifier: MIT
/*
 * mremap (spec 5.6): shrink, grow in place, move (one VMA or, for a FIXED
 * move of unchanged size, every VMA in the range), DONTUNMAP.
 *
 * A move copies the VMA to the destination (merging there if it can), moves
 * the page tables, then unmaps the source.  A faulted private anonymous VMA
 * keeps its pgoff, because its folios' indices embed it: that is why moved
 * memory stops merging with its new neighbours.
 */
#include "merge.h"

enum remap_type {
	MREMAP_NO_RESIZE,
	MREMAP_SHRINK,
	MREMAP_EXPAND,
};

/* One mremap call (the kernel's vma_remap_struct). */
struct vma_remap {
	/* inputs */
	struct uvma_mm *mm;
	uint64_t addr, old_len, new_len, new_addr;
	int flags;
	/* working */
	struct uvma_vma *vma;
	uint64_t delta;
	enum remap_type remap_type;
	bool populate_expand;
	uint64_t populate_start;
};

static bool vrm_implies_new_addr(const struct vma_remap *vrm)
{
	return vrm->flags & (UVMA_MREMAP_FIXED | UVMA_MREMAP_DONTUNMAP);
}

static bool vrm_overlaps(const struct vma_remap *vrm)
{
	uint64_t start_old = vrm->addr, end_old = vrm->addr + vrm->old_len;
	uint64_t start_new = vrm->new_addr, end_new = vrm->new_addr + vrm->new_len;

	if (start_old >= end_new || start_new >= end_old)
		return false;
	return true;
}

static int check_mremap_params(struct vma_remap *vrm)
{
	uint64_t max = vrm->mm->sys->cfg.max_map_count;
	uint64_t known = UVMA_MREMAP_FIXED | UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_DONTUNMAP;

	/* the relocation flags exist only where the 2025 series is applied */
	if (policy_relocate(vrm->mm))
		known |= UVMA_MREMAP_RELOCATE_ANON | UVMA_MREMAP_MUST_RELOCATE_ANON;
	if (vrm->flags & ~known)
		return -EINVAL;
	if (vrm->addr & ~PAGE_MASK)
		return -EINVAL;
	if (!vrm->new_len)
		return -EINVAL;
	if (vrm->new_len > TASK_SIZE)
		return -EINVAL;
	if (!vrm_implies_new_addr(vrm))
		return 0;
	if (vrm->new_addr > TASK_SIZE - vrm->new_len)
		return -EINVAL;
	if (vrm->new_addr & ~PAGE_MASK)
		return -EINVAL;
	if (!(vrm->flags & UVMA_MREMAP_MAYMOVE))
		return -EINVAL;
	if ((vrm->flags & UVMA_MREMAP_DONTUNMAP) && vrm->old_len != vrm->new_len)
		return -EINVAL;
	if (vrm_overlaps(vrm))
		return -EINVAL;
	/*
	 * Room for the worst case, both ranges split in three, checked before
	 * anything is unmapped (the host's 6.18 thresholds).
	 */
	if (vrm->mm->map_count + 2 >= max - 3)
		return -ENOMEM;
	return 0;
}

static bool vrm_will_map_new(const struct vma_remap *vrm)
{
	return vrm->remap_type == MREMAP_EXPAND || vrm_implies_new_addr(vrm);
}

static int check_prep_vma(struct vma_remap *vrm)
{
	struct uvma_vma *vma = vrm->vma;
	uint64_t old_len, new_len, pgoff;

	if (!vma)
		return -EFAULT;
	/* a sealed VMA may not move, grow or shrink */
	if (vma->flags & UVMA_VM_SEALED)
		return -EPERM;
	if (vrm->old_len == vrm->new_len) {
		vrm->remap_type = MREMAP_NO_RESIZE;
		vrm->delta = 0;
	} else if (vrm->old_len > vrm->new_len) {
		vrm->remap_type = MREMAP_SHRINK;
		vrm->delta = vrm->old_len - vrm->new_len;
	} else {
		vrm->remap_type = MREMAP_EXPAND;
		vrm->delta = vrm->new_len - vrm->old_len;
	}
	if (!vrm_implies_new_addr(vrm))
		vrm->new_addr = vrm->addr;
	if (!vrm_will_map_new(vrm))
		return 0;
	old_len = vrm->old_len;
	new_len = vrm->new_len;
	/* Duplicating a private mapping makes no sense. */
	if (!old_len && !(vma->flags & (UVMA_VM_SHARED | UVMA_VM_MAYSHARE)))
		return -EINVAL;
	if ((vrm->flags & UVMA_MREMAP_DONTUNMAP) &&
	    (vma->flags & (UVMA_VM_DONTEXPAND | UVMA_VM_PFNMAP)))
		return -EINVAL;
	/* Only the part that is kept must lie within the VMA. */
	if (vrm->remap_type == MREMAP_SHRINK)
		old_len = new_len;
	if (old_len > vma->end - vrm->addr)
		return -EFAULT;
	if (new_len == old_len)
		return 0;
	if (vma->flags & UVMA_VM_LOCKED)
		vrm->populate_expand = true;
	pgoff = vma->pgoff + ((vrm->addr - vma->start) >> PAGE_SHIFT);
	if (pgoff + (new_len >> PAGE_SHIFT) < pgoff)
		return -EINVAL;
	if (vma->flags & (UVMA_VM_DONTEXPAND | UVMA_VM_PFNMAP))
		return -EFAULT;
	if (!mlock_future_ok(vrm->mm, vma->flags, vrm->delta))
		return -EAGAIN;
	if (!may_expand_vm(vrm->mm, vma->flags, vrm->delta >> PAGE_SHIFT))
		return -ENOMEM;
	return 0;
}

static void vrm_stat_account(struct vma_remap *vrm, uint64_t bytes)
{
	uint64_t pages = bytes >> PAGE_SHIFT;

	vm_stat_account(vrm->mm, vrm->vma->flags, (long)pages);
	if (vrm->vma->flags & UVMA_VM_LOCKED)
		vrm->mm->locked_vm += pages;
}

/* Cut [addr + new_len, addr + old_len) off; the source VMA is looked up again. */
static int shrink_vma(struct vma_remap *vrm)
{
	int err = do_munmap(vrm->mm, vrm->addr + vrm->new_len, vrm->delta);

	vrm->vma = NULL;
	if (err)
		return err;
	vrm->vma = vma_lookup(vrm->mm, vrm->addr);
	return vrm->vma ? 0 : -EFAULT;
}

/*
 * Copy @vma's [addr, addr+len) to [new_addr, new_addr+len) as a VMA: merged
 * into a neighbour there if possible, else a new VMA (spec 3.13).  *vmap
 * becomes the merged VMA if the source itself was swallowed.
 */
/*
 * @anon_from: the VMA whose anon_vma the copy carries: @vma itself, or under
 * the auto policy the neighbour whose anon_vma a first fault would reuse.
 */
static struct uvma_vma *copy_vma(struct uvma_vma **vmap, uint64_t new_addr, uint64_t len,
				 uint64_t pgoff, bool relocatable, struct uvma_vma *anon_from)
{
	struct uvma_vma *vma = *vmap, *new_vma, *prev, *next;
	struct uvma_mm *mm = vma->mm;
	uint64_t vma_start = vma->start;

	/* Unfaulted anonymous memory has no folios to keep in line: reset pgoff. */
	if (vma_is_anonymous(vma) && !vma->anon_vma)
		pgoff = new_addr >> PAGE_SHIFT;

	next = vma_find(mm, new_addr);
	prev = vma_find_prev(mm, new_addr);
	{
		VMG_NEW(vmg, mm, prev, next, new_addr, new_addr + len, vma->flags, vma->file, pgoff);

		vmg.anon_vma = anon_from->anon_vma;
		vmg.policy = vma->policy;
		vmg.uffd = vma->uffd;
		vmg.anon_name = vma->anon_name;
		vmg.copied_from = anon_from;
		vmg.relocatable = relocatable;
		new_vma = vma_merge_new_range(&vmg);
	}
	if (new_vma) {
		if (vma_start >= new_vma->start && vma_start < new_vma->end)
			*vmap = new_vma;
		return new_vma;
	}
	new_vma = vma_dup(vma);
	if (!new_vma)
		return NULL;
	new_vma->start = new_addr;
	new_vma->end = new_addr + len;
	new_vma->pgoff = pgoff;
	new_vma->anon_vma = anon_from->anon_vma;
	if (anon_vma_clone(new_vma, anon_from))
		goto out_free;
	if (vma_link(mm, new_vma)) {
		unlink_anon_vmas(new_vma);
		goto out_free;
	}
	return new_vma;

out_free:
	vma_release(new_vma);
	return NULL;
}

/* Unmap the source after a move; VM_ACCOUNT survives on the remnants. */
static void unmap_source_vma(struct vma_remap *vrm)
{
	struct uvma_mm *mm = vrm->mm;
	struct uvma_vma *vma = vrm->vma;
	uint64_t addr = vrm->addr, len = vrm->old_len, end = addr + len;
	bool accountable = (vma->flags & UVMA_VM_ACCOUNT) && !(vrm->flags & UVMA_MREMAP_DONTUNMAP);
	uint64_t vm_start = vma->start, vm_end = vma->end;

	if (accountable)
		vma_set_flags(vma, vma->flags & ~UVMA_VM_ACCOUNT);
	vrm->vma = NULL;
	if (do_munmap(mm, addr, len))
		return;
	if (accountable) {
		struct uvma_vma *v;

		if (vm_start < addr && (v = vma_find_prev(mm, addr)))
			vma_set_flags(v, v->flags | UVMA_VM_ACCOUNT);
		if (vm_end > end && (v = vma_find(mm, end)))
			vma_set_flags(v, v->flags | UVMA_VM_ACCOUNT);
	}
}

/*
 * relocate: 1 to relocate this move, 0 for an ordinary move (the fallback,
 * or no need: an ordinary merge already works, the no-op case), or -EFAULT
 * for MREMAP_MUST_RELOCATE_ANON where relocation is impossible; nothing has
 * changed when it returns.  Large folios crossing the range are split after.
 */
static int relocate_decide(struct vma_remap *vrm, struct uvma_vma *vma)
{
	struct uvma_mm *mm = vrm->mm;
	uint64_t start = vrm->addr, end = vrm->addr + vrm->old_len;
	enum uvma_reason why;
	bool possible;

	{
		VMG_NEW(vmg, mm, vma_find_prev(mm, vrm->new_addr), vma_find(mm, vrm->new_addr),
			vrm->new_addr, vrm->new_addr + vrm->new_len, vma->flags, vma->file,
			vma->pgoff + ((start - vma->start) >> PAGE_SHIFT));

		vmg.anon_vma = vma->anon_vma;
		vmg.policy = vma->policy;
		vmg.uffd = vma->uffd;
		vmg.anon_name = vma->anon_name;
		vmg.copied_from = vma;
		possible = vma_merge_possible(&vmg);
	}
	if (possible)
		return 0;
	why = relocate_check(vma, start, end);
	relocate_event(mm, start, end, vrm->new_addr, why);
	if (why != UVMA_REASON_NONE)
		return (vrm->flags & UVMA_MREMAP_MUST_RELOCATE_ANON) ? -EFAULT : 0;
	thp_split_partial_folios(vma, start, end, false);
	return 1;
}

static long move_vma(struct vma_remap *vrm)
{
	struct uvma_mm *mm = vrm->mm;
	struct uvma_vma *vma = vrm->vma, *new_vma;
	struct anon_vma *old_anon;
	struct uvma_vma *anon_from;
	uint64_t new_pgoff, old_pgoff;
	bool faulted, relocate;
	int err;

	if (mm->map_count >= mm->sys->cfg.max_map_count - 3)
		return -ENOMEM;
	if (vma->ops && vma->ops->no_split &&
	    (vma->start != vrm->addr || vma->end != vrm->addr + vrm->old_len))
		return -EINVAL;
	/* no fault may map a page in the source while its page tables move */
	vma_start_write(vma);
	/* faulted private anonymous memory: what the relocation policies act on */
	faulted = vma_is_anonymous(vma) && !(vma->flags & UVMA_VM_SHARED) && vma->anon_vma;
	/* relocate: decide before anything changes, so that MUST can fail cleanly */
	relocate = false;
	if (faulted && policy_relocate(mm) &&
	    ((vrm->flags & (UVMA_MREMAP_RELOCATE_ANON | UVMA_MREMAP_MUST_RELOCATE_ANON)) ||
	     mm->sys->cfg.relocate_all)) {
		int r = relocate_decide(vrm, vma);

		if (r < 0)
			return r;
		relocate = r;
	}
	/*
	 * KSM's rmap items are keyed by address: the pages to move are copied
	 * out of their KSM folios first (the flag stays, KSM may merge again).
	 */
	if ((vma->flags & UVMA_VM_MERGEABLE) && vma->anon_vma) {
		err = break_ksm_range(vma, vrm->addr, vrm->addr + vrm->old_len);
		if (err)
			return err;
	}

	new_pgoff = old_pgoff = vma->pgoff + ((vrm->addr - vma->start) >> PAGE_SHIFT);
	old_anon = vma->anon_vma;
	anon_from = vma;
	if (faulted && (policy_matena(mm) || policy_auto(mm) || policy_ideal(mm))) {
		uint64_t start = vrm->addr, end = vrm->addr + vrm->old_len;
		enum uvma_reason why;

		if (policy_ideal(mm))
			/*
			 * ideal: whatever would block is unshared first;
			 * only running out of memory leaves an ordinary move.
			 */
			why = ideal_prepare(vma, start, end) ? UVMA_REASON_NOMEM : UVMA_REASON_NONE;
		else if (policy_matena(mm))
			/*
			 * matena: faulted memory that nobody else can reach
			 * takes the page offset of its new address, as if it
			 * had been faulted there; its folios follow once moved.
			 */
			why = anon_vma_unshared(old_anon) ? range_relocatable(mm, start, end)
							  : UVMA_REASON_ANON_VMA_SHARED;
		else
			/*
			 * auto: no flag; every move of faulted memory tries,
			 * and what blocks is a folio's history, checked before
			 * anything moves.  The memory then ends as if faulted
			 * at its new place: pgoff from the new address, the
			 * anon_vma a first fault there would take.
			 */
			why = auto_relocatable(vma, start, end);
		relocate_event(mm, start, end, vrm->new_addr, why);
		relocate = why == UVMA_REASON_NONE;
	}
	if (relocate && (policy_auto(mm) || policy_relocate(mm) || policy_ideal(mm))) {
		/* the anon_vma a first fault at the new place would take */
		struct uvma_vma *n = auto_anon_vma_source(vma, vrm->new_addr,
							  vrm->new_addr + vrm->new_len,
							  vrm->new_addr >> PAGE_SHIFT);

		if (n)
			anon_from = n;
	}
	if (relocate)
		new_pgoff = vrm->new_addr >> PAGE_SHIFT;
	new_vma = copy_vma(&vma, vrm->new_addr, vrm->new_len, new_pgoff, relocate, anon_from);
	if (!new_vma)
		return -ENOMEM;
	vrm->vma = vma;
	err = move_page_tables(new_vma, vrm->new_addr, vma, vrm->addr, vrm->old_len);
	if (!err && relocate)
		reconnect_range(new_vma, vrm->new_addr, vrm->new_addr + vrm->old_len,
				policy_ideal(mm) ? NULL : old_anon, old_pgoff - new_pgoff);
	if (!err && vma->ops && vma->ops->no_mremap) {
		/* The mapping refuses to move: put the entries back. */
		err = -EINVAL;
		UVMA_BUG_ON(move_page_tables(vma, vrm->addr, new_vma, vrm->new_addr, vrm->old_len));
	}
	if (err) {
		/* Unmap the new range instead of the old. */
		vrm->vma = new_vma;
		vrm->old_len = vrm->new_len;
		vrm->addr = vrm->new_addr;
	}
	vrm_stat_account(vrm, vrm->new_len);
	if (!err && (vrm->flags & UVMA_MREMAP_DONTUNMAP)) {
		uint64_t start = vrm->addr, end = vrm->addr + vrm->old_len;

		/* The source stays, empty and unlocked; locked_vm is not touched. */
		vma_set_flags(vma, vma->flags & ~VM_LOCKED_MASK);
		if (new_vma != vma && start == vma->start && end == vma->end)
			unlink_anon_vmas(vma);
	} else {
		unmap_source_vma(vrm);
	}
	return err ? err : (long)vrm->new_addr;
}

static long vrm_set_new_addr(struct vma_remap *vrm)
{
	struct uvma_vma *vma = vrm->vma;
	uint64_t pgoff = vma->pgoff + ((vrm->addr - vma->start) >> PAGE_SHIFT);
	uint64_t hint = vrm_implies_new_addr(vrm) ? vrm->new_addr : 0;
	int map_flags = 0;
	long res;

	if (vrm->flags & UVMA_MREMAP_FIXED)
		map_flags |= UVMA_MAP_FIXED;
	if (vma->flags & UVMA_VM_MAYSHARE)
		map_flags |= UVMA_MAP_SHARED;
	res = get_unmapped_area(vrm->mm, vma->file, hint, vrm->new_len, pgoff, map_flags, 0);
	if (res < 0)
		return res;
	vrm->new_addr = (uint64_t)res;
	return 0;
}

static long mremap_to(struct vma_remap *vrm)
{
	long err;

	if (vrm->flags & UVMA_MREMAP_FIXED) {
		err = do_munmap(vrm->mm, vrm->new_addr, vrm->new_len);
		vrm->vma = NULL;
		if (err)
			return err;
		vrm->vma = vma_lookup(vrm->mm, vrm->addr);
		if (!vrm->vma)
			return -EFAULT;
	}
	if (vrm->remap_type == MREMAP_SHRINK) {
		err = shrink_vma(vrm);
		if (err)
			return err;
		vrm->old_len = vrm->new_len;
	}
	if (vrm->flags & UVMA_MREMAP_DONTUNMAP) {
		if (!may_expand_vm(vrm->mm, vrm->vma->flags, vrm->old_len >> PAGE_SHIFT))
			return -ENOMEM;
	}
	err = vrm_set_new_addr(vrm);
	if (err)
		return err;
	return move_vma(vrm);
}

static bool vma_expandable(struct uvma_vma *vma, uint64_t delta)
{
	uint64_t end = vma->end + delta;
	struct uvma_vma *next;

	if (end < vma->end || end > TASK_SIZE)
		return false;
	next = vma_next_of(vma->mm, vma);
	if (next && next->start < end)
		return false;
	return true;
}

static long expand_vma(struct vma_remap *vrm)
{
	struct uvma_vma *vma = vrm->vma;
	long err;

	if (vrm->addr + vrm->old_len == vma->end && vma_expandable(vma, vrm->delta)) {
		vma = vma_merge_extend(vma, vrm->delta);
		if (!vma)
			return -ENOMEM;
		vrm->vma = vma;
		vrm_stat_account(vrm, vrm->delta);
		return (long)vrm->addr;
	}
	if (!(vrm->flags & UVMA_MREMAP_MAYMOVE))
		return -ENOMEM;
	err = vrm_set_new_addr(vrm);
	if (err)
		return err;
	return move_vma(vrm);
}

static long mremap_at(struct vma_remap *vrm)
{
	long err;

	switch (vrm->remap_type) {
	case MREMAP_NO_RESIZE:
		return (long)vrm->addr;
	case MREMAP_SHRINK:
		err = shrink_vma(vrm);
		return err ? err : (long)vrm->addr;
	case MREMAP_EXPAND:
		return expand_vma(vrm);
	}
	return -EINVAL;
}

/* A FIXED move of unchanged size: every VMA in the range, gaps kept. */
static long remap_move(struct vma_remap *vrm)
{
	uint64_t start = vrm->addr, end = vrm->addr + vrm->old_len;
	uint64_t target = vrm->new_addr, last_end = 0;
	struct uvma_vma *vma;
	bool seen = false;
	long res = -EFAULT;

	/*
	 * Like the kernel's iterator, the next search starts where the last
	 * piece ended and never past @end, even when the copy merged with the
	 * source into a VMA reaching beyond it.
	 */
	for (vma = vma_find(vrm->mm, start); vma && vma->start < end;
	     vma = last_end < end ? vma_find(vrm->mm, last_end) : NULL) {
		uint64_t addr = vma->start > start ? vma->start : start;
		uint64_t len = (end < vma->end ? end : vma->end) - addr;
		uint64_t offset;
		long r;

		if (!seen && start < vma->start)
			return -EFAULT;
		offset = seen ? vma->start - last_end : 0;
		last_end = vma->end;
		vrm->vma = vma;
		vrm->addr = addr;
		vrm->new_addr = target + offset;
		vrm->old_len = vrm->new_len = len;
		/* uffd-armed VMAs move alone */
		if (vma->uffd && (seen || vma->end < end))
			return -EFAULT;
		r = check_prep_vma(vrm);
		if (!r)
			r = mremap_to(vrm);
		if (r < 0)
			return r;
		if (!seen)
			res = r;
		seen = true;
		target = (uint64_t)r + vrm->new_len;
	}
	return res;
}

long uvma_mremap(struct uvma_mm *mm, uint64_t addr, uint64_t old_len, uint64_t new_len,
		 int flags, uint64_t new_addr)
{
	MM_WRITE_GUARD(mm);
	struct vma_remap vrm = {
		.mm = mm,
		.addr = addr,
		.old_len = PAGE_ALIGN(old_len),
		.new_len = PAGE_ALIGN(new_len),
		.new_addr = new_addr,
		.flags = flags,
	};
	long res;

	MM_CALL(mm, "mremap");
	/* lengths that wrap when rounded up are as bad as zero */
	if (old_len > UINT64_MAX - PAGE_SIZE)
		vrm.old_len = 0;
	if (new_len > UINT64_MAX - PAGE_SIZE)
		vrm.new_len = 0;
	res = check_mremap_params(&vrm);
	if (res)
		goto out;
	if ((flags & UVMA_MREMAP_FIXED) && vrm.old_len == vrm.new_len) {
		res = remap_move(&vrm);
	} else {
		vrm.vma = vma_lookup(mm, addr);
		res = check_prep_vma(&vrm);
		if (!res)
			res = vrm_implies_new_addr(&vrm) ? mremap_to(&vrm) : mremap_at(&vrm);
	}
	if (res >= 0 && vrm.populate_expand)
		populate_range(mm, (uint64_t)res + vrm.old_len, (uint64_t)res + vrm.new_len, false,
			       true);
out:
	mm_debug_validate(mm);
	return res;
}
