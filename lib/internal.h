/* SPDX-License-Identifier: MIT */
/*
 * libuvma internals: the objects of the model and the helpers shared by the
 * call implementations.  Never included by tools/.
 */
#ifndef UVMA_INTERNAL_H
#define UVMA_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uvma.h"
#include "tree.h"
#include "lock.h"

#define PAGE_SHIFT UVMA_PAGE_SHIFT
#define PAGE_SIZE UVMA_PAGE_SIZE
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define PMD_SIZE UVMA_PMD_SIZE
#define TASK_SIZE UVMA_TASK_SIZE

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

#define __must_check __attribute__((warn_unused_result))

/*
 * A broken internal assumption.  Test builds abort; a library build cannot
 * recover from a corrupted model either, so it aborts too rather than carry
 * on with wrong answers.
 */
#define UVMA_BUG_ON(cond)                                                          \
	do {                                                                       \
		if (cond)                                                          \
			uvma_bug(__FILE__, __LINE__, #cond);                       \
	} while (0)
void uvma_bug(const char *file, int line, const char *what) __attribute__((noreturn));

/* Flag groups (spec 1.2). */
#define VM_SPECIAL (UVMA_VM_IO | UVMA_VM_DONTEXPAND | UVMA_VM_PFNMAP | UVMA_VM_MIXEDMAP)
#define VM_ACCESS_FLAGS (UVMA_VM_READ | UVMA_VM_WRITE | UVMA_VM_EXEC)
#define VM_LOCKED_MASK (UVMA_VM_LOCKED | UVMA_VM_LOCKONFAULT)
#define VM_STICKY (UVMA_VM_SOFTDIRTY | UVMA_VM_MAYBE_GUARD)
#define VM_IGNORE_MERGE VM_STICKY
#define VM_MAY_FLAGS (UVMA_VM_MAYREAD | UVMA_VM_MAYWRITE | UVMA_VM_MAYEXEC)

/* ---- the machine ----------------------------------------------------------- */

struct list_head {
	struct list_head *next, *prev;
};

static inline void list_init(struct list_head *h)
{
	h->next = h->prev = h;
}

static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void list_add(struct list_head *n, struct list_head *h)
{
	n->next = h->next;
	n->prev = h;
	h->next->prev = n;
	h->next = n;
}

static inline void list_del(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline bool list_is_singular(const struct list_head *h)
{
	return !list_empty(h) && h->next == h->prev;
}

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct uvma_sys {
	struct uvma_sys_config cfg;
	struct uvma_alloc_ops alloc;
	unsigned long fail_nth;	/* countdown to the injected failure; 0 = off */
	unsigned long nallocs;
	size_t live_bytes;
	uint64_t next_anon_id;
	uint64_t next_shmem_ino;
	struct list_head mms;
	struct list_head files;
	/*
	 * The per-CPU batch of folios that MADV_FREE moves to the lazyfree
	 * LRU: they lose SwapBacked (and show as LazyFree) only when it
	 * drains.  The model is one CPU, as the checker pins its agents.
	 */
	struct uvma_folio *lazyfree[31];
	unsigned int nlazyfree;
	/* new folios wait here before they are on an LRU list */
	struct uvma_folio *lru_add[31];
	unsigned int nlru_add;
	unsigned long lru_moves;	/* times the lru_add batch was emptied */
	/*
	 * mlock and munlock of a small folio go through this batch, which
	 * holds a reference until it drains: a write fault that could reuse
	 * the folio copies it instead (wp_can_reuse_anon_folio sees two).
	 */
	struct uvma_folio *mlock_batch[31];
	bool mlock_batch_unlock[31];	/* the entry munlocks: PG_mlocked goes at the drain */
	unsigned int nmlock;
	/*
	 * Per-type caches: freed objects of the common sizes are kept on a
	 * free list (up to a bound) and handed out again before the allocator
	 * is asked.  They still count as allocations for failure injection.
	 * Each counts its own objects; nallocs and live_bytes above count the
	 * rest.  In the multi-threaded build each has its lock (and its cache
	 * line): a fault's folio and a writer's tree node do not contend.
	 */
	struct alloc_cache {
		void *head;
		unsigned int count;
		unsigned long nallocs;
		size_t live;
#ifdef UVMA_MT
		pthread_mutex_t lock;
#endif
		MT_PAD(pad)
	} cache[6];
	/*
	 * Swap (off unless the config gives it pages).  A slot counts the
	 * PTEs that hold its entry and remembers what the page was; the swap
	 * cache is slot->cache.
	 */
	struct swap_slot *swap;
	uint64_t swap_cap, swap_hwm, swap_used;
	uint64_t swap_free;	/* free-list head + 1; 0: empty */
	/* folios between uvma_migrate_start() and their end */
	struct list_head migrations;
	uint64_t next_migration_id;
	struct ksm_state *ksm;
	/* the memory policies mbind made, interned: a VMA's policy is an index + 1 */
	struct mpol *mpols;
	uint32_t nmpols, capmpols;
	uvma_event_fn event_fn;		/* merge tracing (events.c) */
	void *event_ctx;
	unsigned long violations;	/* debug builds: invariant failures seen */
	bool checks_paused;
	char violation[256];
#ifdef UVMA_MT
	/*
	 * Each lock on lines of its own, and apart from what only the calls
	 * (under big) change: faults take the page lock and, when the folio
	 * cache is empty, the allocator's.
	 */
	struct rlock big;		/* lock.h: one changing call at a time */
	MT_PAD(pad0)
	struct rlock page_lock;
	MT_PAD(pad1)
	pthread_mutex_t alloc_lock;
	MT_PAD(pad2)
	/* typesafe VMA cache (mt.c): freed VMAs are reused, never unmapped */
	struct uvma_vma *vma_free_list;
	void *vma_slabs;		/* chained through their first word */
	unsigned long vma_nallocs;	/* the cache's counts (under big) */
	size_t vma_live;
	struct tree_node *retired;	/* retired nodes not yet handed to RCU */
	unsigned int nretired;
#endif
};

/*
 * A memory policy as mpol_equal() compares it: mode, flags (mode flags and
 * the internal ones they imply), the nodes it allows, and the mask the
 * caller gave when the policy keeps it (static and relative nodes).
 */
struct mpol {
	uint16_t mode, flags;
	uint64_t nodes, user_nodes;
};

void mpol_destroy(struct uvma_sys *sys);

void *uvma_alloc(struct uvma_sys *sys, size_t size) __must_check;
/* Failure injection: true if this allocation is the one to fail. */
bool alloc_should_fail(struct uvma_sys *sys);
void *uvma_zalloc(struct uvma_sys *sys, size_t size) __must_check;
void uvma_free(struct uvma_sys *sys, void *ptr, size_t size);

enum swap_slot_flags {
	SWP_EVER_SHARED = 1 << 0,	/* the page was COW-shared before it went out */
	SWP_DIRTY = 1 << 1,		/* the slot is the only copy of the data */
};

struct swap_slot {
	uint32_t count;		/* PTEs holding the entry (swap_map); 0 with cache only */
	uint32_t flags;		/* enum swap_slot_flags */
	uint64_t content;	/* the data written out; free slots: next free + 1 */
	struct uvma_folio *cache;	/* the swap-cache folio, or NULL */
};

/* One open file (struct file); shared anonymous mappings get their own. */
struct uvma_file {
	struct uvma_sys *sys;
	struct list_head node;	/* sys->files */
	unsigned long refcount;	/* the opener's + one per VMA */
	bool opener_ref;	/* the caller has not closed it yet */
	bool readable, writable;
	bool shmem;		/* shared anonymous memory: /dev/zero (deleted) */
	uint64_t size;
	uint64_t dev_major, dev_minor, ino;
	char *path;
	struct pcache *pages;	/* the page cache: index -> folio */
};

struct uvma_file *file_get(struct uvma_file *f);
void file_put(struct uvma_file *f);
struct uvma_file *shmem_file_create(struct uvma_sys *sys, uint64_t size);

/* ---- anon_vma ----------------------------------------------------------------- */

struct anon_vma {
	struct anon_vma *root;
	struct anon_vma *parent;
	unsigned long refcount;
	unsigned long num_children;
	unsigned long num_active_vmas;
	uint64_t id;
	struct avc *rb_root;	/* interval tree of the AVCs linking VMAs here */
	uint32_t navcs;
	bool unsorted;		/* rb_root is a list until the next walk (avtree.c) */
};

/* anon_vma_chain: one link between a VMA and an anon_vma. */
struct avc {
	struct uvma_vma *vma;
	struct anon_vma *anon_vma;
	struct list_head same_vma;	/* vma->anon_vma_chain, newest first */
	struct avc *left, *right;	/* anon_vma->rb_root (avtree.c) */
	uint64_t subtree_last;		/* highest last pgoff in this subtree */
};

/* The anon_vma interval tree (avtree.c), keyed by the VMA's pgoff range. */
void avtree_insert(struct anon_vma *av, struct avc *avc);
void avtree_remove(struct anon_vma *av, struct avc *avc);
/* Call @fn for each AVC whose VMA may hold an index in [first, last]; false stops. */
bool avtree_query(const struct anon_vma *av, uint64_t first, uint64_t last,
		  bool (*fn)(struct avc *avc, void *ctx), void *ctx);
bool avtree_for_each(const struct anon_vma *av, bool (*fn)(struct avc *avc, void *ctx), void *ctx);
bool avtree_contains(const struct anon_vma *av, const struct avc *avc);
bool avtree_valid(const struct anon_vma *av);
/* Around a change of a linked VMA's start, end or pgoff. */
void anon_vma_pre_update(struct uvma_vma *vma);
void anon_vma_post_update(struct uvma_vma *vma);

/* ---- VMAs ----------------------------------------------------------------- */

struct uvma_vma;

struct vm_ops {
	const char *name;		/* special mappings: [vdso] and so on */
	bool has_close;			/* a close hook: never deleted by a merge */
	bool no_split;			/* may_split vetoes with EINVAL */
	bool no_mremap;			/* the mremap hook refuses moves */
	bool shmem;
};

extern const struct vm_ops shmem_vm_ops;
extern const struct vm_ops file_vm_ops;
extern const struct vm_ops special_vdso_ops;
extern const struct vm_ops special_vvar_ops;
extern const struct vm_ops special_vvar_vclock_ops;

struct anon_name {
	unsigned long refcount;
	char name[80];
};

/*
 * The multi-threaded build lays the VMA out as the kernel of 6.15 does: what
 * a fault reads first (one cache line), then the rest, then the reference
 * count alone on the last line, so that readers taking and dropping it do
 * not bounce the line the others read.  Copies and re-initialisation stop
 * at VMA_COPY_END: vm_refcnt and vm_lock_seq belong to the memory, not to
 * the VMA, and a reader holding a stale pointer may be looking at them.
 */
struct uvma_vma {
	uint64_t start, end;
	struct uvma_mm *mm;
	uint64_t flags;
	uint64_t pgoff;
	struct anon_vma *anon_vma;
	struct uvma_file *file;
	const struct vm_ops *ops;
	struct list_head anon_vma_chain;
	struct anon_name *anon_name;
	uint32_t policy;	/* mempolicy identity; 0 = default */
	uint32_t uffd;		/* userfaultfd context; 0 = none */
#ifdef UVMA_MT
	/* atomic: mm->mm_lock_seq while write-locked (vma_lock.c) */
	uint32_t vm_lock_seq;
	/* atomic: 0 detached, 1 attached, +1 per reader, +VMA_LOCK_OFFSET writer */
	uint32_t vm_refcnt __attribute__((aligned(64)));
#endif
};

#ifdef UVMA_MT
#define VMA_COPY_END offsetof(struct uvma_vma, vm_lock_seq)
#else
#define VMA_COPY_END sizeof(struct uvma_vma)
#endif

static inline uint64_t vma_pages(const struct uvma_vma *v)
{
	return (v->end - v->start) >> PAGE_SHIFT;
}

static inline bool vma_is_anonymous(const struct uvma_vma *v)
{
	return !v->ops;
}

static inline bool vma_is_fork_child(const struct uvma_vma *v)
{
	return v && v->anon_vma && !list_is_singular(&v->anon_vma_chain);
}

/* stack_guard_gap: 256 pages kept free below a VM_GROWSDOWN VMA */
#define STACK_GUARD_GAP (256UL << PAGE_SHIFT)

/* Where a VMA's reach begins for placement: a stack reserves its guard gap. */
static inline uint64_t vm_start_gap(const struct uvma_vma *v)
{
	if (!(v->flags & UVMA_VM_GROWSDOWN))
		return v->start;
	return v->start > STACK_GUARD_GAP ? v->start - STACK_GUARD_GAP : 0;
}

static inline uint64_t linear_page_index(const struct uvma_vma *v, uint64_t addr)
{
	return v->pgoff + ((addr - v->start) >> PAGE_SHIFT);
}

/* ---- folios and page tables ------------------------------------------------- */

enum folio_flags {
	FOLIO_ANON = 1 << 0,
	FOLIO_ANON_EXCLUSIVE = 1 << 1,
	FOLIO_EVER_SHARED = 1 << 2,	/* fork shared it at least once */
	FOLIO_DIRTY = 1 << 3,
	FOLIO_SWAPBACKED = 1 << 4,	/* cleared by MADV_FREE */
	FOLIO_MLOCKED = 1 << 5,		/* unevictable: mapped in a VM_LOCKED VMA */
	FOLIO_REFERENCED = 1 << 6,	/* PG_referenced, set by GUP's touch */
	FOLIO_ACTIVE = 1 << 7,		/* on the active LRU */
	FOLIO_LAZYFREE_PENDING = 1 << 8, /* in the per-CPU lazyfree batch */
	FOLIO_LRU = 1 << 9,		/* on an LRU list (not in a per-CPU batch) */
	FOLIO_LRU_ADD_PENDING = 1 << 10, /* in the per-CPU lru_add batch */
	FOLIO_KSM = 1 << 11,		/* merged by KSM: mapping is its stable node */
	FOLIO_MIGRATING = 1 << 12,	/* unmapped behind migration entries */
	FOLIO_DROPPABLE = 1 << 13,	/* of a MAP_DROPPABLE VMA: never SwapBacked */
	/*
	 * PG_unevictable: mlock sets PG_mlocked at once and this when its
	 * per-CPU batch is processed; until then folio_mark_accessed treats
	 * the folio as any other.  (Folios faulted or swapped into a locked
	 * VMA get both at once here: the model does not queue them.)
	 */
	FOLIO_UNEVICTABLE = 1 << 14,
};

/*
 * A folio.  The refcount counts mappings, the swap cache, the per-CPU mlock
 * batch and pins: a small folio takes GUP_PIN_COUNTING_BIAS references per
 * pin, as the kernel's does, a large one counts pins in pincount.
 */
struct uvma_folio {
	void *mapping;		/* anon: anon_vma; KSM: ksm_stable; file: uvma_file */
	uint64_t index;
	int32_t refcount;
	int32_t mapcount;	/* order 0: mappings of the page */
	uint32_t flags;
	uint32_t swap;		/* swap slot + 1 while in the swap cache, else 0 */
	union {
		uint64_t content;	/* small: the page's value (its "data") */
		uint64_t *contents;	/* large: one per page; NULL while all zero */
	};
	uint16_t *pmap;		/* large: PTE mappings of each page */
	int32_t entire;		/* large: PMD mappings of the whole folio */
	uint16_t pincount;	/* large: FOLL_PIN pins */
	uint8_t order;		/* 0, or HPAGE_PMD_ORDER for a THP */
};

#define GUP_PIN_COUNTING_BIAS 1024

static inline int folio_nr_pages(const struct uvma_folio *f)
{
	return 1 << f->order;
}

/* folio_maybe_dma_pinned: may a device be writing to it? */
static inline bool folio_maybe_pinned(const struct uvma_folio *f)
{
	if (f->order)
		return f->pincount > 0;
	return f->refcount >= GUP_PIN_COUNTING_BIAS;
}

#define HPAGE_PMD_ORDER 9
#define HPAGE_PMD_NR (1 << HPAGE_PMD_ORDER)

static inline bool folio_large(const struct uvma_folio *f)
{
	return f->order != 0;
}

/*
 * A page-table entry is one word: 0 for none, a folio pointer with the
 * young and dirty bits in its low bits, or a marker with bit 0 set.
 */
typedef uintptr_t pte_t;
#define PTE_YOUNG ((pte_t)2)
#define PTE_DIRTY ((pte_t)4)
#define PTE_PMD ((pte_t)8)	/* one of the 512 pages of a PMD mapping */
#define PTE_FLAGS (PTE_YOUNG | PTE_DIRTY | PTE_PMD)
#define PTE_MARKER ((pte_t)1)
#define PTE_ZERO (PTE_MARKER | (1 << 4))
#define PTE_GUARD (PTE_MARKER | (2 << 4))
#define PTE_HUGE_ZERO (PTE_MARKER | (3 << 4))	/* a page of the huge zero page */
/*
 * Swap and migration entries carry a payload from bit 10 up: the swap slot,
 * or the migrating folio's address divided by 16.  The bits below the type
 * remember the PTE they replaced: PageAnonExclusive, writable, dirty, young
 * and (migration) part of a PMD mapping.
 */
#define PTE_TYPE_MASK ((pte_t)0xf0)
#define PTE_TYPE_SWAP ((pte_t)4 << 4)
#define PTE_TYPE_MIGRATION ((pte_t)5 << 4)
#define PTE_SWP_EXCLUSIVE ((pte_t)2)
#define PTE_SWP_WRITE ((pte_t)4)
#define PTE_SWP_DIRTY ((pte_t)8)
#define PTE_SWP_YOUNG ((pte_t)0x100)
#define PTE_SWP_PMD ((pte_t)0x200)
#define PTE_SWP_SHIFT 10

static inline bool pte_is_swap(pte_t p)
{
	return (p & PTE_MARKER) && (p & PTE_TYPE_MASK) == PTE_TYPE_SWAP;
}

static inline bool pte_is_migration(pte_t p)
{
	return (p & PTE_MARKER) && (p & PTE_TYPE_MASK) == PTE_TYPE_MIGRATION;
}

static inline pte_t swp_pte(uint64_t slot, bool exclusive)
{
	return PTE_MARKER | PTE_TYPE_SWAP | (exclusive ? PTE_SWP_EXCLUSIVE : 0) |
	       ((pte_t)slot << PTE_SWP_SHIFT);
}

static inline uint64_t swp_slot(pte_t p)
{
	return p >> PTE_SWP_SHIFT;
}

static inline pte_t migration_pte(const struct uvma_folio *f, pte_t bits)
{
	return PTE_MARKER | PTE_TYPE_MIGRATION | bits | (((pte_t)f >> 4) << PTE_SWP_SHIFT);
}

static inline struct uvma_folio *migration_folio(pte_t p)
{
	return (struct uvma_folio *)((p >> PTE_SWP_SHIFT) << 4);
}

static inline bool pte_is_folio(pte_t p)
{
	return p && !(p & PTE_MARKER);
}

/* One of the 512 PTEs of a PMD-mapped THP (PTE-level work leaves them alone). */
static inline bool pte_pmd_mapped(pte_t p)
{
	return pte_is_folio(p) && (p & PTE_PMD);
}

static inline struct uvma_folio *pte_folio(pte_t p)
{
	return (struct uvma_folio *)(p & ~(pte_t)15);
}

#define PT_BITS 9
#define PT_ENTRIES (1 << PT_BITS)
#define PT_LEVELS 4

/* Four levels of 512 entries as on x86_64; the lowest level holds PTEs. */
struct pt_table {
	unsigned int used;
	uintptr_t e[PT_ENTRIES];
};

struct page_table {
	struct pt_table *top;
	unsigned long tables;
};

pte_t *pt_lookup(const struct page_table *pt, uint64_t addr);
pte_t *pt_get(struct uvma_sys *sys, struct page_table *pt, uint64_t addr) __must_check;
void pt_set(struct page_table *pt, pte_t *slot, pte_t val);
void pt_destroy(struct uvma_sys *sys, struct page_table *pt);
bool pt_range_empty(const struct page_table *pt, uint64_t start, uint64_t end);
/* Call @fn for every non-empty PTE in [start, end), in order. */
void pt_walk(const struct page_table *pt, uint64_t start, uint64_t end,
	     void (*fn)(void *ctx, uint64_t addr, pte_t *pte), void *ctx);

/* The page cache of a file: a sparse index -> folio map (same radix shape). */
struct pcache {
	struct page_table pt;
};

/* ---- address spaces --------------------------------------------------------- */

struct uvma_mm {
	struct uvma_sys *sys;
	struct list_head node;		/* sys->mms */
	uint64_t mmap_base;
	uint64_t start_brk, brk;
	uint64_t start_stack;
	uint64_t def_flags;
	bool merge_any;			/* MMF_VM_MERGE_ANY */
	bool has_pinned;		/* MMF_HAS_PINNED: fork copies pinned folios */
	int exec_pkey;			/* -1 until allocated */
	/*
	 * The tree and the counters every call changes, after what faults
	 * read and nearly nothing writes (sys above): in the multi-threaded
	 * build a faulting thread would otherwise miss on mm->sys after each
	 * call of a mapping thread.
	 */
	MT_PAD(pad_tree)
	struct tree tree;
	unsigned long map_count;
	uint64_t total_vm, locked_vm, data_vm, exec_vm, stack_vm;
	struct uvma_stats stats;	/* its page-level counts are in pstats */
	struct uvma_event_counts events;
	/*
	 * What faults read and count (under the page lock), away from the tree
	 * and the counters the calls change: in the multi-threaded build a
	 * shared line would move between a faulting CPU and a mapping one at
	 * every fault.
	 */
	MT_PAD(pad0)
	struct page_table pt;
	struct page_stats {
		unsigned long anon_vmas, avcs, folios, folios_relocated, folios_split;
	} pstats;
	MT_PAD(pad1)
	const char *call;		/* the system call in progress, for events */
	/*
	 * The page of the process's own stack that fork() returns on, outside
	 * every modelled range but inside the per-CPU lru_add batch; see
	 * fork_write_stack().  Only its flags are used.
	 */
	struct uvma_folio stack_folio;
	/*
	 * The page a forked child writes when it first runs (its own copy),
	 * and, until then, whether the parent's copy it shares was in the
	 * lru_add batch at the fork (see uvma_mm_run()).
	 */
	struct uvma_folio child_folio;
	bool first_run_pending;
	bool parent_page_pending;
	unsigned long fork_lru_moves;	/* sys->lru_moves at the fork */
	/*
	 * The stack page signal frames go to (uvma_mm_signal()): shared with
	 * the other side of a fork until a frame copies it; a child's is its
	 * parent's copy, which may have been in the lru_add batch at the fork.
	 */
	struct uvma_folio signal_folio;
	bool signal_page_shared;
	bool signal_parent_pending;
#ifdef UVMA_MT
	pthread_rwlock_t mmap_lock;
	/* every reader reads it, every writer bumps it twice: a line of its own */
	MT_PAD(pad2)
	uint32_t mm_lock_seq;		/* atomic: odd while write-locked */
	MT_PAD(pad3)
	/*
	 * Which path the faults took (debug builds: a shared counter would
	 * bounce between the faulting CPUs).
	 */
	unsigned long faults_vma_lock;
	unsigned long faults_mmap_lock, vma_lock_misses;
#endif
};

/* ---- helpers shared between the calls ------------------------------------------ */

/*
 * Change the flags of an attached VMA: write-locked first (faults read them
 * under the VMA lock), under the page lock (an rmap walk reads them too).
 */
static inline void vma_set_flags(struct uvma_vma *vma, uint64_t flags)
{
	vma_start_write(vma);
	page_lock(vma->mm->sys);
	vma->flags = flags;
	page_unlock(vma->mm->sys);
}

struct uvma_vma *vma_find(const struct uvma_mm *mm, uint64_t addr); /* first end > addr */
struct uvma_vma *vma_lookup(const struct uvma_mm *mm, uint64_t addr); /* containing */
struct uvma_vma *vma_prev_of(const struct uvma_mm *mm, const struct uvma_vma *vma);
struct uvma_vma *vma_next_of(const struct uvma_mm *mm, const struct uvma_vma *vma);
/* vma_find(), and in *prev the VMA before @addr, with one descent; *prev NULL if none found. */
struct uvma_vma *vma_find_and_prev(const struct uvma_mm *mm, uint64_t addr,
				   struct uvma_vma **prev);
/* Is any part of [start, end) not covered by a VMA (mseal's and mbind's check)? */
bool vma_range_has_hole(const struct uvma_mm *mm, uint64_t start, uint64_t end);
/* The last VMA starting below @addr (the one before a gap at @addr). */
struct uvma_vma *vma_find_prev(const struct uvma_mm *mm, uint64_t addr);

struct uvma_vma *vma_alloc(struct uvma_mm *mm) __must_check;
void vma_free(struct uvma_vma *vma);
/* Duplicate @src (flags, file, policy, name, not the anon_vma chain). */
struct uvma_vma *vma_dup(struct uvma_vma *src) __must_check;
/* Close and free a VMA that is out of the tree: unlink anon, drop file. */
void vma_remove(struct uvma_vma *vma);
/* Free a VMA without anon_vma links (never linked, or already unlinked). */
void vma_release(struct uvma_vma *vma);

int vma_link(struct uvma_mm *mm, struct uvma_vma *vma) __must_check;

/* anon_vma (anon.c) */
int anon_vma_prepare(struct uvma_vma *vma) __must_check;
int anon_vma_clone(struct uvma_vma *dst, struct uvma_vma *src) __must_check;
int anon_vma_fork(struct uvma_vma *vma, struct uvma_vma *pvma) __must_check;
void unlink_anon_vmas(struct uvma_vma *vma);
void anon_vma_merge(struct uvma_vma *vma, struct uvma_vma *next);
bool anon_vma_compatible(const struct uvma_vma *a, const struct uvma_vma *b);
/* Relocation of anonymous memory for the merge policies (relocate.c). */
static inline bool policy_matena(const struct uvma_mm *mm)
{
	return mm->sys->cfg.policy == UVMA_POLICY_MATENA;
}
static inline bool policy_auto(const struct uvma_mm *mm)
{
	return mm->sys->cfg.policy == UVMA_POLICY_AUTO;
}

static inline bool policy_relocate(const struct uvma_mm *mm)
{
	return mm->sys->cfg.policy == UVMA_POLICY_RELOCATE;
}
static inline bool policy_ideal(const struct uvma_mm *mm)
{
	return mm->sys->cfg.policy == UVMA_POLICY_IDEAL;
}
/*
 * ideal: after this, every anonymous folio mapped in [start, end) of @vma is
 * exclusive, not KSM and inside the range, so that its anon_vma and index
 * may change: migrations there finish, shared or swap-cached swap entries
 * are read in, shared and KSM pages unshared, large folios crossing the
 * range split or their pages copied.  Returns 0 or -ENOMEM (what was done
 * stays: each step is one the kernel may take at any time).
 */
int ideal_prepare(struct uvma_vma *vma, uint64_t start, uint64_t end) __must_check;
/*
 * relocate (the 2025 series): may [start, end) of @vma be relocated?  The VMA
 * must have no anon_vma parent and its anon_vma no child; every folio must
 * be mapped once and not maybe pinned; a large folio crossing the range must
 * be splittable; no swap-cache or migration entry.  Changes nothing.
 */
enum uvma_reason relocate_check(struct uvma_vma *vma, uint64_t start, uint64_t end);
/*
 * auto: may [start, end) of @vma be relocated?  Migrations there finish and
 * exclusive large folios crossing the range split first; then no folio
 * (mapped, swapped or in the swap cache) may ever have been COW-shared.
 */
enum uvma_reason auto_relocatable(struct uvma_vma *vma, uint64_t start, uint64_t end);
/* The VMA at the destination whose anon_vma a first fault there would reuse, or NULL. */
struct uvma_vma *auto_anon_vma_source(struct uvma_vma *vma, uint64_t start, uint64_t end,
				      uint64_t pgoff);
/* Its own root, and no VMA linked to it uses another anon_vma (no fork children). */
bool anon_vma_unshared(const struct anon_vma *av);
/*
 * UVMA_REASON_NONE if every page in [start, end) is small, anonymous, mapped
 * once, not KSM and has no swap or migration entry; else the first reason not.
 */
enum uvma_reason range_relocatable(const struct uvma_mm *mm, uint64_t start, uint64_t end);
void relocate_event(struct uvma_mm *mm, uint64_t start, uint64_t end, uint64_t new_start,
		    enum uvma_reason why);
/*
 * Folios in [start, end) of @vma (and swap-cache folios of its swap entries)
 * that name @from (any anon_vma if NULL: ideal, after ideal_prepare) now
 * name vma->anon_vma, their index lowered by @shift (the old page offset of
 * the range minus the new one; 0 when nothing moved).
 */
void reconnect_range(struct uvma_vma *vma, uint64_t start, uint64_t end, const struct anon_vma *from,
		     uint64_t shift);

/* Keep an anon_vma alive without a VMA (migration, KSM rmap items). */
void get_anon_vma(struct anon_vma *av);
void put_anon_vma(struct uvma_sys *sys, struct anon_vma *av);

/* split (split.c) */
int __split_vma(struct uvma_vma *vma, uint64_t addr, int new_below) __must_check;
int split_vma(struct uvma_vma *vma, uint64_t addr, int new_below) __must_check;

/* page level (fault.c, pages.c) */
void zap_range(struct uvma_vma *vma, uint64_t start, uint64_t end);
int populate_range(struct uvma_mm *mm, uint64_t start, uint64_t end, bool write, bool ignore_errors);
int copy_page_range(struct uvma_vma *dst, struct uvma_vma *src) __must_check;
int move_page_tables(struct uvma_vma *dst, uint64_t new_addr, struct uvma_vma *src,
		     uint64_t old_addr, uint64_t len) __must_check;
struct uvma_folio *folio_alloc(struct uvma_sys *sys) __must_check;
void folio_put(struct uvma_sys *sys, struct uvma_folio *folio);
uint64_t folio_page_content(const struct uvma_folio *f, unsigned int idx);
int folio_set_page_content(struct uvma_sys *sys, struct uvma_folio *f, unsigned int idx,
			   uint64_t value) __must_check;
/* Copy @src's data, dirtiness and history to the new exclusive copy @dst. */
void folio_copy_state(struct uvma_folio *dst, const struct uvma_folio *src, unsigned int idx);

/*
 * The reverse map (rmap.c).  @fn sees every PTE slot where the folio's
 * pages may be mapped (present, swap-cache backed or migrating); it checks
 * what the slot holds.  Returning false stops the walk.
 */
typedef bool (*rmap_fn)(struct uvma_vma *vma, uint64_t addr, pte_t *pte, void *ctx);
void rmap_walk(struct uvma_sys *sys, struct uvma_folio *f, rmap_fn fn, void *ctx);
/* Does @pte refer to @f (present, or a migration entry)? */
bool pte_refers_to(pte_t pte, const struct uvma_folio *f);

/* swap (swap.c) */
bool swap_enabled(const struct uvma_sys *sys);
/* Reclaim one folio, unmapping it everywhere; true if it left memory. */
bool reclaim_folio(struct uvma_sys *sys, struct uvma_folio *f);
int do_swap_page(struct uvma_vma *vma, uint64_t addr, pte_t *pte, bool write) __must_check;
void swap_entry_free(struct uvma_sys *sys, pte_t pte);
void swap_entry_dup(struct uvma_sys *sys, pte_t pte);
void swap_destroy(struct uvma_sys *sys);
/* Take a folio out of the swap cache if no PTE needs the slot any more. */
bool folio_free_swap(struct uvma_sys *sys, struct uvma_folio *f);

/* migration (migrate.c) */
int migration_entry_wait(struct uvma_sys *sys, pte_t pte) __must_check;
void migrations_destroy(struct uvma_sys *sys);

/* KSM (ksm.c) */
void ksm_destroy(struct uvma_sys *sys);
int break_ksm_range(struct uvma_vma *vma, uint64_t start, uint64_t end) __must_check;
void ksm_folio_unmapped(struct uvma_sys *sys, struct uvma_folio *f);
void ksm_mm_exit(struct uvma_mm *mm);
void lru_add_drain(struct uvma_sys *sys);
void lru_add_forget(struct uvma_sys *sys, struct uvma_folio *folio);
void anon_folio_init(struct uvma_folio *f, const struct uvma_vma *vma, uint64_t addr);
/*
 * mlock_folio/munlock_folio: queue @folio in the per-CPU mlock batch, to
 * mlock it (the caller has set FOLIO_MLOCKED: mlock_folio sets PG_mlocked at
 * once) or, @munlock, to munlock it (it stays mlocked, so unevictable, until
 * the batch drains).
 */
void mlock_batch_add(struct uvma_sys *sys, struct uvma_folio *folio, bool munlock);
void mlock_batch_drain(struct uvma_sys *sys);
/* THP (thp.c) */
int thp_fault(struct uvma_vma *vma, uint64_t addr, bool write) __must_check;
int mthp_fault(struct uvma_vma *vma, uint64_t addr, bool dirty) __must_check;
/* The THP orders (bit masks) @vma allows (thp_vma_allowable_orders). */
uint32_t thp_vma_orders(const struct uvma_vma *vma);
void thp_split_at(struct uvma_mm *mm, uint64_t addr);
void thp_split_range(struct uvma_mm *mm, uint64_t start, uint64_t end);
void thp_split_boundaries(struct uvma_mm *mm, uint64_t start, uint64_t end);
int folio_page_mapcount(const struct uvma_folio *f, uint64_t idx);
/* split_folio: order-0 folios (zero-filled anonymous pages: the zero page). */
int split_folio(struct uvma_sys *sys, struct uvma_folio *f) __must_check;
bool folio_large_maybe_shared(const struct uvma_folio *f);

/* Is some page of @f mapped more than once (folio_maybe_mapped_shared)? */
static inline bool folio_mapped_shared(const struct uvma_folio *f)
{
	return folio_large(f) ? folio_large_maybe_shared(f) : f->mapcount > 1;
}
void thp_split_partial_folios(struct uvma_vma *vma, uint64_t start, uint64_t end, bool whole);
void folio_free_large(struct uvma_sys *sys, struct uvma_folio *f);
/* A new folio enters the per-CPU lru_add batch. */
void folio_add_lru(struct uvma_sys *sys, struct uvma_folio *folio);
void mlock_range_pages(struct uvma_vma *vma, uint64_t start, uint64_t end, bool lock);
/* GUP's FOLL_TOUCH on the page mapped at @addr: mark_page_accessed. */
void gup_touch(struct uvma_vma *vma, uint64_t addr);
int gup_fault(struct uvma_vma *vma, uint64_t addr, bool write, bool force) __must_check;
/* The last reference to a file went; @shmem: its inode goes too (truncation drains). */
void pcache_destroy(struct uvma_sys *sys, struct pcache *pc, bool shmem);
int handle_fault(struct uvma_vma *vma, uint64_t addr, bool write, bool force) __must_check;
/* A user fault inside a call holding the mmap_lock for writing (stacks may grow). */
int fault_in_call(struct uvma_mm *mm, uint64_t addr, bool write) __must_check;
/* FAULT_FLAG_UNSHARE on the anonymous page @pte maps at @addr. */
int unshare_anon(struct uvma_vma *vma, uint64_t addr, pte_t *pte) __must_check;
/* ideal: replace the anonymous page @pte maps at @addr by a copy, exclusive or not. */
int copy_anon_page(struct uvma_vma *vma, uint64_t addr, pte_t *pte) __must_check;
/* Drop one mapping of page @idx of @f (zap, COW, KSM replacement). */
void folio_unmap_page(struct uvma_sys *sys, struct uvma_folio *f, uint64_t idx, bool locked);
void zap_range_keep_guards(struct uvma_vma *vma, uint64_t start, uint64_t end);
void madvise_free_range(struct uvma_vma *vma, uint64_t start, uint64_t end);
void madvise_cold_range(struct uvma_vma *vma, uint64_t start, uint64_t end);
void madvise_pageout_range(struct uvma_vma *vma, uint64_t start, uint64_t end);
void shmem_punch_range(struct uvma_vma *vma, uint64_t start, uint64_t end);
int guard_install_range(struct uvma_vma *vma, uint64_t start, uint64_t end) __must_check;
void guard_remove_range(struct uvma_vma *vma, uint64_t start, uint64_t end);

/* munmap core, shared by munmap, MAP_FIXED, mremap and brk (munmap.c) */
int do_munmap(struct uvma_mm *mm, uint64_t start, uint64_t len) __must_check;
int do_vmi_align_munmap(struct uvma_mm *mm, struct uvma_vma *vma, uint64_t start,
			uint64_t end) __must_check;

/* placement (placement.c) */
long get_unmapped_area(struct uvma_mm *mm, struct uvma_file *file, uint64_t addr,
		       uint64_t len, uint64_t pgoff, int flags, uint64_t vm_flags);

/* accounting (mmap.c) */
void vm_stat_account(struct uvma_mm *mm, uint64_t flags, long npages);
bool may_expand_vm(struct uvma_mm *mm, uint64_t flags, unsigned long npages);
bool mlock_future_ok(struct uvma_mm *mm, uint64_t flags, uint64_t bytes);
bool can_do_mlock(struct uvma_mm *mm);
bool vma_supports_mlock(const struct uvma_vma *vma);
uint64_t calc_vm_prot_bits(int prot, int pkey);

/* Merge tracing (events.c). */
void mm_event(struct uvma_mm *mm, struct uvma_event *ev);
void split_event(struct uvma_mm *mm, uint64_t start, uint64_t end, uint64_t addr,
		 const struct uvma_vma *new, enum uvma_reason why);
/*
 * Name the system call an entry point runs, for the events it causes; a
 * forked child that has not run yet runs first (uvma_mm_run()).
 */
#define MM_CALL(mm, name) (mm_first_run(mm), (mm)->call = (name))
static inline void mm_first_run(struct uvma_mm *mm)
{
	if (__atomic_load_n(&mm->first_run_pending, __ATOMIC_RELAXED))
		uvma_mm_run(mm);
}

/* Validation hook run after each call in debug builds. */
void mm_debug_validate(struct uvma_mm *mm);

bool anon_name_eq(const struct anon_name *a, const struct anon_name *b);
const char *vma_name(const struct uvma_vma *vma);
struct anon_name *anon_name_get(struct anon_name *n);
void anon_name_put(struct uvma_sys *sys, struct anon_name *n);

#endif
