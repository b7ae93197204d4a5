// SPDX-License-Identifier: MIT
/*
 * mseal(2): VM_SEALED on every VMA of a range with no hole.  The flag is
 * set through the merge engine like any other (a sealed piece splits off,
 * and merges with sealed neighbours); the calls that refuse a sealed VMA
 * check it themselves (munmap's gather, mprotect_fixup, mremap's per-VMA
 * checks, madvise's discards).
 */
#include "merge.h"

/*
 *   [start ............................ end)
 *   | prev | vma (split off) | vma | vma (split off) |
 *
 * Each VMA not sealed yet is modified over its part of the range; a split
 * that fails (the map_count limit) leaves what was sealed before it.
 */
static int mseal_apply(struct uvma_mm *mm, uint64_t start, uint64_t end)
{
	struct uvma_vma *prev, *vma = vma_find_and_prev(mm, start, &prev);

	if (start > vma->start)
		prev = vma;
	while (vma && vma->start < end) {
		/* a merge may have taken the sealed VMAs after this one in: go by the VMA */
		uint64_t curr_start = vma->start > start ? vma->start : start;
		uint64_t curr_end = vma->end < end ? vma->end : end;

		if (!(vma->flags & UVMA_VM_SEALED)) {
			uint64_t flags = vma->flags | UVMA_VM_SEALED;
			int err = 0;

			vma = vma_modify_flags(prev, vma, curr_start, curr_end, &flags, &err);
			if (!vma)
				return err;
			vma_set_flags(vma, flags);
		}
		prev = vma;
		if (vma->end >= end)
			break;
		vma = vma_next_of(mm, vma);
	}
	return 0;
}

int uvma_mseal(struct uvma_mm *mm, uint64_t addr, uint64_t len, unsigned long flags)
{
	MM_WRITE_GUARD(mm);
	uint64_t end;
	int ret;

	MM_CALL(mm, "mseal");
	if (flags || (addr & ~PAGE_MASK))
		return -EINVAL;
	/* a length that rounds up to zero wrapped */
	if (len && !PAGE_ALIGN(len))
		return -EINVAL;
	end = addr + PAGE_ALIGN(len);
	if (end < addr)
		return -EINVAL;
	if (end == addr)
		return 0;
	if (vma_range_has_hole(mm, addr, end))
		ret = -ENOMEM;
	else
		ret = mseal_apply(mm, addr, end);
	mm_debug_validate(mm);
	return ret;
}
