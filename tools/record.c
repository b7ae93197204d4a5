// SPDX-License-Identifier: MIT
/*
 * uvma record (docs/replay.md): run a program under ptrace, with a seccomp
 * filter so that only the calls the model cares about stop it, and write
 * what it did as a .utrace that replays exactly.
 *
 *   seccomp stop (entry) ── the call's range: fault state from pagemap ──┐
 *   syscall-exit stop ───── the kernel's result ── the line ── the model ┘
 *                                                  (--verify: maps compared)
 *
 * Faults are not system calls: before each call, the pages of the private
 * anonymous VMAs around its range are read from /proc/PID/pagemap, and what
 * the kernel has that the model lacks (a page written, read, or COW-copied
 * after fork) becomes "touch" lines first.  exec's image comes from
 * /proc/PID/smaps as "vma" lines.
 */
#define _GNU_SOURCE	/* process_vm_readv, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "array.h"
#include "cli.h"
#include "kexec.h"
#include "mapsum.h"
#include "model.h"
#include "record.h"
#include "seccomp_filter.h"
#include "trace.h"

#define PAGE 4096ULL
#define PAGE_ALIGN(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define PR_SET_MEMORY_MERGE_NR 67


struct thread {
	pid_t tid;
	int proc;		/* the trace process (address space) it runs in */
	bool in_call;		/* between its seccomp stop and its syscall-exit stop */
	bool started;		/* its first stop (SIGSTOP of an auto-attach) is past */
	bool held;		/* stopped before its parent's clone event named it */
	bool waiting;		/* at its seccomp stop, until its process's call in flight ends */
	unsigned long wait_seq;	/* (waiters go in arrival order) */
	long nr;
	unsigned long long arg[6];
	uint64_t clone_flags;
};

struct fdent {
	int fd;
	int file;	/* the trace's file index */
};

struct rproc {
	pid_t tgid;
	int threads;
	int pagemap;	/* /proc/TGID/pagemap, or -1 */
	struct fdent *fds;
	int nfds, capfds;
	unsigned long since_maps;	/* calls since its last "maps" line */
	bool alive;
};

struct recorder {
	struct record_opts *o;
	FILE *out;
	struct trace *t;
	struct model m;
	struct thread *th;
	int nth, capth;
	struct rproc procs[TRACE_MAX_PROCS];
	uint64_t zero_pfn;
	unsigned long lines, calls, divergences, touches;
	unsigned long wait_seq;
	char err[512];
};

/* ---- the tracee side --------------------------------------------------------------- */

static void tracee(char **argv, int errfd)
{
	int e;

	if (ptrace(PTRACE_TRACEME, 0, 0, 0)) {
		e = errno;
		if (write(errfd, &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	raise(SIGSTOP);
	if (record_install_filter()) {
		e = errno | 0x10000;
		if (write(errfd, &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	execvp(argv[0], argv);
	e = errno | 0x20000;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* ---- the trace being written -------------------------------------------------------- */

static void put_result(char *buf, size_t size, long r)
{
	char v[40];

	trace_format_result(v, sizeof(v), r);
	snprintf(buf, size, " = %s", v);
}

/* Write @op (with its result if it has one) and apply it to the model. */
static long emit(struct recorder *rec, struct op *op)
{
	char line[1200], res[64] = "";
	long r;

	op->line = (int)++rec->lines;
	op_format(rec->t, op, line, sizeof(line));
	if (op->has_result)
		put_result(res, sizeof(res), op->result);
	fprintf(rec->out, "%s%s\n", line, res);
	r = model_step(&rec->m, rec->t, op);
	if (op->has_result && r != op->result) {
		char mr[64];

		put_result(mr, sizeof(mr), r);
		rec->divergences++;
		if (rec->o->verify)
			fprintf(stderr, "uvma record: line %lu: '%s': the model returned%s, the kernel%s\n",
				rec->lines, line, mr, res);
	}
	return r;
}

static struct op new_op(int proc, enum op_kind kind)
{
	struct op op;

	memset(&op, 0, sizeof(op));
	op.kind = kind;
	op.proc = proc;
	op.file = -1;
	return op;
}

static int add_proc(struct recorder *rec, const char *name)
{
	struct trace *t = rec->t;

	if (t->nprocs == TRACE_MAX_PROCS)
		return -1;
	snprintf(t->procs[t->nprocs], TRACE_NAME_MAX, "%s", name);
	return t->nprocs++;
}

/* A file of the trace for an open of @path: "file fN SIZE path=PATH mode=M". */
static int add_file(struct recorder *rec, int proc, const char *path, uint64_t size, int mode)
{
	struct trace *t = rec->t;
	struct op op = new_op(proc, OP_FILE);
	int i = t->nfiles;

	if (i == TRACE_MAX_FILES)
		return -1;
	snprintf(t->files[i], TRACE_NAME_MAX, "f%d", i);
	t->file_size[i] = size ? size : PAGE;
	t->file_path[i] = strdup(path);
	t->file_mode[i] = mode;
	if (!t->file_path[i])
		return -1;
	t->nfiles++;
	op.file = i;
	op.len = t->file_size[i];
	emit(rec, &op);
	return i;
}

/* ---- processes and threads ---------------------------------------------------------- */

static struct thread *find_thread(struct recorder *rec, pid_t tid)
{
	for (int i = 0; i < rec->nth; i++)
		if (rec->th[i].tid == tid)
			return &rec->th[i];
	return NULL;
}

static struct thread *add_thread(struct recorder *rec, pid_t tid, int proc)
{
	struct thread *th;

	if (array_grow(&rec->th, rec->nth, &rec->capth, sizeof(*rec->th)))
		return NULL;
	th = &rec->th[rec->nth++];
	memset(th, 0, sizeof(*th));
	th->tid = tid;
	th->proc = proc;
	if (proc >= 0)
		rec->procs[proc].threads++;
	return th;
}

static void drop_thread(struct recorder *rec, struct thread *th)
{
	*th = rec->th[--rec->nth];
}

static int fd_file(struct rproc *p, int fd)
{
	for (int i = 0; i < p->nfds; i++)
		if (p->fds[i].fd == fd)
			return p->fds[i].file;
	return -1;
}

static void fd_put(struct rproc *p, int fd, int file)
{
	for (int i = 0; i < p->nfds; i++)
		if (p->fds[i].fd == fd) {
			if (file < 0)
				p->fds[i] = p->fds[--p->nfds];
			else
				p->fds[i].file = file;
			return;
		}
	if (file < 0 || array_grow(&p->fds, p->nfds, &p->capfds, sizeof(*p->fds)))
		return;
	p->fds[p->nfds].fd = fd;
	p->fds[p->nfds++].file = file;
}

/* ---- what /proc says ------------------------------------------------------------------ */

static char *slurp_proc(pid_t pid, const char *what)
{
	char path[64], *buf = NULL;
	size_t n = 0, cap = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t r;

		if (n + 65536 > cap) {
			char *nb = realloc(buf, cap = (n + 65536) * 2);

			if (!nb) {
				free(buf);
				close(fd);
				return NULL;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf)
		buf[n] = 0;
	return buf;
}

/* The heap start the kernel chose at exec (/proc/PID/stat, field 47). */
static uint64_t start_brk(pid_t pid)
{
	char *s = slurp_proc(pid, "stat"), *p;
	unsigned long long v = 0;
	int field = 2;

	if (!s)
		return 0;
	p = strrchr(s, ')');
	for (; p && *p && field < 47; p++)
		if (*p == ' ')
			field++;
	if (p)
		sscanf(p, "%llu", &v);
	free(s);
	return v;
}

/*
 * A "maps" line: the kernel's maps of @proc now, as a count and a checksum,
 * so that a replay of the trace can check the model's (docs/replay.md).
 */
static void record_maps(struct recorder *rec, int proc)
{
	char *kernel = slurp_proc(rec->procs[proc].tgid, "maps");
	struct op op = new_op(proc, OP_MAPS);
	struct maps_sum sum;

	rec->procs[proc].since_maps = 0;
	if (!kernel)
		return;
	maps_sum(kernel, &sum);
	free(kernel);
	op.len = sum.count;
	op.len2 = sum.hash;
	emit(rec, &op);
}

/* exec: the image the kernel built, from /proc/PID/smaps, as "exec" and "vma" lines. */
static int record_exec(struct recorder *rec, int proc, pid_t pid)
{
	char *smaps = slurp_proc(pid, "smaps"), *line;
	struct op op = new_op(proc, OP_EXEC);
	struct {
		unsigned long long s, e, off, ino;
		unsigned int maj, min;
		char name[512];
		uint64_t flags;
		unsigned long rss;
		bool have;
	} v = { 0 };

	if (!smaps)
		return -1;
	op.addr.val = start_brk(pid);
	emit(rec, &op);
	line = smaps;
	for (;;) {
		char *nl = strchr(line, '\n');
		char perms[8];
		int pos = 0;
		unsigned long long hs, he, hoff, hino;
		unsigned int hmaj, hmin;
		bool header = *line && sscanf(line, "%llx-%llx %7s %llx %x:%x %llu%n", &hs, &he, perms,
					      &hoff, &hmaj, &hmin, &hino, &pos) == 7;

		if ((header || !*line) && v.have) {
			struct op vo = new_op(proc, OP_VMA);

			v.have = false;
			vo.addr.val = v.s;
			vo.addr2.val = v.e;
			vo.len2 = v.flags;
			vo.off = v.off >> 12;
			if (!strcmp(v.name, "[vdso]"))
				vo.arg = 1;
			else if (!strcmp(v.name, "[vvar]"))
				vo.arg = 2;
			else if (!strcmp(v.name, "[vvar_vclock]"))
				vo.arg = 3;
			else if (!strcmp(v.name, "[stack]"))
				vo.arg = 4;
			else if (!strcmp(v.name, "[heap]"))
				vo.arg = 5;
			if (v.ino || v.maj || v.min) {
				/* the image's files: one open each, as exec and ld.so made them */
				vo.file = -1;
				for (int i = 0; i < rec->t->nfiles; i++)
					if (rec->t->file_path[i] && !strcmp(rec->t->file_path[i], v.name))
						vo.file = i;
				if (vo.file < 0) {
					struct stat st;

					vo.file = add_file(rec, proc, v.name,
							   stat(v.name, &st) || !st.st_size
								   ? PAGE : (uint64_t)st.st_size, 1);
				}
			} else {
				/* maps shows 0 for anonymous memory: its pgoff is its address */
				vo.off = v.s >> 12;
				vo.flags = v.rss != 0;	/* faulted */
			}
			if (v.s < (1ULL << 47))	/* not [vsyscall] */
				emit(rec, &vo);
		}
		if (!*line)
			break;
		if (header) {
			char *p = line + pos;

			v.s = hs;
			v.e = he;
			v.off = hoff;
			v.maj = hmaj;
			v.min = hmin;
			v.ino = hino;
			while (*p == ' ')
				p++;
			snprintf(v.name, sizeof(v.name), "%.*s", (int)(nl ? nl - p : (long)strlen(p)), p);
			v.flags = 0;
			v.rss = 0;
			v.have = true;
		} else if (!strncmp(line, "VmFlags:", 8)) {
			v.flags = model_parse_vmflags(line + 8);
		} else if (!strncmp(line, "Rss:", 4)) {
			sscanf(line + 4, "%lu", &v.rss);
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	free(smaps);
	if (rec->o->maps_every)
		record_maps(rec, proc);
	return 0;
}

/* ---- fault state from pagemap ---------------------------------------------------------- */

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_EXCLUSIVE (1ULL << 56)
#define PM_PFN ((1ULL << 55) - 1)

static void flush_touch(struct recorder *rec, int proc, uint64_t *start, uint64_t end, int w)
{
	struct op op;

	if (*start == end)
		return;
	op = new_op(proc, OP_TOUCH);
	op.addr.val = *start;
	op.len = end - *start;
	op.arg = w;
	emit(rec, &op);
	rec->touches++;
	*start = end;
}

/* The pagemap entries of [x, to), at most @max from x: how many were read (0 at an error). */
static size_t pagemap_chunk(const struct rproc *p, uint64_t x, uint64_t to, uint64_t *pm,
			    size_t max)
{
	size_t n = (size_t)((to - x) / PAGE);
	ssize_t got;

	if (n > max)
		n = max;
	got = pread(p->pagemap, pm, n * 8, (off_t)(x / PAGE * 8));
	return got > 0 ? (size_t)got / 8 : 0;
}

/*
 * Bring the model's pages of [from, to) of the VMA @vi to what the kernel
 * has: pages it has that the model lacks were faulted (written, or read:
 * the zero page); a page the model still shares after fork but the kernel
 * maps exclusively was written (COW).  With @first, only the first such
 * page: enough to give the VMA the anon_vma the kernel's has.
 */
static void sync_range(struct recorder *rec, int proc, const struct uvma_vma_info *vi,
		       uint64_t from, uint64_t to, bool first)
{
	struct uvma_mm *mm = rec->m.mm[proc];
	struct rproc *p = &rec->procs[proc];
	static uint64_t pm[512];

	for (uint64_t x = from; x < to;) {
		size_t n = pagemap_chunk(p, x, to, pm, 512);
		uint64_t run = x;
		int run_w = -1;

		if (!n)
			return;
		for (size_t i = 0; i < n; i++, x += PAGE) {
			struct uvma_page_info pi;
			int want = -1;	/* -1 nothing, 0 read, 1 write */

			if (!(pm[i] & (PM_PRESENT | PM_SWAP)) && run_w < 0)
				continue;	/* (the common case: nothing there) */
			if (uvma_page_info(mm, x, &pi))
				pi.state = UVMA_PAGE_NONE;
			if (pm[i] & PM_PRESENT) {
				bool zero = (pm[i] & PM_PFN) == rec->zero_pfn && rec->zero_pfn;

				if (pi.state == UVMA_PAGE_NONE)
					want = zero ? 0 : 1;
				else if (pi.state == UVMA_PAGE_ZERO && !zero)
					want = 1;
				else if (pi.state == UVMA_PAGE_PRESENT && pi.anon && pi.mapcount > 1 &&
					 (pm[i] & PM_EXCLUSIVE) && !zero)
					want = 1;
			} else if ((pm[i] & PM_SWAP) && pi.state == UVMA_PAGE_NONE) {
				want = 1;
			}
			if (want == 1 && !(vi->flags & UVMA_VM_WRITE))
				want = 0;	/* (a page written before an mprotect) */
			if (want >= 0 && first) {
				uint64_t at = x;

				flush_touch(rec, proc, &at, x + PAGE, want);
				return;
			}
			if (want != run_w) {
				if (run_w >= 0)
					flush_touch(rec, proc, &run, x, run_w);
				run = x;
				run_w = want;
			}
		}
		if (run_w >= 0)
			flush_touch(rec, proc, &run, x, run_w);
	}
}

/*
 * Before a call on [lo, hi): the pages of the private anonymous VMAs there
 * are brought up to date, and every such VMA from one page below to one
 * page above gets an anon_vma if the kernel's has faulted pages (what
 * merging looks at).  Pages elsewhere in a VMA wait for a call that needs
 * them (a move of that part, a fork).
 */
static void sync_pages(struct recorder *rec, int proc, uint64_t lo, uint64_t hi)
{
	struct uvma_mm *mm = rec->m.mm[proc];
	struct uvma_vma_info vi;
	uint64_t a = lo >= PAGE ? lo - PAGE : 0;

	if (!mm || rec->procs[proc].pagemap < 0)
		return;
	while (!uvma_find_vma(mm, a, &vi) && vi.start < hi + PAGE) {
		bool anon = !vi.has_file && !(vi.flags & UVMA_VM_SHARED) &&
			    (!vi.name || !strcmp(vi.name, "[heap]") || !strcmp(vi.name, "[stack]"));
		uint64_t from = vi.start > lo ? vi.start : lo, to = vi.end < hi ? vi.end : hi;

		a = vi.end;
		if (!anon || !(vi.flags & UVMA_VM_READ))
			continue;
		if (from < to)
			sync_range(rec, proc, &vi, from, to, false);
		if (!uvma_find_vma(mm, vi.start, &vi) && !vi.anon_vma_id)
			sync_range(rec, proc, &vi, vi.start, vi.end, true);
	}
}

/*
 * The stack grows by faults, not calls: a page the kernel has below the
 * model's [stack] (within the usual 8 MiB) was a fault that grew it.  The
 * lowest such page, touched in the model, grows it the same way.
 */
#define STACK_SCAN (8ULL << 20)
#define STACK_SCAN_PAGES (STACK_SCAN / PAGE)

static void sync_stack(struct recorder *rec, int proc)
{
	struct uvma_mm *mm = rec->m.mm[proc];
	struct rproc *p = &rec->procs[proc];
	struct uvma_vma_info vi, prev;
	uint64_t a = 0, lo, start = 0, prev_end = 0;
	/* the whole scan in one read: it runs before every call */
	static uint64_t pm[STACK_SCAN_PAGES];

	if (!mm || p->pagemap < 0)
		return;
	while (!uvma_find_vma(mm, a, &vi)) {
		if (vi.flags & UVMA_VM_GROWSDOWN) {
			start = vi.start;
			break;
		}
		prev = vi;
		prev_end = prev.end;
		a = vi.end;
	}
	if (!start)
		return;
	lo = start > STACK_SCAN ? start - STACK_SCAN : 0;
	if (lo < prev_end)
		lo = prev_end;
	for (uint64_t x = lo; x < start;) {
		size_t n = pagemap_chunk(p, x, start, pm, STACK_SCAN_PAGES);

		if (!n)
			return;
		for (size_t i = 0; i < n; i++, x += PAGE)
			if (pm[i] & (PM_PRESENT | PM_SWAP)) {
				uint64_t at = x;

				flush_touch(rec, proc, &at, x + PAGE, 1);
				return;
			}
	}
}

/* The zero page's PFN, from a page of ours only read (PFNs need CAP_SYS_ADMIN). */
static uint64_t find_zero_pfn(void)
{
	volatile char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t e = 0;
	int fd;

	if (p == MAP_FAILED)
		return 0;
	(void)p[0];
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd >= 0) {
		if (pread(fd, &e, 8, (off_t)((uintptr_t)p / PAGE * 8)) != 8)
			e = 0;
		close(fd);
	}
	munmap((void *)p, PAGE);
	return (e & PM_PRESENT) ? e & PM_PFN : 0;
}

/* ---- calls ---------------------------------------------------------------------------- */

static int regs_of(pid_t tid, struct user_regs_struct *r)
{
	return (int)ptrace(PTRACE_GETREGS, tid, 0, r);
}

static int mode_of_open(unsigned long long flags)
{
	return (flags & 3) == 0 ? 1 : (flags & 3) == 1 ? 2 : 3;
}

/*
 * The trace's file for fd @fd of the process: the one it had when last
 * mapped, or (a new open since, an fd from before the trace) a new one,
 * from /proc/PID/fd and fdinfo.  @mode < 0: read the open's access mode.
 */
static int file_of_fd(struct recorder *rec, int proc, pid_t tid, int fd, int mode)
{
	struct rproc *p = &rec->procs[proc];
	char link[64], path[4096];
	struct stat st;
	ssize_t n;
	int f = fd_file(p, fd);

	if (f >= 0)
		return f;
	snprintf(link, sizeof(link), "/proc/%d/fd/%d", tid, fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return -1;
	path[n] = 0;
	if (stat(link, &st))
		st.st_size = 0;
	if (mode < 0) {
		/* the open's access mode: "flags: 0100002" in /proc/PID/fdinfo/FD (octal) */
		char info[64], *text;
		unsigned int fl = 0;

		snprintf(info, sizeof(info), "fdinfo/%d", fd);
		text = slurp_proc(tid, info);
		mode = 3;
		if (text && strstr(text, "flags:") && sscanf(strstr(text, "flags:") + 6, "%o", &fl) == 1)
			mode = mode_of_open(fl);
		free(text);
	}
	if (!strncmp(path, "/memfd:", 7)) {
		/* shmem: a memfd of the model, named as the kernel names it */
		struct op op = new_op(proc, OP_FILE);
		struct trace *t = rec->t;
		char *sp = strstr(path + 7, " (deleted)");

		if (t->nfiles == TRACE_MAX_FILES)
			return -1;
		if (sp)
			*sp = 0;
		f = t->nfiles;
		t->file_path[f] = strdup(path + 7);
		if (!t->file_path[f])
			return -1;
		t->nfiles++;
		snprintf(t->files[f], TRACE_NAME_MAX, "m%d", f);
		t->file_size[f] = st.st_size > 0 ? (uint64_t)st.st_size : (1ULL << 30);
		t->file_mode[f] = (mode < 0 ? 3 : mode) | FILE_MEMFD;
		op.file = f;
		op.len = t->file_size[f];
		emit(rec, &op);
	} else {
		f = add_file(rec, proc, path, st.st_size > 0 ? (uint64_t)st.st_size : PAGE, mode);
	}
	if (f >= 0)
		fd_put(p, fd, f);
	return f;
}

static bool range_call(long nr)
{
	return nr == SYS_munmap || nr == SYS_mprotect || nr == SYS_madvise || nr == SYS_mlock ||
	       nr == SYS_munlock || nr == SYS_mlock2 || nr == SYS_pkey_mprotect || nr == SYS_mremap ||
	       nr == SYS_mseal || nr == SYS_mbind;
}

/* The calls that change the address space: one at a time per process (below). */
static bool changes_mm(long nr)
{
	return range_call(nr) || nr == SYS_mmap || nr == SYS_brk || nr == SYS_mlockall ||
	       nr == SYS_munlockall || nr == SYS_prctl || nr == SYS_shmat || nr == SYS_shmdt ||
	       nr == SYS_remap_file_pages;
}

/*
 * The kernel orders two threads' calls on one address space by its lock;
 * the tracer sees their ends in any order.  So a call that changes the
 * address space waits at its seccomp stop while another thread of the
 * process has one in flight: the order the trace writes is the order they
 * ran in.  (Clone, exec, close and dup do not wait: a vfork parent stays in
 * its call until the child that shares its address space execs.)
 */
static bool must_wait(const struct recorder *rec, const struct thread *th)
{
	if (!changes_mm(th->nr) || th->proc < 0)
		return false;
	for (int i = 0; i < rec->nth; i++) {
		const struct thread *o = &rec->th[i];

		if (o != th && o->proc == th->proc && o->in_call && changes_mm(o->nr))
			return true;
	}
	return false;
}

/* The seccomp stop: which call, with what arguments. */
static int read_entry(struct thread *th)
{
	struct user_regs_struct r;

	if (regs_of(th->tid, &r))
		return -1;
	th->nr = (long)r.orig_rax;
	th->arg[0] = r.rdi;
	th->arg[1] = r.rsi;
	th->arg[2] = r.rdx;
	th->arg[3] = r.r10;
	th->arg[4] = r.r8;
	th->arg[5] = r.r9;
	return 0;
}

/* The call is about to run: its range's fault state is read now. */
static void call_entry(struct recorder *rec, struct thread *th)
{
	int proc = th->proc;

	th->in_call = true;
	if (proc < 0 || !rec->m.mm[proc])
		return;
	if (range_call(th->nr))
		sync_pages(rec, proc, th->arg[0], PAGE_ALIGN(th->arg[0] + th->arg[1]));
	else if (th->nr == SYS_mmap && (th->arg[3] & (UVMA_MAP_FIXED | UVMA_MAP_FIXED_NOREPLACE)))
		sync_pages(rec, proc, th->arg[0], PAGE_ALIGN(th->arg[0] + th->arg[1]));
	else if (th->nr == SYS_brk) {
		uint64_t b = uvma_brk(rec->m.mm[proc], 0);

		sync_pages(rec, proc, b > PAGE ? b - PAGE : b, b + PAGE);
	}
	/*
	 * Opens are not traced: a mapping's file is found from its fd when it
	 * is mapped, and is the same open until the fd is closed or replaced.
	 */
	if (th->nr == SYS_close) {
		fd_put(&rec->procs[proc], (int)th->arg[0], -1);
	} else if (th->nr == SYS_dup2 || th->nr == SYS_dup3) {
		fd_put(&rec->procs[proc], (int)th->arg[1], -1);
	}
	if (th->nr == SYS_clone)
		th->clone_flags = th->arg[0];
	else if (th->nr == SYS_fork)
		th->clone_flags = SIGCHLD;
	else if (th->nr == SYS_vfork)
		th->clone_flags = 0x4000 | 0x100 | SIGCHLD;
	else if (th->nr == SYS_clone3) {
		uint64_t flags = 0;
		struct iovec local = { &flags, 8 }, remote = { (void *)(uintptr_t)th->arg[0], 8 };

		if (process_vm_readv(th->tid, &local, 1, &remote, 1, 0) != 8)
			flags = 0;
		th->clone_flags = flags;
	}
}

/* One maps line as the divergence message shows it. */
static void show_line(char *buf, size_t size, const struct maps_line *l)
{
	snprintf(buf, size, "%llx-%llx %s %08llx %.*s", (unsigned long long)l->start,
		 (unsigned long long)l->end, l->perms, (unsigned long long)l->off,
		 (int)(l->namelen < 400 ? l->namelen : 400), l->name);
}

static bool same_line(const struct maps_line *a, const struct maps_line *b)
{
	return a->start == b->start && a->end == b->end && a->off == b->off &&
	       !strcmp(a->perms, b->perms) && a->namelen == b->namelen &&
	       !memcmp(a->name, b->name, a->namelen);
}

/* Compare the model's maps of @proc with the kernel's (--verify). */
static void verify(struct recorder *rec, int proc, pid_t tgid)
{
	static char model[1 << 22];
	char *kernel = slurp_proc(tgid, "maps");
	const char *k, *m = model;
	struct maps_line kl, ml;
	bool kin, min;
	unsigned long n = 0;

	if (!kernel)
		return;
	uvma_render_maps(rec->m.mm[proc], 0, 1ULL << 47, model, sizeof(model));
	k = kernel;
	kin = maps_next(&k, &kl);
	min = maps_next(&m, &ml);
	while (kin || min) {
		char ks[500] = "(end)", ms[500] = "(end)";

		if (kin && min && same_line(&kl, &ml)) {
			kin = maps_next(&k, &kl);
			min = maps_next(&m, &ml);
			continue;
		}
		rec->divergences++;
		if (kin)
			show_line(ks, sizeof(ks), &kl);
		if (min)
			show_line(ms, sizeof(ms), &ml);
		if (n++ < 3 && rec->divergences <= 20)
			fprintf(stderr, "uvma record: after line %lu, process %s: kernel '%s', "
				"model '%s'\n", rec->lines, rec->t->procs[proc], ks, ms);
		/* step the lower one (both when they start together) */
		bool stepk = kin && (!min || kl.start <= ml.start);
		bool stepm = min && (!kin || ml.start <= kl.start);

		if (stepk)
			kin = maps_next(&k, &kl);
		if (stepm)
			min = maps_next(&m, &ml);
	}
	free(kernel);
}

/* The syscall-exit stop: the kernel's result; the line; the model. */
static void call_exit(struct recorder *rec, struct thread *th)
{
	struct user_regs_struct r;
	int proc = th->proc;
	long res;
	struct op op;
	bool mm_call = true;
	uint64_t *a = (uint64_t *)th->arg;

	th->in_call = false;
	if (regs_of(th->tid, &r) || proc < 0 || !rec->m.mm[proc])
		return;

	res = (long)r.rax;
	op = new_op(proc, OP_MMAP);
	op.has_result = true;
	op.result = res;
	/* every range call takes the range first: (start, length) */
	if (range_call(th->nr) || th->nr == SYS_mmap) {
		op.addr.val = a[0];
		op.len = a[1];
	}
	switch (th->nr) {
	case SYS_mmap:
		op.prot = (int)a[2];
		op.flags = (int)a[3];
		op.off = a[5];
		if (!(op.flags & UVMA_MAP_ANONYMOUS)) {
			op.file = file_of_fd(rec, proc, th->tid, (int)a[4], -1);
			if (op.file < 0 && res < 0)
				mm_call = false;	/* a bad fd (EBADF): nothing to replay */
			else if (op.file < 0)
				op.flags |= UVMA_MAP_ANONYMOUS;	/* (the fd went meanwhile) */
		}
		if (res >= 0 && !(op.flags & (UVMA_MAP_FIXED | UVMA_MAP_FIXED_NOREPLACE))) {
			/* the kernel's placement (ASLR) is replayed as an address */
			sync_pages(rec, proc, (uint64_t)res, PAGE_ALIGN((uint64_t)res + a[1]));
			op.addr.val = (uint64_t)res;
			op.flags |= UVMA_MAP_FIXED_NOREPLACE;
		}
		break;
	case SYS_munmap:
		op.kind = OP_MUNMAP;
		break;
	case SYS_mprotect:
	case SYS_pkey_mprotect:
		op.kind = th->nr == SYS_mprotect ? OP_MPROTECT : OP_PKEY_MPROTECT;
		op.prot = (int)a[2];
		op.arg = (int)a[3];
		break;
	case SYS_madvise:
		op.kind = OP_MADVISE;
		op.arg = (int)a[2];
		break;
	case SYS_mlock:
	case SYS_munlock:
		op.kind = th->nr == SYS_mlock ? OP_MLOCK : OP_MUNLOCK;
		break;
	case SYS_mlock2:
		op.kind = OP_MLOCK2;
		op.flags = (int)a[2];
		break;
	case SYS_mseal:
		op.kind = OP_MSEAL;
		op.len2 = a[2];
		break;
	case SYS_mbind:
		op.kind = OP_MBIND;
		op.arg = (int)a[2];
		op.off = a[4];
		op.flags = (int)a[5];
		op.prot = !a[3];	/* a NULL mask */
		if (a[3]) {
			/* the first 64 nodes: the model knows no more */
			struct iovec local = { &op.len2, 8 }, remote = { (void *)(uintptr_t)a[3], 8 };

			if (process_vm_readv(th->tid, &local, 1, &remote, 1, 0) != 8)
				op.len2 = 0;
		}
		break;
	case SYS_mlockall:
		op.kind = OP_MLOCKALL;
		op.flags = (int)a[0];
		break;
	case SYS_munlockall:
		op.kind = OP_MUNLOCKALL;
		break;
	case SYS_mremap:
		op.kind = OP_MREMAP;
		op.len2 = a[2];
		op.flags = (int)a[3];
		op.addr2.val = a[4];
		if (res >= 0 && (op.flags & UVMA_MREMAP_MAYMOVE) && !(op.flags & UVMA_MREMAP_FIXED)) {
			if ((uint64_t)res == a[0]) {
				op.flags &= ~UVMA_MREMAP_MAYMOVE;	/* grown or shrunk in place */
				op.addr2.val = 0;
			} else {
				sync_pages(rec, proc, (uint64_t)res, PAGE_ALIGN((uint64_t)res + a[2]));
				op.flags |= UVMA_MREMAP_FIXED;
				op.addr2.val = (uint64_t)res;
			}
		}
		if (!(op.flags & (UVMA_MREMAP_FIXED | UVMA_MREMAP_DONTUNMAP)))
			op.addr2.val = 0;
		break;
	case SYS_brk:
		op.kind = OP_BRK;
		op.addr.val = a[0];
		break;
	case SYS_prctl:
		if (a[0] == PR_SET_MEMORY_MERGE_NR) {
			op.kind = OP_PRCTL_MEMORY_MERGE;
			op.arg = (int)a[1];
		} else {
			mm_call = false;	/* the anon-name prctl is compiled out on the host */
		}
		break;
	case SYS_close:
		mm_call = false;	/* (handled at its entry) */
		break;
	case SYS_dup:
	case SYS_dup2:
	case SYS_dup3:
		mm_call = false;
		if (res >= 0 && fd_file(&rec->procs[proc], (int)a[0]) >= 0)
			fd_put(&rec->procs[proc], (int)res, fd_file(&rec->procs[proc], (int)a[0]));
		break;
	case SYS_shmat:
	case SYS_shmdt:
	case SYS_remap_file_pages:
		/* not modelled: --verify will say what changed */
		mm_call = false;
		if (res >= 0)
			fprintf(stderr, "uvma record: %s is not modelled (line %lu)\n",
				th->nr == SYS_shmat ? "shmat" : th->nr == SYS_shmdt ? "shmdt"
								     : "remap_file_pages", rec->lines);
		break;
	default:
		mm_call = false;	/* clone, fork, exec: at their ptrace events */
	}
	if (!mm_call)
		return;
	rec->calls++;
	sync_stack(rec, proc);
	emit(rec, &op);
	/* no other call of the process is in flight (must_wait): the maps are comparable */
	if (rec->o->verify)
		verify(rec, proc, rec->procs[proc].tgid);
	if (rec->o->maps_every && ++rec->procs[proc].since_maps >= rec->o->maps_every)
		record_maps(rec, proc);
}

/* ---- the ptrace loop -------------------------------------------------------------------- */

static void open_pagemap(struct recorder *rec, int proc, pid_t tgid)
{
	char path[64];

	if (rec->procs[proc].pagemap >= 0)
		close(rec->procs[proc].pagemap);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", tgid);
	rec->procs[proc].pagemap = open(path, O_RDONLY);
	rec->procs[proc].tgid = tgid;
	rec->procs[proc].alive = true;
}

static void resume(struct thread *th, int sig)
{
	ptrace(th->in_call ? PTRACE_SYSCALL : PTRACE_CONT, th->tid, 0, sig);
}

/* fork, vfork, clone: the new task, named by the event before it runs. */
static int new_task(struct recorder *rec, struct thread *parent, pid_t tid)
{
	struct thread *child = find_thread(rec, tid);
	bool held = child && child->held;
	int proc = parent->proc;

	if (!(parent->clone_flags & 0x100)) {	/* not CLONE_VM: a new address space */
		char name[32];
		struct op op = new_op(parent->proc, OP_FORK);
		struct rproc *pp = &rec->procs[parent->proc];

		/* what the parent faulted is shared by the child: the model must know it */
		sync_stack(rec, parent->proc);
		sync_pages(rec, parent->proc, 0, 1ULL << 47);
		snprintf(name, sizeof(name), "p%d", tid);
		proc = add_proc(rec, name);
		if (proc < 0)
			return -1;
		op.arg = proc;
		emit(rec, &op);
		open_pagemap(rec, proc, tid);
		pp = &rec->procs[parent->proc];
		if (pp->nfds) {
			rec->procs[proc].fds = malloc((size_t)pp->nfds * sizeof(struct fdent));
			if (rec->procs[proc].fds) {
				memcpy(rec->procs[proc].fds, pp->fds, (size_t)pp->nfds * sizeof(struct fdent));
				rec->procs[proc].nfds = rec->procs[proc].capfds = pp->nfds;
			}
		}
	}
	if (!child) {
		child = add_thread(rec, tid, proc);
		if (!child)
			return -1;
	} else {
		child->proc = proc;
		rec->procs[proc].threads++;
	}
	child->held = false;
	if (held) {
		child->started = true;
		resume(child, 0);
	}
	return 0;
}

static int on_exec(struct recorder *rec, struct thread *th, pid_t tid)
{
	int proc = th->proc;

	if (rec->procs[proc].tgid != tid) {
		/* a vfork child ran in its parent's address space until now */
		char name[32];
		struct op op = new_op(proc, OP_SPAWN);

		snprintf(name, sizeof(name), "p%d", tid);
		rec->procs[proc].threads--;
		proc = add_proc(rec, name);
		if (proc < 0)
			return -1;
		op.arg = proc;
		emit(rec, &op);
		th->proc = proc;
		rec->procs[proc].threads = 1;
	}
	open_pagemap(rec, proc, tid);
	/* exec closed the close-on-exec files without a close call: forget every fd */
	rec->procs[proc].nfds = 0;
	return record_exec(rec, proc, tid);
}

static void thread_gone(struct recorder *rec, struct thread *th)
{
	int proc = th->proc;

	drop_thread(rec, th);
	if (proc < 0 || --rec->procs[proc].threads > 0)
		return;
	rec->procs[proc].alive = false;
	if (rec->procs[proc].pagemap >= 0)
		close(rec->procs[proc].pagemap);
	rec->procs[proc].pagemap = -1;
	if (proc && rec->m.mm[proc]) {
		struct op op = new_op(proc, OP_EXIT);

		emit(rec, &op);
	}
}

/* A call of @proc ended: the thread that waited longest for it starts its own. */
static void release_waiter(struct recorder *rec, int proc)
{
	struct thread *next = NULL;

	for (int i = 0; i < rec->nth; i++) {
		struct thread *t = &rec->th[i];

		if (t->proc == proc && t->waiting && (!next || t->wait_seq < next->wait_seq))
			next = &rec->th[i];
	}
	if (!next || must_wait(rec, next))
		return;
	next->waiting = false;
	call_entry(rec, next);
	resume(next, 0);
}

static int trace_loop(struct recorder *rec, pid_t root, int *exit_status)
{
	int status;
	pid_t tid;

	while ((tid = waitpid(-1, &status, __WALL)) > 0) {
		struct thread *th = find_thread(rec, tid);
		unsigned int event = (unsigned int)status >> 16;
		int sig;

		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (tid == root)
				*exit_status = WIFEXITED(status) ? WEXITSTATUS(status)
								 : 128 + WTERMSIG(status);
			if (th) {
				int proc = th->proc;

				thread_gone(rec, th);
				if (proc >= 0)
					release_waiter(rec, proc);	/* (killed in its call) */
			}
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		if (!th) {
			/* a new task stopped before its parent's event: wait for the event */
			th = add_thread(rec, tid, -1);
			if (!th)
				return -1;
			th->held = true;
			continue;
		}
		sig = WSTOPSIG(status);
		if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
			if (read_entry(th)) {
				resume(th, 0);
			} else if (must_wait(rec, th)) {
				th->waiting = true;	/* resumed when the call in flight ends */
				th->wait_seq = ++rec->wait_seq;
			} else {
				call_entry(rec, th);
				resume(th, 0);
			}
		} else if (sig == (SIGTRAP | 0x80)) {
			int proc = th->proc;

			if (th->in_call)
				call_exit(rec, th);
			resume(th, 0);
			release_waiter(rec, proc);
		} else if (sig == SIGTRAP && (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
					      event == PTRACE_EVENT_CLONE)) {
			unsigned long msg = 0;

			ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
			if (new_task(rec, th, (pid_t)msg))
				return -1;
			th = find_thread(rec, tid);
			resume(th, 0);
		} else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
			unsigned long former = 0;

			ptrace(PTRACE_GETEVENTMSG, tid, 0, &former);
			if ((pid_t)former != tid) {
				/* a thread exec'd: it has the leader's tid now */
				struct thread *old = find_thread(rec, (pid_t)former);

				if (old && old != th) {
					th->in_call = old->in_call;
					th->nr = old->nr;
					drop_thread(rec, old);
					th = find_thread(rec, tid);
				}
			}
			if (on_exec(rec, th, tid))
				return -1;
			resume(th, 0);
		} else if (!th->started && sig == SIGSTOP) {
			th->started = true;	/* the attach's own stop */
			resume(th, 0);
		} else {
			/* a signal for the program: delivered as it would have been */
			resume(th, sig == SIGTRAP ? 0 : sig);
		}
	}
	return 0;
}

static int ptrace_scope(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

int record_run(struct record_opts *o, char **argv, FILE *out, unsigned long *divergences,
	       int *exit_status)
{
	struct recorder *rec = calloc(1, sizeof(*rec));
	struct uvma_sys_config cfg;
	int pipefd[2], e = 0, status, ret = -1;
	pid_t child;

	if (!rec)
		return -1;
	rec->o = o;
	rec->out = out;
	rec->t = calloc(1, sizeof(*rec->t));
	for (int i = 0; i < TRACE_MAX_PROCS; i++)
		rec->procs[i].pagemap = -1;
	if (!rec->t || pipe2(pipefd, O_CLOEXEC)) {
		free(rec->t);
		free(rec);
		return -1;
	}
	rec->t->nprocs = 1;
	strcpy(rec->t->procs[0], "main");
	rec->t->carveout = 1ULL << 30;
	/*
	 * A kernel without the zero page gives a read fault a page of its own:
	 * the model does the same, the trace says so for its replays, and no
	 * PFN stands for the zero page.
	 */
	if (kexec_host_forbids_zero_page() == 1)
		rec->t->zero_page = -1;
	uvma_sys_config_default(&cfg);
	cfg.numa_nodes = kexec_host_numa_nodes();
	if (model_start(&rec->m, rec->t, 0, NULL, &cfg, rec->err, sizeof(rec->err)))
		goto out;
	rec->zero_pfn = rec->t->zero_page < 0 ? 0 : find_zero_pfn();
	fprintf(out, "uvma-trace 1\n# uvma record:");
	for (char **a = argv; *a; a++) {
		char esc[1024];

		/* one line whatever the arguments hold (newlines, '#') */
		trace_escape(esc, sizeof(esc), *a);
		fprintf(out, " %s", esc);
	}
	fprintf(out, "\n");
	if (rec->t->zero_page < 0)
		fprintf(out, "zeropage off\n");
	child = fork();
	if (child < 0)
		goto out;
	if (child == 0) {
		close(pipefd[0]);
		tracee(argv, pipefd[1]);
	}
	close(pipefd[1]);
	if (waitpid(child, &status, 0) != child || !WIFSTOPPED(status)) {
		/* PTRACE_TRACEME failed: the child says why */
		if (read(pipefd[0], &e, sizeof(e)) == sizeof(e) && !(e & 0x30000)) {
			int scope = ptrace_scope();

			fprintf(stderr, "uvma record: ptrace is not permitted here: %s", strerror(e));
			if (scope >= 1)
				fprintf(stderr, " (kernel.yama.ptrace_scope is %d%s)", scope,
					scope == 3 ? ": ptrace is disabled until reboot" : "");
			fprintf(stderr, "; in a container, CAP_SYS_PTRACE or its seccomp profile "
				"may forbid it\n");
		}
		close(pipefd[0]);
		goto out;
	}
	if (ptrace(PTRACE_SETOPTIONS, child, 0,
		   PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE |
			   PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
			   PTRACE_O_TRACESYSGOOD)) {
		fprintf(stderr, "uvma record: PTRACE_SETOPTIONS: %s\n", strerror(errno));
		kill(child, SIGKILL);
		close(pipefd[0]);
		goto out;
	}
	{
		struct thread *th = add_thread(rec, child, 0);

		if (!th)
			goto out;
		th->started = true;
		rec->procs[0].tgid = child;
		rec->procs[0].alive = true;
	}
	ptrace(PTRACE_CONT, child, 0, 0);
	*exit_status = 0;
	ret = trace_loop(rec, child, exit_status);
	/* the filter, or exec itself, failed: the child says so before exiting */
	if (read(pipefd[0], &e, sizeof(e)) == sizeof(e)) {
		if (e & 0x10000)
			fprintf(stderr, "uvma record: cannot install the seccomp filter: %s\n",
				strerror(e & 0xffff));
		else if (e & 0x20000)
			fprintf(stderr, "uvma record: %s: %s\n", argv[0], strerror(e & 0xffff));
		ret = -1;
	}
	close(pipefd[0]);
	*divergences = rec->divergences;
	fprintf(out, "# %lu calls, %lu touch lines, %d processes\n", rec->calls, rec->touches,
		rec->t->nprocs);
out:
	model_stop(&rec->m);
	for (int i = 0; i < TRACE_MAX_PROCS; i++) {
		if (rec->procs[i].pagemap >= 0)
			close(rec->procs[i].pagemap);
		free(rec->procs[i].fds);
	}
	trace_free(rec->t);
	free(rec->t);
	free(rec->th);
	free(rec);
	return ret;
}
