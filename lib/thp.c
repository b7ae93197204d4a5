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
	uvma_free(sys, f->pmap, HPAGE_PMD_NR * sizeof(f->pmap[0]));
	f->pmap = NULL;
	uvma_free(sys, f->contents, HPAGE_PMD_NR * sizeof(f->contents[0]));
	f->contents = NULL;
}

static bool vma_thp_eligible(const struct uvma_vma *vma)
{
	return vma_is_anonymous(vma) && (vma->flags & UVMA_VM_HUGEPAGE) &&
	       !(vma->flags & (UVMA_VM_NOHUGEPAGE | VM_SPECIAL));
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
	if (!write) {
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
	vma->mm->stats.folios++;
	return 1;
}

/* Split the PMD mapping of the block containing @addr, if it is one. */
void thp_split_at(struct uvma_mm *mm, uint64_t addr)
{
	pte_t *ptes = pmd_ptes(&mm->pt, addr);
	struct uvma_folio *f;

	if (!ptes)
		return;
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
	if (start & (PMD_SIZE - 1))
		thp_split_at(mm, start);
	if (end & (PMD_SIZE - 1))
		thp_split_at(mm, end);
}

/* Split every PMD mapping meeting [start, end). */
void thp_split_range(struct uvma_mm *mm, uint64_t start, uint64_t end)
{
	for (uint64_t a = start & ~(PMD_SIZE - 1); a < end; a += PMD_SIZE)
		thp_split_at(mm, a);
}
