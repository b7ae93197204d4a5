// SPDX-License-Identifier: MIT
/*
 * uvma fuzz: random programs over the trace format, each run on the kernel
 * and the model; a mismatch is shrunk to a minimal program and written out.
 *
 * Sizes and addresses are chosen so that ranges keep meeting: a 64-page
 * carve-out, ranges of 1 to 8 pages, neighbours, partial overlaps and holes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "kexec.h"
#include "trace.h"

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	/* xorshift64*: small, good enough to pick operations */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static unsigned int pick(struct rng *r, unsigned int n)
{
	return (unsigned int)(next(r) % n);
}

static const char *const prots[] = { "none", "r", "rw", "rx", "rwx", "w", "x", "rw", "rw" };
static const char *const advices[] = {
	"normal", "random", "sequential", "willneed", "dontneed", "free", "remove",
	"dontfork", "dofork", "mergeable", "unmergeable", "hugepage", "nohugepage",
	"dontdump", "dodump", "wipeonfork", "keeponfork", "cold", "pageout",
	"populate_read", "populate_write", "dontneed_locked", "guard_install", "guard_remove",
};
static const char *const mremap_flags[] = {
	"0", "maymove", "maymove,fixed", "maymove,fixed,dontunmap", "maymove,dontunmap", "maymove",
};

#define PAGES 64

/*
 * With --host-thp, every program opens with a thp line that states the
 * host's anonymous THP sizes: a host set up with mTHP sizes (as root,
 * /sys/kernel/mm/transparent_hugepage/hugepages-*kB/enabled) then fuzzes
 * them, and a mismatch's trace says what it needs.
 */
static char thp_line[128];

static int host_thp_line(void)
{
	struct uvma_sys_config cfg;
	int n;

	uvma_sys_config_default(&cfg);
	if (kexec_host_thp(&cfg))
		return -1;
	n = trace_format_thp(thp_line, sizeof(thp_line) - 1, cfg.thp_orders_always,
			     cfg.thp_orders_madvise);
	if (n < 0 || (size_t)n >= sizeof(thp_line) - 1)
		return -1;
	strcpy(thp_line + n, "\n");
	return 0;
}

static size_t gen_program(struct rng *r, unsigned int nops, char *buf, size_t size)
{
	bool alive[TRACE_MAX_PROCS] = { true };
	char names[TRACE_MAX_PROCS][16] = { "main" };
	int nprocs = 1;
	size_t n = 0;
	bool file = pick(r, 2) == 0;

#define EMIT(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
	EMIT("uvma-trace 1\n%scarveout %up\n", thp_line, PAGES + 16);
	if (file)
		EMIT("file f %up\n", 16);
	/* one program in twenty runs next to vm.max_map_count */
	if (pick(r, 20) == 0)
		EMIT("fill_to_limit %u\n", pick(r, 9));
	for (unsigned int i = 0; i < nops; i++) {
		unsigned int a = pick(r, PAGES), len = 1 + pick(r, 8), b = pick(r, PAGES);
		int p;
		unsigned int what = pick(r, 100);

		do
			p = (int)pick(r, (unsigned int)nprocs);
		while (!alive[p]);
		if (p)
			EMIT("[%s] ", names[p]);
		if (what < 28) {
			unsigned int kind = pick(r, 12);
			const char *type = kind < 2 ? "shared" : kind == 2 ? "droppable" : "private";
			const char *place = pick(r, 3) == 0 ? "fixed_noreplace" : "fixed";
			static const char *const extra[] = { "", "", "", ",noreserve", ",populate",
							     ",locked", ",growsdown", ",stack" };

			if (file && pick(r, 3) == 0)
				EMIT("mmap @%up %up %s %s,%s fd=f off=%up\n", a, len, prots[pick(r, 9)],
				     type, place, pick(r, 8));
			else
				EMIT("mmap @%up %up %s %s,anonymous,%s%s\n", a, len, prots[pick(r, 9)],
				     type, place, extra[pick(r, 8)]);
		} else if (what < 36) {
			EMIT("munmap @%up %up\n", a, len);
		} else if (what < 50) {
			EMIT("mprotect @%up %up %s\n", a, len, prots[pick(r, 9)]);
		} else if (what < 62) {
			EMIT("madvise @%up %up %s\n", a, len,
			     advices[pick(r, sizeof(advices) / sizeof(advices[0]))]);
		} else if (what < 66) {
			static const char *const lk[] = { "mlock", "munlock", "mlock2" };
			unsigned int k = pick(r, 3);

			if (k == 2)
				EMIT("mlock2 @%up %up onfault\n", a, len);
			else
				EMIT("%s @%up %up\n", lk[k], a, len);
		} else if (what < 78) {
			unsigned int len2 = pick(r, 3) ? len : 1 + pick(r, 8);
			const char *f = mremap_flags[pick(r, 6)];

			EMIT("mremap @%up %up %up %s @%up\n", a, len, len2, f, b);
		} else if (what < 94) {
			EMIT("touch @%up %up %c\n", a, len, pick(r, 3) ? 'w' : 'r');
		} else if (what < 97 && nprocs < 4) {
			snprintf(names[nprocs], sizeof(names[0]), "c%d", nprocs);
			alive[nprocs] = true;
			EMIT("fork %s\n", names[nprocs]);
			nprocs++;
		} else if (p && what < 99) {
			alive[p] = false;
			EMIT("exit\n");
		} else {
			/*
			 * rarer shapes: placement without an address, THP sizes, KSM-any,
			 * protection keys, mlockall, anon names, the relocation flags
			 * (unknown to the host kernel: -EINVAL under the linux policy),
			 * mseal, mbind
			 */
			static const char *const lockall[] = {
				"current", "future", "current,future", "current,onfault",
				"future,onfault", "onfault", "0"
			};
			static const char *const anon_names[] = { "heap", "arena", "-" };

			switch (pick(r, 12)) {
			case 0:
				EMIT("mmap - %up %s private,anonymous\n", len, prots[pick(r, 9)]);
				break;
			case 1:
				EMIT("mmap - %up rw private,anonymous%s\n", 512 * (1 + pick(r, 2)),
				     pick(r, 2) ? ",noreserve" : "");
				break;
			case 2:
				EMIT("mremap @%up %up %up maymove\n", a, len, len + 1 + pick(r, 8));
				break;
			case 3:
				EMIT("prctl set_memory_merge %u\n", pick(r, 2));
				break;
			case 4:
				EMIT("pkey_mprotect @%up %up %s %d\n", a, len, prots[pick(r, 9)],
				     (int)pick(r, 3) - 1);
				break;
			case 5:
				EMIT("mlockall %s\n", lockall[pick(r, 7)]);
				break;
			case 6:
				EMIT("munlockall\n");
				break;
			case 7:
				EMIT("prctl set_vma_anon_name @%up %up %s\n", a, len, anon_names[pick(r, 3)]);
				break;
			case 8:
				EMIT("mremap @%up %up %up maymove,%s @%up\n", a, len, len,
				     pick(r, 2) ? "relocate_anon" : "fixed,must_relocate_anon", b);
				break;
			case 9:
				EMIT("mseal @%up %up\n", a, len);
				break;
			case 10: {
				static const char *const modes[] = {
					"bind", "preferred", "interleave", "local", "default",
					"bind,static_nodes", "preferred_many", "weighted_interleave",
				};
				unsigned int m = pick(r, 8);
				bool nomask = m == 3 || m == 4;

				EMIT("mbind @%up %up %s %s 64 %s\n", a, len, modes[m],
				     nomask ? "-" : pick(r, 4) ? "0x1" : "0x3",
				     pick(r, 4) ? "0" : pick(r, 2) ? "strict" : "move");
				break;
			}
			default:
				EMIT("touch @%up %up w\n", a, len);
			}
		}
	}
#undef EMIT
	return n;
}

/* Write the program minus the lines in @drop, in trace syntax. */
static size_t emit_without(const struct trace *t, const bool *drop, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "uvma-trace 1\n");
	char line[512];

	for (int i = 0; i < t->nops; i++) {
		if (drop[i])
			continue;
		op_format(t, &t->ops[i], line, sizeof(line));
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s\n", line);
	}
	return n;
}

/* Does the program without @drop still differ?  Unparsable variants do not count. */
static int still_differs(const struct trace *t, const bool *drop, char *buf, size_t size)
{
	struct trace v;
	char err[256];
	unsigned long nl = 0;
	int r;

	emit_without(t, drop, buf, size);
	if (trace_parse("shrink", buf, &v, err, sizeof(err)))
		return 0;
	r = diff_trace(&v, 1, 1, &nl);
	trace_free(&v);
	return r == 1;
}

static void shrink(const struct trace *t, bool *drop, char *buf, size_t size)
{
	bool progress = true;

	while (progress) {
		progress = false;
		for (int i = t->nops - 1; i >= 0; i--) {
			if (drop[i] || t->ops[i].kind == OP_CARVEOUT || t->ops[i].kind == OP_THP ||
			    t->ops[i].kind == OP_FILE)
				continue;
			drop[i] = true;
			if (still_differs(t, drop, buf, size))
				progress = true;
			else
				drop[i] = false;
		}
	}
}

int cmd_fuzz(int argc, char **argv)
{
	unsigned long seed = 1, programs = 100, ops = 30, first = 0, nlines = 0;
	const char *outdir = ".";
	unsigned long mismatches = 0, failures = 0, flaky = 0;
	size_t size = 1 << 20;
	char *buf = NULL, *buf2 = NULL;
	struct stat st;
	int ret = 1;

	for (int i = 0; i < argc; i++) {
		unsigned long *dst = NULL;
		char *end;

		if (!strcmp(argv[i], "--seed"))
			dst = &seed;
		else if (!strcmp(argv[i], "--programs"))
			dst = &programs;
		else if (!strcmp(argv[i], "--ops"))
			dst = &ops;
		else if (!strcmp(argv[i], "--first"))
			dst = &first;
		else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			outdir = argv[++i];
			continue;
		} else if (!strcmp(argv[i], "--host-thp")) {
			if (host_thp_line()) {
				fprintf(stderr, "uvma fuzz: --host-thp: cannot read "
						"/sys/kernel/mm/transparent_hugepage\n");
				return 2;
			}
			continue;
		} else {
			fprintf(stderr, "uvma fuzz: unknown argument '%s'\n", argv[i]);
			return 2;
		}
		if (i + 1 == argc) {
			fprintf(stderr, "uvma fuzz: %s needs a number\n", argv[i]);
			return 2;
		}
		errno = 0;
		*dst = strtoul(argv[++i], &end, 0);
		if (errno || *end ||
		    (dst != &seed && dst != &first && (!*dst || *dst > 1000000))) {
			fprintf(stderr, "uvma fuzz: bad number '%s' for %s\n", argv[i], argv[i - 1]);
			return 2;
		}
	}
	/* a mismatch found after an hour must have somewhere to go */
	if (stat(outdir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "uvma fuzz: --out %s: not a directory\n", outdir);
		return 2;
	}
	buf = malloc(size);
	buf2 = malloc(size);
	if (!buf || !buf2) {
		fprintf(stderr, "uvma fuzz: out of memory\n");
		goto out;
	}
	/* --first N: programs N to N + programs - 1 of the seed (to rerun one) */
	for (unsigned long p = first; p < first + programs; p++) {
		struct rng r = { .s = (seed * 1000003ULL + p) * 0x9e3779b97f4a7c15ULL | 1 };
		struct trace t;
		char err[512], name[64];
		int res;

		gen_program(&r, (unsigned int)ops, buf, size);
		snprintf(name, sizeof(name), "fuzz-%lu-%lu", seed, p);
		if (trace_parse(name, buf, &t, err, sizeof(err))) {
			fprintf(stderr, "uvma fuzz: generated an invalid program: %s\n", err);
			goto out;
		}
		res = diff_trace(&t, 1, 1, &nlines);
		/* per-CPU page batches are shared: the kernel must repeat it, twice */
		for (int retry = 0; res == 1 && retry < 2; retry++) {
			unsigned long again = 0;

			if (diff_trace(&t, 1, 1, &again) == 0) {
				flaky++;
				res = 0;
			}
		}
		if (res == 2) {
			failures++;
		} else if (res == 1) {
			bool *drop = calloc((size_t)t.nops, sizeof(bool));
			char path[512];
			FILE *f;

			mismatches++;
			if (!drop) {
				trace_free(&t);
				fprintf(stderr, "uvma fuzz: out of memory\n");
				goto out;
			}
			shrink(&t, drop, buf2, size);
			emit_without(&t, drop, buf2, size);
			free(drop);
			snprintf(path, sizeof(path), "%s/%s.utrace", outdir, name);
			f = fopen(path, "w");
			if (!f || fputs(buf2, f) < 0 || fclose(f)) {
				fprintf(stderr, "uvma fuzz: cannot write %s: %s\n", path, strerror(errno));
				trace_free(&t);
				goto out;
			}
			printf("mismatch in program %lu, minimised to %s:\n%s", p, path, buf2);
		}
		trace_free(&t);
	}
	printf("fuzz seed %lu: %lu programs, %lu operations compared, %lu mismatches, %lu only once "
	       "(the kernel did not repeat them)%s\n", seed, programs, nlines, mismatches, flaky,
	       failures ? "; some programs could not run" : "");
	ret = mismatches || failures ? 1 : 0;
out:
	free(buf);
	free(buf2);
	return ret;
}
