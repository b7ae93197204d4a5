/* SPDX-License-Identifier: MIT */
/*
 * The per-VMA lock of lib/vma_lock.c, checked exhaustively with Spin for
 * two readers and one writer (make check: spin -a, cc pan.c, ./pan).
 *
 * One VMA of address space 1.  The writer opens a write section of mm 1,
 * write-locks the VMA, changes it, then detaches it and hands the memory to
 * address space 2 (the type-safe cache reuses it at once), and closes the
 * section.  Each reader, holding a pointer from an old tree walk, tries
 * vma_start_read() for mm 1 at any moment, uses the VMA if it got it, and
 * drops its reference.  Every step of the C code that touches shared state
 * is one atomic step here; the writer's wait is a blocking guard (the
 * futex).
 *
 * Checked: a reader never uses the VMA while the writer changes it, never
 * uses it detached or once it belongs to mm 2; the writer's waits end
 * (no invalid end state: no deadlock); at the end the count is exactly the
 * attach reference of the new owner.
 */

#define OFFSET 8          /* VMA_LOCK_OFFSET, scaled down */
#define LIMIT  (OFFSET - 1) /* VMA_REF_LIMIT */

byte refcnt = 1;          /* attached to mm 1, nobody reading */
byte vm_lock_seq = 255;   /* never an even sequence */
byte mm1_seq = 0;         /* mm 1's mm_lock_seq: odd while write-locked */
byte mm2_seq = 0;
byte vm_mm = 1;           /* the address space the memory belongs to */
bool changing = false;    /* the writer is changing the VMA's fields */
byte using = 0;           /* readers inside their read section */

inline enter_locked(want)
{
	/* refcount_add_not_zero(OFFSET) */
	atomic {
		if
		:: refcnt == 0 -> entered = false
		:: else -> refcnt = refcnt + OFFSET; entered = true
		fi
	}
	if
	:: entered -> (refcnt == want)   /* wait: the last reader wakes us */
	:: else -> skip
	fi
}

proctype writer()
{
	bool entered;

	/* mmap_write_lock(mm 1) */
	mm1_seq++;
	/* vma_start_write */
	enter_locked(OFFSET + 1);
	vm_lock_seq = mm1_seq;
	if
	:: entered -> refcnt = refcnt - OFFSET
	:: else -> skip
	fi;
	/* the call changes the VMA */
	changing = true;
	assert(using == 0);
	changing = false;
	/* vma_mark_detached: drop the attach reference, wait for stragglers */
	atomic { refcnt = refcnt - 1; entered = (refcnt != 0) }
	if
	:: entered -> enter_locked(OFFSET); refcnt = refcnt - OFFSET
	:: else -> skip
	fi;
	assert(using == 0);
	/* freed and at once reused by mm 2 (its own write section) */
	mm2_seq++;
	vm_mm = 2;
	vm_lock_seq = mm2_seq;
	refcnt = 1;              /* vma_mark_attached (release) */
	mm2_seq++;               /* mm 2's section ends */
	/* mmap_write_unlock(mm 1): every VMA it locked is unlocked */
	mm1_seq++
}

proctype reader()
{
	byte c;
	bool got = false;

	/* the early look at the sequence numbers (may be stale: it only saves work) */
	if
	:: vm_lock_seq == mm1_seq -> goto out
	:: else -> skip
	fi;
	/* refcount_inc_not_zero_limited (acquire) */
	atomic {
		c = refcnt;
		if
		:: c == 0 || c >= LIMIT -> got = false
		:: else -> refcnt = c + 1; got = true
		fi
	}
	if
	:: !got -> goto out
	:: else -> skip
	fi;
	/* attached again, but to another address space */
	if
	:: vm_mm != 1 -> goto drop
	:: else -> skip
	fi;
	/* write-locked in the section still open */
	if
	:: vm_lock_seq == mm1_seq -> goto drop
	:: else -> skip
	fi;
	/* the read section: the VMA is ours, attached and not being changed */
	using++;
	assert(!changing);
	assert(vm_mm == 1);
	assert(refcnt >= 2);
	using--;
drop:
	/* vma_refcount_put; a waiting writer is woken by the guard above */
	refcnt--;
out:
	skip
}

init
{
	atomic {
		run writer();
		run reader();
		run reader()
	}
	(_nr_pr == 1);
	assert(refcnt == 1 && vm_mm == 2 && using == 0)
}
