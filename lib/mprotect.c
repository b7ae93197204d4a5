// SPDX-License-Identifier: MIT
/*
 * mprotect and pkey_mprotect (spec 5.3).  The range is walked VMA by VMA;
 * a hole stops the walk with ENOMEM and what was changed stays changed.
 */
#include "merge.h"

static bool arch_validate_prot(int prot)
{
	return !(prot & ~(UVMA_PROT_READ | UVMA_PROT_WRITE | UVMA_PROT_EXEC | 0x8 /* PROT_SEM */));
}

static int vma_pkey(const struct uvma_vma *v)
{
	return (int)((v->flags & UVMA_VM_PKEY_MASK) >> UVMA_VM_PKEY_SHIFT);
}

static bool vma_is_pkey_exec_only(const struct uvma_vma *v)
{
	return (v->flags & VM_ACCESS_FLAGS) == UVMA_VM_EXEC && v->mm->exec_pkey > 0 &&
	       vma_pkey(v) == v->mm->exec_pkey;
}

/* The pkey an mprotect gives @vma (x86's arch_override_mprotect_pkey). */
static int override_mprotect_pkey(struct uvma_vma *vma, int prot, int pkey)
{
	if (pkey != -1)
		return pkey;
	if (prot == UVMA_PROT_EXEC && vma->mm->sys->cfg.pkeys) {
		if (vma->mm->exec_pkey < 0)
			vma->mm->exec_pkey = 1;
		return vma->mm->exec_pkey;
	}
	if (vma_is_pkey_exec_only(vma))
		return 0;
	return vma_pkey(vma);
}

static int mprotect_fixup(struct uvma_vma *vma, struct uvma_vma **pprev, uint64_t start,
			  uint64_t end, uint64_t newflags)
{
	struct uvma_mm *mm = vma->mm;
	uint64_t oldflags = vma->flags;
	long nrpages = (long)((end - start) >> PAGE_SHIFT);
	int err = 0;

	/* even to the protection it has; the VMAs before it in the range keep their change */
	if (oldflags & UVMA_VM_SEALED)
		return -EPERM;
	if (newflags == oldflags) {
		*pprev = vma;
		return 0;
	}
	/*
	 * Private writable memory is charged (and carries VM_ACCOUNT); memory
	 * that was never faulted gives its charge back when it loses write.
	 */
	if (newflags & UVMA_VM_WRITE) {
		if (!(oldflags & (UVMA_VM_ACCOUNT | UVMA_VM_WRITE | UVMA_VM_HUGETLB |
				  UVMA_VM_SHARED | UVMA_VM_NORESERVE)))
			newflags |= UVMA_VM_ACCOUNT;
	} else if ((oldflags & UVMA_VM_ACCOUNT) && vma_is_anonymous(vma) && !vma->anon_vma) {
		newflags &= ~UVMA_VM_ACCOUNT;
	}
	vma = vma_modify_flags(*pprev, vma, start, end, &newflags, &err);
	if (!vma)
		return err;
	*pprev = vma;
	vma_set_flags(vma, newflags);
	vm_stat_account(mm, oldflags, -nrpages);
	vm_stat_account(mm, newflags, nrpages);
	/* A locked private mapping becoming writable is populated (COW broken). */
	if ((oldflags & (UVMA_VM_WRITE | UVMA_VM_SHARED | UVMA_VM_LOCKED)) == UVMA_VM_LOCKED &&
	    (newflags & UVMA_VM_WRITE))
		populate_range(mm, start, end, true, true);
	return 0;
}

static int do_mprotect_pkey(struct uvma_mm *mm, uint64_t start, uint64_t len, int prot, int pkey)
{
	const int grows = prot & (UVMA_PROT_GROWSDOWN | UVMA_PROT_GROWSUP);
	struct uvma_vma *vma, *prev;
	uint64_t end, nstart, tmp;
	int error = 0;

	prot &= ~(UVMA_PROT_GROWSDOWN | UVMA_PROT_GROWSUP);
	if (grows == (UVMA_PROT_GROWSDOWN | UVMA_PROT_GROWSUP))
		return -EINVAL;
	if (start & ~PAGE_MASK)
		return -EINVAL;
	if (!len)
		return 0;
	len = PAGE_ALIGN(len);
	end = start + len;
	if (end <= start)
		return -ENOMEM;
	if (!arch_validate_prot(prot))
		return -EINVAL;
	/* an explicit key must be allocated; without pkeys (no OSPKE) none is, not even 0 */
	if (pkey != -1 && (!mm->sys->cfg.pkeys || pkey < 0 || pkey > 15 ||
			   (pkey > 0 && pkey != mm->exec_pkey)))
		return -EINVAL;

	vma = vma_find_and_prev(mm, start, &prev);
	if (!vma)
		return -ENOMEM;
	if (grows & UVMA_PROT_GROWSDOWN) {
		if (vma->start >= end)
			return -ENOMEM;
		if (!(vma->flags & UVMA_VM_GROWSDOWN))
			return -EINVAL;
		/* the range now starts where the VMA does: prev is the one before */
		if (prev == vma)
			prev = vma_prev_of(mm, vma);
		start = vma->start;
	} else {
		if (vma->start > start)
			return -ENOMEM;
		if (grows & UVMA_PROT_GROWSUP)
			return -EINVAL; /* x86 has no VM_GROWSUP */
	}

	tmp = vma->start;
	while (vma && vma->start < end) {
		uint64_t newflags;
		int new_pkey;

		/* A hole: stop, keeping what was done. */
		if (vma->start != tmp) {
			error = -ENOMEM;
			break;
		}
		new_pkey = override_mprotect_pkey(vma, prot, pkey);
		newflags = calc_vm_prot_bits(prot, new_pkey);
		newflags |= vma->flags & ~(VM_ACCESS_FLAGS | UVMA_VM_PKEY_MASK);
		/* Every requested access needs its MAY bit (MAYREAD is READ << 4). */
		if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) {
			error = -EACCES;
			break;
		}
		tmp = vma->end < end ? vma->end : end;
		nstart = start > vma->start ? start : vma->start;
		error = mprotect_fixup(vma, &prev, nstart, tmp, newflags);
		if (error)
			break;
		tmp = prev->end;
		if (tmp >= end)
			break;	/* done: no need to look for the next VMA */
		vma = vma_find(mm, tmp);
	}
	if (!error && tmp < end)
		error = -ENOMEM;
	return error;
}

int uvma_mprotect(struct uvma_mm *mm, uint64_t start, uint64_t len, int prot)
{
	MM_WRITE_GUARD(mm);
	int ret;

	MM_CALL(mm, "mprotect");
	ret = do_mprotect_pkey(mm, start, len, prot, -1);
	mm_debug_validate(mm);
	return ret;
}

int uvma_pkey_mprotect(struct uvma_mm *mm, uint64_t start, uint64_t len, int prot, int pkey)
{
	MM_WRITE_GUARD(mm);
	int ret;

	MM_CALL(mm, "pkey_mprotect");
	ret = do_mprotect_pkey(mm, start, len, prot, pkey);
	mm_debug_validate(mm);
	return ret;
}
