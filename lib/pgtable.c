// SPDX-License-Identifier: MIT
/*
 * Page tables: four levels of 512 entries, as x86_64 has, allocated on
 * demand.  The same shape indexes a file's page cache by page index.
 */
#include <string.h>

#include "internal.h"

static unsigned int level_index(uint64_t addr, int level)
{
	/* level 0 is the top (bits 39..47), level 3 holds PTEs (bits 12..20) */
	return (addr >> (PAGE_SHIFT + PT_BITS * (PT_LEVELS - 1 - level))) & (PT_ENTRIES - 1);
}

pte_t *pt_lookup(const struct page_table *pt, uint64_t addr)
{
	struct pt_table *t = pt->top;

	for (int level = 0; t; level++) {
		unsigned int i = level_index(addr, level);

		if (level == PT_LEVELS - 1)
			return &t->e[i];
		t = (struct pt_table *)t->e[i];
	}
	return NULL;
}

pte_t *pt_get(struct uvma_sys *sys, struct page_table *pt, uint64_t addr)
{
	struct pt_table **slot = &pt->top;

	for (int level = 0;; level++) {
		unsigned int i;

		if (!*slot) {
			struct pt_table *t = uvma_zalloc(sys, sizeof(struct pt_table));

			if (!t)
				return NULL;
			/* published zeroed: pt_range_empty() reads without the page lock */
			__atomic_store_n(slot, t, __ATOMIC_RELEASE);
			pt->tables++;
		}
		i = level_index(addr, level);
		if (level == PT_LEVELS - 1)
			return &(*slot)->e[i];
		slot = (struct pt_table **)&(*slot)->e[i];
	}
}

void pt_set(struct page_table *pt, pte_t *slot, pte_t val)
{
	(void)pt;
	*slot = val;
}

static bool level_empty(struct pt_table *t, int level, uint64_t base, uint64_t start, uint64_t end)
{
	unsigned int shift = PAGE_SHIFT + PT_BITS * (PT_LEVELS - 1 - level);
	uint64_t span = 1ULL << shift;
	unsigned int i = start > base ? (unsigned int)((start - base) >> shift) : 0;

	if (level == PT_LEVELS - 1)
		return false;
	for (; i < PT_ENTRIES; i++) {
		uint64_t lo = base + (uint64_t)i * span;
		struct pt_table *next;

		if (lo >= end)
			break;
		next = (struct pt_table *)__atomic_load_n(&t->e[i], __ATOMIC_ACQUIRE);
		if (next && !level_empty(next, level + 1, lo, start, end))
			return false;
	}
	return true;
}

/*
 * No PTE table covers any page of [start, end), so there is nothing to
 * zap there.  Safe without the page lock: tables are only ever added
 * (published zeroed, with release stores) until the mm is destroyed, and
 * the caller has made sure nothing can fault into the range, so the answer
 * cannot turn false before the caller is done with the range.  This is the
 * kernel's unmap walk skipping absent tables without taking a PTE lock.
 */
bool pt_range_empty(const struct page_table *pt, uint64_t start, uint64_t end)
{
	struct pt_table *top = __atomic_load_n((struct pt_table **)&pt->top, __ATOMIC_ACQUIRE);

	return !top || start >= end || level_empty(top, 0, 0, start, end);
}

static void destroy_level(struct uvma_sys *sys, struct pt_table *t, int level)
{
	if (level < PT_LEVELS - 1)
		for (unsigned int i = 0; i < PT_ENTRIES; i++)
			if (t->e[i])
				destroy_level(sys, (struct pt_table *)t->e[i], level + 1);
	uvma_free(sys, t, sizeof(*t));
}

void pt_destroy(struct uvma_sys *sys, struct page_table *pt)
{
	if (pt->top)
		destroy_level(sys, pt->top, 0);
	pt->top = NULL;
	pt->tables = 0;
}

static void walk_level(struct pt_table *t, int level, uint64_t base, uint64_t start, uint64_t end,
		       void (*fn)(void *ctx, uint64_t addr, pte_t *pte), void *ctx)
{
	unsigned int shift = PAGE_SHIFT + PT_BITS * (PT_LEVELS - 1 - level);
	uint64_t span = 1ULL << shift;
	unsigned int i = start > base ? (unsigned int)((start - base) >> shift) : 0;

	for (; i < PT_ENTRIES; i++) {
		uint64_t lo = base + (uint64_t)i * span;

		if (lo >= end)
			break;
		if (!t->e[i])
			continue;
		if (level == PT_LEVELS - 1)
			fn(ctx, lo, &t->e[i]);
		else
			walk_level((struct pt_table *)t->e[i], level + 1, lo, start, end, fn, ctx);
	}
}

void pt_walk(const struct page_table *pt, uint64_t start, uint64_t end,
	     void (*fn)(void *ctx, uint64_t addr, pte_t *pte), void *ctx)
{
	if (pt->top && start < end)
		walk_level(pt->top, 0, 0, start, end, fn, ctx);
}
