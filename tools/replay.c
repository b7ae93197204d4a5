// SPDX-License-Identifier: MIT
/*
 * uvma replay (replay.h, docs/replay.md).
 *
 * strace shows each call with the kernel's result; the model is made to
 * follow it.  A call the kernel placed (mmap without MAP_FIXED, mremap that
 * moved) is replayed at the kernel's address; a call the model answers
 * differently is a divergence, reported with its line, and the replay goes
 * on from the kernel's answer where it can.  What strace does not show (the
 * image the kernel mapped at exec, which memory was written) comes from
 * --initial-maps or is implied by the calls, and from the fault model.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "input.h"
#include "model.h"
#include "replay.h"
#include "strace.h"
#include "trace.h"

#define PAGE 4096ULL
#define PAGE_ALIGN(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define SERIES_MAX 4096


const char *fault_model_name(enum fault_model f)
{
	static const char *const names[] = { "written", "none", "all" };

	return names[f];
}

int fault_model_parse(const char *s, enum fault_model *f)
{
	for (int i = 0; i <= FAULTS_ALL; i++)
		if (!strcmp(s, fault_model_name((enum fault_model)i))) {
			*f = (enum fault_model)i;
			return 0;
		}
	return -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * The model's share of the time is summed over every call, millions of
 * them: on x86 in TSC ticks (a few nanoseconds to read, where
 * clock_gettime costs about twenty and was a sixth of a replay's own
 * time), scaled to seconds with the wall clock over the whole replay.
 */
static inline uint64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/* ---- processes, address spaces, open files ------------------------------------- */

struct space {
	struct uvma_mm *mm;
	int refs;
	int rep;		/* its entry in res->spaces */
	bool brk_known;		/* the heap's start was seen (first brk) */
	struct uvma_file *image;	/* what implied ranges map */
};

struct fdent {
	int fd;
	int opened;	/* the open file: an index into replay.opened */
};

struct fdtable {
	int refs;
	struct fdent *ent;
	int n, cap;
};

/* A decoded call, kept while its process's clone has not returned. */
struct call {
	char name[32];
	int pid;
	unsigned long line;
	const char *file;
	int nargs;
	uint64_t a[SC_MAX_ARGS];
	bool num[SC_MAX_ARGS];
	bool null[SC_MAX_ARGS];		/* written NULL (mbind's mask: not an empty one) */
	char *path[SC_MAX_ARGS];	/* -y paths and string arguments */
	bool result_known;
	long result;
	char *result_path;
	enum sc_kind kind;
	struct call *next;
};

struct proc {
	int pid;
	bool alive;
	struct space *sp;
	struct fdtable *fds;
	struct call *held, *held_last;	/* lines before its clone returned */
};

struct replay {
	const struct replay_config *cfg;
	struct replay_result *res;
	struct uvma_sys *sys;
	struct proc *procs;
	int nprocs, capprocs;
	struct space **live;		/* the address spaces not torn down yet */
	int nlive, caplive;
	/* every file the replay opened, and the name it was opened under; closed at the end */
	struct opened {
		struct uvma_file *file;
		char *name;
	} *opened;
	int nopened, capopened;
	bool started;
	bool stopped;		/* --at reached */
	bool ending;		/* the trace is over: what is left is torn down */
	uint64_t tk_model;	/* ticks() spent in the model */
	double t_start;
	double last_progress;
	const struct input *progress_in;
	char *err;
	size_t errsize;
};

static struct proc *find_proc(struct replay *r, int pid)
{
	for (int i = 0; i < r->nprocs; i++)
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	return NULL;
}

static struct proc *new_proc(struct replay *r, int pid)
{
	struct proc *p;

	if (array_grow(&r->procs, r->nprocs, &r->capprocs, sizeof(*r->procs)))
		return NULL;
	p = &r->procs[r->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	return p;
}

/* Keep @f (opened under @name) till the end: its index in r->opened, or -1. */
static int keep_file(struct replay *r, struct uvma_file *f, const char *name)
{
	char *copy = f ? strdup(name) : NULL;

	if (!copy || array_grow(&r->opened, r->nopened, &r->capopened, sizeof(*r->opened))) {
		free(copy);
		if (f)
			uvma_file_close(f);
		return -1;
	}
	r->opened[r->nopened].file = f;
	r->opened[r->nopened].name = copy;
	return r->nopened++;
}

/* Files are opened as the trace opens them; their size is not in the trace. */
#define FILE_SIZE (1ULL << 40)

static int open_file(struct replay *r, const char *path, bool rd, bool wr)
{
	return keep_file(r, uvma_file_open(r->sys, path, FILE_SIZE, rd, wr), path);
}

static struct fdtable *fdtable_new(void)
{
	struct fdtable *t = calloc(1, sizeof(*t));

	if (t)
		t->refs = 1;
	return t;
}

static struct fdtable *fdtable_copy(const struct fdtable *src)
{
	struct fdtable *t = fdtable_new();

	if (!t || !src || !src->n)
		return t;
	t->ent = malloc((size_t)src->n * sizeof(*t->ent));
	if (!t->ent) {
		free(t);
		return NULL;
	}
	memcpy(t->ent, src->ent, (size_t)src->n * sizeof(*t->ent));
	t->n = t->cap = src->n;
	return t;
}

static void fdtable_put(struct fdtable *t)
{
	if (t && --t->refs == 0) {
		free(t->ent);
		free(t);
	}
}

static struct fdent *fd_find(struct fdtable *t, int fd)
{
	for (int i = 0; t && i < t->n; i++)
		if (t->ent[i].fd == fd)
			return &t->ent[i];
	return NULL;
}

static int fd_install(struct fdtable *t, int fd, int opened)
{
	struct fdent *e = fd_find(t, fd);

	if (opened < 0)
		return -ENOMEM;
	if (!e) {
		if (array_grow(&t->ent, t->n, &t->cap, sizeof(*t->ent)))
			return -ENOMEM;
		e = &t->ent[t->n++];
		e->fd = fd;
	}
	e->opened = opened;
	return 0;
}

static void fd_close(struct fdtable *t, int fd)
{
	struct fdent *e = fd_find(t, fd);

	if (e)
		*e = t->ent[--t->n];
}

/* ---- reports ---------------------------------------------------------------------- */

static int new_report(struct replay *r, int pid, const char *comm)
{
	struct replay_result *res = r->res;
	struct space_report *s;

	if (array_grow(&res->spaces, res->nspaces, &res->capspaces, sizeof(*res->spaces)))
		return -1;
	s = &res->spaces[res->nspaces];
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	snprintf(s->comm, sizeof(s->comm), "%s", comm ? comm : "?");
	return res->nspaces++;
}

/* The figures of a live address space, before it goes or at the end. */
static void fill_report(struct space_report *s, struct uvma_mm *mm)
{
	struct uvma_vma_info vi;
	uint64_t a = 0, last_av = 0;

	uvma_mm_stats(mm, &s->st);
	uvma_mm_event_counts(mm, &s->ev);
	s->vmas_end = uvma_mm_map_count(mm);
	s->vmas_peak = s->st.vmas_peak;
	s->anon_vmas_end = s->avcs_end = 0;
	/* each VMA's own anon_vma counted once (neighbours often share one) */
	while (!uvma_find_vma(mm, a, &vi)) {
		if (vi.anon_vma_id && vi.anon_vma_id != last_av) {
			s->anon_vmas_end++;
			last_av = vi.anon_vma_id;
		}
		s->avcs_end += vi.avc_count;
		a = vi.end;
	}
}

static struct space *space_new(struct replay *r, struct uvma_mm *mm, int pid, const char *comm)
{
	struct space *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return NULL;
	if (array_grow(&r->live, r->nlive, &r->caplive, sizeof(*r->live))) {
		free(sp);
		return NULL;
	}
	sp->mm = mm;
	sp->refs = 1;
	sp->rep = new_report(r, pid, comm);
	if (sp->rep < 0) {
		free(sp);
		return NULL;
	}
	r->live[r->nlive++] = sp;
	return sp;
}

static void space_put(struct replay *r, struct space *sp)
{
	if (!sp || --sp->refs)
		return;
	fill_report(&r->res->spaces[sp->rep], sp->mm);
	/* gone during the trace (exit, exec), or alive at its end */
	r->res->spaces[sp->rep].exited = !r->ending;
	uvma_mm_exit(sp->mm);
	for (int i = 0; i < r->nlive; i++)
		if (r->live[i] == sp) {
			r->live[i] = r->live[--r->nlive];
			break;
		}
	free(sp);
}

/* After an event: the peak, and every stride-th event the series (halved when full). */
static void sample_total(struct replay_result *res, unsigned long total)
{
	if (total > res->total_peak)
		res->total_peak = total;
	if (res->events % res->stride)
		return;
	if (res->nseries == SERIES_MAX) {
		/* keep every other sample, twice the stride */
		for (size_t i = 0; i < SERIES_MAX / 2; i++)
			res->series[i] = res->series[2 * i];
		res->nseries = SERIES_MAX / 2;
		res->stride *= 2;
		if (res->events % res->stride)
			return;
	}
	res->series[res->nseries++] = (uint32_t)total;
}

static void sample(struct replay *r)
{
	unsigned long total = 0;

	/* every live address space once (threads share theirs) */
	for (int i = 0; i < r->nlive; i++)
		total += uvma_mm_map_count(r->live[i]->mm);
	sample_total(r->res, total);
}

/* uvma maps: the maps of @mm, the first time the wanted process is seen to go or end. */
static void keep_maps(struct replay_result *res, const struct uvma_mm *mm)
{
	size_t cap = 1 << 22;

	if (res->maps)
		return;
	res->maps = malloc(cap);
	if (res->maps) {
		uvma_render_maps(mm, 0, UINT64_MAX, res->maps, cap);
		res->maps_found = true;
	}
}

static void progress(struct replay *r, bool done)
{
	double t;

	if (!r->cfg->progress || !r->progress_in)
		return;
	if (!done && (r->res->events & 0xfff))
		return;
	t = now();
	if (!done && t - r->last_progress < 0.25)
		return;
	r->last_progress = t;
	fprintf(stderr, "\r  %-8s %.1f of %.1f MiB read, %lu events, %.0f events/s%s",
		policy_name((int)r->cfg->policy), (double)r->progress_in->consumed / (1 << 20),
		(double)r->progress_in->size / (1 << 20), r->res->events,
		r->res->events / (t - r->t_start + 1e-9), done ? "\n" : "");
}

/* ---- the call decoder -------------------------------------------------------------- */

static void call_free(struct call *c)
{
	for (int i = 0; i < c->nargs; i++)
		free(c->path[i]);
	free(c->result_path);
	free(c);
}

/* A string argument's contents ("abc" -> abc), or NULL if not a string. */
static char *string_arg(const char *text)
{
	size_t n;
	char *s;

	if (text[0] != '"')
		return NULL;
	n = strlen(text);
	while (n > 1 && text[n - 1] == '.')	/* "abc"... (truncated by strace) */
		n--;
	if (n < 2 || text[n - 1] != '"')
		return NULL;
	s = malloc(n - 1);
	if (!s)
		return NULL;
	memcpy(s, text + 1, n - 2);
	s[n - 2] = 0;
	return s;
}

static struct call *decode(const struct sc_event *ev)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	memcpy(c->name, ev->name, sizeof(c->name));
	/* an strace older than the call prints it by number */
	if (!strcmp(c->name, "syscall_0x1ce"))
		snprintf(c->name, sizeof(c->name), "mseal");
	c->pid = ev->pid;
	c->line = ev->line;
	c->file = ev->file;
	c->kind = ev->kind;
	c->nargs = ev->nargs;
	c->result_known = ev->result_known;
	c->result = ev->result;
	if (ev->kind == SC_EXITED)
		c->result = ev->status;
	for (int i = 0; i < ev->nargs; i++) {
		c->a[i] = ev->arg[i].val;
		c->num[i] = ev->arg[i].is_num;
		c->null[i] = !strncmp(ev->arg[i].text, "NULL", 4);
		if (ev->arg[i].path)
			c->path[i] = strdup(ev->arg[i].path);
		else
			c->path[i] = string_arg(ev->arg[i].text);
	}
	if (ev->result_path)
		c->result_path = strdup(ev->result_path);
	return c;
}

/* ---- applying calls ----------------------------------------------------------------- */

static void diverge(struct replay *r, const struct call *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void diverge(struct replay *r, const struct call *c, const char *fmt, ...)
{
	va_list ap;

	r->res->divergences++;
	if (!r->cfg->log)
		return;
	fprintf(r->cfg->log, "%s:%lu: pid %d: %s: ", c->file, c->line, c->pid, c->name);
	va_start(ap, fmt);
	vfprintf(r->cfg->log, fmt, ap);
	va_end(ap);
	fputc('\n', r->cfg->log);
}

static bool anon_private(const struct uvma_vma_info *vi)
{
	return !vi->has_file && !(vi->flags & UVMA_VM_SHARED) && !vi->name;
}

static bool is_heap_or_anon(const struct uvma_vma_info *vi)
{
	return !vi->has_file && !(vi->flags & UVMA_VM_SHARED) &&
	       (!vi->name || !strcmp(vi->name, "[heap]"));
}

static long timed_touch(struct replay *r, struct uvma_mm *mm, uint64_t addr, bool write)
{
	uint64_t t = ticks();
	long ret = uvma_touch(mm, addr, PAGE, write);

	r->tk_model += ticks() - t;
	return ret;
}

/*
 * The "written" fault model: writable private anonymous memory (the heap
 * too) next to or under a call's range was in use by then: fault its first
 * page, so that it has an anon_vma as the kernel's would.
 */
static void touch_neighbourhood(struct replay *r, struct uvma_mm *mm, uint64_t s, uint64_t e)
{
	struct uvma_vma_info vi;
	uint64_t a = s >= PAGE ? s - PAGE : 0;

	while (!uvma_find_vma(mm, a, &vi) && vi.start <= e) {
		if (is_heap_or_anon(&vi) && (vi.flags & UVMA_VM_WRITE) && !vi.anon_vma_id)
			timed_touch(r, mm, vi.start, true);
		a = vi.end;
	}
}

/* The "all" fault model: every writable private anonymous VMA in [s, e) is faulted. */
static void touch_all(struct replay *r, struct uvma_mm *mm, uint64_t s, uint64_t e)
{
	struct uvma_vma_info vi;
	uint64_t a = s;

	while (!uvma_find_vma(mm, a, &vi) && vi.start < e) {
		if (is_heap_or_anon(&vi) && (vi.flags & UVMA_VM_WRITE) && !vi.anon_vma_id)
			timed_touch(r, mm, vi.start > s ? vi.start : s, true);
		a = vi.end;
	}
}

/*
 * The kernel accepted a call on [s, e) where the model has nothing: memory
 * mapped before the trace began (the image exec mapped, for strace without
 * --initial-maps).  Map it as a private file mapping of the exec image.
 */
static void imply_range(struct replay *r, struct space *sp, uint64_t s, uint64_t e)
{
	struct uvma_vma_info vi;
	uint64_t a = s;

	if (!sp->image) {
		int opened = open_file(r, "[exec image]", true, false);

		sp->image = opened >= 0 ? r->opened[opened].file : NULL;
	}
	while (a < e) {
		uint64_t hole_end = e;
		struct uvma_vma_import in = { 0 };

		if (!uvma_find_vma(sp->mm, a, &vi) && vi.start <= a) {
			a = vi.end;
			continue;
		}
		if (!uvma_find_vma(sp->mm, a, &vi) && vi.start < e)
			hole_end = vi.start;
		in.start = a;
		in.end = hole_end;
		in.pgoff = a >> 12;
		in.flags = UVMA_VM_READ | UVMA_VM_MAYREAD | UVMA_VM_MAYWRITE | UVMA_VM_MAYEXEC;
		in.file = sp->image;
		if (sp->image && !uvma_mm_import_vma(sp->mm, &in))
			r->res->implied++;
		a = hole_end;
	}
}

/* Does the model map all of [s, e)? */
static bool covered(struct uvma_mm *mm, uint64_t s, uint64_t e)
{
	struct uvma_vma_info vi;
	uint64_t a = s;

	while (a < e) {
		if (uvma_find_vma(mm, a, &vi) || vi.start > a)
			return false;
		a = vi.end;
	}
	return true;
}

static struct uvma_file *mmap_file(struct replay *r, struct proc *p, const struct call *c)
{
	int fd = (int)c->a[4];
	struct fdent *e = fd_find(p->fds, fd);
	const char *name;
	char buf[64];

	if (e && (!c->path[4] || !strcmp(c->path[4], r->opened[e->opened].name)))
		return r->opened[e->opened].file;
	/* no open seen (filtered out, or before the trace): the -y path, else the fd */
	snprintf(buf, sizeof(buf), "fd %d", fd);
	name = c->path[4] ? c->path[4] : buf;
	if (fd_install(p->fds, fd, open_file(r, name, true, true)))
		return NULL;
	return r->opened[fd_find(p->fds, fd)->opened].file;
}

static void check(struct replay *r, const struct call *c, long model, long kernel)
{
	char a[40], b[40];

	if (model == kernel)
		return;
	trace_format_result(a, sizeof(a), model);
	trace_format_result(b, sizeof(b), kernel);
	diverge(r, c, "the model returned %s, the kernel %s", a, b);
}

/* Calls on a range the kernel accepted: make sure the model has the range first. */
static void imply_if_accepted(struct replay *r, struct space *sp, const struct call *c, uint64_t s,
			      uint64_t len)
{
	if (c->result_known && c->result >= 0 && len && !covered(sp->mm, s, s + PAGE_ALIGN(len)))
		imply_range(r, sp, s & ~(PAGE - 1), PAGE_ALIGN(s + len));
}

static long model_mmap(struct replay *r, struct proc *p, const struct call *c)
{
	struct uvma_mm *mm = p->sp->mm;
	uint64_t addr = c->a[0], len = c->a[1];
	int prot = (int)c->a[2], flags = (int)c->a[3];
	struct uvma_file *file = NULL;
	long ret;

	if (!(flags & UVMA_MAP_ANONYMOUS)) {
		file = mmap_file(r, p, c);
		if (!file)
			return -ENOMEM;
	}
	/* the kernel's placement is its own (ASLR): follow it */
	if (c->result_known && c->result >= 0 &&
	    !(flags & (UVMA_MAP_FIXED | UVMA_MAP_FIXED_NOREPLACE))) {
		addr = (uint64_t)c->result;
		ret = uvma_mmap(mm, addr, len, prot, flags | UVMA_MAP_FIXED_NOREPLACE, file, c->a[5]);
		if (ret == -EEXIST) {
			diverge(r, c, "the model has a mapping in the kernel's range %#lx-%#lx",
				(unsigned long)addr, (unsigned long)(addr + PAGE_ALIGN(len)));
			ret = uvma_mmap(mm, addr, len, prot, flags | UVMA_MAP_FIXED, file, c->a[5]);
		}
		return ret;
	}
	return uvma_mmap(mm, addr, len, prot, flags, file, c->a[5]);
}

static long model_mremap(struct replay *r, struct proc *p, const struct call *c)
{
	struct uvma_mm *mm = p->sp->mm;
	uint64_t addr = c->a[0], old_len = c->a[1], new_len = c->a[2];
	int flags = (int)c->a[3];
	uint64_t new_addr = c->nargs > 4 ? c->a[4] : 0;

	imply_if_accepted(r, p->sp, c, addr, old_len ? old_len : PAGE);
	if (r->cfg->faults == FAULTS_WRITTEN && c->result_known && c->result >= 0) {
		struct uvma_vma_info vi;

		struct uvma_page_info pi;

		/* memory being moved or grown was in use: its first page at least */
		if (!uvma_find_vma(mm, addr, &vi) && vi.start <= addr && anon_private(&vi) &&
		    (vi.flags & UVMA_VM_READ) && !uvma_page_info(mm, addr & ~(PAGE - 1), &pi) &&
		    pi.state == UVMA_PAGE_NONE)
			timed_touch(r, mm, addr & ~(PAGE - 1), (vi.flags & UVMA_VM_WRITE) != 0);
	}
	if (c->result_known && c->result >= 0 && (flags & UVMA_MREMAP_MAYMOVE) &&
	    !(flags & UVMA_MREMAP_FIXED)) {
		if ((uint64_t)c->result == addr)
			/* the kernel resized in place */
			return uvma_mremap(mm, addr, old_len, new_len, flags & ~UVMA_MREMAP_MAYMOVE, 0);
		return uvma_mremap(mm, addr, old_len, new_len, flags | UVMA_MREMAP_FIXED,
				   (uint64_t)c->result);
	}
	return uvma_mremap(mm, addr, old_len, new_len, flags, new_addr);
}

static long model_brk(struct replay *r, struct proc *p, const struct call *c)
{
	struct space *sp = p->sp;

	if (!sp->brk_known && c->result_known && c->result > 0) {
		struct uvma_vma_info vi;

		/* the first brk shows where the heap starts (randomised at exec) */
		sp->brk_known = true;
		if (uvma_find_vma(sp->mm, (uint64_t)c->result, &vi) ||
		    vi.start > (uint64_t)c->result)
			uvma_mm_set_brk(sp->mm, (uint64_t)c->result, (uint64_t)c->result);
		else
			diverge(r, c, "the heap start %#lx is mapped in the model",
				(unsigned long)c->result);
	}
	return (long)uvma_brk(sp->mm, c->a[0]);
}

static bool is(const struct call *c, const char *name)
{
	return !strcmp(c->name, name);
}

static uint64_t call_range_end(const struct call *c, uint64_t start, uint64_t len)
{
	(void)c;
	return PAGE_ALIGN(start + len);
}

/* An mm call of @p: replay it and compare.  Returns false if @c is not one. */
static bool apply_mm(struct replay *r, struct proc *p, const struct call *c)
{
	struct uvma_mm *mm = p->sp->mm;
	bool written = r->cfg->faults == FAULTS_WRITTEN;
	uint64_t s = c->a[0], len = c->a[1];
	long ret, kernel = c->result;
	uint64_t t;

	static const char *const mm_calls[] = { "mmap", "munmap", "mprotect", "pkey_mprotect",
						"madvise", "mlock", "mlock2", "munlock", "mremap",
						"brk", "mlockall", "munlockall", "prctl", "mseal",
						"mbind", NULL };
	bool known = false;

	for (int i = 0; mm_calls[i] && !known; i++)
		known = is(c, mm_calls[i]);
	if (!known)
		return false;
	if (!c->result_known)
		return true;
	for (int i = 0; i < c->nargs && i < 6; i++)
		if (!c->num[i] && !(is(c, "prctl") && i == 4)) {
			diverge(r, c, "argument %d is not a number the reader knows", i + 1);
			return true;
		}
	if (is(c, "mmap")) {
		if (written && kernel >= 0)
			touch_neighbourhood(r, mm, (uint64_t)kernel, (uint64_t)kernel + PAGE_ALIGN(len));
		t = ticks();
		ret = model_mmap(r, p, c);
		r->tk_model += ticks() - t;
		check(r, c, ret, kernel);
		if (r->cfg->faults == FAULTS_ALL && ret >= 0)
			touch_all(r, mm, (uint64_t)ret, (uint64_t)ret + PAGE_ALIGN(len));
		return true;
	}
	if (is(c, "munmap") || is(c, "mprotect") || is(c, "pkey_mprotect") || is(c, "madvise") ||
	    is(c, "mlock") || is(c, "mlock2") || is(c, "munlock") || is(c, "mseal") ||
	    is(c, "mbind")) {
		if (!is(c, "munmap"))
			imply_if_accepted(r, p->sp, c, s, len);
		if (written)
			touch_neighbourhood(r, mm, s, call_range_end(c, s, len));
		t = ticks();
		if (is(c, "munmap"))
			ret = uvma_munmap(mm, s, len);
		else if (is(c, "mprotect"))
			ret = uvma_mprotect(mm, s, len, (int)c->a[2]);
		else if (is(c, "pkey_mprotect"))
			ret = uvma_pkey_mprotect(mm, s, len, (int)c->a[2], (int)c->a[3]);
		else if (is(c, "madvise"))
			ret = uvma_madvise(mm, s, len, (int)c->a[2]);
		else if (is(c, "mlock"))
			ret = uvma_mlock(mm, s, len);
		else if (is(c, "mlock2"))
			ret = uvma_mlock2(mm, s, len, (int)c->a[2]);
		else if (is(c, "mseal"))
			ret = uvma_mseal(mm, s, len, (unsigned long)c->a[2]);
		else if (is(c, "mbind"))
			ret = uvma_mbind(mm, s, len, (int)c->a[2], c->null[3] ? NULL : &c->a[3],
					 (unsigned long)c->a[4], (unsigned int)c->a[5]);
		else
			ret = uvma_munlock(mm, s, len);
		r->tk_model += ticks() - t;
		check(r, c, ret, kernel);
		if (r->cfg->faults == FAULTS_ALL && ret >= 0 && is(c, "mprotect"))
			touch_all(r, mm, s, call_range_end(c, s, len));
		return true;
	}
	if (is(c, "mremap")) {
		if (written && kernel >= 0) {
			touch_neighbourhood(r, mm, s, call_range_end(c, s, len));
			touch_neighbourhood(r, mm, (uint64_t)kernel,
					    (uint64_t)kernel + PAGE_ALIGN(c->a[2]));
		}
		t = ticks();
		ret = model_mremap(r, p, c);
		r->tk_model += ticks() - t;
		check(r, c, ret, kernel);
		if (r->cfg->faults == FAULTS_ALL && ret >= 0)
			touch_all(r, mm, (uint64_t)ret, (uint64_t)ret + PAGE_ALIGN(c->a[2]));
		return true;
	}
	if (is(c, "brk")) {
		uint64_t old = uvma_brk(mm, 0);

		if (written && c->a[0] > old)
			touch_neighbourhood(r, mm, old, PAGE_ALIGN(c->a[0]));
		t = ticks();
		ret = model_brk(r, p, c);
		r->tk_model += ticks() - t;
		check(r, c, ret, kernel);
		if (r->cfg->faults == FAULTS_ALL && c->a[0] > old)
			touch_all(r, mm, old & ~(PAGE - 1), PAGE_ALIGN(c->a[0]));
		return true;
	}
	if (is(c, "mlockall") || is(c, "munlockall")) {
		t = ticks();
		ret = is(c, "mlockall") ? uvma_mlockall(mm, (int)c->a[0]) : uvma_munlockall(mm);
		r->tk_model += ticks() - t;
		check(r, c, ret, kernel);
		return true;
	}
	if (is(c, "prctl")) {
		if (c->a[0] == 0x53564d41 && c->nargs >= 4) {	/* PR_SET_VMA */
			t = ticks();
			ret = uvma_prctl_set_vma_anon_name(mm, c->a[2], c->a[3], c->path[4]);
			r->tk_model += ticks() - t;
			check(r, c, ret, kernel);
		} else if (c->a[0] == 67) {			/* PR_SET_MEMORY_MERGE */
			ret = uvma_prctl_set_memory_merge(mm, (unsigned long)c->a[1]);
			check(r, c, ret, kernel);
		}
		return true;
	}
	return false;
}

/* clone, clone3, fork, vfork: the flags (clone's and clone3's were resolved by the reader loop). */
static uint64_t clone_flags(const struct call *c)
{
	if (is(c, "fork"))
		return 17;	/* SIGCHLD */
	if (is(c, "vfork"))
		return 0x4000 | 0x100 | 17;	/* CLONE_VFORK | CLONE_VM | SIGCHLD */
	return c->a[0];
}

/* ---- the event loop ----------------------------------------------------------------- */

static struct space *first_space(struct replay *r, int pid)
{
	struct uvma_mm *mm = uvma_mm_create(r->sys);
	char err[256];

	if (!mm)
		return NULL;
	if (r->cfg->initial_maps) {
		if (model_import_maps(mm, r->cfg->initial_maps, err, sizeof(err))) {
			errorf(r->err, r->errsize, "--initial-maps: %s", err);
			uvma_mm_exit(mm);
			return NULL;
		}
	}
	return space_new(r, mm, pid, "?");
}

/* The exec-time layout when no snapshot says better (docs/replay.md). */
static struct space *exec_space(struct replay *r, int pid, const char *path)
{
	struct uvma_exec_layout l = { .stack_top = 0x7ffffffff000ULL, .vdso = true };
	struct uvma_mm *mm = uvma_mm_create(r->sys);
	const char *base = path ? strrchr(path, '/') : NULL;

	if (!mm)
		return NULL;
	if (uvma_mm_exec_layout(mm, &l)) {
		uvma_mm_exit(mm);
		return NULL;
	}
	return space_new(r, mm, pid, base ? base + 1 : path);
}

static int do_event(struct replay *r, struct call *c);

static int do_clone(struct replay *r, struct proc *p, struct call *c)
{
	uint64_t flags;
	struct proc *child;
	int child_pid = (int)c->result, err;
	char comm[64];

	if (!c->result_known || c->result <= 0)
		return 0;
	flags = clone_flags(c);
	child = find_proc(r, child_pid);
	if (child && child->alive) {
		diverge(r, c, "pid %d is already alive", child_pid);
		return 0;
	}
	if (!child) {
		child = new_proc(r, child_pid);
		if (!child)
			return errorf(r->err, r->errsize, "out of memory");
		p = find_proc(r, c->pid);	/* (new_proc may have moved the array) */
	}
	child->alive = true;
	if (flags & 0x100) {	/* CLONE_VM: a thread, or vfork until exec */
		child->sp = p->sp;
		p->sp->refs++;
	} else {
		struct uvma_mm *mm;
		uint64_t t = ticks();

		mm = uvma_fork(p->sp->mm, &err);
		if (mm)
			uvma_mm_run(mm);	/* the child runs as soon as it exists */
		r->tk_model += ticks() - t;
		if (!mm) {
			diverge(r, c, "fork failed in the model (%s)", uvma_errno_name(-err));
			child->alive = false;
			return 0;
		}
		/* (a copy: new_report may move the array the parent's name is in) */
		snprintf(comm, sizeof(comm), "%s", r->res->spaces[p->sp->rep].comm);
		child->sp = space_new(r, mm, child_pid, comm);
		if (!child->sp)
			return errorf(r->err, r->errsize, "out of memory");
		child->sp->brk_known = p->sp->brk_known;
		child->sp->image = p->sp->image;
	}
	if (flags & 0x400) {	/* CLONE_FILES */
		child->fds = p->fds;
		p->fds->refs++;
	} else {
		child->fds = fdtable_copy(p->fds);
		if (!child->fds)
			return errorf(r->err, r->errsize, "out of memory");
	}
	/*
	 * The child's lines that came before this return, each once: a line
	 * after the child's own exit is held again (for a later clone that
	 * reuses the pid), and must not be taken up again here.
	 */
	struct call *h = child->held;

	child->held = child->held_last = NULL;
	while (h) {
		struct call *next = h->next;

		if (do_event(r, h)) {
			for (h = next; h; h = next) {
				next = h->next;
				call_free(h);
			}
			return -1;
		}
		h = next;
	}
	return 0;
}

/* uvma maps: the wanted process's maps, rendered while it still has them. */
static void render_maps(struct replay *r, struct proc *p)
{
	if (r->cfg->maps_pid < 0 || !p->sp ||
	    (r->cfg->maps_pid ? p->pid != r->cfg->maps_pid : p != &r->procs[0]))
		return;
	keep_maps(r->res, p->sp->mm);
}

static void proc_end(struct replay *r, struct proc *p)
{
	if (!p->alive)
		return;
	if (p->sp->refs == 1 || r->ending)
		render_maps(r, p);
	p->alive = false;
	space_put(r, p->sp);
	p->sp = NULL;
	fdtable_put(p->fds);
	p->fds = NULL;
}

/* Open files: the fd table follows openat, close, dup and memfd_create. */
static bool apply_files(struct replay *r, struct proc *p, const struct call *c)
{
	if (is(c, "openat") || is(c, "open") || is(c, "creat") || is(c, "memfd_create")) {
		int pi = is(c, "openat") ? 1 : 0;
		int fl = c->nargs > pi + 1 ? (int)c->a[pi + 1] : 0;
		const char *name = c->result_path ? c->result_path : c->path[pi] ? c->path[pi] : "?";
		int opened;

		if (!c->result_known || c->result < 0)
			return true;
		if (is(c, "memfd_create"))
			opened = keep_file(r, uvma_memfd_create(r->sys, name, FILE_SIZE), name);
		else
			opened = open_file(r, name, (fl & 3) != 1, (fl & 3) != 0 || is(c, "creat"));
		fd_install(p->fds, (int)c->result, opened);
		return true;
	}
	if (is(c, "close")) {
		if (c->result_known && c->result == 0)
			fd_close(p->fds, (int)c->a[0]);
		return true;
	}
	if (is(c, "dup") || is(c, "dup2") || is(c, "dup3")) {
		struct fdent *e = fd_find(p->fds, (int)c->a[0]);

		if (c->result_known && c->result >= 0 && e)
			fd_install(p->fds, (int)c->result, e->opened);
		return true;
	}
	return false;
}

static int do_event(struct replay *r, struct call *c)
{
	struct proc *p = find_proc(r, c->pid);

	if (!r->started) {
		/* the first process: started by the trace's execve, or there already */
		r->started = true;
		p = new_proc(r, c->pid);
		if (!p)
			return errorf(r->err, r->errsize, "out of memory");
		p->alive = true;
		p->fds = fdtable_new();
		if (!(is(c, "execve") && c->kind == SC_CALL && c->result == 0) || r->cfg->initial_maps)
			p->sp = first_space(r, c->pid);
		else
			p->sp = exec_space(r, c->pid, c->path[0]);
		if (!p->sp || !p->fds) {
			call_free(c);
			return r->err[0] ? -1 : errorf(r->err, r->errsize, "out of memory");
		}
		if (is(c, "execve")) {
			/* the snapshot (or layout) is the state this exec made */
			snprintf(r->res->spaces[p->sp->rep].comm, sizeof(r->res->spaces[0].comm), "%s",
				 c->path[0] && strrchr(c->path[0], '/') ? strrchr(c->path[0], '/') + 1
									: c->path[0] ? c->path[0] : "?");
			r->res->events++;
			sample(r);
			call_free(c);
			return 0;
		}
	}
	if (!p || !p->alive) {
		if (!p) {
			p = new_proc(r, c->pid);
			if (!p) {
				call_free(c);
				return errorf(r->err, r->errsize, "out of memory");
			}
		}
		/* a child's line before its parent's clone returned: held until then */
		c->next = NULL;
		if (p->held)
			p->held_last->next = c;
		else
			p->held = c;
		p->held_last = c;
		return 0;
	}
	if (r->stopped) {
		call_free(c);
		return 0;
	}
	r->res->events++;
	if (c->kind == SC_EXITED || c->kind == SC_KILLED) {
		proc_end(r, p);
	} else if (is(c, "clone") || is(c, "clone3") || is(c, "fork") || is(c, "vfork")) {
		if (do_clone(r, p, c)) {
			call_free(c);
			return -1;
		}
		p = find_proc(r, c->pid);
	} else if ((is(c, "execve") || is(c, "execveat")) && c->result_known && c->result == 0) {
		const char *path = c->path[is(c, "execveat") ? 1 : 0];
		struct space *sp = exec_space(r, c->pid, path);

		if (!sp) {
			call_free(c);
			return errorf(r->err, r->errsize, "out of memory");
		}
		space_put(r, p->sp);
		p->sp = sp;
	} else if (apply_mm(r, p, c)) {
		r->res->calls++;
	} else if (!apply_files(r, p, c)) {
		r->res->skipped++;
		r->res->events--;
		call_free(c);
		return 0;
	}
	sample(r);
	progress(r, false);
	if (r->cfg->stop_after && r->res->events >= r->cfg->stop_after)
		r->stopped = true;
	call_free(c);
	return 0;
}

/* ---- inputs ------------------------------------------------------------------------- */

/* The pid in "FILE.PID" (strace -ff), or 0. */
static int ff_pid(const char *path)
{
	const char *dot = strrchr(path, '.');
	char *e;
	long v;

	if (!dot || !dot[1])
		return 0;
	v = strtol(dot + 1, &e, 10);
	return *e || v <= 0 ? 0 : (int)v;
}

struct source {
	struct strace_reader *rd;
	struct sc_event ev;
	int have;	/* 1: ev holds the next event; 0: at the end */
};

static int source_advance(struct source *s, char *err, size_t errsize)
{
	s->have = strace_next(s->rd, &s->ev, err, errsize);
	return s->have < 0 ? -1 : 0;
}

static int replay_strace(struct replay *r, char *const *paths, int npaths)
{
	struct source *src = calloc((size_t)npaths, sizeof(*src));
	int ret = 0;

	if (!src)
		return errorf(r->err, r->errsize, "out of memory");
	r->res->format = "strace";
	for (int i = 0; i < npaths && !ret; i++) {
		src[i].rd = strace_open(paths[i], npaths > 1 ? ff_pid(paths[i]) : 0, r->err, r->errsize);
		if (!src[i].rd || source_advance(&src[i], r->err, r->errsize))
			ret = -1;
	}
	if (!ret)
		r->progress_in = strace_input(src[0].rd);
	while (!ret) {
		/*
		 * One file: in order.  strace -ff: the earliest timestamp next;
		 * without timestamps, file by file in the order given (the first
		 * file is the first process).
		 */
		int best = -1;
		struct call *c;

		for (int i = 0; i < npaths; i++) {
			if (src[i].have != 1)
				continue;
			if (best < 0 || (src[i].ev.ts >= 0 && src[best].ev.ts >= 0 &&
					 src[i].ev.ts < src[best].ev.ts))
				best = i;
		}
		if (best < 0)
			break;
		if (src[best].ev.kind == SC_CALL && !strcmp(src[best].ev.name, "clone3")) {
			/* clone3's flags sit in its struct: "{flags=CLONE_VM|..., ...}" */
			const char *f = strstr(src[best].ev.arg[0].text, "flags=");

			if (f) {
				char buf[512];
				struct sc_event tmp;
				size_t n = strcspn(f + 6, ",}");

				snprintf(buf, sizeof(buf), "x(%.*s) = 0", (int)n, f + 6);
				if (!strace_parse_call(buf, &tmp, r->err, r->errsize) && tmp.nargs == 1 &&
				    tmp.arg[0].is_num) {
					src[best].ev.arg[0].val = tmp.arg[0].val;
					src[best].ev.arg[0].is_num = true;
				}
			}
		} else if (src[best].ev.kind == SC_CALL && !strcmp(src[best].ev.name, "clone")) {
			/* clone(child_stack=..., flags=..., ...): the flags first */
			for (int i = 0; i < src[best].ev.nargs; i++) {
				const char *t = src[best].ev.arg[i].text;
				char buf[512];
				struct sc_event tmp;

				if (strncmp(t, "flags=", 6))
					continue;
				snprintf(buf, sizeof(buf), "x(%s) = 0", t + 6);
				if (!strace_parse_call(buf, &tmp, r->err, r->errsize) && tmp.nargs == 1 &&
				    tmp.arg[0].is_num) {
					src[best].ev.arg[0].val = tmp.arg[0].val;
					src[best].ev.arg[0].is_num = true;
				}
			}
		}
		c = decode(&src[best].ev);
		if (!c) {
			ret = errorf(r->err, r->errsize, "out of memory");
			break;
		}
		if (!c->pid) {
			/* bare lines (one process, or the first on a terminal) */
			int alias = strace_alias0(src[best].rd);

			c->pid = alias ? alias : 1;
			if (alias && r->nprocs && r->procs[0].pid == 1)
				r->procs[0].pid = alias;
		} else if (r->nprocs && r->procs[0].pid == 1 && strace_alias0(src[best].rd) == c->pid) {
			r->procs[0].pid = c->pid;
		}
		r->res->lines = src[best].ev.line;
		if (do_event(r, c))
			ret = -1;
		else if (source_advance(&src[best], r->err, r->errsize))
			ret = -1;
	}
	for (int i = 0; i < npaths; i++) {
		if (src[i].rd)
			r->res->skipped += strace_skipped(src[i].rd);
		strace_close(src[i].rd);
	}
	free(src);
	return ret;
}

/*
 * A "maps" line of a recorded trace: the kernel's maps at that point, as a
 * checksum.  Only the linux policy must reproduce them; the others differ
 * by design.
 */
static void check_maps(struct replay *r, const struct trace *t, struct model *m,
		       const struct op *op)
{
	char why[300];
	int d;

	if (r->cfg->policy != UVMA_POLICY_LINUX)
		return;
	d = model_check_maps(m, t, op, why, sizeof(why));
	if (d < 0)
		return;
	r->res->maps_checked++;
	if (!d)
		return;
	if (!r->res->maps_differ++)
		r->res->maps_first_line = (unsigned long)op->line;
	if (r->cfg->log)
		fprintf(r->cfg->log, "%s:%d: %s\n", t->path, op->line, why);
}

/* One op of a .utrace on the model, with what the report counts. */
static void utrace_step(struct replay *r, struct trace *t, struct model *m, int *spaces,
			const struct op *op)
{
	struct uvma_mm *mm = m->mm[op->proc];
	unsigned long total = 0;
	uint64_t tk;
	long ret;

	if (op->kind == OP_EXPECT_VMAS || op->kind == OP_EXPECT_VMA)
		return;
	if (op->kind == OP_MAPS) {
		check_maps(r, t, m, op);
		return;
	}
	if (op->kind == OP_EXIT && mm && r->cfg->maps_pid > 0 && op->proc == r->cfg->maps_pid - 1)
		keep_maps(r->res, mm);	/* the process as it was just before it went */
	if (op->kind == OP_EXIT && mm)
		fill_report(&r->res->spaces[spaces[op->proc]], mm);
	if (op->kind == OP_EXEC && mm && uvma_mm_map_count(mm)) {
		/* exec: the old address space ends, a new one begins */
		fill_report(&r->res->spaces[spaces[op->proc]], mm);
		r->res->spaces[spaces[op->proc]].exited = true;
		spaces[op->proc] = new_report(r, op->proc, t->procs[op->proc]);
	}
	tk = ticks();
	ret = model_step(m, t, op);
	r->tk_model += ticks() - tk;
	r->res->events++;
	r->res->lines = (unsigned long)op->line;
	if ((op->kind == OP_FORK || op->kind == OP_SPAWN) && m->mm[op->arg])
		spaces[op->arg] = new_report(r, op->arg, t->procs[op->arg]);
	if (op->kind == OP_EXIT)
		r->res->spaces[spaces[op->proc]].exited = true;
	else if ((op->kind >= OP_MMAP && op->kind <= OP_BRK) || op->kind == OP_FORK ||
		 op->kind == OP_EXEC || op->kind == OP_PRCTL_MEMORY_MERGE ||
		 op->kind == OP_PRCTL_ANON_NAME)
		r->res->calls++;	/* (not faults, files or the image's VMAs) */
	if (op->has_result && ret != op->result) {
		struct call c = { .pid = op->proc, .line = (unsigned long)op->line, .file = t->path };

		snprintf(c.name, sizeof(c.name), "%s", op_name(op->kind));
		check(r, &c, ret, op->result);
	}
	/* the series counts the trace's processes */
	for (int p = 0; p < t->nprocs; p++)
		if (m->mm[p])
			total += uvma_mm_map_count(m->mm[p]);
	sample_total(r->res, total);
	if (r->cfg->stop_after && r->res->events >= r->cfg->stop_after)
		r->stopped = true;
	progress(r, false);
}

static bool machine_line(const struct op *op)
{
	return op->kind == OP_CARVEOUT || op->kind == OP_THP || op->kind == OP_ZEROPAGE ||
	       op->kind == OP_SWAP;
}

/*
 * A .utrace (recorded: the real fault state is in it, no model is needed),
 * read and run a line at a time: the machine is made at the first line that
 * is not a machine line (carveout, thp, swap).
 */
static int replay_utrace(struct replay *r, const char *path)
{
	struct trace *t = malloc(sizeof(*t));
	int *spaces = calloc(TRACE_MAX_PROCS, sizeof(int));
	struct uvma_sys_config cfg;
	struct model m;
	struct input in;
	bool started = false;
	int got = 0, lineno = 0, ret = 0;
	char *line;
	size_t len;

	r->res->format = "utrace";
	if (!t || !spaces || input_open(&in, path, r->err, r->errsize)) {
		if (!r->err[0])
			errorf(r->err, r->errsize, "out of memory");
		free(t);
		free(spaces);
		return -1;
	}
	r->progress_in = &in;
	uvma_sys_config_default(&cfg);
	cfg.policy = r->cfg->policy;
	cfg.relocate_all = r->cfg->relocate_all;
	trace_stream_begin(t, path);
	while (!ret && !r->stopped && (got = input_line(&in, &line, &len, r->err, r->errsize)) > 0) {
		if (trace_stream_line(t, ++lineno, line, len, r->err, r->errsize)) {
			ret = -1;
			break;
		}
		for (int i = 0; i < t->nops && !ret && !r->stopped; i++) {
			const struct op *op = &t->ops[i];

			if (!started && machine_line(op))
				continue;	/* model_start applies it */
			if (started && machine_line(op)) {
				ret = errorf(r->err, r->errsize, "%s:%d: '%s' must come before the first "
					     "call", path, op->line, op_name(op->kind));
				break;
			}
			if (!started) {
				if (model_start(&m, t, 0, r->cfg->initial_maps, &cfg, r->err, r->errsize)) {
					ret = -1;
					break;
				}
				started = true;
				spaces[0] = new_report(r, 0, t->procs[0]);
			}
			utrace_step(r, t, &m, spaces, op);
		}
		t->nops = 0;
	}
	if (got < 0)
		ret = -1;
	if (!ret && !lineno)
		ret = errorf(r->err, r->errsize, "%s:1: empty file (the first line must be "
			     "'uvma-trace 1')", path);
	if (started) {
		for (int p = 0; p < t->nprocs && !ret; p++) {
			if (!m.mm[p])
				continue;
			fill_report(&r->res->spaces[spaces[p]], m.mm[p]);
			/* a .utrace's processes are numbered from 1 in order of appearance */
			if (r->cfg->maps_pid >= 0 && p == (r->cfg->maps_pid ? r->cfg->maps_pid - 1 : 0))
				keep_maps(r->res, m.mm[p]);
		}
		model_stop(&m);
	}
	progress(r, true);
	r->progress_in = NULL;
	input_close(&in);
	trace_free(t);
	free(t);
	free(spaces);
	return ret;
}

/* The wall-clock time of the replay, and the model's share in seconds. */
static void finish_times(const struct replay *r, struct replay_result *res, double t0, uint64_t tk0)
{
	double wall = now() - t0;
	uint64_t tk = ticks() - tk0;

	res->total_seconds = wall;
	res->model_seconds = tk ? wall * (double)r->tk_model / (double)tk : 0;
}

int replay_run(char *const *paths, int npaths, const struct replay_config *cfg,
	       struct replay_result *res, char *err, size_t errsize)
{
	struct uvma_sys_config sc;
	struct replay r = { .cfg = cfg, .res = res, .err = err, .errsize = errsize };
	double t0 = now();
	uint64_t tk0 = ticks();
	int ret;

	r.t_start = t0;
	memset(res, 0, sizeof(*res));
	err[0] = 0;
	res->policy = cfg->policy;
	res->relocate_all = cfg->relocate_all;
	res->stride = 1;
	res->series = malloc(SERIES_MAX * sizeof(*res->series));
	if (!res->series)
		return errorf(err, errsize, "out of memory");
	if (npaths == 1 && !strace_sniff(paths[0])) {
		ret = replay_utrace(&r, paths[0]);
		finish_times(&r, res, t0, tk0);
		return ret;
	}
	uvma_sys_config_default(&sc);
	sc.policy = cfg->policy;
	sc.relocate_all = cfg->relocate_all;
	r.sys = uvma_sys_create(&sc);
	if (!r.sys)
		return errorf(err, errsize, "out of memory");
	ret = replay_strace(&r, paths, npaths);
	progress(&r, true);
	/* the processes still alive at the end */
	for (int i = 0; i < r.nprocs; i++) {
		struct proc *p = &r.procs[i];

		r.ending = true;
		proc_end(&r, p);
		while (p->held) {
			struct call *h = p->held;

			p->held = h->next;
			res->skipped++;
			call_free(h);
		}
	}
	free(r.procs);
	free(r.live);
	for (int i = 0; i < r.nopened; i++) {
		uvma_file_close(r.opened[i].file);
		free(r.opened[i].name);
	}
	free(r.opened);
	uvma_sys_destroy(r.sys);
	finish_times(&r, res, t0, tk0);
	return ret;
}

void replay_result_free(struct replay_result *res)
{
	free(res->spaces);
	free(res->series);
	free(res->maps);
	memset(res, 0, sizeof(*res));
}
