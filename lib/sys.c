// SPDX-License-Identifier: MIT
/*
 * The modelled machine: allocator with failure injection, files, address
 * spaces and the exec-time layout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void uvma_bug(const char *file, int line, const char *what)
{
	(void)file;
	(void)line;
	(void)what;
	/* The library does no I/O; a debugger or the core dump shows where. */
	abort();
}

void uvma_sys_config_default(struct uvma_sys_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_map_count = 65530;
	cfg->mmap_min_addr = 4096;
	cfg->cap_ipc_lock = true;
	cfg->cap_sys_rawio = true;
	cfg->rlimit_memlock = 8UL << 20;
	cfg->thp_orders_madvise = 1U << 9;
	cfg->numa_nodes = 1;
}

/*
 * Debug builds (the tests, under ASan) bypass the caches so that every
 * freed object really is freed and a use after free is caught.
 */
#ifdef UVMA_DEBUG
#define CACHE_MAX 0
#else
#define CACHE_MAX 4096
#endif

/*
 * The object size of each cache.  Read-only data, not a field of the
 * caches: in the multi-threaded build a lookup that read the caches' own
 * lines took, at every tree-node allocation of a mapping thread, the line
 * that a faulting thread's folio cache writes.
 */
static const size_t cache_size[] = {
	sizeof(struct uvma_vma), sizeof(struct avc),	  sizeof(struct anon_vma),
	sizeof(struct uvma_folio), sizeof(struct uvma_mm), sizeof(struct tree_node),
};
_Static_assert(sizeof(cache_size) / sizeof(cache_size[0]) ==
		       sizeof(((struct uvma_sys *)0)->cache) / sizeof(struct alloc_cache),
	       "one size per cache");

static int cache_index(size_t size)
{
	for (int i = 0; i < (int)(sizeof(cache_size) / sizeof(cache_size[0])); i++)
		if (cache_size[i] == size)
			return i;
	return -1;
}

/*
 * Locks of the multi-threaded build: the embedder's allocator hooks (malloc
 * needs none) and the failure countdown under alloc_lock, each cache under
 * its own; the counters are atomic.
 */
#ifdef UVMA_MT
#define alloc_lock(sys) pthread_mutex_lock(&(sys)->alloc_lock)
#define alloc_unlock(sys) pthread_mutex_unlock(&(sys)->alloc_lock)
#define cache_lock(k) pthread_mutex_lock(&(k)->lock)
#define cache_unlock(k) pthread_mutex_unlock(&(k)->lock)
#else
#define alloc_lock(sys) ((void)(sys))
#define alloc_unlock(sys) ((void)(sys))
#define cache_lock(k) ((void)(k))
#define cache_unlock(k) ((void)(k))
#endif

/* Is this the allocation failure injection asked for? */
bool alloc_should_fail(struct uvma_sys *sys)
{
	bool fail;

	/* unarmed, the common case: a read of a line nobody writes */
	if (!__atomic_load_n(&sys->fail_nth, __ATOMIC_RELAXED))
		return false;
	alloc_lock(sys);
	fail = sys->fail_nth && --sys->fail_nth == 0;
	alloc_unlock(sys);
	return fail;
}

/*
 * Counters that every allocation and free moves: atomic in the
 * multi-threaded build, where faults allocate without the machine's lock.
 */
#ifdef UVMA_MT
#define count_add(var, v) __atomic_fetch_add(&(var), (v), __ATOMIC_RELAXED)
#define count_sub(var, v) __atomic_fetch_sub(&(var), (v), __ATOMIC_RELAXED)
#else
#define count_add(var, v) ((var) += (v))
#define count_sub(var, v) ((var) -= (v))
#endif

/*
 * malloc is thread-safe; hooks an embedder plugs in are called one at a
 * time.  In the multi-threaded build an object that is a whole number of
 * cache lines (tree nodes, the mm) starts on a line: threads that write
 * one must not slow down threads that read its neighbour.
 */
static void *hook_alloc(struct uvma_sys *sys, size_t size)
{
	void *p;

	if (!sys->alloc.alloc) {
#ifdef UVMA_MT
		if (size % 64 == 0)
			return aligned_alloc(64, size);
#endif
		return malloc(size);
	}
	alloc_lock(sys);
	p = sys->alloc.alloc(sys->alloc.ctx, size);
	alloc_unlock(sys);
	return p;
}

static void really_free(struct uvma_sys *sys, void *ptr, size_t size)
{
	if (!sys->alloc.free) {
		free(ptr);
		return;
	}
	alloc_lock(sys);
	sys->alloc.free(sys->alloc.ctx, ptr, size);
	alloc_unlock(sys);
}

void *uvma_alloc(struct uvma_sys *sys, size_t size)
{
	int c = cache_index(size);
	void *p;

	if (alloc_should_fail(sys))
		return NULL;
	if (c < 0) {
		p = hook_alloc(sys, size);
		if (p) {
			count_add(sys->nallocs, 1);
			count_add(sys->live_bytes, size);
		}
		return p;
	}
	struct alloc_cache *k = &sys->cache[c];

	cache_lock(k);
	p = k->head;
	if (p) {
		k->head = *(void **)p;
		k->count--;
	}
	cache_unlock(k);
	if (!p && !(p = hook_alloc(sys, size)))
		return NULL;
	count_add(k->nallocs, 1);
	count_add(k->live, size);
	return p;
}

void *uvma_zalloc(struct uvma_sys *sys, size_t size)
{
	void *p = uvma_alloc(sys, size);

	if (p)
		memset(p, 0, size);
	return p;
}

void uvma_free(struct uvma_sys *sys, void *ptr, size_t size)
{
	int c;

	if (!ptr)
		return;
	c = cache_index(size);
	if (c < 0) {
		count_sub(sys->live_bytes, size);
		really_free(sys, ptr, size);
		return;
	}
	struct alloc_cache *k = &sys->cache[c];
	bool kept = false;

	count_sub(k->live, size);
	cache_lock(k);
	if ((unsigned long)k->count + 1 <= (unsigned long)CACHE_MAX) {
		*(void **)ptr = k->head;
		k->head = ptr;
		k->count++;
		kept = true;
	}
	cache_unlock(k);
	if (!kept)
		really_free(sys, ptr, size);
}

struct uvma_sys *uvma_sys_create(const struct uvma_sys_config *cfg)
{
	struct uvma_sys_config def;
	struct uvma_sys *sys;

	if (!cfg) {
		uvma_sys_config_default(&def);
		cfg = &def;
	}
	if ((unsigned int)cfg->policy > UVMA_POLICY_IDEAL || cfg->numa_nodes > 64)
		return NULL;
	sys = cfg->alloc && cfg->alloc->alloc ? cfg->alloc->alloc(cfg->alloc->ctx, sizeof(*sys))
					       : malloc(sizeof(*sys));
	if (!sys)
		return NULL;
	memset(sys, 0, sizeof(*sys));
	sys->cfg = *cfg;
	if (!sys->cfg.numa_nodes)
		sys->cfg.numa_nodes = 1;	/* a config made without the defaults */
	if (cfg->alloc)
		sys->alloc = *cfg->alloc;
	sys->cfg.alloc = NULL;
	sys->next_shmem_ino = 1024;
	list_init(&sys->mms);
	list_init(&sys->files);
	list_init(&sys->migrations);
#ifdef UVMA_MT
	mt_sys_init(sys);
#endif
	return sys;
}

void uvma_sys_destroy(struct uvma_sys *sys)
{
	struct uvma_alloc_ops alloc;

	if (!sys)
		return;
	while (!list_empty(&sys->mms))
		uvma_mm_exit(container_of(sys->mms.next, struct uvma_mm, node));
	migrations_destroy(sys);
	mlock_batch_drain(sys);
	ksm_destroy(sys);
	/* Files still open by the caller: closing drops the last reference. */
	while (!list_empty(&sys->files)) {
		struct uvma_file *f = container_of(sys->files.next, struct uvma_file, node);

		f->refcount = 1;
		file_put(f);
	}
	/* with every entry and cache folio gone, no slot is in use */
	UVMA_BUG_ON(sys->swap_used);
	swap_destroy(sys);
	mpol_destroy(sys);
#ifdef UVMA_MT
	/* RCU callbacks still to run free into the caches */
	mt_sys_quiesce(sys);
#endif
	for (unsigned int i = 0; i < sizeof(sys->cache) / sizeof(sys->cache[0]); i++) {
		while (sys->cache[i].head) {
			void *p = sys->cache[i].head;

			sys->cache[i].head = *(void **)p;
			really_free(sys, p, cache_size[i]);
		}
	}
#ifdef UVMA_MT
	mt_sys_destroy(sys);
#endif
	alloc = sys->alloc;
	if (alloc.free)
		alloc.free(alloc.ctx, sys, sizeof(*sys));
	else
		free(sys);
}

int uvma_sys_set_max_map_count(struct uvma_sys *sys, unsigned long max)
{
	SYS_GUARD(sys);
	if (max > 0x7fffffff)
		return -EINVAL;
	sys->cfg.max_map_count = max;
	return 0;
}

void uvma_sys_fail_nth_alloc(struct uvma_sys *sys, unsigned long nth)
{
	sys->fail_nth = nth;
}

bool uvma_sys_fail_pending(const struct uvma_sys *sys)
{
	return sys->fail_nth != 0;
}

/* The allocator's counts: uncached sizes, each cache, and (MT) the VMA cache. */
static void alloc_totals(const struct uvma_sys *sys, unsigned long *nallocs, size_t *live)
{
	*nallocs = __atomic_load_n(&sys->nallocs, __ATOMIC_RELAXED);
	*live = __atomic_load_n(&sys->live_bytes, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < sizeof(sys->cache) / sizeof(sys->cache[0]); i++) {
		*nallocs += __atomic_load_n(&sys->cache[i].nallocs, __ATOMIC_RELAXED);
		*live += __atomic_load_n(&sys->cache[i].live, __ATOMIC_RELAXED);
	}
#ifdef UVMA_MT
	*nallocs += __atomic_load_n(&sys->vma_nallocs, __ATOMIC_RELAXED);
	*live += __atomic_load_n(&sys->vma_live, __ATOMIC_RELAXED);
#endif
}

unsigned long uvma_sys_alloc_count(const struct uvma_sys *sys)
{
	unsigned long n;
	size_t live;

	alloc_totals(sys, &n, &live);
	return n;
}

size_t uvma_sys_live_bytes(const struct uvma_sys *sys)
{
	unsigned long n;
	size_t live;

	alloc_totals(sys, &n, &live);
	return live;
}

/* ---- files -------------------------------------------------------------------- */

static struct uvma_file *file_alloc(struct uvma_sys *sys, const char *path, uint64_t size)
{
	struct uvma_file *f = uvma_zalloc(sys, sizeof(*f));
	size_t n = strlen(path) + 1;

	if (!f)
		return NULL;
	f->path = uvma_alloc(sys, n);
	if (!f->path) {
		uvma_free(sys, f, sizeof(*f));
		return NULL;
	}
	memcpy(f->path, path, n);
	f->sys = sys;
	f->size = size;
	f->refcount = 1;
	list_add_tail(&f->node, &sys->files);
	return f;
}

struct uvma_file *uvma_file_open(struct uvma_sys *sys, const char *path, uint64_t size,
				 bool readable, bool writable)
{
	SYS_GUARD(sys);
	struct uvma_file *f = file_alloc(sys, path, size);

	if (!f)
		return NULL;
	f->opener_ref = true;
	f->readable = readable;
	f->writable = writable;
	f->dev_major = 0;
	f->dev_minor = 0x2a;
	f->ino = ++sys->next_shmem_ino;
	return f;
}

void uvma_file_close(struct uvma_file *file)
{
	SYS_GUARD(file->sys);
	if (!file || !file->opener_ref)
		return;
	file->opener_ref = false;
	file_put(file);
}

/* A file on the internal shmem mount (device 0:01), readable and writable. */
static struct uvma_file *shmem_file_alloc(struct uvma_sys *sys, const char *path, uint64_t size)
{
	struct uvma_file *f = file_alloc(sys, path, size);

	if (!f)
		return NULL;
	f->shmem = true;
	f->readable = f->writable = true;
	f->dev_major = 0;
	f->dev_minor = 1;
	f->ino = ++sys->next_shmem_ino;
	return f;
}

struct uvma_file *shmem_file_create(struct uvma_sys *sys, uint64_t size)
{
	return shmem_file_alloc(sys, "/dev/zero (deleted)", size);
}

struct uvma_file *uvma_memfd_create(struct uvma_sys *sys, const char *name, uint64_t size)
{
	SYS_GUARD(sys);
	char path[128];
	struct uvma_file *f;

	if (strlen(name) > 64)
		return NULL;
	snprintf(path, sizeof(path), "/memfd:%s (deleted)", name);
	f = shmem_file_alloc(sys, path, size);
	if (f)
		f->opener_ref = true;
	return f;
}

struct uvma_file *file_get(struct uvma_file *f)
{
	f->refcount++;
	return f;
}

void file_put(struct uvma_file *f)
{
	struct uvma_sys *sys = f->sys;

	if (--f->refcount)
		return;
	list_del(&f->node);
	if (f->pages)
		pcache_destroy(sys, f->pages, f->shmem);
	uvma_free(sys, f->path, strlen(f->path) + 1);
	uvma_free(sys, f, sizeof(*f));
}

/* ---- address spaces ------------------------------------------------------------ */

struct uvma_mm *uvma_mm_create(struct uvma_sys *sys)
{
	SYS_GUARD(sys);
	struct uvma_mm *mm = uvma_zalloc(sys, sizeof(*mm));

	if (!mm)
		return NULL;
	mm->sys = sys;
	tree_init(&mm->tree, sys);
#ifdef UVMA_MT
	mt_mm_init(mm);
#endif
	mm->mmap_base = TASK_SIZE - (128UL << 20);
	mm->exec_pkey = -1;
	list_add_tail(&mm->node, &sys->mms);
	return mm;
}

void uvma_mm_set_mmap_base(struct uvma_mm *mm, uint64_t mmap_base)
{
	MM_WRITE_GUARD(mm);
	mm->mmap_base = mmap_base & PAGE_MASK;
}

void uvma_mm_set_brk(struct uvma_mm *mm, uint64_t start_brk, uint64_t brk)
{
	MM_WRITE_GUARD(mm);
	mm->start_brk = start_brk;
	mm->brk = brk;
}

unsigned long uvma_mm_map_count(const struct uvma_mm *mm)
{
	return mm->map_count;
}

struct uvma_sys *uvma_mm_sys(const struct uvma_mm *mm)
{
	return mm->sys;
}

static int map_special(struct uvma_mm *mm, uint64_t start, uint64_t len, uint64_t flags,
		       const struct vm_ops *ops)
{
	struct uvma_vma *v = vma_alloc(mm);
	int err;

	if (!v)
		return -ENOMEM;
	v->start = start;
	v->end = start + len;
	v->pgoff = 0;
	v->flags = flags;
	v->ops = ops;
	err = vma_link(mm, v);
	if (err)
		vma_free(v);
	else
		vm_stat_account(mm, flags, (long)(len >> PAGE_SHIFT));
	return err;
}

int uvma_mm_exec_layout(struct uvma_mm *mm, const struct uvma_exec_layout *l)
{
	MM_WRITE_GUARD(mm);
	uint64_t top = l->stack_top ? l->stack_top & PAGE_MASK : TASK_SIZE;
	uint64_t size = l->stack_size ? PAGE_ALIGN(l->stack_size) : 132UL << 10;
	uint64_t stack_flags = UVMA_VM_READ | UVMA_VM_WRITE | VM_MAY_FLAGS | UVMA_VM_GROWSDOWN |
			       UVMA_VM_ACCOUNT;
	struct uvma_vma *stack;
	int err;

	if (mm->map_count || size >= top)
		return -EINVAL;
	stack = vma_alloc(mm);
	if (!stack)
		return -ENOMEM;
	stack->start = top - size;
	stack->end = top;
	stack->pgoff = stack->start >> PAGE_SHIFT;
	stack->flags = stack_flags;
	err = vma_link(mm, stack);
	if (err) {
		vma_free(stack);
		return err;
	}
	vm_stat_account(mm, stack_flags, (long)(size >> PAGE_SHIFT));
	err = anon_vma_prepare(stack);
	if (err)
		return err;
	mm->start_stack = top - PAGE_SIZE;
	mm->mmap_base = l->mmap_base ? l->mmap_base & PAGE_MASK : top - (128UL << 20);
	if (l->brk_start) {
		mm->start_brk = mm->brk = PAGE_ALIGN(l->brk_start);
	}
	if (l->vdso) {
		/* vvar (4 pages), vvar_vclock (2) and vdso (2), just below mmap_base */
		uint64_t base = mm->mmap_base - 8 * PAGE_SIZE;
		uint64_t vvar = UVMA_VM_READ | UVMA_VM_MAYREAD | UVMA_VM_PFNMAP | UVMA_VM_IO |
				UVMA_VM_DONTEXPAND | UVMA_VM_DONTDUMP;
		uint64_t vdso = UVMA_VM_READ | UVMA_VM_EXEC | VM_MAY_FLAGS | UVMA_VM_DONTEXPAND;

		err = map_special(mm, base, 4 * PAGE_SIZE, vvar, &special_vvar_ops);
		if (!err)
			err = map_special(mm, base + 4 * PAGE_SIZE, 2 * PAGE_SIZE, vvar,
					  &special_vvar_vclock_ops);
		if (!err)
			err = map_special(mm, base + 6 * PAGE_SIZE, 2 * PAGE_SIZE, vdso,
					  &special_vdso_ops);
		if (!err)
			mm->mmap_base = base;
	}
	mm_debug_validate(mm);
	return err;
}

int uvma_mm_import_vma(struct uvma_mm *mm, const struct uvma_vma_import *in)
{
	MM_WRITE_GUARD(mm);
	static const struct vm_ops *const special[] = {
		[UVMA_SPECIAL_VDSO] = &special_vdso_ops,
		[UVMA_SPECIAL_VVAR] = &special_vvar_ops,
		[UVMA_SPECIAL_VVAR_VCLOCK] = &special_vvar_vclock_ops,
	};
	struct uvma_vma *v, *next;
	int err;

	if (in->start >= in->end || (in->start | in->end) & ~PAGE_MASK || in->end > TASK_SIZE ||
	    in->special > UVMA_SPECIAL_VVAR_VCLOCK)
		return -EINVAL;
	next = vma_find(mm, in->start);
	if (next && next->start < in->end)
		return -EEXIST;
	v = vma_alloc(mm);
	if (!v)
		return -ENOMEM;
	v->start = in->start;
	v->end = in->end;
	v->pgoff = in->pgoff;
	v->flags = in->flags;
	if (in->special)
		v->ops = special[in->special];
	else if (in->file)
		v->ops = in->file->shmem ? &shmem_vm_ops : &file_vm_ops;
	if (in->file)
		v->file = file_get(in->file);
	err = vma_link(mm, v);
	if (err) {
		if (v->file)
			file_put(v->file);
		vma_free(v);
		return err;
	}
	vm_stat_account(mm, v->flags, (long)vma_pages(v));
	if (v->flags & UVMA_VM_LOCKED)
		mm->locked_vm += vma_pages(v);
	if (in->faulted) {
		err = anon_vma_prepare(v);
		if (err)
			return err;
	}
	mm_debug_validate(mm);
	return 0;
}

void uvma_mm_set_start_stack(struct uvma_mm *mm, uint64_t sp)
{
	MM_WRITE_GUARD(mm);
	mm->start_stack = sp;
}

void uvma_mm_stats(const struct uvma_mm *mm, struct uvma_stats *stats)
{
	MM_READ_GUARD(mm);
	*stats = mm->stats;
	stats->anon_vmas = mm->pstats.anon_vmas;
	stats->avcs = mm->pstats.avcs;
	stats->folios = mm->pstats.folios;
	stats->folios_relocated = mm->pstats.folios_relocated;
	stats->folios_split = mm->pstats.folios_split;
}

/* ---- queries ------------------------------------------------------------------- */



static void vma_info_fill(const struct uvma_vma *v, struct uvma_vma_info *info);

/*
 * In the multi-threaded build a lookup of a mapped address takes the VMA
 * lock under RCU and no mmap_lock, as the kernel's lock_vma_under_rcu();
 * the rest (a gap, a writer at work) takes the mmap_lock for reading.
 */
int uvma_find_vma(const struct uvma_mm *mm, uint64_t addr, struct uvma_vma_info *info)
{
	const struct uvma_vma *v;

#ifdef UVMA_MT
	struct uvma_vma *locked = lock_vma_under_rcu((struct uvma_mm *)mm, addr);

	if (locked) {
		vma_info_fill(locked, info);
		vma_end_read(locked);
		return 0;
	}
#endif
	MM_READ_GUARD(mm);
	v = vma_find(mm, addr);
	if (!v)
		return -ENOENT;
	vma_info_fill(v, info);
	return 0;
}

static void vma_info_fill(const struct uvma_vma *v, struct uvma_vma_info *info)
{
	/* the anon_vma and its chain change under faults: the page lock */
	PAGE_LOCK_SCOPE(v->mm->sys);

	memset(info, 0, sizeof(*info));
	info->start = v->start;
	info->end = v->end;
	info->pgoff = v->pgoff;
	info->flags = v->flags;
	if (v->anon_vma) {
		info->anon_vma_id = v->anon_vma->id;
		info->anon_root_id = v->anon_vma->root->id;
	}
	for (const struct list_head *p = v->anon_vma_chain.next; p != &v->anon_vma_chain;
	     p = p->next)
		info->avc_count++;
	if (v->file) {
		info->has_file = true;
		info->dev_major = v->file->dev_major;
		info->dev_minor = v->file->dev_minor;
		info->ino = v->file->ino;
	}
	info->name = vma_name(v);
	info->pkey = (int)((v->flags & UVMA_VM_PKEY_MASK) >> UVMA_VM_PKEY_SHIFT);
}

void uvma_object_sizes(struct uvma_sizes *s)
{
	s->vma = sizeof(struct uvma_vma);
	s->tree_node = sizeof(struct tree_node);
	s->anon_vma = sizeof(struct anon_vma);
	s->avc = sizeof(struct avc);
	s->folio = sizeof(struct uvma_folio);
	s->page_table = sizeof(struct pt_table);
	s->mm = sizeof(struct uvma_mm);
	s->file = sizeof(struct uvma_file);
}

/* ---- errno names ------------------------------------------------------------------ */

static const struct {
	int err;
	const char *name;
} errnos[] = {
	{ EPERM, "EPERM" },	{ ENOENT, "ENOENT" }, { EINTR, "EINTR" },   { EBADF, "EBADF" },
	{ EAGAIN, "EAGAIN" },	{ ENOMEM, "ENOMEM" }, { EACCES, "EACCES" }, { EFAULT, "EFAULT" },
	{ EBUSY, "EBUSY" },	{ EEXIST, "EEXIST" }, { ENODEV, "ENODEV" }, { EINVAL, "EINVAL" },
	{ ETXTBSY, "ETXTBSY" }, { ENOSPC, "ENOSPC" }, { ENOSYS, "ENOSYS" },
	{ EOVERFLOW, "EOVERFLOW" }, { EOPNOTSUPP, "EOPNOTSUPP" }, { EHWPOISON, "EHWPOISON" },
	{ EUCLEAN, "EUCLEAN" }, { EIO, "EIO" }, { ESRCH, "ESRCH" }, { ENXIO, "ENXIO" },
	{ E2BIG, "E2BIG" },	{ ECHILD, "ECHILD" }, { EMFILE, "EMFILE" }, { ENFILE, "ENFILE" },
	{ EFBIG, "EFBIG" },	{ EROFS, "EROFS" },   { ERANGE, "ERANGE" }, { ENOTTY, "ENOTTY" },
};

const char *uvma_errno_name(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return NULL;
}

int uvma_errno_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(errnos[i].name, name))
			return errnos[i].err;
	return 0;
}
