// SPDX-License-Identifier: MIT
/*
 * The folio-level model: swap, migration, pins, KSM, THP splitting and the
 * reverse map.  The invariant checker (which proves the reverse map after
 * every call) runs throughout; each test also checks what it expects.
 */
#include "helpers.h"

static void env_setup_swap(struct env *e, uint64_t swap_pages)
{
	struct uvma_sys_config cfg;

	uvma_sys_config_default(&cfg);
	cfg.swap_pages = swap_pages;
	env_setup_cfg(e, &cfg);
}

static struct uvma_page_info page(struct uvma_mm *mm, uint64_t addr)
{
	struct uvma_page_info pi;

	assert_int_equal(uvma_page_info(mm, addr, &pi), 0);
	return pi;
}

static uint64_t value_at(struct uvma_mm *mm, uint64_t addr)
{
	uint64_t v = ~0ULL;

	assert_int_equal(uvma_read_value(mm, addr, &v), 0);
	return v;
}

static struct uvma_vma_usage usage(struct uvma_mm *mm, uint64_t addr)
{
	struct uvma_vma_usage u;

	assert_int_equal(uvma_vma_usage(mm, addr, &u), 0);
	return u;
}

struct hits {
	int n;
	struct uvma_mm *mm[8];
	uint64_t addr[8];
};

static void record_hit(void *ctx, struct uvma_mm *mm, uint64_t addr, unsigned int pg)
{
	struct hits *h = ctx;

	(void)pg;
	if (h->n < 8) {
		h->mm[h->n] = mm;
		h->addr[h->n] = addr;
	}
	h->n++;
}

static int rmap_count(struct uvma_mm *mm, uint64_t addr)
{
	struct hits h = { 0 };

	if (uvma_rmap_walk(mm, addr, record_hit, &h))
		return -1;
	return h.n;
}

/* ---- data ------------------------------------------------------------------------ */

/* uvma_mm_stats() counts what faults made (kept apart from the call counters). */
static void stats_count_faults(void **state)
{
	struct env e;
	struct uvma_stats st;
	struct uvma_mm *child;
	int err;

	(void)state;
	env_setup(&e);
	map_written(&e, 0, 4);
	uvma_mm_stats(e.mm, &st);
	assert_int_equal(st.folios, 4);
	assert_int_equal(st.anon_vmas, 1);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	/* the child's COW copy is its folio; fork gave it its own anon_vma */
	assert_int_equal(uvma_fault(child, P(1), true), 0);
	uvma_mm_stats(child, &st);
	assert_int_equal(st.folios, 1);
	assert_int_equal(st.anon_vmas, 1);
	uvma_mm_stats(e.mm, &st);
	assert_int_equal(st.folios, 4);
	uvma_mm_exit(child);
	env_teardown(&e);
}

static void values_follow_cow(void **state)
{
	struct env e;
	struct uvma_mm *child;
	int err;

	(void)state;
	env_setup(&e);
	map(&e, 0, 4, RW);
	assert_int_equal(value_at(e.mm, P(0)), 0); /* the zero page */
	assert_int_equal(page(e.mm, P(0)).state, UVMA_PAGE_ZERO);
	assert_int_equal(uvma_write_value(e.mm, P(0), 41), 0);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	assert_int_equal(value_at(child, P(0)), 41);
	assert_int_equal(uvma_write_value(child, P(0), 42), 0);
	assert_int_equal(value_at(e.mm, P(0)), 41);
	assert_int_equal(value_at(child, P(0)), 42);
	/* the parent's folio was shared once: it stays marked */
	assert_true(page(e.mm, P(0)).ever_shared);
	assert_false(page(child, P(0)).ever_shared);
	env_teardown(&e);
}

/* ---- fork trees and the reverse map -------------------------------------------- */

static void three_generations(void **state)
{
	struct env e;
	struct uvma_mm *child, *grandchild;
	int err;

	(void)state;
	env_setup(&e);
	map(&e, 0, 8, RW);
	for (unsigned int i = 0; i < 8; i++)
		assert_int_equal(uvma_write_value(e.mm, P(i), 100 + i), 0);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	/* the child moves its copy: the reverse map still finds it by index */
	assert_int_equal(uvma_mremap(child, P(0), PG(8), PG(8),
				     UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(100)),
			 (long)P(100));
	grandchild = uvma_fork(child, &err);
	assert_non_null(grandchild);
	assert_int_equal(rmap_count(e.mm, P(3)), 3);
	assert_int_equal(page(e.mm, P(3)).mapcount, 3);
	assert_false(page(e.mm, P(3)).exclusive);
	/* COW in the grandchild, then in the parent: each gets its own copy */
	assert_int_equal(uvma_write_value(grandchild, P(103), 7), 0);
	assert_int_equal(rmap_count(e.mm, P(3)), 2);
	assert_int_equal(uvma_write_value(e.mm, P(3), 8), 0);
	assert_int_equal(rmap_count(e.mm, P(3)), 1);
	assert_true(page(e.mm, P(3)).exclusive);
	/* the child's folio is its alone now: a write reuses it */
	assert_int_equal(page(child, P(103)).mapcount, 1);
	assert_int_equal(uvma_write_value(child, P(103), 9), 0);
	assert_true(page(child, P(103)).exclusive);
	assert_int_equal(value_at(e.mm, P(3)), 8);
	assert_int_equal(value_at(child, P(103)), 9);
	assert_int_equal(value_at(grandchild, P(103)), 7);
	assert_int_equal(value_at(grandchild, P(104)), 104);
	uvma_mm_exit(child);
	assert_int_equal(rmap_count(e.mm, P(4)), 2);
	env_teardown(&e);
}

/* ---- swap --------------------------------------------------------------------------- */

static void swap_out_and_in(void **state)
{
	struct env e;
	struct uvma_swap_stats st;

	(void)state;
	env_setup_swap(&e, 64);
	map(&e, 0, 4, RW);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(uvma_write_value(e.mm, P(i), 10 + i), 0);
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(4), UVMA_MADV_PAGEOUT), 0);
	assert_int_equal(usage(e.mm, P(0)).rss, 0);
	assert_int_equal(usage(e.mm, P(0)).swap, PG(4));
	assert_int_equal(usage(e.mm, P(0)).swap_pss, PG(4));
	assert_int_equal(page(e.mm, P(1)).state, UVMA_PAGE_SWAP);
	assert_true(page(e.mm, P(1)).exclusive);
	uvma_swap_stats(e.sys, &st);
	assert_int_equal(st.used, 4);
	assert_int_equal(st.cached, 0);
	/* a read brings the page back and keeps the swap copy in the cache */
	assert_int_equal(value_at(e.mm, P(1)), 11);
	assert_true(page(e.mm, P(1)).swapcache);
	assert_true(page(e.mm, P(1)).exclusive);
	assert_int_equal(usage(e.mm, P(0)).swap, PG(3));
	uvma_swap_stats(e.sys, &st);
	assert_int_equal(st.used, 4);
	assert_int_equal(st.cached, 1);
	/*
	 * The exclusive page was mapped writable: a store does not fault, so
	 * the stale swap copy stays in the swap cache until reclaim comes back,
	 * which writes the page to its old slot.
	 */
	assert_int_equal(uvma_write_value(e.mm, P(1), 21), 0);
	assert_true(page(e.mm, P(1)).swapcache);
	assert_int_equal(uvma_reclaim(e.mm, P(1), PG(1)), 1);
	assert_int_equal(page(e.mm, P(1)).state, UVMA_PAGE_SWAP);
	uvma_swap_stats(e.sys, &st);
	assert_int_equal(st.used, 4);
	assert_int_equal(st.cached, 0);
	assert_int_equal(value_at(e.mm, P(1)), 21);
	/* a write fault on a swap-cache page frees the slot: the folio is the only copy */
	assert_int_equal(uvma_madvise(e.mm, P(1), PG(1), UVMA_MADV_DONTNEED), 0);
	uvma_swap_stats(e.sys, &st);
	assert_int_equal(st.used, 3);
	/* a write fault straight on a swap entry */
	assert_int_equal(uvma_write_value(e.mm, P(2), 22), 0);
	assert_int_equal(page(e.mm, P(2)).index, P(2) / 4096);
	/* munmap drops entries and slots */
	assert_int_equal(uvma_munmap(e.mm, P(0), PG(4)), 0);
	uvma_swap_stats(e.sys, &st);
	assert_int_equal(st.used, 0);
	env_teardown(&e);
}

static void swap_without_swap_space(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	map(&e, 0, 2, RW);
	write_pages(&e, 0, 2);
	/* the host has no swap: MADV_PAGEOUT leaves anonymous memory resident */
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(2), UVMA_MADV_PAGEOUT), 0);
	assert_int_equal(usage(e.mm, P(0)).rss, PG(2));
	assert_int_equal(uvma_reclaim(e.mm, P(0), PG(2)), 0);
	env_teardown(&e);
}

static void swap_around_fork(void **state)
{
	struct env e;
	struct uvma_mm *child, *late;
	int err;

	(void)state;
	env_setup_swap(&e, 64);
	map(&e, 0, 2, RW);
	assert_int_equal(uvma_write_value(e.mm, P(0), 5), 0);
	assert_int_equal(uvma_write_value(e.mm, P(1), 6), 0);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	/* MADV_PAGEOUT skips shared folios; reclaim unmaps them everywhere */
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(2), UVMA_MADV_PAGEOUT), 0);
	assert_int_equal(page(e.mm, P(0)).state, UVMA_PAGE_PRESENT);
	assert_int_equal(uvma_reclaim(e.mm, P(0), PG(1)), 1);
	assert_int_equal(page(e.mm, P(0)).state, UVMA_PAGE_SWAP);
	assert_int_equal(page(child, P(0)).state, UVMA_PAGE_SWAP);
	assert_int_equal(page(child, P(0)).swap_count, 2);
	assert_false(page(child, P(0)).exclusive);
	assert_true(page(child, P(0)).ever_shared);
	assert_int_equal(usage(e.mm, P(0)).swap_pss, PG(1) / 2);
	/* the child swaps it in: the folio is shared again, under the root anon_vma */
	assert_int_equal(value_at(child, P(0)), 5);
	assert_true(page(child, P(0)).ever_shared);
	assert_false(page(child, P(0)).exclusive);
	/* the parent finds it in the swap cache: one folio, two mappings */
	assert_int_equal(value_at(e.mm, P(0)), 5);
	assert_int_equal(page(e.mm, P(0)).mapcount, 2);
	assert_int_equal(rmap_count(e.mm, P(0)), 2);
	/* an exclusive page swapped out before a fork: the entry is shared by fork */
	assert_int_equal(uvma_write_value(e.mm, P(1), 16), 0);
	assert_int_equal(uvma_reclaim(e.mm, P(1), PG(1)), 1);
	assert_true(page(e.mm, P(1)).exclusive);
	late = uvma_fork(e.mm, &err);
	assert_non_null(late);
	assert_false(page(e.mm, P(1)).exclusive);
	assert_int_equal(page(late, P(1)).swap_count, 2);
	assert_true(page(late, P(1)).ever_shared);
	/* COW in both directions after the swap-in */
	assert_int_equal(uvma_write_value(late, P(1), 17), 0);
	assert_int_equal(value_at(e.mm, P(1)), 16);
	assert_int_equal(value_at(late, P(1)), 17);
	assert_int_equal(value_at(child, P(1)), 6);
	env_teardown(&e);
}

static void swap_full(void **state)
{
	struct env e;

	(void)state;
	env_setup_swap(&e, 2);
	map(&e, 0, 4, RW);
	write_pages(&e, 0, 4);
	assert_int_equal(uvma_reclaim(e.mm, P(0), PG(4)), 2);
	assert_int_equal(usage(e.mm, P(0)).swap, PG(2));
	assert_int_equal(usage(e.mm, P(0)).rss, PG(2));
	env_teardown(&e);
}

static void reclaim_shared_file_page(void **state)
{
	struct env e;
	struct uvma_file *f;
	struct uvma_mm *other;

	(void)state;
	env_setup(&e);
	f = uvma_file_open(e.sys, "/data", PG(4), true, false);
	assert_non_null(f);
	other = uvma_mm_create(e.sys);
	assert_non_null(other);
	assert_int_equal(uvma_mmap(e.mm, P(0), PG(4), RO, UVMA_MAP_SHARED | UVMA_MAP_FIXED, f, 0),
			 (long)P(0));
	assert_int_equal(uvma_mmap(other, P(10), PG(4), RO, UVMA_MAP_SHARED | UVMA_MAP_FIXED, f, 0),
			 (long)P(10));
	assert_int_equal(uvma_fault(e.mm, P(1), false), 0);
	assert_int_equal(uvma_fault(other, P(11), false), 0);
	assert_int_equal(rmap_count(e.mm, P(1)), 2);
	/* the clean page leaves both address spaces and the page cache */
	assert_true(uvma_reclaim(e.mm, P(1), PG(1)) >= 1);
	assert_int_equal(page(other, P(11)).state, UVMA_PAGE_NONE);
	assert_int_equal(page(e.mm, P(1)).state, UVMA_PAGE_NONE);
	uvma_file_close(f);
	env_teardown(&e);
}

/* ---- migration ---------------------------------------------------------------------- */

static void migrate_small(void **state)
{
	struct env e;
	struct uvma_page_info before, after;
	long id;

	(void)state;
	env_setup(&e);
	map(&e, 0, 2, RW);
	assert_int_equal(uvma_write_value(e.mm, P(0), 77), 0);
	before = page(e.mm, P(0));
	assert_int_equal(uvma_migrate(e.mm, P(0)), 0);
	after = page(e.mm, P(0));
	assert_int_equal(after.state, UVMA_PAGE_PRESENT);
	assert_int_equal(after.value, 77);
	assert_int_equal(after.index, before.index);
	assert_int_equal(after.anon_vma_id, before.anon_vma_id);
	assert_true(after.exclusive);
	assert_true(after.dirty);
	/* in two steps, with a fault in between finishing it */
	id = uvma_migrate_start(e.mm, P(0));
	assert_true(id > 0);
	assert_int_equal(page(e.mm, P(0)).state, UVMA_PAGE_MIGRATION);
	assert_int_equal(usage(e.mm, P(0)).rss, PG(1));
	assert_int_equal(value_at(e.mm, P(0)), 77);
	assert_int_equal(uvma_migrate_finish(e.sys, id), -ENOENT);
	assert_int_equal(uvma_migrate(e.mm, P(1)), -ENOENT);
	assert_int_equal(uvma_migrate(e.mm, P(50)), -EFAULT);
	env_teardown(&e);
}

static void migrate_during_fork(void **state)
{
	struct env e;
	struct uvma_mm *child;
	long id;
	int err;

	(void)state;
	env_setup(&e);
	map(&e, 0, 2, RW);
	assert_int_equal(uvma_write_value(e.mm, P(0), 3), 0);
	id = uvma_migrate_start(e.mm, P(0));
	assert_true(id > 0);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	assert_int_equal(page(child, P(0)).state, UVMA_PAGE_MIGRATION);
	assert_false(page(e.mm, P(0)).exclusive);
	assert_int_equal(uvma_migrate_finish(e.sys, id), 0);
	/* both map the new folio, shared, and it remembers it was shared */
	assert_int_equal(page(e.mm, P(0)).mapcount, 2);
	assert_true(page(child, P(0)).ever_shared);
	assert_false(page(child, P(0)).exclusive);
	assert_int_equal(rmap_count(child, P(0)), 2);
	assert_int_equal(uvma_write_value(child, P(0), 4), 0);
	assert_int_equal(value_at(e.mm, P(0)), 3);
	/* munmap of a migrating page: the migration still ends cleanly */
	id = uvma_migrate_start(e.mm, P(0));
	assert_true(id > 0);
	assert_int_equal(uvma_munmap(e.mm, P(0), PG(2)), 0);
	assert_int_equal(uvma_migrate_finish(e.sys, id), 0);
	env_teardown(&e);
}

static void migrate_thp(void **state)
{
	struct env e;
	uint64_t base = BASE + (4ULL << 20);

	(void)state;
	env_setup(&e);
	assert_int_equal(uvma_mmap(e.mm, base, 4 << 20, RW, ANON, NULL, 0), (long)base);
	assert_int_equal(uvma_madvise(e.mm, base, 4 << 20, UVMA_MADV_HUGEPAGE), 0);
	assert_int_equal(uvma_write_value(e.mm, base + PG(5), 55), 0);
	assert_true(page(e.mm, base).pmd_mapped);
	assert_int_equal(uvma_migrate(e.mm, base + PG(7)), 0);
	assert_true(page(e.mm, base + PG(7)).pmd_mapped);
	assert_true(page(e.mm, base).large);
	assert_int_equal(value_at(e.mm, base + PG(5)), 55);
	assert_int_equal(usage(e.mm, base).anon_huge, 2 << 20);
	/* an mprotect that cuts the block while it migrates: the folio comes back PTE-mapped */
	{
		long id = uvma_migrate_start(e.mm, base);

		assert_true(id > 0);
		assert_int_equal(page(e.mm, base + PG(9)).state, UVMA_PAGE_MIGRATION);
		assert_int_equal(uvma_mprotect(e.mm, base + PG(8), PG(1), RO), 0);
		assert_int_equal(uvma_migrate_finish(e.sys, id), 0);
		assert_false(page(e.mm, base).pmd_mapped);
		assert_true(page(e.mm, base + PG(8)).large);
		assert_int_equal(usage(e.mm, base).anon_huge, 0);
		assert_int_equal(value_at(e.mm, base + PG(5)), 55);
	}
	env_teardown(&e);
}

/* ---- pins ---------------------------------------------------------------------------- */

static void pinned_page_copied_at_fork(void **state)
{
	struct env e;
	struct uvma_page *pages[2];
	struct uvma_mm *child;
	int err;

	(void)state;
	env_setup(&e);
	map(&e, 0, 2, RW);
	assert_int_equal(uvma_write_value(e.mm, P(0), 9), 0);
	assert_int_equal(uvma_write_value(e.mm, P(1), 10), 0);
	assert_int_equal(uvma_pin_user_pages(e.mm, P(0), 1, true, pages), 1);
	assert_true(page(e.mm, P(0)).pinned);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	/* the pinned page is copied for the child; the other one is shared */
	assert_true(page(e.mm, P(0)).exclusive);
	assert_int_equal(page(e.mm, P(0)).mapcount, 1);
	assert_true(page(child, P(0)).exclusive);
	assert_int_equal(value_at(child, P(0)), 9);
	assert_false(page(e.mm, P(1)).exclusive);
	assert_int_equal(page(e.mm, P(1)).mapcount, 2);
	/* a pinned folio neither migrates nor swaps */
	assert_int_equal(uvma_migrate(e.mm, P(0)), -EAGAIN);
	uvma_unpin_user_pages(e.sys, pages, 1, true);
	assert_false(page(e.mm, P(0)).pinned);
	assert_int_equal(uvma_migrate(e.mm, P(0)), 0);
	env_teardown(&e);
}

static void read_pin_unshares(void **state)
{
	struct env e;
	struct uvma_page *pages[3];
	struct uvma_mm *child;
	int err;

	(void)state;
	env_setup(&e);
	map(&e, 0, 3, RW);
	assert_int_equal(uvma_write_value(e.mm, P(0), 1), 0);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	assert_int_equal(uvma_pin_user_pages(child, P(0), 2, false, pages), 2);
	/* the shared page is unshared for the pin: a clean exclusive copy */
	assert_true(page(child, P(0)).exclusive);
	assert_int_equal(page(e.mm, P(0)).mapcount, 1);
	assert_int_equal(value_at(child, P(0)), 1);
	/* the zero page is pinned without a reference */
	assert_int_equal(page(child, P(1)).state, UVMA_PAGE_ZERO);
	uvma_unpin_user_pages(e.sys, pages, 2, false);
	/* errors: no VMA, misaligned, and a partial pin returns the count */
	assert_int_equal(uvma_pin_user_pages(e.mm, P(50), 1, false, pages), -EFAULT);
	assert_int_equal(uvma_pin_user_pages(e.mm, P(0) + 1, 1, false, pages), -EINVAL);
	assert_int_equal(uvma_pin_user_pages(e.mm, P(1), 3, true, pages), 2);
	uvma_unpin_user_pages(e.sys, pages, 2, false);
	env_teardown(&e);
}

/* ---- KSM ------------------------------------------------------------------------------ */

static void ksm_merge_and_unmerge(void **state)
{
	struct env e;
	struct uvma_ksm_stats st;

	(void)state;
	env_setup(&e);
	map(&e, 0, 4, RW);
	map(&e, 10, 4, RO | UVMA_PROT_WRITE);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(uvma_write_value(e.mm, P(i), 0xabc), 0);
		assert_int_equal(uvma_write_value(e.mm, P(10 + i), i == 3 ? 0xdef : 0xabc), 0);
	}
	/* (a hole in the range would make madvise fail with ENOMEM) */
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(14), UVMA_MADV_MERGEABLE), -ENOMEM);
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(4), UVMA_MADV_MERGEABLE), 0);
	assert_int_equal(uvma_madvise(e.mm, P(10), PG(4), UVMA_MADV_MERGEABLE), 0);
	/* the first pass only takes checksums */
	assert_int_equal(uvma_ksm_scan(e.sys), 0);
	assert_int_equal(uvma_ksm_scan(e.sys), 7);
	uvma_ksm_stats(e.sys, &st);
	assert_int_equal(st.pages_shared, 1);
	assert_int_equal(st.pages_sharing, 6);
	assert_int_equal(usage(e.mm, P(0)).ksm, PG(4));
	assert_int_equal(usage(e.mm, P(10)).ksm, PG(3));
	assert_true(page(e.mm, P(2)).ksm);
	assert_int_equal(rmap_count(e.mm, P(2)), 7);
	/* a page that becomes equal joins the KSM page at the next pass */
	assert_int_equal(uvma_write_value(e.mm, P(13), 0xabc), 0);
	assert_int_equal(uvma_ksm_scan(e.sys), 1);
	/* a write copies the page out */
	assert_int_equal(uvma_write_value(e.mm, P(1), 5), 0);
	assert_false(page(e.mm, P(1)).ksm);
	assert_true(page(e.mm, P(1)).exclusive);
	assert_int_equal(value_at(e.mm, P(2)), 0xabc);
	/* MADV_UNMERGEABLE breaks the rest of the range; the copies are clean */
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(4), UVMA_MADV_UNMERGEABLE), 0);
	assert_int_equal(usage(e.mm, P(0)).ksm, 0);
	assert_false(page(e.mm, P(0)).dirty);
	assert_int_equal(value_at(e.mm, P(0)), 0xabc);
	/* mremap breaks KSM pages before it moves them */
	assert_int_equal(uvma_mremap(e.mm, P(10), PG(4), PG(4),
				     UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(30)),
			 (long)P(30));
	assert_int_equal(usage(e.mm, P(30)).ksm, 0);
	assert_int_equal(value_at(e.mm, P(33)), 0xabc);
	assert_int_equal(uvma_ksm_scan(e.sys), 0);
	uvma_ksm_stats(e.sys, &st);
	assert_int_equal(st.pages_shared, 0);
	env_teardown(&e);
}

static void ksm_across_fork_and_exit(void **state)
{
	struct env e;
	struct uvma_mm *child;
	int err;

	(void)state;
	env_setup(&e);
	assert_int_equal(uvma_prctl_set_memory_merge(e.mm, 1), 0);
	map(&e, 0, 2, RW);
	assert_int_equal(uvma_write_value(e.mm, P(0), 1), 0);
	assert_int_equal(uvma_write_value(e.mm, P(1), 1), 0);
	assert_int_equal(uvma_ksm_scan(e.sys), 0);
	assert_int_equal(uvma_ksm_scan(e.sys), 2);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	assert_int_equal(rmap_count(child, P(0)), 4);
	/*
	 * ksmd meets the child's pages: it gets rmap items of its own on the
	 * same stable node, and each mapping is still found once (the walk
	 * used to find the child's through its item and the parent's too).
	 */
	assert_true(uvma_ksm_scan(e.sys) >= 0);
	assert_int_equal(rmap_count(child, P(0)), 4);
	assert_int_equal(rmap_count(e.mm, P(1)), 4);
	/* the parent exits: the child's mappings stay reachable */
	uvma_mm_exit(e.mm);
	e.mm = child;
	assert_int_equal(rmap_count(child, P(0)), 2);
	assert_int_equal(uvma_ksm_scan(e.sys), 0);
	assert_int_equal(rmap_count(child, P(0)), 2);
	/* turning KSM off for the process unmerges everything */
	assert_int_equal(uvma_prctl_set_memory_merge(child, 0), 0);
	assert_false(page(child, P(0)).ksm);
	assert_int_equal(value_at(child, P(1)), 1);
	env_teardown(&e);
}

static void ksm_page_swaps_in_as_itself(void **state)
{
	struct env e;

	(void)state;
	env_setup_swap(&e, 8);
	map(&e, 0, 2, RW);
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(2), UVMA_MADV_MERGEABLE), 0);
	assert_int_equal(uvma_write_value(e.mm, P(0), 3), 0);
	assert_int_equal(uvma_write_value(e.mm, P(1), 3), 0);
	assert_int_equal(uvma_ksm_scan(e.sys), 0);
	assert_int_equal(uvma_ksm_scan(e.sys), 2);
	/* KSM folios are not reclaimed by the model; they do migrate */
	assert_int_equal(uvma_reclaim(e.mm, P(0), PG(2)), 0);
	assert_int_equal(uvma_migrate(e.mm, P(0)), 0);
	assert_true(page(e.mm, P(1)).ksm);
	assert_int_equal(rmap_count(e.mm, P(1)), 2);
	assert_int_equal(value_at(e.mm, P(1)), 3);
	env_teardown(&e);
}

/* ---- THP: every operation that cuts one splits its PMD mapping ------------------------ */

static uint64_t thp_setup(struct env *e)
{
	uint64_t base = BASE + (4ULL << 20);

	env_setup(e);
	assert_int_equal(uvma_mmap(e->mm, base, 4 << 20, RW, ANON, NULL, 0), (long)base);
	assert_int_equal(uvma_madvise(e->mm, base, 4 << 20, UVMA_MADV_HUGEPAGE), 0);
	assert_int_equal(uvma_fault(e->mm, base, true), 0);
	assert_int_equal(usage(e->mm, base).anon_huge, 2 << 20);
	return base;
}

static void thp_split_by_each_operation(void **state)
{
	static const char *const ops[] = { "munmap", "mprotect", "mremap", "dontneed", "cold" };

	(void)state;
	for (unsigned int i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct env e;
		uint64_t base = thp_setup(&e), cut = base + (1 << 20);
		long r = 0;

		if (i == 0)
			r = uvma_munmap(e.mm, cut, PG(1));
		else if (i == 1)
			r = uvma_mprotect(e.mm, cut, PG(1), RO);
		else if (i == 2)
			r = uvma_mremap(e.mm, cut, PG(4), PG(4),
					UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, BASE);
		else if (i == 3)
			r = uvma_madvise(e.mm, cut, PG(1), UVMA_MADV_DONTNEED);
		else
			r = uvma_madvise(e.mm, cut, PG(1), UVMA_MADV_COLD);
		if (r < 0)
			fail_msg("%s: %ld", ops[i], r);
		if (i < 4) {
			/* the PMD mapping is split; the folio stays large, mapped by PTEs */
			assert_int_equal(usage(e.mm, base).anon_huge, 0);
			assert_false(page(e.mm, base).pmd_mapped);
			assert_true(page(e.mm, base).large);
			assert_int_equal(page(e.mm, base).mapcount, 1);
		} else {
			assert_int_equal(usage(e.mm, base).anon_huge, 0);
		}
		env_teardown(&e);
	}
}

static void thp_split_maps_zero_pages(void **state)
{
	struct env e;
	uint64_t base = thp_setup(&e);

	(void)state;
	assert_int_equal(uvma_write_value(e.mm, base + PG(5), 1), 0);
	/* a partial COLD splits the exclusive folio; only the page with data stays */
	assert_int_equal(uvma_madvise(e.mm, base, PG(4), UVMA_MADV_COLD), 0);
	assert_false(page(e.mm, base + PG(5)).large);
	assert_int_equal(page(e.mm, base + PG(5)).value, 1);
	assert_int_equal(page(e.mm, base + PG(6)).state, UVMA_PAGE_ZERO);
	assert_int_equal(usage(e.mm, base).rss, PG(1));
	/* mlocked memory refuses the advice (the kernel's -EINVAL) and stays whole */
	assert_int_equal(uvma_fault(e.mm, base + (2 << 20), true), 0);
	assert_int_equal(uvma_mlock(e.mm, base + (2 << 20), 2 << 20), 0);
	assert_int_equal(uvma_madvise(e.mm, base + (2 << 20), PG(4), UVMA_MADV_PAGEOUT), -EINVAL);
	assert_int_equal(uvma_reclaim(e.mm, base + (2 << 20), PG(4)), 0);
	assert_true(page(e.mm, base + (2 << 20)).large);
	env_teardown(&e);
}

/* ---- mTHP: folios of 16 KiB to 1 MiB, mapped by PTEs ---------------------------------- */

static void env_setup_mthp(struct env *e, uint32_t always, uint32_t madvise)
{
	struct uvma_sys_config cfg;

	uvma_sys_config_default(&cfg);
	cfg.thp_orders_always = always;
	cfg.thp_orders_madvise = madvise;
	env_setup_cfg(e, &cfg);
}

static void mthp_faults(void **state)
{
	struct env e;
	struct uvma_mm *child;
	int err;

	(void)state;
	/* 64 KiB always, 32 KiB in madvise mode */
	env_setup_mthp(&e, 1U << 4, 1U << 3);
	map(&e, 0, 40, RW);
	assert_int_equal(uvma_write_value(e.mm, P(5), 55), 0);
	/* one 16-page folio, every PTE young and dirty, the index of its first page */
	for (unsigned int i = 0; i < 16; i++) {
		assert_true(page(e.mm, P(i)).large);
		assert_true(page(e.mm, P(i)).dirty);
		assert_false(page(e.mm, P(i)).pmd_mapped);
	}
	assert_int_equal(page(e.mm, P(0)).index, P(0) / 4096);
	assert_int_equal(page(e.mm, P(16)).state, UVMA_PAGE_NONE);
	assert_int_equal(usage(e.mm, P(0)).rss, PG(16));
	assert_int_equal(usage(e.mm, P(0)).anon_huge, 0);
	/* a read maps the zero page; a write over it is an order-0 copy */
	assert_int_equal(value_at(e.mm, P(20)), 0);
	assert_int_equal(uvma_write_value(e.mm, P(20), 1), 0);
	assert_false(page(e.mm, P(20)).large);
	/* the tail [32, 40) has room for 8 pages only: 32 KiB is madvise-only, so order 0 */
	assert_int_equal(uvma_write_value(e.mm, P(33), 1), 0);
	assert_false(page(e.mm, P(33)).large);
	assert_int_equal(uvma_madvise(e.mm, P(32), PG(8), UVMA_MADV_HUGEPAGE), 0);
	assert_int_equal(uvma_write_value(e.mm, P(36), 1), 0);
	assert_false(page(e.mm, P(36)).large); /* [32,40) is no longer empty */
	/* fork shares the folio; COW copies one page */
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	assert_int_equal(page(child, P(5)).mapcount, 2);
	assert_int_equal(uvma_write_value(child, P(5), 56), 0);
	assert_false(page(child, P(5)).large);
	assert_true(page(child, P(6)).large);
	assert_int_equal(value_at(e.mm, P(5)), 55);
	/* munmap of part of the folio leaves the rest mapped, still one folio */
	assert_int_equal(uvma_munmap(e.mm, P(2), PG(2)), 0);
	assert_true(page(e.mm, P(4)).large);
	/* the walk reports every mapped page of the folio: 14 here, 15 in the child */
	assert_int_equal(rmap_count(e.mm, P(6)), 29);
	env_teardown(&e);
}

/*
 * A kernel that forbids the zero page: reads allocate as writes do (mTHP
 * too), dirty only where the VMA is writable; the VMA gets its anon_vma.
 * The host of the live checks has 2 MiB THP only: mTHP reads are checked
 * here.
 */
static void zero_page_forbidden(void **state)
{
	struct uvma_sys_config cfg;
	struct uvma_vma_info vi;
	struct env e;

	(void)state;
	uvma_sys_config_default(&cfg);
	cfg.thp_orders_always = 1U << 4;
	cfg.forbid_zero_page = true;
	env_setup_cfg(&e, &cfg);
	map(&e, 0, 16, RW);
	map(&e, 20, 2, UVMA_PROT_READ);
	map(&e, 24, 2, RW);
	assert_int_equal(value_at(e.mm, P(3)), 0);
	/* one 16-page folio for a read, young and dirty in writable memory */
	for (unsigned int i = 0; i < 16; i++) {
		assert_int_equal(page(e.mm, P(i)).state, UVMA_PAGE_PRESENT);
		assert_true(page(e.mm, P(i)).large);
		assert_true(page(e.mm, P(i)).anon);
		assert_true(page(e.mm, P(i)).dirty);
	}
	assert_int_equal(uvma_find_vma(e.mm, P(0), &vi), 0);
	assert_true(vi.anon_vma_id != 0);
	/* read-only memory: an order-0 page (no room for 16), clean */
	assert_int_equal(value_at(e.mm, P(20)), 0);
	assert_int_equal(page(e.mm, P(20)).state, UVMA_PAGE_PRESENT);
	assert_false(page(e.mm, P(20)).large);
	assert_false(page(e.mm, P(20)).dirty);
	assert_int_equal(usage(e.mm, P(20)).rss, PG(1));
	/* a write over a page a read gave reuses it: nothing is copied */
	assert_int_equal(value_at(e.mm, P(24)), 0);
	assert_int_equal(uvma_write_value(e.mm, P(24), 7), 0);
	assert_int_equal(usage(e.mm, P(24)).rss, PG(1));
	assert_int_equal(value_at(e.mm, P(24)), 7);
	env_teardown(&e);
	/* the same reads with the zero page: nothing allocated, no anon_vma */
	uvma_sys_config_default(&cfg);
	env_setup_cfg(&e, &cfg);
	map(&e, 0, 16, RW);
	assert_int_equal(value_at(e.mm, P(3)), 0);
	assert_int_equal(page(e.mm, P(3)).state, UVMA_PAGE_ZERO);
	assert_int_equal(uvma_find_vma(e.mm, P(0), &vi), 0);
	assert_int_equal(vi.anon_vma_id, 0);
	env_teardown(&e);
}

static void mthp_split_and_migrate(void **state)
{
	struct env e;

	(void)state;
	env_setup_mthp(&e, 1U << 4, 0);
	map(&e, 0, 32, RW);
	assert_int_equal(uvma_write_value(e.mm, P(1), 11), 0);
	assert_int_equal(uvma_write_value(e.mm, P(2), 12), 0);
	assert_int_equal(uvma_migrate(e.mm, P(9)), 0);
	assert_true(page(e.mm, P(9)).large);
	assert_int_equal(value_at(e.mm, P(2)), 12);
	/* MADV_FREE of part of it splits: zero-filled pages become the zero page */
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(1), UVMA_MADV_FREE), 0);
	assert_false(page(e.mm, P(1)).large);
	assert_int_equal(page(e.mm, P(0)).state, UVMA_PAGE_ZERO);
	assert_int_equal(page(e.mm, P(3)).state, UVMA_PAGE_ZERO);
	assert_int_equal(value_at(e.mm, P(2)), 12);
	assert_int_equal(usage(e.mm, P(0)).rss, PG(2));
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stats_count_faults),
		cmocka_unit_test(values_follow_cow),
		cmocka_unit_test(three_generations),
		cmocka_unit_test(swap_out_and_in),
		cmocka_unit_test(swap_without_swap_space),
		cmocka_unit_test(swap_around_fork),
		cmocka_unit_test(swap_full),
		cmocka_unit_test(reclaim_shared_file_page),
		cmocka_unit_test(migrate_small),
		cmocka_unit_test(migrate_during_fork),
		cmocka_unit_test(migrate_thp),
		cmocka_unit_test(pinned_page_copied_at_fork),
		cmocka_unit_test(read_pin_unshares),
		cmocka_unit_test(ksm_merge_and_unmerge),
		cmocka_unit_test(ksm_across_fork_and_exit),
		cmocka_unit_test(ksm_page_swaps_in_as_itself),
		cmocka_unit_test(thp_split_by_each_operation),
		cmocka_unit_test(thp_split_maps_zero_pages),
		cmocka_unit_test(mthp_faults),
		cmocka_unit_test(mthp_split_and_migrate),
		cmocka_unit_test(zero_page_forbidden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
