// SPDX-License-Identifier: MIT
/*
 * Relocating anonymous memory, for the merge policies (docs/policies.md).
 *
 * Once faulted, a VMA's pgoff and its folios' index and anon_vma are fixed
 * to where it was created.  Changing them keeps the reverse map exact only
 * when nobody else can reach the folios through the old identity: the
 * anon_vma is its own root, no fork child hangs off it, each page is mapped
 * once.  Then the folios can take the new index (the VMA's new pgoff) and
 * the anon_vma of the VMA that absorbs them, and every mapping is still
 * found where it is:
 *
 *   before   VMA [A, A+n) pgoff A  -> folio index A+i, anon_vma X
 *   mremap   VMA [B, B+n) pgoff B  -> folio index B+i, anon_vma X (or the
 *            neighbour's Y when the moved range merges into it)
 */
#include "internal.h"

struct unshared_ctx {
	const struct anon_vma *av;
	bool ok;
};

static bool uses_av(struct avc *avc, void *arg)
{
	struct unshared_ctx *c = arg;

	c->ok = avc->vma->anon_vma == c->av;
	return c->ok;
}

bool anon_vma_unshared(const struct anon_vma *av)
{
	struct unshared_ctx c = { av, true };

	/* a root counts itself among its children (the self-parent link) */
	if (!av || av->root != av || av->num_children > 1)
		return false;
	avtree_for_each(av, uses_av, &c);
	return c.ok;
}

struct relocatable_ctx {
	enum uvma_reason why;
};

static void check_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct relocatable_ctx *c = ctx;
	struct uvma_folio *f;

	(void)addr;
	if (c->why || *pte == PTE_ZERO || *pte == PTE_GUARD)
		return;
	if (!pte_is_folio(*pte)) {
		c->why = UVMA_REASON_NOT_PRESENT;	/* swap, migration, huge zero page */
		return;
	}
	f = pte_folio(*pte);
	if (folio_large(f))
		c->why = UVMA_REASON_LARGE_FOLIO;
	else if (f->flags & FOLIO_KSM)
		c->why = UVMA_REASON_KSM;
	else if (!(f->flags & FOLIO_ANON) || f->mapcount != 1)
		c->why = UVMA_REASON_FOLIO_SHARED;
	else if (f->swap)
		c->why = UVMA_REASON_NOT_PRESENT;	/* its data also lives in a swap slot */
}

enum uvma_reason range_relocatable(const struct uvma_mm *mm, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(mm->sys);
	struct relocatable_ctx c = { UVMA_REASON_NONE };

	pt_walk(&mm->pt, start, end, check_one, &c);
	return c.why;
}

void relocate_event(struct uvma_mm *mm, uint64_t start, uint64_t end, uint64_t new_start,
		    enum uvma_reason why)
{
	PAGE_LOCK_SCOPE(mm->sys);
	struct uvma_event ev = {
		.kind = UVMA_EVENT_RELOCATE,
		.range = { start, end },
		.target = { new_start, new_start + (end - start) },
		.ok = why == UVMA_REASON_NONE,
		.reason = why,
	};

	if (!ev.ok)
		ev.target = (struct uvma_range){ 0, 0 };
	mm_event(mm, &ev);
}

struct reconnect_ctx {
	struct uvma_vma *vma;
	const struct anon_vma *from;
	uint64_t shift;		/* old page offset - new page offset */
	const struct uvma_folio *last;	/* a large folio is moved once */
};

static void reconnect_folio(struct reconnect_ctx *c, struct uvma_folio *f)
{
	if (!(f->flags & FOLIO_ANON) || (f->flags & FOLIO_KSM) ||
	    (c->from && f->mapping != c->from) || f == c->last)
		return;
	/* folio_move_anon_rmap, and the index its pages have at their new place */
	if (f->mapping != c->vma->anon_vma || c->shift)
		c->vma->mm->pstats.folios_relocated++;
	f->mapping = c->vma->anon_vma;
	f->index -= c->shift;
	c->last = f;
}

static void reconnect_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct reconnect_ctx *c = ctx;

	(void)addr;
	if (pte_is_folio(*pte))
		reconnect_folio(c, pte_folio(*pte));
	else if (pte_is_swap(*pte) && c->vma->mm->sys->swap[swp_slot(*pte)].cache)
		/* the swap-cache copy is what the next fault maps */
		reconnect_folio(c, c->vma->mm->sys->swap[swp_slot(*pte)].cache);
}

void reconnect_range(struct uvma_vma *vma, uint64_t start, uint64_t end, const struct anon_vma *from,
		     uint64_t shift)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct reconnect_ctx c = { vma, from, shift, NULL };

	pt_walk(&vma->mm->pt, start, end, reconnect_one, &c);
}

/* ---- auto: per-folio history, no undo ------------------------------------------------ */

struct auto_ctx {
	struct uvma_sys *sys;
	const struct anon_vma *av;	/* the VMA's: every folio must name it */
	const struct uvma_folio *last;	/* a large folio is checked once */
	enum uvma_reason why;
	int err;
};

static void finish_migration(void *ctx, uint64_t addr, pte_t *pte)
{
	struct auto_ctx *c = ctx;

	(void)addr;
	if (!c->err && pte_is_migration(*pte))
		c->err = migration_entry_wait(c->sys, *pte);
}

static bool folio_was_shared(const struct uvma_folio *f)
{
	return (f->flags & (FOLIO_EVER_SHARED | FOLIO_KSM)) || folio_mapped_shared(f);
}

static void auto_check_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct auto_ctx *c = ctx;

	(void)addr;
	if (c->why)
		return;
	if (pte_is_folio(*pte)) {
		if (pte_folio(*pte) == c->last)
			return;
		c->last = pte_folio(*pte);
		if (folio_was_shared(pte_folio(*pte)))
			c->why = UVMA_REASON_FOLIO_SHARED;
		else if (pte_folio(*pte)->mapping != c->av)
			c->why = UVMA_REASON_ANON_VMA_SHARED;	/* an ancestor's folio */
	} else if (pte_is_swap(*pte)) {
		const struct swap_slot *s = &c->sys->swap[swp_slot(*pte)];

		if ((s->flags & SWP_EVER_SHARED) || s->count > 1 ||
		    (s->cache && folio_was_shared(s->cache)))
			c->why = UVMA_REASON_FOLIO_SHARED;
	} else if (pte_is_migration(*pte)) {
		c->why = UVMA_REASON_NOT_PRESENT;
	}
}

struct crossing_ctx {
	const struct uvma_vma *vma;
	uint64_t lo, hi;	/* the range's page offsets */
	bool crossing;
};

static void find_crossing(void *ctx, uint64_t addr, pte_t *pte)
{
	struct crossing_ctx *c = ctx;
	const struct uvma_folio *f;

	(void)addr;
	if (!pte_is_folio(*pte) || !folio_large(pte_folio(*pte)))
		return;
	f = pte_folio(*pte);
	if (f->index < c->lo || f->index + (uint64_t)folio_nr_pages(f) > c->hi)
		c->crossing = true;
}

enum uvma_reason auto_relocatable(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct auto_ctx c = { .sys = vma->mm->sys, .av = vma->anon_vma };
	struct crossing_ctx x = { .vma = vma, .lo = linear_page_index(vma, start),
				  .hi = linear_page_index(vma, end) };

	/* a fault on a migration entry waits for it; so does relocation */
	pt_walk(&vma->mm->pt, start, end, finish_migration, &c);
	if (c.err)
		return UVMA_REASON_NOMEM;
	thp_split_partial_folios(vma, start, end, false);
	pt_walk(&vma->mm->pt, start, end, auto_check_one, &c);
	if (c.why)
		return c.why;
	/* a large folio still crossing the range (shared or not splittable) stays */
	pt_walk(&vma->mm->pt, start, end, find_crossing, &x);
	return x.crossing ? UVMA_REASON_LARGE_FOLIO : UVMA_REASON_NONE;
}

/*
 * find_mergeable_anon_vma at the destination: the next VMA first, then prev,
 * if adjacent and compatible (flags but for access bits, file, policy,
 * linear offsets) and never forked into.
 */
struct uvma_vma *auto_anon_vma_source(struct uvma_vma *vma, uint64_t start, uint64_t end,
				      uint64_t pgoff)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct uvma_vma probe = *vma;
	struct uvma_vma *next = vma_find(vma->mm, start), *prev = vma_find_prev(vma->mm, start);

	probe.start = start;
	probe.end = end;
	probe.pgoff = pgoff;
	if (next && next != vma && next->start == end && next->anon_vma &&
	    list_is_singular(&next->anon_vma_chain) && anon_vma_compatible(&probe, next))
		return next;
	if (prev && prev != vma && prev->end == start && prev->anon_vma &&
	    list_is_singular(&prev->anon_vma_chain) && anon_vma_compatible(prev, &probe))
		return prev;
	return NULL;
}

/* ---- relocate: the 2025 series' checks ------------------------------------------------- */

struct rcheck_ctx {
	const struct uvma_sys *sys;
	const struct anon_vma *av;
	const struct uvma_folio *last;	/* a large folio is checked once */
	enum uvma_reason why;
};

static void rcheck_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct rcheck_ctx *c = ctx;
	const struct uvma_folio *f;

	(void)addr;
	if (c->why)
		return;
	if (pte_is_swap(*pte)) {
		const struct swap_slot *s = &c->sys->swap[swp_slot(*pte)];

		if (s->cache)
			c->why = UVMA_REASON_NOT_PRESENT;
		else if (s->count > 1)
			c->why = UVMA_REASON_FOLIO_SHARED;
		return;
	}
	if (pte_is_migration(*pte)) {
		c->why = UVMA_REASON_NOT_PRESENT;
		return;
	}
	if (!pte_is_folio(*pte))
		return;
	f = pte_folio(*pte);
	/* KSM pages are copied out by mremap before anything moves */
	if ((f->flags & FOLIO_KSM) || f == c->last)
		return;
	c->last = f;
	if (folio_maybe_pinned(f))
		c->why = UVMA_REASON_FOLIO_PINNED;
	else if (folio_mapped_shared(f))
		c->why = UVMA_REASON_FOLIO_SHARED;
	else if (f->mapping != c->av)
		c->why = UVMA_REASON_ANON_VMA_SHARED;
}

enum uvma_reason relocate_check(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct rcheck_ctx c = { .sys = vma->mm->sys, .av = vma->anon_vma };

	/* a fork child (parents) or a forked parent (children): may be COW-shared */
	if (!list_is_singular(&vma->anon_vma_chain) || !anon_vma_unshared(vma->anon_vma))
		return UVMA_REASON_ANON_VMA_SHARED;
	pt_walk(&vma->mm->pt, start, end, rcheck_one, &c);
	return c.why;
}

/* ---- ideal: unshare, then relocate -------------------------------------------------------- */

/*
 * The upper bound of what any relocation design could merge.  Whatever
 * blocks the others (sharing by fork, KSM, pins, swap and migration entries,
 * large folios) is made to go away by steps the kernel itself takes at
 * other times (COW unsharing, swap-in, migration completing, THP splitting),
 * so that the folios can then take a new identity as in auto.  A page that
 * stays shared is copied: memory the other designs would keep shared.
 */
int ideal_prepare(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct uvma_sys *sys = vma->mm->sys;
	uint64_t lo = linear_page_index(vma, start), hi = linear_page_index(vma, end);
	int err = 0;

	thp_split_partial_folios(vma, start, end, false);
	for (uint64_t a = start; a < end && !err; a += PAGE_SIZE) {
		pte_t *pte = pt_lookup(&vma->mm->pt, a);
		struct uvma_folio *f;

		if (!pte) {
			/* skip the rest of an empty page table */
			a = (a | (PMD_SIZE - 1)) + 1 - PAGE_SIZE;
			continue;
		}
		if (pte_is_migration(*pte)) {
			err = migration_entry_wait(sys, *pte);
			if (err)
				break;
		}
		if (pte_is_swap(*pte)) {
			const struct swap_slot *s = &sys->swap[swp_slot(*pte)];

			/* a slot only this entry uses carries no identity: it moves as it is */
			if (s->count <= 1 && !s->cache)
				continue;
			err = handle_fault(vma, a, false, true);
			if (err)
				break;
		}
		if (!pte_is_folio(*pte) || !(pte_folio(*pte)->flags & FOLIO_ANON))
			continue;
		f = pte_folio(*pte);
		if (folio_large(f) && (f->flags & FOLIO_ANON_EXCLUSIVE) &&
		    (f->index < lo || f->index + (uint64_t)folio_nr_pages(f) > hi))
			err = copy_anon_page(vma, a, pte);	/* could not be split */
		else if ((f->flags & FOLIO_KSM) || !(f->flags & FOLIO_ANON_EXCLUSIVE))
			err = unshare_anon(vma, a, pte);
	}
	return err;
}
