// SPDX-License-Identifier: MIT
/*
 * munmap (spec 5.2) and the unmap core that MAP_FIXED, mremap and brk share.
 *
 *          start                      end
 *   |  vma   :  ...  |    |   last     :   |
 *   split at start (new below), split the last at end, then every VMA in
 *   [start, end) is taken out of the tree, its pages zapped, and freed.
 */
#include "internal.h"

static bool is_exec_mapping(uint64_t f)
{
	return (f & (UVMA_VM_EXEC | UVMA_VM_WRITE | UVMA_VM_GROWSDOWN)) == UVMA_VM_EXEC;
}

static bool is_stack_mapping(uint64_t f)
{
	return f & UVMA_VM_GROWSDOWN;
}

static bool is_data_mapping(uint64_t f)
{
	return (f & (UVMA_VM_WRITE | UVMA_VM_SHARED | UVMA_VM_GROWSDOWN)) == UVMA_VM_WRITE;
}

void vm_stat_account(struct uvma_mm *mm, uint64_t flags, long npages)
{
	mm->total_vm += npages;
	if (is_exec_mapping(flags))
		mm->exec_vm += npages;
	else if (is_stack_mapping(flags))
		mm->stack_vm += npages;
	else if (is_data_mapping(flags))
		mm->data_vm += npages;
}

/* Take @vma out of the tree and free it with its pages.  Cannot fail. */
static void unmap_one(struct uvma_mm *mm, struct uvma_vma *vma)
{
	long pages = (long)vma_pages(vma);

	vma_start_write(vma);
	tree_erase(&mm->tree, vma->end, vma);
	mm->map_count--;
	if (vma->flags & UVMA_VM_LOCKED)
		mm->locked_vm -= pages;
	vm_stat_account(mm, vma->flags, -pages);
	zap_range(vma, vma->start, vma->end);
	vma_remove(vma);
}

/*
 * Unmap [start, end), whose first intersecting VMA is @vma.  Splits keep
 * their results on a later failure, as the kernel's do.
 */
int do_vmi_align_munmap(struct uvma_mm *mm, struct uvma_vma *vma, uint64_t start, uint64_t end)
{
	struct uvma_vma *batch[16];
	struct tree_cursor cur;
	struct uvma_vma *v;
	unsigned int n = 0;
	int err;

	if (start > vma->start) {
		/*
		 * Only a hole punched strictly inside one VMA adds a VMA; that
		 * is the one case checked against the limit.
		 */
		if (end < vma->end && mm->map_count >= mm->sys->cfg.max_map_count)
			return -ENOMEM;
		/* no split of a VMA that cannot go anyway */
		if (vma->flags & UVMA_VM_SEALED)
			return -EPERM;
		err = __split_vma(vma, start, 1);
		if (err)
			return err;
	}
	/*
	 * After the split at start, @vma is still the first VMA of the range;
	 * the tree is walked only when the range goes on past it.
	 */
	for (v = vma; v && v->start < end;) {
		/* a sealed VMA stops the unmap before anything goes: only splits stay */
		if (v->flags & UVMA_VM_SEALED)
			return -EPERM;
		if (v->end > end) {
			err = __split_vma(v, end, 0);
			if (err)
				return err;
		}
		if (n < 16)
			batch[n] = v;
		n++;
		if (v->end >= end)
			break;
		v = n == 1 ? tree_find_after(&mm->tree, v->end, &cur) : tree_cursor_next(&cur);
	}
	err = tree_preallocate(&mm->tree, n);
	if (err)
		return err;
	/* Nothing fails from here. */
	if (n <= 16) {
		for (unsigned int i = 0; i < n; i++)
			unmap_one(mm, batch[i]);
		return 0;
	}
	while ((v = vma_find(mm, start)) && v->start < end)
		unmap_one(mm, v);
	return 0;
}

int do_munmap(struct uvma_mm *mm, uint64_t start, uint64_t len)
{
	struct uvma_vma *vma;
	uint64_t end;

	if ((start & ~PAGE_MASK) || start > TASK_SIZE || len > TASK_SIZE - start)
		return -EINVAL;
	end = start + PAGE_ALIGN(len);
	if (end == start)
		return -EINVAL;
	vma = vma_find(mm, start);
	if (!vma || vma->start >= end)
		return 0;
	return do_vmi_align_munmap(mm, vma, start, end);
}

int uvma_munmap(struct uvma_mm *mm, uint64_t addr, uint64_t len)
{
	MM_WRITE_GUARD(mm);
	int ret;

	MM_CALL(mm, "munmap");
	ret = do_munmap(mm, addr, len);
	mm_debug_validate(mm);
	return ret;
}
