// SPDX-License-Identifier: MIT
/*
 * Allocation failure at every point of every operation: fail allocation 1,
 * then 2, ... until the operation succeeds.  After each failure the checker
 * passes, the result is an error the kernel can return, and the layout is
 * either unchanged or only split further (the kernel keeps the first split of
 * a vma_modify that fails at the second).  Nothing leaks.
 */
#include <stdlib.h>

#include "helpers.h"

struct counter {
	long live;
	unsigned long calls;
};

static void *count_alloc(void *ctx, size_t size)
{
	struct counter *c = ctx;
	void *p = malloc(size);

	if (p)
		c->live += (long)size;
	c->calls++;
	return p;
}

static void count_free(void *ctx, void *p, size_t size)
{
	struct counter *c = ctx;

	c->live -= (long)size;
	free(p);
}

typedef void (*setup_fn)(struct env *e);

/* The merge policy of the machines the loop creates. */
static enum uvma_policy alloc_policy = UVMA_POLICY_LINUX;
typedef long (*op_fn)(struct env *e);

/* Flags of every page of the window, and the VMA boundaries. */
struct picture {
	uint64_t flags[SPAN];
	bool start[SPAN];
};

static void take_picture(struct env *e, struct picture *p)
{
	struct uvma_vma_info vi;
	uint64_t a = BASE;

	memset(p, 0, sizeof(*p));
	while (!uvma_find_vma(e->mm, a, &vi) && vi.start < P(SPAN)) {
		for (uint64_t x = vi.start; x < vi.end && x < P(SPAN); x += 4096)
			p->flags[(x - BASE) / 4096] = vi.flags | 1ULL << 63;
		p->start[(vi.start - BASE) / 4096] = true;
		a = vi.end;
	}
}

/*
 * What a failed operation may have changed, beyond further splits:
 * REFINE nothing; GUARD_FLAG the sticky gu bit (the kernel sets it on the
 * whole VMA before it prepares the anon_vma that may fail); PIECEWISE whole
 * pieces (a multi-VMA move keeps the pieces it moved before the failure).
 */
enum allowance { REFINE, GUARD_FLAG, PIECEWISE };

static void assert_refines(const struct picture *before, const struct picture *after,
			   const char *what, unsigned long n, enum allowance allow)
{
	uint64_t ignore = allow == GUARD_FLAG ? UVMA_VM_MAYBE_GUARD : 0;

	if (allow == PIECEWISE)
		return;
	for (unsigned int i = 0; i < SPAN; i++) {
		if ((before->flags[i] ^ after->flags[i]) & ~ignore)
			fail_msg("%s, allocation %lu failed: page %u changed flags %#llx -> %#llx", what,
				 n, i, (unsigned long long)before->flags[i],
				 (unsigned long long)after->flags[i]);
		if (before->start[i] && !after->start[i])
			fail_msg("%s, allocation %lu failed: the VMA boundary at page %u is gone",
				 what, n, i);
	}
}

static void fail_every_allocation(const char *what, setup_fn setup, op_fn op, enum allowance allow)
{
	unsigned long n;

	for (n = 1; n < 10000; n++) {
		struct counter c = { 0 };
		struct uvma_alloc_ops ops = { count_alloc, count_free, &c };
		struct uvma_sys_config cfg;
		struct picture before, after;
		struct env e;
		const char *why;
		long r;
		bool failed;

		uvma_sys_config_default(&cfg);
		cfg.alloc = &ops;
		cfg.swap_pages = 64;	/* only reclaim uses it */
		cfg.policy = alloc_policy;
		e.sys = uvma_sys_create(&cfg);
		assert_non_null(e.sys);
		e.mm = uvma_mm_create(e.sys);
		assert_non_null(e.mm);
		setup(&e);
		take_picture(&e, &before);
		uvma_sys_fail_nth_alloc(e.sys, n);
		r = op(&e);
		failed = !uvma_sys_fail_pending(e.sys);
		uvma_sys_fail_nth_alloc(e.sys, 0);
		if (uvma_sys_violations(e.sys, &why))
			fail_msg("%s, allocation %lu failed: invariant broken: %s", what, n, why);
		if (failed && r < 0) {
			if (r != -ENOMEM && r != -EAGAIN)
				fail_msg("%s, allocation %lu failed: returned %ld", what, n, r);
			take_picture(&e, &after);
			assert_refines(&before, &after, what, n, allow);
		}
		uvma_sys_destroy(e.sys);
		if (c.live != 0)
			fail_msg("%s, allocation %lu failed: %ld bytes leaked", what, n, c.live);
		if (!failed)
			return; /* the operation completed without reaching allocation n */
	}
	fail_msg("%s never completed", what);
}

/* ---- set-ups: a faulted 12-page VMA with an unfaulted neighbour, and more ---- */

static void setup_basic(struct env *e)
{
	map(e, 0, 12, RW);
	write_pages(e, 0, 12);
	map(e, 20, 4, RW);
	map(e, 40, 4, RO);
	uvma_mm_set_brk(e->mm, P(100), P(100));
}

static void setup_forked_child(struct env *e)
{
	struct uvma_mm *child;
	int err;

	child = uvma_fork(e->mm, &err);
	assert_non_null(child);
	/* the parent is e->mm; the child stays alive in the machine */
}

static void setup_forked(struct env *e)
{
	setup_basic(e);
	setup_forked_child(e);
}

/* setup_forked with the faulted VMA locked: unmaps and COW munlock through the batch */
static void setup_locked_forked(struct env *e)
{
	setup_basic(e);
	assert_int_equal(uvma_mlock(e->mm, P(0), PG(12)), 0);
	setup_forked_child(e);
}

static long op_mmap_new(struct env *e)
{
	return uvma_mmap(e->mm, P(60), PG(2), RW, ANON, NULL, 0);
}

static long op_mmap_merge(struct env *e)
{
	return uvma_mmap(e->mm, P(12), PG(2), RW, ANON, NULL, 0);
}

static long op_mmap_fixed_middle(struct env *e)
{
	return uvma_mmap(e->mm, P(4), PG(2), RO, ANON_FIXED, NULL, 0);
}

static long op_mmap_shared(struct env *e)
{
	return uvma_mmap(e->mm, P(60), PG(2), RW,
			 UVMA_MAP_SHARED | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED, NULL, 0);
}

static long op_mmap_populate(struct env *e)
{
	return uvma_mmap(e->mm, P(60), PG(4), RW, ANON | UVMA_MAP_POPULATE, NULL, 0);
}

static long op_munmap_middle(struct env *e)
{
	return uvma_munmap(e->mm, P(4), PG(2));
}

static long op_munmap_span(struct env *e)
{
	return uvma_munmap(e->mm, P(10), PG(32));
}

static long op_mprotect_middle(struct env *e)
{
	return uvma_mprotect(e->mm, P(4), PG(2), RO);
}

static long op_mprotect_whole(struct env *e)
{
	return uvma_mprotect(e->mm, P(0), PG(12), RO);
}

static long op_madvise_middle(struct env *e)
{
	return uvma_madvise(e->mm, P(4), PG(2), UVMA_MADV_DONTFORK);
}

static long op_mlock_middle(struct env *e)
{
	return uvma_mlock(e->mm, P(4), PG(2));
}

/* a policy for the middle of the faulted VMA: the policy table grows, two splits */
static long op_mbind_middle(struct env *e)
{
	const uint64_t n0 = 1;

	return uvma_mbind(e->mm, P(4), PG(4), UVMA_MPOL_BIND, &n0, 64, 0);
}

/* the sealed middle of the faulted VMA: two splits */
static long op_mseal_middle(struct env *e)
{
	return uvma_mseal(e->mm, P(4), PG(4), 0);
}

static long op_guard(struct env *e)
{
	return uvma_madvise(e->mm, P(20), PG(2), UVMA_MADV_GUARD_INSTALL);
}

static long op_mremap_faulted(struct env *e)
{
	return uvma_mremap(e->mm, P(4), PG(4), PG(4), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED,
			   P(60));
}

static long op_mremap_unfaulted_merge(struct env *e)
{
	return uvma_mremap(e->mm, P(20), PG(4), PG(4), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED,
			   P(12));
}

static long op_mremap_grow(struct env *e)
{
	return uvma_mremap(e->mm, P(0), PG(12), PG(16), UVMA_MREMAP_MAYMOVE, 0);
}

static long op_mremap_dontunmap(struct env *e)
{
	return uvma_mremap(e->mm, P(0), PG(12), PG(12),
			   UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED | UVMA_MREMAP_DONTUNMAP, P(60));
}

static long op_mremap_multi(struct env *e)
{
	return uvma_mremap(e->mm, P(0), PG(44), PG(44), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED,
			   P(200));
}

static long op_touch(struct env *e)
{
	return uvma_touch(e->mm, P(20), PG(4), true);
}

static long op_fork(struct env *e)
{
	int err;
	struct uvma_mm *child = uvma_fork(e->mm, &err);

	if (!child)
		return err;
	uvma_mm_exit(child);
	return 0;
}

static long op_brk(struct env *e)
{
	uint64_t r = uvma_brk(e->mm, P(104));

	return r == P(104) ? 0 : -ENOMEM;
}

static long op_child_cow(struct env *e)
{
	/* the parent writes pages it shares with the child: COW copies */
	return uvma_touch(e->mm, P(0), PG(12), true);
}

static long op_mlockall(struct env *e)
{
	return uvma_mlockall(e->mm, UVMA_MCL_CURRENT);
}

/* ---- the folio-level operations ---------------------------------------------- */

static long op_reclaim(struct env *e)
{
	return uvma_reclaim(e->mm, P(0), PG(12));
}

static void setup_swapped(struct env *e)
{
	setup_forked(e);
	assert_int_equal(uvma_reclaim(e->mm, P(0), PG(12)), 12);
}

static long op_migrate(struct env *e)
{
	return uvma_migrate(e->mm, P(3));
}

static void setup_ksm(struct env *e)
{
	setup_basic(e);
	assert_int_equal(uvma_madvise(e->mm, P(0), PG(12), UVMA_MADV_MERGEABLE), 0);
	assert_int_equal(uvma_ksm_scan(e->sys), 0);
}

static void setup_ksm_merged(struct env *e)
{
	setup_ksm(e);
	assert_int_equal(uvma_ksm_scan(e->sys), 12);
}

static long op_ksm_scan(struct env *e)
{
	return uvma_ksm_scan(e->sys);
}

static long op_unmergeable(struct env *e)
{
	return uvma_madvise(e->mm, P(0), PG(12), UVMA_MADV_UNMERGEABLE);
}

static long op_pin_unpin(struct env *e)
{
	struct uvma_page *pages[12];
	long n = uvma_pin_user_pages(e->mm, P(0), 12, false, pages);

	if (n > 0)
		uvma_unpin_user_pages(e->sys, pages, (unsigned long)n, false);
	return n < 0 ? n : 0;
}

static long op_fork_pinned(struct env *e)
{
	struct uvma_page *pages[4];
	long n = uvma_pin_user_pages(e->mm, P(0), 4, true, pages);
	long r = n < 0 ? n : op_fork(e);

	if (n > 0)
		uvma_unpin_user_pages(e->sys, pages, (unsigned long)n, true);
	return r;
}

static void setup_thp(struct env *e)
{
	assert_int_equal(uvma_mmap(e->mm, P(512), PG(512), RW, ANON, NULL, 0), (long)P(512));
	assert_int_equal(uvma_madvise(e->mm, P(512), PG(512), UVMA_MADV_HUGEPAGE), 0);
	assert_int_equal(uvma_write_value(e->mm, P(513), 1), 0);
}

static long op_thp_pageout_partial(struct env *e)
{
	return uvma_madvise(e->mm, P(512), PG(4), UVMA_MADV_PAGEOUT);
}

/* matena: a faulted VMA moved next to a faulted one merges into it */
static void setup_matena(struct env *e)
{
	map(e, 0, 4, RW);
	write_pages(e, 0, 4);
	map(e, 100, 4, RW);
	write_pages(e, 100, 4);
}

static long op_matena_move(struct env *e)
{
	return uvma_mremap(e->mm, P(100), PG(4), PG(4), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED,
			   P(4));
}

static void matena_move(void **state)
{
	(void)state;
	alloc_policy = UVMA_POLICY_MATENA;
	fail_every_allocation("matena_move", setup_matena, op_matena_move, REFINE);
	alloc_policy = UVMA_POLICY_LINUX;
}

static long op_relocate_move(struct env *e)
{
	return uvma_mremap(e->mm, P(100), PG(4), PG(4),
			   UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED | UVMA_MREMAP_MUST_RELOCATE_ANON,
			   P(4));
}

/* relocate: the same move with MREMAP_MUST_RELOCATE_ANON */
static void relocate_move(void **state)
{
	(void)state;
	alloc_policy = UVMA_POLICY_RELOCATE;
	fail_every_allocation("relocate_move", setup_matena, op_relocate_move, REFINE);
	alloc_policy = UVMA_POLICY_LINUX;
}

/* auto: the same move, which takes prev's anon_vma and merges into it */
static void auto_move(void **state)
{
	(void)state;
	alloc_policy = UVMA_POLICY_AUTO;
	fail_every_allocation("auto_move", setup_matena, op_matena_move, REFINE);
	alloc_policy = UVMA_POLICY_LINUX;
}

/* ideal: the pages are shared with a child (and one is in swap): copied, then moved */
static void setup_ideal(struct env *e)
{
	int err;

	setup_matena(e);
	assert_non_null(uvma_fork(e->mm, &err));
	assert_int_equal(uvma_reclaim(e->mm, P(101), PG(1)), 1);
}

static void ideal_move(void **state)
{
	(void)state;
	alloc_policy = UVMA_POLICY_IDEAL;
	fail_every_allocation("ideal_move", setup_ideal, op_matena_move, REFINE);
	alloc_policy = UVMA_POLICY_LINUX;
}

/*
 * ideal: two faulted VMAs with their own anon_vmas (the second was mlocked
 * when the first faulted), both shared with a child; munlock rejoins them,
 * the second's shared pages copied first.
 */
static void setup_ideal_rejoin(struct env *e)
{
	int err;

	map(e, 4, 4, RW);
	write_pages(e, 4, 4);
	assert_int_equal(uvma_mlock(e->mm, P(4), PG(4)), 0);
	map(e, 0, 4, RW);
	write_pages(e, 0, 4);
	assert_non_null(uvma_fork(e->mm, &err));
}

static long op_ideal_rejoin(struct env *e)
{
	return uvma_munlock(e->mm, P(4), PG(4));
}

static void ideal_rejoin(void **state)
{
	(void)state;
	alloc_policy = UVMA_POLICY_IDEAL;
	fail_every_allocation("ideal_rejoin", setup_ideal_rejoin, op_ideal_rejoin, REFINE);
	alloc_policy = UVMA_POLICY_LINUX;
}

#define CASE_ALLOW(name, setup, op, allow)                                 \
	static void name(void **state)                                         \
	{                                                                      \
		(void)state;                                                   \
		fail_every_allocation(#name, setup, op, allow);                \
	}
#define CASE(name, setup, op) CASE_ALLOW(name, setup, op, REFINE)

CASE(mmap_new, setup_basic, op_mmap_new)
CASE(mmap_merge, setup_basic, op_mmap_merge)
CASE(mmap_fixed_middle, setup_basic, op_mmap_fixed_middle)
CASE(mmap_shared, setup_basic, op_mmap_shared)
CASE(mmap_populate, setup_basic, op_mmap_populate)
CASE(munmap_middle, setup_basic, op_munmap_middle)
CASE(munmap_span, setup_basic, op_munmap_span)
CASE(mprotect_middle, setup_basic, op_mprotect_middle)
CASE(mprotect_whole, setup_basic, op_mprotect_whole)
CASE(madvise_middle, setup_basic, op_madvise_middle)
CASE(mlock_middle, setup_basic, op_mlock_middle)
CASE(mseal_middle, setup_basic, op_mseal_middle)
CASE(mbind_middle, setup_basic, op_mbind_middle)
CASE_ALLOW(guard_install, setup_basic, op_guard, GUARD_FLAG)
CASE(mremap_faulted, setup_basic, op_mremap_faulted)
CASE(mremap_unfaulted_merge, setup_basic, op_mremap_unfaulted_merge)
CASE(mremap_grow, setup_basic, op_mremap_grow)
CASE(mremap_dontunmap, setup_basic, op_mremap_dontunmap)
CASE_ALLOW(mremap_multi, setup_basic, op_mremap_multi, PIECEWISE)
CASE(touch_prepare, setup_basic, op_touch)
CASE(fork_whole, setup_basic, op_fork)
CASE(brk_grow, setup_basic, op_brk)
CASE(cow_after_fork, setup_forked, op_child_cow)
CASE(mlockall_current, setup_basic, op_mlockall)
CASE(munmap_locked_shared, setup_locked_forked, op_munmap_middle)
CASE(cow_locked, setup_locked_forked, op_child_cow)
CASE(reclaim_shared, setup_forked, op_reclaim)
CASE(swapin_cow, setup_swapped, op_child_cow)
CASE(swapped_fork, setup_swapped, op_fork)
CASE(migrate_shared, setup_forked, op_migrate)
CASE(ksm_first_merge, setup_ksm, op_ksm_scan)
CASE(ksm_unmerge, setup_ksm_merged, op_unmergeable)
CASE(ksm_mremap, setup_ksm_merged, op_mremap_faulted)
CASE(pin_unshare, setup_forked, op_pin_unpin)
CASE(fork_pinned, setup_basic, op_fork_pinned)
CASE(thp_split, setup_thp, op_thp_pageout_partial)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mmap_new),
		cmocka_unit_test(mmap_merge),
		cmocka_unit_test(mmap_fixed_middle),
		cmocka_unit_test(mmap_shared),
		cmocka_unit_test(mmap_populate),
		cmocka_unit_test(munmap_middle),
		cmocka_unit_test(munmap_span),
		cmocka_unit_test(mprotect_middle),
		cmocka_unit_test(mprotect_whole),
		cmocka_unit_test(madvise_middle),
		cmocka_unit_test(mlock_middle),
		cmocka_unit_test(mseal_middle),
		cmocka_unit_test(mbind_middle),
		cmocka_unit_test(guard_install),
		cmocka_unit_test(mremap_faulted),
		cmocka_unit_test(mremap_unfaulted_merge),
		cmocka_unit_test(mremap_grow),
		cmocka_unit_test(mremap_dontunmap),
		cmocka_unit_test(mremap_multi),
		cmocka_unit_test(touch_prepare),
		cmocka_unit_test(fork_whole),
		cmocka_unit_test(brk_grow),
		cmocka_unit_test(cow_after_fork),
		cmocka_unit_test(mlockall_current),
		cmocka_unit_test(munmap_locked_shared),
		cmocka_unit_test(cow_locked),
		cmocka_unit_test(reclaim_shared),
		cmocka_unit_test(swapin_cow),
		cmocka_unit_test(swapped_fork),
		cmocka_unit_test(migrate_shared),
		cmocka_unit_test(ksm_first_merge),
		cmocka_unit_test(ksm_unmerge),
		cmocka_unit_test(ksm_mremap),
		cmocka_unit_test(pin_unshare),
		cmocka_unit_test(fork_pinned),
		cmocka_unit_test(thp_split),
		cmocka_unit_test(matena_move),
		cmocka_unit_test(auto_move),
		cmocka_unit_test(ideal_move),
		cmocka_unit_test(ideal_rejoin),
		cmocka_unit_test(relocate_move),
	};

	return cmocka_run_group_tests_name("allocation failure", tests, NULL, NULL);
}
