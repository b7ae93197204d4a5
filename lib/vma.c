// SPDX-License-Identifier: MIT
/*
 * VMA objects: allocation, duplication, lookup, linking, splitting.
 */
#include <string.h>

#include "internal.h"

const struct vm_ops shmem_vm_ops = { .shmem = true };
const struct vm_ops file_vm_ops = { 0 };
const struct vm_ops special_vdso_ops = { .name = "[vdso]", .no_split = true, .no_mremap = false };
const struct vm_ops special_vvar_ops = { .name = "[vvar]", .no_split = true, .no_mremap = true };
const struct vm_ops special_vvar_vclock_ops = { .name = "[vvar_vclock]", .no_split = true,
						.no_mremap = true };

struct uvma_vma *vma_find(const struct uvma_mm *mm, uint64_t addr)
{
	return tree_lookup_after(&mm->tree, addr);
}

struct uvma_vma *vma_lookup(const struct uvma_mm *mm, uint64_t addr)
{
	struct uvma_vma *v = vma_find(mm, addr);

	return v && v->start <= addr ? v : NULL;
}

struct uvma_vma *vma_prev_of(const struct uvma_mm *mm, const struct uvma_vma *vma)
{
	struct tree_cursor cur;

	if (!tree_find_after(&mm->tree, vma->start, &cur))
		return NULL;
	return tree_cursor_prev(&cur);
}

struct uvma_vma *vma_next_of(const struct uvma_mm *mm, const struct uvma_vma *vma)
{
	return tree_lookup_after(&mm->tree, vma->end);
}

bool vma_range_has_hole(const struct uvma_mm *mm, uint64_t start, uint64_t end)
{
	uint64_t prev_end = start;

	for (struct uvma_vma *v = vma_find(mm, start); v && v->start < end;
	     v = vma_next_of(mm, v)) {
		if (v->start > prev_end)
			return true;
		prev_end = v->end;
	}
	return prev_end < end;
}

struct uvma_vma *vma_find_prev(const struct uvma_mm *mm, uint64_t addr)
{
	struct tree_cursor cur;
	struct uvma_vma *v = tree_find_after(&mm->tree, addr, &cur);

	if (!v)
		return tree_last(&mm->tree, &cur);
	if (v->start < addr)
		return v;
	return tree_cursor_prev(&cur);
}

/* VMAs come from the type-safe cache in the multi-threaded build (mt.c). */
static struct uvma_vma *vma_mem_alloc(struct uvma_sys *sys)
{
#ifdef UVMA_MT
	return vma_cache_alloc(sys);
#else
	return uvma_alloc(sys, sizeof(struct uvma_vma));
#endif
}

/*
 * The first VMA ending above @addr, and in *prev the VMA before @addr (that
 * one if it starts below @addr, else its predecessor): one tree descent.
 * *prev is NULL when no VMA ends above @addr.
 */
struct uvma_vma *vma_find_and_prev(const struct uvma_mm *mm, uint64_t addr,
				   struct uvma_vma **prev)
{
	struct tree_cursor cur;
	struct uvma_vma *v = tree_find_after(&mm->tree, addr, &cur);

	*prev = NULL;
	if (v)
		*prev = v->start < addr ? v : tree_cursor_prev(&cur);
	return v;
}

struct uvma_vma *vma_alloc(struct uvma_mm *mm)
{
	struct uvma_vma *v = vma_mem_alloc(mm->sys);

	if (!v)
		return NULL;
	memset(v, 0, VMA_COPY_END);
	v->mm = mm;
	list_init(&v->anon_vma_chain);
	return v;
}

/* Free a VMA; in the multi-threaded build it is detached first. */
void vma_free(struct uvma_vma *vma)
{
#ifdef UVMA_MT
	vma_cache_free(vma->mm->sys, vma);
#else
	uvma_free(vma->mm->sys, vma, sizeof(*vma));
#endif
}

struct uvma_vma *vma_dup(struct uvma_vma *src)
{
	struct uvma_vma *v = vma_mem_alloc(src->mm->sys);

	if (!v)
		return NULL;
	/* never the lock state: the copy is detached until it is stored */
	memcpy(v, src, VMA_COPY_END);
	list_init(&v->anon_vma_chain);
	if (v->file)
		file_get(v->file);
	if (v->anon_name)
		anon_name_get(v->anon_name);
	return v;
}

/* Free a VMA that has no anon_vma links: drop its file and name first. */
void vma_release(struct uvma_vma *vma)
{
	if (vma->file)
		file_put(vma->file);
	if (vma->anon_name)
		anon_name_put(vma->mm->sys, vma->anon_name);
	vma_free(vma);
}

/* Release what a VMA holds once it is out of the tree, and free it. */
void vma_remove(struct uvma_vma *vma)
{
	unlink_anon_vmas(vma);
	vma_release(vma);
}

/* Insert a new VMA into the tree; the caller checked the range is free. */
int vma_link(struct uvma_mm *mm, struct uvma_vma *vma)
{
	int err = tree_preallocate(&mm->tree, 1);

	if (err)
		return err;
	vma_mark_attached(vma);
	tree_insert(&mm->tree, vma->end, vma);
	mm->map_count++;
	if (mm->map_count > mm->stats.vmas_peak)
		mm->stats.vmas_peak = mm->map_count;
	return 0;
}

/*
 * Split @vma at @addr.  With @new_below the new VMA is the lower part
 * [start, addr) and @vma keeps the upper part; otherwise the new VMA is the
 * upper part.  No map_count check (callers that need one use split_vma()).
 */
int __split_vma(struct uvma_vma *vma, uint64_t addr, int new_below)
{
	struct uvma_mm *mm = vma->mm;
	struct uvma_vma *new;
	uint64_t old_end = vma->end;
	int err;

	UVMA_BUG_ON(addr <= vma->start || addr >= vma->end);
	if (vma->ops && vma->ops->no_split) {
		split_event(mm, vma->start, vma->end, addr, NULL, UVMA_REASON_VM_OPS);
		return -EINVAL;
	}
	vma_start_write(vma);
	/* a PMD mapping across the new boundary is split (vma_adjust_trans_huge) */
	if (addr & (PMD_SIZE - 1))
		thp_split_at(mm, addr);
	new = vma_dup(vma);
	if (!new) {
		split_event(mm, vma->start, vma->end, addr, NULL, UVMA_REASON_NOMEM);
		return -ENOMEM;
	}
	err = tree_preallocate(&mm->tree, 1);
	if (err)
		goto out_free;
	err = anon_vma_clone(new, vma);
	if (err)
		goto out_free;
	/* Nothing fails from here. */
	vma_mark_attached(new);
	anon_vma_pre_update(vma);
	anon_vma_pre_update(new);
	if (new_below) {
		new->end = addr;
		vma->start = addr;
		vma->pgoff += (addr - new->start) >> PAGE_SHIFT;
		tree_insert(&mm->tree, new->end, new);
	} else {
		new->start = addr;
		new->pgoff += (addr - vma->start) >> PAGE_SHIFT;
		/* new takes vma's key; vma is filed again under addr, just before */
		vma->end = addr;
		tree_replace_insert_before(&mm->tree, old_end, new, addr, vma);
	}
	anon_vma_post_update(vma);
	anon_vma_post_update(new);
	mm->map_count++;
	mm->stats.splits++;
	if (mm->map_count > mm->stats.vmas_peak)
		mm->stats.vmas_peak = mm->map_count;
	split_event(mm, new_below ? new->start : vma->start, old_end, addr, new, UVMA_REASON_NONE);
	return 0;

out_free:
	vma_release(new);
	split_event(mm, vma->start, old_end, addr, NULL, UVMA_REASON_NOMEM);
	return err;
}

int split_vma(struct uvma_vma *vma, uint64_t addr, int new_below)
{
	if (vma->mm->map_count >= vma->mm->sys->cfg.max_map_count) {
		split_event(vma->mm, vma->start, vma->end, addr, NULL, UVMA_REASON_MAP_COUNT);
		return -ENOMEM;
	}
	return __split_vma(vma, addr, new_below);
}
