// SPDX-License-Identifier: MIT
/*
 * The invariant checker (spec 2): tree and map_count, anon_vma chains and
 * counters, and that every mapped folio's mapping and index agree with the
 * VMA that maps it.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

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

static void check_pte(void *ctx, uint64_t addr, pte_t *pte)
{
	struct pte_check *c = ctx;
	const struct uvma_vma *v = c->vma;
	struct uvma_folio *f;

	if (c->err || !pte_is_folio(*pte))
		return;
	f = pte_folio(*pte);
	if (folio_large(f)) {
		uint64_t lpi = linear_page_index(v, addr);

		if (lpi < f->index || lpi >= f->index + HPAGE_PMD_NR ||
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
		return;
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
	if (f->mapcount < 1 || f->refcount < f->mapcount) {
		snprintf(c->why, c->why_size, "folio at %#llx: mapcount %d refcount %d",
			 (unsigned long long)addr, f->mapcount, f->refcount);
		c->err = -EUCLEAN;
	}
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
		for (const struct list_head *q = av->avcs.next; q != &av->avcs; q = q->next)
			if (q == &avc->same_anon)
				found = true;
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
static int check_active_counts(const struct uvma_mm *mm, char *why, size_t why_size)
{
	struct tree_cursor cur;

	for (struct uvma_vma *v = tree_first(&mm->tree, &cur); v; v = tree_cursor_next(&cur)) {
		unsigned long n = 0;
		const struct anon_vma *av = v->anon_vma;

		if (!av)
			continue;
		for (const struct list_head *p = av->avcs.next; p != &av->avcs; p = p->next)
			if (container_of(p, struct avc, same_anon)->vma->anon_vma == av)
				n++;
		if (n != av->num_active_vmas)
			FAIL("anon_vma %llu: num_active_vmas %lu, but %lu VMAs use it",
			     (unsigned long long)av->id, av->num_active_vmas, n);
	}
	return 0;
}

int uvma_validate(const struct uvma_mm *mm, char *why, size_t why_size)
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
	return check_active_counts(mm, why, why_size);
}

void mm_debug_validate(struct uvma_mm *mm)
{
#ifdef UVMA_DEBUG
	char why[256];

	if (mm->sys->violations == 0 && !mm->sys->checks_paused &&
	    uvma_validate(mm, why, sizeof(why))) {
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
