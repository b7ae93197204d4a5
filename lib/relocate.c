// SPDX-License-Identifier: MIT
/*
 * Relocating anonymous memory, for the merge policies (docs/policies.md).
 *
 * Once faulted, a VMA's pgoff and its folios' index and anon_vma are fixed
 * to where it was created.  Changing them keeps the reverse map exact only
 * when nobody else can reach the folios through the old identity: the
 * anon_vma is its own root, no fork child hangs off it, each page is mapped
 * once.  Then the folios can take the new index (the VMA's new pgoff) and
 * the anon_vma of the VMA that absorbs them, and every mapping is still
 * found where it is:
 *
 *   before   VMA [A, A+n) pgoff A  -> folio index A+i, anon_vma X
 *   mremap   VMA [B, B+n) pgoff B  -> folio index B+i, anon_vma X (or the
 *            neighbour's Y when the moved range merges into it)
 */
#include "internal.h"

struct unshared_ctx {
	const struct anon_vma *av;
	bool ok;
};

static bool uses_av(struct avc *avc, void *arg)
{
	struct unshared_ctx *c = arg;

	c->ok = avc->vma->anon_vma == c->av;
	return c->ok;
}

bool anon_vma_unshared(const struct anon_vma *av)
{
	struct unshared_ctx c = { av, true };

	/* a root counts itself among its children (the self-parent link) */
	if (!av || av->root != av || av->num_children > 1)
		return false;
	avtree_for_each(av, uses_av, &c);
	return c.ok;
}

struct relocatable_ctx {
	enum uvma_reason why;
};

static void check_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct relocatable_ctx *c = ctx;
	struct uvma_folio *f;

	(void)addr;
	if (c->why || *pte == PTE_ZERO || *pte == PTE_GUARD)
		return;
	if (!pte_is_folio(*pte)) {
		c->why = UVMA_REASON_NOT_PRESENT;	/* swap, migration, huge zero page */
		return;
	}
	f = pte_folio(*pte);
	if (folio_large(f))
		c->why = UVMA_REASON_LARGE_FOLIO;
	else if (f->flags & FOLIO_KSM)
		c->why = UVMA_REASON_KSM;
	else if (!(f->flags & FOLIO_ANON) || f->mapcount != 1)
		c->why = UVMA_REASON_FOLIO_SHARED;
	else if (f->swap)
		c->why = UVMA_REASON_NOT_PRESENT;	/* its data also lives in a swap slot */
}

enum uvma_reason range_relocatable(const struct uvma_mm *mm, uint64_t start, uint64_t end)
{
	struct relocatable_ctx c = { UVMA_REASON_NONE };

	pt_walk(&mm->pt, start, end, check_one, &c);
	return c.why;
}

void relocate_event(struct uvma_mm *mm, uint64_t start, uint64_t end, uint64_t new_start,
		    enum uvma_reason why)
{
	struct uvma_event ev = {
		.kind = UVMA_EVENT_RELOCATE,
		.range = { start, end },
		.target = { new_start, new_start + (end - start) },
		.ok = why == UVMA_REASON_NONE,
		.reason = why,
	};

	if (!ev.ok)
		ev.target = (struct uvma_range){ 0, 0 };
	mm_event(mm, &ev);
}

struct reconnect_ctx {
	struct uvma_vma *vma;
	const struct anon_vma *from;
	bool reindex;
};

static void reconnect_one(void *ctx, uint64_t addr, pte_t *pte)
{
	struct reconnect_ctx *c = ctx;
	struct uvma_folio *f;

	if (!pte_is_folio(*pte))
		return;
	f = pte_folio(*pte);
	if (!(f->flags & FOLIO_ANON) || (f->flags & FOLIO_KSM) || f->mapping != c->from)
		return;
	/* folio_move_anon_rmap, and for a moved page its index from the new pgoff */
	f->mapping = c->vma->anon_vma;
	if (c->reindex)
		f->index = linear_page_index(c->vma, addr);
}

void reconnect_range(struct uvma_vma *vma, uint64_t start, uint64_t end, const struct anon_vma *from,
		     bool reindex)
{
	struct reconnect_ctx c = { vma, from, reindex };

	pt_walk(&vma->mm->pt, start, end, reconnect_one, &c);
}
