// SPDX-License-Identifier: MIT
/*
 * The invariant checker (spec 2): tree and map_count, anon_vma chains and
 * counters, that every mapped folio's mapping and index agree with the VMA
 * that maps it, that the reverse-map walk from each folio finds each of its
 * mappings and exactly as many as it counts, and the swap slots' counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ksm.h"

#define FAIL(...)                                        \
	do {                                             \
		snprintf(why, why_size, __VA_ARGS__);    \
		return -EUCLEAN;                         \
	} while (0)

struct pte_check {
	const struct uvma_mm *mm;
	const struct uvma_vma *vma;
	char *why;
	size_t why_size;
	int err;
};

static bool chain_has(const struct uvma_vma *v, const struct anon_vma *av)
{
	for (const struct list_head *p = v->anon_vma_chain.next; p != &v->anon_vma_chain;
	     p = p->next)
		if (container_of(p, struct avc, same_vma)->anon_vma == av)
			return true;
	return false;
}

/* ---- the reverse-map proof ------------------------------------------------------ */

struct rmap_count {
	const pte_t *target;
	bool found;
	long ptes;	/* PTE-level mappings found */
	long pmds;	/* PMD mappings found (counted at their first page) */
};

static bool count_one(struct uvma_vma *vma, uint64_t addr, pte_t *pte, void *ctx)
{
	struct rmap_count *c = ctx;

	(void)vma;
	if (pte == c->target)
		c->found = true;
	if (!pte_is_folio(*pte))
		return true;
	if (!(*pte & PTE_PMD))
		c->ptes++;
	else if (!(addr & (PMD_SIZE - 1)))
		c->pmds++;
	return true;
}

/*
 * The walk from @f must find @pte at @addr, and (once per folio and VMA)
 * exactly as many mappings as the folio counts.
 */
static void check_rmap(struct pte_check *c, const struct uvma_vma *v, uint64_t addr, pte_t *pte,
		       struct uvma_folio *f)
{
	struct rmap_count rc = { .target = pte };
	bool count = true;
	long want_ptes = 0, want_pmds = 0;

	if (folio_large(f)) {
		/* the whole count only at the folio's first page in this VMA */
		uint64_t first = v->start + ((f->index > v->pgoff ? f->index - v->pgoff : 0) << PAGE_SHIFT);

		count = addr == first || addr == v->start;
		for (int i = 0; i < folio_nr_pages(f); i++)
			want_ptes += f->pmap[i];
		want_pmds = f->entire;
	} else {
		want_ptes = f->mapcount;
	}
	rmap_walk(c->mm->sys, f, count_one, &rc);
	if (!rc.found) {
		snprintf(c->why, c->why_size,
			 "rmap walk of the folio mapped at %#llx does not find that mapping",
			 (unsigned long long)addr);
		c->err = -EUCLEAN;
	} else if (count && (rc.ptes != want_ptes || rc.pmds != want_pmds)) {
		snprintf(c->why, c->why_size,
			 "folio mapped at %#llx counts %ld PTE and %ld PMD mappings, rmap finds %ld and %ld",
			 (unsigned long long)addr, want_ptes, want_pmds, rc.ptes, rc.pmds);
		c->err = -EUCLEAN;
	}
}

static void check_nonpresent(struct pte_check *c, uint64_t addr, pte_t *pte)
{
	const struct uvma_sys *sys = c->mm->sys;

	if (pte_is_swap(*pte)) {
		uint64_t slot = swp_slot(*pte);

		if (slot >= sys->swap_hwm || !sys->swap[slot].count) {
			snprintf(c->why, c->why_size, "swap entry at %#llx names free slot %llu",
				 (unsigned long long)addr, (unsigned long long)slot);
			c->err = -EUCLEAN;
		}
		if (!c->vma->anon_vma) {
			snprintf(c->why, c->why_size, "swap entry at %#llx in a VMA without anon_vma",
				 (unsigned long long)addr);
			c->err = -EUCLEAN;
		}
	} else if (pte_is_migration(*pte)) {
		struct uvma_folio *f = migration_folio(*pte);
		struct rmap_count rc = { .target = pte };

		if (!(f->flags & FOLIO_MIGRATING)) {
			snprintf(c->why, c->why_size, "migration entry at %#llx for a folio not migrating",
				 (unsigned long long)addr);
			c->err = -EUCLEAN;
			return;
		}
		rmap_walk(c->mm->sys, f, count_one, &rc);
		if (!rc.found) {
			snprintf(c->why, c->why_size,
				 "migration entry at %#llx is out of its folio's reverse map",
				 (unsigned long long)addr);
			c->err = -EUCLEAN;
		}
	}
}

static void check_pte(void *ctx, uint64_t addr, pte_t *pte)
{
	struct pte_check *c = ctx;
	const struct uvma_vma *v = c->vma;
	struct uvma_folio *f;

	if (c->err)
		return;
	if (!pte_is_folio(*pte)) {
		check_nonpresent(c, addr, pte);
		return;
	}
	f = pte_folio(*pte);
	if (f->flags & FOLIO_MIGRATING) {
		snprintf(c->why, c->why_size, "folio at %#llx mapped while it migrates",
			 (unsigned long long)addr);
		c->err = -EUCLEAN;
		return;
	}
	if (f->flags & FOLIO_KSM) {
		const struct ksm_stable *st = f->mapping;

		if (!st || st->folio != f || folio_large(f) || !(f->flags & FOLIO_ANON) ||
		    (f->flags & FOLIO_ANON_EXCLUSIVE)) {
			snprintf(c->why, c->why_size, "KSM folio at %#llx: bad stable node or flags",
				 (unsigned long long)addr);
			c->err = -EUCLEAN;
			return;
		}
		goto counts;
	}
	if (folio_large(f)) {
		uint64_t lpi = linear_page_index(v, addr);

		if (lpi < f->index || lpi >= f->index + (uint64_t)folio_nr_pages(f) ||
		    folio_page_mapcount(f, lpi - f->index) < 1 ||
		    ((*pte & PTE_PMD) && (addr & (PMD_SIZE - 1)) != (lpi - f->index) << PAGE_SHIFT)) {
			snprintf(c->why, c->why_size,
				 "page %#llx of a large folio (index %#llx) mapped at %#llx",
				 (unsigned long long)lpi, (unsigned long long)f->index,
				 (unsigned long long)addr);
			c->err = -EUCLEAN;
		}
		if (!chain_has(v, f->mapping)) {
			snprintf(c->why, c->why_size, "THP at %#llx outside the anon_vma chain",
				 (unsigned long long)addr);
			c->err = -EUCLEAN;
		}
		if (c->err)
			return;
		goto counts;
	}
	if (f->index != linear_page_index(v, addr)) {
		snprintf(c->why, c->why_size,
			 "folio at %#llx has index %#llx, VMA [%#llx,%#llx) pgoff %#llx expects %#llx",
			 (unsigned long long)addr, (unsigned long long)f->index,
			 (unsigned long long)v->start, (unsigned long long)v->end,
			 (unsigned long long)v->pgoff,
			 (unsigned long long)linear_page_index(v, addr));
		c->err = -EUCLEAN;
		return;
	}
	if (f->flags & FOLIO_ANON) {
		if (!chain_has(v, f->mapping)) {
			snprintf(c->why, c->why_size,
				 "anonymous folio at %#llx belongs to an anon_vma outside the chain of its VMA",
				 (unsigned long long)addr);
			c->err = -EUCLEAN;
		}
	} else if (f->mapping != v->file) {
		snprintf(c->why, c->why_size, "file folio at %#llx of another file",
			 (unsigned long long)addr);
		c->err = -EUCLEAN;
	}
	if (f->mapcount < 1 || f->refcount < f->mapcount + (f->swap ? 1 : 0)) {
		snprintf(c->why, c->why_size, "folio at %#llx: mapcount %d refcount %d",
			 (unsigned long long)addr, f->mapcount, f->refcount);
		c->err = -EUCLEAN;
	}
	if (c->err)
		return;
counts:
	check_rmap(c, v, addr, pte, f);
}

/*
 * Every swap slot's count is the number of entries naming it, over every
 * address space of the machine, and a slot with a cache folio points back.
 */
struct swap_count {
	uint32_t *n;
	uint64_t hwm;
};

static void count_swap(void *ctx, uint64_t addr, pte_t *pte)
{
	struct swap_count *sc = ctx;

	(void)addr;
	if (pte_is_swap(*pte) && swp_slot(*pte) < sc->hwm)
		sc->n[swp_slot(*pte)]++;
}

static int check_swap(const struct uvma_sys *sys, char *why, size_t why_size)
{
	struct swap_count sc = { .hwm = sys->swap_hwm };
	uint64_t used = 0;
	int err = 0;

	if (!sys->swap_hwm)
		return 0;
	/* the checker's own memory: not the model's, so not counted or failed */
	sc.n = calloc(sys->swap_hwm, sizeof(sc.n[0]));
	if (!sc.n)
		return 0;
	for (const struct list_head *p = sys->mms.next; p != &sys->mms; p = p->next)
		pt_walk(&container_of(p, struct uvma_mm, node)->pt, 0, TASK_SIZE + PAGE_SIZE,
			count_swap, &sc);
	for (uint64_t i = 0; i < sys->swap_hwm && !err; i++) {
		const struct swap_slot *s = &sys->swap[i];

		if (s->count != sc.n[i]) {
			snprintf(why, why_size, "swap slot %llu counts %u entries, %u exist",
				 (unsigned long long)i, s->count, sc.n[i]);
			err = -EUCLEAN;
		} else if (s->cache && s->cache->swap != i + 1) {
			snprintf(why, why_size, "swap slot %llu: its cache folio names another slot",
				 (unsigned long long)i);
			err = -EUCLEAN;
		}
		if (s->count || s->cache)
			used++;
	}
	free(sc.n);
	if (!err && used != sys->swap_used) {
		snprintf(why, why_size, "%llu swap slots in use, %llu accounted",
			 (unsigned long long)used, (unsigned long long)sys->swap_used);
		err = -EUCLEAN;
	}
	return err;
}

static void check_orphan(void *ctx, uint64_t addr, pte_t *pte)
{
	struct pte_check *c = ctx;
	const struct uvma_vma *v;

	(void)pte;
	if (c->err)
		return;
	v = vma_lookup(c->mm, addr);
	if (!v) {
		snprintf(c->why, c->why_size, "page table entry at %#llx outside every VMA",
			 (unsigned long long)addr);
		c->err = -EUCLEAN;
	}
}

static int check_vma_anon(const struct uvma_vma *v, char *why, size_t why_size)
{
	const struct anon_vma *root = NULL;

	if (!v->anon_vma) {
		if (!list_empty(&v->anon_vma_chain))
			FAIL("unfaulted VMA [%#llx,%#llx) has an anon_vma chain",
			     (unsigned long long)v->start, (unsigned long long)v->end);
		return 0;
	}
	if (!chain_has(v, v->anon_vma))
		FAIL("VMA [%#llx,%#llx): its anon_vma is not in its chain",
		     (unsigned long long)v->start, (unsigned long long)v->end);
	for (const struct list_head *p = v->anon_vma_chain.next; p != &v->anon_vma_chain;
	     p = p->next) {
		const struct avc *avc = container_of(p, struct avc, same_vma);
		const struct anon_vma *av = avc->anon_vma;
		bool found = false;

		if (avc->vma != v)
			FAIL("AVC of VMA [%#llx,%#llx) points at another VMA",
			     (unsigned long long)v->start, (unsigned long long)v->end);
		if (root && av->root != root)
			FAIL("VMA [%#llx,%#llx) links anon_vmas of two roots",
			     (unsigned long long)v->start, (unsigned long long)v->end);
		root = av->root;
		found = avtree_contains(av, avc);
		/* each tree once per pass: from the VMA whose AVC is its root */
		if (av->rb_root == avc && !avtree_valid(av))
			FAIL("anon_vma %llu: its interval tree is out of order",
			     (unsigned long long)av->id);
		if (!found)
			FAIL("AVC of VMA [%#llx,%#llx) missing from anon_vma %llu",
			     (unsigned long long)v->start, (unsigned long long)v->end,
			     (unsigned long long)av->id);
		if (av->num_active_vmas > 1UL << 40 || av->num_children > 1UL << 40)
			FAIL("anon_vma %llu counter underflow", (unsigned long long)av->id);
	}
	return 0;
}

/* num_active_vmas of every anon_vma a VMA of @mm uses, counted over the machine. */
struct active_count {
	const struct anon_vma *av;
	unsigned long n;
};

static bool count_active(struct avc *avc, void *arg)
{
	struct active_count *c = arg;

	if (avc->vma->anon_vma == c->av)
		c->n++;
	return true;
}

static int check_active_counts(const struct uvma_mm *mm, char *why, size_t why_size)
{
	struct tree_cursor cur;

	for (struct uvma_vma *v = tree_first(&mm->tree, &cur); v; v = tree_cursor_next(&cur)) {
		const struct anon_vma *av = v->anon_vma;
		struct active_count c = { av, 0 };
		unsigned long n;

		if (!av)
			continue;
		avtree_for_each(av, count_active, &c);
		n = c.n;
		if (n != av->num_active_vmas)
			FAIL("anon_vma %llu: num_active_vmas %lu, but %lu VMAs use it",
			     (unsigned long long)av->id, av->num_active_vmas, n);
	}
	return 0;
}

static int validate_locked(const struct uvma_mm *mm, char *why, size_t why_size);

int uvma_validate(const struct uvma_mm *mm, char *why, size_t why_size)
{
	MM_READ_GUARD(mm);

	return validate_locked(mm, why, why_size);
}

/* The checks; the caller holds the mmap_lock and the page lock. */
static int validate_locked(const struct uvma_mm *mm, char *why, size_t why_size)
{
	char dummy[8];
	struct tree_cursor cur;
	const struct uvma_vma *prev = NULL;
	unsigned long count = 0;
	struct pte_check c = { .mm = mm };
	int err;

	if (!why) {
		why = dummy;
		why_size = sizeof(dummy);
	}
	err = tree_check(&mm->tree, why, why_size);
	if (err)
		return err;
	c.why = why;
	c.why_size = why_size;
	for (struct uvma_vma *v = tree_first(&mm->tree, &cur); v; v = tree_cursor_next(&cur)) {
		count++;
		if (v->mm != mm)
			FAIL("VMA [%#llx,%#llx) of another mm", (unsigned long long)v->start,
			     (unsigned long long)v->end);
		if (v->start >= v->end || (v->start & ~PAGE_MASK) || (v->end & ~PAGE_MASK))
			FAIL("bad VMA range [%#llx,%#llx)", (unsigned long long)v->start,
			     (unsigned long long)v->end);
		if (cur.node[cur.depth - 1]->key[cur.idx[cur.depth - 1]] != v->end)
			FAIL("VMA [%#llx,%#llx) filed under key %#llx", (unsigned long long)v->start,
			     (unsigned long long)v->end,
			     (unsigned long long)cur.node[cur.depth - 1]->key[cur.idx[cur.depth - 1]]);
		if (prev && prev->end > v->start)
			FAIL("VMAs [%#llx,%#llx) and [%#llx,%#llx) overlap",
			     (unsigned long long)prev->start, (unsigned long long)prev->end,
			     (unsigned long long)v->start, (unsigned long long)v->end);
		err = check_vma_anon(v, why, why_size);
		if (err)
			return err;
		c.vma = v;
		pt_walk(&mm->pt, v->start, v->end, check_pte, &c);
		if (c.err)
			return c.err;
		prev = v;
	}
	if (count != mm->map_count)
		FAIL("map_count %lu, but the tree holds %lu VMAs", mm->map_count, count);
	pt_walk(&mm->pt, 0, TASK_SIZE + PAGE_SIZE, check_orphan, &c);
	if (c.err)
		return c.err;
	err = check_swap(mm->sys, why, why_size);
	if (err)
		return err;
	return check_active_counts(mm, why, why_size);
}

void mm_debug_validate(struct uvma_mm *mm)
{
#ifdef UVMA_DEBUG
	char why[256];
	/* faults on other VMAs go on while a call ends */
	PAGE_LOCK_SCOPE(mm->sys);

	if (mm->sys->violations == 0 && !mm->sys->checks_paused &&
	    validate_locked(mm, why, sizeof(why))) {
		mm->sys->violations++;
		memcpy(mm->sys->violation, why, sizeof(why));
	}
#else
	(void)mm;
#endif
}

void uvma_sys_debug_checks(struct uvma_sys *sys, bool on)
{
	sys->checks_paused = !on;
	if (on)
		for (struct list_head *p = sys->mms.next; p != &sys->mms; p = p->next)
			mm_debug_validate(container_of(p, struct uvma_mm, node));
}

unsigned long uvma_sys_violations(const struct uvma_sys *sys, const char **why)
{
	if (why)
		*why = sys->violation;
	return sys->violations;
}
