// SPDX-License-Identifier: MIT
/*
 * madvise (spec 5.4) and prctl(PR_SET_VMA_ANON_NAME) (spec 5.10), which
 * share madvise's walk: holes do not stop it, they make it return ENOMEM
 * at the end.
 */
#include <string.h>

#include "merge.h"

struct madv_state {
	int behavior;
	struct anon_name *name;	/* prctl naming only */
	bool naming;
};

static bool behavior_valid(int b)
{
	switch (b) {
	case UVMA_MADV_NORMAL: case UVMA_MADV_RANDOM: case UVMA_MADV_SEQUENTIAL:
	case UVMA_MADV_WILLNEED: case UVMA_MADV_DONTNEED: case UVMA_MADV_FREE:
	case UVMA_MADV_REMOVE: case UVMA_MADV_DONTFORK: case UVMA_MADV_DOFORK:
	case UVMA_MADV_DONTDUMP: case UVMA_MADV_DODUMP: case UVMA_MADV_WIPEONFORK:
	case UVMA_MADV_KEEPONFORK: case UVMA_MADV_COLD: case UVMA_MADV_PAGEOUT:
	case UVMA_MADV_POPULATE_READ: case UVMA_MADV_POPULATE_WRITE:
	case UVMA_MADV_DONTNEED_LOCKED: case UVMA_MADV_MERGEABLE: case UVMA_MADV_UNMERGEABLE:
	case UVMA_MADV_HUGEPAGE: case UVMA_MADV_NOHUGEPAGE: case UVMA_MADV_COLLAPSE:
	case UVMA_MADV_GUARD_INSTALL: case UVMA_MADV_GUARD_REMOVE:
		return true;
	default:
		return false;
	}
}

static bool vma_ksm_compatible(const struct uvma_vma *v)
{
	return !(v->flags & (UVMA_VM_SHARED | UVMA_VM_MAYSHARE | UVMA_VM_PFNMAP | UVMA_VM_IO |
			     UVMA_VM_DONTEXPAND | UVMA_VM_HUGETLB | UVMA_VM_MIXEDMAP |
			     UVMA_VM_DROPPABLE));
}

/* Merge or split so that [start, end) carries @new_flags (and the new name). */
static int madvise_update_vma(struct uvma_vma *vma, struct uvma_vma **prev, uint64_t start,
			      uint64_t end, uint64_t new_flags, struct madv_state *st)
{
	int err = 0;

	if (new_flags == vma->flags && (!st->naming || anon_name_eq(vma->anon_name, st->name))) {
		*prev = vma;
		return 0;
	}
	if (st->naming) {
		VMG_MODIFY(vmg, *prev, vma, start, end);

		vmg.anon_name = st->name;
		vma = vma_modify(&vmg, &err);
	} else {
		vma = vma_modify_flags(*prev, vma, start, end, &new_flags, &err);
	}
	if (!vma)
		return err;
	*prev = vma;
	vma_set_flags(vma, new_flags);
	if (st->naming && !anon_name_eq(vma->anon_name, st->name)) {
		vma_start_write(vma);
		if (vma->anon_name)
			anon_name_put(vma->mm->sys, vma->anon_name);
		vma->anon_name = st->name ? anon_name_get(st->name) : NULL;
	}
	return 0;
}

/* Droppable memory takes guards too (probed: spec-open-questions). */
static bool is_valid_guard_vma(const struct uvma_vma *v, bool allow_locked)
{
	uint64_t disallowed = VM_SPECIAL | UVMA_VM_HUGETLB | (allow_locked ? 0 : VM_LOCKED_MASK);

	return !(v->flags & disallowed);
}

/* Page-state advices: they act on pages and never split or merge. */
static int madvise_pages(struct uvma_vma *vma, struct uvma_vma **prev, uint64_t start,
			 uint64_t end, int behavior)
{
	*prev = vma;
	switch (behavior) {
	case UVMA_MADV_WILLNEED:
		/*
		 * Anonymous memory and shmem: a swap-in walk, then
		 * lru_add_drain().  Other files only read ahead.
		 */
		if (vma_is_anonymous(vma) || (vma->file && vma->file->shmem))
			lru_add_drain(vma->mm->sys);
		return 0;
	case UVMA_MADV_DONTNEED:
	case UVMA_MADV_DONTNEED_LOCKED:
	case UVMA_MADV_FREE:
		if (vma->flags & UVMA_VM_PFNMAP)
			return -EINVAL;
		if (behavior != UVMA_MADV_DONTNEED_LOCKED && (vma->flags & UVMA_VM_LOCKED))
			return -EINVAL;
		if (behavior == UVMA_MADV_FREE) {
			if (!vma_is_anonymous(vma))
				return -EINVAL;
			madvise_free_range(vma, start, end);
			return 0;
		}
		zap_range_keep_guards(vma, start, end);
		return 0;
	case UVMA_MADV_COLD:
	case UVMA_MADV_PAGEOUT:
		if (vma->flags & (UVMA_VM_LOCKED | UVMA_VM_PFNMAP | UVMA_VM_HUGETLB))
			return -EINVAL;
		if (behavior == UVMA_MADV_COLD)
			madvise_cold_range(vma, start, end);
		else
			madvise_pageout_range(vma, start, end);
		return 0;
	case UVMA_MADV_REMOVE:
		*prev = NULL;
		if (vma->flags & UVMA_VM_LOCKED)
			return -EINVAL;
		if (!vma->file)
			return -EINVAL;
		if ((vma->flags & (UVMA_VM_SHARED | UVMA_VM_MAYWRITE)) !=
		    (UVMA_VM_SHARED | UVMA_VM_MAYWRITE))
			return -EACCES;
		shmem_punch_range(vma, start, end);
		return 0;
	case UVMA_MADV_COLLAPSE:
		/* Collapsing needs a THP-eligible range: not modelled yet. */
		return -EINVAL;
	case UVMA_MADV_GUARD_INSTALL: {
		int err;

		if (!is_valid_guard_vma(vma, false))
			return -EINVAL;
		vma_set_flags(vma, vma->flags | UVMA_VM_MAYBE_GUARD);
		/*
		 * Only anonymous memory gets an anon_vma for its markers: a file
		 * mapping's page tables are copied at fork because of the flag
		 * (the host's VM_MAYBE_GUARD backport; fuzz seed 100, program 59).
		 */
		if (vma_is_anonymous(vma)) {
			err = anon_vma_prepare(vma);
			if (err)
				return err;
		}
		return guard_install_range(vma, start, end);
	}
	case UVMA_MADV_GUARD_REMOVE:
		if (!is_valid_guard_vma(vma, true))
			return -EINVAL;
		guard_remove_range(vma, start, end);
		return 0;
	}
	return -EINVAL;
}

/* The advices that throw a range's data away (or, for a fork child, its mapping). */
static bool is_discard(int behavior)
{
	switch (behavior) {
	case UVMA_MADV_FREE: case UVMA_MADV_DONTNEED: case UVMA_MADV_DONTNEED_LOCKED:
	case UVMA_MADV_REMOVE: case UVMA_MADV_DONTFORK: case UVMA_MADV_WIPEONFORK:
	case UVMA_MADV_GUARD_INSTALL:
		return true;
	default:
		return false;
	}
}

/*
 * A sealed VMA refuses only discards, and only of anonymous memory the
 * process could not write anyway: a discard there would be the one way to
 * change the sealed contents (file pages come back from the file).
 */
static bool can_madvise_modify(const struct uvma_vma *vma, const struct madv_state *st)
{
	return !(vma->flags & UVMA_VM_SEALED) || st->naming || !is_discard(st->behavior) ||
	       !vma_is_anonymous(vma) || (vma->flags & UVMA_VM_WRITE);
}

static int madvise_vma_behavior(struct uvma_vma *vma, struct uvma_vma **prev, uint64_t start,
				uint64_t end, struct madv_state *st)
{
	uint64_t new_flags = vma->flags;
	int err;

	if (!can_madvise_modify(vma, st))
		return -EPERM;

	if (st->naming) {
		/* Only anonymous memory (and shmem) can be named. */
		if (vma->file && !vma->file->shmem)
			return -EBADF;
		err = madvise_update_vma(vma, prev, start, end, new_flags, st);
		return err == -ENOMEM ? -EAGAIN : err;
	}
	switch (st->behavior) {
	case UVMA_MADV_NORMAL:
		new_flags &= ~(UVMA_VM_RAND_READ | UVMA_VM_SEQ_READ);
		break;
	case UVMA_MADV_SEQUENTIAL:
		new_flags = (new_flags & ~UVMA_VM_RAND_READ) | UVMA_VM_SEQ_READ;
		break;
	case UVMA_MADV_RANDOM:
		new_flags = (new_flags & ~UVMA_VM_SEQ_READ) | UVMA_VM_RAND_READ;
		break;
	case UVMA_MADV_DONTFORK:
		new_flags |= UVMA_VM_DONTCOPY;
		break;
	case UVMA_MADV_DOFORK:
		if (new_flags & UVMA_VM_IO)
			return -EINVAL;
		new_flags &= ~UVMA_VM_DONTCOPY;
		break;
	case UVMA_MADV_WIPEONFORK:
		if (vma->file || (new_flags & UVMA_VM_SHARED))
			return -EINVAL;
		new_flags |= UVMA_VM_WIPEONFORK;
		break;
	case UVMA_MADV_KEEPONFORK:
		if (new_flags & UVMA_VM_DROPPABLE)
			return -EINVAL;
		new_flags &= ~UVMA_VM_WIPEONFORK;
		break;
	case UVMA_MADV_DONTDUMP:
		new_flags |= UVMA_VM_DONTDUMP;
		break;
	case UVMA_MADV_DODUMP:
		if (((new_flags & VM_SPECIAL) && !(new_flags & UVMA_VM_HUGETLB)) ||
		    (new_flags & UVMA_VM_DROPPABLE))
			return -EINVAL;
		new_flags &= ~UVMA_VM_DONTDUMP;
		break;
	case UVMA_MADV_MERGEABLE:
		if ((new_flags & UVMA_VM_MERGEABLE) || !vma_ksm_compatible(vma)) {
			*prev = vma;
			return 0;
		}
		new_flags |= UVMA_VM_MERGEABLE;
		break;
	case UVMA_MADV_UNMERGEABLE:
		if (!(new_flags & UVMA_VM_MERGEABLE)) {
			*prev = vma;
			return 0;
		}
		/* ksm_madvise: the KSM pages of the range are copied out first */
		if (vma->anon_vma) {
			int ret = break_ksm_range(vma, start, end);

			if (ret)
				return ret == -ENOMEM ? -EAGAIN : ret;
		}
		new_flags &= ~UVMA_VM_MERGEABLE;
		break;
	case UVMA_MADV_HUGEPAGE:
		new_flags = (new_flags & ~UVMA_VM_NOHUGEPAGE) | UVMA_VM_HUGEPAGE;
		break;
	case UVMA_MADV_NOHUGEPAGE:
		new_flags = (new_flags & ~UVMA_VM_HUGEPAGE) | UVMA_VM_NOHUGEPAGE;
		break;
	default:
		return madvise_pages(vma, prev, start, end, st->behavior);
	}
	err = madvise_update_vma(vma, prev, start, end, new_flags, st);
	/* madvise reports a lack of kernel memory as EAGAIN */
	return err == -ENOMEM ? -EAGAIN : err;
}

static int madvise_walk_vmas(struct uvma_mm *mm, uint64_t start, uint64_t end,
			     struct madv_state *st)
{
	struct uvma_vma *vma, *prev;
	int unmapped_error = 0;
	int err;

	vma = vma_find_and_prev(mm, start, &prev);
	for (;;) {
		uint64_t tmp;

		if (!vma)
			return -ENOMEM;
		if (start < vma->start) {
			unmapped_error = -ENOMEM;
			start = vma->start;
			if (start >= end)
				break;
		}
		tmp = vma->end < end ? vma->end : end;
		err = madvise_vma_behavior(vma, &prev, start, tmp, st);
		if (err)
			return err;
		start = tmp;
		if (prev && start < prev->end)
			start = prev->end;
		if (start >= end)
			break;
		vma = vma_find(mm, prev ? prev->end : start);
	}
	return unmapped_error;
}

/* MADV_POPULATE_(READ|WRITE): fault the range in, stopping at a hole. */
static int madvise_populate(struct uvma_mm *mm, uint64_t start, uint64_t end, bool write)
{
	while (start < end) {
		struct uvma_vma *vma = vma_lookup(mm, start);
		uint64_t e;
		int err;

		if (!vma)
			return -ENOMEM;
		if (vma->flags & (UVMA_VM_IO | UVMA_VM_PFNMAP))
			return -EINVAL;
		if (write ? !(vma->flags & UVMA_VM_WRITE) : !(vma->flags & UVMA_VM_READ))
			return -EINVAL;
		e = vma->end < end ? vma->end : end;
		for (; start < e; start += PAGE_SIZE) {
			err = gup_fault(vma, start, write, false);
			if (err)
				return err == -ENOMEM ? -ENOMEM : -EFAULT;
		}
	}
	return 0;
}

static int range_check(uint64_t start, uint64_t len_in, uint64_t *end)
{
	uint64_t len;

	if (start & ~PAGE_MASK)
		return -EINVAL;
	len = PAGE_ALIGN(len_in);
	if (len_in && !len)
		return -EINVAL;
	*end = start + len;
	if (*end < start)
		return -EINVAL;
	return 0;
}

int uvma_madvise(struct uvma_mm *mm, uint64_t start, uint64_t len, int advice)
{
	MM_WRITE_GUARD(mm);
	struct madv_state st = { .behavior = advice };
	uint64_t end;
	int err;

	MM_CALL(mm, "madvise");
	if (!behavior_valid(advice))
		return -EINVAL;
	err = range_check(start, len, &end);
	if (err)
		return err;
	if (end == start)
		return 0;
	if (advice == UVMA_MADV_POPULATE_READ || advice == UVMA_MADV_POPULATE_WRITE) {
		err = madvise_populate(mm, start, end, advice == UVMA_MADV_POPULATE_WRITE);
		/* faultin_page_range ends with lru_add_drain(), error or not */
		lru_add_drain(mm->sys);
	} else
		err = madvise_walk_vmas(mm, start, end, &st);
	mm_debug_validate(mm);
	return err;
}

/* ---- anon names ------------------------------------------------------------------ */

bool anon_name_eq(const struct anon_name *a, const struct anon_name *b)
{
	return a == b || (a && b && !strcmp(a->name, b->name));
}

struct anon_name *anon_name_get(struct anon_name *n)
{
	n->refcount++;
	return n;
}

void anon_name_put(struct uvma_sys *sys, struct anon_name *n)
{
	if (--n->refcount == 0)
		uvma_free(sys, n, sizeof(*n));
}

int uvma_prctl_set_vma_anon_name(struct uvma_mm *mm, uint64_t start, uint64_t len,
				 const char *name)
{
	MM_WRITE_GUARD(mm);
	struct madv_state st = { .naming = true };
	uint64_t end;
	int err;

	MM_CALL(mm, "prctl");
	if (!mm->sys->cfg.anon_vma_name)
		return -EINVAL;
	if (name) {
		size_t n = strlen(name);

		if (n >= sizeof(st.name->name))
			return -EINVAL;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)name[i];

			if (c < 0x20 || c >= 0x7f || strchr("\\`$[]", c))
				return -EINVAL;
		}
		st.name = uvma_zalloc(mm->sys, sizeof(*st.name));
		if (!st.name)
			return -ENOMEM;
		st.name->refcount = 1;
		memcpy(st.name->name, name, n + 1);
	}
	err = range_check(start, len, &end);
	if (!err && end != start)
		err = madvise_walk_vmas(mm, start, end, &st);
	if (st.name)
		anon_name_put(mm->sys, st.name);
	mm_debug_validate(mm);
	return err;
}

int uvma_prctl_set_memory_merge(struct uvma_mm *mm, unsigned long enable)
{
	MM_WRITE_GUARD(mm);
	struct tree_cursor cur;
	struct uvma_vma *v;

	MM_CALL(mm, "prctl");
	if (enable == !!mm->merge_any && enable <= 1)
		return 0;
	/* Flags change in place, without splitting or merging. */
	for (v = tree_first(&mm->tree, &cur); v; v = tree_cursor_next(&cur)) {
		if (enable && vma_ksm_compatible(v)) {
			vma_set_flags(v, v->flags | UVMA_VM_MERGEABLE);
		} else if (!enable && (v->flags & UVMA_VM_MERGEABLE)) {
			/* ksm_del_vmas: unmerge, then the flag goes */
			int err = v->anon_vma ? break_ksm_range(v, v->start, v->end) : 0;

			if (err) {
				mm_debug_validate(mm);
				return err;
			}
			vma_set_flags(v, v->flags & ~UVMA_VM_MERGEABLE);
		}
	}
	mm->merge_any = enable != 0;
	mm_debug_validate(mm);
	return 0;
}
