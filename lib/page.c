// SPDX-License-Identifier: MIT
/*
 * Pages as a user of the model sees them: FOLL_PIN (pin_user_pages), page
 * data, and the state of the page at an address.
 *
 * A pin makes the page exclusive first: a write pin write-faults, a read pin
 * of an anonymous page that is not exclusive unshares it (a COW copy that is
 * not written), so that the pinned page and the page the process sees stay
 * the same page.  A small folio then takes GUP_PIN_COUNTING_BIAS references,
 * a large one a pincount and one reference.  The address space remembers
 * that it pinned (MMF_HAS_PINNED): fork gives a child its own copy of every
 * page that may be pinned instead of sharing it.
 */
#include <string.h>

#include "internal.h"

/* The shared zero page: read pins of it hold nothing. */
static const struct uvma_folio zero_page_handle;

static bool is_zero_handle(const struct uvma_page *p)
{
	return (const void *)p == (const void *)&zero_page_handle;
}

static void pin_folio(struct uvma_folio *f)
{
	if (folio_large(f)) {
		f->pincount++;
		f->refcount++;
	} else {
		f->refcount += GUP_PIN_COUNTING_BIAS;
	}
}

/* Pin the page at @addr; *page gets the handle. */
static int pin_one(struct uvma_mm *mm, uint64_t addr, bool write, struct uvma_page **page)
{
	struct uvma_vma *vma = vma_lookup(mm, addr);
	pte_t *pte;
	int err;

	if (!vma || (vma->flags & (UVMA_VM_IO | UVMA_VM_PFNMAP)))
		return -EFAULT;
	if (!(vma->flags & (write ? UVMA_VM_WRITE : UVMA_VM_READ)))
		return -EFAULT;
	err = gup_fault(vma, addr, write, false);
	if (err)
		return err;
	pte = pt_lookup(&mm->pt, addr);
	if (*pte == PTE_ZERO || *pte == PTE_HUGE_ZERO) {
		*page = (struct uvma_page *)&zero_page_handle;
		return 0;
	}
	if ((pte_folio(*pte)->flags & FOLIO_ANON) &&
	    !(pte_folio(*pte)->flags & FOLIO_ANON_EXCLUSIVE)) {
		/* gup_must_unshare */
		err = unshare_anon(vma, addr, pte);
		if (err)
			return err;
	}
	pin_folio(pte_folio(*pte));
	*page = (struct uvma_page *)pte_folio(*pte);
	return 0;
}

long uvma_pin_user_pages(struct uvma_mm *mm, uint64_t start, unsigned long nr_pages, bool write,
			 struct uvma_page **pages)
{
	MM_WRITE_GUARD(mm);
	PAGE_LOCK_SCOPE(mm->sys);
	unsigned long i;
	int err = 0;

	if (!nr_pages)
		return 0;
	if (start & ~PAGE_MASK)
		return -EINVAL;
	mm->has_pinned = true;
	for (i = 0; i < nr_pages; i++) {
		err = pin_one(mm, start + (i << PAGE_SHIFT), write, &pages[i]);
		if (err)
			break;
	}
	lru_add_drain(mm->sys);
	mm_debug_validate(mm);
	/* as GUP: the pages pinned so far, or the error if there are none */
	return i ? (long)i : err;
}

void uvma_unpin_user_pages(struct uvma_sys *sys, struct uvma_page **pages, unsigned long n,
			   bool make_dirty)
{
	SYS_GUARD(sys);
	for (unsigned long i = 0; i < n; i++) {
		struct uvma_folio *f = (struct uvma_folio *)pages[i];

		if (is_zero_handle(pages[i]))
			continue;
		if (make_dirty)
			f->flags |= FOLIO_DIRTY;
		if (folio_large(f)) {
			UVMA_BUG_ON(!f->pincount);
			f->pincount--;
		} else {
			UVMA_BUG_ON(f->refcount < GUP_PIN_COUNTING_BIAS);
			f->refcount -= GUP_PIN_COUNTING_BIAS - 1;
		}
		folio_put(sys, f);
	}
}

/* ---- page data ------------------------------------------------------------------ */

static struct uvma_folio *mapped_folio(struct uvma_mm *mm, uint64_t addr, unsigned int *idx)
{
	struct uvma_vma *vma = vma_lookup(mm, addr);
	pte_t *pte = pt_lookup(&mm->pt, addr & PAGE_MASK);
	struct uvma_folio *f;

	if (!vma || !pte || !pte_is_folio(*pte))
		return NULL;
	f = pte_folio(*pte);
	*idx = folio_large(f) ? (unsigned int)(linear_page_index(vma, addr) - f->index) : 0;
	return f;
}

int uvma_write_value(struct uvma_mm *mm, uint64_t addr, uint64_t value)
{
	MM_WRITE_GUARD(mm);
	unsigned int idx;
	struct uvma_folio *f;
	int err = fault_in_call(mm, addr, true);
	PAGE_LOCK_SCOPE(mm->sys);

	if (err)
		return err;
	f = mapped_folio(mm, addr, &idx);
	UVMA_BUG_ON(!f);
	return folio_set_page_content(mm->sys, f, idx, value);
}

int uvma_read_value(struct uvma_mm *mm, uint64_t addr, uint64_t *value)
{
	MM_WRITE_GUARD(mm);
	unsigned int idx;
	struct uvma_folio *f;
	int err = fault_in_call(mm, addr, false);
	PAGE_LOCK_SCOPE(mm->sys);

	if (err)
		return err;
	f = mapped_folio(mm, addr, &idx);
	*value = f ? folio_page_content(f, idx) : 0;
	return 0;
}

/* ---- what is at an address ---------------------------------------------------------- */

int uvma_page_info(const struct uvma_mm *mm, uint64_t addr, struct uvma_page_info *pi)
{
	MM_READ_GUARD(mm);
	const struct uvma_vma *vma = vma_lookup(mm, addr);
	pte_t *pte = pt_lookup(&mm->pt, addr & PAGE_MASK);
	const struct uvma_folio *f = NULL;

	memset(pi, 0, sizeof(*pi));
	if (!vma)
		return -EFAULT;
	if (!pte || !*pte) {
		pi->state = UVMA_PAGE_NONE;
		return 0;
	}
	if (*pte == PTE_ZERO || *pte == PTE_HUGE_ZERO) {
		pi->state = UVMA_PAGE_ZERO;
		return 0;
	}
	if (*pte == PTE_GUARD) {
		pi->state = UVMA_PAGE_GUARD;
		return 0;
	}
	if (pte_is_swap(*pte)) {
		const struct swap_slot *s = &mm->sys->swap[swp_slot(*pte)];

		pi->state = UVMA_PAGE_SWAP;
		pi->swap_slot = swp_slot(*pte);
		pi->swap_count = s->count;
		pi->exclusive = *pte & PTE_SWP_EXCLUSIVE;
		pi->ever_shared = s->flags & SWP_EVER_SHARED;
		pi->swapcache = s->cache != NULL;
		pi->value = s->cache ? s->cache->content : s->content;
		return 0;
	}
	if (pte_is_migration(*pte)) {
		pi->state = UVMA_PAGE_MIGRATION;
		f = migration_folio(*pte);
		pi->exclusive = *pte & PTE_SWP_EXCLUSIVE;
	} else {
		pi->state = UVMA_PAGE_PRESENT;
		f = pte_folio(*pte);
		pi->exclusive = f->flags & FOLIO_ANON_EXCLUSIVE;
		pi->pmd_mapped = *pte & PTE_PMD;
		pi->dirty = *pte & PTE_DIRTY;
		pi->young = *pte & PTE_YOUNG;
	}
	pi->anon = f->flags & FOLIO_ANON;
	pi->ksm = f->flags & FOLIO_KSM;
	pi->ever_shared = f->flags & FOLIO_EVER_SHARED;
	pi->pinned = folio_maybe_pinned(f);
	pi->swapcache = f->swap != 0;
	pi->large = folio_large(f);
	pi->dirty |= (f->flags & FOLIO_DIRTY) != 0;
	pi->refcount = f->refcount;
	pi->index = f->index;
	if (folio_large(f)) {
		uint64_t idx = linear_page_index(vma, addr) - f->index;

		pi->mapcount = folio_page_mapcount(f, idx);
		pi->value = folio_page_content(f, (unsigned int)idx);
	} else {
		pi->mapcount = f->mapcount;
		pi->value = f->content;
	}
	if (pi->anon && !pi->ksm && f->mapping)
		pi->anon_vma_id = ((const struct anon_vma *)f->mapping)->id;
	return 0;
}
