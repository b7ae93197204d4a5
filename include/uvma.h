/* SPDX-License-Identifier: MIT */
/*
 * libuvma: the Linux VMA layer of the host kernel (6.18.44), in userspace.
 *
 * A struct uvma_sys is one modelled machine: its sysctls (max_map_count,
 * mmap_min_addr), its allocator (with failure injection), its files and the
 * merge policy.  Address spaces (struct uvma_mm) live in a sys; fork creates
 * a new one in the same sys.
 *
 * Every call mirrors one system call and returns what the kernel returns: an
 * address or 0 on success, or a negative errno value.  The library does no
 * I/O and keeps no global mutable state.  Calls on one sys are not
 * thread-safe; the caller serialises them.
 */
#ifndef UVMA_H
#define UVMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UVMA_PAGE_SHIFT 12
#define UVMA_PAGE_SIZE (1UL << UVMA_PAGE_SHIFT)
#define UVMA_PMD_SIZE (1UL << 21)
/* x86_64 with 4-level paging: 2^47 minus the guard page. */
#define UVMA_TASK_SIZE ((1UL << 47) - UVMA_PAGE_SIZE)

/* Protections, as in the Linux uapi. */
#define UVMA_PROT_NONE 0x0
#define UVMA_PROT_READ 0x1
#define UVMA_PROT_WRITE 0x2
#define UVMA_PROT_EXEC 0x4
#define UVMA_PROT_GROWSDOWN 0x01000000
#define UVMA_PROT_GROWSUP 0x02000000

/* mmap flags (x86_64 values). */
#define UVMA_MAP_SHARED 0x01
#define UVMA_MAP_PRIVATE 0x02
#define UVMA_MAP_SHARED_VALIDATE 0x03
#define UVMA_MAP_DROPPABLE 0x08
#define UVMA_MAP_TYPE 0x0f
#define UVMA_MAP_FIXED 0x10
#define UVMA_MAP_ANONYMOUS 0x20
#define UVMA_MAP_32BIT 0x40
#define UVMA_MAP_GROWSDOWN 0x0100
#define UVMA_MAP_DENYWRITE 0x0800
#define UVMA_MAP_EXECUTABLE 0x1000
#define UVMA_MAP_LOCKED 0x2000
#define UVMA_MAP_NORESERVE 0x4000
#define UVMA_MAP_POPULATE 0x8000
#define UVMA_MAP_NONBLOCK 0x10000
#define UVMA_MAP_STACK 0x20000
#define UVMA_MAP_HUGETLB 0x40000
#define UVMA_MAP_SYNC 0x80000
#define UVMA_MAP_FIXED_NOREPLACE 0x100000
#define UVMA_MAP_UNINITIALIZED 0x4000000

/* mremap flags. RELOCATE_ANON and MUST_RELOCATE_ANON are the 2025 series. */
#define UVMA_MREMAP_MAYMOVE 1
#define UVMA_MREMAP_FIXED 2
#define UVMA_MREMAP_DONTUNMAP 4
#define UVMA_MREMAP_RELOCATE_ANON 8
#define UVMA_MREMAP_MUST_RELOCATE_ANON 16

/* madvise advices. */
#define UVMA_MADV_NORMAL 0
#define UVMA_MADV_RANDOM 1
#define UVMA_MADV_SEQUENTIAL 2
#define UVMA_MADV_WILLNEED 3
#define UVMA_MADV_DONTNEED 4
#define UVMA_MADV_FREE 8
#define UVMA_MADV_REMOVE 9
#define UVMA_MADV_DONTFORK 10
#define UVMA_MADV_DOFORK 11
#define UVMA_MADV_MERGEABLE 12
#define UVMA_MADV_UNMERGEABLE 13
#define UVMA_MADV_HUGEPAGE 14
#define UVMA_MADV_NOHUGEPAGE 15
#define UVMA_MADV_DONTDUMP 16
#define UVMA_MADV_DODUMP 17
#define UVMA_MADV_WIPEONFORK 18
#define UVMA_MADV_KEEPONFORK 19
#define UVMA_MADV_COLD 20
#define UVMA_MADV_PAGEOUT 21
#define UVMA_MADV_POPULATE_READ 22
#define UVMA_MADV_POPULATE_WRITE 23
#define UVMA_MADV_DONTNEED_LOCKED 24
#define UVMA_MADV_COLLAPSE 25
#define UVMA_MADV_HWPOISON 100
#define UVMA_MADV_SOFT_OFFLINE 101
#define UVMA_MADV_GUARD_INSTALL 102
#define UVMA_MADV_GUARD_REMOVE 103

/* mlock2 and mlockall. */
#define UVMA_MLOCK_ONFAULT 0x01
#define UVMA_MCL_CURRENT 1
#define UVMA_MCL_FUTURE 2
#define UVMA_MCL_ONFAULT 4

/* prctl */
#define UVMA_PR_SET_VMA 0x53564d41
#define UVMA_PR_SET_VMA_ANON_NAME 0
#define UVMA_PR_SET_MEMORY_MERGE 67
#define UVMA_PR_GET_MEMORY_MERGE 68

/*
 * VMA flag bits (vm_flags) with the host's bit numbers; /proc's VmFlags line
 * prints the set ones in bit order.
 */
#define UVMA_VM_READ (1ULL << 0)
#define UVMA_VM_WRITE (1ULL << 1)
#define UVMA_VM_EXEC (1ULL << 2)
#define UVMA_VM_SHARED (1ULL << 3)
#define UVMA_VM_MAYREAD (1ULL << 4)
#define UVMA_VM_MAYWRITE (1ULL << 5)
#define UVMA_VM_MAYEXEC (1ULL << 6)
#define UVMA_VM_MAYSHARE (1ULL << 7)
#define UVMA_VM_GROWSDOWN (1ULL << 8)
#define UVMA_VM_UFFD_MISSING (1ULL << 9)
#define UVMA_VM_PFNMAP (1ULL << 10)
#define UVMA_VM_MAYBE_GUARD (1ULL << 11)
#define UVMA_VM_UFFD_WP (1ULL << 12)
#define UVMA_VM_LOCKED (1ULL << 13)
#define UVMA_VM_IO (1ULL << 14)
#define UVMA_VM_SEQ_READ (1ULL << 15)
#define UVMA_VM_RAND_READ (1ULL << 16)
#define UVMA_VM_DONTCOPY (1ULL << 17)
#define UVMA_VM_DONTEXPAND (1ULL << 18)
#define UVMA_VM_LOCKONFAULT (1ULL << 19)
#define UVMA_VM_ACCOUNT (1ULL << 20)
#define UVMA_VM_NORESERVE (1ULL << 21)
#define UVMA_VM_HUGETLB (1ULL << 22)
#define UVMA_VM_SYNC (1ULL << 23)
#define UVMA_VM_ARCH_1 (1ULL << 24)
#define UVMA_VM_WIPEONFORK (1ULL << 25)
#define UVMA_VM_DONTDUMP (1ULL << 26)
#define UVMA_VM_SOFTDIRTY 0ULL /* compiled out on the host */
#define UVMA_VM_MIXEDMAP (1ULL << 28)
#define UVMA_VM_HUGEPAGE (1ULL << 29)
#define UVMA_VM_NOHUGEPAGE (1ULL << 30)
#define UVMA_VM_MERGEABLE (1ULL << 31)
#define UVMA_VM_PKEY_SHIFT 32
#define UVMA_VM_PKEY_MASK (0xfULL << UVMA_VM_PKEY_SHIFT)
#define UVMA_VM_DROPPABLE (1ULL << 40)
#define UVMA_VM_SEALED (1ULL << 42) /* mseal(2): "sl" */

struct uvma_sys;
struct uvma_mm;
struct uvma_file;

/* Allocation hooks; NULL members use malloc/free.  Memory must be 16-byte aligned, as malloc's. */
struct uvma_alloc_ops {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);
	void *ctx;
};

/* ---- the machine ------------------------------------------------------ */

/*
 * The merge policy of a machine (docs/policies.md).  LINUX is the host
 * kernel.  MATENA is the 2022 RFC: a faulted VMA whose anon_vma is its own
 * root with no children and whose pages are each mapped once takes the
 * page offset of its new address when mremap moves it (every folio's index
 * follows), and two different anon_vmas merge when the absorbed one is such
 * a root (its folios move to the survivor's anon_vma).  Large folios, swap
 * and migration entries make memory ineligible (the RFC predates them).
 * AUTO is the June 2025 proposal: no flag, a folio's COW-sharing history
 * decides, the memory ends as if faulted at its new place (docs/policies.md).
 * RELOCATE is the 2025 series: only mremap calls with MREMAP_RELOCATE_ANON or
 * MREMAP_MUST_RELOCATE_ANON (or every anonymous move with relocate_all)
 * relocate, and only memory that is not and may not be COW-shared or
 * pinned; MUST fails with EFAULT where relocation is impossible.  IDEAL is
 * the upper bound for reports: what would block the others is unshared
 * first (COW copies, swap-in, splits), then anonymous memory merges whenever
 * all but its anon identity and page offset agree.
 */
enum uvma_policy {
	UVMA_POLICY_LINUX,
	UVMA_POLICY_MATENA,
	UVMA_POLICY_RELOCATE,
	UVMA_POLICY_AUTO,
	UVMA_POLICY_IDEAL,
};

struct uvma_sys_config {
	unsigned long max_map_count;	/* vm.max_map_count, 65530 by default */
	unsigned long mmap_min_addr;	/* vm.mmap_min_addr, 4096 by default */
	bool anon_vma_name;		/* CONFIG_ANON_VMA_NAME; off on the host */
	bool pkeys;			/* the CPU has protection keys (pku) */
	bool cap_ipc_lock;		/* the caller may mlock without limit (root) */
	bool cap_sys_rawio;		/* MAP_FIXED below mmap_min_addr (root) */
	unsigned long rlimit_memlock;	/* bytes; ignored with cap_ipc_lock */
	uint64_t totalram_pages;	/* overcommit heuristic limit; 0: none */
	uint64_t swap_pages;		/* swap space in pages; 0 (the host): no swap */
	/*
	 * Anonymous THP sizes, as bit masks of folio orders (bit 9: 2 MiB PMD
	 * THP; bits 2 to 8: mTHP, 16 KiB to 1 MiB): those set to "always" and
	 * those set to "madvise" in /sys/kernel/mm/transparent_hugepage.  The
	 * host: thp_orders_madvise = 1 << 9, nothing "always".
	 */
	uint32_t thp_orders_always, thp_orders_madvise;
	/*
	 * The kernel forbids the shared zero page (mm_forbids_zeropage(): s390
	 * guests with storage keys, PVM guests booted with pvm_no_zero_page=1).
	 * A read fault on private anonymous memory then allocates a folio, as a
	 * write does (dirty only in a writable VMA; a PMD THP always).  A THP
	 * split still maps zero-filled pages to the zero page, as the PVM host
	 * does.  Off by default, as stock x86.
	 */
	bool forbid_zero_page;
	/* NUMA nodes online (node 0 up to numa_nodes - 1), up to 64 (0 counts as 1): for mbind */
	unsigned int numa_nodes;
	enum uvma_policy policy;	/* UVMA_POLICY_LINUX by default */
	bool relocate_all;		/* RELOCATE: treat every anonymous move as flagged */
	const struct uvma_alloc_ops *alloc; /* NULL: malloc/free */
};

/* Fill @cfg with the host's defaults (root, 6.18.44 as probed). */
void uvma_sys_config_default(struct uvma_sys_config *cfg);

/* Create a machine; NULL on allocation failure or a policy not implemented. @cfg may be NULL. */
struct uvma_sys *uvma_sys_create(const struct uvma_sys_config *cfg);
/* Destroy the machine, its remaining address spaces and files. */
void uvma_sys_destroy(struct uvma_sys *sys);
int uvma_sys_set_max_map_count(struct uvma_sys *sys, unsigned long max);

/*
 * Fail the @nth allocation from now on (1 = the next one), once; 0 disarms.
 * The test suite uses it to prove that every operation survives allocation
 * failure at every point.
 */
void uvma_sys_fail_nth_alloc(struct uvma_sys *sys, unsigned long nth);
/* Is the armed failure still to come (the operation did not reach it)? */
bool uvma_sys_fail_pending(const struct uvma_sys *sys);
/* Allocations made and live bytes, for leak checks and benchmarks. */
unsigned long uvma_sys_alloc_count(const struct uvma_sys *sys);
size_t uvma_sys_live_bytes(const struct uvma_sys *sys);

/*
 * Files.  A struct uvma_file is one *open* file (the kernel merges file
 * mappings only when they share the struct file).  @path is shown in maps;
 * @size is in bytes; @readable/@writable give the open mode.
 */
struct uvma_file *uvma_file_open(struct uvma_sys *sys, const char *path, uint64_t size,
				 bool readable, bool writable);
/* memfd_create(@name) with @size bytes: shmem, shown as /memfd:NAME (deleted). */
struct uvma_file *uvma_memfd_create(struct uvma_sys *sys, const char *name, uint64_t size);
/* Drop the caller's reference; mappings keep the file alive. */
void uvma_file_close(struct uvma_file *file);

/* ---- address spaces ---------------------------------------------------- */

/* An empty address space: no VMAs, top-down layout, mmap_base below @stack_top. */
struct uvma_mm *uvma_mm_create(struct uvma_sys *sys);

/*
 * The exec-time layout: a [stack] VMA growing down below @stack_top, the
 * [vvar], [vvar_vclock] and [vdso] special mappings below it, mmap_base below
 * the stack gap, and the brk start at @brk_start.  Returns 0 or -errno.
 */
struct uvma_exec_layout {
	uint64_t stack_top;	/* e.g. 0x7ffffffff000 */
	uint64_t stack_size;	/* initial stack VMA size, 132 KiB by default */
	uint64_t brk_start;	/* 0: no heap */
	uint64_t mmap_base;	/* 0: stack_top - rlimit stack - gap */
	bool vdso;		/* map [vvar], [vvar_vclock] and [vdso] */
};
int uvma_mm_exec_layout(struct uvma_mm *mm, const struct uvma_exec_layout *layout);

/* Set the placement parameters directly (for emulators and the checker). */
void uvma_mm_set_mmap_base(struct uvma_mm *mm, uint64_t mmap_base);
void uvma_mm_set_brk(struct uvma_mm *mm, uint64_t start_brk, uint64_t brk);

/*
 * Put a VMA that already exists in a real process into @mm (an emulator's
 * initial image, or a /proc/PID/maps snapshot): no merge, no accounting
 * checks.  The range must be free.  @faulted gives it an anon_vma.
 */
enum uvma_special {
	UVMA_SPECIAL_NONE,
	UVMA_SPECIAL_VDSO,
	UVMA_SPECIAL_VVAR,
	UVMA_SPECIAL_VVAR_VCLOCK,
};
struct uvma_vma_import {
	uint64_t start, end;
	uint64_t pgoff;		/* file VMAs: offset in pages; anonymous: start >> 12 */
	uint64_t flags;		/* vm_flags */
	struct uvma_file *file;	/* NULL: anonymous */
	enum uvma_special special;
	bool faulted;
};
int uvma_mm_import_vma(struct uvma_mm *mm, const struct uvma_vma_import *v);
/* The stack pointer at exec: the VMA containing it is [stack]. */
void uvma_mm_set_start_stack(struct uvma_mm *mm, uint64_t sp);

/* exit_mmap: tear down every mapping and free the address space. */
void uvma_mm_exit(struct uvma_mm *mm);

/*
 * fork: a new address space in the same sys; NULL with *err = -errno.  The
 * parent has returned from fork (its stack write is done); the child has
 * not run yet.
 */
struct uvma_mm *uvma_fork(struct uvma_mm *parent, int *err);
/*
 * The child of a fork runs for the first time: the page it writes then may
 * drain the per-CPU LRU batches (visible in smaps as LazyFree and
 * Referenced).  Every call on the child does this first if it has not
 * happened; a caller that compares with a real child calls it when the
 * child has run (uvma diff: after the parent's state is compared).
 */
void uvma_mm_run(struct uvma_mm *mm);
/*
 * The process takes a signal that it handles (a fault the caller answered
 * with SIGSEGV or SIGBUS, say): the kernel writes a signal frame on its
 * stack.  Shared with a fork's other side, that page is copied, and the
 * copy may drain the per-CPU LRU batches as fork's own stack write does.
 */
void uvma_mm_signal(struct uvma_mm *mm);

unsigned long uvma_mm_map_count(const struct uvma_mm *mm);
struct uvma_sys *uvma_mm_sys(const struct uvma_mm *mm);

/* ---- the calls ----------------------------------------------------------- */

long uvma_mmap(struct uvma_mm *mm, uint64_t addr, uint64_t len, int prot, int flags,
	       struct uvma_file *file, uint64_t off);
int uvma_munmap(struct uvma_mm *mm, uint64_t addr, uint64_t len);
int uvma_mprotect(struct uvma_mm *mm, uint64_t start, uint64_t len, int prot);
int uvma_pkey_mprotect(struct uvma_mm *mm, uint64_t start, uint64_t len, int prot, int pkey);
int uvma_madvise(struct uvma_mm *mm, uint64_t start, uint64_t len, int advice);
int uvma_mlock(struct uvma_mm *mm, uint64_t start, uint64_t len);
int uvma_mlock2(struct uvma_mm *mm, uint64_t start, uint64_t len, int flags);
int uvma_munlock(struct uvma_mm *mm, uint64_t start, uint64_t len);
int uvma_mlockall(struct uvma_mm *mm, int flags);
int uvma_munlockall(struct uvma_mm *mm);
long uvma_mremap(struct uvma_mm *mm, uint64_t addr, uint64_t old_len, uint64_t new_len,
		 int flags, uint64_t new_addr);
/* brk never fails: it returns the new break, or the old one. */
uint64_t uvma_brk(struct uvma_mm *mm, uint64_t brk);
/* prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, start, len, name); NULL clears. */
int uvma_prctl_set_vma_anon_name(struct uvma_mm *mm, uint64_t start, uint64_t len,
				 const char *name);
int uvma_prctl_set_memory_merge(struct uvma_mm *mm, unsigned long enable);
/*
 * mseal(2): [addr, addr + len) must be mapped without a hole; its VMAs get
 * VM_SEALED (split and merged as any flag).  A sealed VMA then refuses
 * munmap, mmap(MAP_FIXED) over it, mremap of it or onto it, mprotect, and
 * the discarding madvise advices on anonymous memory it cannot write
 * (-EPERM).  0, -EINVAL (flags, alignment, overflow) or -ENOMEM (a hole).
 */
int uvma_mseal(struct uvma_mm *mm, uint64_t addr, uint64_t len, unsigned long flags);

/* mbind(2) modes, mode flags and flags, as <linux/mempolicy.h> numbers them */
#define UVMA_MPOL_DEFAULT 0
#define UVMA_MPOL_PREFERRED 1
#define UVMA_MPOL_BIND 2
#define UVMA_MPOL_INTERLEAVE 3
#define UVMA_MPOL_LOCAL 4
#define UVMA_MPOL_PREFERRED_MANY 5
#define UVMA_MPOL_WEIGHTED_INTERLEAVE 6
#define UVMA_MPOL_F_STATIC_NODES (1 << 15)
#define UVMA_MPOL_F_RELATIVE_NODES (1 << 14)
#define UVMA_MPOL_F_NUMA_BALANCING (1 << 13)
#define UVMA_MPOL_MF_STRICT 0x1
#define UVMA_MPOL_MF_MOVE 0x2
#define UVMA_MPOL_MF_MOVE_ALL 0x4
/*
 * mbind(2): the memory policy of [start, start + len), split and merged by
 * policy equality as the kernel's mpol_equal() sees it.  @nodes points to
 * the first 64 bits of the node mask (NULL as the kernel's NULL; bits past
 * them count as zero); @maxnode is the kernel's (one more than the bits
 * read).  Nodes are those of the machine's config (numa_nodes).  0 or the
 * kernel's -errno: -EINVAL (mode, flags, mask), -EFAULT (a hole, unless the
 * mode is MPOL_DEFAULT), -ENOMEM.
 */
int uvma_mbind(struct uvma_mm *mm, uint64_t start, uint64_t len, int mode, const uint64_t *nodes,
	       unsigned long maxnode, unsigned int flags);

/*
 * A page fault at @addr.  Returns 0, or -EFAULT where the kernel would send
 * SIGSEGV (no VMA, or the access is not permitted), -EHWPOISON-free model.
 */
int uvma_fault(struct uvma_mm *mm, uint64_t addr, bool write);
/* Fault every page of [start, start+len); stops at the first error. */
int uvma_touch(struct uvma_mm *mm, uint64_t start, uint64_t len, bool write);

/*
 * Page data.  The model keeps one 64-bit value per page instead of 4 KiB:
 * a write faults the page in for writing (COW and all) and stores @value;
 * a read faults it in for reading and returns what is there (0 for the zero
 * page and for new memory).  KSM merges pages with equal values.
 */
int uvma_write_value(struct uvma_mm *mm, uint64_t addr, uint64_t value);
int uvma_read_value(struct uvma_mm *mm, uint64_t addr, uint64_t *value);

/* ---- memory: reclaim, swap, pins, migration, KSM ------------------------------- */

/*
 * Reclaim the folios mapped in [start, start+len) as kswapd would, from
 * every address space that maps them (through the reverse map): clean file
 * pages leave the page cache, clean lazyfree pages are discarded, other
 * anonymous pages go to swap if the machine has any.  Mlocked, pinned,
 * migrating, KSM and large folios stay.  Returns the folios reclaimed.
 */
long uvma_reclaim(struct uvma_mm *mm, uint64_t start, uint64_t len);

struct uvma_swap_stats {
	uint64_t total, used;	/* slots */
	uint64_t cached;	/* slots whose page is also in the swap cache */
};
void uvma_swap_stats(const struct uvma_sys *sys, struct uvma_swap_stats *st);

/*
 * pin_user_pages(FOLL_PIN): pin @nr_pages pages from @start, faulting them
 * in (a write pin for writing; a read pin unshares a COW-shared page).
 * Returns how many were pinned, or a negative errno if none was; the
 * handles go to @pages.  Unpin with uvma_unpin_user_pages().
 */
struct uvma_page;
long uvma_pin_user_pages(struct uvma_mm *mm, uint64_t start, unsigned long nr_pages, bool write,
			 struct uvma_page **pages);
void uvma_unpin_user_pages(struct uvma_sys *sys, struct uvma_page **pages, unsigned long n,
			   bool make_dirty);

/*
 * Migrate the folio mapped at @addr to a new folio, as compaction would.
 * uvma_migrate_start() replaces every mapping with a migration entry and
 * returns an id (> 0); uvma_migrate_finish() completes it (-ENOENT if a
 * fault already did: a fault on a migration entry waits for the end).
 * Errors: -EFAULT (no VMA), -ENOENT (nothing mapped), -EAGAIN (pinned).
 */
long uvma_migrate_start(struct uvma_mm *mm, uint64_t addr);
int uvma_migrate_finish(struct uvma_sys *sys, long id);
int uvma_migrate(struct uvma_mm *mm, uint64_t addr);

/*
 * One full pass of ksmd over every address space.  Returns the pages merged
 * in this pass, or -ENOMEM.  A page needs to keep its value over two passes
 * before it can start a new KSM page; it joins an existing one at once.
 */
long uvma_ksm_scan(struct uvma_sys *sys);
struct uvma_ksm_stats {
	unsigned long full_scans, pages_shared, pages_sharing;
};
void uvma_ksm_stats(const struct uvma_sys *sys, struct uvma_ksm_stats *st);

/*
 * The reverse map: call @fn for every (address space, address) where a page
 * of the folio mapped at @addr is mapped (@page: which page of a large
 * folio), migration entries included.  -ENOENT if no folio is mapped there.
 */
int uvma_rmap_walk(struct uvma_mm *mm, uint64_t addr,
		   void (*fn)(void *ctx, struct uvma_mm *mm, uint64_t addr, unsigned int page),
		   void *ctx);

/* What the page table holds at an address, and the folio's state. */
enum uvma_page_state {
	UVMA_PAGE_NONE,		/* nothing: the next access faults */
	UVMA_PAGE_ZERO,		/* the shared zero page (or huge zero page) */
	UVMA_PAGE_PRESENT,	/* a folio */
	UVMA_PAGE_SWAP,		/* a swap entry */
	UVMA_PAGE_MIGRATION,	/* a migration entry */
	UVMA_PAGE_GUARD,	/* a guard marker */
};

struct uvma_page_info {
	enum uvma_page_state state;
	bool anon, ksm, large, pmd_mapped;
	bool exclusive;		/* PageAnonExclusive (or the entry's exclusive bit) */
	bool ever_shared;	/* fork shared it at least once (kept through swap) */
	bool pinned;		/* folio_maybe_dma_pinned */
	bool swapcache;		/* the folio, or the slot's page, is in the swap cache */
	bool dirty, young;
	int mapcount, refcount;
	uint64_t index;		/* folio->index */
	uint64_t anon_vma_id;	/* the anon_vma the folio names (anonymous, not KSM) */
	uint64_t swap_slot;
	unsigned int swap_count;
	uint64_t value;		/* the page's data */
};
/* -EFAULT if no VMA covers @addr. */
int uvma_page_info(const struct uvma_mm *mm, uint64_t addr, struct uvma_page_info *pi);

/* ---- queries --------------------------------------------------------------- */

struct uvma_vma_info {
	uint64_t start, end;
	uint64_t pgoff;
	uint64_t flags;		/* vm_flags */
	uint64_t anon_vma_id;	/* 0: unfaulted */
	uint64_t anon_root_id;
	unsigned int avc_count;	/* >1: a fork child */
	bool has_file;
	uint64_t dev_major, dev_minor, ino;
	const char *name;	/* as /proc shows it, or NULL */
	int pkey;
};

/*
 * The first VMA ending above @addr (find_vma).  Returns 0 and fills @info,
 * or -ENOENT.  Iterate with addr = info.end.
 */
int uvma_find_vma(const struct uvma_mm *mm, uint64_t addr, struct uvma_vma_info *info);

/* Page-level view of one VMA, as smaps reports it, in bytes. */
struct uvma_vma_usage {
	uint64_t rss, pss, pss_dirty;
	uint64_t shared_clean, shared_dirty, private_clean, private_dirty;
	uint64_t referenced, anonymous, ksm, lazyfree, anon_huge, swap, swap_pss, locked;
};
int uvma_vma_usage(const struct uvma_mm *mm, uint64_t addr, struct uvma_vma_usage *usage);

/*
 * /proc/PID/maps and /proc/PID/smaps of [lo, hi), as the kernel prints them.
 * Writes at most @size bytes including the terminating NUL and returns the
 * length the full text needs (snprintf convention), or -errno.
 */
long uvma_render_maps(const struct uvma_mm *mm, uint64_t lo, uint64_t hi, char *buf,
		      size_t size);
long uvma_render_smaps(const struct uvma_mm *mm, uint64_t lo, uint64_t hi, char *buf,
		       size_t size);

/*
 * The invariant checker.  Returns 0, or -EUCLEAN with a description of the
 * first violation in @why (may be NULL).  Debug and test builds run it after
 * every call.
 */
int uvma_validate(const struct uvma_mm *mm, char *why, size_t why_size);

/*
 * Debug and test builds run the checker after every call; this returns how
 * many calls broke an invariant, and the first description in *why.
 */
unsigned long uvma_sys_violations(const struct uvma_sys *sys, const char **why);
/* Debug builds: pause (false) or resume the checker, for bulk set-ups; resuming checks once. */
void uvma_sys_debug_checks(struct uvma_sys *sys, bool on);

/* ---- merge tracing ------------------------------------------------------------- */

/*
 * Every merge attempt, expansion and split calls the machine's event hook
 * and is counted in its address space.  A refused merge says why: the first
 * reason the engine found, in the order the kernel checks.
 */
enum uvma_event_kind {
	UVMA_EVENT_MERGE,	/* a new range joins its neighbours, or a changed range rejoins */
	UVMA_EVENT_EXPAND,	/* brk or mremap growing a VMA in place */
	UVMA_EVENT_SPLIT,
	UVMA_EVENT_RELOCATE,	/* a policy gives moved memory the identity of its new place */
	UVMA_EVENT_KINDS
};

enum uvma_reason {
	UVMA_REASON_NONE,		/* it happened */
	UVMA_REASON_SPECIAL,		/* VM_SPECIAL (VM_IO, VM_PFNMAP, ...) */
	UVMA_REASON_NO_NEIGHBOUR,	/* nothing adjacent to merge with */
	UVMA_REASON_INTERIOR,		/* a change strictly inside one VMA: nothing to merge */
	UVMA_REASON_FLAGS,		/* vm_flags differ */
	UVMA_REASON_FILE,		/* file differs */
	UVMA_REASON_PGOFF,		/* page offsets are not linear */
	UVMA_REASON_ANON_VMA,		/* different anon_vmas */
	UVMA_REASON_FORK_CHILD,		/* anon_vma shared by fork (a chain of several) */
	UVMA_REASON_POLICY,		/* mempolicy differs */
	UVMA_REASON_UFFD,		/* userfaultfd context differs */
	UVMA_REASON_ANON_NAME,		/* anon names differ */
	UVMA_REASON_CLOSE,		/* a VMA with a close hook would be removed */
	UVMA_REASON_NOMEM,		/* allocation failed */
	UVMA_REASON_MAP_COUNT,		/* a split would pass vm.max_map_count */
	UVMA_REASON_VM_OPS,		/* the mapping refuses to split (vm_ops may_split) */
	/* why a policy does not relocate */
	UVMA_REASON_ANON_VMA_SHARED,	/* the anon_vma has a fork child or is not its own root */
	UVMA_REASON_FOLIO_SHARED,	/* a page is mapped more than once */
	UVMA_REASON_LARGE_FOLIO,	/* a large folio (the 2022 RFC predates them) */
	UVMA_REASON_KSM,		/* a KSM page */
	UVMA_REASON_NOT_PRESENT,	/* a swap or migration entry, or the huge zero page */
	UVMA_REASON_FOLIO_PINNED,	/* a folio may be pinned (folio_maybe_dma_pinned) */
	UVMA_REASONS
};

struct uvma_range {
	uint64_t start, end;	/* {0, 0}: none */
};

struct uvma_event {
	enum uvma_event_kind kind;
	const char *call;	/* the system call in progress: "mmap", "mprotect", ... */
	struct uvma_range range;	/* what was asked: the new or changed range; a split: the VMA */
	struct uvma_range prev, middle, next;	/* the neighbours as they were */
	struct uvma_range target;	/* the VMA that resulted (merge, expand) or the new one (split) */
	uint64_t at;		/* split: the address */
	bool ok;
	enum uvma_reason reason;	/* UVMA_REASON_NONE when ok */
};

typedef void (*uvma_event_fn)(void *ctx, const struct uvma_mm *mm, const struct uvma_event *ev);
/* Install (or with NULL remove) the event hook of @sys. */
void uvma_sys_set_event_hook(struct uvma_sys *sys, uvma_event_fn fn, void *ctx);
const char *uvma_event_kind_name(enum uvma_event_kind k);	/* "merge", "expand", "split" */
const char *uvma_reason_name(enum uvma_reason r);		/* "none", "flags", "pgoff", ... */

struct uvma_event_counts {
	unsigned long done[UVMA_EVENT_KINDS], refused[UVMA_EVENT_KINDS];
	unsigned long reasons[UVMA_REASONS];
};
void uvma_mm_event_counts(const struct uvma_mm *mm, struct uvma_event_counts *c);

/* Counters of the merge engine, per address space. */
struct uvma_stats {
	unsigned long merge_attempts, merges, splits, vmas_peak;
	unsigned long anon_vmas, avcs, folios;
	/* relocation policies: folios given a new anon_vma or index, large folios split */
	unsigned long folios_relocated, folios_split;
};
void uvma_mm_stats(const struct uvma_mm *mm, struct uvma_stats *stats);

/* Sizes of the model's objects, in bytes, for memory accounting. */
struct uvma_sizes {
	size_t vma, tree_node, anon_vma, avc, folio, page_table, mm, file;
};
void uvma_object_sizes(struct uvma_sizes *s);

/* The two-letter VmFlags mnemonic of vm_flags bit @bit, or NULL if smaps prints none. */
const char *uvma_vm_flag_name(unsigned int bit);

/* Human-readable name of a negative errno (e.g. "ENOMEM"), or NULL. */
const char *uvma_errno_name(int err);
int uvma_errno_from_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* UVMA_H */
