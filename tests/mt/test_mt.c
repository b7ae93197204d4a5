// SPDX-License-Identifier: MIT
/*
 * The multi-threaded build: per-VMA locks, lock-free lookups, the type-safe
 * VMA cache.  One test per race the kernel's commits of 6.15 describe, the
 * protocol's waits, and stress runs of faulting threads against a thread
 * that maps, unmaps, moves and protects.  Run under ASan/UBSan with the
 * checker (build/dbg-mt) and under ThreadSanitizer (build/tsan).
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h"

#define VMA_LOCK_OFFSET 0x40000000u

static struct uvma_vma *locked_vma_at(struct env *e, unsigned page)
{
	struct uvma_vma *v = vma_lookup(e->mm, P(page));

	assert_non_null(v);
	return v;
}

/*
 * A reader found a VMA in the tree; before it took its reference the VMA was
 * unmapped, freed and handed out again, first to another address space,
 * then to this one at another address.  Both times the re-checks refuse it.
 */
static void test_freed_and_reused_before_reference(void **state)
{
	struct env e;
	struct uvma_mm *other;
	struct uvma_vma *stale;

	(void)state;
	env_setup(&e);
	other = uvma_mm_create(e.sys);
	assert_non_null(other);
	map_written(&e, 0, 4);
	stale = locked_vma_at(&e, 0);
	/* the "reader" holds @stale from here on, without a reference */
	assert_int_equal(uvma_munmap(e.mm, P(0), PG(4)), 0);
	assert_int_equal(vma_refcnt_read(stale), 0);
	assert_int_equal(lock_vma_found(e.mm, stale, P(0)), -EAGAIN);

	/* reused by another address space: the cache hands out the last freed */
	assert_int_equal(uvma_mmap(other, P(0), PG(4), RW, ANON, NULL, 0), (long)P(0));
	assert_ptr_equal(vma_lookup(other, P(0)), stale);
	assert_int_equal(lock_vma_found(e.mm, stale, P(0)), -EBUSY);
	assert_int_equal(uvma_munmap(other, P(0), PG(4)), 0);

	/* reused by this one, at another address: held, then refused by range */
	map(&e, 100, 4, RW);
	assert_ptr_equal(locked_vma_at(&e, 100), stale);
	assert_int_equal(lock_vma_found(e.mm, stale, P(0)), -ENOENT);
	assert_int_equal(vma_refcnt_read(stale), 1);
	/* and the lookup the kernel way, under RCU, finds nothing to lock */
	assert_null(lock_vma_under_rcu(e.mm, P(0)));
	/* at its own address it locks */
	assert_int_equal(lock_vma_found(e.mm, stale, P(101)), 0);
	assert_int_equal(vma_refcnt_read(stale), 2);
	vma_end_read(stale);
	uvma_mm_exit(other);
	env_teardown(&e);
}

/*
 * vm_area_dup() must not copy the reference count: a VMA duplicated while a
 * reader held it would start life attached with a phantom reader, and a
 * writer would wait for it forever.
 */
static void test_dup_does_not_copy_count(void **state)
{
	struct env e;
	struct uvma_vma *v, *copy;

	(void)state;
	env_setup(&e);
	map_written(&e, 0, 8);
	v = lock_vma_under_rcu(e.mm, P(2));
	assert_non_null(v);
	assert_int_equal(vma_refcnt_read(v), 2);
	copy = vma_dup(v);
	assert_non_null(copy);
	assert_int_equal(vma_refcnt_read(copy), 0);
	vma_release(copy);
	vma_end_read(v);

	/* the same through the calls: a split and a fork make attached VMAs of count 1 */
	assert_int_equal(uvma_mprotect(e.mm, P(4), PG(4), RO), 0);
	assert_int_equal(vma_refcnt_read(locked_vma_at(&e, 0)), 1);
	assert_int_equal(vma_refcnt_read(locked_vma_at(&e, 4)), 1);
	{
		int err;
		struct uvma_mm *child = uvma_fork(e.mm, &err);

		assert_non_null(child);
		assert_int_equal(vma_refcnt_read(vma_lookup(child, P(0))), 1);
		assert_int_equal(vma_refcnt_read(vma_lookup(child, P(4))), 1);
		uvma_mm_exit(child);
	}
	env_teardown(&e);
}

/* Exit detaches every VMA before it frees it: a stale reader sees 0. */
static void test_exit_detaches(void **state)
{
	struct env e;
	struct uvma_mm *child, *witness;
	struct uvma_vma *held[3];
	int err;

	(void)state;
	env_setup(&e);
	witness = uvma_mm_create(e.sys);
	assert_non_null(witness);
	map_written(&e, 0, 4);
	map(&e, 10, 4, RW);
	map(&e, 20, 4, RO);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	held[0] = vma_lookup(child, P(0));
	held[1] = vma_lookup(child, P(10));
	held[2] = vma_lookup(child, P(20));
	for (int i = 0; i < 3; i++)
		assert_int_equal(vma_refcnt_read(held[i]), 1);
	uvma_mm_exit(child);
	/* the memory is still a VMA (type-safe cache): the count says detached */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(vma_refcnt_read(held[i]), 0);
		assert_int_equal(vma_start_read(witness, held[i]), -EAGAIN);
	}
	uvma_mm_exit(witness);
	env_teardown(&e);
}

/* A saturated count makes the reader fall back to the mmap_lock, and the fault still happens. */
static void test_refcount_overflow_falls_back(void **state)
{
	struct env e;
	struct uvma_vma *v;
	unsigned long locked, fallback;
	uint32_t room;

	(void)state;
	env_setup(&e);
	map_written(&e, 0, 4);
	v = locked_vma_at(&e, 0);
	room = VMA_LOCK_OFFSET - 1 - vma_refcnt_read(v);
	vma_refcnt_add(v, (int32_t)room);	/* at VMA_REF_LIMIT */
	locked = e.mm->faults_vma_lock;
	fallback = e.mm->faults_mmap_lock;
	assert_null(lock_vma_under_rcu(e.mm, P(1)));
	assert_int_equal(uvma_fault(e.mm, P(1), true), 0);
	assert_int_equal(e.mm->faults_vma_lock, locked);
	assert_int_equal(e.mm->faults_mmap_lock, fallback + 1);
	vma_refcnt_add(v, -(int32_t)room);
	assert_int_equal(uvma_fault(e.mm, P(1), true), 0);
	assert_int_equal(e.mm->faults_vma_lock, locked + 1);
	env_teardown(&e);
}

/* A VMA without an anon_vma faults through the mmap_lock (anon_vma_prepare needs it). */
static void test_first_fault_takes_mmap_lock(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	map(&e, 0, 4, RW);
	assert_int_equal(uvma_fault(e.mm, P(0), true), 0);
	assert_int_equal(e.mm->faults_mmap_lock, 1);
	assert_int_equal(e.mm->faults_vma_lock, 0);
	assert_int_equal(uvma_fault(e.mm, P(1), true), 0);
	assert_int_equal(e.mm->faults_vma_lock, 1);
	env_teardown(&e);
}

/* ---- a writer waits for its readers; a reader backs off a write-locked VMA ---- */

struct holder {
	struct env *e;
	struct uvma_vma *vma;
	volatile int stage;	/* atomic */
	unsigned int hold_us;
};

static void *hold_read(void *arg)
{
	struct holder *h = arg;

	h->vma = lock_vma_under_rcu(h->e->mm, P(1));
	__atomic_store_n(&h->stage, 1, __ATOMIC_RELEASE);
	usleep(h->hold_us);
	__atomic_store_n(&h->stage, 2, __ATOMIC_RELEASE);
	vma_end_read(h->vma);
	return NULL;
}

static void test_writer_waits_for_reader(void **state)
{
	struct env e;
	struct holder h = { &e, NULL, 0, 100000 };
	pthread_t t;

	(void)state;
	env_setup(&e);
	map_written(&e, 0, 4);
	assert_int_equal(pthread_create(&t, NULL, hold_read, &h), 0);
	while (!__atomic_load_n(&h.stage, __ATOMIC_ACQUIRE))
		usleep(100);
	assert_non_null(h.vma);
	/* mprotect changes the reader's VMA: it cannot finish before the reader is gone */
	assert_int_equal(uvma_mprotect(e.mm, P(0), PG(4), RO), 0);
	assert_int_equal(__atomic_load_n(&h.stage, __ATOMIC_ACQUIRE), 2);
	pthread_join(t, NULL);
	assert_int_equal(vma_refcnt_read(locked_vma_at(&e, 0)), 1);
	env_teardown(&e);
}

static void *try_read(void *arg)
{
	struct holder *h = arg;

	h->vma = lock_vma_under_rcu(h->e->mm, P(1));
	if (h->vma)
		vma_end_read(h->vma);
	return NULL;
}

static void test_reader_backs_off_write_locked(void **state)
{
	struct env e;
	struct holder h = { &e, NULL, 0, 0 };
	struct uvma_vma *v;
	pthread_t t;

	(void)state;
	env_setup(&e);
	map_written(&e, 0, 4);
	v = locked_vma_at(&e, 0);
	{
		/* a write section as a call opens it; the VMA locked inside it */
		MM_WRITE_GUARD(e.mm);
		vma_start_write(v);
		assert_int_equal(pthread_create(&t, NULL, try_read, &h), 0);
		pthread_join(t, NULL);
		assert_null(h.vma);
		assert_int_equal(vma_refcnt_read(v), 1);
	}
	/* the section is over: every VMA it locked is unlocked at once */
	assert_int_equal(pthread_create(&t, NULL, try_read, &h), 0);
	pthread_join(t, NULL);
	assert_ptr_equal(h.vma, v);
	env_teardown(&e);
}

/* ---- stress -------------------------------------------------------------------- */

/*
 * Fault threads write and read random pages of [0, 256) pages while the
 * mapper keeps changing it: protecting halves, moving pieces away and back,
 * unmapping and remapping holes; and maps and unmaps [1024, 2048).  A fault
 * returns 0 or -EFAULT (the page was unmapped or read-only at that moment);
 * the library's debug checks assert after each VMA-locked fault that its
 * VMA stayed attached, ours and over the address.  At the end and at every
 * pause (all threads stopped) the invariant checker runs.
 */
#define STRESS_PAGES 256
#define MAPPER_BASE 1024

struct stress {
	struct env *e;
	volatile int stop;
	volatile int paused;		/* threads parked */
	volatile int pause_req;
	unsigned long faults, errors, bad;
	unsigned int nthreads;
	bool mapper_touches_faulted;	/* the mapper also changes [0, 256) */
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void park(struct stress *st)
{
	if (!__atomic_load_n(&st->pause_req, __ATOMIC_ACQUIRE))
		return;
	__atomic_fetch_add(&st->paused, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&st->pause_req, __ATOMIC_ACQUIRE))
		usleep(50);
	__atomic_fetch_sub(&st->paused, 1, __ATOMIC_ACQ_REL);
}

static void *faulter(void *arg)
{
	struct stress *st = arg;
	uint64_t seed = (uint64_t)(uintptr_t)&seed | 1;

	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		uint64_t r = rnd(&seed);
		int err = uvma_fault(st->e->mm, P(r % STRESS_PAGES), (r >> 20) & 1);

		__atomic_fetch_add(&st->faults, 1, __ATOMIC_RELAXED);
		if (err == -EFAULT)
			__atomic_fetch_add(&st->errors, 1, __ATOMIC_RELAXED);
		else if (err)
			__atomic_fetch_add(&st->bad, 1, __ATOMIC_RELAXED);
		if ((r & 255) == 0) {
			struct uvma_vma_info vi;

			/* a lock-free lookup: it must describe a VMA that covers or follows */
			if (!uvma_find_vma(st->e->mm, P(r % STRESS_PAGES), &vi) &&
			    vi.end <= P(r % STRESS_PAGES))
				__atomic_fetch_add(&st->bad, 1, __ATOMIC_RELAXED);
		}
		park(st);
	}
	return NULL;
}

static void mapper_step(struct stress *st, uint64_t *seed)
{
	struct uvma_mm *mm = st->e->mm;
	uint64_t r = rnd(seed);
	unsigned a = (unsigned)(r % (STRESS_PAGES - 16)), n = 1 + (unsigned)((r >> 8) % 16);

	switch (st->mapper_touches_faulted ? (r >> 16) % 6 : 5) {
	case 0:
		uvma_mprotect(mm, P(a), PG(n), ((r >> 24) & 1) ? RO : RW);
		break;
	case 1:
		/* move a piece out and back: split, relocate, merge attempts */
		if (uvma_mremap(mm, P(a), PG(n), PG(n), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED,
				P(512 + a)) == (long)P(512 + a))
			uvma_mremap(mm, P(512 + a), PG(n), PG(n),
				    UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(a));
		break;
	case 2:
		uvma_munmap(mm, P(a), PG(n));
		break;
	case 3:
		uvma_mmap(mm, P(a), PG(n), RW, ANON_FIXED, NULL, 0);
		break;
	case 4:
		uvma_madvise(mm, P(a), PG(n), UVMA_MADV_DONTNEED);
		break;
	default: {
		long p = uvma_mmap(mm, P(MAPPER_BASE + a), PG(n), RW, ANON, NULL, 0);

		if (p > 0) {
			uvma_touch(mm, (uint64_t)p, PG(1), true);
			uvma_munmap(mm, (uint64_t)p, PG(n));
		}
	}
	}
}

static void run_stress(unsigned int nthreads, bool touch_faulted, unsigned int steps)
{
	struct env e;
	struct stress st = { 0 };
	pthread_t t[4];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	const char *why;

	env_setup(&e);
	st.e = &e;
	st.nthreads = nthreads;
	st.mapper_touches_faulted = touch_faulted;
	map_written(&e, 0, STRESS_PAGES);
	for (unsigned int i = 0; i < nthreads; i++)
		assert_int_equal(pthread_create(&t[i], NULL, faulter, &st), 0);
	for (unsigned int i = 0; i < steps; i++) {
		mapper_step(&st, &seed);
		if (i % 500 == 499) {
			/* a quiescent point: everyone parked, the whole model checked */
			__atomic_store_n(&st.pause_req, 1, __ATOMIC_RELEASE);
			while (__atomic_load_n(&st.paused, __ATOMIC_ACQUIRE) < (int)nthreads)
				usleep(50);
			if (uvma_validate(e.mm, NULL, 0))
				fail_msg("invariant broken at step %u", i);
			__atomic_store_n(&st.pause_req, 0, __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	if (uvma_sys_violations(e.sys, &why))
		fail_msg("invariant violated: %s", why);
	assert_int_equal(uvma_validate(e.mm, NULL, 0), 0);
	assert_int_equal(st.bad, 0);
	assert_true(st.faults > 0);
	print_message("%u faulting threads, %u mapper steps: %lu faults (%lu -EFAULT), "
		      "%lu VMA-locked, %lu through the mmap_lock, %lu lookups missed\n",
		      nthreads, steps, st.faults, st.errors, e.mm->faults_vma_lock,
		      e.mm->faults_mmap_lock, e.mm->vma_lock_misses);
	/* most faults must have used the VMA lock, or the test did not test it */
	assert_true(e.mm->faults_vma_lock > 0);
	env_teardown(&e);
}

static unsigned int stress_steps(void)
{
	const char *s = getenv("UVMA_STRESS_STEPS");

	return s ? (unsigned int)strtoul(s, NULL, 0) : 6000;
}

static void test_stress_faults_vs_mapper(void **state)
{
	(void)state;
	run_stress(2, true, stress_steps());
}

static void test_stress_faults_vs_unrelated_mapper(void **state)
{
	(void)state;
	run_stress(1, false, stress_steps());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_freed_and_reused_before_reference),
		cmocka_unit_test(test_dup_does_not_copy_count),
		cmocka_unit_test(test_exit_detaches),
		cmocka_unit_test(test_refcount_overflow_falls_back),
		cmocka_unit_test(test_first_fault_takes_mmap_lock),
		cmocka_unit_test(test_writer_waits_for_reader),
		cmocka_unit_test(test_reader_backs_off_write_locked),
		cmocka_unit_test(test_stress_faults_vs_mapper),
		cmocka_unit_test(test_stress_faults_vs_unrelated_mapper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
