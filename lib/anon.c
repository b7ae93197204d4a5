// SPDX-License-Identifier: MIT
/*
 * anon_vma and anon_vma_chain: the reverse-map anchors of anonymous memory
 * (spec 1.4).  An anon_vma lists, through its AVCs, every VMA that may map
 * its folios; a VMA lists, through its chain, every anon_vma its folios may
 * belong to.  A chain of one means the VMA was never a fork child.
 */
#include <string.h>

#include "internal.h"

static struct anon_vma *anon_vma_alloc(struct uvma_sys *sys)
{
	struct anon_vma *av = uvma_zalloc(sys, sizeof(*av));

	if (!av)
		return NULL;
	av->refcount = 1;
	av->root = av;
	av->parent = av;
	av->id = ++sys->next_anon_id;
	return av;
}

static void anon_vma_free(struct uvma_sys *sys, struct anon_vma *av)
{
	uvma_free(sys, av, sizeof(*av));
}

void get_anon_vma(struct anon_vma *av)
{
	av->refcount++;
}

void put_anon_vma(struct uvma_sys *sys, struct anon_vma *av)
{
	struct anon_vma *root = av->root;

	PAGE_LOCK_ASSERT(sys);

	if (--av->refcount)
		return;
	anon_vma_free(sys, av);
	/* A non-root anon_vma pins its root. */
	if (root != av && --root->refcount == 0)
		anon_vma_free(sys, root);
}

static struct avc *avc_alloc(struct uvma_sys *sys)
{
	return uvma_alloc(sys, sizeof(struct avc));
}

static void avc_link(struct uvma_vma *vma, struct avc *avc, struct anon_vma *av)
{
	avc->vma = vma;
	avc->anon_vma = av;
	list_add(&avc->same_vma, &vma->anon_vma_chain);
	avtree_insert(av, avc);
}

/*
 * May @a (lower) and @b (upper) share an anon_vma?  Adjacent, same policy
 * and file, flags equal but for the access bits (and the bits merging
 * ignores), and linear page offsets.
 */
bool anon_vma_compatible(const struct uvma_vma *a, const struct uvma_vma *b)
{
	PAGE_LOCK_ASSERT(a->mm->sys);
	return a->end == b->start && a->policy == b->policy && a->file == b->file &&
	       !((a->flags ^ b->flags) & ~(VM_ACCESS_FLAGS | VM_IGNORE_MERGE)) &&
	       b->pgoff == a->pgoff + ((b->start - a->start) >> PAGE_SHIFT);
}

/* @old's anon_vma, if @a and @b are compatible and @old was never forked into. */
static struct anon_vma *reusable_anon_vma(struct uvma_vma *old, struct uvma_vma *a,
					  struct uvma_vma *b)
{
	if (anon_vma_compatible(a, b) && old->anon_vma && list_is_singular(&old->anon_vma_chain))
		return old->anon_vma;
	return NULL;
}

/* The neighbour's anon_vma a first fault may take: next first, then prev. */
static struct anon_vma *find_mergeable_anon_vma(struct uvma_vma *vma)
{
	struct uvma_vma *next = vma_next_of(vma->mm, vma);
	struct uvma_vma *prev;
	struct anon_vma *av;

	if (next) {
		av = reusable_anon_vma(next, vma, next);
		if (av)
			return av;
	}
	prev = vma_prev_of(vma->mm, vma);
	if (prev)
		return reusable_anon_vma(prev, prev, vma);
	return NULL;
}

int anon_vma_prepare(struct uvma_vma *vma)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct uvma_sys *sys = vma->mm->sys;
	struct anon_vma *av, *allocated = NULL;
	struct avc *avc;

	if (vma->anon_vma)
		return 0;
	avc = avc_alloc(sys);
	if (!avc)
		return -ENOMEM;
	av = find_mergeable_anon_vma(vma);
	if (!av) {
		av = allocated = anon_vma_alloc(sys);
		if (!av) {
			uvma_free(sys, avc, sizeof(*avc));
			return -ENOMEM;
		}
		/* A new root counts itself among its children. */
		av->num_children++;
	}
	/* Nothing fails from here. */
	vma->anon_vma = av;
	avc_link(vma, avc, av);
	av->num_active_vmas++;
	vma->mm->pstats.anon_vmas += allocated != NULL;
	return 0;
}

/*
 * Give @dst a link to every anon_vma of @src.  With dst->anon_vma NULL (fork)
 * an anon_vma of the chain that no VMA uses any more and that has at most one
 * child is reused instead of allocating one.
 */
int anon_vma_clone(struct uvma_vma *dst, struct uvma_vma *src)
{
	PAGE_LOCK_SCOPE(dst->mm->sys);
	struct uvma_sys *sys = src->mm->sys;
	struct list_head *pos;

	/* Oldest first, so that dst's chain ends up in src's order. */
	for (pos = src->anon_vma_chain.prev; pos != &src->anon_vma_chain; pos = pos->prev) {
		struct avc *pavc = container_of(pos, struct avc, same_vma);
		struct anon_vma *av = pavc->anon_vma;
		struct avc *avc = avc_alloc(sys);

		if (!avc) {
			dst->anon_vma = NULL;
			unlink_anon_vmas(dst);
			return -ENOMEM;
		}
		avc_link(dst, avc, av);
		if (!dst->anon_vma && src->anon_vma && av->num_children < 2 &&
		    av->num_active_vmas == 0)
			dst->anon_vma = av;
	}
	if (dst->anon_vma)
		dst->anon_vma->num_active_vmas++;
	return 0;
}

int anon_vma_fork(struct uvma_vma *vma, struct uvma_vma *pvma)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct uvma_sys *sys = vma->mm->sys;
	struct anon_vma *av;
	struct avc *avc;
	int err;

	list_init(&vma->anon_vma_chain);
	if (!pvma->anon_vma)
		return 0;
	vma->anon_vma = NULL;
	err = anon_vma_clone(vma, pvma);
	if (err)
		return err;
	if (vma->anon_vma)
		return 0;	/* reused an orphaned anon_vma of the chain */

	av = anon_vma_alloc(sys);
	if (!av)
		goto out_unlink;
	avc = avc_alloc(sys);
	if (!avc) {
		anon_vma_free(sys, av);
		goto out_unlink;
	}
	av->num_active_vmas++;
	av->root = pvma->anon_vma->root;
	av->parent = pvma->anon_vma;
	av->root->refcount++;
	vma->anon_vma = av;
	avc_link(vma, avc, av);
	av->parent->num_children++;
	vma->mm->pstats.anon_vmas++;
	return 0;

out_unlink:
	unlink_anon_vmas(vma);
	return -ENOMEM;
}

void unlink_anon_vmas(struct uvma_vma *vma)
{
	/*
	 * Never faulted: nothing to unlink, and no page lock to take (its
	 * chain only grows under the mmap_lock, which the caller holds).
	 */
	if (!vma->anon_vma && list_empty(&vma->anon_vma_chain))
		return;
	PAGE_LOCK_SCOPE(vma->mm->sys);
	struct uvma_sys *sys = vma->mm->sys;
	struct list_head *pos, *tmp;

	/* First unlink; anon_vmas left without any AVC are freed afterwards. */
	for (pos = vma->anon_vma_chain.next; pos != &vma->anon_vma_chain; pos = tmp) {
		struct avc *avc = container_of(pos, struct avc, same_vma);
		struct anon_vma *av = avc->anon_vma;

		tmp = pos->next;
		avtree_remove(av, avc);
		if (!av->navcs) {
			av->parent->num_children--;
			continue;
		}
		list_del(&avc->same_vma);
		uvma_free(sys, avc, sizeof(*avc));
	}
	if (vma->anon_vma) {
		vma->anon_vma->num_active_vmas--;
		vma->anon_vma = NULL;
	}
	for (pos = vma->anon_vma_chain.next; pos != &vma->anon_vma_chain; pos = tmp) {
		struct avc *avc = container_of(pos, struct avc, same_vma);

		tmp = pos->next;
		list_del(&avc->same_vma);
		put_anon_vma(sys, avc->anon_vma);
		uvma_free(sys, avc, sizeof(*avc));
	}
}

/* @next is merged into @vma, which has the same anon_vma: drop next's links. */
void anon_vma_merge(struct uvma_vma *vma, struct uvma_vma *next)
{
	PAGE_LOCK_SCOPE(vma->mm->sys);
	/* only matena and ideal merge different anon_vmas (their folios moved first) */
	UVMA_BUG_ON(vma->anon_vma != next->anon_vma && !policy_matena(vma->mm) &&
		    !policy_ideal(vma->mm));
	unlink_anon_vmas(next);
}
