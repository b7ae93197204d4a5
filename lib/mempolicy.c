// SPDX-License-Identifier: MIT
/*
 * mbind(2): a memory policy per range.  The model has no NUMA placement to
 * do; what it keeps is what maps shows, the splits and merges that policy
 * equality makes (spec 5.12).  A VMA carries its policy as an identity: 0
 * for the default (the kernel's NULL vm_policy), else an index + 1 into the
 * machine's table of interned policies, so that two VMAs have equal
 * identities exactly when mpol_equal() would call their policies equal.
 */
#include <string.h>

#include "merge.h"

/* Internal flags a NUMA-balancing policy takes on (mempolicy.h's MOF, MORON). */
#define MPOL_F_MOF (1 << 3)
#define MPOL_F_MORON (1 << 4)
#define MPOL_MODE_FLAGS                                                                        \
	(UVMA_MPOL_F_STATIC_NODES | UVMA_MPOL_F_RELATIVE_NODES | UVMA_MPOL_F_NUMA_BALANCING)
#define MPOL_MF_VALID (UVMA_MPOL_MF_STRICT | UVMA_MPOL_MF_MOVE | UVMA_MPOL_MF_MOVE_ALL)
#define MPOL_MAX 7
/* a mask longer than a page is refused (the host's MAX_NUMNODES is 1024: bits past it are 0 here) */
#define MASK_BITS_MAX (PAGE_SIZE * 8)

static uint64_t online_nodes(const struct uvma_sys *sys)
{
	return sys->cfg.numa_nodes >= 64 ? ~0ULL : (1ULL << sys->cfg.numa_nodes) - 1;
}

static unsigned int weight(uint64_t m)
{
	return (unsigned int)__builtin_popcountll(m);
}

/*
 * Relative nodes: bit i of the user's mask picks the (i mod n)-th of the n
 * allowed nodes (nodes_fold, then nodes_onto).
 */
static uint64_t relative_nodes(uint64_t user, uint64_t allowed)
{
	unsigned int n = weight(allowed);
	uint64_t folded = 0, out = 0;

	for (unsigned int i = 0; i < 64; i++)
		if (user & (1ULL << i))
			folded |= 1ULL << (i % n);
	for (unsigned int i = 0, k = 0; i < 64; i++) {
		if (!(allowed & (1ULL << i)))
			continue;
		if (folded & (1ULL << k))
			out |= 1ULL << i;
		k++;
	}
	return out;
}

void mpol_destroy(struct uvma_sys *sys)
{
	if (sys->mpols)
		uvma_free(sys, sys->mpols, sys->capmpols * sizeof(*sys->mpols));
	sys->mpols = NULL;
	sys->nmpols = sys->capmpols = 0;
}

/* The identity of @p: found, or added to the table.  0 (the default) is never returned. */
static long mpol_intern(struct uvma_sys *sys, const struct mpol *p)
{
	for (uint32_t i = 0; i < sys->nmpols; i++) {
		const struct mpol *q = &sys->mpols[i];

		if (q->mode == p->mode && q->flags == p->flags && q->nodes == p->nodes &&
		    q->user_nodes == p->user_nodes)
			return (long)i + 1;
	}
	if (sys->nmpols == sys->capmpols) {
		uint32_t cap = sys->capmpols ? sys->capmpols * 2 : 8;
		struct mpol *bigger = uvma_alloc(sys, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		if (sys->nmpols)
			memcpy(bigger, sys->mpols, sys->nmpols * sizeof(*bigger));
		if (sys->mpols)
			uvma_free(sys, sys->mpols, sys->capmpols * sizeof(*sys->mpols));
		sys->mpols = bigger;
		sys->capmpols = cap;
	}
	sys->mpols[sys->nmpols] = *p;
	return (long)++sys->nmpols;
}

/*
 * mpol_new(): the policy @mode asks for with the caller's @user mask, before
 * the nodes are known.  p->mode stays DEFAULT for the default policy.  0 or
 * -EINVAL.
 */
static int mpol_new(unsigned int mode, unsigned int flags, uint64_t user, struct mpol *p)
{
	memset(p, 0, sizeof(*p));
	if (mode == UVMA_MPOL_DEFAULT)
		return user ? -EINVAL : 0;
	if (mode == UVMA_MPOL_PREFERRED && !user) {
		/* no node: allocate locally, which is its own mode */
		if (flags & (UVMA_MPOL_F_STATIC_NODES | UVMA_MPOL_F_RELATIVE_NODES))
			return -EINVAL;
		mode = UVMA_MPOL_LOCAL;
	} else if (mode == UVMA_MPOL_LOCAL) {
		if (user || (flags & (UVMA_MPOL_F_STATIC_NODES | UVMA_MPOL_F_RELATIVE_NODES)))
			return -EINVAL;
	} else if (!user) {
		return -EINVAL;
	}
	p->mode = (uint16_t)mode;
	p->flags = (uint16_t)flags;
	return 0;
}

/* mpol_set_nodemask(): the nodes of @p among those online.  0 or -EINVAL (none left). */
static int mpol_set_nodemask(const struct uvma_sys *sys, uint64_t user, struct mpol *p)
{
	uint64_t allowed = online_nodes(sys), nodes;

	if (p->mode == UVMA_MPOL_DEFAULT || p->mode == UVMA_MPOL_LOCAL)
		return 0;
	nodes = p->flags & UVMA_MPOL_F_RELATIVE_NODES ? relative_nodes(user, allowed)
						       : user & allowed;
	if (p->flags & (UVMA_MPOL_F_STATIC_NODES | UVMA_MPOL_F_RELATIVE_NODES))
		p->user_nodes = user;
	if (!nodes)
		return -EINVAL;
	/* a preferred node is the first one allowed */
	p->nodes = p->mode == UVMA_MPOL_PREFERRED ? nodes & -nodes : nodes;
	return 0;
}

/*
 *   start                                     end
 *   |  vma (split off)  |  vma  |  vma (split off)  |
 *
 * mbind_range() for each VMA: one whose policy already equals the new one
 * is left alone; the others are modified through the merge engine with the
 * policy as the attribute that changes.
 */
static int mbind_apply(struct uvma_mm *mm, uint64_t start, uint64_t end, uint32_t id)
{
	struct uvma_vma *prev, *vma = vma_find_and_prev(mm, start, &prev);

	while (vma && vma->start < end) {
		uint64_t vmstart = vma->start, vmend = vma->end < end ? vma->end : end;
		int err = 0;

		if (start > vma->start) {
			prev = vma;
			vmstart = start;
		}
		if (vma->policy != id) {
			VMG_MODIFY(vmg, prev, vma, vmstart, vmend);

			vmg.policy = id;
			vma = vma_modify(&vmg, &err);
			if (!vma)
				return err;
			if (vma->policy != id) {
				vma_start_write(vma);
				vma->policy = id;
			}
		}
		prev = vma;
		if (vma->end >= end)
			break;
		vma = vma_next_of(mm, vma);
	}
	return 0;
}

static void note_present(void *ctx, uint64_t addr, pte_t *pte)
{
	(void)addr;
	if (pte_is_folio(*pte))
		*(bool *)ctx = true;
}

/*
 * The model places every page on node 0.  With MPOL_MF_STRICT and no move
 * asked for, a present page outside the caller's nodes stops the page walk
 * (queue_pages_range()) with -EIO before the policy is applied; a local or
 * default policy has no nodes, so every page is outside them.
 */
static bool misplaced_pages(struct uvma_mm *mm, uint64_t start, uint64_t end, uint64_t user)
{
	PAGE_LOCK_SCOPE(mm->sys);
	bool present = false;

	if (user & 1)
		return false;
	pt_walk(&mm->pt, start, end, note_present, &present);
	return present;
}

/*
 * queue_pages_range(), for what mbind can see of it here.  The walk takes
 * the VMAs in order; for each it checks first for a hole before it (the
 * first VMA only) or after it (unless the default policy is being set),
 * -EFAULT, then its pages (with MPOL_MF_STRICT and no move asked for, the
 * first misplaced one stops the walk, -EIO).  So a misplaced page ahead of
 * a hole gives -EIO, a hole ahead of one -EFAULT.  A range with no VMA at
 * all is -EFAULT.  Nothing has changed yet either way.
 */
static int queue_pages_check(struct uvma_mm *mm, uint64_t start, uint64_t end, bool discontig_ok,
			     bool strict_no_move, uint64_t user)
{
	struct uvma_vma *vma = vma_find(mm, start);

	if (!vma || vma->start >= end)
		return -EFAULT;
	if (!discontig_ok && start < vma->start)
		return -EFAULT;
	while (vma && vma->start < end) {
		struct uvma_vma *next = vma_next_of(mm, vma);

		if (!discontig_ok && vma->end < end && (!next || vma->end < next->start))
			return -EFAULT;
		if (strict_no_move && misplaced_pages(mm, start > vma->start ? start : vma->start,
						      end < vma->end ? end : vma->end, user))
			return -EIO;
		vma = next;
	}
	return 0;
}

int uvma_mbind(struct uvma_mm *mm, uint64_t start, uint64_t len, int mode_in,
	       const uint64_t *nodes, unsigned long maxnode, unsigned int flags)
{
	MM_WRITE_GUARD(mm);
	unsigned int mode = (unsigned int)mode_in & ~(unsigned int)MPOL_MODE_FLAGS;
	unsigned int mflags = (unsigned int)mode_in & MPOL_MODE_FLAGS;
	uint64_t user = 0, end;
	struct mpol p;
	long id = 0;
	int err;

	MM_CALL(mm, "mbind");
	/* sanitize_mpol_flags */
	if (mode >= MPOL_MAX ||
	    ((mflags & UVMA_MPOL_F_STATIC_NODES) && (mflags & UVMA_MPOL_F_RELATIVE_NODES)))
		return -EINVAL;
	if (mflags & UVMA_MPOL_F_NUMA_BALANCING) {
		if (mode != UVMA_MPOL_BIND && mode != UVMA_MPOL_PREFERRED_MANY)
			return -EINVAL;
		mflags |= MPOL_F_MOF | MPOL_F_MORON;
	}
	/* get_nodes: @maxnode - 1 bits are read (0 wraps around and is too many) */
	if (nodes && maxnode != 1) {
		unsigned long bits = maxnode - 1;

		if (bits > MASK_BITS_MAX)
			return -EINVAL;
		user = bits >= 64 ? *nodes : *nodes & ((1ULL << bits) - 1);
	}
	/* do_mbind */
	if (flags & ~(unsigned int)MPOL_MF_VALID)
		return -EINVAL;
	if (start & ~PAGE_MASK)
		return -EINVAL;
	if (mode == UVMA_MPOL_DEFAULT)
		flags &= ~(unsigned int)UVMA_MPOL_MF_STRICT;
	/* a length that rounds up past the top is 0 here, as in the kernel: nothing to do */
	end = start + PAGE_ALIGN(len);
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	err = mpol_new(mode, mflags, user, &p);
	if (err)
		return err;
	/* moving pages disables the per-CPU LRU caches, draining them first */
	if (flags & (UVMA_MPOL_MF_MOVE | UVMA_MPOL_MF_MOVE_ALL))
		lru_add_drain(mm->sys);
	err = mpol_set_nodemask(mm->sys, user, &p);
	if (!err)
		err = queue_pages_check(mm, start, end, p.mode == UVMA_MPOL_DEFAULT,
					(flags & UVMA_MPOL_MF_STRICT) &&
						!(flags & (UVMA_MPOL_MF_MOVE | UVMA_MPOL_MF_MOVE_ALL)),
					user);
	if (!err && p.mode != UVMA_MPOL_DEFAULT) {
		id = mpol_intern(mm->sys, &p);
		if (id < 0)
			err = (int)id;
	}
	if (!err)
		err = mbind_apply(mm, start, end, (uint32_t)id);
	mm_debug_validate(mm);
	return err;
}
