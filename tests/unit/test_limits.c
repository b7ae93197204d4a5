// SPDX-License-Identifier: MIT
/*
 * vm.max_map_count thresholds, as measured on the host (spec 4.3, probe t8):
 * for each operation on a faulted 8-page VMA and each margin
 * d = max_map_count - map_count, whether the call succeeds, what it
 * returns when it fails, and how many VMAs it adds (or leaves behind).
 */
#include "helpers.h"

struct limit_case {
	const char *what;
	long (*op)(struct env *e);
	int min_d;		/* succeeds when d >= min_d */
	long fail;		/* return value below it */
	int net;		/* VMAs added on success */
	int net_failed;		/* VMAs added on failure (a split left behind) */
	int fail_d_partial;	/* the d at which the failure leaves net_failed; other d: 0 */
};

static long mmap_far(struct env *e) { long r = uvma_mmap(e->mm, P(100), PG(1), RW, ANON, NULL, 0); return r < 0 ? r : 0; }
static long mmap_adjacent(struct env *e) { long r = uvma_mmap(e->mm, P(8), PG(1), RW, ANON, NULL, 0); return r < 0 ? r : 0; }
static long munmap_middle(struct env *e) { return uvma_munmap(e->mm, P(3), PG(1)); }
static long munmap_first(struct env *e) { return uvma_munmap(e->mm, P(0), PG(1)); }
static long munmap_whole(struct env *e) { return uvma_munmap(e->mm, P(0), PG(8)); }
static long mprotect_middle(struct env *e) { return uvma_mprotect(e->mm, P(3), PG(1), RO); }
static long mprotect_first(struct env *e) { return uvma_mprotect(e->mm, P(0), PG(1), RO); }
static long madvise_middle(struct env *e) { return uvma_madvise(e->mm, P(3), PG(1), UVMA_MADV_DONTFORK); }
static long mlock_middle(struct env *e) { return uvma_mlock(e->mm, P(3), PG(1)); }
static long mremap_fixed_whole(struct env *e) { long r = uvma_mremap(e->mm, P(0), PG(8), PG(8), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(200)); return r < 0 ? r : 0; }
static long mremap_fixed_middle(struct env *e) { long r = uvma_mremap(e->mm, P(3), PG(1), PG(1), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(200)); return r < 0 ? r : 0; }
static long mremap_dontunmap(struct env *e) { long r = uvma_mremap(e->mm, P(0), PG(8), PG(8), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED | UVMA_MREMAP_DONTUNMAP, P(200)); return r < 0 ? r : 0; }
static long mremap_grow_move(struct env *e) { long r = uvma_mremap(e->mm, P(0), PG(8), PG(12), UVMA_MREMAP_MAYMOVE, 0); return r < 0 ? r : 0; }
static long mremap_grow_in_place(struct env *e) { long r = uvma_mremap(e->mm, P(0), PG(8), PG(9), 0, 0); return r < 0 ? r : 0; }
static long mremap_shrink(struct env *e) { long r = uvma_mremap(e->mm, P(0), PG(8), PG(4), 0, 0); return r < 0 ? r : 0; }
static long fixed_over_middle(struct env *e) { long r = uvma_mmap(e->mm, P(3), PG(1), RO, ANON_FIXED, NULL, 0); return r < 0 ? r : 0; }
static long brk_new_vma(struct env *e) { uint64_t old = P(300); return uvma_brk(e->mm, P(302)) == P(302) ? 0 : (uvma_brk(e->mm, 0) == old ? -ENOMEM : -EINVAL); }

static const struct limit_case cases[] = {
	{ "mmap, new VMA", mmap_far, 0, -ENOMEM, 1, 0, 99 },
	{ "mmap, merging", mmap_adjacent, 0, -ENOMEM, 0, 0, 99 },
	{ "munmap middle page", munmap_middle, 1, -ENOMEM, 1, 0, 99 },
	{ "munmap first page", munmap_first, -3, 0, 0, 0, 99 },
	{ "munmap whole VMA", munmap_whole, -3, 0, -1, 0, 99 },
	{ "mprotect middle page", mprotect_middle, 2, -ENOMEM, 2, 1, 1 },
	{ "mprotect first page", mprotect_first, 1, -ENOMEM, 1, 0, 99 },
	{ "madvise middle page", madvise_middle, 2, -EAGAIN, 2, 1, 1 },
	{ "mlock middle page", mlock_middle, 2, -ENOMEM, 2, 1, 1 },
	{ "mremap FIXED whole VMA", mremap_fixed_whole, 6, -ENOMEM, 0, 0, 99 },
	{ "mremap FIXED middle page", mremap_fixed_middle, 6, -ENOMEM, 2, 0, 99 },
	{ "mremap FIXED|DONTUNMAP whole", mremap_dontunmap, 6, -ENOMEM, 1, 0, 99 },
	{ "mremap grow that moves", mremap_grow_move, 4, -ENOMEM, 0, 0, 99 },
	{ "mremap grow in place", mremap_grow_in_place, -3, 0, 0, 0, 99 },
	{ "mremap shrink", mremap_shrink, -3, 0, 0, 0, 99 },
	{ "MAP_FIXED over the middle", fixed_over_middle, 1, -ENOMEM, 2, 0, 99 },
	{ "brk growth, new VMA", brk_new_vma, 0, -ENOMEM, 1, 0, 99 },
};

static void thresholds(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct limit_case *lc = &cases[c];

		for (int d = -2; d <= 8; d++) {
			struct env e;
			long before, r, max;

			env_setup(&e);
			map(&e, 0, 8, RW);
			write_pages(&e, 0, 8);
			/* page 9 blocks growth in place beyond one page */
			map(&e, 9, 1, RO);
			/* filler VMAs, so that the margins can go below zero */
			for (int i = 0; i < 6; i++)
				map(&e, 400 + 2 * i, 1, RW);
			uvma_mm_set_brk(e.mm, P(300), P(300));
			before = (long)uvma_mm_map_count(e.mm);
			max = before + d;
			assert_int_equal(uvma_sys_set_max_map_count(e.sys, (unsigned long)max), 0);
			r = lc->op(&e);
			if (d >= lc->min_d) {
				if (r != 0)
					fail_msg("%s at d=%d: expected success, got %ld", lc->what, d, r);
				if ((long)uvma_mm_map_count(e.mm) - before != lc->net)
					fail_msg("%s at d=%d: %ld VMAs added, expected %d", lc->what, d,
						 (long)uvma_mm_map_count(e.mm) - before, lc->net);
			} else {
				long left = d == lc->fail_d_partial ? lc->net_failed : 0;

				if (r != lc->fail)
					fail_msg("%s at d=%d: expected %ld, got %ld", lc->what, d, lc->fail, r);
				if ((long)uvma_mm_map_count(e.mm) - before != left)
					fail_msg("%s at d=%d: failure left %ld VMAs, expected %ld", lc->what, d,
						 (long)uvma_mm_map_count(e.mm) - before, left);
			}
			env_teardown(&e);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(thresholds),
	};

	return cmocka_run_group_tests_name("max_map_count", tests, NULL, NULL);
}
