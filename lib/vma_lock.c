// SPDX-License-Identifier: MIT
/*
 * The per-VMA lock of the multi-threaded build: the kernel's protocol of
 * 6.15, one reference count per VMA and a sequence number per address space.
 *
 * vm_refcnt:  0                     detached (not in the tree, or being freed)
 *             1                     attached, nobody reading
 *             1 + n                 attached, n readers
 *             VMA_LOCK_OFFSET + ... a writer is waiting for the readers
 *
 * A reader (a fault, a lookup) takes a reference unless the count is 0, at
 * or above VMA_REF_LIMIT (a writer waiting, or too many readers: either
 * way it falls back to the mmap_lock), then re-checks what may have changed
 * between the tree walk and the reference: the VMA may since have been
 * freed and reused by another address space or at another address (the
 * cache is type-safe, not free-safe), or write-locked.
 *
 * A writer holds the mmap_lock for writing; mm_lock_seq is odd while it
 * does.  vma_start_write() adds VMA_LOCK_OFFSET, waits until only the
 * attach reference is left, records the sequence in vm_lock_seq and takes
 * the offset away again: from then on a reader that gets a reference sees
 * vm_lock_seq == mm_lock_seq and backs off.  Ending the mmap_lock write
 * section bumps mm_lock_seq, which unlocks every VMA of the address space
 * at once.
 */
#ifdef UVMA_MT
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define VMA_LOCK_OFFSET 0x40000000u
#define VMA_REF_LIMIT (VMA_LOCK_OFFSET - 1)

/* The kernel's layout (docs/concurrency.md), checked at build time. */
_Static_assert(sizeof(struct uvma_vma) <= 192, "a VMA is at most 192 bytes");
_Static_assert(offsetof(struct uvma_vma, ops) + sizeof(void *) <= 64,
	       "what a fault reads first shares the first cache line");
_Static_assert(offsetof(struct uvma_vma, vm_refcnt) % 64 == 0 &&
		       offsetof(struct uvma_vma, vm_refcnt) >= offsetof(struct uvma_vma, vm_lock_seq) + 4,
	       "vm_refcnt starts a cache line of its own");
_Static_assert(sizeof(struct uvma_vma) - offsetof(struct uvma_vma, vm_refcnt) == 64,
	       "nothing else shares vm_refcnt's cache line");

static uint32_t ld(const uint32_t *p, int order)
{
	return __atomic_load_n(p, order);
}

static void futex_wait(uint32_t *p, uint32_t val)
{
	syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(uint32_t *p)
{
	syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void vma_lock_init(struct uvma_vma *vma)
{
	/* never equal to an even (unlocked) mm_lock_seq */
	__atomic_store_n(&vma->vm_lock_seq, UINT32_MAX, __ATOMIC_RELAXED);
}

/* Wait until the count is @want: the readers that held the VMA are gone. */
static void wait_readers(struct uvma_vma *vma, uint32_t want)
{
	for (;;) {
		uint32_t c = ld(&vma->vm_refcnt, __ATOMIC_ACQUIRE);

		if (c == want)
			return;
		/* a reader we wait for may be waiting for the page lock */
		UVMA_BUG_ON(page_lock_held(vma->mm->sys));
		futex_wait(&vma->vm_refcnt, c);
	}
}

/* Add the writer's offset unless the VMA is detached; false if it is. */
static bool enter_locked(struct uvma_vma *vma, bool detaching)
{
	uint32_t c = ld(&vma->vm_refcnt, __ATOMIC_RELAXED);

	do {
		if (!c)
			return false;
	} while (!__atomic_compare_exchange_n(&vma->vm_refcnt, &c, c + VMA_LOCK_OFFSET, true,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	/* our offset, plus the attach reference unless we are dropping it */
	wait_readers(vma, VMA_LOCK_OFFSET + (detaching ? 0 : 1));
	return true;
}

static void exit_locked(struct uvma_vma *vma)
{
	__atomic_fetch_sub(&vma->vm_refcnt, VMA_LOCK_OFFSET, __ATOMIC_RELEASE);
}

void vma_start_write(struct uvma_vma *vma)
{
	struct uvma_mm *mm = vma->mm;
	uint32_t seq = ld(&mm->mm_lock_seq, __ATOMIC_RELAXED);

	/* only the holder of the mmap_lock write-locks VMAs */
	UVMA_BUG_ON(!(seq & 1));
	if (ld(&vma->vm_lock_seq, __ATOMIC_RELAXED) == seq)
		return;
	if (ld(&vma->vm_refcnt, __ATOMIC_RELAXED)) {
#ifdef UVMA_DEBUG
		/*
		 * Tests check every write lock for the page lock, not only the
		 * ones that happen to wait (wait_readers()); release builds do
		 * not read the faulting threads' line here at every call.
		 */
		UVMA_BUG_ON(page_lock_held(mm->sys));
#endif
		if (enter_locked(vma, false)) {
			__atomic_store_n(&vma->vm_lock_seq, seq, __ATOMIC_RELAXED);
			exit_locked(vma);
			return;
		}
	}
	__atomic_store_n(&vma->vm_lock_seq, seq, __ATOMIC_RELAXED);
}

/*
 * A VMA enters the tree.  It is write-locked first, so that no reader uses
 * it before the call that made it is over.
 */
void vma_mark_attached(struct uvma_vma *vma)
{
	UVMA_BUG_ON(ld(&vma->vm_refcnt, __ATOMIC_RELAXED));
	vma_start_write(vma);
	__atomic_store_n(&vma->vm_refcnt, 1, __ATOMIC_RELEASE);
}

/* A VMA leaves for good: drop the attach reference once no reader holds it. */
void vma_mark_detached(struct uvma_vma *vma)
{
	if (!ld(&vma->vm_refcnt, __ATOMIC_RELAXED))
		return; /* never attached (a call failed before linking it) */
	vma_start_write(vma);
	if (__atomic_sub_fetch(&vma->vm_refcnt, 1, __ATOMIC_RELEASE) == 0)
		return;
	/* a reader that lost the race still holds a transient reference */
	if (enter_locked(vma, true))
		exit_locked(vma);
}

/*
 * Take @vma for reading on behalf of @mm.  0, or -EAGAIN if it was detached
 * under us, -EBUSY if it is write-locked, saturated or now another's.
 */
int vma_start_read(struct uvma_mm *mm, struct uvma_vma *vma)
{
	uint32_t c;

	/* a cheap early look; the check that counts is after the reference */
	if (ld(&vma->vm_lock_seq, __ATOMIC_RELAXED) == ld(&mm->mm_lock_seq, __ATOMIC_RELAXED))
		return -EBUSY;
	c = ld(&vma->vm_refcnt, __ATOMIC_RELAXED);
	do {
		if (!c)
			return -EAGAIN;
		if (c >= VMA_REF_LIMIT)
			return -EBUSY;
	} while (!__atomic_compare_exchange_n(&vma->vm_refcnt, &c, c + 1, true, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	/* attached again, but to another address space: not ours to use */
	if (vma->mm != mm) {
		vma_end_read(vma);
		return -EBUSY;
	}
	/*
	 * The acquire pairs with the release that ends a write section: if the
	 * writer is done we see everything it wrote.
	 */
	if (ld(&vma->vm_lock_seq, __ATOMIC_RELAXED) == ld(&mm->mm_lock_seq, __ATOMIC_ACQUIRE)) {
		vma_end_read(vma);
		return -EBUSY;
	}
	return 0;
}

void vma_end_read(struct uvma_vma *vma)
{
	uint32_t c = __atomic_sub_fetch(&vma->vm_refcnt, 1, __ATOMIC_RELEASE);

	/* the last reader wakes a writer waiting in enter_locked() */
	if ((c & VMA_LOCK_OFFSET) && c <= VMA_LOCK_OFFSET + 1)
		futex_wake(&vma->vm_refcnt);
}

/* End of an mmap_lock write section: every VMA it locked is unlocked. */
void vma_end_write_all(struct uvma_mm *mm)
{
	if (ld(&mm->mm_lock_seq, __ATOMIC_RELAXED) & 1)
		__atomic_fetch_add(&mm->mm_lock_seq, 1, __ATOMIC_RELEASE);
}

/* Start one (odd sequence); a no-op if one is open (exit inside fork). */
void vma_begin_write_all(struct uvma_mm *mm)
{
	if (!(ld(&mm->mm_lock_seq, __ATOMIC_RELAXED) & 1))
		__atomic_fetch_add(&mm->mm_lock_seq, 1, __ATOMIC_RELAXED);
}

/*
 * lock_vma_under_rcu: the VMA that covers @addr, read-locked, found without
 * the mmap_lock; NULL if the caller must take the mmap_lock instead (no
 * VMA, a gap, a writer at work, a race with a free).
 */
struct uvma_vma *lock_vma_under_rcu(struct uvma_mm *mm, uint64_t addr)
{
	struct uvma_vma *vma;

	rcu_read_lock_mt(mm->sys);
	vma = tree_lookup_after(&mm->tree, addr);
	if (vma && lock_vma_found(mm, vma, addr))
		vma = NULL;
	rcu_read_unlock_mt(mm->sys);
	if (!vma)
		mt_count(&mm->vma_lock_misses);
	return vma;
}

/*
 * The second half of lock_vma_under_rcu: @vma came from a tree walk and may
 * since have been freed and reused.  0 with it read-locked, or -errno.
 */
int lock_vma_found(struct uvma_mm *mm, struct uvma_vma *vma, uint64_t addr)
{
	int err = vma_start_read(mm, vma);

	if (err)
		return err;
	/* the VMA may have moved, or been reused, before we held it */
	if (addr < vma->start || addr >= vma->end) {
		vma_end_read(vma);
		return -ENOENT;
	}
	return 0;
}

/* Test hook: the reference count, for the overflow and reuse tests. */
uint32_t vma_refcnt_read(const struct uvma_vma *vma)
{
	return ld(&vma->vm_refcnt, __ATOMIC_ACQUIRE);
}

void vma_refcnt_add(struct uvma_vma *vma, int32_t delta)
{
	__atomic_fetch_add(&vma->vm_refcnt, (uint32_t)delta, __ATOMIC_ACQ_REL);
}
#endif
