// SPDX-License-Identifier: MIT
/*
 * Folios and faults (spec 1.5, 5.11): the zero page on a private read, a
 * new exclusive folio with the kernel's index on a write, COW after fork
 * with reuse of exclusive folios, the page cache of files and shmem.
 */
#include <string.h>

#include "internal.h"

#define RLIMIT_STACK_BYTES (8UL << 20)

struct uvma_folio *folio_alloc(struct uvma_sys *sys)
{
	struct uvma_folio *f = uvma_zalloc(sys, sizeof(*f));

	PAGE_LOCK_ASSERT(sys);

	if (f)
		f->refcount = 1;
	return f;
}

/* The value of page @idx of @f: what a read of it returns. */
uint64_t folio_page_content(const struct uvma_folio *f, unsigned int idx)
{
	if (!folio_large(f))
		return f->content;
	return f->contents ? f->contents[idx] : 0;
}

int folio_set_page_content(struct uvma_sys *sys, struct uvma_folio *f, unsigned int idx,
			   uint64_t value)
{
	PAGE_LOCK_ASSERT(sys);
	if (!folio_large(f)) {
		f->content = value;
		return 0;
	}
	if (!f->contents) {
		if (!value)
			return 0;
		f->contents = uvma_zalloc(sys, (size_t)folio_nr_pages(f) * sizeof(f->contents[0]));
		if (!f->contents)
			return -ENOMEM;
	}
	f->contents[idx] = value;
	return 0;
}

void folio_copy_state(struct uvma_folio *dst, const struct uvma_folio *src, unsigned int idx)
{
	dst->content = folio_page_content(src, idx);
}

static void lru_add_batch_move(struct uvma_sys *sys)
{
	for (unsigned int i = 0; i < sys->nlru_add; i++)
		sys->lru_add[i]->flags = (sys->lru_add[i]->flags & ~FOLIO_LRU_ADD_PENDING) | FOLIO_LRU;
	sys->nlru_add = 0;
	sys->lru_moves++;
}

void folio_add_lru(struct uvma_sys *sys, struct uvma_folio *f)
{
	PAGE_LOCK_SCOPE(sys);
	f->flags |= FOLIO_LRU_ADD_PENDING;
	sys->lru_add[sys->nlru_add++] = f;
	/* a full batch moves; so does any batch a large folio joins */
	if (sys->nlru_add == sizeof(sys->lru_add) / sizeof(sys->lru_add[0]) || folio_large(f))
		lru_add_batch_move(sys);
}

void mlock_batch_drain(struct uvma_sys *sys)
{
	PAGE_LOCK_SCOPE(sys);
	unsigned int n = sys->nmlock;

	/* entries take effect in order: a folio munlocked, then locked again, stays locked */
	for (unsigned int i = 0; i < n; i++) {
		if (sys->mlock_batch_unlock[i])
			sys->mlock_batch[i]->flags &= ~(FOLIO_MLOCKED | FOLIO_UNEVICTABLE);
		else
			sys->mlock_batch[i]->flags |= FOLIO_MLOCKED | FOLIO_UNEVICTABLE;
	}
	/* folio_put may free a folio: empty the batch first */
	sys->nmlock = 0;
	for (unsigned int i = 0; i < n; i++)
		folio_put(sys, sys->mlock_batch[i]);
}

void mlock_batch_add(struct uvma_sys *sys, struct uvma_folio *folio, bool munlock)
{
	PAGE_LOCK_ASSERT(sys);
	/* a large folio makes the batch process at once: no reference stays */
	if (folio_large(folio)) {
		mlock_batch_drain(sys);
		if (munlock)
			folio->flags &= ~(FOLIO_MLOCKED | FOLIO_UNEVICTABLE);
		else
			folio->flags |= FOLIO_UNEVICTABLE;
		return;
	}
	folio->refcount++;
	sys->mlock_batch_unlock[sys->nmlock] = munlock;
	sys->mlock_batch[sys->nmlock++] = folio;
	if (sys->nmlock == sizeof(sys->mlock_batch) / sizeof(sys->mlock_batch[0]))
		mlock_batch_drain(sys);
}

/* lru_add_drain: the batches of this (the only) CPU, lru_add first, mlock last. */
void lru_add_drain(struct uvma_sys *sys)
{
	PAGE_LOCK_SCOPE(sys);
	lru_add_batch_move(sys);
	for (unsigned int i = 0; i < sys->nlazyfree; i++) {
		struct uvma_folio *f = sys->lazyfree[i];

		/* lru_lazyfree: off SwapBacked, back on the (file) LRU */
		f->flags &= ~(FOLIO_LAZYFREE_PENDING | FOLIO_SWAPBACKED | FOLIO_ACTIVE |
			      FOLIO_REFERENCED);
		f->flags |= FOLIO_LRU;
	}
	sys->nlazyfree = 0;
	mlock_batch_drain(sys);
}

static void lazyfree_add(struct uvma_sys *sys, struct uvma_folio *f)
{
	/* only a folio on an LRU list can be moved (folio_test_clear_lru) */
	if (!(f->flags & FOLIO_LRU))
		return;
	f->flags = (f->flags & ~FOLIO_LRU) | FOLIO_LAZYFREE_PENDING;
	sys->lazyfree[sys->nlazyfree++] = f;
	/* a full batch moves; so does any batch a large folio joins */
	if (sys->nlazyfree == sizeof(sys->lazyfree) / sizeof(sys->lazyfree[0]) || folio_large(f))
		lru_add_drain(sys);
}

void folio_put(struct uvma_sys *sys, struct uvma_folio *folio)
{
	PAGE_LOCK_ASSERT(sys);
	if (--folio->refcount)
		return;
	UVMA_BUG_ON(folio->refcount < 0 || folio->swap);
	if (folio->flags & FOLIO_KSM)
		ksm_folio_unmapped(sys, folio);
	if (folio_large(folio))
		folio_free_large(sys, folio);
	if (folio->flags & FOLIO_LAZYFREE_PENDING) {
		for (unsigned int i = 0; i < sys->nlazyfree; i++) {
			if (sys->lazyfree[i] == folio) {
				sys->lazyfree[i] = sys->lazyfree[--sys->nlazyfree];
				break;
			}
		}
	}
	lru_add_forget(sys, folio);
	uvma_free(sys, folio, sizeof(*folio));
}

/* Take a folio that is going away out of the lru_add batch, keeping the order. */
void lru_add_forget(struct uvma_sys *sys, struct uvma_folio *folio)
{
	PAGE_LOCK_SCOPE(sys);
	if (!(folio->flags & FOLIO_LRU_ADD_PENDING))
		return;
	for (unsigned int i = 0; i < sys->nlru_add; i++) {
		if (sys->lru_add[i] == folio) {
			memmove(&sys->lru_add[i], &sys->lru_add[i + 1],
				(sys->nlru_add - i - 1) * sizeof(sys->lru_add[0]));
			sys->nlru_add--;
			break;
		}
	}
	folio->flags &= ~FOLIO_LRU_ADD_PENDING;
}

/*
 * mark_page_accessed: inactive unreferenced -> referenced -> active; an
 * unevictable folio just stays referenced (one that mlock has only queued
 * is not unevictable yet).
 */
static void folio_mark_accessed(struct uvma_folio *f)
{
	if (!(f->flags & FOLIO_REFERENCED))
		f->flags |= FOLIO_REFERENCED;
	else if (f->flags & FOLIO_UNEVICTABLE)
		return;
	else if (!(f->flags & FOLIO_ACTIVE))
		f->flags = (f->flags | FOLIO_ACTIVE) & ~FOLIO_REFERENCED;
}

void gup_touch(struct uvma_vma *vma, uint64_t addr)
{
	pte_t *pte = pt_lookup(&vma->mm->pt, addr);

	PAGE_LOCK_ASSERT(vma->mm->sys);

	if (pte && pte_is_folio(*pte))
		folio_mark_accessed(pte_folio(*pte));
}

static bool access_ok(const struct uvma_vma *vma, bool write, bool force);

/*
 * get_user_pages with FOLL_TOUCH, one page: a page that is present and
 * usable as asked is not faulted again (its PTE stays old if it was old);
 * the folio is marked accessed either way.
 */
int gup_fault(struct uvma_vma *vma, uint64_t addr, bool write, bool force)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	pte_t *pte = pt_lookup(&vma->mm->pt, addr);
	int err;

	if (pte && access_ok(vma, write, force)) {
		if (pte_is_folio(*pte)) {
			struct uvma_folio *f = pte_folio(*pte);
			bool usable = !write || (vma->flags & UVMA_VM_SHARED) ||
				      ((f->flags & FOLIO_ANON_EXCLUSIVE) && (vma->flags & UVMA_VM_WRITE));

			if (usable) {
				if (write && !(*pte & PTE_DIRTY))
					f->flags |= FOLIO_DIRTY;
				folio_mark_accessed(f);
				return 0;
			}
		} else if (*pte == PTE_ZERO && !write) {
			return 0;
		}
	}
	err = handle_fault(vma, addr, write, force);
	if (!err)
		gup_touch(vma, addr);
	return err;
}

static pte_t mk_pte(struct uvma_folio *f, bool dirty)
{
	return (pte_t)f | PTE_YOUNG | (dirty ? PTE_DIRTY : 0);
}

/* The page-cache folio of @file at @index, created on first use. */
static struct uvma_folio *pcache_get(struct uvma_sys *sys, struct uvma_file *file, uint64_t index)
{
	pte_t *slot;
	struct uvma_folio *f;

	if (!file->pages) {
		file->pages = uvma_zalloc(sys, sizeof(*file->pages));
		if (!file->pages)
			return NULL;
	}
	slot = pt_get(sys, &file->pages->pt, index << PAGE_SHIFT);
	if (!slot)
		return NULL;
	if (*slot)
		return pte_folio(*slot);
	f = folio_alloc(sys);
	if (!f)
		return NULL;
	f->mapping = file;
	f->index = index;
	if (file->shmem)
		f->flags |= FOLIO_SWAPBACKED;
	*slot = (pte_t)f;
	folio_add_lru(sys, f);
	return f;
}

static void pcache_drop(void *ctx, uint64_t addr, pte_t *pte)
{
	(void)addr;
	folio_put(ctx, pte_folio(*pte));
	*pte = 0;
}

/* Take the folio at @index out of @file's page cache, if it is there. */
static void pcache_remove(struct uvma_sys *sys, struct uvma_file *file, uint64_t index)
{
	pte_t *slot = file->pages ? pt_lookup(&file->pages->pt, index << PAGE_SHIFT) : NULL;

	if (slot && *slot)
		pcache_drop(sys, 0, slot);
}

struct evict_ctx {
	struct uvma_sys *sys;
	bool drain;	/* before the first page goes (shmem) */
};

static void pcache_evict_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct evict_ctx *e = ctx;

	if (e->drain) {
		lru_add_drain(e->sys);
		e->drain = false;
	}
	pcache_drop(e->sys, addr, pte);
}

/*
 * The last reference to a file is gone.  For shmem (shared anonymous memory,
 * memfd) the inode goes too, and truncating its pages releases them through
 * a folio batch, which drains this CPU's LRU batches first: pending lazyfree
 * pages lose SwapBacked (fuzz seed 99, program 270: a shared anonymous
 * mapping unmapped in two steps, MADV_FREE between).  A regular file keeps
 * its page cache in the kernel; the model's goes without a trace.
 */
void pcache_destroy(struct uvma_sys *sys, struct pcache *pc, bool shmem)
{
	PAGE_LOCK_SCOPE(sys);
	struct evict_ctx e = { sys, shmem };

	pt_walk(&pc->pt, 0, 1ULL << 48, pcache_evict_one, &e);
	pt_destroy(sys, &pc->pt);
	uvma_free(sys, pc, sizeof(*pc));
}

static bool access_ok(const struct uvma_vma *vma, bool write, bool force)
{
	if (write)
		return (vma->flags & UVMA_VM_WRITE) ||
		       (force && (vma->flags & UVMA_VM_MAYWRITE) && !(vma->flags & UVMA_VM_SHARED));
	if (!(vma->flags & VM_ACCESS_FLAGS))
		return false;
	/* exec-only memory under its protection key cannot be read */
	if ((vma->flags & VM_ACCESS_FLAGS) == UVMA_VM_EXEC &&
	    (vma->flags & UVMA_VM_PKEY_MASK) && !force)
		return false;
	return true;
}

/*
 * The identity of a new exclusive anonymous folio (any order) faulted at
 * @addr: dirtiness lives in the PTE, so PG_dirty stays clear.  Droppable
 * memory is never SwapBacked (folio_add_new_anon_rmap): smaps counts its
 * clean pages as LazyFree, and reclaim drops them even dirty.
 */
void anon_folio_init(struct uvma_folio *f, const struct uvma_vma *vma, uint64_t addr)
{
	PAGE_LOCK_ASSERT(vma->mm->sys);
	f->mapping = vma->anon_vma;
	f->index = linear_page_index(vma, addr);
	f->flags = FOLIO_ANON | FOLIO_ANON_EXCLUSIVE |
		   (vma->flags & UVMA_VM_DROPPABLE ? FOLIO_DROPPABLE : FOLIO_SWAPBACKED);
	if (vma->flags & UVMA_VM_LOCKED)
		f->flags |= FOLIO_MLOCKED | FOLIO_UNEVICTABLE;
}

/*
 * A new exclusive anonymous folio for @addr, mapped by @pte: zero-filled, or
 * a copy of page @idx of @src.
 */
static int new_anon_page_dirty(struct uvma_vma *vma, uint64_t addr, pte_t *pte,
			       const struct uvma_folio *src, unsigned int idx, bool dirty)
{
	struct uvma_folio *f;
	int err = anon_vma_prepare(vma);

	if (err)
		return err;
	f = folio_alloc(vma->mm->sys);
	if (!f)
		return -ENOMEM;
	anon_folio_init(f, vma, addr);
	if (src)
		folio_copy_state(f, src, idx);
	f->mapcount = 1;
	*pte = mk_pte(f, dirty);
	folio_add_lru(vma->mm->sys, f);
	vma->mm->pstats.folios++;
	return 0;
}

static int new_anon_page(struct uvma_vma *vma, uint64_t addr, pte_t *pte,
			 const struct uvma_folio *src, unsigned int idx)
{
	return new_anon_page_dirty(vma, addr, pte, src, idx, true);
}

/*
 * Drop one mapping of a folio (zap or COW).  Unmapped from a VM_LOCKED VMA
 * it is munlocked: evictable again (the kernel keeps an mlock count; a folio
 * locked in two VMAs is rare enough to leave out).
 */
void folio_unmap_page(struct uvma_sys *sys, struct uvma_folio *f, uint64_t idx, bool locked)
{
	PAGE_LOCK_ASSERT(sys);
	if (locked)
		mlock_batch_add(sys, f, true);
	if (folio_large(f))
		f->pmap[idx]--;
	else
		f->mapcount--;
	/* free_swap_cache: an unmapped swap-cache folio whose slot is unused goes */
	if (f->swap && !f->mapcount)
		folio_free_swap(sys, f);
	folio_put(sys, f);
}

static void folio_unmap(struct uvma_sys *sys, struct uvma_folio *f)
{
	folio_unmap_page(sys, f, 0, false);
}

/* The folio's page that @vma maps at @addr. */
static uint64_t folio_idx(const struct uvma_vma *vma, const struct uvma_folio *f, uint64_t addr)
{
	return folio_large(f) ? linear_page_index(vma, addr) - f->index : 0;
}

/* All of the folio's mappings are this one's (folio_mapcount == nr_pages). */
static bool folio_mapped_once(const struct uvma_folio *f)
{
	int sum = 0;

	if (!folio_large(f))
		return f->mapcount == 1;
	for (int i = 0; i < folio_nr_pages(f); i++)
		sum += f->pmap[i];
	return f->entire == 0 && sum == folio_nr_pages(f);
}

/* Set bits on the 512 PTEs of the PMD mapping that contains @addr. */
static void pmd_set(struct uvma_mm *mm, uint64_t addr, pte_t bits)
{
	pte_t *ptes = pt_lookup(&mm->pt, addr & ~(PMD_SIZE - 1));

	for (int i = 0; i < HPAGE_PMD_NR; i++)
		ptes[i] |= bits;
}

/* A step of the reverse-map walk: *ctx (an address space) becomes NULL at a mapping in another. */
static bool mapped_by_other_mm(struct uvma_vma *vma, uint64_t addr, pte_t *pte, void *ctx)
{
	struct uvma_mm **mm = ctx;

	(void)addr;
	if (!pte_is_folio(*pte) || vma->mm == *mm)
		return true;
	*mm = NULL;	/* found one: stop */
	return false;
}

/*
 * __wp_can_reuse_large_anon_folio: a large anonymous folio is written in
 * place when every mapping of it is in this address space and nothing else
 * holds it (its references are its mappings), unless a single page of it
 * is mapped (then the copy lets the folio go).  The kernel knows "this
 * address space only" from the folio's two MM slots and their shared bit;
 * the model walks the reverse map.  (They differ when a third process that
 * got no slot is the last to map the folio: the kernel copies there.)
 */
static bool large_anon_folio_reusable(struct uvma_vma *vma, struct uvma_folio *f)
{
	struct uvma_mm *mm = vma->mm;
	long mapped = f->entire;

	for (int i = 0; i < folio_nr_pages(f); i++)
		mapped += f->pmap[i];
	if (mapped <= 1 || f->refcount != mapped || f->swap || (f->flags & FOLIO_MIGRATING))
		return false;
	rmap_walk(mm->sys, f, mapped_by_other_mm, &mm);
	return mm != NULL;
}

/*
 * Write to a present anonymous folio: reuse it if only we hold it, else copy.
 * @unshare is FAULT_FLAG_UNSHARE (GUP pinning a shared page, breaking KSM):
 * the page becomes exclusive but is not written, so nothing gets dirty.
 */
static int wp_anon(struct uvma_vma *vma, uint64_t addr, pte_t *pte, bool unshare)
{
	struct uvma_folio *f = pte_folio(*pte);
	struct uvma_sys *sys = vma->mm->sys;
	pte_t old = *pte, written = unshare ? 0 : PTE_YOUNG | PTE_DIRTY;
	int err;

	if (*pte & PTE_PMD) {
		/*
		 * An exclusive THP is written in place, and so is one whose only
		 * reference is this PMD mapping (do_huge_pmd_wp_page reuses it:
		 * a child that shared it has gone); a shared one is split first.
		 */
		if (!(f->flags & FOLIO_ANON_EXCLUSIVE) && f->refcount == 1 && f->entire == 1 &&
		    !f->swap && !(f->flags & FOLIO_MIGRATING)) {
			f->mapping = vma->anon_vma;
			f->flags |= FOLIO_ANON_EXCLUSIVE;
		}
		if (f->flags & FOLIO_ANON_EXCLUSIVE) {
			pmd_set(vma->mm, addr, written);
			return 0;
		}
		thp_split_at(vma->mm, addr);
		old = *pte;
	}
	if (f->flags & FOLIO_ANON_EXCLUSIVE) {
		*pte |= written;
		return 0;
	}
	/* wp_can_reuse_anon_folio: never a KSM folio; the swap cache lets go first */
	if (!folio_large(f) && !(f->flags & FOLIO_KSM) && f->swap && f->mapcount == 1 &&
	    f->refcount == 2)
		folio_free_swap(sys, f);
	if ((!folio_large(f) && !(f->flags & FOLIO_KSM) && f->refcount == 1 && f->mapcount == 1) ||
	    (folio_large(f) && large_anon_folio_reusable(vma, f))) {
		/* The last mappings of a once-shared folio: take it over. */
		f->mapping = vma->anon_vma;
		f->flags |= FOLIO_ANON_EXCLUSIVE;
		*pte |= written;
		return 0;
	}
	err = new_anon_page(vma, addr, pte, f, (unsigned int)folio_idx(vma, f, addr));
	if (err) {
		*pte = old;
		return err;
	}
	if (unshare)
		*pte &= ~PTE_DIRTY;
	folio_unmap_page(sys, f, folio_idx(vma, f, addr), vma->flags & UVMA_VM_LOCKED);
	return 0;
}

static int do_wp_anon(struct uvma_vma *vma, uint64_t addr, pte_t *pte)
{
	return wp_anon(vma, addr, pte, false);
}

int unshare_anon(struct uvma_vma *vma, uint64_t addr, pte_t *pte)
{
	PAGE_LOCK_ASSERT(vma->mm->sys);
	return wp_anon(vma, addr, pte, true);
}

int copy_anon_page(struct uvma_vma *vma, uint64_t addr, pte_t *pte)
{
	struct uvma_folio *f = pte_folio(*pte);
	uint64_t idx;
	pte_t old;
	int err;

	PAGE_LOCK_ASSERT(vma->mm->sys);

	if (*pte & PTE_PMD)
		thp_split_at(vma->mm, addr);
	old = *pte;
	idx = folio_idx(vma, f, addr);
	err = new_anon_page(vma, addr, pte, f, (unsigned int)idx);
	if (err) {
		*pte = old;
		return err;
	}
	/* a copy, not a write: the page is as dirty as it was */
	*pte = (*pte & ~PTE_DIRTY) | (old & PTE_DIRTY);
	folio_unmap_page(vma->mm->sys, f, idx, vma->flags & UVMA_VM_LOCKED);
	return 0;
}

static int expand_downwards(struct uvma_vma *vma, uint64_t addr)
{
	struct uvma_mm *mm = vma->mm;
	struct uvma_vma *prev;
	uint64_t grow;
	int err;

	addr &= PAGE_MASK;
	if (addr < mm->sys->cfg.mmap_min_addr)
		return -EPERM;
	prev = vma_prev_of(mm, vma);
	if (prev && !(prev->flags & UVMA_VM_GROWSDOWN) && (prev->flags & VM_ACCESS_FLAGS) &&
	    addr - prev->end < STACK_GUARD_GAP)
		return -ENOMEM;
	if (prev && prev->end > addr)
		return -ENOMEM;
	vma_start_write(vma);
	err = anon_vma_prepare(vma);
	if (err)
		return err;
	grow = (vma->start - addr) >> PAGE_SHIFT;
	if (grow > vma->pgoff)
		return -ENOMEM;
	if (vma->end - addr > RLIMIT_STACK_BYTES)
		return -ENOMEM;
	/* The start moves down; the tree key (the end) does not change. */
	anon_vma_pre_update(vma);
	vma->start = addr;
	vma->pgoff -= grow;
	anon_vma_post_update(vma);
	vm_stat_account(mm, vma->flags, (long)grow);
	if (vma->flags & UVMA_VM_LOCKED)
		mm->locked_vm += grow;
	return 0;
}

/*
 * A small file folio mapped into a VM_LOCKED VMA is mlocked there and then
 * (folio_add_file_rmap -> mlock_vma_folio), through the mlock batch: it is
 * unevictable from then on, and folio_mark_accessed leaves it alone.
 */
static void map_file_folio(struct uvma_vma *vma, pte_t *pte, struct uvma_folio *f, bool dirty)
{
	f->refcount++;
	f->mapcount++;
	*pte = mk_pte(f, dirty);
	if ((vma->flags & (UVMA_VM_LOCKED | VM_SPECIAL)) == UVMA_VM_LOCKED && !folio_large(f)) {
		f->flags |= FOLIO_MLOCKED;
		mlock_batch_add(vma->mm->sys, f, false);
	}
}

#define FAULT_AROUND_PAGES 16	/* fault_around_bytes: 64 KiB */

/*
 * A read fault on a file mapping first maps the pages of the file that are
 * already cached in the 16-page block around @addr (clamped to the VMA and
 * to the page table), young and clean; only a page not cached is read in.
 */
static void do_fault_around(struct uvma_vma *vma, uint64_t addr)
{
	struct uvma_file *file = vma->file;
	uint64_t pte_off = (addr >> PAGE_SHIFT) & (PT_ENTRIES - 1);
	uint64_t vma_off = (addr - vma->start) >> PAGE_SHIFT;
	uint64_t from = pte_off & ~(uint64_t)(FAULT_AROUND_PAGES - 1);
	uint64_t to;

	if (!file->pages)
		return;
	if (pte_off - from > vma_off)
		from = pte_off - vma_off;
	to = from + FAULT_AROUND_PAGES;
	if (to > PT_ENTRIES)
		to = PT_ENTRIES;
	if (to > pte_off + vma_pages(vma) - vma_off)
		to = pte_off + vma_pages(vma) - vma_off;
	for (uint64_t i = from; i < to; i++) {
		uint64_t a = addr - ((pte_off - i) << PAGE_SHIFT);
		uint64_t index = linear_page_index(vma, a);
		pte_t *cached = pt_lookup(&file->pages->pt, index << PAGE_SHIFT);
		pte_t *pte;

		if (!cached || !*cached || index >= (file->size + PAGE_SIZE - 1) >> PAGE_SHIFT)
			continue;
		pte = pt_lookup(&vma->mm->pt, a);
		if (!pte || *pte)
			continue;
		map_file_folio(vma, pte, pte_folio(*cached), false);
	}
}

int handle_fault(struct uvma_vma *vma, uint64_t addr, bool write, bool force)
{
	struct uvma_sys *sys = vma->mm->sys;
	pte_t *pte;
	struct uvma_folio *f;

	PAGE_LOCK_ASSERT(vma->mm->sys);

	if (!access_ok(vma, write, force))
		return -EFAULT;
	addr &= PAGE_MASK;
	pte = pt_get(sys, &vma->mm->pt, addr);
	if (!pte)
		return -ENOMEM;
	if (*pte == PTE_GUARD)
		return -EFAULT;
	if (pte_is_migration(*pte)) {
		/* migration_entry_wait: the migration ends, then the fault retries */
		int err = migration_entry_wait(sys, *pte);

		if (err)
			return err;
	}
	if (pte_is_swap(*pte)) {
		int r = do_swap_page(vma, addr, pte, write);

		if (r <= 0)
			return r;
		return do_wp_anon(vma, addr, pte);
	}
	if (vma->file) {
		uint64_t index = linear_page_index(vma, addr);
		bool cow = write && !(vma->flags & UVMA_VM_SHARED);
		bool past_eof = index >= (vma->file->size + PAGE_SIZE - 1) >> PAGE_SHIFT;

		if (pte_is_folio(*pte)) {
			f = pte_folio(*pte);
			if (!cow || (f->flags & FOLIO_ANON)) {
				if (f->flags & FOLIO_ANON) {
					if (write)
						return do_wp_anon(vma, addr, pte);
					*pte |= PTE_YOUNG;
					return 0;
				}
				/*
				 * shmem needs no write notification, so its shared PTEs
				 * are writable from the start: a store only dirties the
				 * PTE.  Other files take a write fault that dirties the
				 * folio.
				 */
				*pte |= PTE_YOUNG | (write ? PTE_DIRTY : 0);
				if (write && !vma->file->shmem)
					f->flags |= FOLIO_DIRTY;
				return 0;
			}
			/* write to a private file page: an anonymous copy */
			{
				pte_t old = *pte;
				int err = new_anon_page(vma, addr, pte, f, 0);

				if (err) {
					*pte = old;
					return err;
				}
				folio_unmap_page(sys, f, 0, vma->flags & UVMA_VM_LOCKED);
				return 0;
			}
		}
		/*
		 * Past the end of the file the filesystem's fault handler raises
		 * SIGBUS; a read fault maps the cached pages around the address
		 * before it asks the handler, so those stay mapped.
		 */
		if (past_eof) {
			if (!write)
				do_fault_around(vma, addr);
			return -EFAULT;
		}
		if (cow) {
			/* do_cow_fault reads the page into the cache, then copies it */
			f = pcache_get(sys, vma->file, index);
			if (!f)
				return -ENOMEM;
			return new_anon_page(vma, addr, pte, f, 0);
		}
		if (!write) {
			do_fault_around(vma, addr);
			if (*pte)
				return 0;
		}
		f = pcache_get(sys, vma->file, index);
		if (!f)
			return -ENOMEM;
		if (write)
			f->flags |= FOLIO_DIRTY;
		map_file_folio(vma, pte, f, write);
		return 0;
	}
	/* private anonymous: a whole THP first, where the VMA allows it */
	if (!*pte || *pte == PTE_HUGE_ZERO) {
		int r = thp_fault(vma, addr, write);

		if (r < 0)
			return r;
		if (r)
			return 0;
		if (*pte == PTE_HUGE_ZERO) {
			if (!write)
				return 0;
			thp_split_at(vma->mm, addr);
		}
	}
	if (!*pte || *pte == PTE_ZERO) {
		/*
		 * do_anonymous_page: a read maps the zero page where the kernel
		 * allows it; otherwise reads and writes alike get a folio (mTHP
		 * too), whose PTEs are dirty only if the VMA is writable.
		 */
		bool dirty = write || (vma->flags & UVMA_VM_WRITE);

		/*
		 * A read finds the zero page mapped where it is (a split maps
		 * zero-filled pages to it even where faults may not): no fault.
		 */
		if (!write && (*pte == PTE_ZERO || !sys->cfg.forbid_zero_page)) {
			*pte = PTE_ZERO;
			return 0;
		}
		if (!*pte) {
			int r = mthp_fault(vma, addr, dirty);

			if (r)
				return r < 0 ? r : 0;
		}
		return new_anon_page_dirty(vma, addr, pte, NULL, 0, dirty);
	}
	if (!write) {
		if (*pte & PTE_PMD)
			pmd_set(vma->mm, addr, PTE_YOUNG);
		else
			*pte |= PTE_YOUNG;
		return 0;
	}
	return do_wp_anon(vma, addr, pte);
}

#ifdef UVMA_MT
/*
 * The fault paths of the multi-threaded build, as do_user_addr_fault():
 * first the VMA lock, found under RCU without the mmap_lock; then the
 * mmap_lock for reading; then, to grow a stack, for writing (the kernel's
 * lock_mm_and_find_vma upgrade).  The fault itself runs under the page lock.
 *
 * A VMA without an anon_vma is left to the mmap_lock path, as the kernel's
 * vmf_anon_prepare() does: preparing one looks at the neighbours.
 */
#ifndef UVMA_MT_LOCK_ONLY	/* the benchmark's baseline: the mmap_lock alone */
static int fault_vma_locked(struct uvma_mm *mm, uint64_t addr, bool write, bool *done)
{
	struct uvma_vma *vma = lock_vma_under_rcu(mm, addr);
	int err = 0;

	*done = false;
	if (!vma)
		return 0;
	page_lock(mm->sys);
	if (vma->anon_vma || (vma->flags & UVMA_VM_SHARED)) {
		err = handle_fault(vma, addr, write, false);
		*done = true;
#ifdef UVMA_DEBUG
		/* what the VMA lock promises: nobody detached, reused or moved it */
		UVMA_BUG_ON(vma_refcnt_read(vma) < 2 || vma->mm != mm || addr < vma->start ||
			    addr >= vma->end);
#endif
	}
	page_unlock(mm->sys);
	vma_end_read(vma);
	mt_count(*done ? &mm->faults_vma_lock : &mm->vma_lock_misses);
	return err;
}
#endif

static int fault_mmap_read(struct uvma_mm *mm, uint64_t addr, bool write, bool *done)
{
	struct uvma_vma *vma;
	int err = 0;

	*done = false;
	pthread_rwlock_rdlock(&mm->mmap_lock);
	vma = vma_find(mm, addr);
	if (vma && vma->start <= addr) {
		page_lock(mm->sys);
		err = handle_fault(vma, addr, write, false);
		mm_debug_validate(mm);
		page_unlock(mm->sys);
		*done = true;
		mt_count(&mm->faults_mmap_lock);
	}
	pthread_rwlock_unlock(&mm->mmap_lock);
	return err;
}
#endif

/* A fault inside a call that holds the mmap_lock for writing. */
int fault_in_call(struct uvma_mm *mm, uint64_t addr, bool write)
{
	struct uvma_vma *vma = vma_find(mm, addr);
	int err;

	if (!vma)
		return -EFAULT;
	if (vma->start > addr) {
		if (!(vma->flags & UVMA_VM_GROWSDOWN) || expand_downwards(vma, addr))
			return -EFAULT;
	}
	page_lock(mm->sys);
	err = handle_fault(vma, addr, write, false);
	page_unlock(mm->sys);
	mm_debug_validate(mm);
	return err;
}

int uvma_fault(struct uvma_mm *mm, uint64_t addr, bool write)
{
	mm_first_run(mm);
#ifdef UVMA_MT
	bool done;
	int err;

#ifndef UVMA_MT_LOCK_ONLY
	err = fault_vma_locked(mm, addr, write, &done);
	if (done)
		return err;
#endif
	err = fault_mmap_read(mm, addr, write, &done);
	if (done)
		return err;
#endif
	/* no VMA covers addr: a stack may grow down to it */
	MM_WRITE_GUARD(mm);
	return fault_in_call(mm, addr, write);
}

int uvma_touch(struct uvma_mm *mm, uint64_t start, uint64_t len, bool write)
{
	uint64_t end = PAGE_ALIGN(start + len);

	for (uint64_t a = start & PAGE_MASK; a < end; a += PAGE_SIZE) {
		int err = uvma_fault(mm, a, write);

		if (err)
			return err;
	}
	return 0;
}

/*
 * Fault in [start, end) as GUP would for mlock and MAP_POPULATE: writable
 * private memory with write faults, the rest with read faults.
 */
int populate_range(struct uvma_mm *mm, uint64_t start, uint64_t end, bool write_unused,
		   bool ignore_errors)
{
	PAGE_LOCK_SCOPE(mm->sys);
	struct uvma_vma *vma;
	bool gup_ran = false;
	int ret = 0;

	(void)write_unused;
	for (vma = vma_find(mm, start); vma && vma->start < end; vma = vma_find(mm, vma->end)) {
		uint64_t s = vma->start > start ? vma->start : start;
		uint64_t e = vma->end < end ? vma->end : end;
		bool write = (vma->flags & (UVMA_VM_WRITE | UVMA_VM_SHARED)) == UVMA_VM_WRITE;

		if (vma->flags & (UVMA_VM_IO | UVMA_VM_PFNMAP))
			continue;
		if (vma->flags & UVMA_VM_LOCKONFAULT)
			continue;
		if (!(vma->flags & VM_ACCESS_FLAGS)) {
			if (ignore_errors)
				continue;
			ret = -EFAULT;
			break;
		}
		gup_ran = true;
		for (uint64_t a = s; a < e; a += PAGE_SIZE) {
			ret = gup_fault(vma, a, write, true);
			if (ret)
				break;
		}
		if (ret) {
			if (!ignore_errors)
				break;
			ret = 0;
		}
	}
	/* GUP leaves the LRU batches drained (observed on the host); no GUP, no drain */
	if (gup_ran)
		lru_add_drain(mm->sys);
	return ret;
}

/* ---- page-level operations on a range -------------------------------------------- */

struct zap_ctx {
	struct uvma_sys *sys;
	const struct uvma_vma *vma;
	bool keep_guards;
	bool locked;	/* the VMA is VM_LOCKED: its folios are munlocked */
	bool recency;	/* vma_has_recency: no SEQ_READ or RAND_READ hint */
};

static void zap_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct zap_ctx *z = ctx;

	if (pte_is_folio(*pte) && (*pte & PTE_PMD)) {
		/* a whole PMD mapping: the range's partial blocks were split before */
		struct uvma_folio *f = pte_folio(*pte);

		UVMA_BUG_ON(addr & (PMD_SIZE - 1));
		for (int i = 0; i < HPAGE_PMD_NR; i++)
			pte[i] = 0;
		if (z->locked)
			f->flags &= ~(FOLIO_MLOCKED | FOLIO_UNEVICTABLE);
		f->entire--;
		folio_put(z->sys, f);
		return;
	}
	if (pte_is_folio(*pte)) {
		struct uvma_folio *f = pte_folio(*pte);

		/* a file page's dirtiness moves to the folio, its youth marks it accessed */
		if (!(f->flags & FOLIO_ANON)) {
			if (*pte & PTE_DIRTY)
				f->flags |= FOLIO_DIRTY;
			if ((*pte & PTE_YOUNG) && z->recency)
				folio_mark_accessed(f);
		}
		folio_unmap_page(z->sys, f, folio_idx(z->vma, f, addr), z->locked);
	} else if (*pte == PTE_GUARD && z->keep_guards) {
		return;
	} else if (pte_is_swap(*pte)) {
		swap_entry_free(z->sys, *pte);
	}
	/* a migration entry holds no mapping of its folio: it just goes */
	*pte = 0;
}

/*
 * Zapping does not drain the per-CPU LRU batches in 6.18 (munmap goes
 * through vms_clear_ptes, which does not); exit_mmap drains them itself.
 */
static bool vma_has_recency(const struct uvma_vma *vma)
{
	return !(vma->flags & (UVMA_VM_SEQ_READ | UVMA_VM_RAND_READ));
}

/* The zap itself, page lock held: partly covered PMD mappings are split first. */
static void zap_range_locked(struct uvma_vma *vma, uint64_t start, uint64_t end, bool keep_guards)
{
	struct zap_ctx z = { .sys = vma->mm->sys, .vma = vma, .keep_guards = keep_guards,
			     .recency = vma_has_recency(vma),
			     .locked = vma->flags & UVMA_VM_LOCKED };

	thp_split_boundaries(vma->mm, start, end);
	pt_walk(&vma->mm->pt, start, end, zap_one, &z);
}

/*
 * Unmap and exit: @vma is out of the tree and write-locked, so nothing can
 * fault into it.  A range that no PTE table covers (a VMA never faulted)
 * has nothing to zap, and the page lock is not taken: in a threaded
 * embedder a mapper would otherwise wait for the faulting threads' page
 * lock on every munmap of fresh memory.
 */
void zap_range(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	if (pt_range_empty(&vma->mm->pt, start, end))
		return;
	PAGE_LOCK_SCOPE(vma->mm->sys);
	zap_range_locked(vma, start, end, false);
}

/* MADV_DONTNEED: guard markers stay; no LRU drain (observed: pending lazyfree stays). */
void zap_range_keep_guards(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	zap_range_locked(vma, start, end, true);
}

struct free_ctx {
	struct uvma_sys *sys;
	uint64_t lo_idx, hi_idx;	/* the range, as page offsets of its VMA */
};

static void free_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct free_ctx *fc = ctx;
	struct uvma_folio *f;

	(void)addr;
	if (!pte_is_folio(*pte) || pte_pmd_mapped(*pte))
		return;
	f = pte_folio(*pte);
	if (!(f->flags & FOLIO_ANON))
		return;
	/*
	 * A large folio the range covers in part is still whole here only if
	 * it may be mapped shared (an exclusive one was split): its pages in
	 * the range are skipped, young and dirty kept, and the walk goes on.
	 */
	if (folio_large(f) &&
	    (f->index < fc->lo_idx || f->index + (uint64_t)folio_nr_pages(f) > fc->hi_idx))
		return;
	/* PG_dirty is cleared only on a folio nobody else maps; a shared one is skipped */
	if (f->flags & FOLIO_DIRTY) {
		if (!folio_mapped_once(f))
			return;
		f->flags &= ~FOLIO_DIRTY;
	}
	*pte &= ~(PTE_DIRTY | PTE_YOUNG);
	/* SwapBacked goes when the batch drains, unless it is mlocked */
	if ((f->flags & FOLIO_SWAPBACKED) && !(f->flags & FOLIO_MLOCKED))
		lazyfree_add(fc->sys, f);
}

/*
 * Whole PMD mappings that [start, end) covers, for MADV_FREE and COLD: the
 * kernel works on them at PMD level when nobody else maps the folio.  Large
 * folios covered in part are split first (the folio, not just the mapping).
 */
static void thp_whole_pmds(struct uvma_vma *vma, uint64_t start, uint64_t end, bool free)
{
	thp_split_partial_folios(vma, start, end, false);
	for (uint64_t a = (start + PMD_SIZE - 1) & ~(PMD_SIZE - 1); a + PMD_SIZE <= end;
	     a += PMD_SIZE) {
		pte_t *ptes = pt_lookup(&vma->mm->pt, a);
		struct uvma_folio *f;

		if (!ptes || !pte_is_folio(ptes[0]) || !(ptes[0] & PTE_PMD))
			continue;
		f = pte_folio(ptes[0]);
		if (f->entire != 1)
			continue; /* maybe mapped shared: left alone */
		for (int i = 0; i < HPAGE_PMD_NR; i++)
			ptes[i] &= ~(free ? (PTE_YOUNG | PTE_DIRTY) : PTE_YOUNG);
		if (free) {
			f->flags &= ~FOLIO_DIRTY;
			if ((f->flags & FOLIO_SWAPBACKED) && !(f->flags & FOLIO_MLOCKED))
				lazyfree_add(vma->mm->sys, f);
		} else {
			f->flags &= ~(FOLIO_REFERENCED | FOLIO_ACTIVE);
		}
	}
}

/* MADV_FREE drains the LRU batches first, so fresh folios can become lazyfree. */
void madvise_free_range(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct free_ctx fc = { vma->mm->sys, linear_page_index(vma, start),
			       linear_page_index(vma, end) };

	lru_add_drain(vma->mm->sys);
	thp_whole_pmds(vma, start, end, true);
	pt_walk(&vma->mm->pt, start, end, free_one, &fc);
}

static void cold_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct uvma_folio *f;

	(void)ctx;
	(void)addr;
	if (!pte_is_folio(*pte) || pte_pmd_mapped(*pte))
		return;
	f = pte_folio(*pte);
	/* other mappings of the folio are left alone */
	if (!folio_mapped_once(f))
		return;
	*pte &= ~PTE_YOUNG;
	f->flags &= ~(FOLIO_REFERENCED | FOLIO_ACTIVE);
}

void madvise_cold_range(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	lru_add_drain(vma->mm->sys);
	thp_whole_pmds(vma, start, end, false);
	pt_walk(&vma->mm->pt, start, end, cold_one, NULL);
}

/*
 * MADV_PAGEOUT: reclaim the folios that only this mapping maps.  Without
 * swap only what needs no writing goes: clean file folios and clean lazyfree
 * anonymous ones; reclaim puts a SwapBacked folio it cannot write back on
 * the active list.
 */
static void pageout_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct uvma_folio *f;

	(void)addr;
	if (!pte_is_folio(*pte))
		return;
	f = pte_folio(*pte);
	if (!folio_mapped_once(f) || folio_large(f))
		return;
	/* unlike COLD, the PTE keeps its young bit: reclaim ignores references */
	f->flags &= ~FOLIO_REFERENCED;
	if (f->flags & FOLIO_MLOCKED)
		return;
	if (!reclaim_folio(ctx, f) && (f->flags & FOLIO_ANON))
		f->flags |= FOLIO_ACTIVE;
}

void madvise_pageout_range(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	lru_add_drain(vma->mm->sys);
	/*
	 * Partly covered exclusive large folios are split; so are whole ones,
	 * because reclaim cannot write a large folio anywhere without swap
	 * (and the model swaps order-0 folios only).
	 */
	thp_split_partial_folios(vma, start, end, true);
	pt_walk(&vma->mm->pt, start, end, pageout_one, vma->mm->sys);
}

static void unmap_file_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct uvma_folio *f;

	(void)addr;
	if (!pte_is_folio(*pte))
		return;
	f = pte_folio(*pte);
	/* private COW copies are not the file's pages and stay */
	if (f->flags & FOLIO_ANON)
		return;
	folio_unmap(ctx, f);
	*pte = 0;
}

static void note_cached(void *ctx, uint64_t addr, pte_t *slot)
{
	(void)addr;
	if (*slot)
		*(bool *)ctx = true;
}

/*
 * Punch a hole in the file behind [start, end) of @vma: its pages leave
 * every mapping of them, in every address space, then the page cache.  The
 * truncation releases them through a folio batch, whose first release
 * drains this CPU's LRU batches: only when the hole had pages (fuzz seed
 * 5656, program 2079: MADV_REMOVE of untouched shmem drains nothing).
 */
void shmem_punch_range(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct uvma_file *file = vma->file;
	struct uvma_sys *sys = vma->mm->sys;
	uint64_t first = linear_page_index(vma, start), last = linear_page_index(vma, end - PAGE_SIZE);
	bool cached = false;

	for (struct list_head *p = sys->mms.next; p != &sys->mms; p = p->next) {
		struct uvma_mm *mm = container_of(p, struct uvma_mm, node);
		struct tree_cursor cur;

		for (struct uvma_vma *v = tree_first(&mm->tree, &cur); v; v = tree_cursor_next(&cur)) {
			uint64_t lo, hi;

			if (v->file != file)
				continue;
			lo = v->pgoff > first ? v->pgoff : first;
			hi = v->pgoff + vma_pages(v) - 1 < last ? v->pgoff + vma_pages(v) - 1 : last;
			if (lo > hi)
				continue;
			pt_walk(&mm->pt, v->start + ((lo - v->pgoff) << PAGE_SHIFT),
				v->start + ((hi + 1 - v->pgoff) << PAGE_SHIFT), unmap_file_one, sys);
		}
	}
	if (!file->pages)
		return;
	pt_walk(&file->pages->pt, first << PAGE_SHIFT, (last + 1) << PAGE_SHIFT, note_cached,
		&cached);
	if (cached)
		lru_add_drain(sys);
	for (uint64_t i = first; i <= last; i++)
		pcache_remove(sys, file, i);
}

/*
 * MADV_GUARD_INSTALL zaps the range first, as MADV_DONTNEED does (a file
 * page's dirty PTE marks its folio dirty, a young one marks it accessed; a
 * whole PMD mapping goes at once), then puts a marker in every PTE.
 */
int guard_install_range(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct uvma_sys *sys = vma->mm->sys;

	zap_range_locked(vma, start, end, true);
	for (uint64_t a = start; a < end; a += PAGE_SIZE) {
		pte_t *pte = pt_get(sys, &vma->mm->pt, a);

		if (!pte)
			return -ENOMEM;
		UVMA_BUG_ON(*pte != 0 && *pte != PTE_GUARD);
		*pte = PTE_GUARD;
	}
	return 0;
}

static void unguard_one(void *ctx, uint64_t addr, pte_t *pte)
{
	(void)ctx;
	(void)addr;
	if (*pte == PTE_GUARD)
		*pte = 0;
}

void guard_remove_range(struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	pt_walk(&vma->mm->pt, start, end, unguard_one, NULL);
}

/* ---- fork and mremap ------------------------------------------------------------------ */

struct copy_ctx {
	struct uvma_vma *dst;
	struct uvma_vma *src;
	int err;
};

/*
 * copy_present_page: the child gets its own copy of a page the parent may
 * have pinned for DMA, so that the pin keeps seeing the parent's writes.
 */
static void copy_pinned_page(struct copy_ctx *c, uint64_t addr, struct uvma_folio *f,
			     pte_t *dpte)
{
	struct uvma_sys *sys = c->dst->mm->sys;
	struct uvma_folio *g = folio_alloc(sys);

	if (!g) {
		c->err = -ENOMEM;
		return;
	}
	anon_folio_init(g, c->dst, addr);
	folio_copy_state(g, f, (unsigned int)folio_idx(c->src, f, addr));
	g->mapcount = 1;
	*dpte = mk_pte(g, true);
	folio_add_lru(sys, g);
	c->dst->mm->pstats.folios++;
}

static void copy_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct copy_ctx *c = ctx;
	pte_t *dpte;

	if (c->err)
		return;
	dpte = pt_get(c->dst->mm->sys, &c->dst->mm->pt, addr);
	if (!dpte) {
		c->err = -ENOMEM;
		return;
	}
	if (pte_is_folio(*pte)) {
		struct uvma_folio *f = pte_folio(*pte);

		if ((f->flags & (FOLIO_ANON | FOLIO_ANON_EXCLUSIVE)) ==
			    (FOLIO_ANON | FOLIO_ANON_EXCLUSIVE) &&
		    c->src->mm->has_pinned && folio_maybe_pinned(f)) {
			/* a pinned THP is split in the parent and copied page by page */
			if (*pte & PTE_PMD)
				thp_split_at(c->src->mm, addr);
			copy_pinned_page(c, addr, f, dpte);
			return;
		}
		if (*pte & PTE_PMD) {
			/* the child gets the PMD mapping: one more entire mapping */
			if (!(addr & (PMD_SIZE - 1))) {
				f->entire++;
				f->refcount++;
			}
		} else if (folio_large(f)) {
			f->pmap[folio_idx(c->dst, f, addr)]++;
			f->refcount++;
		} else {
			f->mapcount++;
			f->refcount++;
		}
		if (f->flags & FOLIO_ANON) {
			f->flags &= ~FOLIO_ANON_EXCLUSIVE;
			f->flags |= FOLIO_EVER_SHARED;
		}
		/* the child's entry starts old */
		*dpte = *pte & ~PTE_YOUNG;
		if (c->dst->flags & UVMA_VM_SHARED)
			*dpte &= ~PTE_DIRTY;
		return;
	}
	if (pte_is_swap(*pte)) {
		/* both sides lose exclusivity: the slot is shared now */
		swap_entry_dup(c->dst->mm->sys, *pte);
		*pte &= ~PTE_SWP_EXCLUSIVE;
	} else if (pte_is_migration(*pte) && !(c->dst->flags & UVMA_VM_SHARED)) {
		/* a COW mapping's migration entry becomes readable, not exclusive */
		migration_folio(*pte)->flags |= FOLIO_EVER_SHARED;
		*pte &= ~(PTE_SWP_EXCLUSIVE | PTE_SWP_WRITE);
	}
	*dpte = *pte;
}

int copy_page_range(struct uvma_vma *dst, struct uvma_vma *src)
{
	PAGE_LOCK_SCOPE(dst->mm->sys);
	struct copy_ctx c = { .dst = dst, .src = src };

	pt_walk(&src->mm->pt, src->start, src->end, copy_one, &c);
	return c.err;
}

/*
 * The PTEs of one page table are contiguous: the source side of a move is
 * walked a table at a time, and a table that does not exist (nothing was
 * ever faulted in those 2 MiB) is skipped whole.  pte_run: pages from @addr
 * to the end of its table, at most @len bytes; pte_run_back: pages from the
 * start of the table holding @end - 1 up to @end, at most @len bytes.
 */
static uint64_t pte_run(uint64_t addr, uint64_t len)
{
	uint64_t to_end = PMD_SIZE - (addr & (PMD_SIZE - 1));

	return (to_end < len ? to_end : len) >> PAGE_SHIFT;
}

static uint64_t pte_run_back(uint64_t end, uint64_t len)
{
	uint64_t from_start = ((end - 1) & (PMD_SIZE - 1)) + PAGE_SIZE;

	return (from_start < len ? from_start : len) >> PAGE_SHIFT;
}

static void move_pte(struct page_table *pt, pte_t *s, uint64_t to)
{
	if (*s) {
		*pt_lookup(pt, to) = *s;
		*s = 0;
	}
}

int move_page_tables(struct uvma_vma *dst, uint64_t new_addr, struct uvma_vma *src,
		     uint64_t old_addr, uint64_t len)
{
	PAGE_LOCK_SCOPE(dst->mm->sys);
	struct uvma_sys *sys = src->mm->sys;
	struct page_table *pt = &src->mm->pt;

	(void)dst;
	/* PMD mappings move whole only between aligned places */
	if ((old_addr | new_addr) & (PMD_SIZE - 1))
		thp_split_range(src->mm, old_addr, old_addr + len);
	else
		thp_split_boundaries(src->mm, old_addr, old_addr + len);
	/* Make every destination table exist first, so the move cannot fail half-way. */
	for (uint64_t off = 0; off < len;) {
		uint64_t n = pte_run(old_addr + off, len - off);
		pte_t *s = pt_lookup(pt, old_addr + off);

		for (uint64_t k = 0; s && k < n; k++)
			if (s[k] && !pt_get(sys, pt, new_addr + off + k * PAGE_SIZE))
				return -ENOMEM;
		off += n * PAGE_SIZE;
	}
	/* Nothing fails from here.  An overlapping move upwards copies from the top. */
	if (new_addr > old_addr) {
		for (uint64_t end = len; end;) {
			uint64_t n = pte_run_back(old_addr + end, end);
			uint64_t off = end - n * PAGE_SIZE;
			pte_t *s = pt_lookup(pt, old_addr + off);

			for (uint64_t k = n; s && k--;)
				move_pte(pt, &s[k], new_addr + off + k * PAGE_SIZE);
			end = off;
		}
	} else {
		for (uint64_t off = 0; off < len;) {
			uint64_t n = pte_run(old_addr + off, len - off);
			pte_t *s = pt_lookup(pt, old_addr + off);

			for (uint64_t k = 0; s && k < n; k++)
				move_pte(pt, &s[k], new_addr + off + k * PAGE_SIZE);
			off += n * PAGE_SIZE;
		}
	}
	return 0;
}

struct mlock_ctx {
	struct uvma_sys *sys;
	const struct uvma_vma *vma;
	uint64_t start, end;
	bool lock;
	const struct uvma_folio *last;	/* the large folio the walk is in, and */
	bool last_within;		/* whether the range maps all of it */
};

/*
 * Does [start, end) of @vma map every page of the large folio @f, each at
 * its own place?  mlock takes a large folio only then: one that crosses the
 * range or the VMA, or is mapped in part, stays evictable (its pages in
 * other VMAs could not be reclaimed otherwise).  munlock takes any.
 */
static bool large_folio_mapped_within(const struct uvma_vma *vma, const struct uvma_folio *f,
				      uint64_t start, uint64_t end)
{
	uint64_t first = vma->start + ((f->index - vma->pgoff) << PAGE_SHIFT);
	uint64_t last = first + ((uint64_t)folio_nr_pages(f) << PAGE_SHIFT);

	if (f->index < vma->pgoff || first < start || last > end)
		return false;
	for (uint64_t a = first; a < last; a += PAGE_SIZE) {
		const pte_t *pte = pt_lookup(&vma->mm->pt, a);

		if (!pte || !pte_is_folio(*pte) || pte_folio(*pte) != f)
			return false;
	}
	return true;
}

static void mlock_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct mlock_ctx *m = ctx;
	struct uvma_folio *f;

	(void)addr;
	if (!pte_is_folio(*pte))
		return;
	f = pte_folio(*pte);
	if (m->lock && folio_large(f)) {
		/* asked once per folio: its PTEs follow one another in the walk */
		if (f != m->last) {
			m->last = f;
			m->last_within = large_folio_mapped_within(m->vma, f, m->start, m->end);
		}
		if (!m->last_within)
			return;
	}
	if (m->lock)
		f->flags |= FOLIO_MLOCKED;
	mlock_batch_add(m->sys, f, !m->lock);
}

void mlock_range_pages(struct uvma_vma *vma, uint64_t start, uint64_t end, bool lock)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct mlock_ctx m = { vma->mm->sys, vma, start, end, lock, NULL, false };

	pt_walk(&vma->mm->pt, start, end, mlock_one, &m);
}
