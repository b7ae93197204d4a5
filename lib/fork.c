// SPDX-License-Identifier: MIT
/*
 * fork (dup_mmap, spec 5.8) and exit (exit_mmap, spec 5.9).
 */
#include <string.h>

#include "internal.h"

#define VM_COPY_ON_FORK (UVMA_VM_PFNMAP | UVMA_VM_MIXEDMAP | UVMA_VM_UFFD_WP | UVMA_VM_MAYBE_GUARD)

void uvma_mm_exit(struct uvma_mm *mm)
{
	struct uvma_vma *vma;

	if (!mm)
		return;
	/* a child that has not run yet did before it exits */
	mm_first_run(mm);
#ifdef UVMA_MT
	/*
	 * By hand rather than with a guard: the lock dies with the address
	 * space.  Nothing may fault in it any more; a stale lookup of another
	 * thread finds each VMA detached.
	 */
	struct uvma_sys *sys = mm->sys;
	bool nested = rlock_held(&sys->big);

	if (!nested) {
		rlock_lock(&sys->big);
		pthread_rwlock_wrlock(&mm->mmap_lock);
	}
	vma_begin_write_all(mm);
	/* no reader may be left in the tree: it is torn down in place */
	mm->tree.cow = false;
#endif
	/* exit_mmap does not drain the LRU batches (observed: lazyfree stays pending) */
	while ((vma = vma_find(mm, 0))) {
		vma_start_write(vma);
		tree_erase(&mm->tree, vma->end, vma);
		mm->map_count--;
		zap_range(vma, vma->start, vma->end);
		vma_remove(vma);
	}
	lru_add_forget(mm->sys, &mm->stack_folio);
	lru_add_forget(mm->sys, &mm->child_folio);
	lru_add_forget(mm->sys, &mm->signal_folio);
	ksm_mm_exit(mm);
	tree_destroy(&mm->tree);
	pt_destroy(mm->sys, &mm->pt);
	list_del(&mm->node);
#ifdef UVMA_MT
	vma_end_write_all(mm);
	if (!nested)
		pthread_rwlock_unlock(&mm->mmap_lock);
	mt_mm_destroy(mm);
	uvma_free(sys, mm, sizeof(*mm));
	if (!nested) {
		tree_retire_flush(sys);
		rlock_unlock(&sys->big);
	}
#else
	uvma_free(mm->sys, mm, sizeof(*mm));
#endif
}

static int dup_one(struct uvma_mm *mm, struct uvma_vma *mpnt)
{
	struct uvma_vma *tmp;
	int err;

	/* as dup_mmap: no fault in the parent's VMA while it is copied */
	vma_start_write(mpnt);
	tmp = vma_dup(mpnt);
	if (!tmp)
		return -ENOMEM;
	tmp->mm = mm;
	if (tmp->flags & UVMA_VM_WIPEONFORK) {
		/* The child sees zero-filled memory: no anon_vma, no pages. */
		tmp->anon_vma = NULL;
		list_init(&tmp->anon_vma_chain);
	} else {
		err = anon_vma_fork(tmp, mpnt);
		if (err)
			goto out_free;
	}
	/* mlock is not inherited */
	tmp->flags &= ~VM_LOCKED_MASK;
	err = vma_link(mm, tmp);
	if (err) {
		unlink_anon_vmas(tmp);
		goto out_free;
	}
	if (!(tmp->flags & UVMA_VM_WIPEONFORK) &&
	    ((tmp->flags & VM_COPY_ON_FORK) || mpnt->anon_vma))
		return copy_page_range(tmp, mpnt);
	return 0;

out_free:
	vma_release(tmp);
	return err;
}

/*
 * fork() returns into the parent, which writes its stack at once; the page is
 * now shared with the child, so the write copies it and the copy enters the
 * per-CPU lru_add batch.  If the page is itself such a copy from an earlier
 * fork that no drain or batch overflow has moved to the LRU yet, the reuse
 * check (wp_can_reuse_anon_folio) cannot count the batch's reference and
 * drains the local batches first, lazyfree included:
 *
 *   madvise(MADV_FREE)  fork  fork          -> drained at the second fork
 *   madvise(MADV_FREE)  fork  exit+wait fork -> drained too (the copy stays)
 *   madvise(MADV_FREE)  fork  40 faults fork -> not drained (batch overflowed)
 *
 * (probes on the host, 6.18.44).  The child's stack page is the old one,
 * already on the LRU.  No real program forks without writing its stack, so
 * the model does it for every caller; the page has no VMA in the model.
 */
/*
 * The one mechanism behind the parent's stack write, the child's first run
 * and a signal frame: a process writes a VMA-less page it shares since a
 * fork, the write copies it into the lru_add batch as @copy, and if the page
 * written was a copy still in the batch (@old_pending) the reuse check
 * drains the batches first.
 */
static void write_shared_page(struct uvma_sys *sys, struct uvma_folio *copy, bool old_pending)
{
	PAGE_LOCK_SCOPE(sys);

	if (old_pending)
		lru_add_drain(sys);
	folio_add_lru(sys, copy);
}

/*
 * A child's page is the parent's copy, which was in the batch at the fork
 * (@pending_at_fork) and is still there if no batch move happened since.
 */
static bool parent_copy_pending(const struct uvma_mm *child, bool pending_at_fork)
{
	return pending_at_fork && child->sys->lru_moves == child->fork_lru_moves;
}

static void fork_write_stack(struct uvma_mm *parent)
{
	write_shared_page(parent->sys, &parent->stack_folio,
			  parent->stack_folio.flags & FOLIO_LRU_ADD_PENDING);
}

/*
 * After fork the child, when it first runs, writes a page of its own that it
 * still shares with its parent (the parent never writes it after its own
 * first run): the write copies it, the copy enters the lru_add batch, and if
 * the parent's copy is still in the batch the reuse check drains the local
 * batches first, as the parent's stack write does above.  Probes on the host
 * (6.18.44), the agent's processes pinned to one CPU, SCHED_FIFO, so the
 * child runs as soon as the parent blocks:
 *
 *   fork  [child] fork             -> drained when the grandchild first runs
 *                                      (the child's snapshot taken right after
 *                                      the fork does not show it yet; the
 *                                      grandchild's does)
 *   fork  [child] MADV_FREE  [child] fork   -> not drained: MADV_FREE drained
 *                                      the child's copy onto the LRU first
 *   fork  [child] fork  [grandchild] fork   -> drained when the great-grandchild
 *                                      first runs
 */
void uvma_mm_run(struct uvma_mm *mm)
{
	struct uvma_sys *sys = mm->sys;

	if (!__atomic_load_n(&mm->first_run_pending, __ATOMIC_RELAXED))
		return;
	MM_WRITE_GUARD(mm);
	PAGE_LOCK_SCOPE(sys);
	if (!__atomic_load_n(&mm->first_run_pending, __ATOMIC_RELAXED))
		return;	/* another thread ran it first */
	__atomic_store_n(&mm->first_run_pending, false, __ATOMIC_RELAXED);
	write_shared_page(sys, &mm->child_folio, parent_copy_pending(mm, mm->parent_page_pending));
}

/*
 * A handled signal writes its frame below the stack pointer, on a page that
 * fork's own return does not touch.  After a fork that page is shared, and
 * the write copies it; if the page is a copy still in the lru_add batch
 * (the previous signal's, or for a child the parent's), the reuse check
 * drains the batches first, as at fork_write_stack().  Probes on the host
 * (6.18.44, the checker's agent taking SIGSEGV on a failed touch):
 *
 *   MADV_FREE(child)  SIGSEGV  fork  SIGSEGV  -> drained at the second signal
 *   MADV_FREE(child)  SIGSEGV  fork           -> not drained
 *   MADV_FREE(child)           fork  SIGSEGV  -> not drained (the page copied
 *                                                 is the old one, on the LRU)
 */
void uvma_mm_signal(struct uvma_mm *mm)
{
	struct uvma_sys *sys = mm->sys;

	MM_WRITE_GUARD(mm);
	mm_first_run(mm);
	PAGE_LOCK_SCOPE(sys);
	if (!mm->signal_page_shared)
		return;	/* the page is this process's alone: written in place */
	mm->signal_page_shared = false;
	write_shared_page(sys, &mm->signal_folio,
			  (mm->signal_folio.flags & FOLIO_LRU_ADD_PENDING) ||
				  parent_copy_pending(mm, mm->signal_parent_pending));
	mm->signal_parent_pending = false;
}

struct uvma_mm *uvma_fork(struct uvma_mm *parent, int *errp)
{
	MM_WRITE_GUARD(parent);
	mm_first_run(parent);
	struct uvma_mm *mm = uvma_mm_create(parent->sys);
	struct tree_cursor cur;
	struct uvma_vma *mpnt;
	int err = 0;

	if (!mm) {
		*errp = -ENOMEM;
		return NULL;
	}
	mm->mmap_base = parent->mmap_base;
	mm->start_brk = parent->start_brk;
	mm->brk = parent->brk;
	mm->start_stack = parent->start_stack;
	mm->def_flags = parent->def_flags & UVMA_VM_NOHUGEPAGE;
	mm->merge_any = parent->merge_any;
	mm->exec_pkey = parent->exec_pkey;
	mm->total_vm = parent->total_vm;
	mm->data_vm = parent->data_vm;
	mm->exec_vm = parent->exec_vm;
	mm->stack_vm = parent->stack_vm;
	/* the child is write-locked while it is built, as dup_mmap has it */
	vma_begin_write_all(mm);

	for (mpnt = tree_first(&parent->tree, &cur); mpnt; mpnt = tree_cursor_next(&cur)) {
		if (mpnt->flags & UVMA_VM_DONTCOPY) {
			vm_stat_account(mm, mpnt->flags, -(long)vma_pages(mpnt));
			continue;
		}
		err = dup_one(mm, mpnt);
		if (err)
			break;
	}
	if (err) {
		uvma_mm_exit(mm);
		*errp = err;
		mm_debug_validate(parent);
		return NULL;
	}
	fork_write_stack(parent);
	/* the child has not run yet: uvma_mm_run(), or its first call */
	__atomic_store_n(&mm->first_run_pending, true, __ATOMIC_RELAXED);
	mm->parent_page_pending = parent->child_folio.flags & FOLIO_LRU_ADD_PENDING;
	mm->fork_lru_moves = parent->sys->lru_moves;
	/* both sides now map the signal page the parent last wrote */
	parent->signal_page_shared = true;
	mm->signal_page_shared = true;
	mm->signal_parent_pending = parent->signal_folio.flags & FOLIO_LRU_ADD_PENDING;
	mm_debug_validate(parent);
	mm_debug_validate(mm);
	vma_end_write_all(mm);
	*errp = 0;
	return mm;
}
