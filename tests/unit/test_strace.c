// SPDX-License-Identifier: MIT
/*
 * The strace reader and the replay over it: every shape of strace output
 * (-f with -o or on a terminal, -ff, timestamps, -T, -y, -X raw and
 * verbose, unfinished and resumed calls), compressed inputs, malformed and
 * truncated ones, and what the replay makes of processes and placements.
 */
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "helpers.h"
#include "replay.h"
#include "strace.h"

static char dir[] = "/tmp/uvma-test-strace-XXXXXX";

static const char *write_file(const char *name, const void *data, size_t len)
{
	static char path[8][256];
	static int k;
	char *p = path[k++ % 8];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return p;
}

static const char *write_text(const char *name, const char *text)
{
	return write_file(name, text, strlen(text));
}

/* Every event of @path as "pid name nargs result" lines, or the error. */
static char *events(const char *path, int pid)
{
	static char out[8192];
	char err[512];
	struct sc_event ev;
	struct strace_reader *r = strace_open(path, pid, err, sizeof(err));
	size_t n = 0;
	int got;

	assert_non_null(r);
	out[0] = 0;
	while ((got = strace_next(r, &ev, err, sizeof(err))) > 0) {
		if (ev.kind == SC_CALL)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%d %s %d %ld%s\n", ev.pid,
					      ev.name, ev.nargs, ev.result_known ? ev.result : 999,
					      ev.result_known ? "" : "?");
		else
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%d %s %d\n", ev.pid,
					      ev.kind == SC_EXITED ? "+exited" : "+killed", ev.status);
	}
	if (got < 0)
		snprintf(out + n, sizeof(out) - n, "error: %s\n", err);
	strace_close(r);
	return out;
}

static void one_call(char *body, struct sc_event *ev)
{
	char err[256];

	if (strace_parse_call(body, ev, err, sizeof(err)))
		fail_msg("'%s': %s", body, err);
}

static void call_bodies(void **state)
{
	char a[] = "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000001000";
	char b[] = "mmap(0x7f0000200000, 0x2000, 0x3, 0x32, 0xffffffff, 0) = 0x7f0000200000";
	char c[] = "mmap(NULL, 41679, 0x1 /* PROT_READ */, 0x802 /* MAP_PRIVATE|MAP_DENYWRITE */, "
		   "3</usr/lib/x86_64-linux-gnu/libc.so.6>, 0x26000) = 0x7f0000003000";
	char d[] = "mremap(0x7f0000001000, 4096, 8192, MREMAP_MAYMOVE) = -1 ENOMEM (Cannot allocate memory)";
	char e[] = "exit_group(0) = ?";
	char f[] = "openat(AT_FDCWD</tmp>, \"/etc/a, (b)\", O_RDONLY|O_CLOEXEC) = 3</etc/a, (b)>";
	char g[] = "clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0, stack=0x7f00} => {parent_tid=[22496]}, 88) = 22496";
	char h[] = "madvise(0x7f0000001000, 4096, MADV_DONTNEED|0x40) = 0";
	char i[] = "mmap(NULL, 8192, PROT_READ|PROT_SPARKLE, MAP_PRIVATE, -1, 0) = -1 EINVAL (Invalid argument)";
	char j[] = "futex(0x7f, FUTEX_WAIT, 2, NULL) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)";
	struct sc_event ev;

	(void)state;
	one_call(a, &ev);
	assert_string_equal(ev.name, "mmap");
	assert_int_equal(ev.nargs, 6);
	assert_int_equal(ev.arg[0].val, 0);
	assert_int_equal(ev.arg[2].val, UVMA_PROT_READ | UVMA_PROT_WRITE);
	assert_int_equal(ev.arg[3].val, UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS);
	assert_int_equal((long)ev.arg[4].val, -1);
	assert_int_equal(ev.result, 0x7f0000001000);
	one_call(b, &ev);	/* -X raw */
	assert_int_equal(ev.arg[3].val, 0x32);
	assert_int_equal(ev.arg[1].val, 0x2000);
	one_call(c, &ev);	/* -X verbose and -y */
	assert_int_equal(ev.arg[2].val, 1);
	assert_int_equal(ev.arg[3].val, 0x802);
	assert_int_equal(ev.arg[4].val, 3);
	assert_string_equal(ev.arg[4].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(ev.arg[5].val, 0x26000);
	one_call(d, &ev);
	assert_true(ev.result_known);
	assert_int_equal(ev.result, -ENOMEM);
	one_call(e, &ev);
	assert_false(ev.result_known);
	one_call(f, &ev);	/* commas and parentheses inside strings and paths */
	assert_int_equal(ev.nargs, 3);
	assert_string_equal(ev.arg[1].text, "\"/etc/a, (b)\"");
	assert_string_equal(ev.result_path, "/etc/a, (b)");
	one_call(g, &ev);
	assert_int_equal(ev.nargs, 2);
	assert_int_equal(ev.result, 22496);
	one_call(h, &ev);	/* a number among the symbols */
	assert_int_equal(ev.arg[2].val, UVMA_MADV_DONTNEED | 0x40);
	one_call(i, &ev);	/* an unknown symbol: not a number, for the replay to refuse */
	assert_false(ev.arg[2].is_num);
	one_call(j, &ev);
	assert_false(ev.result_known);
}

static void bad_bodies(void **state)
{
	static const char *const bad[][2] = {
		{ "mmap(NULL, 8192", "unbalanced" },
		{ "mmap(NULL, 8192) 0x1000", "no result" },
		{ "mmap(NULL) = -1 EWHATEVER (x)", "unknown errno 'EWHATEVER'" },
		{ "mmap(NULL) = banana", "bad result" },
		{ "(NULL) = 0", "bad system call name" },
		{ "mm ap(NULL) = 0", "bad system call name" },
		{ "open(\"abc) = 0", "unbalanced" },
	};
	char err[256], buf[256];
	struct sc_event ev;

	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		snprintf(buf, sizeof(buf), "%s", bad[k][0]);
		if (!strace_parse_call(buf, &ev, err, sizeof(err)))
			fail_msg("'%s' was accepted", bad[k][0]);
		if (!strstr(err, bad[k][1]))
			fail_msg("'%s': '%s' does not say '%s'", bad[k][0], err, bad[k][1]);
	}
}

static const char f_with_o[] =
	"100 execve(\"/bin/t\", [\"t\"], 0x7ffe /* 37 vars */) = 0\n"
	"100 brk(NULL)                         = 0x555555559000\n"
	"100 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0} <unfinished ...>\n"
	"101 rseq(0x7f, 0x20, 0, 0x53053053 <unfinished ...>\n"
	"100 <... clone3 resumed> => {parent_tid=[101]}, 88) = 101\n"
	"101 <... rseq resumed>)               = 0\n"
	"101 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>\n"
	"100 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---\n"
	"101 <... mmap resumed>)               = 0x7f0000000000 <0.000012>\n"
	"101 +++ exited with 0 +++\n"
	"100 exit_group(3)                     = ?\n"
	"100 +++ killed by SIGKILL +++\n";

static void shapes(void **state)
{
	const char *p;
	static const char want[] = "100 execve 3 0\n100 brk 1 93824992251904\n100 clone3 2 101\n"
				   "101 rseq 4 0\n101 mmap 6 139637976727552\n101 +exited 0\n"
				   "100 exit_group 1 999?\n100 +killed 0\n";

	(void)state;
	p = write_text("f.txt", f_with_o);
	assert_string_equal(events(p, 0), want);
	/* on a terminal: "[pid N]", and the first process bare until a second appears */
	p = write_text("term.txt",
		       "execve(\"/bin/t\", [\"t\"], 0x7ffe /* 37 vars */) = 0\n"
		       "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD <unfinished ...>\n"
		       "[pid   201] mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000001000\n"
		       "[pid   200] <... clone resumed>, child_tidptr=0x7f) = 201\n"
		       "munmap(0x7f0000001000, 4096) = 0\n");
	assert_string_equal(events(p, 0), "0 execve 3 0\n201 mmap 6 139637976731648\n"
					  "200 clone 3 201\n200 munmap 2 0\n");
	/* timestamps: -t, -tt, -ttt, -r, with and without pids */
	p = write_text("ts.txt",
		       "300 12:34:56 brk(NULL) = 0x1000\n"
		       "300 12:34:56.123456 brk(NULL) = 0x1000\n"
		       "1700000000.123456 brk(NULL) = 0x1000\n"
		       "     0.000123 brk(NULL) = 0x1000\n");
	assert_string_equal(events(p, 0), "300 brk 1 4096\n300 brk 1 4096\n0 brk 1 4096\n0 brk 1 4096\n");
	/* -ff: the pid comes from the file name */
	p = write_text("ff.4242", "munmap(0x7f0000001000, 4096) = 0\n+++ exited with 1 +++\n");
	assert_string_equal(events(p, 4242), "4242 munmap 2 0\n4242 +exited 1\n");
	/* strace's own notes and calls resumed before the trace began are skipped */
	p = write_text("notes.txt",
		       "strace: Process 77 attached\n"
		       "77 <... nanosleep resumed>NULL) = 0\n"
		       "77 munmap(0x7f0000001000, 4096) = 0\n");
	assert_string_equal(events(p, 0), "77 munmap 2 0\n");
	/* a call resumed and cut again */
	p = write_text("twice.txt",
		       "5 mmap(NULL, 8192, <unfinished ...>\n"
		       "5 <... mmap resumed>PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, <unfinished ...>\n"
		       "5 <... mmap resumed>-1, 0) = 0x7f0000002000\n");
	assert_string_equal(events(p, 0), "5 mmap 6 139637976735744\n");
}

static void malformed(void **state)
{
	const char *p;

	(void)state;
	p = write_text("bad1.txt", "100 munmap(0x1000, 4096) = 0\n100 this is not strace\n");
	assert_non_null(strstr(events(p, 0), "error: "));
	assert_non_null(strstr(events(p, 0), "bad1.txt:2: not a system call"));
	p = write_text("bad2.txt", "100 munmap(0x1000, 4096) = -1 ENOTANERRNO (x)\n");
	assert_non_null(strstr(events(p, 0), "bad2.txt:1: munmap: unknown errno 'ENOTANERRNO'"));
	p = write_text("bad3.txt", "100 +++ exploded +++\n");
	assert_non_null(strstr(events(p, 0), "bad3.txt:1: unknown process event"));
	p = write_text("bad4.txt", "[pid x] munmap(0x1000, 4096) = 0\n");
	assert_non_null(strstr(events(p, 0), "bad4.txt:1: bad pid or timestamp"));
	p = write_file("bad5.txt", "100 munmap(0x1000,\0 4096) = 0\n", 30);
	assert_non_null(strstr(events(p, 0), "a NUL byte"));
}

/* ---- compressed inputs ------------------------------------------------------------ */

static size_t gz(const char *in, unsigned char *out, size_t cap)
{
	z_stream z = { 0 };

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)strlen(in);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static size_t xz(const char *in, unsigned char *out, size_t cap)
{
	size_t pos = 0;

	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (const uint8_t *)in,
						 strlen(in), out, &pos, cap), LZMA_OK);
	return pos;
}

static size_t zst(const char *in, unsigned char *out, size_t cap)
{
	size_t n = ZSTD_compress(out, cap, in, strlen(in), 3);

	assert_false(ZSTD_isError(n));
	return n;
}

static void compressed(void **state)
{
	static unsigned char buf[8192];
	static const char want[] = "100 execve 3 0\n100 brk 1 93824992251904\n100 clone3 2 101\n"
				   "101 rseq 4 0\n101 mmap 6 139637976727552\n101 +exited 0\n"
				   "100 exit_group 1 999?\n100 +killed 0\n";
	size_t (*codec[])(const char *, unsigned char *, size_t) = { gz, xz, zst };
	const char *names[] = { "f.txt.gz", "f.txt.xz", "f.txt.zst" };

	(void)state;
	for (int k = 0; k < 3; k++) {
		size_t n = codec[k](f_with_o, buf, sizeof(buf));
		const char *p = write_file(names[k], buf, n);
		char *got;

		assert_string_equal(events(p, 0), want);
		/* cut short: a clear error, never a silent end */
		p = write_file("cut", buf, n * 2 / 3);
		got = events(p, 0);
		if (!strstr(got, "error: ") || (!strstr(got, "truncated") && !strstr(got, "corrupt")))
			fail_msg("%s cut short: %s", names[k], got);
		/* damaged in the middle */
		buf[n / 2] ^= 0x55;
		buf[n / 2 + 1] ^= 0xaa;
		p = write_file("damaged", buf, n);
		got = events(p, 0);
		if (!strstr(got, "error: "))
			fail_msg("%s damaged: no error in %s", names[k], got);
	}
}

/* ---- the replay ------------------------------------------------------------------- */

static struct replay_result run(const char *path, enum fault_model faults, int policy)
{
	struct replay_config cfg = { .policy = (enum uvma_policy)policy, .faults = faults,
				     .maps_pid = 0 };
	struct replay_result res;
	char *paths[1] = { (char *)path };
	char err[512];

	if (replay_run(paths, 1, &cfg, &res, err, sizeof(err)))
		fail_msg("replay: %s", err);
	return res;
}

/* A program that grows a buffer with mremap next to a written neighbour. */
static const char grow[] =
	"10 execve(\"/bin/grow\", [\"grow\"], 0x7ffe /* 1 vars */) = 0\n"
	"10 mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000100000\n"
	"10 mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000200000\n"
	"10 mremap(0x7f0000200000, 16384, 16384, MREMAP_MAYMOVE|MREMAP_FIXED, 0x7f0000104000) = 0x7f0000104000\n"
	"10 +++ exited with 0 +++\n";

static void replay_policies(void **state)
{
	const char *p = write_text("grow.txt", grow);
	struct replay_result res;

	(void)state;
	/* written: the moved buffer was in use, and its neighbour by the time of the move */
	res = run(p, FAULTS_WRITTEN, UVMA_POLICY_LINUX);
	assert_int_equal(res.divergences, 0);
	assert_int_equal(res.nspaces, 1);
	assert_string_equal(res.spaces[0].comm, "grow");
	assert_true(res.spaces[0].exited);
	/* the exec layout (stack, vvar, vvar_vclock, vdso) and two buffers */
	assert_int_equal(res.spaces[0].vmas_end, 6);
	assert_non_null(res.maps);
	replay_result_free(&res);
	res = run(p, FAULTS_WRITTEN, UVMA_POLICY_AUTO);
	assert_int_equal(res.spaces[0].vmas_end, 5);
	assert_int_equal(res.spaces[0].ev.done[UVMA_EVENT_RELOCATE], 1);
	replay_result_free(&res);
	/* nothing written: both merge as the kernel's would, pgoff reset on the move */
	res = run(p, FAULTS_NONE, UVMA_POLICY_LINUX);
	assert_int_equal(res.spaces[0].vmas_end, 5);
	replay_result_free(&res);
}

static void replay_processes(void **state)
{
	/*
	 * A thread shares the address space, a fork copies it, a child's line
	 * before its parent's clone returned waits for it, exec starts afresh.
	 */
	const char *p = write_text("procs.txt",
		"20 execve(\"/bin/p\", [\"p\"], 0x7ffe /* 1 vars */) = 0\n"
		"20 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0} <unfinished ...>\n"
		"21 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000300000\n"
		"20 <... clone3 resumed> => {parent_tid=[21]}, 88) = 21\n"
		"20 munmap(0x7f0000300000, 4096) = 0\n"
		"20 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000400000\n"
		"20 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 22\n"
		"22 munmap(0x7f0000400000, 4096) = 0\n"
		"22 execve(\"/bin/q\", [\"q\"], 0x7ffe /* 1 vars */) = 0\n"
		"22 munmap(0x7f0000400000, 4096) = 0\n"
		"22 mmap(0x7f0000400000, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0) = 0x7f0000400000\n"
		"22 +++ exited with 0 +++\n"
		"21 +++ exited with 0 +++\n"
		"20 mmap(0x7f0000400000, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0) = -1 EEXIST (File exists)\n"
		"20 +++ exited with 0 +++\n");
	struct replay_result res = run(p, FAULTS_WRITTEN, UVMA_POLICY_LINUX);

	(void)state;
	assert_int_equal(res.divergences, 0);
	assert_int_equal(res.nspaces, 3);	/* p, its fork, q */
	assert_int_equal(res.spaces[0].pid, 20);
	assert_int_equal(res.spaces[1].pid, 22);
	assert_string_equal(res.spaces[2].comm, "q");
	/* p: exec layout 4 + its 8 KiB mapping; the thread's page was unmapped by p */
	assert_int_equal(res.spaces[0].vmas_end, 5);
	/* the fork: the copy with its first page unmapped, until exec */
	assert_int_equal(res.spaces[1].vmas_end, 5);
	assert_int_equal(res.spaces[2].vmas_end, 5);
	replay_result_free(&res);
}

/*
 * Many processes, each child's first line before its parent's clone
 * returns: the process table grows while lines wait (ASan watches).
 */
static void replay_many_processes(void **state)
{
	static char text[64 * 1024];
	size_t n = 0;
	struct replay_result res;
	const char *p;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "1000 execve(\"/bin/m\", [\"m\"], 0x7ffe /* 1 vars */) = 0\n");
	for (int i = 1; i <= 40; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "1000 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>\n"
				      "%d mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = %#llx\n"
				      "1000 <... clone resumed>) = %d\n"
				      "%d munmap(%#llx, 4096) = 0\n"
				      "%d +++ exited with 0 +++\n",
				      1000 + i, 0x7f0000000000ULL + (unsigned long long)i * 0x10000, 1000 + i,
				      1000 + i, 0x7f0000000000ULL + (unsigned long long)i * 0x10000, 1000 + i);
	}
	p = write_text("many.txt", text);
	res = run(p, FAULTS_WRITTEN, UVMA_POLICY_LINUX);
	assert_int_equal(res.divergences, 0);
	assert_int_equal(res.nspaces, 41);
	for (int i = 1; i <= 40; i++) {
		assert_int_equal(res.spaces[i].pid, 1000 + i);
		assert_true(res.spaces[i].exited);
		/* the exec layout's four VMAs: the page mapped and unmapped again */
		assert_int_equal(res.spaces[i].vmas_end, 4);
	}
	replay_result_free(&res);
}

static void replay_divergence(void **state)
{
	/* the kernel refused what the model accepts: reported, and the replay goes on */
	const char *p = write_text("div.txt",
		"30 execve(\"/bin/d\", [\"d\"], 0x7ffe /* 1 vars */) = 0\n"
		"30 mprotect(0x7f0000500000, 4096, PROT_READ) = 0\n"
		"30 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot allocate memory)\n"
		"30 mmap(NULL, 4096, PROT_READ|PROT_SPARKLE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 EINVAL (Invalid argument)\n"
		"30 munmap(0x7f0000500000, 4096) = 0\n");
	struct replay_result res = run(p, FAULTS_WRITTEN, UVMA_POLICY_LINUX);

	(void)state;
	/* the mprotect on memory mapped before the trace implies that memory */
	assert_int_equal(res.implied, 1);
	/* ENOMEM: the model had room; the unknown flag: the reader cannot say */
	assert_int_equal(res.divergences, 2);
	assert_int_equal(res.calls, 4);
	replay_result_free(&res);
}

/* A recorded trace's maps checksums: checked under the linux policy, counted, the first named. */
static void replay_maps_checksums(void **state)
{
	/* one 4-page VMA: its maps line and the FNV-1a sum of the compared fields */
	const char *p = write_text("maps.utrace",
		"uvma-trace 1\n"
		"mmap 0x7f0000100000 4p rw private,anonymous,fixed = 0x7f0000100000\n"
		"maps 0 0xcbf29ce484222325\n"
		"maps 1 0x1\n"
		"munmap 0x7f0000100000 4p = 0\n"
		"maps 0 0xcbf29ce484222325\n");
	struct replay_result res = run(p, FAULTS_WRITTEN, UVMA_POLICY_LINUX);

	(void)state;
	assert_int_equal(res.maps_checked, 3);
	/* the first line is wrong too: the mapped VMA is in the model's maps */
	assert_int_equal(res.maps_differ, 2);
	assert_int_equal(res.maps_first_line, 3);
	replay_result_free(&res);
	/* other policies differ by design: nothing checked */
	res = run(p, FAULTS_WRITTEN, UVMA_POLICY_MATENA);
	assert_int_equal(res.maps_checked, 0);
	assert_int_equal(res.maps_differ, 0);
	replay_result_free(&res);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(call_bodies),
		cmocka_unit_test(bad_bodies),
		cmocka_unit_test(shapes),
		cmocka_unit_test(malformed),
		cmocka_unit_test(compressed),
		cmocka_unit_test(replay_policies),
		cmocka_unit_test(replay_maps_checksums),
		cmocka_unit_test(replay_processes),
		cmocka_unit_test(replay_many_processes),
		cmocka_unit_test(replay_divergence),
	};

	return cmocka_run_group_tests_name("strace reader and replay", tests, setup, teardown);
}
