// SPDX-License-Identifier: MIT
/*
 * /proc/PID/maps and /proc/PID/smaps text (spec 6), byte for byte as
 * fs/proc/task_mmu.c prints it on the host.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define PSS_SHIFT 12

/* VmFlags mnemonics by bit number; NULL: not printed. */
static const char *const mnemonics[64] = {
	[0] = "rd",  [1] = "wr",  [2] = "ex",  [3] = "sh",  [4] = "mr",  [5] = "mw",
	[6] = "me",  [7] = "ms",  [8] = "gd",  [9] = "um",  [10] = "pf", [11] = "gu",
	[12] = "uw", [13] = "lo", [14] = "io", [15] = "sr", [16] = "rr", [17] = "dc",
	[18] = "de", [19] = "lf", [20] = "ac", [21] = "nr", [22] = "ht", [23] = "sf",
	[24] = "ar", [25] = "wf", [26] = "dd", [28] = "mm", [29] = "hg", [30] = "nh",
	[31] = "mg", [40] = "dp", [42] = "sl",
};

const char *uvma_vm_flag_name(unsigned int bit)
{
	return bit < 64 ? mnemonics[bit] : NULL;
}

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->len < o->size ? o->size - o->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

const char *vma_name(const struct uvma_vma *vma)
{
	const struct uvma_mm *mm = vma->mm;

	if (vma->file)
		return vma->file->path;
	if (vma->ops && vma->ops->name)
		return vma->ops->name;
	if (vma->start < mm->brk && vma->end > mm->start_brk)
		return "[heap]";
	if (mm->start_stack && vma->start <= mm->start_stack && vma->end >= mm->start_stack)
		return "[stack]";
	return NULL;
}

static void show_map_vma(struct out *o, const struct uvma_vma *vma)
{
	uint64_t pgoff = 0, major = 0, minor = 0, ino = 0;
	size_t line_start = o->len;
	const char *name = vma_name(vma);
	char anon[96];

	if (vma->file) {
		pgoff = vma->pgoff << PAGE_SHIFT;
		major = vma->file->dev_major;
		minor = vma->file->dev_minor;
		ino = vma->file->ino;
	}
	put(o, "%08llx-%08llx %c%c%c%c %08llx %02llx:%02llx %llu ", (unsigned long long)vma->start,
	    (unsigned long long)vma->end, vma->flags & UVMA_VM_READ ? 'r' : '-',
	    vma->flags & UVMA_VM_WRITE ? 'w' : '-', vma->flags & UVMA_VM_EXEC ? 'x' : '-',
	    vma->flags & UVMA_VM_MAYSHARE ? 's' : 'p', (unsigned long long)pgoff,
	    (unsigned long long)major, (unsigned long long)minor, (unsigned long long)ino);
	if (!name && vma->anon_name) {
		snprintf(anon, sizeof(anon), "[anon:%s]", vma->anon_name->name);
		name = anon;
	} else if (name && vma->file && vma->file->shmem && vma->anon_name) {
		snprintf(anon, sizeof(anon), "[anon_shmem:%s]", vma->anon_name->name);
		name = anon;
	}
	if (name) {
		/* pad to column 72, then one separator */
		size_t used = o->len - line_start;

		if (used < 72)
			put(o, "%*s", (int)(72 - used), "");
		put(o, " %s", name);
	}
	put(o, "\n");
}

/* Print every VMA meeting [lo, hi) with @show, snprintf-style into @buf. */
static long render(const struct uvma_mm *mm, uint64_t lo, uint64_t hi, char *buf, size_t size,
		   void (*show)(struct out *o, const struct uvma_vma *v))
{
	struct out o = { .buf = buf, .size = size };
	struct tree_cursor cur;

	if (size)
		buf[0] = 0;
	for (struct uvma_vma *v = tree_find_after(&mm->tree, lo, &cur); v && v->start < hi;
	     v = tree_cursor_next(&cur))
		show(&o, v);
	return (long)o.len;
}

long uvma_render_maps(const struct uvma_mm *mm, uint64_t lo, uint64_t hi, char *buf, size_t size)
{
	MM_READ_GUARD(mm);
	return render(mm, lo, hi, buf, size, show_map_vma);
}

struct mss {
	const struct uvma_vma *vma;
	uint64_t resident, pss, pss_dirty, pss_locked;
	uint64_t shared_clean, shared_dirty, private_clean, private_dirty;
	uint64_t referenced, anonymous, ksm, lazyfree, anon_thp, swap, swap_pss;
	bool locked;
};

/*
 * smaps_account: one page of @f.  A page behind a migration entry (!present)
 * counts as maybe shared, but not sure how often: its whole size, in the
 * shared columns.
 */
static void smaps_account(struct mss *m, const struct uvma_folio *f, bool young, bool dirty,
			  int mapcount, bool present)
{
	bool private = present && (f->refcount == 1 || mapcount < 2);
	uint64_t pss = PAGE_SIZE << PSS_SHIFT;

	dirty |= (f->flags & FOLIO_DIRTY) != 0;
	if (f->flags & FOLIO_ANON) {
		m->anonymous += PAGE_SIZE;
		if (!(f->flags & FOLIO_SWAPBACKED) && !dirty)
			m->lazyfree += PAGE_SIZE;
	}
	if (f->flags & FOLIO_KSM)
		m->ksm += PAGE_SIZE;
	m->resident += PAGE_SIZE;
	if (young || (f->flags & FOLIO_REFERENCED))
		m->referenced += PAGE_SIZE;
	if (present && !private)
		pss /= (uint64_t)mapcount;
	m->pss += pss;
	if (dirty) {
		m->pss_dirty += pss;
		if (private)
			m->private_dirty += PAGE_SIZE;
		else
			m->shared_dirty += PAGE_SIZE;
	} else if (private) {
		m->private_clean += PAGE_SIZE;
	} else {
		m->shared_clean += PAGE_SIZE;
	}
	if (m->locked)
		m->pss_locked += pss;
}

static void smaps_pte(void *ctx, uint64_t addr, pte_t *pte)
{
	struct mss *m = ctx;
	struct uvma_folio *f;

	if (pte_is_swap(*pte)) {
		/* SwapPss divides by the entries that share the slot */
		uint32_t users = m->vma->mm->sys->swap[swp_slot(*pte)].count;

		m->swap += PAGE_SIZE;
		m->swap_pss += users >= 2 ? (PAGE_SIZE << PSS_SHIFT) / users : PAGE_SIZE << PSS_SHIFT;
		return;
	}
	if (pte_is_migration(*pte)) {
		smaps_account(m, migration_folio(*pte), false, false, 0, false);
		return;
	}
	if (!pte_is_folio(*pte))
		return;
	f = pte_folio(*pte);
	if ((*pte & PTE_PMD) && (f->flags & FOLIO_ANON))
		m->anon_thp += PAGE_SIZE;
	smaps_account(m, f, *pte & PTE_YOUNG, *pte & PTE_DIRTY,
		      folio_page_mapcount(f, folio_large(f) ? linear_page_index(m->vma, addr) - f->index
							    : 0),
		      true);
}

static void vma_usage(const struct uvma_vma *vma, struct mss *m)
{
	memset(m, 0, sizeof(*m));
	m->vma = vma;
	m->locked = vma->flags & UVMA_VM_LOCKED;
	pt_walk(&vma->mm->pt, vma->start, vma->end, smaps_pte, m);
}

int uvma_vma_usage(const struct uvma_mm *mm, uint64_t addr, struct uvma_vma_usage *u)
{
	MM_READ_GUARD(mm);
	const struct uvma_vma *v = vma_lookup(mm, addr);
	struct mss m;

	if (!v)
		return -ENOENT;
	vma_usage(v, &m);
	memset(u, 0, sizeof(*u));
	u->rss = m.resident;
	u->pss = m.pss >> PSS_SHIFT;
	u->pss_dirty = m.pss_dirty >> PSS_SHIFT;
	u->shared_clean = m.shared_clean;
	u->shared_dirty = m.shared_dirty;
	u->private_clean = m.private_clean;
	u->private_dirty = m.private_dirty;
	u->referenced = m.referenced;
	u->anonymous = m.anonymous;
	u->ksm = m.ksm;
	u->lazyfree = m.lazyfree;
	u->anon_huge = m.anon_thp;
	u->swap = m.swap;
	u->swap_pss = m.swap_pss >> PSS_SHIFT;
	u->locked = m.pss_locked >> PSS_SHIFT;
	return 0;
}

/* Some THP size the VMA allows has an aligned block inside it. */
static bool thp_eligible(const struct uvma_vma *v)
{
	uint32_t orders = thp_vma_orders(v);

	if (v->file || (v->flags & UVMA_VM_HUGETLB))
		return false;
	for (int order = 9; order >= 2; order--) {
		uint64_t size = PAGE_SIZE << order;
		uint64_t s = (v->start + size - 1) & ~(size - 1);

		if ((orders & (1U << order)) && s + size <= v->end)
			return true;
	}
	return false;
}

static void show_smap(struct out *o, const struct uvma_vma *v)
{
	struct mss m;

	show_map_vma(o, v);
	vma_usage(v, &m);
#define KB(label, val) put(o, "%-16s%8llu kB\n", label, (unsigned long long)((val) >> 10))
	KB("Size:", v->end - v->start);
	KB("KernelPageSize:", PAGE_SIZE);
	KB("MMUPageSize:", PAGE_SIZE);
	KB("Rss:", m.resident);
	KB("Pss:", m.pss >> PSS_SHIFT);
	KB("Pss_Dirty:", m.pss_dirty >> PSS_SHIFT);
	KB("Shared_Clean:", m.shared_clean);
	KB("Shared_Dirty:", m.shared_dirty);
	KB("Private_Clean:", m.private_clean);
	KB("Private_Dirty:", m.private_dirty);
	KB("Referenced:", m.referenced);
	KB("Anonymous:", m.anonymous);
	KB("KSM:", m.ksm);
	KB("LazyFree:", m.lazyfree);
	KB("AnonHugePages:", m.anon_thp);
	KB("ShmemPmdMapped:", 0ULL);
	KB("FilePmdMapped:", 0ULL);
	KB("Shared_Hugetlb:", 0ULL);
	put(o, "Private_Hugetlb: %7llu kB\n", 0ULL);
	KB("Swap:", m.swap);
	KB("SwapPss:", m.swap_pss >> PSS_SHIFT);
	KB("Locked:", m.pss_locked >> PSS_SHIFT);
#undef KB
	put(o, "THPeligible:    %8u\n", thp_eligible(v) ? 1 : 0);
	if (v->mm->sys->cfg.pkeys)
		put(o, "ProtectionKey:  %8u\n",
		    (unsigned int)((v->flags & UVMA_VM_PKEY_MASK) >> UVMA_VM_PKEY_SHIFT));
	put(o, "VmFlags: ");
	for (int bit = 0; bit < 64; bit++)
		if ((v->flags & (1ULL << bit)) && mnemonics[bit])
			put(o, "%s ", mnemonics[bit]);
	put(o, "\n");
}

long uvma_render_smaps(const struct uvma_mm *mm, uint64_t lo, uint64_t hi, char *buf, size_t size)
{
	MM_READ_GUARD(mm);
	return render(mm, lo, hi, buf, size, show_smap);
}
