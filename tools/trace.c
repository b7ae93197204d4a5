// SPDX-License-Identifier: MIT
/*
 * The .utrace reader.  Every malformed line is an error naming the file and
 * line; a trace is accepted whole or not at all.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "trace.h"
#include "uvma.h"

struct name_val {
	const char *name;
	int val;
};

static const struct name_val mmap_flags[] = {
	{ "shared", UVMA_MAP_SHARED },
	{ "private", UVMA_MAP_PRIVATE },
	{ "shared_validate", UVMA_MAP_SHARED_VALIDATE },
	{ "droppable", UVMA_MAP_DROPPABLE },
	{ "fixed", UVMA_MAP_FIXED },
	{ "anonymous", UVMA_MAP_ANONYMOUS },
	{ "32bit", UVMA_MAP_32BIT },
	{ "growsdown", UVMA_MAP_GROWSDOWN },
	{ "denywrite", UVMA_MAP_DENYWRITE },
	{ "executable", UVMA_MAP_EXECUTABLE },
	{ "locked", UVMA_MAP_LOCKED },
	{ "noreserve", UVMA_MAP_NORESERVE },
	{ "populate", UVMA_MAP_POPULATE },
	{ "nonblock", UVMA_MAP_NONBLOCK },
	{ "stack", UVMA_MAP_STACK },
	{ "hugetlb", UVMA_MAP_HUGETLB },
	{ "sync", UVMA_MAP_SYNC },
	{ "fixed_noreplace", UVMA_MAP_FIXED_NOREPLACE },
	{ "uninitialized", UVMA_MAP_UNINITIALIZED },
	{ NULL, 0 },
};

static const struct name_val mremap_flags[] = {
	{ "maymove", UVMA_MREMAP_MAYMOVE },
	{ "fixed", UVMA_MREMAP_FIXED },
	{ "dontunmap", UVMA_MREMAP_DONTUNMAP },
	{ "relocate_anon", UVMA_MREMAP_RELOCATE_ANON },
	{ "must_relocate_anon", UVMA_MREMAP_MUST_RELOCATE_ANON },
	{ NULL, 0 },
};

static const struct name_val advices[] = {
	{ "normal", UVMA_MADV_NORMAL },
	{ "random", UVMA_MADV_RANDOM },
	{ "sequential", UVMA_MADV_SEQUENTIAL },
	{ "willneed", UVMA_MADV_WILLNEED },
	{ "dontneed", UVMA_MADV_DONTNEED },
	{ "free", UVMA_MADV_FREE },
	{ "remove", UVMA_MADV_REMOVE },
	{ "dontfork", UVMA_MADV_DONTFORK },
	{ "dofork", UVMA_MADV_DOFORK },
	{ "mergeable", UVMA_MADV_MERGEABLE },
	{ "unmergeable", UVMA_MADV_UNMERGEABLE },
	{ "hugepage", UVMA_MADV_HUGEPAGE },
	{ "nohugepage", UVMA_MADV_NOHUGEPAGE },
	{ "dontdump", UVMA_MADV_DONTDUMP },
	{ "dodump", UVMA_MADV_DODUMP },
	{ "wipeonfork", UVMA_MADV_WIPEONFORK },
	{ "keeponfork", UVMA_MADV_KEEPONFORK },
	{ "cold", UVMA_MADV_COLD },
	{ "pageout", UVMA_MADV_PAGEOUT },
	{ "populate_read", UVMA_MADV_POPULATE_READ },
	{ "populate_write", UVMA_MADV_POPULATE_WRITE },
	{ "dontneed_locked", UVMA_MADV_DONTNEED_LOCKED },
	{ "collapse", UVMA_MADV_COLLAPSE },
	{ "guard_install", UVMA_MADV_GUARD_INSTALL },
	{ "guard_remove", UVMA_MADV_GUARD_REMOVE },
	{ NULL, 0 },
};

static const struct name_val mlock2_flags[] = {
	{ "onfault", UVMA_MLOCK_ONFAULT },
	{ NULL, 0 },
};

static const struct name_val mpol_modes[] = {
	{ "default", UVMA_MPOL_DEFAULT },
	{ "preferred", UVMA_MPOL_PREFERRED },
	{ "bind", UVMA_MPOL_BIND },
	{ "interleave", UVMA_MPOL_INTERLEAVE },
	{ "local", UVMA_MPOL_LOCAL },
	{ "preferred_many", UVMA_MPOL_PREFERRED_MANY },
	{ "weighted_interleave", UVMA_MPOL_WEIGHTED_INTERLEAVE },
	{ "static_nodes", UVMA_MPOL_F_STATIC_NODES },
	{ "relative_nodes", UVMA_MPOL_F_RELATIVE_NODES },
	{ "numa_balancing", UVMA_MPOL_F_NUMA_BALANCING },
	{ NULL, 0 },
};

static const struct name_val mbind_flags[] = {
	{ "strict", UVMA_MPOL_MF_STRICT },
	{ "move", UVMA_MPOL_MF_MOVE },
	{ "move_all", UVMA_MPOL_MF_MOVE_ALL },
	{ NULL, 0 },
};

static const struct name_val mlockall_flags[] = {
	{ "current", UVMA_MCL_CURRENT },
	{ "future", UVMA_MCL_FUTURE },
	{ "onfault", UVMA_MCL_ONFAULT },
	{ NULL, 0 },
};

static const char *const policies[] = { "linux", "matena", "relocate", "auto", "ideal" };

static const char *const kind_names[OP_NKINDS] = {
	[OP_CARVEOUT] = "carveout",	  [OP_THP] = "thp",	  [OP_FILE] = "file",
	[OP_ZEROPAGE] = "zeropage",
	[OP_MMAP] = "mmap",		  [OP_MUNMAP] = "munmap",
	[OP_MPROTECT] = "mprotect",	  [OP_PKEY_MPROTECT] = "pkey_mprotect",
	[OP_MADVISE] = "madvise",	  [OP_MLOCK] = "mlock",
	[OP_MLOCK2] = "mlock2",		  [OP_MUNLOCK] = "munlock",
	[OP_MLOCKALL] = "mlockall",	  [OP_MUNLOCKALL] = "munlockall",
	[OP_MREMAP] = "mremap",		  [OP_BRK] = "brk",
	[OP_MSEAL] = "mseal",		  [OP_MBIND] = "mbind",
	[OP_TOUCH] = "touch",		  [OP_FORK] = "fork",
	[OP_EXIT] = "exit",		  [OP_PRCTL_MEMORY_MERGE] = "prctl",
	[OP_PRCTL_ANON_NAME] = "prctl",	  [OP_EXPECT_VMAS] = "expect",
	[OP_EXPECT_VMA] = "expect",
	[OP_FILL] = "fill_to_limit",	  [OP_SWAP] = "swap",
	[OP_KSM_SCAN] = "ksm_scan",	  [OP_PIN] = "pin",
	[OP_UNPIN] = "unpin",		  [OP_MIGRATE] = "migrate",
	[OP_MIGRATE_FINISH] = "migrate_finish",
	[OP_EXEC] = "exec",		  [OP_VMA] = "vma",
	[OP_SPAWN] = "spawn",		  [OP_MAPS] = "maps",
};

static const char *const vma_specials[] = { "none", "vdso", "vvar", "vvar_vclock", "stack", "heap" };

const char *op_name(enum op_kind k)
{
	return kind_names[k];
}

const char *policy_name(int bit)
{
	return bit >= 0 && (size_t)bit < sizeof(policies) / sizeof(policies[0]) ? policies[bit] : "?";
}

int policy_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (!strcmp(policies[i], name))
			return (int)i;
	return -1;
}

struct parser {
	const char *path;
	int line;
	char *err;
	size_t errsize;
	struct trace *t;
};

static int perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errsize, "%s:%d: ", p->path, p->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errsize)
		vsnprintf(p->err + n, p->errsize - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The first @n characters of @s as an unsigned number: decimal, hex with 0x,
 * or octal with a leading 0 (strtoull's base 0, without its sign, blanks
 * and locale: this runs for every number of a long trace).  -1 on anything
 * else, or on overflow.
 */
static int parse_u64n(const char *s, size_t n, uint64_t *v)
{
	unsigned int base = 10, safe = 19;	/* digits that cannot overflow */
	uint64_t x = 0;
	size_t i = 0;

	if (!n)
		return -1;
	if (s[0] == '0' && n > 1) {
		if (s[1] == 'x' || s[1] == 'X') {
			base = 16;
			safe = 16;
			i = 2;
			if (n == 2)
				return -1;
		} else {
			base = 8;
			safe = 21;
			i = 1;
		}
	}
	for (size_t first = i; i < n; i++) {
		unsigned int c = (unsigned char)s[i], d = c - '0';

		if (d > 9) {
			/* a to f, either case; anything else is no digit */
			d = (c | 0x20) - 'a';
			d = d < 6 ? d + 10 : 99;
		}
		if (d >= base)
			return -1;
		if (i - first >= safe && x > (UINT64_MAX - d) / base)
			return -1;
		x = x * base + d;
	}
	*v = x;
	return 0;
}

/* An unsigned number: decimal, or hex with 0x; nothing may follow. */
static int parse_u64(const char *s, uint64_t *v)
{
	return parse_u64n(s, strlen(s), v);
}

/* A size: bytes, hex, or pages with a "p" suffix. */
static int parse_size(struct parser *p, const char *s, uint64_t *v, const char *what)
{
	size_t n = strlen(s);

	if (n && s[n - 1] == 'p') {
		if (parse_u64n(s, n - 1, v) || *v > (UINT64_MAX >> 12))
			return perr(p, "bad %s '%s'", what, s);
		*v <<= 12;
		return 0;
	}
	if (parse_u64n(s, n, v))
		return perr(p, "bad %s '%s' (bytes, 0x hex, or pages as Np)", what, s);
	return 0;
}

/* "always=16k,64k" or "madvise=2m": anonymous THP sizes, 16 KiB to 2 MiB. */
static int parse_thp(struct parser *p, const char *s, struct trace *t)
{
	uint32_t *mask;
	const char *v = strchr(s, '=');
	char buf[128], *tok, *save;

	if (!v || (size_t)(v - s) >= sizeof(buf) || strlen(v + 1) >= sizeof(buf))
		return perr(p, "bad thp setting '%s' (always=SIZES or madvise=SIZES)", s);
	if (!strncmp(s, "always=", 7))
		mask = &t->thp_always;
	else if (!strncmp(s, "madvise=", 8))
		mask = &t->thp_madvise;
	else
		return perr(p, "bad thp setting '%s' (always=SIZES or madvise=SIZES)", s);
	strcpy(buf, v + 1);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int order;

		for (order = 2; order <= 9; order++) {
			char name[16];

			snprintf(name, sizeof(name), "%dk", 4 << order);
			if (!strcmp(tok, name) || (order == 9 && !strcmp(tok, "2m")))
				break;
		}
		if (order > 9)
			return perr(p, "bad THP size '%s' (16k, 32k, ..., 1024k or 2m)", tok);
		if ((t->thp_always | t->thp_madvise) & (1U << order))
			return perr(p, "THP size '%s' given twice", tok);
		*mask |= 1U << order;
	}
	return 0;
}

static int parse_addr(struct parser *p, const char *s, struct taddr *a)
{
	a->rel = false;
	if (!strcmp(s, "-")) {
		a->val = 0;
		return 0;
	}
	if (s[0] == '@') {
		a->rel = true;
		return parse_size(p, s + 1, &a->val, "address offset");
	}
	if (parse_u64(s, &a->val))
		return perr(p, "bad address '%s' (hex, @offset or -)", s);
	return 0;
}

static int parse_prot(struct parser *p, const char *s, int *prot)
{
	uint64_t v;

	*prot = 0;
	if (!strcmp(s, "none") || !strcmp(s, "0"))
		return 0;
	/* a number passes any bits, for the argument checks */
	if (s[0] >= '0' && s[0] <= '9') {
		if (parse_u64(s, &v) || v > 0x7fffffff)
			return perr(p, "bad protection '%s'", s);
		*prot = (int)v;
		return 0;
	}
	for (const char *c = s; *c; c++) {
		int bit = *c == 'r' ? UVMA_PROT_READ : *c == 'w' ? UVMA_PROT_WRITE :
			  *c == 'x' ? UVMA_PROT_EXEC : 0;

		if (!bit || (*prot & bit))
			return perr(p, "bad protection '%s' (none, or letters of rwx)", s);
		*prot |= bit;
	}
	return 0;
}

/*
 * A number where a name list may stand: decimal, hex with 0x, or a negative
 * decimal (an advice of -1 is a valid call that the kernel refuses), as the
 * int the system call takes.
 */
static int parse_int_bits(const char *s, int *out)
{
	uint64_t num;

	if (s[0] == '-') {
		if (parse_u64(s + 1, &num) || num > 0x80000000ULL)
			return -1;
		*out = (int)(-(int64_t)num);
		return 0;
	}
	if (parse_u64(s, &num) || num > 0xffffffffULL)
		return -1;
	*out = (int)(uint32_t)num;
	return 0;
}

/*
 * NAME{,NAME} from @table, where any item may also be a number (bits the
 * table has no name for, as a recorder writes them).
 */
static int parse_flags(struct parser *p, const char *s, const struct name_val *table, int *out,
		       const char *what)
{
	char buf[256], *save = NULL, *tok;
	int items = 0;

	*out = 0;
	if (strlen(s) >= sizeof(buf))
		return perr(p, "%s too long", what);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), items++) {
		const struct name_val *nv;
		int bits;

		if ((tok[0] >= '0' && tok[0] <= '9') || tok[0] == '-') {
			if (parse_int_bits(tok, &bits))
				return perr(p, "bad %s '%s'", what, tok);
			*out |= bits;
			continue;
		}
		for (nv = table; nv->name; nv++)
			if (!strcmp(nv->name, tok))
				break;
		if (!nv->name)
			return perr(p, "unknown %s '%s'", what, tok);
		*out |= nv->val;
	}
	if (!items)
		return perr(p, "bad %s '%s'", what, s);
	return 0;
}

static int find_name(char names[][TRACE_NAME_MAX], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

/* "%XX" escapes (space, '#', '%' and the unprintable), as trace_escape() writes them. */
static char *unescape(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		if (*s == '%') {
			unsigned int v;

			if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]) ||
			    sscanf(s + 1, "%2x", &v) != 1 || !v) {
				free(out);
				return NULL;
			}
			*o++ = (char)v;
			s += 3;
		} else {
			*o++ = *s++;
		}
	}
	*o = 0;
	return out;
}

void trace_escape(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s && n + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == '#' || c == '%' || c >= 0x7f)
			n += (size_t)snprintf(out + n, size - n, "%%%02X", c);
		else
			out[n++] = (char)c;
	}
	out[n] = 0;
}

static int valid_name(const char *s)
{
	if (!*s || strlen(s) >= TRACE_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

static int parse_result(struct parser *p, const char *s, struct op *op)
{
	uint64_t v;

	op->has_result = true;
	if (s[0] == '-' && s[1] == 'E') {
		int e = uvma_errno_from_name(s + 1);

		if (!e)
			return perr(p, "unknown errno '%s'", s + 1);
		op->result = -e;
		return 0;
	}
	if (s[0] == '@') {
		if (parse_size(p, s + 1, &v, "result offset"))
			return -1;
		op->result_rel = true;
		op->result = (long)v;
		return 0;
	}
	if (s[0] == '-') {
		if (parse_u64(s + 1, &v) || v > 4095)
			return perr(p, "bad result '%s'", s);
		op->result = -(long)v;
		return 0;
	}
	if (parse_u64(s, &v))
		return perr(p, "bad result '%s' (hex, @offset, 0 or -ERRNO)", s);
	op->result = (long)v;
	return 0;
}

static int need(struct parser *p, int argc, int want, const char *usage)
{
	if (argc != want)
		return perr(p, "expected '%s'", usage);
	return 0;
}

static struct op *new_op(struct parser *p)
{
	struct trace *t = p->t;

	if (array_grow(&t->ops, t->nops, &t->cap, sizeof(*t->ops)))
		return NULL;
	memset(&t->ops[t->nops], 0, sizeof(t->ops[0]));
	t->ops[t->nops].file = -1;
	t->ops[t->nops].line = p->line;
	return &t->ops[t->nops++];
}

/*
 * "carveout SIZE" and "swap SIZE": a size of the machine, in whole pages up
 * to 1 TiB, given once (@seen: it was given before).
 */
static int machine_size(struct parser *p, int argc, char **argv, struct op *op, const char *what,
			uint64_t seen)
{
	char usage[32];

	snprintf(usage, sizeof(usage), "%s SIZE", argv[0]);
	if (need(p, argc, 2, usage) || parse_size(p, argv[1], &op->len, "size"))
		return -1;
	if (!op->len || (op->len & 0xfff) || op->len > (1ULL << 40))
		return perr(p, "%s size must be whole pages, at most 1 TiB", what);
	if (seen)
		return perr(p, "a second %s line", argv[0]);
	return 0;
}

/*
 * The command word is @name?  The first two characters decide most
 * comparisons without a call: a long trace is one command per line.
 */
static inline bool cmd_is(const char *cmd, const char *name)
{
	return cmd[0] == name[0] && cmd[1] == name[1] && !strcmp(cmd, name);
}

static int parse_line(struct parser *p, char *line)
{
	struct trace *t = p->t;
	char *argv[16];
	int argc = 0, proc = 0;
	char *tok, *cmd;
	struct op *op;
	unsigned int pol = 0;

	/* words split at blanks, in place */
	static const bool blank[256] = { [' '] = true, ['\t'] = true, ['\r'] = true };
	static const bool stop[256] = { [0] = true, [' '] = true, ['\t'] = true, ['\r'] = true };

	for (char *c = line;;) {
		while (blank[(unsigned char)*c])
			c++;
		if (!*c)
			break;
		if (argc == 16)
			return perr(p, "too many words");
		argv[argc++] = c;
		while (!stop[(unsigned char)*c])
			c++;
		if (!*c)
			break;
		*c++ = 0;
	}
	if (!argc)
		return 0;
	/* "[name]" runs the line in a forked process */
	if (argv[0][0] == '[') {
		size_t n = strlen(argv[0]);

		if (n < 3 || argv[0][n - 1] != ']')
			return perr(p, "bad process prefix '%s'", argv[0]);
		argv[0][n - 1] = 0;
		proc = find_name(t->procs, t->nprocs, argv[0] + 1);
		if (proc < 0)
			return perr(p, "no process '%s' (create it with fork)", argv[0] + 1);
		memmove(argv, argv + 1, (size_t)--argc * sizeof(argv[0]));
		if (!argc)
			return perr(p, "a process prefix without an operation");
	}
	cmd = argv[0];
	if (!strncmp(cmd, "expect[", 7)) {
		char *names = cmd + 7, *end = strchr(names, ']'), *s2 = NULL;

		if (!end || end[1])
			return perr(p, "bad expect[...] policy list");
		*end = 0;
		for (tok = strtok_r(names, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2)) {
			int b = policy_bit(tok);

			if (b < 0)
				return perr(p, "unknown policy '%s'", tok);
			pol |= 1u << b;
		}
		if (!pol)
			return perr(p, "empty policy list");
		cmd = "expect";
	}
	/* "= RESULT" at the end */
	{
		int eq = -1;

		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "="))
				eq = i;
		op = new_op(p);
		if (!op)
			return perr(p, "out of memory");
		op->proc = proc;
		op->policies = pol;
		if (eq >= 0) {
			if (eq != argc - 2)
				return perr(p, "'=' must be followed by exactly one result");
			if (parse_result(p, argv[argc - 1], op))
				return -1;
			argc = eq;
		}
	}
	if (cmd_is(cmd, "carveout")) {
		op->kind = OP_CARVEOUT;
		if (machine_size(p, argc, argv, op, "carve-out", t->carveout))
			return -1;
		t->carveout = op->len;
	} else if (cmd_is(cmd, "thp")) {
		op->kind = OP_THP;
		if (argc < 2)
			return perr(p, "usage: thp always=SIZES madvise=SIZES (e.g. always=16k,64k madvise=2m)");
		if (t->has_thp)
			return perr(p, "a second thp line");
		for (int i = 1; i < argc; i++)
			if (parse_thp(p, argv[i], t))
				return -1;
		t->has_thp = 1;
	} else if (cmd_is(cmd, "zeropage")) {
		op->kind = OP_ZEROPAGE;
		if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
			return perr(p, "usage: zeropage on|off");
		if (t->zero_page)
			return perr(p, "a second zeropage line");
		t->zero_page = strcmp(argv[1], "on") ? -1 : 1;
	} else if (cmd_is(cmd, "file")) {
		op->kind = OP_FILE;
		if (argc < 3 || argc > 5 || parse_size(p, argv[2], &op->len, "size"))
			return argc < 3 || argc > 5
				       ? perr(p, "expected 'file NAME SIZE [path=PATH] [mode=r|w|rw]'")
				       : -1;
		if (!valid_name(argv[1]))
			return perr(p, "bad file name '%s'", argv[1]);
		if (find_name(t->files, t->nfiles, argv[1]) >= 0)
			return perr(p, "file '%s' exists already", argv[1]);
		if (t->nfiles == TRACE_MAX_FILES)
			return perr(p, "too many files");
		t->file_mode[t->nfiles] = 3;
		for (int i = 3; i < argc; i++) {
			bool memfd = !strncmp(argv[i], "memfd=", 6);

			if ((memfd || !strncmp(argv[i], "path=", 5)) && argv[i][memfd ? 6 : 5] &&
			    !t->file_path[t->nfiles]) {
				/* path=: a regular file; memfd=: a memfd of that name (shmem) */
				t->file_path[t->nfiles] = unescape(argv[i] + (memfd ? 6 : 5));
				if (!t->file_path[t->nfiles])
					return perr(p, "bad path '%s' (%%XX escapes)",
						    argv[i] + (memfd ? 6 : 5));
				if (memfd)
					t->file_mode[t->nfiles] |= FILE_MEMFD;
			} else if (!strcmp(argv[i], "mode=r") || !strcmp(argv[i], "mode=w") ||
				   !strcmp(argv[i], "mode=rw")) {
				t->file_mode[t->nfiles] = (t->file_mode[t->nfiles] & FILE_MEMFD) |
							  (argv[i][5] == 'w' ? 2 : argv[i][6] == 'w' ? 3 : 1);
			} else {
				free(t->file_path[t->nfiles]);
				t->file_path[t->nfiles] = NULL;
				return perr(p, "bad file attribute '%s' (path=PATH, memfd=NAME or "
					    "mode=r|w|rw)", argv[i]);
			}
		}
		strcpy(t->files[t->nfiles], argv[1]);
		t->file_size[t->nfiles] = op->len;
		op->file = t->nfiles++;
		/* a regular file of the host: only the model has it */
		if (t->file_path[op->file] && !t->model_only)
			t->model_only = p->line;
	} else if (cmd_is(cmd, "mmap")) {
		op->kind = OP_MMAP;
		if (argc < 5 || argc > 7)
			return perr(p, "expected 'mmap ADDR LEN PROT FLAGS [fd=NAME] [off=OFFSET]'");
		if (parse_addr(p, argv[1], &op->addr) || parse_size(p, argv[2], &op->len, "length") ||
		    parse_prot(p, argv[3], &op->prot) ||
		    parse_flags(p, argv[4], mmap_flags, &op->flags, "mmap flag"))
			return -1;
		for (int i = 5; i < argc; i++) {
			if (!strncmp(argv[i], "fd=", 3)) {
				op->file = find_name(t->files, t->nfiles, argv[i] + 3);
				if (op->file < 0)
					return perr(p, "no file '%s'", argv[i] + 3);
			} else if (!strncmp(argv[i], "off=", 4)) {
				if (parse_size(p, argv[i] + 4, &op->off, "offset"))
					return -1;
			} else {
				return perr(p, "unexpected '%s' (fd=NAME or off=OFFSET)", argv[i]);
			}
		}
	} else if (cmd_is(cmd, "munmap") || cmd_is(cmd, "mlock") || cmd_is(cmd, "munlock")) {
		op->kind = cmd_is(cmd, "munmap") ? OP_MUNMAP : cmd_is(cmd, "mlock") ? OP_MLOCK : OP_MUNLOCK;
		if (need(p, argc, 3, "munmap|mlock|munlock ADDR LEN") ||
		    parse_addr(p, argv[1], &op->addr) || parse_size(p, argv[2], &op->len, "length"))
			return -1;
	} else if (cmd_is(cmd, "mprotect")) {
		op->kind = OP_MPROTECT;
		if (need(p, argc, 4, "mprotect ADDR LEN PROT") || parse_addr(p, argv[1], &op->addr) ||
		    parse_size(p, argv[2], &op->len, "length") || parse_prot(p, argv[3], &op->prot))
			return -1;
	} else if (cmd_is(cmd, "pkey_mprotect")) {
		uint64_t k;

		op->kind = OP_PKEY_MPROTECT;
		if (need(p, argc, 5, "pkey_mprotect ADDR LEN PROT PKEY") ||
		    parse_addr(p, argv[1], &op->addr) || parse_size(p, argv[2], &op->len, "length") ||
		    parse_prot(p, argv[3], &op->prot))
			return -1;
		if (!strcmp(argv[4], "-1"))
			op->arg = -1;
		else if (parse_u64(argv[4], &k) || k > 1024)
			return perr(p, "bad pkey '%s'", argv[4]);
		else
			op->arg = (int)k;
	} else if (cmd_is(cmd, "madvise")) {
		op->kind = OP_MADVISE;
		if (need(p, argc, 4, "madvise ADDR LEN ADVICE") || parse_addr(p, argv[1], &op->addr) ||
		    parse_size(p, argv[2], &op->len, "length") ||
		    parse_flags(p, argv[3], advices, &op->arg, "advice"))
			return -1;
	} else if (cmd_is(cmd, "mseal")) {
		op->kind = OP_MSEAL;
		if ((argc != 3 && argc != 4) || parse_addr(p, argv[1], &op->addr) ||
		    parse_size(p, argv[2], &op->len, "length") ||
		    (argc == 4 && parse_u64(argv[3], &op->len2)))
			return perr(p, "expected 'mseal ADDR LEN [FLAGS]'");
	} else if (cmd_is(cmd, "mbind")) {
		op->kind = OP_MBIND;
		if (argc != 7 || parse_addr(p, argv[1], &op->addr) ||
		    parse_size(p, argv[2], &op->len, "length"))
			return perr(p, "expected 'mbind ADDR LEN MODE NODES|- MAXNODE FLAGS'");
		if (parse_flags(p, argv[3], mpol_modes, &op->arg, "mbind mode") ||
		    parse_flags(p, argv[6], mbind_flags, &op->flags, "mbind flag"))
			return -1;
		op->prot = !strcmp(argv[4], "-");
		if ((!op->prot && parse_u64(argv[4], &op->len2)) || parse_u64(argv[5], &op->off))
			return perr(p, "expected 'mbind ADDR LEN MODE NODES|- MAXNODE FLAGS'");
	} else if (cmd_is(cmd, "mlock2")) {
		op->kind = OP_MLOCK2;
		if (need(p, argc, 4, "mlock2 ADDR LEN FLAGS") || parse_addr(p, argv[1], &op->addr) ||
		    parse_size(p, argv[2], &op->len, "length") ||
		    parse_flags(p, argv[3], mlock2_flags, &op->flags, "mlock2 flag"))
			return -1;
	} else if (cmd_is(cmd, "mlockall")) {
		op->kind = OP_MLOCKALL;
		if (need(p, argc, 2, "mlockall FLAGS") ||
		    parse_flags(p, argv[1], mlockall_flags, &op->flags, "mlockall flag"))
			return -1;
	} else if (cmd_is(cmd, "munlockall")) {
		op->kind = OP_MUNLOCKALL;
		if (need(p, argc, 1, "munlockall"))
			return -1;
	} else if (cmd_is(cmd, "mremap")) {
		op->kind = OP_MREMAP;
		if (argc != 5 && argc != 6)
			return perr(p, "expected 'mremap ADDR OLD_LEN NEW_LEN FLAGS [NEW_ADDR]'");
		if (parse_addr(p, argv[1], &op->addr) || parse_size(p, argv[2], &op->len, "length") ||
		    parse_size(p, argv[3], &op->len2, "length") ||
		    parse_flags(p, argv[4], mremap_flags, &op->flags, "mremap flag"))
			return -1;
		if (argc == 6 && parse_addr(p, argv[5], &op->addr2))
			return -1;
	} else if (cmd_is(cmd, "brk")) {
		op->kind = OP_BRK;
		if (need(p, argc, 2, "brk ADDR") || parse_addr(p, argv[1], &op->addr))
			return -1;
	} else if (cmd_is(cmd, "touch")) {
		op->kind = OP_TOUCH;
		if (need(p, argc, 4, "touch ADDR LEN r|w") || parse_addr(p, argv[1], &op->addr) ||
		    parse_size(p, argv[2], &op->len, "length"))
			return -1;
		if (strcmp(argv[3], "r") && strcmp(argv[3], "w"))
			return perr(p, "touch takes r or w, not '%s'", argv[3]);
		op->arg = argv[3][0] == 'w';
	} else if (cmd_is(cmd, "fork") || cmd_is(cmd, "spawn")) {
		/* a new process: a copy (fork), or an empty address space (spawn) */
		op->kind = cmd[0] == 'f' ? OP_FORK : OP_SPAWN;
		if (need(p, argc, 2, op->kind == OP_FORK ? "fork NAME" : "spawn NAME"))
			return -1;
		if (!valid_name(argv[1]))
			return perr(p, "bad process name '%s'", argv[1]);
		if (find_name(t->procs, t->nprocs, argv[1]) >= 0)
			return perr(p, "process '%s' exists already", argv[1]);
		if (t->nprocs == TRACE_MAX_PROCS)
			return perr(p, "too many processes");
		strcpy(t->procs[t->nprocs], argv[1]);
		op->arg = t->nprocs++;
	} else if (cmd_is(cmd, "exit")) {
		op->kind = OP_EXIT;
		if (need(p, argc, 1, "exit"))
			return -1;
		if (proc == 0)
			return perr(p, "the first process cannot exit");
	} else if (cmd_is(cmd, "fill_to_limit")) {
		uint64_t d;

		/* one-page VMAs outside the carve-out until map_count == max - D */
		op->kind = OP_FILL;
		if (need(p, argc, 2, "fill_to_limit MARGIN") || parse_u64(argv[1], &d) || d > 1000)
			return perr(p, "expected 'fill_to_limit MARGIN' (0 to 1000)");
		op->len = d;
	} else if (cmd_is(cmd, "swap")) {
		op->kind = OP_SWAP;
		if (machine_size(p, argc, argv, op, "swap", t->swap_pages))
			return -1;
		t->swap_pages = op->len >> 12;
	} else if (cmd_is(cmd, "ksm_scan") || cmd_is(cmd, "unpin") ||
		   cmd_is(cmd, "migrate_finish")) {
		op->kind = cmd[0] == 'k' ? OP_KSM_SCAN : cmd[0] == 'u' ? OP_UNPIN : OP_MIGRATE_FINISH;
		if (need(p, argc, 1, cmd))
			return -1;
	} else if (cmd_is(cmd, "pin")) {
		op->kind = OP_PIN;
		if (argc != 4 || parse_addr(p, argv[1], &op->addr) ||
		    parse_size(p, argv[2], &op->len, "length") ||
		    (strcmp(argv[3], "r") && strcmp(argv[3], "w")))
			return perr(p, "expected 'pin ADDR LEN r|w'");
		if (!op->len || (op->len & 0xfff) || op->len > (64ULL << 20))
			return perr(p, "pin length must be whole pages, at most 64 MiB");
		op->arg = argv[3][0] == 'w';
	} else if (cmd_is(cmd, "migrate")) {
		op->kind = OP_MIGRATE;
		if (need(p, argc, 2, "migrate ADDR") || parse_addr(p, argv[1], &op->addr))
			return -1;
	} else if (cmd_is(cmd, "exec")) {
		op->kind = OP_EXEC;
		if (argc > 2 || (argc == 2 && (strncmp(argv[1], "brk=", 4) ||
					       parse_addr(p, argv[1] + 4, &op->addr))))
			return perr(p, "expected 'exec [brk=ADDR]'");
	} else if (cmd_is(cmd, "maps")) {
		op->kind = OP_MAPS;
		if (argc != 3 || parse_u64(argv[1], &op->len) || parse_u64(argv[2], &op->len2))
			return perr(p, "expected 'maps COUNT HASH' (the kernel's maps: lines and "
				    "checksum)");
	} else if (cmd_is(cmd, "vma")) {
		uint64_t v;

		op->kind = OP_VMA;
		if (argc < 4 || parse_addr(p, argv[1], &op->addr) || parse_addr(p, argv[2], &op->addr2) ||
		    parse_u64(argv[3], &op->len2))
			return perr(p, "expected 'vma START END FLAGS [pgoff=N] [fd=NAME] [special=S] "
				    "[faulted]'");
		for (int i = 4; i < argc; i++) {
			if (!strncmp(argv[i], "pgoff=", 6) && !parse_u64(argv[i] + 6, &v)) {
				op->off = v;
			} else if (!strncmp(argv[i], "fd=", 3)) {
				op->file = find_name(t->files, t->nfiles, argv[i] + 3);
				if (op->file < 0)
					return perr(p, "no file '%s'", argv[i] + 3);
			} else if (!strncmp(argv[i], "special=", 8)) {
				size_t k;

				for (k = 1; k < sizeof(vma_specials) / sizeof(vma_specials[0]); k++)
					if (!strcmp(argv[i] + 8, vma_specials[k]))
						break;
				if (k == sizeof(vma_specials) / sizeof(vma_specials[0]))
					return perr(p, "unknown special '%s'", argv[i] + 8);
				op->arg = (int)k;
			} else if (!strcmp(argv[i], "faulted")) {
				op->flags = 1;
			} else {
				return perr(p, "bad vma attribute '%s'", argv[i]);
			}
		}
		if (op->addr.rel != op->addr2.rel || op->addr2.val <= op->addr.val ||
		    ((op->addr.val | op->addr2.val) & 0xfff))
			return perr(p, "a vma needs START < END, page-aligned");
	} else if (cmd_is(cmd, "populate")) {
		/* MADV_POPULATE_READ or _WRITE over the range (write by default) */
		op->kind = OP_MADVISE;
		if ((argc != 3 && argc != 4) || parse_addr(p, argv[1], &op->addr) ||
		    parse_size(p, argv[2], &op->len, "length"))
			return perr(p, "expected 'populate ADDR LEN [r|w]'");
		if (argc == 4 && strcmp(argv[3], "r") && strcmp(argv[3], "w"))
			return perr(p, "populate takes r or w, not '%s'", argv[3]);
		op->arg = argc == 4 && argv[3][0] == 'r' ? UVMA_MADV_POPULATE_READ
							 : UVMA_MADV_POPULATE_WRITE;
	} else if (cmd_is(cmd, "prctl")) {
		/* accept the uapi spelling too: PR_SET_MEMORY_MERGE, PR_SET_VMA_ANON_NAME */
		if (argc >= 2) {
			char *w = argv[1];

			if (!strncasecmp(w, "pr_", 3))
				w += 3;
			for (char *c = w; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if (!strcmp(w, "set_vma"))
				w = "set_vma_anon_name";
			argv[1] = w;
		}
		if (argc >= 2 && !strcmp(argv[1], "set_memory_merge")) {
			uint64_t v;

			op->kind = OP_PRCTL_MEMORY_MERGE;
			if (need(p, argc, 3, "prctl set_memory_merge 0|1") || parse_u64(argv[2], &v) || v > 1)
				return perr(p, "expected 'prctl set_memory_merge 0|1'");
			op->arg = (int)v;
		} else if (argc >= 2 && !strcmp(argv[1], "set_vma_anon_name")) {
			op->kind = OP_PRCTL_ANON_NAME;
			if (need(p, argc, 5, "prctl set_vma_anon_name ADDR LEN NAME|-") ||
			    parse_addr(p, argv[2], &op->addr) || parse_size(p, argv[3], &op->len, "length"))
				return -1;
			if (strlen(argv[4]) >= sizeof(op->name))
				return perr(p, "name too long");
			strcpy(op->name, argv[4]);
		} else {
			return perr(p, "unknown prctl (set_memory_merge or set_vma_anon_name)");
		}
	} else if (cmd_is(cmd, "expect")) {
		uint64_t v;

		if (op->has_result)
			return perr(p, "an expect line takes no result");
		if (argc == 3 && !strcmp(argv[1], "vmas")) {
			op->kind = OP_EXPECT_VMAS;
			if (parse_u64(argv[2], &v) || v > 1000000)
				return perr(p, "bad VMA count '%s'", argv[2]);
			op->len = v;
		} else if (argc == 4 && !strcmp(argv[1], "vma")) {
			op->kind = OP_EXPECT_VMA;
			if (parse_addr(p, argv[2], &op->addr) || parse_size(p, argv[3], &op->len, "length"))
				return -1;
		} else {
			return perr(p, "expected 'expect vmas N' or 'expect vma ADDR LEN'");
		}
	} else {
		t->nops--;
		return perr(p, "unknown operation '%s'", cmd);
	}
	if (op->policies && op->kind != OP_EXPECT_VMAS && op->kind != OP_EXPECT_VMA)
		return perr(p, "only expect lines take a policy list");
	if (op->has_result && (op->kind == OP_CARVEOUT || op->kind == OP_THP || op->kind == OP_ZEROPAGE ||
			       op->kind == OP_FILE || op->kind == OP_SWAP || op->kind == OP_MAPS))
		return perr(p, "%s takes no result", cmd);
	if (op->kind >= OP_SWAP && !t->model_only)
		t->model_only = p->line;

	return 0;
}

void trace_stream_begin(struct trace *t, const char *path)
{
	memset(t, 0, sizeof(*t));
	t->path = path;
	t->nprocs = 1;
	strcpy(t->procs[0], "main");
}

/* No NUL and no byte above 0x7f in @s[0..n), eight bytes at a time. */
static bool plain_text(const char *s, size_t n)
{
	const uint64_t high = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		/* a high bit, or a zero byte (the classic haszero test) */
		if ((w & high) || ((w - ones) & ~w & high))
			return false;
	}
	for (; i < n; i++)
		if (!s[i] || (unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

int trace_stream_line(struct trace *t, int lineno, const char *text, size_t n, char *err,
		      size_t errsize)
{
	struct parser p = { .path = t->path, .line = lineno, .err = err, .errsize = errsize, .t = t };
	char line[1024], *hash;

	if (n >= sizeof(line))
		return perr(&p, "line longer than %zu characters", sizeof(line) - 1);
	memcpy(line, text, n);
	line[n] = 0;
	if (!plain_text(line, n))
		return perr(&p, "not plain text");
	hash = memchr(line, '#', n);
	if (hash)
		*hash = 0;
	if (lineno == 1) {
		char *w = line;

		while (*w == ' ' || *w == '\t')
			w++;
		if (strncmp(w, "uvma-trace 1", 12) || (w[12] && !strchr(" \t\r", w[12])))
			return perr(&p, "not a uvma trace (the first line must be 'uvma-trace 1')");
		return 0;
	}
	return parse_line(&p, line);
}

int trace_parse(const char *path, const char *text, struct trace *t, char *err, size_t errsize)
{
	const char *s = text;
	int lineno = 0;

	trace_stream_begin(t, path);
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		if (trace_stream_line(t, ++lineno, s, n, err, errsize))
			goto fail;
		s += n + (nl ? 1 : 0);
	}
	if (lineno == 0) {
		struct parser p = { .path = path, .line = 1, .err = err, .errsize = errsize, .t = t };

		perr(&p, "empty file (the first line must be 'uvma-trace 1')");
		goto fail;
	}
	if (!t->carveout)
		t->carveout = 1ULL << 30;
	return 0;
fail:
	trace_free(t);
	return -1;
}

int trace_load(const char *path, struct trace *t, char *err, size_t errsize)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!f) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nt;

			cap = cap ? cap * 2 : 65536;
			if (cap > (64u << 20)) {
				snprintf(err, errsize, "%s: larger than 64 MiB", path);
				free(text);
				fclose(f);
				return -1;
			}
			nt = realloc(text, cap);
			if (!nt) {
				snprintf(err, errsize, "%s: out of memory", path);
				free(text);
				fclose(f);
				return -1;
			}
			text = nt;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (!n)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errsize, "%s: read error", path);
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	text[len] = 0;
	if (strlen(text) != len) {
		snprintf(err, errsize, "%s: contains a NUL byte", path);
		free(text);
		return -1;
	}
	ret = trace_parse(path, text, t, err, errsize);
	free(text);
	return ret;
}

void trace_free(struct trace *t)
{
	for (int i = 0; i < t->nfiles; i++) {
		free(t->file_path[i]);
		t->file_path[i] = NULL;
	}
	free(t->ops);
	t->ops = NULL;
	t->nops = t->cap = 0;
}

static int fmt_names(char *buf, size_t size, const struct name_val *table, int v)
{
	size_t n = 0;

	if (!v)
		return snprintf(buf, size, "0");
	buf[0] = 0;
	for (const struct name_val *nv = table; nv->name; nv++) {
		/* exact values first for multi-bit entries such as shared_validate */
		if (nv->val && (v & nv->val) == nv->val && !(nv->val & (nv->val - 1))) {
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "", nv->name);
			v &= ~nv->val;
		}
	}
	/* bits without a name: as a number, which parse_flags reads back */
	if (v)
		n += (size_t)snprintf(buf + n, size - n, "%s%#x", n ? "," : "", (unsigned int)v);
	return (int)n;
}

static void fmt_addr(char *buf, size_t size, struct taddr a)
{
	if (a.rel)
		snprintf(buf, size, "@%llup", (unsigned long long)(a.val >> 12));
	else if (!a.val)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%#llx", (unsigned long long)a.val);
	if (a.rel && (a.val & 0xfff))
		snprintf(buf, size, "@%#llx", (unsigned long long)a.val);
}

static void fmt_size(char *buf, size_t size, uint64_t v)
{
	if (v && !(v & 0xfff))
		snprintf(buf, size, "%llup", (unsigned long long)(v >> 12));
	else
		snprintf(buf, size, "%#llx", (unsigned long long)v);
}

int trace_format_thp(char *buf, size_t size, uint32_t always, uint32_t madvise)
{
	size_t n = (size_t)snprintf(buf, size, "thp");

	for (int w = 0; w < 2; w++) {
		uint32_t mask = w ? madvise : always;

		/* no size at all still needs one setting: "thp" alone does not parse */
		if (!mask && (w || madvise))
			continue;
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, " %s=",
				      w ? "madvise" : "always");
		for (int order = 2, first = 1; order <= 9; order++) {
			if (!(mask & (1U << order)))
				continue;
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%dk",
					      first ? "" : ",", 4 << order);
			first = 0;
		}
	}
	return (int)n;
}

int op_format(const struct trace *t, const struct op *op, char *buf, size_t size)
{
	char a[64], b[64], l1[64], l2[64], f[256], prot[16];
	size_t n = 0;
	int pi = 0;

	if (op->proc)
		n += (size_t)snprintf(buf + n, size - n, "[%s] ", t->procs[op->proc]);
	fmt_addr(a, sizeof(a), op->addr);
	fmt_addr(b, sizeof(b), op->addr2);
	fmt_size(l1, sizeof(l1), op->len);
	fmt_size(l2, sizeof(l2), op->len2);
	if (op->prot & UVMA_PROT_READ)
		prot[pi++] = 'r';
	if (op->prot & UVMA_PROT_WRITE)
		prot[pi++] = 'w';
	if (op->prot & UVMA_PROT_EXEC)
		prot[pi++] = 'x';
	prot[pi] = 0;
	if (!pi)
		strcpy(prot, "none");
	if (op->prot & ~(UVMA_PROT_READ | UVMA_PROT_WRITE | UVMA_PROT_EXEC))
		snprintf(prot, sizeof(prot), "%#x", (unsigned int)op->prot);
	switch (op->kind) {
	case OP_CARVEOUT:
		n += (size_t)snprintf(buf + n, size - n, "carveout %s", l1);
		break;
	case OP_THP:
		n += (size_t)trace_format_thp(buf + n, size - n, t->thp_always, t->thp_madvise);
		break;
	case OP_FILE:
		n += (size_t)snprintf(buf + n, size - n, "file %s %s", t->files[op->file], l1);
		if (t->file_path[op->file]) {
			char esc[600];

			int mode = t->file_mode[op->file] & 3;

			trace_escape(esc, sizeof(esc), t->file_path[op->file]);
			n += (size_t)snprintf(buf + n, size - n, " %s=%s mode=%s",
					      t->file_mode[op->file] & FILE_MEMFD ? "memfd" : "path", esc,
					      mode == 1 ? "r" : mode == 2 ? "w" : "rw");
		}
		break;
	case OP_EXEC:
		n += (size_t)snprintf(buf + n, size - n, "exec");
		if (op->addr.val || op->addr.rel)
			n += (size_t)snprintf(buf + n, size - n, " brk=%s", a);
		break;
	case OP_SPAWN:
		n += (size_t)snprintf(buf + n, size - n, "spawn %s", t->procs[op->arg]);
		break;
	case OP_MAPS:
		n += (size_t)snprintf(buf + n, size - n, "maps %llu %#018llx",
				      (unsigned long long)op->len, (unsigned long long)op->len2);
		break;
	case OP_VMA:
		n += (size_t)snprintf(buf + n, size - n, "vma %s %s %#llx", a, b,
				      (unsigned long long)op->len2);
		if (op->off)
			n += (size_t)snprintf(buf + n, size - n, " pgoff=%#llx",
					      (unsigned long long)op->off);
		if (op->file >= 0)
			n += (size_t)snprintf(buf + n, size - n, " fd=%s", t->files[op->file]);
		if (op->arg)
			n += (size_t)snprintf(buf + n, size - n, " special=%s", vma_specials[op->arg]);
		if (op->flags)
			n += (size_t)snprintf(buf + n, size - n, " faulted");
		break;
	case OP_MMAP:
		fmt_names(f, sizeof(f), mmap_flags, op->flags);
		n += (size_t)snprintf(buf + n, size - n, "mmap %s %s %s %s", a, l1, prot, f);
		if (op->file >= 0)
			n += (size_t)snprintf(buf + n, size - n, " fd=%s off=%#llx",
					      t->files[op->file], (unsigned long long)op->off);
		break;
	case OP_MUNMAP:
	case OP_MLOCK:
	case OP_MUNLOCK:
		n += (size_t)snprintf(buf + n, size - n, "%s %s %s", op_name(op->kind), a, l1);
		break;
	case OP_MPROTECT:
		n += (size_t)snprintf(buf + n, size - n, "mprotect %s %s %s", a, l1, prot);
		break;
	case OP_PKEY_MPROTECT:
		n += (size_t)snprintf(buf + n, size - n, "pkey_mprotect %s %s %s %d", a, l1, prot,
				      op->arg);
		break;
	case OP_MADVISE:
		f[0] = 0;
		for (const struct name_val *nv = advices; nv->name; nv++)
			if (nv->val == op->arg)
				snprintf(f, sizeof(f), "%s", nv->name);
		if (!f[0])
			snprintf(f, sizeof(f), "%d", op->arg);
		n += (size_t)snprintf(buf + n, size - n, "madvise %s %s %s", a, l1, f);
		break;
	case OP_MSEAL:
		n += (size_t)snprintf(buf + n, size - n, "mseal %s %s", a, l1);
		if (op->len2)
			n += (size_t)snprintf(buf + n, size - n, " %#llx", (unsigned long long)op->len2);
		break;
	case OP_MBIND: {
		char mode[160], nodes[24];
		int m = op->arg & 0xff;

		/* the mode is a number, not a bit: its name, then the mode flags' */
		snprintf(mode, sizeof(mode), "%d", op->arg);
		for (const struct name_val *nv = mpol_modes; nv->name; nv++)
			if (nv->val == m && m < 7) {
				char rest[128];

				fmt_names(rest, sizeof(rest), mpol_modes, op->arg & ~0xff);
				snprintf(mode, sizeof(mode), "%s%s%s", nv->name,
					 op->arg & ~0xff ? "," : "", op->arg & ~0xff ? rest : "");
			}
		if (op->prot)
			snprintf(nodes, sizeof(nodes), "-");
		else
			snprintf(nodes, sizeof(nodes), "%#llx", (unsigned long long)op->len2);
		fmt_names(f, sizeof(f), mbind_flags, op->flags);
		n += (size_t)snprintf(buf + n, size - n, "mbind %s %s %s %s %llu %s", a, l1, mode, nodes,
				      (unsigned long long)op->off, f);
		break;
	}
	case OP_MLOCK2:
		fmt_names(f, sizeof(f), mlock2_flags, op->flags);
		n += (size_t)snprintf(buf + n, size - n, "mlock2 %s %s %s", a, l1, f);
		break;
	case OP_MLOCKALL:
		fmt_names(f, sizeof(f), mlockall_flags, op->flags);
		n += (size_t)snprintf(buf + n, size - n, "mlockall %s", f);
		break;
	case OP_MUNLOCKALL:
		n += (size_t)snprintf(buf + n, size - n, "munlockall");
		break;
	case OP_MREMAP:
		fmt_names(f, sizeof(f), mremap_flags, op->flags);
		n += (size_t)snprintf(buf + n, size - n, "mremap %s %s %s %s%s%s", a, l1, l2, f,
				      op->addr2.rel || op->addr2.val ? " " : "",
				      op->addr2.rel || op->addr2.val ? b : "");
		break;
	case OP_BRK:
		n += (size_t)snprintf(buf + n, size - n, "brk %s", a);
		break;
	case OP_TOUCH:
		n += (size_t)snprintf(buf + n, size - n, "touch %s %s %c", a, l1, op->arg ? 'w' : 'r');
		break;
	case OP_FORK:
		n += (size_t)snprintf(buf + n, size - n, "fork %s", t->procs[op->arg]);
		break;
	case OP_EXIT:
		n += (size_t)snprintf(buf + n, size - n, "exit");
		break;
	case OP_PRCTL_MEMORY_MERGE:
		n += (size_t)snprintf(buf + n, size - n, "prctl set_memory_merge %d", op->arg);
		break;
	case OP_PRCTL_ANON_NAME:
		n += (size_t)snprintf(buf + n, size - n, "prctl set_vma_anon_name %s %s %s", a, l1,
				      op->name);
		break;
	case OP_EXPECT_VMAS:
		n += (size_t)snprintf(buf + n, size - n, "expect vmas %llu",
				      (unsigned long long)op->len);
		break;
	case OP_EXPECT_VMA:
		n += (size_t)snprintf(buf + n, size - n, "expect vma %s %s", a, l1);
		break;
	case OP_FILL:
		n += (size_t)snprintf(buf + n, size - n, "fill_to_limit %llu",
				      (unsigned long long)op->len);
		break;
	case OP_SWAP:
		n += (size_t)snprintf(buf + n, size - n, "swap %s", l1);
		break;
	case OP_ZEROPAGE:
		n += (size_t)snprintf(buf + n, size - n, "zeropage %s", t->zero_page < 0 ? "off" : "on");
		break;
	case OP_KSM_SCAN:
	case OP_UNPIN:
	case OP_MIGRATE_FINISH:
		n += (size_t)snprintf(buf + n, size - n, "%s", op_name(op->kind));
		break;
	case OP_PIN:
		n += (size_t)snprintf(buf + n, size - n, "pin %s %s %s", a, l1, op->arg ? "w" : "r");
		break;
	case OP_MIGRATE:
		n += (size_t)snprintf(buf + n, size - n, "migrate %s", a);
		break;
	case OP_NKINDS:
		break;
	}
	return (int)n;
}

void trace_format_result(char *buf, size_t size, long r)
{
	if (r < 0 && r > -4096 && uvma_errno_name((int)-r))
		snprintf(buf, size, "-%s", uvma_errno_name((int)-r));
	else if (r < 0 && r > -4096)
		snprintf(buf, size, "%ld", r);
	else if (r > 0xffff)
		snprintf(buf, size, "%#lx", (unsigned long)r);
	else
		snprintf(buf, size, "%ld", r);
}
