// SPDX-License-Identifier: MIT
/*
 * uvma: check the model against the running kernel, run traces, demonstrate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli.h"
#include "golden.h"
#include "kexec.h"
#include "events.h"
#include "model.h"
#include "trace.h"
#include "uvma.h"

#define TEXT_MAX KEXEC_TEXT_MAX

static const char usage[] =
	"usage: uvma COMMAND [ARGS]\n"
	"\n"
	"  demo                      a faulted anonymous VMA moved next to another: no merge\n"
	"  run [--policy P|all] [--relocate-all] [--maps] [--golden] [--trace[=json]] FILE...\n"
	"                            run traces on the model, check results and expect lines;\n"
	"                            --golden: against the kernel answers in FILE.golden.gz;\n"
	"                            --trace: every merge, expand and split, and the counts\n"
	"  diff [--quiet] [--keep-going] [--retries N] [--record] FILE...\n"
	"                            run traces on the kernel and the model, compare every line;\n"
	"                            --record: store the kernel's answers in FILE.golden.gz\n"
	"  fuzz [--seed S] [--programs N] [--ops M] [--first K] [--out DIR] [--host-thp]\n"
	"                            random programs on both; mismatches shrunk and written\n"
	"  replay [--policy P|all] [--initial-maps FILE] [--faults MODEL] [--json]\n"
	"         [--plot FILE.svg] [--divergences] TRACE...\n"
	"                            a real program's trace (strace or .utrace) on the model:\n"
	"                            VMAs, merges and relocations per policy\n"
	"  maps [--pid PID] [--at N] [--policy P] TRACE...\n"
	"                            the modelled /proc/PID/maps after the trace or event N\n"
	"  record [--policy P|all] [-o FILE.utrace] [--verify] -- COMMAND ARGS...\n"
	"                            run a program under ptrace; write its trace; --verify:\n"
	"                            the model's maps against the kernel's after every call\n"
	"  help                      this text\n"
	"\n"
	"Exit status: 0 all agreed, 1 a check failed, 2 bad input or usage.\n";

static char *text_a, *text_b, *norm_a, *norm_b;
static int keep_going;	/* diff: report every differing line, not just the first */
static int relocate_all;	/* run --relocate-all: every anonymous move is flagged */

static int alloc_buffers(void)
{
	text_a = malloc(TEXT_MAX);
	text_b = malloc(TEXT_MAX);
	norm_a = malloc(TEXT_MAX);
	norm_b = malloc(TEXT_MAX);
	if (!text_a || !text_b || !norm_a || !norm_b) {
		fprintf(stderr, "uvma: out of memory\n");
		return -1;
	}
	return 0;
}

/* ---- comparing /proc text --------------------------------------------------------- */

struct vma_hdr {
	unsigned long long start, end, off, ino;
	unsigned int major, minor;
	char perms[8];
	const char *name;
	int namelen;
};

static int parse_hdr(const char *line, struct vma_hdr *h)
{
	int n = 0;
	const char *nl;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu%n", &h->start, &h->end, h->perms, &h->off,
		   &h->major, &h->minor, &h->ino, &n) != 7)
		return 0;
	h->name = line + n;
	while (*h->name == ' ')
		h->name++;
	nl = strchr(h->name, '\n');
	h->namelen = nl ? (int)(nl - h->name) : (int)strlen(h->name);
	return 1;
}

/*
 * Device and inode numbers differ between the kernel and the model; what
 * must agree is which VMAs share a file.  Each distinct (dev, inode) becomes
 * its ordinal of first appearance.
 */
static void normalize(const char *in, char *out, size_t size)
{
	struct {
		unsigned int major, minor;
		unsigned long long ino;
	} ids[256];
	int nids = 0;
	size_t len = 0;

	out[0] = 0;
	while (*in && len + 1 < size) {
		const char *nl = strchr(in, '\n');
		size_t n = nl ? (size_t)(nl - in + 1) : strlen(in);
		struct vma_hdr h;

		if (parse_hdr(in, &h)) {
			int id = 0;

			if (h.ino || h.major || h.minor) {
				for (id = 0; id < nids; id++)
					if (ids[id].major == h.major && ids[id].minor == h.minor &&
					    ids[id].ino == h.ino)
						break;
				if (id == nids && nids < 256) {
					ids[nids].major = h.major;
					ids[nids].minor = h.minor;
					ids[nids].ino = h.ino;
					nids++;
				}
				id++;
			}
			len += (size_t)snprintf(out + len, size - len,
						"%llx-%llx %s %08llx %02x:%02x file#%d %.*s\n",
						h.start, h.end, h.perms, h.off, h.major, h.minor, id,
						h.namelen, h.name);
		} else {
			if (len + n >= size)
				break;
			memcpy(out + len, in, n);
			len += n;
		}
		in += n;
	}
	if (len >= size)
		len = size - 1;
	out[len] = 0;
}

static int count_vmas(const char *text)
{
	struct vma_hdr h;
	int n = 0;

	for (const char *l = text; *l;) {
		const char *nl = strchr(l, '\n');

		n += parse_hdr(l, &h);
		l = nl ? nl + 1 : l + strlen(l);
	}
	return n;
}

static int has_vma(const char *text, uint64_t start, uint64_t end)
{
	struct vma_hdr h;

	for (const char *l = text; *l;) {
		const char *nl = strchr(l, '\n');

		if (parse_hdr(l, &h) && h.start == start && h.end == end)
			return 1;
		l = nl ? nl + 1 : l + strlen(l);
	}
	return 0;
}

/* Line-by-line view of two normalized texts, differing lines marked. */
static void show_states(const char *a, const char *b, const char *la, const char *lb)
{
	int shown = 0;

	printf("  %-6s lines marked '-', %s lines marked '+', common lines ' ':\n", la, lb);
	while ((*a || *b) && shown < 400) {
		const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
		int lena = *a ? (na ? (int)(na - a) : (int)strlen(a)) : -1;
		int lenb = *b ? (nb ? (int)(nb - b) : (int)strlen(b)) : -1;

		if (lena >= 0 && lenb >= 0 && lena == lenb && !memcmp(a, b, (size_t)lena)) {
			printf("   %.*s\n", lena, a);
		} else {
			if (lena >= 0)
				printf("  -%.*s\n", lena, a);
			if (lenb >= 0)
				printf("  +%.*s\n", lenb, b);
		}
		shown++;
		a = lena >= 0 ? a + lena + (na ? 1 : 0) : a;
		b = lenb >= 0 ? b + lenb + (nb ? 1 : 0) : b;
	}
}

static long expected_result(const struct op *op, uint64_t base)
{
	return op->result_rel ? (long)(base + (uint64_t)op->result) : op->result;
}

/* Does an expect line apply to policy @pol? */
static int expect_applies(const struct op *op, int pol)
{
	return !op->policies || (op->policies & (1u << pol));
}

static int check_expect(const struct trace *t, const struct op *op, const char *smaps,
			uint64_t base, const char *who)
{
	if (op->kind == OP_EXPECT_VMAS) {
		int n = count_vmas(smaps);

		if ((uint64_t)n != op->len) {
			printf("%s:%d: %s: expected %llu VMAs in the carve-out, found %d\n", t->path,
			       op->line, who, (unsigned long long)op->len, n);
			return -1;
		}
	} else {
		uint64_t s = op->addr.rel ? base + op->addr.val : op->addr.val;

		if (!has_vma(smaps, s, s + op->len)) {
			printf("%s:%d: %s: expected a VMA exactly at %#llx-%#llx\n", t->path, op->line,
			       who, (unsigned long long)s, (unsigned long long)(s + op->len));
			return -1;
		}
	}
	return 0;
}

static void show_ops_so_far(const struct trace *t, int upto)
{
	char line[512];

	printf("  operations so far:\n");
	for (int i = 0; i <= upto && i < t->nops; i++) {
		op_format(t, &t->ops[i], line, sizeof(line));
		printf("    %4d  %s\n", t->ops[i].line, line);
	}
}

static int diff_one(const char *path, enum oracle_mode mode, int quiet, unsigned long *nlines);

/* ---- uvma run ----------------------------------------------------------------- */

static int run_one(const char *path, int pol, int show_maps, enum event_format evf)
{
	struct event_printer ep = { .format = evf, .out = stdout };
	struct uvma_sys_config machine;
	struct trace t;
	struct model m;
	char err[512], res_a[64], res_b[64], line[512];
	const char *why;
	int failed = 0;

	if (trace_load(path, &t, err, sizeof(err))) {
		fprintf(stderr, "uvma: %s\n", err);
		return 2;
	}
	uvma_sys_config_default(&machine);
	machine.policy = (enum uvma_policy)pol;
	machine.relocate_all = relocate_all && pol == UVMA_POLICY_RELOCATE;
	if (model_start(&m, &t, CARVEOUT_BASE, NULL, &machine, err, sizeof(err))) {
		fprintf(stderr, "uvma: %s: %s\n", path, err);
		trace_free(&t);
		return 2;
	}
	event_printer_start(&ep, &m, &t);
	for (int i = 0; i < t.nops && !failed; i++) {
		const struct op *op = &t.ops[i];
		long r;

		ep.line = op->line;
		if (op->kind == OP_EXPECT_VMAS || op->kind == OP_EXPECT_VMA) {
			if (!expect_applies(op, pol))
				continue;
			model_smaps(&m, op->proc, text_a, TEXT_MAX);
			if (check_expect(&t, op, text_a, m.base, "model"))
				failed = 1;
			continue;
		}
		if (op->kind == OP_MAPS) {
			/* a recorded checksum of the kernel's maps: the linux policy must match it */
			if (pol == UVMA_POLICY_LINUX &&
			    model_check_maps(&m, &t, op, line, sizeof(line)) == 1) {
				printf("%s:%d: %s\n", path, op->line, line);
				failed = 1;
			}
			continue;
		}
		r = model_step(&m, &t, op);
		if (op->has_result && r != expected_result(op, m.base)) {
			op_format(&t, op, line, sizeof(line));
			trace_format_result(res_a, sizeof(res_a), expected_result(op, m.base));
			trace_format_result(res_b, sizeof(res_b), r);
			printf("%s:%d: '%s' returned %s, expected %s\n", path, op->line, line, res_b,
			       res_a);
			failed = 1;
		}
		if (uvma_sys_violations(m.sys, &why)) {
			op_format(&t, op, line, sizeof(line));
			printf("%s:%d: invariant broken after '%s': %s\n", path, op->line, line, why);
			failed = 1;
		}
	}
	if (evf != EVENTS_OFF)
		event_printer_counts(&ep);
	if (show_maps) {
		for (int p = 0; p < t.nprocs; p++) {
			if (!m.mm[p])
				continue;
			uvma_render_maps(m.mm[p], m.base, m.base + m.size, text_a, TEXT_MAX);
			printf("# %s [%s]\n%s", path, t.procs[p], text_a);
		}
	}
	if (!failed) {
		/* the first process's VMAs in the carve-out, the figure policies compete on */
		int vmas = 0;

		if (m.mm[0]) {
			uvma_render_maps(m.mm[0], m.base, m.base + m.size, text_a, TEXT_MAX);
			vmas = count_vmas(text_a);
		}
		printf("%s: ok (%d lines; %s: %d VMAs)\n", path, t.nops, policy_name(pol), vmas);
	}
	model_stop(&m);
	trace_free(&t);
	return failed;
}

static int cmd_run(int argc, char **argv)
{
	/* "all" runs each */
	static const int implemented[] = { UVMA_POLICY_LINUX, UVMA_POLICY_MATENA,
					   UVMA_POLICY_RELOCATE, UVMA_POLICY_AUTO,
					   UVMA_POLICY_IDEAL };
	int pol = 0, show_maps = 0, status = 0, files = 0, golden = 0, all = 0;
	enum event_format evf = EVENTS_OFF;
	unsigned long nlines = 0;

	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "--trace", 7)) {
			if (event_format_parse(argv[i], &evf)) {
				fprintf(stderr, "uvma run: '%s': --trace or --trace=json\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--relocate-all")) {
			relocate_all = 1;
		} else if (!strcmp(argv[i], "--maps")) {
			show_maps = 1;
		} else if (!strcmp(argv[i], "--golden")) {
			golden = 1;
		} else if (!strcmp(argv[i], "--policy")) {
			if (i + 1 == argc) {
				fprintf(stderr, "uvma run: --policy needs a name\n");
				return 2;
			}
			if (!strcmp(argv[++i], "all")) {
				all = 1;
				continue;
			}
			pol = policy_bit(argv[i]);
			if (pol < 0) {
				fprintf(stderr, "uvma run: unknown policy '%s'\n", argv[i]);
				return 2;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "uvma run: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (relocate_all && (all || pol != UVMA_POLICY_RELOCATE)) {
		fprintf(stderr, "uvma run: --relocate-all goes with --policy relocate\n");
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		int r;

		if (!strcmp(argv[i], "--policy")) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			continue;
		files++;
		if (golden) {
			r = diff_one(argv[i], ORACLE_GOLDEN, 0, &nlines);
			if (r == 3)
				r = 0;	/* a model-only trace has no kernel answers */
		} else if (all) {
			r = 0;
			for (size_t k = 0; k < sizeof(implemented) / sizeof(implemented[0]); k++) {
				int rk = run_one(argv[i], implemented[k], show_maps, evf);

				r = rk > r ? rk : r;
			}
		} else {
			r = run_one(argv[i], pol, show_maps, evf);
		}
		if (r > status)
			status = r;
	}
	if (!files) {
		fprintf(stderr, "uvma run: no trace given\n%s", usage);
		return 2;
	}
	return status;
}

/* ---- uvma diff ---------------------------------------------------------------- */

/* Where the kernel's answers come from. */
struct oracle {
	enum oracle_mode mode;
	struct kexec k;
	struct golden g;
	struct golden_writer *rec;
};

/* Keep what the model import needs of a whole-process smaps: headers, Rss, VmFlags. */
static void filter_initial(const char *in, char *out, size_t size)
{
	size_t len = 0;
	struct vma_hdr h;

	out[0] = 0;
	while (*in) {
		const char *nl = strchr(in, '\n');
		size_t n = nl ? (size_t)(nl - in + 1) : strlen(in);

		if ((parse_hdr(in, &h) || !strncmp(in, "Rss:", 4) || !strncmp(in, "VmFlags:", 8)) &&
		    len + n < size) {
			memcpy(out + len, in, n);
			len += n;
		}
		in += n;
	}
	out[len] = 0;
}

/* The kernel's normalized smaps of @proc after @op, into norm_a. */
static int oracle_state(struct oracle *o, const struct trace *t, const struct op *op, int proc,
			long result, const char *live_text)
{
	char err[512];

	if (o->mode == ORACLE_GOLDEN) {
		const struct golden_step *st = golden_find(&o->g, op->line, proc);

		if (!st) {
			printf("%s:%d: the golden file has no answer for [%s]\n", t->path, op->line,
			       t->procs[proc]);
			return -1;
		}
		snprintf(norm_a, TEXT_MAX, "%s", st->text);
		return 0;
	}
	if (!live_text) {
		if (kexec_smaps(&o->k, proc, text_a, err, sizeof(err))) {
			printf("%s:%d: kernel: %s\n", t->path, op->line, err);
			return -1;
		}
		live_text = text_a;
	}
	normalize(live_text, norm_a, TEXT_MAX);
	if (o->rec)
		golden_add(o->rec, op->line, proc, result, norm_a);
	return 0;
}

static int compare_proc(const struct trace *t, const struct op *op, int proc, struct model *m,
			int quiet)
{
	model_smaps(m, proc, text_b, TEXT_MAX);
	normalize(text_b, norm_b, TEXT_MAX);
	if (strcmp(norm_a, norm_b)) {
		char line[512];

		op_format(t, op, line, sizeof(line));
		printf("%s:%d: state of [%s] differs after '%s'\n", t->path, op->line,
		       t->procs[proc], line);
		if (!quiet) {
			show_states(norm_a, norm_b, "kernel", "model");
			show_ops_so_far(t, (int)(op - t->ops));
		}
		return -1;
	}
	return 0;
}

/*
 * Run @t on the kernel (or its recorded answers) and on the model; 0 if they
 * agree line by line, 1 on a difference (reported unless @silent), 2 if it
 * cannot run.
 */
int diff_trace_mode(struct trace *tp, enum oracle_mode mode, int quiet, int silent,
		    unsigned long *nlines)
{
	struct trace t = *tp;
	const char *path = t.path;
	static struct oracle o;
	struct model m;
	char err[512], line[512], ra[64], rb[64], gpath[4096];
	const char *who = mode == ORACLE_GOLDEN ? "golden kernel" : "kernel";
	const char *ktext;
	int failed = 0;
	FILE *saved = stdout;
	struct utsname u;
	struct uvma_sys_config machine;
	bool forbids_zero_page = false;

	for (int i = 0; i < t.nops; i++) {
		if (t.ops[i].kind == OP_BRK && mode != ORACLE_GOLDEN) {
			/* the agent's break is its own heap: moving it is not the trace's */
			fprintf(stderr, "uvma: %s:%d: brk cannot run on the kernel agent; "
				"check this trace with uvma run\n", path, t.ops[i].line);
			return 2;
		}
	}
	memset(&o, 0, sizeof(o));
	o.mode = mode;
	err[0] = 0;
	uname(&u);
	golden_path(path, gpath, sizeof(gpath));
	if (mode != ORACLE_GOLDEN)
		forbids_zero_page = kexec_host_forbids_zero_page() == 1;
	if (mode != ORACLE_GOLDEN && t.zero_page && (t.zero_page < 0) != forbids_zero_page) {
		printf("%s: skipped: it needs a kernel %s the zero page, unlike this host's\n", path,
		       t.zero_page < 0 ? "without" : "with");
		return 3;
	}
	if (mode == ORACLE_GOLDEN) {
		if (golden_load(gpath, &o.g, err, sizeof(err))) {
			fprintf(stderr, "uvma: %s\n", err);
			return 2;
		}
		forbids_zero_page = o.g.forbids_zero_page;
		if (o.g.hash != golden_hash_file(path)) {
			fprintf(stderr, "uvma: %s: the trace changed since %s was recorded "
				"(uvma diff --record)\n", path, gpath);
			golden_free(&o.g);
			return 2;
		}
		filter_initial(o.g.initial, text_a, TEXT_MAX);
	} else {
		if (kexec_start(&o.k, &t, text_a, err, sizeof(err))) {
			fprintf(stderr, "uvma: %s: kernel executor: %s\n", path, err);
			return 2;
		}
		if (kexec_check_trace(&o.k, &t, err, sizeof(err))) {
			fprintf(stderr, "uvma: %s\n", err);
			kexec_stop(&o.k);
			return 2;
		}
		filter_initial(text_a, text_b, TEXT_MAX);
		memcpy(text_a, text_b, strlen(text_b) + 1);
		if (mode == ORACLE_RECORD) {
			o.rec = golden_create(gpath, u.release, forbids_zero_page,
					      golden_hash_file(path), text_a);
			if (!o.rec) {
				fprintf(stderr, "uvma: cannot write %s\n", gpath);
				kexec_stop(&o.k);
				return 2;
			}
		}
	}
	/*
	 * The machine: the THP sizes of the trace's thp line, else the host's
	 * defaults.  A live run needs the host set up the same way; a trace
	 * that asks for other sizes is skipped there (golden answers, recorded
	 * on a host set up as the trace asks, still check it).  The zero page
	 * is the kernel's: the golden file's, or the host's, probed; a trace
	 * that asks for the other is skipped on a live run.
	 */
	uvma_sys_config_default(&machine);
	if (t.has_thp) {
		machine.thp_orders_always = t.thp_always;
		machine.thp_orders_madvise = t.thp_madvise;
	}
	machine.forbid_zero_page = forbids_zero_page;
	if (mode != ORACLE_GOLDEN) {
		struct uvma_sys_config host = machine;

		machine.numa_nodes = kexec_host_numa_nodes();
		if (!kexec_host_thp(&host) &&
		    (host.thp_orders_always != machine.thp_orders_always ||
		     host.thp_orders_madvise != machine.thp_orders_madvise)) {
			printf("%s: skipped: it needs other THP sizes than this host's "
			       "(/sys/kernel/mm/transparent_hugepage)\n", path);
			kexec_stop(&o.k);
			return 3;
		}
	}
	if (model_start(&m, &t, CARVEOUT_BASE, text_a, &machine, err, sizeof(err))) {
		fprintf(stderr, "uvma: %s: %s\n", path, err);
		if (mode == ORACLE_GOLDEN)
			golden_free(&o.g);
		else
			kexec_stop(&o.k);
		if (o.rec)
			golden_finish(o.rec);
		return 2;
	}
	m.defer_child_run = true;

	if (silent) {
		stdout = fopen("/dev/null", "w");
		if (!stdout)
			stdout = saved;
	}
	for (int i = 0; i < t.nops && (!failed || keep_going); i++) {
		const struct op *op = &t.ops[i];
		long kr, mr;
		const char *why;

		if (op->kind == OP_CARVEOUT || op->kind == OP_THP || op->kind == OP_ZEROPAGE)
			continue;
		if (op->kind == OP_EXPECT_VMAS || op->kind == OP_EXPECT_VMA) {
			if (!expect_applies(op, 0))
				continue;
			if (mode != ORACLE_GOLDEN &&
			    (kexec_smaps(&o.k, op->proc, text_a, err, sizeof(err)) ||
			     check_expect(&t, op, text_a, CARVEOUT_BASE, "kernel")))
				failed = 1;
			model_smaps(&m, op->proc, text_b, TEXT_MAX);
			if (check_expect(&t, op, text_b, m.base, "model"))
				failed = 1;
			continue;
		}
		err[0] = 0;
		ktext = NULL;
		if (mode == ORACLE_GOLDEN) {
			const struct golden_step *st = golden_find(&o.g, op->line, op->proc);

			if (!st) {
				printf("%s:%d: the golden file has no answer for this line\n", path,
				       op->line);
				failed = 1;
				break;
			}
			kr = st->result;
		} else if (kexec_step(&o.k, &t, op, &kr, text_a, err, sizeof(err))) {
			op_format(&t, op, line, sizeof(line));
			printf("%s:%d: kernel: '%s': %s\n", path, op->line, line, err);
			failed = 1;
			break;
		} else {
			ktext = text_a;
		}
		mr = model_step(&m, &t, op);
		(*nlines)++;
		op_format(&t, op, line, sizeof(line));
		if (kr != mr) {
			trace_format_result(ra, sizeof(ra), kr);
			trace_format_result(rb, sizeof(rb), mr);
			printf("%s:%d: '%s' returned %s on the %s, %s on the model\n", path,
			       op->line, line, ra, who, rb);
			if (!quiet)
				show_ops_so_far(&t, i);
			failed = 1;
			if (!keep_going)
				break;
		}
		if (op->has_result && kr != expected_result(op, CARVEOUT_BASE)) {
			trace_format_result(ra, sizeof(ra), expected_result(op, CARVEOUT_BASE));
			trace_format_result(rb, sizeof(rb), kr);
			printf("%s:%d: '%s' returned %s on the %s, the trace expects %s\n", path,
			       op->line, line, rb, who, ra);
			failed = 1;
			break;
		}
		if (uvma_sys_violations(m.sys, &why)) {
			printf("%s:%d: invariant broken after '%s': %s\n", path, op->line, line, why);
			failed = 1;
			break;
		}
		/* an exited process has no state; its result is still an answer */
		if (op->kind == OP_EXIT && o.rec)
			golden_add(o.rec, op->line, op->proc, kr, "");
		if (op->kind != OP_EXIT) {
			if (oracle_state(&o, &t, op, op->proc, kr, ktext) ||
			    compare_proc(&t, op, op->proc, &m, quiet))
				failed = 1;
		}
		if (op->kind == OP_FORK && (!failed || keep_going)) {
			/* the kernel's child has run by the time its state is read */
			if (m.mm[op->arg])
				uvma_mm_run(m.mm[op->arg]);
			if (oracle_state(&o, &t, op, op->arg, kr, NULL) ||
			    compare_proc(&t, op, op->arg, &m, quiet))
				failed = 1;
		}
	}
	if (!failed)
		printf("%s: %s and model agree (%d lines)\n", path, who, t.nops);
	else if (mode == ORACLE_GOLDEN && strcmp(o.g.kernel, u.release))
		printf("%s: note: the answers were recorded on %s; this is %s\n", path, o.g.kernel,
		       u.release);
	if (stdout != saved) {
		fclose(stdout);
		stdout = saved;
	}
	if (o.rec && golden_finish(o.rec)) {
		fprintf(stderr, "uvma: cannot write %s\n", gpath);
		failed = 2;
	}
	if (mode == ORACLE_GOLDEN)
		golden_free(&o.g);
	else
		kexec_stop(&o.k);
	model_stop(&m);
	return failed;
}

int diff_trace(struct trace *t, int quiet, int silent, unsigned long *nlines)
{
	return diff_trace_mode(t, ORACLE_LIVE, quiet, silent, nlines);
}

static int diff_one(const char *path, enum oracle_mode mode, int quiet, unsigned long *nlines)
{
	struct trace t;
	char err[512];
	int r;

	if (trace_load(path, &t, err, sizeof(err))) {
		fprintf(stderr, "uvma: %s\n", err);
		return 2;
	}
	if (t.model_only) {
		/* swap, KSM passes, pins, migrations: the host cannot be made to do them */
		printf("%s: %s: line %d runs only on the model; check the trace with uvma run\n",
		       path, mode == ORACLE_RECORD ? "cannot record" : "skipped", t.model_only);
		trace_free(&t);
		return mode == ORACLE_RECORD ? 2 : 3;
	}
	r = diff_trace_mode(&t, mode, quiet, 0, nlines);
	trace_free(&t);
	return r;
}

static int cmd_diff(int argc, char **argv)
{
	int quiet = 0, status = 0, files = 0, agreed = 0, flaky = 0, skipped = 0;
	unsigned long nlines = 0, retries = 0;
	enum oracle_mode mode = ORACLE_LIVE;
	struct utsname u;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--quiet")) {
			quiet = 1;
		} else if (!strcmp(argv[i], "--record")) {
			mode = ORACLE_RECORD;
		} else if (!strcmp(argv[i], "--keep-going")) {
			keep_going = 1;
		} else if (!strcmp(argv[i], "--retries")) {
			char *end;

			if (i + 1 == argc || (retries = strtoul(argv[i + 1], &end, 10), *end) ||
			    retries > 10) {
				fprintf(stderr, "uvma diff: --retries takes a number from 0 to 10\n");
				return 2;
			}
			argv[i + 1] = "--retries-value";
			i++;
		} else if (!strcmp(argv[i], "--retries-value")) {
			continue;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "uvma diff: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	uname(&u);
	for (int i = 0; i < argc; i++) {
		int r;

		if (argv[i][0] == '-' && argv[i][1])
			continue;
		files++;
		r = diff_one(argv[i], mode, quiet, &nlines);
		/*
		 * Per-CPU page batches are shared with every process on the
		 * agent's CPU: a difference the kernel does not repeat is the
		 * kernel disagreeing with itself, reported but not a failure.
		 */
		for (unsigned long t = 0; r == 1 && t < retries; t++) {
			unsigned long again = 0;

			if (diff_one(argv[i], mode, 1, &again) == 0) {
				printf("%s: flaky: the kernel answered differently on a rerun\n",
				       argv[i]);
				flaky++;
				r = 0;
			}
		}
		if (r == 3) {
			skipped++;
			continue;
		}
		agreed += r == 0;
		if (r > status)
			status = r;
	}
	if (!files) {
		fprintf(stderr, "uvma diff: no trace given\n%s", usage);
		return 2;
	}
	printf("diff against %s: %d of %d traces agree (%d only on a rerun), %lu operations "
	       "compared", u.release, agreed, files - skipped, flaky, nlines);
	if (skipped)
		printf("; %d skipped (THP sizes, model-only lines)", skipped);
	printf("\n");
	return status;
}

/* ---- uvma demo ----------------------------------------------------------------- */

static void demo_show(struct uvma_mm *mm, uint64_t lo, uint64_t hi, const char *title)
{
	struct uvma_vma_info vi;

	printf("%s\n", title);
	uvma_render_maps(mm, lo, hi, text_a, TEXT_MAX);
	fputs(text_a, stdout);
	for (uint64_t a = lo; !uvma_find_vma(mm, a, &vi) && vi.start < hi; a = vi.end)
		printf("    %llx-%llx: pgoff %#llx, anon_vma %llu (%s)\n",
		       (unsigned long long)vi.start, (unsigned long long)vi.end,
		       (unsigned long long)vi.pgoff, (unsigned long long)vi.anon_vma_id,
		       vi.anon_vma_id ? "faulted" : "unfaulted");
	printf("\n");
}

/*
 * The demonstration under one policy: A and B faulted, B moved right after A.
 * Returns the map count after the move, or -1; with @show, prints the maps.
 */
static long demo_run(enum uvma_policy policy, bool show)
{
	struct uvma_sys_config cfg;
	struct uvma_sys *sys;
	struct uvma_mm *mm;
	const uint64_t base = CARVEOUT_BASE, pg = 4096;
	const int rw = UVMA_PROT_READ | UVMA_PROT_WRITE;
	const int flags = UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED_NOREPLACE;
	long r, n = -1;

	uvma_sys_config_default(&cfg);
	cfg.policy = policy;
	sys = uvma_sys_create(&cfg);
	mm = sys ? uvma_mm_create(sys) : NULL;
	if (!mm || uvma_mmap(mm, base, 4 * pg, rw, flags, NULL, 0) < 0 ||
	    uvma_mmap(mm, base + 64 * pg, 4 * pg, rw, flags, NULL, 0) < 0 ||
	    uvma_touch(mm, base, 4 * pg, true) || uvma_touch(mm, base + 64 * pg, 4 * pg, true))
		goto out;
	if (show)
		demo_show(mm, base, base + 128 * pg,
			  "Two private anonymous VMAs, A and B, both written to (faulted):");
	/* the 2025 series relocates only when asked */
	r = uvma_mremap(mm, base + 64 * pg, 4 * pg, 4 * pg,
			UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED |
				(policy == UVMA_POLICY_RELOCATE ? UVMA_MREMAP_RELOCATE_ANON : 0),
			base + 4 * pg);
	if (r < 0)
		goto out;
	if (show) {
		printf("mremap(B, 4 pages, MREMAP_MAYMOVE|MREMAP_FIXED, right after A) = %#lx\n\n", r);
		demo_show(mm, base, base + 128 * pg, "After the move:");
	}
	n = (long)uvma_mm_map_count(mm);
out:
	uvma_sys_destroy(sys);
	return n;
}

static int cmd_demo(void)
{
	static const struct {
		enum uvma_policy policy;
		const char *what;
	} designs[] = {
		{ UVMA_POLICY_MATENA, "matena   (2022 RFC: pgoff rewritten, anon_vmas merged)" },
		{ UVMA_POLICY_RELOCATE, "relocate (2025 series, MREMAP_RELOCATE_ANON passed)" },
		{ UVMA_POLICY_AUTO, "auto     (2025 proposal: no flag, per-folio history)" },
		{ UVMA_POLICY_IDEAL, "ideal    (upper bound: shared pages unshared first)" },
	};
	long n;

	printf("uvma demo: the Linux %s VMA rules, modelled in userspace\n\n", "6.18.44");
	n = demo_run(UVMA_POLICY_LINUX, true);
	if (n < 0) {
		fprintf(stderr, "uvma: demo failed\n");
		return 1;
	}
	printf("A and B are adjacent with identical flags, but they stay two VMAs: B kept the\n"
	       "page offset of its old address, because its folios' indices were computed from\n"
	       "it, and it has its own anon_vma.  The merge needs A.pgoff + 4 == B.pgoff.\n"
	       "Map count: %ld.\n\nThe same program under the relocation designs:\n", n);
	printf("  %-56s %ld VMAs\n", "linux    (the host kernel)", n);
	for (size_t i = 0; i < sizeof(designs) / sizeof(designs[0]); i++) {
		n = demo_run(designs[i].policy, false);
		if (n < 0) {
			fprintf(stderr, "uvma: demo failed\n");
			return 1;
		}
		printf("  %-56s %ld VMA%s\n", designs[i].what, n, n == 1 ? "" : "s");
	}
	printf("(uvma run --policy all FILE compares them on any trace; docs/policies.md.)\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	/* "uvma COMMAND --help": the same text (every command's options are in it) */
	if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		static const char *const commands[] = { "demo", "run",	"diff", "replay",
							"record", "maps", "fuzz" };

		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[1], commands[i])) {
				fputs(usage, stdout);
				return 0;
			}
	}
	if (alloc_buffers())
		return 1;
	if (!strcmp(argv[1], "demo")) {
		if (argc > 2) {
			fprintf(stderr, "uvma demo: takes no arguments ('%s')\n", argv[2]);
			return 2;
		}
		return cmd_demo();
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "diff"))
		return cmd_diff(argc - 2, argv + 2);
	if (!strcmp(argv[1], "replay"))
		return cmd_replay(argc - 2, argv + 2);
	if (!strcmp(argv[1], "record"))
		return cmd_record(argc - 2, argv + 2);
	if (!strcmp(argv[1], "maps"))
		return cmd_maps(argc - 2, argv + 2);
	if (!strcmp(argv[1], "fuzz"))
		return cmd_fuzz(argc - 2, argv + 2);
	fprintf(stderr, "uvma: unknown command '%s'\n%s", argv[1], usage);
	return 2;
}
