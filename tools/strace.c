// SPDX-License-Identifier: MIT
/*
 * The strace reader (strace.h).  A line is
 *
 *   [PID] [TIMESTAMP] BODY [<TIME>]
 *
 * where PID is "1234 " (-f -o) or "[pid 1234] " (-f on a terminal), and
 * BODY one of
 *
 *   NAME(ARGS) = RESULT              a call
 *   NAME(ARGS <unfinished ...>       its first half ...
 *   <... NAME resumed>ARGS) = RESULT ... and the rest, later, same pid
 *   +++ exited with N +++ | +++ killed by SIGX +++
 *   --- SIGX {...} --- | strace: ... | ???   (skipped)
 */
#define _GNU_SOURCE	/* strerrorname_np */
#include <ctype.h>
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "input.h"
#include "strace.h"
#include "uvma.h"

struct pending {
	int pid;
	char *text;	/* "NAME(ARGS" so far */
};

struct strace_reader {
	struct input in;
	int file_pid;
	int alias0;	/* the pid the unprefixed lines turned out to have, or 0 */
	unsigned long skipped;
	struct pending *pend;
	int npend, cappend;
	char *body;	/* the joined call being returned */
	size_t bodycap;
};


/* ---- symbols ------------------------------------------------------------------ */

struct sym {
	const char *name;
	uint64_t val;
};

#define S(x) { #x, x }
static const struct sym syms[] = {
	{ "PROT_NONE", UVMA_PROT_NONE }, { "PROT_READ", UVMA_PROT_READ },
	{ "PROT_WRITE", UVMA_PROT_WRITE }, { "PROT_EXEC", UVMA_PROT_EXEC },
	{ "PROT_SEM", 0x8 }, { "PROT_GROWSDOWN", UVMA_PROT_GROWSDOWN },
	{ "PROT_GROWSUP", UVMA_PROT_GROWSUP },
	{ "MAP_FILE", 0 }, { "MAP_SHARED", UVMA_MAP_SHARED }, { "MAP_PRIVATE", UVMA_MAP_PRIVATE },
	{ "MAP_SHARED_VALIDATE", UVMA_MAP_SHARED_VALIDATE }, { "MAP_DROPPABLE", UVMA_MAP_DROPPABLE },
	{ "MAP_FIXED", UVMA_MAP_FIXED }, { "MAP_ANONYMOUS", UVMA_MAP_ANONYMOUS },
	{ "MAP_32BIT", UVMA_MAP_32BIT }, { "MAP_GROWSDOWN", UVMA_MAP_GROWSDOWN },
	{ "MAP_DENYWRITE", UVMA_MAP_DENYWRITE }, { "MAP_EXECUTABLE", UVMA_MAP_EXECUTABLE },
	{ "MAP_LOCKED", UVMA_MAP_LOCKED }, { "MAP_NORESERVE", UVMA_MAP_NORESERVE },
	{ "MAP_POPULATE", UVMA_MAP_POPULATE }, { "MAP_NONBLOCK", UVMA_MAP_NONBLOCK },
	{ "MAP_STACK", UVMA_MAP_STACK }, { "MAP_HUGETLB", UVMA_MAP_HUGETLB },
	{ "MAP_SYNC", UVMA_MAP_SYNC }, { "MAP_FIXED_NOREPLACE", UVMA_MAP_FIXED_NOREPLACE },
	{ "MAP_UNINITIALIZED", UVMA_MAP_UNINITIALIZED },
	{ "MAP_HUGE_2MB", 21ULL << 26 }, { "MAP_HUGE_1GB", 30ULL << 26 },
	{ "MREMAP_MAYMOVE", UVMA_MREMAP_MAYMOVE }, { "MREMAP_FIXED", UVMA_MREMAP_FIXED },
	{ "MREMAP_DONTUNMAP", UVMA_MREMAP_DONTUNMAP },
	{ "MADV_NORMAL", UVMA_MADV_NORMAL }, { "MADV_RANDOM", UVMA_MADV_RANDOM },
	{ "MADV_SEQUENTIAL", UVMA_MADV_SEQUENTIAL }, { "MADV_WILLNEED", UVMA_MADV_WILLNEED },
	{ "MADV_DONTNEED", UVMA_MADV_DONTNEED }, { "MADV_FREE", UVMA_MADV_FREE },
	{ "MADV_REMOVE", UVMA_MADV_REMOVE }, { "MADV_DONTFORK", UVMA_MADV_DONTFORK },
	{ "MADV_DOFORK", UVMA_MADV_DOFORK }, { "MADV_MERGEABLE", UVMA_MADV_MERGEABLE },
	{ "MADV_UNMERGEABLE", UVMA_MADV_UNMERGEABLE }, { "MADV_HUGEPAGE", UVMA_MADV_HUGEPAGE },
	{ "MADV_NOHUGEPAGE", UVMA_MADV_NOHUGEPAGE }, { "MADV_DONTDUMP", UVMA_MADV_DONTDUMP },
	{ "MADV_DODUMP", UVMA_MADV_DODUMP }, { "MADV_WIPEONFORK", UVMA_MADV_WIPEONFORK },
	{ "MADV_KEEPONFORK", UVMA_MADV_KEEPONFORK }, { "MADV_COLD", UVMA_MADV_COLD },
	{ "MADV_PAGEOUT", UVMA_MADV_PAGEOUT }, { "MADV_POPULATE_READ", UVMA_MADV_POPULATE_READ },
	{ "MADV_POPULATE_WRITE", UVMA_MADV_POPULATE_WRITE },
	{ "MADV_DONTNEED_LOCKED", UVMA_MADV_DONTNEED_LOCKED },
	{ "MADV_COLLAPSE", UVMA_MADV_COLLAPSE }, { "MADV_GUARD_INSTALL", UVMA_MADV_GUARD_INSTALL },
	{ "MADV_GUARD_REMOVE", UVMA_MADV_GUARD_REMOVE }, { "MADV_HWPOISON", 100 },
	{ "MADV_SOFT_OFFLINE", 101 },
	{ "MCL_CURRENT", UVMA_MCL_CURRENT }, { "MCL_FUTURE", UVMA_MCL_FUTURE },
	{ "MCL_ONFAULT", UVMA_MCL_ONFAULT }, { "MLOCK_ONFAULT", UVMA_MLOCK_ONFAULT },
	{ "PR_SET_VMA", 0x53564d41 }, { "PR_SET_VMA_ANON_NAME", 0 },
	{ "PR_SET_MEMORY_MERGE", 67 }, { "PR_GET_MEMORY_MERGE", 68 },
	{ "AT_FDCWD", (uint64_t)-100 },
	{ "MPOL_DEFAULT", 0 }, { "MPOL_PREFERRED", 1 }, { "MPOL_BIND", 2 },
	{ "MPOL_INTERLEAVE", 3 }, { "MPOL_LOCAL", 4 }, { "MPOL_PREFERRED_MANY", 5 },
	{ "MPOL_WEIGHTED_INTERLEAVE", 6 }, { "MPOL_F_STATIC_NODES", 1 << 15 },
	{ "MPOL_F_RELATIVE_NODES", 1 << 14 }, { "MPOL_F_NUMA_BALANCING", 1 << 13 },
	{ "MPOL_MF_STRICT", 1 }, { "MPOL_MF_MOVE", 2 }, { "MPOL_MF_MOVE_ALL", 4 },
	S(CLONE_VM), S(CLONE_FS), S(CLONE_FILES), S(CLONE_SIGHAND), S(CLONE_PIDFD),
	S(CLONE_PTRACE), S(CLONE_VFORK), S(CLONE_PARENT), S(CLONE_THREAD), S(CLONE_NEWNS),
	S(CLONE_SYSVSEM), S(CLONE_SETTLS), S(CLONE_PARENT_SETTID), S(CLONE_CHILD_CLEARTID),
	S(CLONE_DETACHED), S(CLONE_UNTRACED), S(CLONE_CHILD_SETTID), S(CLONE_NEWCGROUP),
	S(CLONE_NEWUTS), S(CLONE_NEWIPC), S(CLONE_NEWUSER), S(CLONE_NEWPID), S(CLONE_NEWNET),
	S(CLONE_IO), { "CLONE_CLEAR_SIGHAND", 0x100000000ULL }, { "CLONE_INTO_CGROUP", 0x200000000ULL },
	S(SIGHUP), S(SIGINT), S(SIGQUIT), S(SIGILL), S(SIGTRAP), S(SIGABRT), S(SIGBUS),
	S(SIGFPE), S(SIGKILL), S(SIGUSR1), S(SIGSEGV), S(SIGUSR2), S(SIGPIPE), S(SIGALRM),
	S(SIGTERM), S(SIGSTKFLT), S(SIGCHLD), S(SIGCONT), S(SIGSTOP), S(SIGTSTP), S(SIGTTIN),
	S(SIGTTOU), S(SIGURG), S(SIGXCPU), S(SIGXFSZ), S(SIGVTALRM), S(SIGPROF), S(SIGWINCH),
	S(SIGIO), S(SIGPWR), S(SIGSYS),
	{ NULL, 0 },
};
#undef S

static bool sym_value(const char *name, size_t len, uint64_t *val)
{
	for (const struct sym *s = syms; s->name; s++)
		if (strlen(s->name) == len && !memcmp(s->name, name, len)) {
			*val = s->val;
			return true;
		}
	return false;
}

/* "ENOMEM" -> ENOMEM, from the C library's own names. */
static int errno_value(const char *name, size_t len)
{
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && strlen(n) == len && !memcmp(n, name, len))
			return e;
	}
	/* strace's names for the kernel-internal restart codes */
	if (len == 11 && !memcmp(name, "ERESTARTSYS", 11))
		return 512;
	if (len == 14 && !memcmp(name, "ERESTARTNOINTR", 14))
		return 513;
	if (len == 14 && !memcmp(name, "ERESTARTNOHAND", 14))
		return 514;
	if (len == 21 && !memcmp(name, "ERESTART_RESTARTBLOCK", 21))
		return 516;
	return 0;
}

/* ---- values ------------------------------------------------------------------- */

static bool parse_number(const char *s, const char **end, uint64_t *v)
{
	bool neg = *s == '-';
	char *e;

	if (neg)
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoull(s, &e, 0);
	if (errno)
		return false;
	if (neg)
		*v = (uint64_t)-(int64_t)*v;
	*end = e;
	return true;
}

/*
 * One argument's value: a number, NULL, symbols joined by '|' (with numbers
 * among them), -X verbose's "0x22 /\* MAP_... *\/", -y's "3</path>".
 */
static void arg_value(struct sc_arg *a)
{
	const char *s = a->text, *e;
	uint64_t v = 0, part;

	a->is_num = false;
	a->path = NULL;
	if (!strncmp(s, "NULL", 4) && (!s[4] || s[4] == ' ')) {
		a->val = 0;
		a->is_num = true;
		return;
	}
	if (s[0] == '[') {
		/* a bitmap (mbind's node mask): its first word, which is all the model knows */
		if (s[1] == ']') {
			a->val = 0;
			a->is_num = true;
		} else if (parse_number(s + 1, &e, &v) && (*e == ']' || *e == ',' || *e == ' ')) {
			a->val = v;
			a->is_num = true;
		}
		return;
	}
	if (parse_number(s, &e, &v)) {
		a->val = v;
		a->is_num = true;
		if (*e == '<') {
			/* -y: "3</usr/lib/libc.so.6>" (the path may hold anything but a newline) */
			const char *close = strrchr(e, '>');

			if (close && close > e) {
				((char *)close)[0] = 0;
				a->path = e + 1;
			}
		}
		return;
	}
	for (;;) {
		size_t n = 0;

		while (isalnum((unsigned char)s[n]) || s[n] == '_')
			n++;
		if (n && isalpha((unsigned char)s[0])) {
			if (!sym_value(s, n, &part))
				return;
		} else if (!parse_number(s, &e, &part)) {
			return;
		} else {
			n = (size_t)(e - s);
		}
		/* "1<<MAP_HUGE_SHIFT"-style shifts do not occur for these calls */
		v |= part;
		s += n;
		if (*s != '|')
			break;
		s++;
	}
	while (*s == ' ')
		s++;
	if (*s && strncmp(s, "/*", 2))
		return;
	a->val = v;
	a->is_num = true;
}

/*
 * Split "ARGS" at top-level commas (outside (), [], {}, strings and
 * comments), in place.  Returns the number of arguments, -1 if unbalanced.
 */
static int split_args(char *s, struct sc_event *ev)
{
	int depth = 0, n = 0;
	char *start = s;
	bool any = false;

	for (char *p = s;; p++) {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				return -1;
			any = true;
			continue;
		}
		if (*p == '/' && p[1] == '*') {
			char *c = strstr(p + 2, "*/");

			if (!c)
				return -1;
			p = c + 1;
			continue;
		}
		if (*p == '(' || *p == '[' || *p == '{')
			depth++;
		else if (*p == ')' || *p == ']' || *p == '}')
			depth--;
		if (depth < 0)
			return -1;
		if ((*p == ',' && !depth) || !*p) {
			bool end = !*p;
			char *t = start, *q = p;

			while (*t == ' ')
				t++;
			while (q > t && q[-1] == ' ')
				q--;
			*q = 0;
			if (*t || any || !end || n) {
				if (n == SC_MAX_ARGS)
					return n;
				ev->arg[n].text = t;
				arg_value(&ev->arg[n]);
				n++;
			}
			if (end)
				break;
			start = p + 1;
		} else if (*p != ' ') {
			any = true;
		}
	}
	return depth ? -1 : n;
}

/* The matching ')' of the '(' at s[0], or NULL. */
static char *matching_paren(char *s)
{
	int depth = 0;

	for (char *p = s; *p; p++) {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				return NULL;
			continue;
		}
		if (*p == '/' && p[1] == '*') {
			char *c = strstr(p + 2, "*/");

			if (!c)
				return NULL;
			p = c + 1;
			continue;
		}
		if (*p == '(' || *p == '[' || *p == '{')
			depth++;
		else if ((*p == ')' || *p == ']' || *p == '}') && --depth == 0)
			return *p == ')' ? p : NULL;
	}
	return NULL;
}

int strace_parse_call(char *body, struct sc_event *ev, char *err, size_t errsize)
{
	char *open = strchr(body, '('), *close, *res, *e;
	size_t nlen;
	uint64_t v;

	if (!open)
		return errorf(err, errsize, "not a system call: '%.60s'", body);
	nlen = (size_t)(open - body);
	if (!nlen || nlen >= sizeof(ev->name))
		return errorf(err, errsize, "bad system call name in '%.60s'", body);
	for (size_t i = 0; i < nlen; i++)
		if (!isalnum((unsigned char)body[i]) && body[i] != '_')
			return errorf(err, errsize, "bad system call name in '%.60s'", body);
	memcpy(ev->name, body, nlen);
	ev->name[nlen] = 0;
	close = matching_paren(open);
	if (!close)
		return errorf(err, errsize, "%s: unbalanced arguments", ev->name);
	res = close + 1;
	while (*res == ' ' || *res == '\t')
		res++;
	if (*res != '=')
		return errorf(err, errsize, "%s: no result after the arguments", ev->name);
	res++;
	while (*res == ' ')
		res++;
	ev->result_known = false;
	ev->result = 0;
	ev->result_path = NULL;
	if (*res == '?') {
		/* "= ?" (exit) and "= ? ERESTARTSYS (...)" */
	} else if (parse_number(res, (const char **)&e, &v)) {
		ev->result_known = true;
		ev->result = (long)v;
		if (*e == '<') {
			char *c = strchr(e, '>');

			if (c) {
				*c = 0;
				ev->result_path = e + 1;
				e = c + 1;
			}
		}
		while (*e == ' ')
			e++;
		if ((long)v == -1 && isupper((unsigned char)*e)) {
			size_t n = 0;
			int en;

			while (isalnum((unsigned char)e[n]))
				n++;
			en = errno_value(e, n);
			if (!en)
				return errorf(err, errsize, "%s: unknown errno '%.*s'", ev->name, (int)n, e);
			ev->result = -en;
		}
	} else {
		return errorf(err, errsize, "%s: bad result '%.30s'", ev->name, res);
	}
	*close = 0;
	ev->nargs = split_args(open + 1, ev);
	if (ev->nargs < 0)
		return errorf(err, errsize, "%s: unbalanced arguments", ev->name);
	return 0;
}

/* ---- the reader --------------------------------------------------------------- */

struct strace_reader *strace_open(const char *path, int pid, char *err, size_t errsize)
{
	struct strace_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		errorf(err, errsize, "%s: out of memory", path);
		return NULL;
	}
	if (input_open(&r->in, path, err, errsize)) {
		free(r);
		return NULL;
	}
	r->file_pid = pid;
	return r;
}

void strace_close(struct strace_reader *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->npend; i++)
		free(r->pend[i].text);
	free(r->pend);
	free(r->body);
	input_close(&r->in);
	free(r);
}

int strace_alias0(const struct strace_reader *r)
{
	return r->alias0;
}

unsigned long strace_skipped(const struct strace_reader *r)
{
	return r->skipped;
}

const struct input *strace_input(const struct strace_reader *r)
{
	return &r->in;
}

static struct pending *find_pending(struct strace_reader *r, int pid)
{
	for (int i = 0; i < r->npend; i++)
		if (r->pend[i].pid == pid)
			return &r->pend[i];
	return NULL;
}

/* Skip "PID " or "[pid PID] " and a timestamp; 0 or -1 if malformed. */
static char *strip_prefix(struct strace_reader *r, char *s, int *pid, double *ts)
{
	char *e;

	*pid = r->file_pid;
	*ts = -1;
	if (!strncmp(s, "[pid", 4)) {
		long p = strtol(s + 4, &e, 10);

		if (*e != ']' || p <= 0)
			return NULL;
		*pid = (int)p;
		s = e + 1;
		while (*s == ' ')
			s++;
	} else if (isdigit((unsigned char)*s)) {
		/* a pid is digits then a space; a timestamp has ':' or '.' */
		long p = strtol(s, &e, 10);

		if (*e == ' ' && p > 0) {
			*pid = (int)p;
			s = e;
			while (*s == ' ')
				s++;
		}
	}
	e = s;
	while (*e == ' ')
		e++;
	if (isdigit((unsigned char)*e)) {
		/* -t 12:34:56, -tt 12:34:56.123456, -ttt 1700000000.123456, -r 0.000123 */
		double h = 0, m = 0, sec;

		s = e;
		sec = strtod(s, &e);
		if (*e == ':') {
			h = sec;
			m = strtod(e + 1, &e);
			if (*e != ':')
				return NULL;
			sec = strtod(e + 1, &e);
		}
		if (*e != ' ')
			return NULL;
		*ts = h * 3600 + m * 60 + sec;
		s = e;
		while (*s == ' ')
			s++;
	}
	return s;
}

/* Drop -T's " <0.000123>" at the end of a finished call. */
static void strip_time(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
		s[--n] = 0;
	if (n && s[n - 1] == '>') {
		char *lt = strrchr(s, '<');

		if (lt && lt > s && lt[-1] == ' ' && isdigit((unsigned char)lt[1]) &&
		    strspn(lt + 1, "0123456789.") == (size_t)(s + n - 1 - (lt + 1))) {
			*lt = 0;
			n = (size_t)(lt - s);
			while (n && s[n - 1] == ' ')
				s[--n] = 0;
		}
	}
}

static int set_body(struct strace_reader *r, const char *a, const char *b, char *err, size_t errsize)
{
	size_t la = strlen(a), lb = b ? strlen(b) : 0;

	if (la + lb + 1 > r->bodycap) {
		char *nb = realloc(r->body, la + lb + 1);

		if (!nb)
			return errorf(err, errsize, "%s: out of memory", r->in.path);
		r->body = nb;
		r->bodycap = la + lb + 1;
	}
	memcpy(r->body, a, la);
	if (lb)
		memcpy(r->body + la, b, lb);
	r->body[la + lb] = 0;
	return 0;
}

int strace_next(struct strace_reader *r, struct sc_event *ev, char *err, size_t errsize)
{
	char *line, *s;
	size_t len;
	int got;

	while ((got = input_line(&r->in, &line, &len, err, errsize)) > 0) {
		char msg[256];
		int pid;
		double ts;

		memset(ev, 0, sizeof(*ev));
		ev->file = r->in.path;
		ev->line = r->in.lineno;
		s = strip_prefix(r, line, &pid, &ts);
		if (!s)
			return errorf(err, errsize, "%s:%lu: bad pid or timestamp in '%.60s'", r->in.path,
				    r->in.lineno, line);
		if (!pid && r->alias0)
			pid = r->alias0;
		ev->pid = pid;
		ev->ts = ts;
		if (!*s || !strncmp(s, "--- ", 4) || !strncmp(s, "strace: ", 8) ||
		    !strncmp(s, "???", 3) || !strncmp(s, "+++ superseded", 14)) {
			r->skipped++;
			continue;
		}
		if (!strncmp(s, "+++ ", 4)) {
			if (sscanf(s, "+++ exited with %d +++", &ev->status) == 1) {
				ev->kind = SC_EXITED;
			} else if (!strncmp(s, "+++ killed by ", 14)) {
				ev->kind = SC_KILLED;
			} else {
				return errorf(err, errsize, "%s:%lu: unknown process event '%.60s'",
					    r->in.path, r->in.lineno, s);
			}
			return 1;
		}
		if (!strncmp(s, "<... ", 5)) {
			/* "<... NAME resumed>REST": the pid's unfinished call goes on */
			struct pending *p = find_pending(r, pid);
			char *gt = strstr(s, " resumed>");

			if (!gt)
				return errorf(err, errsize, "%s:%lu: bad resumed line '%.60s'", r->in.path,
					    r->in.lineno, s);
			if (!p && pid && !r->alias0 && (p = find_pending(r, 0))) {
				/*
				 * strace -f on a terminal prints the first process's
				 * lines bare until a second appears: its call resumes
				 * under "[pid N]", which names it from now on.
				 */
				r->alias0 = pid;
			}
			if (!p) {
				/* the first half came before the trace began (strace -p): skip */
				r->skipped++;
				continue;
			}
			strip_time(gt);
			if (strstr(gt, " <unfinished ...>")) {
				/* resumed and cut again */
				char *u = strstr(gt, " <unfinished ...>");
				char *joined;

				*u = 0;
				joined = malloc(strlen(p->text) + strlen(gt + 9) + 1);
				if (!joined)
					return errorf(err, errsize, "%s: out of memory", r->in.path);
				strcpy(joined, p->text);
				strcat(joined, gt + 9);
				free(p->text);
				p->text = joined;
				continue;
			}
			if (set_body(r, p->text, gt + 9, err, errsize))
				return -1;
			free(p->text);
			*p = r->pend[--r->npend];
		} else {
			char *u = strstr(s, " <unfinished ...>");

			if (u) {
				struct pending *p = find_pending(r, pid);

				*u = 0;
				if (p) {
					/* a call never resumed (the process died in it): replaced */
					free(p->text);
				} else {
					if (array_grow(&r->pend, r->npend, &r->cappend, sizeof(*r->pend)))
						return errorf(err, errsize, "%s: out of memory",
							      r->in.path);
					p = &r->pend[r->npend++];
					p->pid = pid;
				}
				p->text = strdup(s);
				if (!p->text)
					return errorf(err, errsize, "%s: out of memory", r->in.path);
				continue;
			}
			strip_time(s);
			if (set_body(r, s, NULL, err, errsize))
				return -1;
		}
		ev->kind = SC_CALL;
		if (strace_parse_call(r->body, ev, msg, sizeof(msg)))
			return errorf(err, errsize, "%s:%lu: %s", r->in.path, r->in.lineno, msg);
		return 1;
	}
	return got;
}

bool strace_sniff(const char *path)
{
	char err[256], *line;
	struct input in;
	size_t len;
	bool yes = false;

	if (input_open(&in, path, err, sizeof(err)))
		return false;
	if (input_line(&in, &line, &len, err, sizeof(err)) > 0)
		yes = strncmp(line, "uvma-trace", 10) != 0;
	input_close(&in);
	return yes;
}
