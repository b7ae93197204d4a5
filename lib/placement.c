// SPDX-License-Identifier: MIT
/*
 * Where a mapping without MAP_FIXED goes (spec 5.1.3): the x86_64 top-down
 * allocator, the hint, the THP alignment of 2 MiB-multiple anonymous
 * mappings, the stack guard gap, and MAP_32BIT's bottom-up window.
 */
#include "internal.h"

#define MAP32_LOW 0x40000000UL
#define MAP32_HIGH 0x80000000UL

struct unmapped_area {
	uint64_t length;
	uint64_t low_limit, high_limit;
	uint64_t align_mask, align_offset;
};

/*
 * The highest address in [low, high) where @len bytes fit, or -ENOMEM.
 * The gap test is on the raw VMA boundaries; the stack guard gap of a
 * growsdown VMA above, and any alignment slack, are applied afterwards
 * and the search is retried below, as the kernel does.
 */
static long unmapped_area_topdown(const struct uvma_mm *mm, const struct unmapped_area *info)
{
	uint64_t length = info->length + info->align_mask;
	uint64_t low = info->low_limit, high = info->high_limit;

	if (length < info->length)
		return -ENOMEM;
	if (low < mm->sys->cfg.mmap_min_addr)
		low = mm->sys->cfg.mmap_min_addr;
retry:
	if (high <= low || high - low < length)
		return -ENOMEM;
	{
		struct tree_cursor cur;
		struct uvma_vma *next = tree_find_after(&mm->tree, high - 1, &cur);
		struct uvma_vma *prev;
		uint64_t gap_end, gap_start, gap;

		if (next)
			prev = tree_cursor_prev(&cur);
		else
			prev = tree_last(&mm->tree, &cur);
		if (next && next->start >= high)
			next = NULL;
		for (;;) {
			gap_end = next ? next->start : high;
			if (gap_end > high)
				gap_end = high;
			gap_start = prev ? prev->end : 0;
			if (gap_start < low)
				gap_start = low;
			if (gap_end > gap_start && gap_end - gap_start >= length)
				break;
			if (!prev || prev->end <= low)
				return -ENOMEM;
			next = prev;
			prev = tree_cursor_prev(&cur);
		}
		gap = gap_end - info->length;
		gap -= (gap - info->align_offset) & info->align_mask;
		if (next && (next->flags & UVMA_VM_GROWSDOWN)) {
			if (vm_start_gap(next) < gap_end) {
				high = vm_start_gap(next);
				goto retry;
			}
		} else if (prev && prev->end > gap) {
			high = prev->start;
			goto retry;
		}
		return (long)gap;
	}
}

/* The lowest fit in [low, high): MAP_32BIT's legacy window. */
static long unmapped_area_bottomup(const struct uvma_mm *mm, uint64_t len, uint64_t low,
				   uint64_t high)
{
	struct tree_cursor cur;
	struct uvma_vma *v = tree_find_after(&mm->tree, low, &cur);
	uint64_t start = low;

	for (;;) {
		uint64_t end = v ? vm_start_gap(v) : high;

		if (end > high)
			end = high;
		if (end > start && end - start >= len)
			return (long)start;
		if (!v || v->end >= high)
			return -ENOMEM;
		if (v->end > start)
			start = v->end;
		v = tree_cursor_next(&cur);
	}
}

static long arch_get_unmapped_area_topdown(struct uvma_mm *mm, uint64_t addr, uint64_t len,
					   int flags)
{
	struct unmapped_area info = { 0 };

	if (len > TASK_SIZE)
		return -ENOMEM;
	if (flags & UVMA_MAP_FIXED)
		return (long)addr;
	if (flags & UVMA_MAP_32BIT)
		return unmapped_area_bottomup(mm, len, MAP32_LOW, MAP32_HIGH);
	if (addr) {
		struct uvma_vma *v;

		addr &= PAGE_MASK;
		if (TASK_SIZE - len >= addr) {
			v = vma_find(mm, addr);
			if (!v || addr + len <= vm_start_gap(v))
				return (long)addr;
		}
	}
	info.length = len;
	info.low_limit = PAGE_SIZE;
	info.high_limit = mm->mmap_base;
	return unmapped_area_topdown(mm, &info);
}

/*
 * THP alignment of anonymous mappings whose length is a multiple of 2 MiB:
 * search with 2 MiB of slack and round the result to the boundary.
 */
static long thp_get_unmapped_area(struct uvma_mm *mm, uint64_t addr, uint64_t len, int flags)
{
	uint64_t len_pad = len + PMD_SIZE;
	long ret;
	uint64_t off_sub;

	if (len < PMD_SIZE)
		return 0;
	ret = arch_get_unmapped_area_topdown(mm, addr, len_pad, flags);
	if (ret < 0)
		return 0;
	if ((uint64_t)ret == addr)
		return (long)addr;
	off_sub = (0 - (uint64_t)ret) & (PMD_SIZE - 1);
	if (!off_sub)
		return ret + (long)PMD_SIZE;
	return ret + (long)off_sub;
}

long get_unmapped_area(struct uvma_mm *mm, struct uvma_file *file, uint64_t addr, uint64_t len,
		       uint64_t pgoff, int flags, uint64_t vm_flags)
{
	long ret = 0;

	(void)pgoff;
	(void)vm_flags;
	if (len > TASK_SIZE)
		return -ENOMEM;
	if (!file && !(flags & UVMA_MAP_SHARED) && !addr && !(len & (PMD_SIZE - 1)))
		ret = thp_get_unmapped_area(mm, addr, len, flags);
	if (!ret)
		ret = arch_get_unmapped_area_topdown(mm, addr, len, flags);
	if (ret < 0)
		return ret;
	if ((uint64_t)ret > TASK_SIZE - len)
		return -ENOMEM;
	if (ret & ~PAGE_MASK)
		return -EINVAL;
	return ret;
}
