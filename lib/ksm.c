// SPDX-License-Identifier: MIT
/*
 * KSM: merging anonymous pages of identical content in VM_MERGEABLE VMAs
 * into write-protected KSM folios (spec 5.11).  The model's page data is a
 * value per page; uvma_ksm_scan() is one full pass of ksmd over every
 * address space, in the order the kernel scans (address spaces in the order
 * they were created, each in address order).
 *
 * As in the kernel, a page must keep the same content over two passes
 * before it can seed a new KSM folio (the checksum test of the unstable
 * tree), while a page equal to an existing KSM folio merges at once (the
 * stable tree comes first).  A KSM folio's reverse map is its rmap items:
 * (anon_vma, address) pairs.  Writing to a KSM page copies it; MADV_
 * UNMERGEABLE, PR_SET_MEMORY_MERGE off and mremap moves break KSM pages
 * first (the items are keyed by address).
 *
 * Left out: large folios (the kernel splits them to merge; the model leaves
 * them alone), folios in the swap cache, the zero-page option and the
 * max_page_sharing chains of stable nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ksm.h"

static unsigned long item_hash(const struct uvma_mm *mm, uint64_t addr, unsigned long n)
{
	uint64_t h = ((uintptr_t)mm >> 4) * 0x9e3779b97f4a7c15ULL ^ (addr >> PAGE_SHIFT);

	h *= 0xff51afd7ed558ccdULL;
	return (unsigned long)(h >> 32) & (n - 1);
}

static struct ksm_state *ksm_get(struct uvma_sys *sys)
{
	struct ksm_state *k = sys->ksm;

	if (k)
		return k;
	k = uvma_zalloc(sys, sizeof(*k));
	if (!k)
		return NULL;
	k->nbuckets = 256;
	k->hash = uvma_zalloc(sys, k->nbuckets * sizeof(k->hash[0]));
	if (!k->hash) {
		uvma_free(sys, k, sizeof(*k));
		return NULL;
	}
	list_init(&k->stables);
	sys->ksm = k;
	return k;
}

static struct ksm_item **item_slot(struct ksm_state *k, const struct uvma_mm *mm, uint64_t addr)
{
	struct ksm_item **pp = &k->hash[item_hash(mm, addr, k->nbuckets)];

	while (*pp && ((*pp)->mm != mm || (*pp)->addr != addr))
		pp = &(*pp)->hnext;
	return pp;
}

/* Double the table when it is full; failure only costs speed. */
static void hash_grow(struct uvma_sys *sys, struct ksm_state *k)
{
	unsigned long n = k->nbuckets * 2;
	struct ksm_item **h = uvma_zalloc(sys, n * sizeof(*h));

	if (!h)
		return;
	for (unsigned long i = 0; i < k->nbuckets; i++) {
		struct ksm_item *it = k->hash[i], *next;

		for (; it; it = next) {
			unsigned long b = item_hash(it->mm, it->addr, n);

			next = it->hnext;
			it->hnext = h[b];
			h[b] = it;
		}
	}
	uvma_free(sys, k->hash, k->nbuckets * sizeof(*h));
	k->hash = h;
	k->nbuckets = n;
}

static struct ksm_item *item_get(struct uvma_sys *sys, struct ksm_state *k, struct uvma_mm *mm,
				 uint64_t addr)
{
	struct ksm_item **pp = item_slot(k, mm, addr), *it;

	if (*pp)
		return *pp;
	it = uvma_zalloc(sys, sizeof(*it));
	if (!it)
		return NULL;
	it->mm = mm;
	it->addr = addr;
	list_init(&it->stable_node);
	*pp = it;
	if (++k->nitems > k->nbuckets * 2)
		hash_grow(sys, k);
	return it;
}

static void item_unstable(struct uvma_sys *sys, struct ksm_item *it)
{
	if (!it->stable)
		return;
	list_del(&it->stable_node);
	put_anon_vma(sys, it->anon_vma);
	it->anon_vma = NULL;
	it->stable = NULL;
}

/* Remove every item for which @drop says so. */
static void items_prune(struct uvma_sys *sys, struct ksm_state *k,
			bool (*drop)(struct ksm_item *it, const void *arg), const void *arg)
{
	for (unsigned long i = 0; i < k->nbuckets; i++) {
		struct ksm_item **pp = &k->hash[i];

		while (*pp) {
			struct ksm_item *it = *pp;

			if (drop(it, arg)) {
				*pp = it->hnext;
				k->nitems--;
				item_unstable(sys, it);
				uvma_free(sys, it, sizeof(*it));
			} else {
				pp = &it->hnext;
			}
		}
	}
}

/* The last reference to a KSM folio went: its stable node goes too. */
void ksm_folio_unmapped(struct uvma_sys *sys, struct uvma_folio *f)
{
	struct ksm_stable *st = f->mapping;

	PAGE_LOCK_ASSERT(sys);

	while (!list_empty(&st->items))
		item_unstable(sys, container_of(st->items.next, struct ksm_item, stable_node));
	list_del(&st->node);
	uvma_free(sys, st, sizeof(*st));
	f->mapping = NULL;
}

/*
 * An address space exits.  Its unmerged items go; its merged ones stay as
 * orphans (mm NULL) until the next pass, because a fork child may still map
 * the KSM folio at the same address and be found only through them until
 * the child's own item joins the stable node.
 */
void ksm_mm_exit(struct uvma_mm *mm)
{
	PAGE_LOCK_SCOPE(mm->sys);
	struct ksm_state *k = mm->sys->ksm;

	if (!k)
		return;
	for (unsigned long i = 0; i < k->nbuckets; i++) {
		struct ksm_item **pp = &k->hash[i];

		while (*pp) {
			struct ksm_item *it = *pp;
			unsigned long b;

			if (it->mm != mm) {
				pp = &it->hnext;
				continue;
			}
			*pp = it->hnext;
			if (!it->stable) {
				k->nitems--;
				uvma_free(mm->sys, it, sizeof(*it));
				continue;
			}
			/* filed again under mm NULL (a later bucket may see it again: skipped) */
			it->mm = NULL;
			b = item_hash(NULL, it->addr, k->nbuckets);
			it->hnext = k->hash[b];
			k->hash[b] = it;
		}
	}
}

static bool item_any(struct ksm_item *it, const void *arg)
{
	(void)it;
	(void)arg;
	return true;
}

void ksm_destroy(struct uvma_sys *sys)
{
	PAGE_LOCK_SCOPE(sys);
	struct ksm_state *k = sys->ksm;

	if (!k)
		return;
	/* every address space is gone, so every KSM folio is; orphans may remain */
	UVMA_BUG_ON(!list_empty(&k->stables));
	items_prune(sys, k, item_any, NULL);
	uvma_free(sys, k->hash, k->nbuckets * sizeof(k->hash[0]));
	uvma_free(sys, k, sizeof(*k));
	sys->ksm = NULL;
}

/* ---- merging ---------------------------------------------------------------- */

static struct ksm_stable *stable_find(struct ksm_state *k, uint64_t content)
{
	for (struct list_head *p = k->stables.next; p != &k->stables; p = p->next) {
		struct ksm_stable *st = container_of(p, struct ksm_stable, node);

		if (st->content == content)
			return st;
	}
	return NULL;
}

/* A new KSM folio with @content, not yet mapped (one reference: the caller's). */
static struct ksm_stable *stable_create(struct uvma_sys *sys, struct ksm_state *k,
					uint64_t content, uint64_t index)
{
	struct ksm_stable *st = uvma_zalloc(sys, sizeof(*st));
	struct uvma_folio *f;

	if (!st)
		return NULL;
	f = folio_alloc(sys);
	if (!f) {
		uvma_free(sys, st, sizeof(*st));
		return NULL;
	}
	f->mapping = st;
	f->index = index;
	f->content = content;
	f->flags = FOLIO_ANON | FOLIO_KSM | FOLIO_SWAPBACKED;
	st->folio = f;
	st->content = content;
	list_init(&st->items);
	list_add_tail(&st->node, &k->stables);
	folio_add_lru(sys, f);
	return st;
}

/* Can the page mapped by @pte be merged?  Small, anonymous, not KSM yet, not pinned. */
static struct uvma_folio *mergeable_page(pte_t pte)
{
	struct uvma_folio *f;

	if (!pte_is_folio(pte))
		return NULL;
	f = pte_folio(pte);
	if (folio_large(f) || !(f->flags & FOLIO_ANON) || folio_maybe_pinned(f) || f->swap ||
	    (f->flags & (FOLIO_KSM | FOLIO_MIGRATING | FOLIO_MLOCKED)))
		return NULL;
	return f;
}

/*
 * replace_page: @pte maps the KSM folio of @st instead of its own page,
 * write-protected and clean; the old page's dirtiness goes to the KSM folio.
 */
static void replace_page(struct uvma_sys *sys, struct uvma_vma *vma, struct ksm_item *it,
			 pte_t *pte, struct ksm_stable *st)
{
	struct uvma_folio *old = pte_folio(*pte), *kf = st->folio;

	if ((*pte & PTE_DIRTY) || (old->flags & FOLIO_DIRTY))
		kf->flags |= FOLIO_DIRTY;
	kf->mapcount++;
	kf->refcount++;
	*pte = (pte_t)kf | PTE_YOUNG;
	item_unstable(sys, it);
	it->stable = st;
	it->anon_vma = vma->anon_vma;
	get_anon_vma(it->anon_vma);
	list_add_tail(&it->stable_node, &st->items);
	folio_unmap_page(sys, old, 0, false);
}

struct candidate {
	uint64_t content;
	unsigned long order;
	struct uvma_vma *vma;
	struct ksm_item *item;
};

static int cmp_candidate(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->content != y->content)
		return x->content < y->content ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

struct scan {
	struct uvma_sys *sys;
	struct ksm_state *k;
	struct uvma_vma *vma;
	struct candidate *cand;
	unsigned long ncand, capcand;
	long merged;
	int err;
};

static void scan_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct scan *s = ctx;
	struct uvma_folio *f;
	struct ksm_item *it;
	struct ksm_stable *st;

	if (s->err)
		return;
	if (pte_is_folio(*pte) && (pte_folio(*pte)->flags & FOLIO_KSM)) {
		/* already a KSM page: its item joins the stable node (stable_tree_append) */
		st = pte_folio(*pte)->mapping;
		it = item_get(s->sys, s->k, s->vma->mm, addr);
		if (!it) {
			s->err = -ENOMEM;
			return;
		}
		it->pass = s->k->passes;
		if (it->stable != st) {
			item_unstable(s->sys, it);
			it->stable = st;
			it->anon_vma = s->vma->anon_vma;
			get_anon_vma(it->anon_vma);
			list_add_tail(&it->stable_node, &st->items);
		}
		return;
	}
	f = mergeable_page(*pte);
	if (!f)
		return;
	it = item_get(s->sys, s->k, s->vma->mm, addr);
	if (!it) {
		s->err = -ENOMEM;
		return;
	}
	it->pass = s->k->passes;
	item_unstable(s->sys, it);
	/* the stable tree first: an equal KSM folio takes the page at once */
	st = stable_find(s->k, f->content);
	if (st) {
		replace_page(s->sys, s->vma, it, pte, st);
		s->merged++;
		return;
	}
	/* the checksum test: only a page unchanged since the last pass goes on */
	if (!it->checksum_valid || it->checksum != f->content) {
		it->checksum = f->content;
		it->checksum_valid = true;
		return;
	}
	if (s->ncand == s->capcand) {
		unsigned long cap = s->capcand ? s->capcand * 2 : 64;
		struct candidate *n = uvma_alloc(s->sys, cap * sizeof(*n));

		if (!n) {
			s->err = -ENOMEM;
			return;
		}
		if (s->cand)
			memcpy(n, s->cand, s->ncand * sizeof(*n));
		uvma_free(s->sys, s->cand, s->capcand * sizeof(*n));
		s->cand = n;
		s->capcand = cap;
	}
	s->cand[s->ncand] = (struct candidate){ f->content, s->ncand, s->vma, it };
	s->ncand++;
}

static bool item_stale(struct ksm_item *it, const void *pass)
{
	return it->pass != *(const unsigned long *)pass;
}

/*
 * The unstable tree of this pass: pages with equal content that passed the
 * checksum test merge, the first two into a new KSM folio and the rest into
 * it, in scan order.
 */
static int merge_candidates(struct scan *s)
{
	if (s->ncand)
		qsort(s->cand, s->ncand, sizeof(s->cand[0]), cmp_candidate);
	for (unsigned long i = 0; i < s->ncand;) {
		unsigned long j = i + 1;
		struct ksm_stable *st;

		while (j < s->ncand && s->cand[j].content == s->cand[i].content)
			j++;
		if (j - i < 2) {
			i = j;
			continue;
		}
		st = stable_create(s->sys, s->k, s->cand[i].content,
				   linear_page_index(s->cand[i].vma, s->cand[i].item->addr));
		if (!st)
			return -ENOMEM;
		for (; i < j; i++) {
			struct candidate *c = &s->cand[i];
			pte_t *pte = pt_lookup(&c->vma->mm->pt, c->item->addr);

			/* (a page both parent and child map is seen by each: both merge) */
			if (!pte || !mergeable_page(*pte))
				continue;
			replace_page(s->sys, c->vma, c->item, pte, st);
			s->merged++;
		}
		folio_put(s->sys, st->folio);	/* the creation reference */
	}
	return 0;
}

long uvma_ksm_scan(struct uvma_sys *sys)
{
	SYS_GUARD(sys);
	struct ksm_state *k = ksm_get(sys);
	struct scan s = { .sys = sys, .k = k };
	unsigned long pass;

	if (!k)
		return -ENOMEM;
	pass = ++k->passes;
	for (struct list_head *p = sys->mms.next; p != &sys->mms && !s.err; p = p->next) {
		struct uvma_mm *mm = container_of(p, struct uvma_mm, node);
		struct tree_cursor cur;

		for (struct uvma_vma *v = tree_first(&mm->tree, &cur); v && !s.err;
		     v = tree_cursor_next(&cur)) {
			if (!(v->flags & UVMA_VM_MERGEABLE) || !v->anon_vma)
				continue;
			s.vma = v;
			pt_walk(&mm->pt, v->start, v->end, scan_one, &s);
		}
	}
	if (!s.err)
		s.err = merge_candidates(&s);
	uvma_free(sys, s.cand, s.capcand * sizeof(s.cand[0]));
	/* rmap items whose page is gone or no longer merged leave with the pass */
	if (!s.err)
		items_prune(sys, k, item_stale, &pass);
	for (struct list_head *p = sys->mms.next; p != &sys->mms; p = p->next)
		mm_debug_validate(container_of(p, struct uvma_mm, node));
	return s.err ? s.err : s.merged;
}

/*
 * break_ksm over [start, end) of @vma: every KSM page there is replaced by
 * an exclusive copy (an unsharing fault, so the copy is clean).
 */
int break_ksm_range(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	for (uint64_t a = start; a < end; a += PAGE_SIZE) {
		pte_t *pte = pt_lookup(&vma->mm->pt, a);
		int err;

		if (!pte) {
			/* skip the rest of an empty page table */
			a = (a | (PMD_SIZE - 1)) + 1 - PAGE_SIZE;
			continue;
		}
		if (!pte_is_folio(*pte) || !(pte_folio(*pte)->flags & FOLIO_KSM))
			continue;
		err = unshare_anon(vma, a, pte);
		if (err)
			return err;
	}
	return 0;
}

void uvma_ksm_stats(const struct uvma_sys *sys, struct uvma_ksm_stats *st)
{
	SYS_GUARD(sys);
	const struct ksm_state *k = sys->ksm;

	memset(st, 0, sizeof(*st));
	if (!k)
		return;
	st->full_scans = k->passes;
	for (const struct list_head *p = k->stables.next; p != &k->stables; p = p->next) {
		const struct ksm_stable *sn = container_of(p, struct ksm_stable, node);
		unsigned long n = 0;

		for (const struct list_head *q = sn->items.next; q != &sn->items; q = q->next)
			n++;
		st->pages_shared++;
		if (n)
			st->pages_sharing += n - 1;
	}
}
