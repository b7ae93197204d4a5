// SPDX-License-Identifier: MIT
/*
 * Transparent huge pages, anonymous and PMD-sized (the host's THP is in
 * madvise mode: only VM_HUGEPAGE memory gets them).
 *
 * A PMD mapping is kept as the 512 PTEs of its page table with PTE_PMD set:
 * every per-page walk keeps working, and splitting the mapping is clearing
 * the flag.  A large folio counts its PMD mappings (entire) and the PTE
 * mappings of each page (pmap); a page's mapcount is the sum, as the
 * kernel's folio_precise_page_mapcount() is.
 *
 *        haddr                                   haddr + 2 MiB
 *   PTE  | P | P | P | ...                   | P |    PMD-mapped: 1 entire
 *   PTE  | . | . | . | ...                   | . |    split: 512 pmap counts
 */
#include <string.h>

#include "internal.h"

int folio_page_mapcount(const struct uvma_folio *f, uint64_t idx)
{
	if (!folio_large(f))
		return f->mapcount;
	return f->entire + f->pmap[idx];
}

void folio_free_large(struct uvma_sys *sys, struct uvma_folio *f)
{
	PAGE_LOCK_ASSERT(sys);
	uvma_free(sys, f->pmap, (size_t)folio_nr_pages(f) * sizeof(f->pmap[0]));
	f->pmap = NULL;
	uvma_free(sys, f->contents, (size_t)folio_nr_pages(f) * sizeof(f->contents[0]));
	f->contents = NULL;
}

/*
 * The folio orders a fault in @vma may use (thp_vma_allowable_orders): the
 * sizes set to "always", and those set to "madvise" in VM_HUGEPAGE memory.
 * The host: PMD size in madvise mode, every mTHP size off.
 */
uint32_t thp_vma_orders(const struct uvma_vma *vma)
{
	const struct uvma_sys_config *cfg = &vma->mm->sys->cfg;

	if (!vma_is_anonymous(vma) || (vma->flags & (UVMA_VM_NOHUGEPAGE | VM_SPECIAL)))
		return 0;
	return cfg->thp_orders_always | ((vma->flags & UVMA_VM_HUGEPAGE) ? cfg->thp_orders_madvise : 0);
}

static bool vma_thp_eligible(const struct uvma_vma *vma)
{
	return thp_vma_orders(vma) & (1U << HPAGE_PMD_ORDER);
}

/* The 512 PTEs of the page table that maps [haddr, haddr + 2 MiB). */
static pte_t *pmd_ptes(const struct page_table *pt, uint64_t haddr)
{
	return pt_lookup(pt, haddr & ~(PMD_SIZE - 1));
}

static bool ptes_none(const pte_t *ptes)
{
	for (int i = 0; i < HPAGE_PMD_NR; i++)
		if (ptes[i])
			return false;
	return true;
}

static bool ptes_huge_zero(const pte_t *ptes)
{
	for (int i = 0; i < HPAGE_PMD_NR; i++)
		if (ptes[i] != PTE_HUGE_ZERO)
			return false;
	return true;
}

/*
 * A fault in THP-eligible memory whose aligned 2 MiB block lies inside the
 * VMA and has nothing mapped yet (or the huge zero page, on a write):
 * returns 1 when the block was mapped whole, 0 to fall back to 4 KiB pages.
 */
int thp_fault(struct uvma_vma *vma, uint64_t addr, bool write)
{
	struct uvma_sys *sys = vma->mm->sys;
	uint64_t haddr = addr & ~(PMD_SIZE - 1);
	struct uvma_folio *f;
	pte_t *ptes;
	int err;

	PAGE_LOCK_ASSERT(vma->mm->sys);

	if (!vma_thp_eligible(vma) || haddr < vma->start || haddr + PMD_SIZE > vma->end)
		return 0;
	ptes = pt_get(sys, &vma->mm->pt, haddr);
	if (!ptes)
		return -ENOMEM;
	if (!ptes_none(ptes) && !(write && ptes_huge_zero(ptes)))
		return 0;
	/* the anon_vma comes first, even for the huge zero page */
	err = anon_vma_prepare(vma);
	if (err)
		return err;
	/* without the huge zero page a read gets the THP a write would (dirty too) */
	if (!write && !sys->cfg.forbid_zero_page) {
		for (int i = 0; i < HPAGE_PMD_NR; i++)
			ptes[i] = PTE_HUGE_ZERO;
		return 1;
	}
	f = uvma_zalloc(sys, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->pmap = uvma_zalloc(sys, HPAGE_PMD_NR * sizeof(f->pmap[0]));
	if (!f->pmap) {
		uvma_free(sys, f, sizeof(*f));
		return -ENOMEM;
	}
	/* Nothing fails from here. */
	f->order = HPAGE_PMD_ORDER;
	anon_folio_init(f, vma, haddr);
	f->refcount = 1;
	f->entire = 1;
	for (int i = 0; i < HPAGE_PMD_NR; i++)
		ptes[i] = (pte_t)f | PTE_YOUNG | PTE_DIRTY | PTE_PMD;
	folio_add_lru(sys, f);
	vma->mm->pstats.folios++;
	return 1;
}

/*
 * A write fault (or, without the zero page, any fault) on an empty PTE in
 * memory that allows mTHP (folios of order 2 to 8, always mapped by PTEs):
 * the largest allowed order whose aligned range lies inside the VMA and has
 * nothing mapped gets one folio, all of its PTEs young (and @dirty), as
 * do_anonymous_page() maps them.  Returns 1 when it did, 0 to fall back to
 * an order-0 page.
 */
int mthp_fault(struct uvma_vma *vma, uint64_t addr, bool dirty)
{
	struct uvma_sys *sys = vma->mm->sys;
	uint32_t orders = thp_vma_orders(vma) & ((1U << HPAGE_PMD_ORDER) - 4);
	int err;

	PAGE_LOCK_ASSERT(vma->mm->sys);

	if (!orders)
		return 0;
	for (int order = HPAGE_PMD_ORDER - 1; order >= 2; order--) {
		uint64_t size = PAGE_SIZE << order, start = addr & ~(size - 1);
		int nr = 1 << order;
		struct uvma_folio *f;
		pte_t *ptes;
		bool empty = true;

		if (!(orders & (1U << order)) || start < vma->start || start + size > vma->end)
			continue;
		ptes = pt_get(sys, &vma->mm->pt, start);
		if (!ptes)
			return -ENOMEM;
		for (int i = 0; i < nr && empty; i++)
			empty = !ptes[i];
		if (!empty)
			continue;
		err = anon_vma_prepare(vma);
		if (err)
			return err;
		f = folio_alloc(sys);
		if (!f)
			return -ENOMEM;
		f->order = (uint8_t)order;
		f->pmap = uvma_zalloc(sys, (size_t)nr * sizeof(f->pmap[0]));
		if (!f->pmap) {
			uvma_free(sys, f, sizeof(*f));
			return -ENOMEM;
		}
		/* Nothing fails from here. */
		anon_folio_init(f, vma, start);
		f->refcount = nr;
		for (int i = 0; i < nr; i++) {
			f->pmap[i] = 1;
			ptes[i] = (pte_t)f | PTE_YOUNG | (dirty ? PTE_DIRTY : 0);
		}
		folio_add_lru(sys, f);
		vma->mm->pstats.folios++;
		return 1;
	}
	return 0;
}

/* Split the PMD mapping of the block containing @addr, if it is one. */
void thp_split_at(struct uvma_mm *mm, uint64_t addr)
{
	PAGE_LOCK_SCOPE(mm->sys);
	pte_t *ptes = pmd_ptes(&mm->pt, addr);
	struct uvma_folio *f;

	if (!ptes)
		return;
	if (pte_is_migration(ptes[0]) && (ptes[0] & PTE_SWP_PMD)) {
		/*
		 * A PMD migration entry splits into PTE migration entries: the
		 * migration maps the pages back one PTE each.
		 */
		for (int i = 0; i < HPAGE_PMD_NR; i++)
			if (pte_is_migration(ptes[i]))
				ptes[i] &= ~PTE_SWP_PMD;
		return;
	}
	if (ptes[0] == PTE_HUGE_ZERO) {
		/* the huge zero PMD becomes small zero pages */
		for (int i = 0; i < HPAGE_PMD_NR; i++)
			if (ptes[i] == PTE_HUGE_ZERO)
				ptes[i] = PTE_ZERO;
		return;
	}
	if (!pte_is_folio(ptes[0]) || !(ptes[0] & PTE_PMD))
		return;
	f = pte_folio(ptes[0]);
	for (int i = 0; i < HPAGE_PMD_NR; i++) {
		ptes[i] &= ~PTE_PMD;
		f->pmap[i]++;
	}
	f->entire--;
	/* one reference for the PMD becomes one for each page */
	f->refcount += HPAGE_PMD_NR - 1;
}

/* Split the PMD mappings of the blocks that [start, end) covers only in part. */
void thp_split_boundaries(struct uvma_mm *mm, uint64_t start, uint64_t end)
{
	PAGE_LOCK_ASSERT(mm->sys);
	if (start & (PMD_SIZE - 1))
		thp_split_at(mm, start);
	if (end & (PMD_SIZE - 1))
		thp_split_at(mm, end);
}

/* Split every PMD mapping meeting [start, end). */
void thp_split_range(struct uvma_mm *mm, uint64_t start, uint64_t end)
{
	PAGE_LOCK_ASSERT(mm->sys);
	for (uint64_t a = start & ~(PMD_SIZE - 1); a < end; a += PMD_SIZE)
		thp_split_at(mm, a);
}

/* ---- splitting a large folio -------------------------------------------------- */

/*
 * Splitting a folio (split_folio) unmaps it, cuts it into order-0 folios
 * and maps each page again.  An anonymous page that holds only zeros is not
 * given a folio: its mappings become the shared zero page (the host's
 * RMP_USE_SHARED_ZEROPAGE remap, 6.12+), unless it is mlocked.  Pages that
 * nothing maps are freed.
 *
 *   large folio, 512 pages        after the split
 *   | P0 | P1 (data) | P2 | ...   | zero | folio(P1) | zero | ...
 */
struct split_ctx {
	struct uvma_sys *sys;
	struct uvma_folio *f;
	struct uvma_folio **pieces;	/* per page: the new folio, or NULL for zero */
};

static bool split_pmd_one(struct uvma_vma *vma, uint64_t addr, pte_t *pte, void *ctx)
{
	(void)ctx;
	if (pte_is_folio(*pte) && (*pte & PTE_PMD) && !(addr & (PMD_SIZE - 1)))
		thp_split_at(vma->mm, addr);
	return true;
}

static bool remap_one(struct uvma_vma *vma, uint64_t addr, pte_t *pte, void *ctx)
{
	struct split_ctx *s = ctx;
	uint64_t idx = linear_page_index(vma, addr) - s->f->index;
	struct uvma_folio *g = s->pieces[idx];

	if (!pte_is_folio(*pte))
		return true;
	s->f->pmap[idx]--;
	s->f->refcount--;
	if (!g) {
		*pte = PTE_ZERO;
		return true;
	}
	g->mapcount++;
	g->refcount++;
	*pte = (pte_t)g | (*pte & (PTE_YOUNG | PTE_DIRTY));
	return true;
}

/*
 * Whether or not faults may map the zero page (forbid_zero_page), a split
 * remaps zero-filled pages to it: probed on the pvm_no_zero_page=1 host
 * (scenario thp-pageout-split).
 */
static bool folio_page_zero_remappable(const struct uvma_folio *f, int i)
{
	return (f->flags & FOLIO_ANON) && !(f->flags & FOLIO_MLOCKED) && !folio_page_content(f, (unsigned int)i);
}

int split_folio(struct uvma_sys *sys, struct uvma_folio *f)
{
	struct split_ctx s = { .sys = sys, .f = f };
	int nr = folio_nr_pages(f);
	long mapped = 0;
	int err = 0;

	PAGE_LOCK_ASSERT(sys);

	if (!folio_large(f) || (f->flags & (FOLIO_MIGRATING | FOLIO_KSM)))
		return -EBUSY;
	/* can_split_folio: no references beyond the mappings */
	for (int i = 0; i < nr; i++)
		mapped += f->pmap[i];
	if (f->refcount != mapped + f->entire)
		return -EAGAIN;
	s.pieces = uvma_zalloc(sys, (size_t)nr * sizeof(s.pieces[0]));
	if (!s.pieces)
		return -ENOMEM;
	/* every new folio first, so that nothing fails half-way */
	for (int i = 0; i < nr && !err; i++) {
		struct uvma_folio *g;

		if ((!f->pmap[i] && !f->entire) || folio_page_zero_remappable(f, i))
			continue;
		g = s.pieces[i] = folio_alloc(sys);
		if (!g) {
			err = -ENOMEM;
			break;
		}
		g->refcount = 0;
		g->mapping = f->mapping;
		g->index = f->index + i;
		g->content = folio_page_content(f, (unsigned int)i);
		g->flags = f->flags & ~(FOLIO_LRU_ADD_PENDING | FOLIO_LAZYFREE_PENDING);
	}
	if (err) {
		for (int i = 0; i < nr; i++)
			if (s.pieces[i])
				uvma_free(sys, s.pieces[i], sizeof(*s.pieces[i]));
		uvma_free(sys, s.pieces, (size_t)nr * sizeof(s.pieces[0]));
		return err;
	}
	/* Nothing fails from here. */
	f->refcount++;	/* the split's own reference */
	rmap_walk(sys, f, split_pmd_one, NULL);
	rmap_walk(sys, f, remap_one, &s);
	for (int i = 0; i < nr; i++) {
		struct uvma_folio *g = s.pieces[i];

		if (!g)
			continue;
		if (!g->refcount) {
			/* only PMD-mapped before, and that mapping is gone: nothing maps it */
			uvma_free(sys, g, sizeof(*g));
			continue;
		}
		if (f->flags & FOLIO_LRU_ADD_PENDING)
			folio_add_lru(sys, g);
	}
	uvma_free(sys, s.pieces, (size_t)nr * sizeof(s.pieces[0]));
	UVMA_BUG_ON(f->refcount != 1);
	folio_put(sys, f);
	return 0;
}

/* Is a large folio mapped more than once (folio_maybe_mapped_shared)? */
bool folio_large_maybe_shared(const struct uvma_folio *f)
{
	if (f->entire > 1)
		return true;
	for (int i = 0; i < folio_nr_pages(f); i++)
		if (f->entire + f->pmap[i] > 1)
			return true;
	return false;
}

/*
 * madvise FREE, COLD and PAGEOUT split the exclusive large folios that
 * [start, end) covers only in part, so that they act on those pages alone;
 * a shared one is left as it is (and so are its PMD mappings).  With
 * @whole, folios the range covers whole are split too (reclaim without a
 * way to write a large folio out splits it).
 */
void thp_split_partial_folios(struct uvma_vma *vma, uint64_t start, uint64_t end, bool whole)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct uvma_mm *mm = vma->mm;
	uint64_t lo_idx = linear_page_index(vma, start), hi_idx = linear_page_index(vma, end);
	const struct uvma_folio *seen = NULL;

	for (uint64_t a = start & ~(PMD_SIZE - 1); a < end; a += PMD_SIZE) {
		uint64_t lo = a > start ? a : start, hi = a + PMD_SIZE < end ? a + PMD_SIZE : end;
		pte_t *ptes = pt_lookup(&mm->pt, a);

		if (!ptes)
			continue;
		for (uint64_t x = lo; x < hi; x += PAGE_SIZE) {
			pte_t p = ptes[(x - a) >> PAGE_SHIFT];
			struct uvma_folio *f;

			if (!pte_is_folio(p) || !folio_large(pte_folio(p)) || pte_folio(p) == seen)
				continue;
			f = pte_folio(p);
			seen = f;
			if (!whole && f->index >= lo_idx && f->index + (uint64_t)folio_nr_pages(f) <= hi_idx)
				continue;	/* covered whole: worked on as one */
			if (folio_large_maybe_shared(f) || split_folio(mm->sys, f))
				continue;	/* (a folio that cannot split stays whole) */
			mm->pstats.folios_split++;
		}
	}
}
