// SPDX-License-Identifier: MIT
/*
 * The reverse map: from a folio to every place that maps it (spec 1.4).
 *
 * An anonymous folio names an anon_vma and an index.  Every VMA that may
 * map it is linked to that anon_vma (fork links children to all of their
 * ancestors' anon_vmas), and in each of them the page can sit only at the
 * address its index gives, because a VMA's pgoff is linear:
 *
 *   anon_vma ──avc──> VMA [start, end) pgoff P:  addr = start + (index - P) pages
 *            ──avc──> VMA of a fork child, same index, its own start and pgoff
 *
 * A KSM folio names its stable node instead; each rmap item there is an
 * (anon_vma, address) pair recorded when the page was merged, and the walk
 * looks at that address in every VMA of the anon_vma that covers it.  A
 * file folio is found through every VMA of its file, in every address space.
 */
#include "internal.h"
#include "ksm.h"

bool pte_refers_to(pte_t pte, const struct uvma_folio *f)
{
	if (pte_is_folio(pte))
		return pte_folio(pte) == f;
	return pte_is_migration(pte) && migration_folio(pte) == f;
}

/* Visit the slots of @f's pages that @vma would map them at. */
static bool walk_vma(struct uvma_vma *vma, struct uvma_folio *f, rmap_fn fn, void *ctx)
{
	uint64_t first = f->index, last = f->index + (uint64_t)folio_nr_pages(f);
	uint64_t vfirst = vma->pgoff, vlast = vma->pgoff + vma_pages(vma);

	if (first < vfirst)
		first = vfirst;
	if (last > vlast)
		last = vlast;
	for (uint64_t idx = first; idx < last; idx++) {
		uint64_t addr = vma->start + ((idx - vma->pgoff) << PAGE_SHIFT);
		pte_t *pte = pt_lookup(&vma->mm->pt, addr);

		if (pte && pte_refers_to(*pte, f) && !fn(vma, addr, pte, ctx))
			return false;
	}
	return true;
}

struct walk {
	struct uvma_folio *f;
	rmap_fn fn;
	void *ctx;
	uint64_t addr;		/* KSM: the rmap item's address */
};

static bool walk_anon_one(struct avc *avc, void *arg)
{
	struct walk *w = arg;

	return walk_vma(avc->vma, w->f, w->fn, w->ctx);
}

/* The VMAs of the anon_vma whose pgoff range meets the folio's indexes. */
static void walk_anon(struct anon_vma *av, struct uvma_folio *f, rmap_fn fn, void *ctx)
{
	struct walk w = { f, fn, ctx, 0 };

	avtree_query(av, f->index, f->index + (uint64_t)folio_nr_pages(f) - 1, walk_anon_one, &w);
}

struct ksm_walk {
	struct walk w;
	const struct ksm_stable *stable;
	const struct ksm_item *item;
	bool new_forks;		/* the second pass: other address spaces */
};

/* Does @vma reach the folio at @addr through an item before @item (second pass)? */
static bool covered_before(const struct ksm_walk *k, const struct uvma_vma *vma, uint64_t addr)
{
	for (const struct list_head *p = k->stable->items.next; p != &k->item->stable_node;
	     p = p->next) {
		const struct ksm_item *it = container_of(p, struct ksm_item, stable_node);

		if (it->addr != addr || it->mm == vma->mm)
			continue;
		for (const struct list_head *q = vma->anon_vma_chain.next; q != &vma->anon_vma_chain;
		     q = q->next)
			if (container_of(q, struct avc, same_vma)->anon_vma == it->anon_vma)
				return true;
	}
	return false;
}

/* Has @mm an item of its own for @addr on this stable node (then the first pass found it)? */
static bool has_own_item(const struct ksm_walk *k, const struct uvma_mm *mm, uint64_t addr)
{
	for (const struct list_head *p = k->stable->items.next; p != &k->stable->items; p = p->next) {
		const struct ksm_item *it = container_of(p, struct ksm_item, stable_node);

		if (it->mm == mm && it->addr == addr)
			return true;
	}
	return false;
}

static bool walk_ksm_one(struct avc *avc, void *arg)
{
	struct ksm_walk *k = arg;
	struct walk *w = &k->w;
	struct uvma_vma *vma = avc->vma;
	pte_t *pte;

	if (w->addr < vma->start || w->addr >= vma->end)
		return true;
	/*
	 * The first pass looks at the item's own address space; the second at
	 * the others, children forked since ksmd saw the page, which map it
	 * through the parent's item.  Each mapping is visited once: not where
	 * the child has an item of its own, nor twice through two ancestors.
	 */
	if ((vma->mm != k->item->mm) != k->new_forks)
		return true;
	if (k->new_forks && (has_own_item(k, vma->mm, w->addr) || covered_before(k, vma, w->addr)))
		return true;
	pte = pt_lookup(&vma->mm->pt, w->addr);
	return !pte || !pte_refers_to(*pte, w->f) || w->fn(vma, w->addr, pte, w->ctx);
}

/* Each rmap item: the VMAs of its anon_vma that cover its address, in two passes. */
static void walk_ksm(struct ksm_stable *stable, struct uvma_folio *f, rmap_fn fn, void *ctx)
{
	for (int pass = 0; pass < 2; pass++)
		for (struct list_head *p = stable->items.next; p != &stable->items; p = p->next) {
			struct ksm_item *item = container_of(p, struct ksm_item, stable_node);
			struct ksm_walk k = { { f, fn, ctx, item->addr }, stable, item, pass == 1 };

			if (!avtree_for_each(item->anon_vma, walk_ksm_one, &k))
				return;
		}
}

static void walk_file(struct uvma_sys *sys, struct uvma_folio *f, rmap_fn fn, void *ctx)
{
	for (struct list_head *p = sys->mms.next; p != &sys->mms; p = p->next) {
		struct uvma_mm *mm = container_of(p, struct uvma_mm, node);
		struct tree_cursor cur;

		for (struct uvma_vma *v = tree_first(&mm->tree, &cur); v; v = tree_cursor_next(&cur))
			if (v->file == f->mapping && !walk_vma(v, f, fn, ctx))
				return;
	}
}

void rmap_walk(struct uvma_sys *sys, struct uvma_folio *f, rmap_fn fn, void *ctx)
{
	PAGE_LOCK_SCOPE(sys);
	if (!f->mapping)
		return;
	if (f->flags & FOLIO_KSM)
		walk_ksm(f->mapping, f, fn, ctx);
	else if (f->flags & FOLIO_ANON)
		walk_anon(f->mapping, f, fn, ctx);
	else
		walk_file(sys, f, fn, ctx);
}

/* ---- the public walk ----------------------------------------------------------- */

struct public_walk {
	void (*fn)(void *ctx, struct uvma_mm *mm, uint64_t addr, unsigned int page);
	void *ctx;
	const struct uvma_folio *f;
};

static bool public_one(struct uvma_vma *vma, uint64_t addr, pte_t *pte, void *ctx)
{
	struct public_walk *w = ctx;
	unsigned int page = 0;

	(void)pte;
	if (folio_large(w->f))
		page = (unsigned int)(linear_page_index(vma, addr) - w->f->index);
	w->fn(w->ctx, vma->mm, addr, page);
	return true;
}

int uvma_rmap_walk(struct uvma_mm *mm, uint64_t addr,
		   void (*fn)(void *ctx, struct uvma_mm *mm, uint64_t addr, unsigned int page),
		   void *ctx)
{
	MM_READ_GUARD(mm);
	pte_t *pte = pt_lookup(&mm->pt, addr & PAGE_MASK);
	struct public_walk w = { fn, ctx, NULL };

	if (!pte || (!pte_is_folio(*pte) && !pte_is_migration(*pte)))
		return -ENOENT;
	w.f = pte_is_folio(*pte) ? pte_folio(*pte) : migration_folio(*pte);
	rmap_walk(mm->sys, (struct uvma_folio *)w.f, public_one, &w);
	return 0;
}
