/* SPDX-License-Identifier: MIT */
/*
 * Locking of the multi-threaded build (libuvma-mt, -DUVMA_MT); in the
 * single-threaded build every helper here compiles to nothing.
 *
 * The locks, outermost first (docs/concurrency.md):
 *
 *   sys->big        every call but a fault or a lookup: calls that change
 *                   address spaces (or read them whole) run one at a time
 *                   per machine
 *   mm->mmap_lock   reader/writer: writers are those calls; readers are the
 *                   faults and lookups that could not use a VMA lock
 *   VMA lock        vm_refcnt and vm_lock_seq (vma_lock.c): a fault holds
 *                   its VMA for reading without the mmap_lock; a writer
 *                   write-locks each attached VMA before it changes it
 *   sys->page_lock  everything below the VMAs: page tables, folios, LRU
 *                   batches, swap, KSM, anon_vmas and their chains, and the
 *                   range, flags and anon_vma of a VMA that an rmap walk
 *                   may reach.  Recursive (page-level helpers nest).
 *   sys->alloc_lock the allocator and its caches
 *
 * A writer never waits for a VMA reader while it holds the page lock: the
 * reader may be waiting for that lock.  vma_start_write() checks it.
 */
#ifndef UVMA_LOCK_H
#define UVMA_LOCK_H

#include <stdbool.h>
#include <stdint.h>

struct uvma_sys;
struct uvma_mm;
struct uvma_vma;

/*
 * Keep what one CPU writes off the cache line another CPU writes: 64 bytes
 * of padding (not an alignment, which malloc's 16 bytes would not honour:
 * the machine and its address spaces come from the caller's allocator).
 */
#ifdef UVMA_MT
#define MT_PAD(name) char name[64];
#else
#define MT_PAD(name)
#endif

#ifdef UVMA_MT
#include <pthread.h>

/* A recursive mutex that knows its owner (for the deadlock check). */
struct rlock {
	pthread_mutex_t mutex;
	/* a spinning lock (rlock_init_spin) takes this word instead of the mutex */
	uint32_t word;
	bool spin;
	/*
	 * Who holds it, on a line of its own: waiters spin on the mutex word,
	 * the owner bumps depth at every nested page-level call.
	 */
	MT_PAD(pad)
	pthread_t owner;
	unsigned long owned;	/* atomic: non-zero while someone holds it */
	unsigned int depth;
};

void rlock_init(struct rlock *l);
void rlock_init_spin(struct rlock *l);
void rlock_destroy(struct rlock *l);
void rlock_lock(struct rlock *l);
void rlock_unlock(struct rlock *l);
bool rlock_held(struct rlock *l);

void page_lock(struct uvma_sys *sys);
void page_unlock(struct uvma_sys *sys);
bool page_lock_held(struct uvma_sys *sys);

/*
 * The guard of a call: taken at its start, dropped by the compiler at every
 * return (cleanup attribute, as the kernel's guard()).
 */
struct call_guard {
	struct uvma_mm *mm;
	struct uvma_sys *sys;
	unsigned int how;
};

/*
 * GUARD_WRITE: a call that changes an address space (machine lock, its
 * mmap_lock for writing).  GUARD_SYS: a machine-wide call or a whole-space
 * reader (machine lock and page lock; not the rwlock, whose recursive read
 * lock would deadlock behind a waiting writer when a reader's callback
 * calls another reader).
 */
enum { GUARD_WRITE = 1, GUARD_SYS = 2 };

struct call_guard call_guard_begin(struct uvma_sys *sys, struct uvma_mm *mm, unsigned int how);
void call_guard_end(struct call_guard *g);

#define MM_WRITE_GUARD(mm)                                                                 \
	struct call_guard __guard __attribute__((cleanup(call_guard_end))) =                \
		call_guard_begin((mm)->sys, (struct uvma_mm *)(mm), GUARD_WRITE)
#define MM_READ_GUARD(mm)                                                                  \
	struct call_guard __guard __attribute__((cleanup(call_guard_end))) =                \
		call_guard_begin((mm)->sys, NULL, GUARD_SYS)
/* Machine-wide calls (KSM, reclaim of other address spaces, migration). */
#define SYS_GUARD(sys)                                                                     \
	struct call_guard __guard __attribute__((cleanup(call_guard_end))) =                \
		call_guard_begin((struct uvma_sys *)(sys), NULL, GUARD_SYS)

/* Page-level scope: the page lock until the end of the enclosing block. */
struct page_scope {
	struct uvma_sys *sys;
};
static inline struct page_scope page_scope_begin(struct uvma_sys *sys)
{
	page_lock(sys);
	return (struct page_scope){ sys };
}
static inline void page_scope_end(struct page_scope *s)
{
	page_unlock(s->sys);
}
#define PAGE_LOCK_SCOPE(sys)                                                               \
	struct page_scope __pscope __attribute__((cleanup(page_scope_end))) =               \
		page_scope_begin(sys)

/* Page-level internals: their callers hold the page lock (checked in debug builds). */
#ifdef UVMA_DEBUG
#define PAGE_LOCK_ASSERT(sys) UVMA_BUG_ON(!page_lock_held(sys))
#else
#define PAGE_LOCK_ASSERT(sys) ((void)(sys))
#endif

/* The VMA lock (vma_lock.c). */
void vma_start_write(struct uvma_vma *vma);
void vma_mark_attached(struct uvma_vma *vma);
void vma_mark_detached(struct uvma_vma *vma);
void vma_lock_init(struct uvma_vma *vma);
int vma_start_read(struct uvma_mm *mm, struct uvma_vma *vma);
void vma_end_read(struct uvma_vma *vma);
void vma_begin_write_all(struct uvma_mm *mm);
void vma_end_write_all(struct uvma_mm *mm);
struct uvma_vma *lock_vma_under_rcu(struct uvma_mm *mm, uint64_t addr);
int lock_vma_found(struct uvma_mm *mm, struct uvma_vma *vma, uint64_t addr);
uint32_t vma_refcnt_read(const struct uvma_vma *vma);
void vma_refcnt_add(struct uvma_vma *vma, int32_t delta);

static inline void mt_count(unsigned long *counter)
{
#ifdef UVMA_DEBUG
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
#else
	(void)counter;
#endif
}

/* RCU (liburcu's bulletproof flavour: library threads need no registration). */
void rcu_read_lock_mt(struct uvma_sys *sys);
void rcu_read_unlock_mt(struct uvma_sys *sys);

/* The type-safe VMA cache (mt.c). */
struct uvma_vma *vma_cache_alloc(struct uvma_sys *sys);
void vma_cache_free(struct uvma_sys *sys, struct uvma_vma *vma);
void mt_sys_init(struct uvma_sys *sys);
void mt_sys_quiesce(struct uvma_sys *sys);
void tree_retire_flush(struct uvma_sys *sys);
void mt_sys_destroy(struct uvma_sys *sys);
void mt_mm_init(struct uvma_mm *mm);
void mt_mm_destroy(struct uvma_mm *mm);

#else /* !UVMA_MT */

#define MM_WRITE_GUARD(mm) ((void)(mm))
#define MM_READ_GUARD(mm) ((void)(mm))
#define SYS_GUARD(sys) ((void)(sys))
static inline void vma_begin_write_all(struct uvma_mm *mm) { (void)mm; }
static inline void vma_end_write_all(struct uvma_mm *mm) { (void)mm; }
#define PAGE_LOCK_SCOPE(sys) ((void)(sys))
#define PAGE_LOCK_ASSERT(sys) ((void)(sys))
static inline void page_lock(struct uvma_sys *sys) { (void)sys; }
static inline void page_unlock(struct uvma_sys *sys) { (void)sys; }
static inline void vma_start_write(struct uvma_vma *vma) { (void)vma; }
static inline void vma_mark_attached(struct uvma_vma *vma) { (void)vma; }
static inline void vma_mark_detached(struct uvma_vma *vma) { (void)vma; }
static inline void vma_lock_init(struct uvma_vma *vma) { (void)vma; }

#endif /* UVMA_MT */

#endif
