// SPDX-License-Identifier: MIT
/*
 * The multi-threaded build's machinery (lock.h): the page lock, the guards
 * of the calls, RCU for the tree's retired nodes and the type-safe VMA
 * cache.  Empty in the single-threaded build.
 */
#ifdef UVMA_MT
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * liburcu synchronises through inline assembly that ThreadSanitizer does not
 * see.  Tell it what a grace period guarantees: everything a reader did
 * before leaving its read section, and everything the writer did before it
 * retired a node, happens before the callback that frees the node (a
 * release per read section and per retirement, an acquire per callback, on
 * one address that is never written).
 */
#if defined(__SANITIZE_THREAD__)
#define UVMA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UVMA_TSAN 1
#endif
#endif
#ifdef UVMA_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static const char rcu_tsan_sync, rcu_tsan_barrier;
#define rcu_annotate_release() __tsan_release((void *)&rcu_tsan_sync)
#define rcu_annotate_grace_over() __tsan_acquire((void *)&rcu_tsan_sync)
/* and the other way: a callback's work happens before urcu_bp_barrier() returns */
#define rcu_annotate_callback_done() __tsan_release((void *)&rcu_tsan_barrier)
#define rcu_annotate_barrier_over() __tsan_acquire((void *)&rcu_tsan_barrier)
#else
#define rcu_annotate_release() ((void)0)
#define rcu_annotate_grace_over() ((void)0)
#define rcu_annotate_callback_done() ((void)0)
#define rcu_annotate_barrier_over() ((void)0)
#endif

/* ---- a recursive lock that knows its owner --------------------------------------- */

/*
 * The critical sections are short (a fault is tens of nanoseconds): spin a
 * little before sleeping in the kernel, as the kernel's own mutexes do.
 */
static void adaptive_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

void rlock_init(struct rlock *l)
{
	adaptive_mutex_init(&l->mutex);
	l->owned = 0;
	l->depth = 0;
}

/*
 * The page lock is taken for every fault and held for tens of nanoseconds:
 * a waiter that goes to sleep in the kernel (a futex wait, then a wake-up
 * from the holder) costs microseconds, far more than the wait it avoids.
 * Spin, then yield the CPU: a holder preempted on a busy machine runs again.
 */
void rlock_init_spin(struct rlock *l)
{
	rlock_init(l);
	l->word = 0;
	l->spin = true;
}

static void spin_acquire(uint32_t *word)
{
	for (unsigned int n = 0;; n++) {
		if (!__atomic_load_n(word, __ATOMIC_RELAXED) &&
		    !__atomic_exchange_n(word, 1, __ATOMIC_ACQUIRE))
			return;
		if (n < 128) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		} else {
			sched_yield();
		}
	}
}

void rlock_destroy(struct rlock *l)
{
	pthread_mutex_destroy(&l->mutex);
}

bool rlock_held(struct rlock *l)
{
	/* only the owner can see its own id here while the lock is held */
	return __atomic_load_n(&l->owned, __ATOMIC_RELAXED) &&
	       pthread_equal(__atomic_load_n(&l->owner, __ATOMIC_RELAXED), pthread_self());
}

void rlock_lock(struct rlock *l)
{
	if (rlock_held(l)) {
		l->depth++;
		return;
	}
	if (l->spin)
		spin_acquire(&l->word);
	else
		pthread_mutex_lock(&l->mutex);
	__atomic_store_n(&l->owner, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&l->owned, 1, __ATOMIC_RELAXED);
	l->depth = 1;
}

void rlock_unlock(struct rlock *l)
{
	UVMA_BUG_ON(!rlock_held(l));
	if (--l->depth)
		return;
	__atomic_store_n(&l->owned, 0, __ATOMIC_RELAXED);
	if (l->spin)
		__atomic_store_n(&l->word, 0, __ATOMIC_RELEASE);
	else
		pthread_mutex_unlock(&l->mutex);
}

void page_lock(struct uvma_sys *sys)
{
	rlock_lock(&sys->page_lock);
}

void page_unlock(struct uvma_sys *sys)
{
	rlock_unlock(&sys->page_lock);
}

bool page_lock_held(struct uvma_sys *sys)
{
	return rlock_held(&sys->page_lock);
}

/* ---- the guards of the calls ------------------------------------------------------- */

static void retire_submit(struct uvma_sys *sys, bool all);

struct call_guard call_guard_begin(struct uvma_sys *sys, struct uvma_mm *mm, unsigned int how)
{
	struct call_guard g = { mm, sys, how };

	/* a call made by another call (uvma_mlock by uvma_mlock2...) holds all it needs */
	if (rlock_held(&sys->big)) {
		g.how = 0;
		return g;
	}
	rlock_lock(&sys->big);
	if (how & GUARD_SYS) {
		/* no writer runs (big), no fault changes a page (the page lock) */
		page_lock(sys);
		return g;
	}
	pthread_rwlock_wrlock(&mm->mmap_lock);
	vma_begin_write_all(mm);
	return g;
}

void call_guard_end(struct call_guard *g)
{
	if (!g->how)
		return;
	if (g->how & GUARD_SYS) {
		page_unlock(g->sys);
	} else if (g->mm) {
		vma_end_write_all(g->mm);
		pthread_rwlock_unlock(&g->mm->mmap_lock);
	}
	retire_submit(g->sys, false);
	rlock_unlock(&g->sys->big);
}

/* ---- RCU --------------------------------------------------------------------------- */

void rcu_read_lock_mt(struct uvma_sys *sys)
{
	(void)sys;
	urcu_bp_read_lock();
}

void rcu_read_unlock_mt(struct uvma_sys *sys)
{
	(void)sys;
	rcu_annotate_release();
	urcu_bp_read_unlock();
}

/* The grace period of a call's batch is over: free its nodes. */
static void tree_batch_free_rcu(struct rcu_head *head)
{
	struct tree_node *n = caa_container_of(head, struct tree_node, rcu);

	rcu_annotate_grace_over();
	while (n) {
		struct tree_node *next = n->retired_next;

		uvma_free(n->sys, n, sizeof(*n));
		n = next;
	}
	rcu_annotate_callback_done();
}

/*
 * The tree's retire hook: the node joins the pending batch.  Writers are
 * serialised by sys->big, so the batch needs no lock of its own.
 */
static void tree_node_retire(void *ctx, struct tree_node *n)
{
	struct uvma_sys *sys = ctx;

	n->sys = sys;
	n->retired_next = sys->retired;
	sys->retired = n;
	sys->nretired++;
}

/*
 * At the end of a call: one grace period for a batch of retired nodes.
 * Batches of RETIRE_BATCH (or everything, with @all): a call_rcu per call
 * would wake liburcu's callback thread hundreds of thousands of times a
 * second, and that thread would take its CPU from the faulting threads.
 */
#define RETIRE_BATCH 128

static void retire_submit(struct uvma_sys *sys, bool all)
{
	struct tree_node *batch = sys->retired;

	if (!batch || (!all && sys->nretired < RETIRE_BATCH))
		return;
	sys->retired = NULL;
	sys->nretired = 0;
	rcu_annotate_release();
	urcu_bp_call_rcu(&batch->rcu, tree_batch_free_rcu);
}

/* ---- the VMA cache ------------------------------------------------------------------ */

/*
 * SLAB_TYPESAFE_BY_RCU: a freed VMA may be handed out again at once, to any
 * address space, while a reader that found it in an old tree node still
 * holds the pointer; the memory itself stays a VMA until the machine goes.
 * The reader's re-checks after taking its reference make that safe.
 * Slabs are 64-byte aligned so that vm_refcnt has its cache line.
 */
#define VMA_SLAB_OBJS 32
#define VMA_SLAB_BYTES (64 + VMA_SLAB_OBJS * sizeof(struct uvma_vma))

static int vma_cache_grow(struct uvma_sys *sys)
{
	char *slab = uvma_alloc(sys, VMA_SLAB_BYTES);
	uintptr_t first;

	if (!slab)
		return -ENOMEM;
	*(void **)slab = sys->vma_slabs;
	sys->vma_slabs = slab;
	first = ((uintptr_t)slab + sizeof(void *) + 63) & ~(uintptr_t)63;
	for (unsigned int i = 0; i < VMA_SLAB_OBJS; i++) {
		struct uvma_vma *v = (struct uvma_vma *)(first + i * sizeof(*v));

		if ((char *)(v + 1) > slab + VMA_SLAB_BYTES)
			break;
		memset(v, 0, sizeof(*v));
		vma_lock_init(v);
		*(struct uvma_vma **)v = sys->vma_free_list;
		sys->vma_free_list = v;
	}
	return 0;
}

struct uvma_vma *vma_cache_alloc(struct uvma_sys *sys)
{
	struct uvma_vma *v;

	/* it counts as an allocation for failure injection */
	if (alloc_should_fail(sys))
		return NULL;
	if (!sys->vma_free_list && vma_cache_grow(sys))
		return NULL;
	v = sys->vma_free_list;
	sys->vma_free_list = *(struct uvma_vma **)v;
	/* not vm_refcnt nor vm_lock_seq: a stale reader may be looking */
	memset(v, 0, VMA_COPY_END);
	/* VMAs come and go under sys->big: the counters need no lock */
	__atomic_store_n(&sys->vma_nallocs, sys->vma_nallocs + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&sys->vma_live, sys->vma_live + sizeof(*v), __ATOMIC_RELAXED);
	return v;
}

void vma_cache_free(struct uvma_sys *sys, struct uvma_vma *vma)
{
	vma_mark_detached(vma);
	*(struct uvma_vma **)vma = sys->vma_free_list;
	sys->vma_free_list = vma;
	__atomic_store_n(&sys->vma_live, sys->vma_live - sizeof(*vma), __ATOMIC_RELAXED);
}

/* ---- set-up and tear-down -------------------------------------------------------------- */

void tree_retire_flush(struct uvma_sys *sys)
{
	retire_submit(sys, false);
}

void mt_sys_init(struct uvma_sys *sys)
{
	rlock_init(&sys->big);
	adaptive_mutex_init(&sys->alloc_lock);
	for (unsigned int i = 0; i < sizeof(sys->cache) / sizeof(sys->cache[0]); i++)
		adaptive_mutex_init(&sys->cache[i].lock);
	rlock_init_spin(&sys->page_lock);
}

/* No RCU callback of this machine is left; the VMA slabs are freed. */
void mt_sys_quiesce(struct uvma_sys *sys)
{
	retire_submit(sys, true);
	urcu_bp_barrier();
	rcu_annotate_barrier_over();
	while (sys->vma_slabs) {
		void *slab = sys->vma_slabs;

		sys->vma_slabs = *(void **)slab;
		uvma_free(sys, slab, VMA_SLAB_BYTES);
	}
}

void mt_sys_destroy(struct uvma_sys *sys)
{
	rlock_destroy(&sys->page_lock);
	for (unsigned int i = 0; i < sizeof(sys->cache) / sizeof(sys->cache[0]); i++)
		pthread_mutex_destroy(&sys->cache[i].lock);
	pthread_mutex_destroy(&sys->alloc_lock);
	rlock_destroy(&sys->big);
}

void mt_mm_init(struct uvma_mm *mm)
{
	pthread_rwlockattr_t a;

	/*
	 * Like the kernel's rwsem, a waiting writer stops new readers: with
	 * glibc's default a stream of faults would starve mmap() for good.
	 * (Nothing takes the mmap_lock for reading twice.)
	 */
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&mm->mmap_lock, &a);
	pthread_rwlockattr_destroy(&a);
	mm->tree.cow = true;
	mm->tree.retire = tree_node_retire;
	mm->tree.retire_ctx = mm->sys;
}

void mt_mm_destroy(struct uvma_mm *mm)
{
	pthread_rwlock_destroy(&mm->mmap_lock);
}
#endif
