// SPDX-License-Identifier: MIT
/*
 * Swap: reclaim of anonymous folios into swap slots, the swap cache, and
 * swap-in (do_swap_page).  Off unless the machine is given swap pages, as
 * on the host, which has none.
 *
 * Reclaim unmaps a folio through the reverse map: every PTE that mapped it
 * becomes a swap entry for the same slot, exclusive if the page was
 * PageAnonExclusive.  The slot counts those entries and keeps the data and
 * whether the page was ever COW-shared.  Written out, the folio leaves the
 * swap cache and is freed, unless something else still holds it.
 *
 *   PTE ─folio─> F          reclaim          PTE ─swp(slot, excl)─> slot{count 1, data}
 *   PTE ─folio─> F (fork)   ───────>         PTE ─swp(slot)──────> slot{count 2, shared}
 *
 * A fault on a swap entry takes the folio from the swap cache or reads a
 * new one; a new folio gets the faulting VMA's anon_vma (its root when the
 * entry was not exclusive) and the index of the faulting address, as
 * folio_add_new_anon_rmap() gives it.  Swap readahead is not modelled.
 */
#include <string.h>

#include "internal.h"

bool swap_enabled(const struct uvma_sys *sys)
{
	return sys->cfg.swap_pages > 0;
}

static struct swap_slot *slot_of(struct uvma_sys *sys, uint64_t slot)
{
	UVMA_BUG_ON(slot >= sys->swap_cap);
	return &sys->swap[slot];
}

/* A free slot (count 0, no cache), or -ENOMEM when swap is full. */
static int64_t swap_slot_alloc(struct uvma_sys *sys)
{
	uint64_t slot;

	if (sys->swap_free) {
		slot = sys->swap_free - 1;
		sys->swap_free = sys->swap[slot].content;
		memset(&sys->swap[slot], 0, sizeof(sys->swap[slot]));
		sys->swap_used++;
		return (int64_t)slot;
	}
	if (sys->swap_hwm == sys->swap_cap) {
		uint64_t cap = sys->swap_cap ? sys->swap_cap * 2 : 64;
		struct swap_slot *n;

		if (cap > sys->cfg.swap_pages)
			cap = sys->cfg.swap_pages;
		if (cap == sys->swap_cap)
			return -ENOMEM;
		n = uvma_zalloc(sys, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		if (sys->swap)
			memcpy(n, sys->swap, sys->swap_cap * sizeof(*n));
		uvma_free(sys, sys->swap, sys->swap_cap * sizeof(*n));
		sys->swap = n;
		sys->swap_cap = cap;
	}
	/* slots are handed out in order; freed ones are reused first */
	slot = sys->swap_hwm++;
	sys->swap_used++;
	return (int64_t)slot;
}

static void swap_slot_release(struct uvma_sys *sys, uint64_t slot)
{
	struct swap_slot *s = slot_of(sys, slot);

	UVMA_BUG_ON(s->count || s->cache);
	s->flags = 0;
	s->content = sys->swap_free;
	sys->swap_free = slot + 1;
	sys->swap_used--;
}

/*
 * folio_free_swap: drop the swap-cache copy of a folio whose slot no entry
 * needs any more.  The folio becomes the only copy of the data: dirty.
 * The caller must hold its own reference if it goes on using the folio.
 */
bool folio_free_swap(struct uvma_sys *sys, struct uvma_folio *f)
{
	uint64_t slot;

	PAGE_LOCK_ASSERT(sys);

	if (!f->swap)
		return false;
	slot = f->swap - 1;
	if (slot_of(sys, slot)->count)
		return false;
	sys->swap[slot].cache = NULL;
	f->swap = 0;
	f->flags |= FOLIO_DIRTY;
	swap_slot_release(sys, slot);
	folio_put(sys, f);
	return true;
}

/* fork copies a swap entry: one more user, and the page is now COW-shared. */
void swap_entry_dup(struct uvma_sys *sys, pte_t pte)
{
	struct swap_slot *s = slot_of(sys, swp_slot(pte));

	PAGE_LOCK_ASSERT(sys);

	s->count++;
	s->flags |= SWP_EVER_SHARED;
	if (s->cache)
		s->cache->flags |= FOLIO_EVER_SHARED;
}

/*
 * A swap entry is zapped (free_swap_and_cache): the slot goes with its last
 * entry, and so does a swap-cache folio that nothing maps.
 */
void swap_entry_free(struct uvma_sys *sys, pte_t pte)
{
	uint64_t slot = swp_slot(pte);
	struct swap_slot *s = slot_of(sys, slot);

	PAGE_LOCK_ASSERT(sys);

	UVMA_BUG_ON(!s->count);
	if (--s->count)
		return;
	if (!s->cache) {
		swap_slot_release(sys, slot);
		return;
	}
	if (!s->cache->mapcount)
		folio_free_swap(sys, s->cache);
}

/* ---- reclaim ---------------------------------------------------------------- */

struct unmap_ctx {
	struct uvma_sys *sys;
	struct uvma_folio *f;
	uint64_t slot;
	bool to_swap;
	bool dirty;		/* some PTE was dirty */
};

static bool peek_dirty(struct uvma_vma *vma, uint64_t addr, pte_t *pte, void *ctx)
{
	struct unmap_ctx *u = ctx;

	(void)vma;
	(void)addr;
	if (pte_is_folio(*pte) && (*pte & PTE_DIRTY))
		u->dirty = true;
	return !u->dirty;
}

/* try_to_unmap_one for a small folio: the PTE becomes a swap entry or none. */
static bool unmap_one(struct uvma_vma *vma, uint64_t addr, pte_t *pte, void *ctx)
{
	struct unmap_ctx *u = ctx;
	struct uvma_folio *f = u->f;

	(void)vma;
	(void)addr;
	if (!pte_is_folio(*pte))
		return true;
	if (*pte & PTE_DIRTY)
		f->flags |= FOLIO_DIRTY;
	if (u->to_swap) {
		*pte = swp_pte(u->slot, f->flags & FOLIO_ANON_EXCLUSIVE);
		u->sys->swap[u->slot].count++;
	} else {
		*pte = 0;
	}
	f->mapcount--;
	folio_put(u->sys, f);
	return true;
}

/*
 * Reclaim one folio as shrink_folio_list would: unmap it from every
 * address space through the reverse map, then free it.  Clean file folios
 * leave the page cache; a lazyfree anonymous folio that is still clean is
 * discarded; a SwapBacked one needs a swap slot.  Mlocked, pinned,
 * migrating, KSM and large folios stay where they are.
 */
bool reclaim_folio(struct uvma_sys *sys, struct uvma_folio *f)
{
	struct unmap_ctx u = { .sys = sys, .f = f };
	int64_t slot;

	PAGE_LOCK_ASSERT(sys);

	if (folio_large(f) || folio_maybe_pinned(f) ||
	    (f->flags & (FOLIO_MLOCKED | FOLIO_MIGRATING | FOLIO_KSM)))
		return false;
	if (!(f->flags & FOLIO_ANON)) {
		struct uvma_file *file = f->mapping;
		uint64_t index = f->index;

		/* the caller's reference keeps the folio while it is unmapped */
		f->refcount++;
		rmap_walk(sys, f, unmap_one, &u);
		if (!(f->flags & FOLIO_DIRTY) && file->pages) {
			pte_t *slotp = pt_lookup(&file->pages->pt, index << PAGE_SHIFT);

			if (slotp && pte_folio(*slotp) == f) {
				*slotp = 0;
				folio_put(sys, f);
			}
		}
		folio_put(sys, f);
		return true;
	}
	if (!(f->flags & FOLIO_SWAPBACKED)) {
		/*
		 * A lazyfree folio written again since MADV_FREE is SwapBacked
		 * again; droppable memory goes dirty or not.
		 */
		rmap_walk(sys, f, peek_dirty, &u);
		if ((u.dirty || (f->flags & FOLIO_DIRTY)) && !(f->flags & FOLIO_DROPPABLE)) {
			f->flags |= FOLIO_SWAPBACKED;
			return false;
		}
		f->refcount++;
		rmap_walk(sys, f, unmap_one, &u);
		folio_put(sys, f);
		return true;
	}
	if (f->swap) {
		/* still in the swap cache since it came in: its slot is reused */
		slot = f->swap - 1;
	} else {
		if (!swap_enabled(sys))
			return false;
		slot = swap_slot_alloc(sys);
		if (slot < 0)
			return false;
		/* add_to_swap: the swap cache holds a reference */
		sys->swap[slot].cache = f;
		f->swap = (uint32_t)slot + 1;
		f->refcount++;
	}
	u.slot = (uint64_t)slot;
	u.to_swap = true;
	if (f->flags & FOLIO_EVER_SHARED)
		sys->swap[slot].flags |= SWP_EVER_SHARED;
	rmap_walk(sys, f, unmap_one, &u);
	/* pageout() writes it; then __remove_mapping frees it if nobody holds it */
	sys->swap[slot].content = f->content;
	sys->swap[slot].flags |= SWP_DIRTY;
	if (f->refcount == 1) {
		sys->swap[slot].cache = NULL;
		f->swap = 0;
		folio_put(sys, f);
		if (!sys->swap[slot].count)
			swap_slot_release(sys, (uint64_t)slot);
	}
	return true;
}

/* ---- swap-in ------------------------------------------------------------------ */

/*
 * do_swap_page: map the page of the swap entry at @pte in @vma.  A write to
 * a page that is not certainly exclusive goes on to the COW path.
 */
int do_swap_page(struct uvma_vma *vma, uint64_t addr, pte_t *pte, bool write)
{
	struct uvma_sys *sys = vma->mm->sys;
	uint64_t slot = swp_slot(*pte);
	struct swap_slot *s = slot_of(sys, slot);
	bool exclusive = *pte & PTE_SWP_EXCLUSIVE;
	struct uvma_folio *f = s->cache;

	PAGE_LOCK_ASSERT(vma->mm->sys);

	UVMA_BUG_ON(!vma->anon_vma);
	if (!f) {
		/* read it into a new folio in the swap cache */
		f = folio_alloc(sys);
		if (!f)
			return -ENOMEM;
		f->content = s->content;
		f->flags = FOLIO_SWAPBACKED;
		if (s->flags & SWP_EVER_SHARED)
			f->flags |= FOLIO_EVER_SHARED;
		f->swap = (uint32_t)slot + 1;
		s->cache = f;
		folio_add_lru(sys, f);
		vma->mm->pstats.folios++;
	}
	/* Nothing fails from here. */
	f->refcount++;		/* the new mapping's */
	f->mapcount++;
	s->count--;		/* swap_free of this entry */
	/* should_try_to_free_swap */
	if ((vma->flags & UVMA_VM_LOCKED) || (f->flags & FOLIO_MLOCKED) ||
	    (write && !(f->flags & FOLIO_KSM) && f->refcount == 2))
		folio_free_swap(sys, f);
	if (f->flags & FOLIO_KSM)
		exclusive = false;
	else if (f->refcount == 1)
		exclusive = true;
	if (!(f->flags & FOLIO_ANON)) {
		f->flags |= FOLIO_ANON;
		f->mapping = exclusive ? vma->anon_vma : vma->anon_vma->root;
		f->index = linear_page_index(vma, addr);
	}
	if (exclusive)
		f->flags |= FOLIO_ANON_EXCLUSIVE;
	if (vma->flags & UVMA_VM_LOCKED)
		f->flags |= FOLIO_MLOCKED | FOLIO_UNEVICTABLE;
	*pte = (pte_t)f | PTE_YOUNG | ((write && exclusive) ? PTE_DIRTY : 0);
	if (write && !exclusive)
		return 1;	/* the caller takes the write fault */
	return 0;
}

void swap_destroy(struct uvma_sys *sys)
{
	PAGE_LOCK_SCOPE(sys);
	uvma_free(sys, sys->swap, sys->swap_cap * sizeof(*sys->swap));
	sys->swap = NULL;
	sys->swap_cap = sys->swap_hwm = sys->swap_used = sys->swap_free = 0;
}

/* ---- public calls ------------------------------------------------------------- */

struct reclaim_walk {
	struct uvma_sys *sys;
	long reclaimed;
};

static void reclaim_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct reclaim_walk *r = ctx;

	(void)addr;
	if (!pte_is_folio(*pte))
		return;
	/* a large folio is split first: only order-0 folios go to swap */
	if (folio_large(pte_folio(*pte)) && ((pte_folio(*pte)->flags & FOLIO_MLOCKED) ||
					      folio_large_maybe_shared(pte_folio(*pte)) ||
					      split_folio(r->sys, pte_folio(*pte))))
		return;
	if (pte_is_folio(*pte) && reclaim_folio(r->sys, pte_folio(*pte)))
		r->reclaimed++;
}

long uvma_reclaim(struct uvma_mm *mm, uint64_t start, uint64_t len)
{
	SYS_GUARD(mm->sys);
	struct reclaim_walk r = { mm->sys, 0 };
	uint64_t end = PAGE_ALIGN(start + len);

	if ((start & ~PAGE_MASK) || end < start)
		return -EINVAL;
	lru_add_drain(mm->sys);
	pt_walk(&mm->pt, start, end, reclaim_one, &r);
	mm_debug_validate(mm);
	return r.reclaimed;
}

void uvma_swap_stats(const struct uvma_sys *sys, struct uvma_swap_stats *st)
{
	SYS_GUARD(sys);
	memset(st, 0, sizeof(*st));
	st->total = sys->cfg.swap_pages;
	st->used = sys->swap_used;
	for (uint64_t i = 0; i < sys->swap_hwm; i++)
		if (sys->swap[i].cache)
			st->cached++;
}
