// SPDX-License-Identifier: MIT
/*
 * Folio migration, as compaction or NUMA balancing does it, in two steps so
 * that other operations can meet the state in between:
 *
 *   start:   every PTE mapping the folio  ──>  migration entry (folio, bits)
 *            the folio is isolated: one reference, no mappings
 *   finish:  a new folio takes the data, flags and identity (mapping,
 *            index); the reverse walk of the old folio turns each migration
 *            entry back into a mapping, of the new folio
 *
 * A fault that meets a migration entry waits for the migration to end; the
 * model has no other thread, so the fault finishes it.  fork copies the
 * entries (a COW mapping's lose exclusivity and the folio counts as
 * COW-shared), munmap and MADV_DONTNEED drop them, mremap moves them.
 */
#include <string.h>

#include "internal.h"
#include "ksm.h"

struct migration {
	struct list_head node;	/* sys->migrations */
	long id;
	struct uvma_folio *folio;
	struct anon_vma *anon_vma;	/* held for the walk back (anon folios) */
	struct uvma_file *file;		/* held for the page cache (file folios) */
};

struct unmap_ctx {
	struct uvma_sys *sys;
	struct uvma_folio *f;
};

/* try_to_migrate_one: one mapping of the folio becomes a migration entry. */
static bool to_migration_entry(struct uvma_vma *vma, uint64_t addr, pte_t *pte, void *ctx)
{
	struct unmap_ctx *u = ctx;
	struct uvma_folio *f = u->f;
	pte_t bits = 0;
	bool exclusive = (f->flags & FOLIO_ANON_EXCLUSIVE) != 0;

	if (!pte_is_folio(*pte))
		return true;
	if (exclusive)
		bits |= PTE_SWP_EXCLUSIVE;
	if ((vma->flags & UVMA_VM_WRITE) && (exclusive || (vma->flags & UVMA_VM_SHARED)))
		bits |= PTE_SWP_WRITE;
	if (*pte & PTE_DIRTY) {
		bits |= PTE_SWP_DIRTY;
		if (!(f->flags & FOLIO_ANON) || (f->flags & FOLIO_KSM))
			f->flags |= FOLIO_DIRTY;
	}
	if (*pte & PTE_YOUNG)
		bits |= PTE_SWP_YOUNG;
	if (*pte & PTE_PMD) {
		bits |= PTE_SWP_PMD;
		/* the PMD mapping goes with its first page */
		if (!(addr & (PMD_SIZE - 1))) {
			f->entire--;
			f->refcount--;
		}
	} else if (folio_large(f)) {
		f->pmap[linear_page_index(vma, addr) - f->index]--;
		f->refcount--;
	} else {
		f->mapcount--;
		f->refcount--;
	}
	*pte = migration_pte(f, bits);
	return true;
}

struct restore_ctx {
	struct uvma_folio *old, *new;
};

/* remove_migration_pte: the entry maps @new, with the bits it kept. */
static bool from_migration_entry(struct uvma_vma *vma, uint64_t addr, pte_t *pte, void *ctx)
{
	struct restore_ctx *r = ctx;
	struct uvma_folio *g = r->new;
	pte_t e = *pte, p = (pte_t)g;

	if (!pte_is_migration(e))
		return true;
	if (e & PTE_SWP_DIRTY)
		p |= PTE_DIRTY;
	if (e & PTE_SWP_YOUNG)
		p |= PTE_YOUNG;
	if (e & PTE_SWP_PMD) {
		p |= PTE_PMD;
		if (!(addr & (PMD_SIZE - 1))) {
			g->entire++;
			g->refcount++;
		}
	} else if (folio_large(g)) {
		g->pmap[linear_page_index(vma, addr) - g->index]++;
		g->refcount++;
	} else {
		g->mapcount++;
		g->refcount++;
	}
	/* an entry fork made readable means the page is no longer exclusive */
	if ((g->flags & FOLIO_ANON) && !(e & PTE_SWP_EXCLUSIVE))
		g->flags &= ~FOLIO_ANON_EXCLUSIVE;
	*pte = p;
	return true;
}

static struct migration *find_migration(struct uvma_sys *sys, const struct uvma_folio *f,
					long id)
{
	for (struct list_head *p = sys->migrations.next; p != &sys->migrations; p = p->next) {
		struct migration *m = container_of(p, struct migration, node);

		if (m->folio == f || (id && m->id == id))
			return m;
	}
	return NULL;
}

long uvma_migrate_start(struct uvma_mm *mm, uint64_t addr)
{
	SYS_GUARD(mm->sys);
	struct uvma_sys *sys = mm->sys;
	struct uvma_vma *vma = vma_lookup(mm, addr);
	struct unmap_ctx u = { .sys = sys };
	struct migration *m;
	struct uvma_folio *f;
	pte_t *pte;

	if (!vma)
		return -EFAULT;
	pte = pt_lookup(&mm->pt, addr & PAGE_MASK);
	if (!pte || !pte_is_folio(*pte))
		return -ENOENT;
	f = pte_folio(*pte);
	/* isolation needs the folio on an LRU list: the per-CPU batches drain */
	lru_add_drain(sys);
	/* the expected reference count excludes pins: a pinned folio stays */
	if (folio_maybe_pinned(f))
		return -EAGAIN;
	m = uvma_zalloc(sys, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* Nothing fails from here. */
	m->id = (long)++sys->next_migration_id;
	m->folio = f;
	if (f->flags & FOLIO_KSM) {
		/* the stable node lives as long as its folio */
	} else if (f->flags & FOLIO_ANON) {
		m->anon_vma = f->mapping;
		get_anon_vma(m->anon_vma);
	} else {
		m->file = file_get(f->mapping);
	}
	list_add_tail(&m->node, &sys->migrations);
	f->refcount++;
	f->flags |= FOLIO_MIGRATING;
	u.f = f;
	rmap_walk(sys, f, to_migration_entry, &u);
	mm_debug_validate(mm);
	return m->id;
}

static void migration_free(struct uvma_sys *sys, struct migration *m)
{
	list_del(&m->node);
	if (m->anon_vma)
		put_anon_vma(sys, m->anon_vma);
	if (m->file)
		file_put(m->file);
	uvma_free(sys, m, sizeof(*m));
}

/* A copy of @f with its identity and data, unmapped, holding one reference. */
static struct uvma_folio *folio_migrate_copy(struct uvma_sys *sys, struct uvma_folio *f)
{
	struct uvma_folio *g = folio_alloc(sys);

	if (!g)
		return NULL;
	if (folio_large(f)) {
		g->pmap = uvma_zalloc(sys, (size_t)folio_nr_pages(f) * sizeof(g->pmap[0]));
		if (!g->pmap)
			goto fail;
		if (f->contents) {
			g->contents = uvma_alloc(sys, (size_t)folio_nr_pages(f) * sizeof(g->contents[0]));
			if (!g->contents)
				goto fail;
			memcpy(g->contents, f->contents, (size_t)folio_nr_pages(f) * sizeof(g->contents[0]));
		}
		g->order = f->order;
	} else {
		g->content = f->content;
	}
	g->mapping = f->mapping;
	g->index = f->index;
	g->flags = f->flags & ~(FOLIO_MIGRATING | FOLIO_LRU | FOLIO_LRU_ADD_PENDING |
				FOLIO_LAZYFREE_PENDING);
	return g;
fail:
	uvma_free(sys, g->pmap, (size_t)folio_nr_pages(f) * sizeof(g->pmap[0]));
	uvma_free(sys, g, sizeof(*g));
	return NULL;
}

/* End a migration; with @abort (or no memory for the copy) the old folio stays. */
static int migration_finish(struct uvma_sys *sys, struct migration *m, bool abort)
{
	struct uvma_folio *f = m->folio, *g = abort ? NULL : folio_migrate_copy(sys, f);
	struct restore_ctx r = { .old = f, .new = g ? g : f };

	if (g) {
		/* the new folio takes the old one's place in every index */
		if (f->flags & FOLIO_KSM)
			((struct ksm_stable *)f->mapping)->folio = g;
		if (f->swap) {
			sys->swap[f->swap - 1].cache = g;
			g->swap = f->swap;
			f->swap = 0;
			g->refcount++;
			f->refcount--;
		}
		if (!(f->flags & FOLIO_ANON)) {
			struct uvma_file *file = f->mapping;
			pte_t *slot = file->pages ? pt_lookup(&file->pages->pt, f->index << PAGE_SHIFT)
						  : NULL;

			/* (a hole punched meanwhile took it out of the cache) */
			if (slot && *slot && pte_folio(*slot) == f) {
				*slot = (pte_t)g;
				g->refcount++;
				f->refcount--;
			}
		}
	}
	/* without a new folio the migration fails: the old one is mapped back */
	rmap_walk(sys, f, from_migration_entry, &r);
	f->flags &= ~FOLIO_MIGRATING;
	if (g) {
		folio_add_lru(sys, g);
		f->flags &= ~FOLIO_KSM;	/* the stable node is the new folio's now */
	}
	/* may free the file and its page cache: the allocation's reference keeps g */
	migration_free(sys, m);
	if (g)
		folio_put(sys, g);
	folio_put(sys, f);	/* the isolation reference */
	return g || abort ? 0 : -ENOMEM;
}

int uvma_migrate_finish(struct uvma_sys *sys, long id)
{
	SYS_GUARD(sys);
	struct migration *m = id > 0 ? find_migration(sys, NULL, id) : NULL;

	if (!m)
		return -ENOENT;
	return migration_finish(sys, m, false);
}

int uvma_migrate(struct uvma_mm *mm, uint64_t addr)
{
	SYS_GUARD(mm->sys);
	long id = uvma_migrate_start(mm, addr);
	int err;

	if (id < 0)
		return (int)id;
	err = uvma_migrate_finish(mm->sys, id);
	mm_debug_validate(mm);
	return err;
}

int migration_entry_wait(struct uvma_sys *sys, pte_t pte)
{
	struct migration *m = find_migration(sys, migration_folio(pte), 0);

	PAGE_LOCK_ASSERT(sys);

	UVMA_BUG_ON(!m);
	return migration_finish(sys, m, false);
}

void migrations_destroy(struct uvma_sys *sys)
{
	PAGE_LOCK_SCOPE(sys);
	while (!list_empty(&sys->migrations)) {
		struct migration *m = container_of(sys->migrations.next, struct migration, node);

		(void)migration_finish(sys, m, true);
	}
}
