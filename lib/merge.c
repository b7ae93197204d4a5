// SPDX-License-Identifier: MIT
/*
 * The merge engine (spec section 3): can a range join its neighbours, which
 * VMA survives, which anon_vma it carries, and the commit.
 *
 * Every merge allocates what it may need first (AVCs for a duplicated
 * anon_vma, tree nodes) and changes nothing until all of it succeeded.
 */
#include "merge.h"

static void refuse(struct vma_merge *vmg, enum merge_reason r)
{
	if (vmg->reason == MR_NONE)
		vmg->reason = r;
}

/* Attribute compatibility with the neighbour (spec 3.1). */
static bool is_mergeable_vma(struct vma_merge *vmg, bool merge_next)
{
	struct uvma_vma *vma = merge_next ? vmg->next : vmg->prev;

	if (vmg->policy != vma->policy)
		return refuse(vmg, MR_POLICY), false;
	if ((vma->flags ^ vmg->flags) & ~VM_IGNORE_MERGE)
		return refuse(vmg, MR_FLAGS), false;
	if (vma->file != vmg->file)
		return refuse(vmg, MR_FILE), false;
	if (vma->uffd != vmg->uffd)
		return refuse(vmg, MR_UFFD), false;
	if (!anon_name_eq(vma->anon_name, vmg->anon_name))
		return refuse(vmg, MR_ANON_NAME), false;
	return true;
}

static bool matena_absorbs(struct vma_merge *vmg, struct anon_vma *av, uint64_t start,
			   uint64_t end, bool checked);
static bool ideal_absorbs(struct vma_merge *vmg, struct uvma_vma *vma, uint64_t start,
			  uint64_t end);

/*
 * anon_vma compatibility (spec 3.2).  A fork child never spreads its
 * inherited anon_vma hierarchy into a VMA that has none, nor absorbs one.
 */
static bool is_mergeable_anon_vma(struct vma_merge *vmg, bool merge_next)
{
	struct uvma_vma *tgt = merge_next ? vmg->next : vmg->prev;
	struct uvma_vma *src = vmg->middle;
	struct anon_vma *tgt_anon = tgt->anon_vma;
	struct anon_vma *src_anon = vmg->anon_vma;

	/*
	 * Case 1: src's anon_vma will be duplicated into tgt.  (ideal: the
	 * whole chain comes along, so every folio stays reachable.)
	 */
	if (!tgt_anon && src_anon) {
		if ((vma_is_fork_child(src) || vma_is_fork_child(vmg->copied_from)) &&
		    !policy_ideal(vmg->mm))
			return refuse(vmg, MR_FORK_CHILD), false;
		return true;
	}
	/* Case 2: the result takes tgt's anon_vma (src has no folios to move). */
	if (tgt_anon && !src_anon) {
		if (vma_is_fork_child(tgt) && !policy_ideal(vmg->mm))
			return refuse(vmg, MR_FORK_CHILD), false;
		return true;
	}
	/* Case 3: both or neither. */
	if (src_anon != tgt_anon &&
	    !matena_absorbs(vmg, src_anon, vmg->start, vmg->end, !!vmg->copied_from) &&
	    !ideal_absorbs(vmg, vmg->copied_from ? NULL : src, vmg->start, vmg->end))
		return refuse(vmg, MR_ANON_VMA), false;
	return true;
}

/*
 * ideal: the target takes the pages @vma maps in [start, end) whatever
 * their anon_vma.  They are made exclusive just before the commit
 * (ideal_prepare) and take the target's anon_vma after it.  An mremap copy
 * (@vma NULL) was prepared before and is reconnected once moved.
 */
static bool ideal_absorbs(struct vma_merge *vmg, struct uvma_vma *vma, uint64_t start,
			  uint64_t end)
{
	int i = vmg->ideal[0].vma ? 1 : 0;

	if (!policy_ideal(vmg->mm))
		return false;
	if (vma && !(vmg->ideal[0].vma == vma && vmg->ideal[0].start == start)) {
		vmg->ideal[i].vma = vma;
		vmg->ideal[i].start = start;
		vmg->ideal[i].end = end;
	}
	return true;
}

/* ideal: make the pages of the recorded ranges exclusive (before the commit). */
static int ideal_prepare_absorbed(struct vma_merge *vmg)
{
	for (int i = 0; i < 2; i++) {
		struct uvma_vma *vma = vmg->ideal[i].vma;
		int err;

		if (!vma)
			continue;
		/*
		 * Nothing moves where the anon_vma is the target's (the same
		 * anon_vma has the same chain), nor where the range is not
		 * merged after all (next kept for its close hook).
		 */
		if (vma->anon_vma == vmg->target->anon_vma || vmg->ideal[i].start < vmg->start ||
		    vmg->ideal[i].end > vmg->end) {
			vmg->ideal[i].vma = NULL;
			continue;
		}
		err = ideal_prepare(vma, vmg->ideal[i].start, vmg->ideal[i].end);
		if (err)
			return err;
	}
	return 0;
}

/*
 * matena: may the target take the folios of @av, which back [start, end)?
 * Only if nobody else can reach them through @av (its own root, no fork
 * children) and each is a small page mapped once.  For mremap the pages
 * are still at their old place and were checked there (@checked).
 */
static bool matena_absorbs(struct vma_merge *vmg, struct anon_vma *av, uint64_t start,
			   uint64_t end, bool checked)
{
	if (!policy_matena(vmg->mm) || !anon_vma_unshared(av))
		return false;
	if (checked ? !vmg->relocatable : range_relocatable(vmg->mm, start, end) != UVMA_REASON_NONE)
		return false;
	if (vmg->absorbed[0] != av)
		vmg->absorbed[vmg->absorbed[0] ? 1 : 0] = av;
	return true;
}

static bool are_anon_vmas_compatible(const struct uvma_vma *a, const struct uvma_vma *b)
{
	return !a->anon_vma || !b->anon_vma || a->anon_vma == b->anon_vma;
}

static bool can_merge_left(struct vma_merge *vmg)
{
	struct uvma_vma *prev = vmg->prev;

	if (!prev || prev->end != vmg->start)
		return false;
	if (!is_mergeable_vma(vmg, false) || !is_mergeable_anon_vma(vmg, false))
		return false;
	if (prev->pgoff + vma_pages(prev) != vmg->pgoff)
		return refuse(vmg, MR_PGOFF), false;
	return true;
}

static bool can_merge_right(struct vma_merge *vmg, bool merge_left)
{
	struct uvma_vma *next = vmg->next;

	if (!next || vmg->end != next->start)
		return false;
	if (!is_mergeable_vma(vmg, true) || !is_mergeable_anon_vma(vmg, true))
		return false;
	if (next->pgoff != vmg->pgoff + ((vmg->end - vmg->start) >> PAGE_SHIFT))
		return refuse(vmg, MR_PGOFF), false;
	/* Both sides fit the request; they must also fit each other (prev takes next's). */
	if (merge_left && !are_anon_vmas_compatible(vmg->prev, next) &&
	    !matena_absorbs(vmg, next->anon_vma, next->start, next->end, false) &&
	    !ideal_absorbs(vmg, next, next->start, next->end))
		return refuse(vmg, MR_ANON_VMA), false;
	return true;
}

static bool can_merge_remove_vma(const struct uvma_vma *vma)
{
	return !vma->ops || !vma->ops->has_close;
}

/*
 * Give @dst the anon_vma of @src when dst has none.  *dup records the VMA
 * that gained one, so that a later failure can take it back.
 */
static int dup_anon_vma(struct uvma_vma *dst, struct uvma_vma *src, struct uvma_vma **dup)
{
	int err;

	if (!src->anon_vma || dst->anon_vma)
		return 0;
	vma_start_write(dst);
	page_lock(dst->mm->sys);
	dst->anon_vma = src->anon_vma;
	err = anon_vma_clone(dst, src);
	page_unlock(dst->mm->sys);
	if (err)
		return err;
	*dup = dst;
	return 0;
}

static void vma_set_range(struct uvma_mm *mm, struct uvma_vma *vma, uint64_t start, uint64_t end,
			  uint64_t pgoff)
{
	anon_vma_pre_update(vma);
	if (vma->end != end) {
		tree_rekey(&mm->tree, vma->end, end, vma);
		vma->end = end;
	}
	vma->start = start;
	vma->pgoff = pgoff;
	anon_vma_post_update(vma);
}

/*
 * Apply the plan: the VMA being expanded (or, for adjust_next_start, the
 * shrinking middle) gets [start, end) and pgoff; the adjusted neighbour's
 * start moves; removed VMAs go.  Nothing fails after the preallocation.
 */
static int commit_merge(struct vma_merge *vmg)
{
	struct uvma_mm *mm = vmg->mm;
	struct uvma_vma *vma = vmg->adjust_next_start ? vmg->middle : vmg->target;
	struct uvma_vma *remove[2] = { NULL, NULL };
	unsigned int nremove = 0;

	if (tree_preallocate(&mm->tree, 4))
		return -ENOMEM;
	/* Nothing fails from here.  Every VMA that changes is write-locked first. */
	vma_start_write(vma);
	if (vmg->remove_middle || vmg->adjust_middle_start)
		vma_start_write(vmg->middle);
	if (vmg->remove_next || vmg->adjust_next_start)
		vma_start_write(vmg->next);
	if (vmg->remove_middle)
		remove[nremove++] = vmg->middle;
	if (vmg->remove_next)
		remove[nremove++] = vmg->next;
	for (unsigned int i = 0; i < nremove; i++)
		tree_erase(&mm->tree, remove[i]->end, remove[i]);

	if ((vmg->adjust_middle_start || vmg->adjust_next_start) && (vmg->end & (PMD_SIZE - 1)))
		thp_split_at(mm, vmg->end);
	vma_set_range(mm, vma, vmg->start, vmg->end, vmg->pgoff);
	if (vmg->adjust_middle_start) {
		struct uvma_vma *adj = vmg->middle;

		anon_vma_pre_update(adj);
		adj->pgoff += (vmg->end - adj->start) >> PAGE_SHIFT;
		adj->start = vmg->end;
		anon_vma_post_update(adj);
	} else if (vmg->adjust_next_start) {
		struct uvma_vma *adj = vmg->next;

		anon_vma_pre_update(adj);
		adj->pgoff -= (adj->start - vmg->end) >> PAGE_SHIFT;
		adj->start = vmg->end;
		anon_vma_post_update(adj);
	}
	/* matena: the target takes the folios of the anon_vmas it absorbs, before they go */
	for (int i = 0; i < 2 && vmg->absorbed[i]; i++)
		if (vmg->absorbed[i] != vmg->target->anon_vma)
			reconnect_range(vmg->target, vmg->target->start, vmg->target->end,
					vmg->absorbed[i], 0);
	/* ideal: the recorded ranges' pages, now exclusive, take the target's */
	for (int i = 0; i < 2; i++)
		if (vmg->ideal[i].vma)
			reconnect_range(vmg->target, vmg->ideal[i].start, vmg->ideal[i].end, NULL, 0);
	for (unsigned int i = 0; i < nremove; i++) {
		if (remove[i]->anon_vma)
			anon_vma_merge(vmg->target, remove[i]);
		mm->map_count--;
		vma_remove(remove[i]);
	}
	mm->stats.merges++;
	return 0;
}

/*
 * Expand vmg->target to [start, end), deleting next when it is swallowed
 * whole.  Used by the new-range merges (mmap, brk, mremap).
 */
int vma_expand(struct vma_merge *vmg)
{
	struct uvma_vma *target = vmg->target;
	struct uvma_vma *next = vmg->next;
	struct uvma_vma *anon_dup = NULL;
	uint64_t sticky = (vmg->flags | target->flags) & VM_STICKY;
	int err = 0;

	if (next && next != target && vmg->end == next->end) {
		sticky |= next->flags & VM_STICKY;
		vmg->remove_next = true;
		err = dup_anon_vma(target, next, &anon_dup);
	}
	/*
	 * mremap: the copy's anon_vma comes from the VMA being copied, which
	 * may be faulted while the target is not.
	 */
	if (!err && vmg->copied_from)
		err = dup_anon_vma(target, vmg->copied_from, &anon_dup);
	if (!err)
		err = ideal_prepare_absorbed(vmg);
	if (!err)
		err = commit_merge(vmg);
	if (err) {
		vmg->remove_next = false;
		if (anon_dup)
			unlink_anon_vmas(anon_dup);
		vmg->state = VMG_ERROR_NOMEM;
		refuse(vmg, MR_NOMEM);
		return -ENOMEM;
	}
	if (sticky)
		vma_set_flags(target, target->flags | sticky);
	return 0;
}

/*
 * Merge a new range [start, end) with prev and/or next (spec 3.5).
 *
 *   PPPP****NNNN   both: prev grows to next's end, next is deleted
 *   PPPP****       prev grows over the range
 *       ****NNNN   next grows down over the range, pgoff = request's
 */
static struct uvma_vma *merge_new_range(struct vma_merge *vmg)
{
	struct uvma_vma *prev = vmg->prev, *next = vmg->next;
	uint64_t end = vmg->end;
	bool left, right;

	vmg->state = VMG_NOMERGE;
	vmg->mm->stats.merge_attempts++;
	if (vmg->flags & VM_SPECIAL) {
		refuse(vmg, MR_SPECIAL);
		return NULL;
	}
	if (!prev && !next) {
		refuse(vmg, MR_NO_NEIGHBOUR);
		return NULL;
	}
	left = can_merge_left(vmg);
	right = !vmg->just_expand && can_merge_right(vmg, left);
	if (right) {
		vmg->end = next->end;
		vmg->middle = next;
		vmg->target = next;
	}
	if (left) {
		vmg->start = prev->start;
		vmg->middle = prev;
		vmg->target = prev;
		vmg->pgoff = prev->pgoff;
		/* next would be deleted but cannot be: merge with prev only */
		if (right && !can_merge_remove_vma(next)) {
			refuse(vmg, MR_CLOSE);
			vmg->end = end;
		}
	}
	if (!vmg->target) {
		if (!prev || prev->end != vmg->start)
			if (!next || next->start != vmg->end)
				refuse(vmg, MR_NO_NEIGHBOUR);
		return NULL;
	}
	/* a new range never removes its "middle" */
	vmg->middle = NULL;
	if (vma_expand(vmg))
		return NULL;
	vmg->state = VMG_SUCCESS;
	vmg->reason = MR_NONE;
	return vmg->target;
}

bool vma_merge_possible(struct vma_merge *vmg)
{
	bool left;

	if (vmg->flags & VM_SPECIAL)
		return false;
	left = can_merge_left(vmg);
	return can_merge_right(vmg, left) || left;
}

struct uvma_vma *vma_merge_new_range(struct vma_merge *vmg)
{
	struct uvma_event ev;
	struct uvma_vma *ret;

	vmg_event_begin(vmg, &ev, vmg->just_expand || vmg->expand_event ? UVMA_EVENT_EXPAND
								    : UVMA_EVENT_MERGE);
	ret = merge_new_range(vmg);
	vmg_event_end(vmg, &ev);
	return ret;
}

/* mremap grow in place: extend @vma by @delta bytes, merging with next. */
struct uvma_vma *vma_merge_extend(struct uvma_vma *vma, uint64_t delta)
{
	struct vma_merge vmg = {
		.mm = vma->mm,
		.prev = vma,
		.next = vma_next_of(vma->mm, vma),
		.start = vma->end,
		.end = vma->end + delta,
		.flags = vma->flags,
		.file = vma->file,
		.pgoff = vma->pgoff + vma_pages(vma),
		.anon_vma = vma->anon_vma,
		.policy = vma->policy,
		.uffd = vma->uffd,
		.anon_name = vma->anon_name,
		.expand_event = true,
		.state = VMG_START,
	};

	return vma_merge_new_range(&vmg);
}

/*
 * Merge an existing range [start, end) of middle with its neighbours (spec
 * 3.6).  Only a range touching middle's start or end can merge.
 */
static struct uvma_vma *vma_merge_existing_range(struct vma_merge *vmg)
{
	struct uvma_vma *middle = vmg->middle, *prev = vmg->prev, *next = NULL;
	uint64_t sticky = vmg->flags & VM_STICKY;
	uint64_t start = vmg->start, end = vmg->end;
	bool left_side = start == middle->start;
	bool right_side = end == middle->end;
	bool merge_left = false, merge_right = false, merge_both;
	struct uvma_vma *anon_dup = NULL;
	int err;

	vmg->state = VMG_NOMERGE;
	vmg->mm->stats.merge_attempts++;
	if (vmg->flags & VM_SPECIAL) {
		refuse(vmg, MR_SPECIAL);
		return NULL;
	}
	if (!left_side && !right_side) {
		refuse(vmg, MR_INTERIOR);
		return NULL;
	}
	if (left_side)
		merge_left = can_merge_left(vmg);
	if (right_side) {
		next = vmg->next = vma_next_of(vmg->mm, middle);
		merge_right = can_merge_right(vmg, merge_left);
	}
	if (!merge_left && !merge_right) {
		if ((!left_side || !prev || prev->end != start) &&
		    (!right_side || !next || next->start != end))
			refuse(vmg, MR_NO_NEIGHBOUR);
		return NULL;
	}
	merge_both = merge_left && merge_right;
	vmg->remove_middle = left_side && right_side;
	if (vmg->remove_middle && !can_merge_remove_vma(middle)) {
		refuse(vmg, MR_CLOSE);
		return NULL;
	}
	vmg->remove_next = merge_both;
	if (vmg->remove_next && !can_merge_remove_vma(next)) {
		vmg->remove_next = false;
		merge_right = false;
		merge_both = false;
	}
	if (merge_right) {
		vmg->target = next;
		sticky |= next->flags & VM_STICKY;
	}
	if (merge_left) {
		vmg->target = prev;
		sticky |= prev->flags & VM_STICKY;
	}

	if (merge_both) {
		/*
		 *  |<---------------------->|
		 *  PPPP  MMMMMMMMMMMM  NNNN
		 *  extend   delete    delete
		 */
		vmg->start = prev->start;
		vmg->end = next->end;
		vmg->pgoff = prev->pgoff;
		err = dup_anon_vma(prev, next->anon_vma ? next : middle, &anon_dup);
	} else if (merge_left) {
		/*
		 *  |<------------>|         or   |<------------------>|
		 *  PPPP  MMMMMMMMMMmmmm          PPPP  MMMMMMMMMMMMMM
		 *  extend  shrink                extend    delete
		 */
		vmg->start = prev->start;
		vmg->pgoff = prev->pgoff;
		if (!vmg->remove_middle)
			vmg->adjust_middle_start = true;
		err = dup_anon_vma(prev, middle, &anon_dup);
	} else {
		/*
		 *       |<------------->|   or  |<------------------->|
		 *  mmmmmMMMMMMMMM  NNNN         MMMMMMMMMMMMMM  NNNN
		 *  shrink         extend        delete         extend
		 */
		uint64_t pglen = (end - start) >> PAGE_SHIFT;

		if (vmg->remove_middle) {
			vmg->end = next->end;
			vmg->pgoff = next->pgoff - pglen;
		} else {
			vmg->adjust_next_start = true;
			vmg->start = middle->start;
			vmg->end = start;
			vmg->pgoff = middle->pgoff;
		}
		err = dup_anon_vma(next, middle, &anon_dup);
	}
	if (!err)
		err = ideal_prepare_absorbed(vmg);
	if (!err)
		err = commit_merge(vmg);
	if (err) {
		if (anon_dup)
			unlink_anon_vmas(anon_dup);
		vmg->start = start;
		vmg->end = end;
		vmg->remove_middle = vmg->remove_next = false;
		vmg->adjust_middle_start = vmg->adjust_next_start = false;
		vmg->target = NULL;
		vmg->state = VMG_ERROR_NOMEM;
		refuse(vmg, MR_NOMEM);
		return NULL;
	}
	if (sticky)
		vma_set_flags(vmg->target, vmg->target->flags | sticky);
	vmg->state = VMG_SUCCESS;
	vmg->reason = MR_NONE;
	return vmg->target;
}

struct uvma_vma *vma_modify(struct vma_merge *vmg, int *err)
{
	struct uvma_vma *vma = vmg->middle;
	uint64_t start = vmg->start, end = vmg->end;
	struct uvma_event ev;
	struct uvma_vma *merged;

	vmg_event_begin(vmg, &ev, UVMA_EVENT_MERGE);
	merged = vma_merge_existing_range(vmg);
	vmg_event_end(vmg, &ev);

	if (merged)
		return merged;
	if (vmg->state == VMG_ERROR_NOMEM) {
		*err = -ENOMEM;
		return NULL;
	}
	/* No merge: cut the range out.  A failed second split keeps the first. */
	if (vma->start < start) {
		*err = split_vma(vma, start, 1);
		if (*err)
			return NULL;
	}
	if (vma->end > end) {
		*err = split_vma(vma, end, 0);
		if (*err)
			return NULL;
	}
	return vma;
}

struct uvma_vma *vma_modify_flags(struct uvma_vma *prev, struct uvma_vma *vma, uint64_t start,
				  uint64_t end, uint64_t *flags, int *err)
{
	VMG_MODIFY(vmg, prev, vma, start, end);
	struct uvma_vma *ret;

	vmg.flags = *flags;
	ret = vma_modify(&vmg, err);
	/* A merge may have brought in sticky bits: keep them. */
	if (ret && vmg.state == VMG_SUCCESS)
		*flags |= ret->flags & VM_STICKY;
	return ret;
}
