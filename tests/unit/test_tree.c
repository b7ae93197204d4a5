// SPDX-License-Identifier: MIT
/*
 * The VMA tree against a sorted array: seeded random inserts, erases and
 * replacements, lookups, cursors both ways; in place and copy-on-write.
 * In copy-on-write mode a reader keeps the root it started from while the
 * writer goes on, and must see exactly the old contents; retired nodes are
 * only freed when the "grace period" ends.
 */
#include <stdlib.h>

#include "helpers.h"
#include "internal.h"
#include "tree.h"

#define MAXK 5000

struct ref {
	uint64_t key[MAXK];
	int n;
};

static int ref_find(const struct ref *r, uint64_t k)
{
	int lo = 0, hi = r->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (r->key[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct retired {
	struct tree_node *nodes[1 << 16];
	int n;
	struct uvma_sys *sys;
};

static void retire_later(void *ctx, struct tree_node *node)
{
	struct retired *r = ctx;

	if (r->n == (int)(sizeof(r->nodes) / sizeof(r->nodes[0]))) {
		uvma_free(r->sys, node, sizeof(*node));
		return;
	}
	r->nodes[r->n++] = node;
}

static void grace_period(struct retired *r)
{
	while (r->n)
		uvma_free(r->sys, r->nodes[--r->n], sizeof(struct tree_node));
}

/* Entries are the key cast to a pointer: what the tree gives back is checkable. */
#define E(k) ((void *)(uintptr_t)(k))

static void check_against(struct tree *t, const struct ref *r, uint64_t *seed)
{
	struct tree_cursor cur;
	char why[256];
	void *e;
	int i;

	if (tree_check(t, why, sizeof(why)))
		fail_msg("tree_check: %s", why);
	assert_int_equal(t->count, r->n);
	/* forward and backward iteration */
	for (e = tree_first(t, &cur), i = 0; e; e = tree_cursor_next(&cur), i++)
		assert_ptr_equal(e, E(r->key[i]));
	assert_int_equal(i, r->n);
	for (e = tree_last(t, &cur), i = r->n - 1; e; e = tree_cursor_prev(&cur), i--)
		assert_ptr_equal(e, E(r->key[i]));
	assert_int_equal(i, -1);
	/* lookups, including between keys and past the end */
	for (int q = 0; q < 200; q++) {
		uint64_t a = rnd(seed) % 100000;
		int j = ref_find(r, a + 1);

		e = tree_find_after(t, a, &cur);
		if (j == r->n)
			assert_null(e);
		else
			assert_ptr_equal(e, E(r->key[j]));
		if (e && j > 0)
			assert_ptr_equal(tree_cursor_prev(&cur), E(r->key[j - 1]));
	}
}

/* A tree on @sys; in cow mode, retired nodes wait in @ret for a grace period. */
static void tree_setup(struct tree *t, struct uvma_sys *sys, struct retired *ret, bool cow)
{
	tree_init(t, sys);
	ret->sys = sys;
	ret->n = 0;
	if (cow) {
		t->cow = true;
		t->retire = retire_later;
		t->retire_ctx = ret;
	}
}

/* The emptied tree is gone and nothing of it is left. */
static void tree_teardown(struct tree *t, struct uvma_sys *sys, struct retired *ret)
{
	assert_null(t->root);
	grace_period(ret);
	tree_destroy(t);
	assert_int_equal(uvma_sys_live_bytes(sys), 0);
	uvma_sys_destroy(sys);
}

static void random_ops(bool cow, uint64_t seed)
{
	struct uvma_sys *sys = uvma_sys_create(NULL);
	static struct ref r;
	static struct retired ret;
	struct tree t;

	r.n = 0;
	tree_setup(&t, sys, &ret, cow);
	for (int step = 0; step < 20000; step++) {
		uint64_t k = 1 + rnd(&seed) % 100000;
		int j = ref_find(&r, k);
		bool present = j < r.n && r.key[j] == k;
		unsigned int what = (unsigned int)(rnd(&seed) % 10);

		assert_int_equal(tree_preallocate(&t, 1), 0);
		if (!present && (what < 6 || r.n < 10) && r.n < MAXK) {
			tree_insert(&t, k, E(k));
			memmove(&r.key[j + 1], &r.key[j], (size_t)(r.n - j) * sizeof(r.key[0]));
			r.key[j] = k;
			r.n++;
		} else if (r.n) {
			j = (int)(rnd(&seed) % (uint64_t)r.n);
			tree_erase(&t, r.key[j], E(r.key[j]));
			memmove(&r.key[j], &r.key[j + 1], (size_t)(r.n - j - 1) * sizeof(r.key[0]));
			r.n--;
		}
		if (step % 997 == 0) {
			check_against(&t, &r, &seed);
			/*
			 * A reader stopped part-way through a walk while the writer
			 * changes the tree: the nodes it holds are retired, not
			 * freed (ASan would see a use after free), and everything
			 * it goes on to return existed at some moment.
			 */
			if (cow && r.n > 10) {
				static bool ever[100002];
				struct tree_cursor rc;
				void *e;

				memset(ever, 0, sizeof(ever));
				for (int i = 0; i < r.n; i++)
					ever[r.key[i]] = true;
				e = tree_find_after(&t, r.key[r.n / 2] - 1, &rc);
				assert_ptr_equal(e, E(r.key[r.n / 2]));
				for (int w = 0; w < 300; w++) {
					uint64_t kk = 1 + rnd(&seed) % 100000;
					int jj = ref_find(&r, kk);

					assert_int_equal(tree_preallocate(&t, 1), 0);
					if (jj < r.n && r.key[jj] == kk) {
						tree_erase(&t, kk, E(kk));
						memmove(&r.key[jj], &r.key[jj + 1],
							(size_t)(r.n - jj - 1) * sizeof(r.key[0]));
						r.n--;
					} else if (r.n < MAXK) {
						tree_insert(&t, kk, E(kk));
						memmove(&r.key[jj + 1], &r.key[jj],
							(size_t)(r.n - jj) * sizeof(r.key[0]));
						r.key[jj] = kk;
						r.n++;
						ever[kk] = true;
					}
				}
				while ((e = tree_cursor_next(&rc)))
					assert_true(ever[(uintptr_t)e]);
				grace_period(&ret);
			}
		}
	}
	check_against(&t, &r, &seed);
	/* erase everything: the tree collapses to empty */
	while (r.n) {
		assert_int_equal(tree_preallocate(&t, 1), 0);
		tree_erase(&t, r.key[r.n - 1], E(r.key[r.n - 1]));
		r.n--;
	}
	check_against(&t, &r, &seed);
	tree_teardown(&t, sys, &ret);
}

static void in_place(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 5; seed++)
		random_ops(false, seed * 7919);
}

static void copy_on_write(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 5; seed++)
		random_ops(true, seed * 104729);
}

/* Sequential growth and shrink, the shapes mmap-heavy programs make. */
static void sequential(void **state)
{
	struct uvma_sys *sys = uvma_sys_create(NULL);
	static struct ref r;
	struct tree t;
	uint64_t seed = 42;

	(void)state;
	tree_init(&t, sys);
	r.n = 0;
	for (uint64_t k = 1; k <= 4000; k++) {
		assert_int_equal(tree_preallocate(&t, 1), 0);
		tree_insert(&t, k * 2, E(k * 2));
		r.key[r.n++] = k * 2;
	}
	check_against(&t, &r, &seed);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(tree_preallocate(&t, 1), 0);
		tree_erase(&t, r.key[0], E(r.key[0]));
		memmove(&r.key[0], &r.key[1], (size_t)(r.n - 1) * sizeof(r.key[0]));
		r.n--;
	}
	check_against(&t, &r, &seed);
	tree_destroy(&t);
	uvma_sys_destroy(sys);
}

/*
 * Keys that move between their neighbours (a VMA's end moving): entries keep
 * their identity while their keys move, so the reference holds both.  Erases
 * in between leave stale separators for the moves to pass; splits (a new
 * entry takes a key, the old one is filed just below it) fill the gaps.
 */
static void rekey_ops(bool cow, uint64_t seed)
{
	struct uvma_sys *sys = uvma_sys_create(NULL);
	static uint64_t key[MAXK], ent[MAXK];
	static struct retired ret;
	struct tree_cursor cur;
	struct tree t;
	char why[256];
	int n = 0;
	uint64_t next_ent = 100000;

	tree_setup(&t, sys, &ret, cow);
	for (uint64_t k = 1; k <= 3000; k++) {
		assert_int_equal(tree_preallocate(&t, 1), 0);
		tree_insert(&t, k * 32, E(k));
		key[n] = k * 32;
		ent[n++] = k;
	}
	for (int step = 0; step < 20000; step++) {
		uint64_t lo, hi, nk;
		int j;

		if (step % 499 == 0) {
			if (tree_check(&t, why, sizeof(why)))
				fail_msg("tree_check after %d steps: %s", step, why);
			assert_int_equal(t.count, n);
			for (int i = 0; i < n; i++) {
				/* the entry is found from any address of its range */
				uint64_t a = (i ? key[i - 1] : 0) + rnd(&seed) % (key[i] - (i ? key[i - 1] : 0));

				assert_ptr_equal(tree_find_after(&t, a, &cur), E(ent[i]));
				assert_ptr_equal(tree_lookup_after(&t, a), E(ent[i]));
			}
			assert_null(tree_lookup_after(&t, key[n - 1]));
			grace_period(&ret);
		}
		j = (int)(rnd(&seed) % (uint64_t)n);
		lo = j ? key[j - 1] : 0;
		hi = j + 1 < n ? key[j + 1] : key[j] + 64;
		nk = lo + 1 + rnd(&seed) % (hi - lo - 1);
		assert_int_equal(tree_preallocate(&t, 2), 0);
		if (rnd(&seed) % 8 == 0 && n > 100) {
			tree_erase(&t, key[j], E(ent[j]));
			memmove(&key[j], &key[j + 1], (size_t)(n - j - 1) * sizeof(key[0]));
			memmove(&ent[j], &ent[j + 1], (size_t)(n - j - 1) * sizeof(ent[0]));
			n--;
			continue;
		}
		if (rnd(&seed) % 8 == 1 && n < MAXK && nk < key[j]) {
			/* split: a new entry takes key[j], ent[j] moves down to nk */
			tree_replace_insert_before(&t, key[j], E(next_ent), nk, E(ent[j]));
			memmove(&key[j + 1], &key[j], (size_t)(n - j) * sizeof(key[0]));
			memmove(&ent[j + 1], &ent[j], (size_t)(n - j) * sizeof(ent[0]));
			key[j] = nk;
			ent[j + 1] = next_ent++;
			n++;
			continue;
		}
		tree_rekey(&t, key[j], nk, E(ent[j]));
		key[j] = nk;
	}
	while (n) {
		assert_int_equal(tree_preallocate(&t, 1), 0);
		n--;
		tree_erase(&t, key[n], E(ent[n]));
	}
	tree_teardown(&t, sys, &ret);
}

static void rekey(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		rekey_ops(false, seed * 6151);
		rekey_ops(true, seed * 3571);
	}
}

/*
 * The page tables' lock-free emptiness check (zap_range() skips the page
 * lock with it): true only where no PTE table covers any page of the
 * range, whatever levels the range spans.
 */
static void page_table_range_empty(void **state)
{
	struct uvma_sys *sys = uvma_sys_create(NULL);
	struct page_table pt = { 0 };
	const uint64_t pmd = 1ULL << 21, pud = 1ULL << 30, pgd = 1ULL << 39;
	const uint64_t a = 5 * pgd + 3 * pud + 7 * pmd + 0x5000;	/* one page */
	pte_t *pte;

	(void)state;
	assert_true(pt_range_empty(&pt, 0, 1ULL << 47));
	pte = pt_get(sys, &pt, a);
	assert_non_null(pte);
	/* the PTE table is there, the entry itself still empty: not empty */
	assert_false(pt_range_empty(&pt, a, a + 4096));
	assert_false(pt_range_empty(&pt, 0, 1ULL << 47));
	/* the whole 2 MiB the table covers, from either edge */
	assert_false(pt_range_empty(&pt, 5 * pgd + 3 * pud + 7 * pmd, 5 * pgd + 3 * pud + 7 * pmd + 4096));
	assert_false(pt_range_empty(&pt, 5 * pgd + 3 * pud + 8 * pmd - 4096, 5 * pgd + 3 * pud + 8 * pmd));
	/* next to it, under the same upper tables: empty */
	assert_true(pt_range_empty(&pt, 5 * pgd + 3 * pud + 8 * pmd, 5 * pgd + 3 * pud + 9 * pmd));
	assert_true(pt_range_empty(&pt, 5 * pgd + 3 * pud, 5 * pgd + 3 * pud + 7 * pmd));
	assert_true(pt_range_empty(&pt, 5 * pgd, 5 * pgd + 3 * pud));
	assert_true(pt_range_empty(&pt, 0, 5 * pgd));
	assert_true(pt_range_empty(&pt, 6 * pgd, 1ULL << 47));
	/* a range that ends where the table starts, and an empty range */
	assert_true(pt_range_empty(&pt, 0, 5 * pgd + 3 * pud + 7 * pmd));
	assert_true(pt_range_empty(&pt, a, a));
	/* spanning upper levels into the table */
	assert_false(pt_range_empty(&pt, 4 * pgd + 0x1000, 5 * pgd + 3 * pud + 7 * pmd + 1));
	pt_destroy(sys, &pt);
	assert_true(pt_range_empty(&pt, 0, 1ULL << 47));
	uvma_sys_destroy(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_place),
		cmocka_unit_test(page_table_range_empty),
		cmocka_unit_test(copy_on_write),
		cmocka_unit_test(sequential),
		cmocka_unit_test(rekey),
	};

	return cmocka_run_group_tests_name("tree", tests, NULL, NULL);
}
