// SPDX-License-Identifier: MIT
/*
 * The .utrace reader: what it accepts, and for every kind of malformed
 * input the FILE:LINE: message and a trace left empty.
 */
#include "helpers.h"
#include "mapsum.h"
#include "trace.h"

static void accepts_the_design_example(void **state)
{
	static const char text[] =
		"uvma-trace 1\n"
		"carveout 64p                       # comment\n"
		"mmap @1p 10p rw private,anonymous,fixed\n"
		"touch @1p 10p w\n"
		"mprotect @1p 5p r\n"
		"mremap @7p 5p 5p maymove,fixed @1007p\n"
		"madvise @1p 5p dontfork\n"
		"fork child\n"
		"[child] touch @1p 5p w\n"
		"[child] munmap @1p 1p\n"
		"mmap - 1p rw private,anonymous = 0x7f0000001000\n"
		"[child] mremap @1p 1p 1p maymove,fixed,must_relocate_anon @20p = -EFAULT\n"
		"expect vmas 3\n"
		"expect vma @1p 10p\n"
		"expect[auto,matena] vmas 1\n"
		"file f 16p\n"
		"mmap @40p 2p r shared fd=f off=0x2000 = @40p\n";
	struct trace t;
	char err[256];

	(void)state;
	assert_int_equal(trace_parse("example", text, &t, err, sizeof(err)), 0);
	assert_int_equal(t.nops, 16);
	assert_int_equal(t.carveout, 64 * 4096);
	assert_int_equal(t.nprocs, 2);
	assert_int_equal(t.ops[1].kind, OP_MMAP);
	assert_int_equal(t.ops[1].flags, UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED);
	assert_true(t.ops[1].addr.rel);
	assert_int_equal(t.ops[1].addr.val, 4096);
	assert_int_equal(t.ops[4].addr2.val, 1007 * 4096);
	assert_int_equal(t.ops[7].proc, 1);
	assert_int_equal(t.ops[9].result, 0x7f0000001000);
	assert_int_equal(t.ops[10].result, -EFAULT);
	assert_int_equal(t.ops[10].flags & UVMA_MREMAP_MUST_RELOCATE_ANON,
			 UVMA_MREMAP_MUST_RELOCATE_ANON);
	assert_int_equal(t.ops[13].policies, (1u << policy_bit("auto")) | (1u << policy_bit("matena")));
	assert_int_equal(t.ops[15].file, 0);
	assert_int_equal(t.ops[15].off, 0x2000);
	assert_true(t.ops[15].result_rel);
	trace_free(&t);
}

static const struct {
	const char *text;
	const char *message;
} bad[] = {
	{ "", "bad:1: empty file" },
	{ "uvma-trace 2\n", "bad:1: not a uvma trace" },
	{ "hello\n", "bad:1: not a uvma trace" },
	{ "uvma-trace 1\nfrobnicate 1 2\n", "bad:2: unknown operation 'frobnicate'" },
	{ "uvma-trace 1\nmmap @1p 1p rw private,sparkly\n", "bad:2: unknown mmap flag 'sparkly'" },
	{ "uvma-trace 1\nmmap @1p 1p rwq private\n", "bad:2: bad protection 'rwq'" },
	{ "uvma-trace 1\nmmap @1p 1p rw\n", "bad:2: expected 'mmap ADDR LEN PROT FLAGS" },
	{ "uvma-trace 1\nmmap @1p zz rw private\n", "bad:2: bad length 'zz'" },
	{ "uvma-trace 1\nmunmap 0x10000 1p = -ENOTANERRNO\n", "bad:2: unknown errno 'ENOTANERRNO'" },
	{ "uvma-trace 1\n[ghost] munmap @0p 1p\n", "bad:2: no process 'ghost'" },
	{ "uvma-trace 1\nfork a\nfork a\n", "bad:3: process 'a' exists already" },
	{ "uvma-trace 1\nexit\n", "bad:2: the first process cannot exit" },
	{ "uvma-trace 1\nmseal @1p\n", "bad:2: expected 'mseal ADDR LEN [FLAGS]'" },
	{ "uvma-trace 1\nmadvise @1p 1p -x\n", "bad:2: bad advice '-x'" },
	{ "uvma-trace 1\nmbind @1p 1p bind 0x1 64\n", "bad:2: expected 'mbind ADDR LEN MODE" },
	{ "uvma-trace 1\nmbind @1p 1p tidy 0x1 64 0\n", "bad:2: unknown mbind mode 'tidy'" },
	{ "uvma-trace 1\nmbind @1p 1p bind x 64 0\n", "bad:2: expected 'mbind ADDR LEN MODE" },
	{ "uvma-trace 1\nmadvise @1p 1p ,\n", "bad:2: bad advice ','" },
	{ "uvma-trace 1\nmmap @1p 1p rw private,0x100000000\n", "bad:2: bad mmap flag '0x100000000'" },
	{ "uvma-trace 1\nmseal @1p 1p 1 2\n", "bad:2: expected 'mseal ADDR LEN [FLAGS]'" },
	{ "uvma-trace 1\nmseal @1p 1p x\n", "bad:2: expected 'mseal ADDR LEN [FLAGS]'" },
	{ "uvma-trace 1\nmmap @0p 1p r private fd=nofile\n", "bad:2: no file 'nofile'" },
	{ "uvma-trace 1\nmadvise @0p 1p dontknow\n", "bad:2: unknown advice 'dontknow'" },
	{ "uvma-trace 1\nmremap @0p 1p 1p teleport @4p\n", "bad:2: unknown mremap flag 'teleport'" },
	{ "uvma-trace 1\ntouch @0p 1p x\n", "bad:2: touch takes r or w" },
	{ "uvma-trace 1\nexpect[linux,nonsense] vmas 1\n", "bad:2: unknown policy 'nonsense'" },
	{ "uvma-trace 1\nexpect vmas 1 = 0\n", "bad:2: an expect line takes no result" },
	{ "uvma-trace 1\nmunmap @0p 1p = 1 2\n", "bad:2: '=' must be followed by exactly one result" },
	{ "uvma-trace 1\ncarveout 3\n", "bad:2: carve-out size must be whole pages" },
	{ "uvma-trace 1\ncarveout 1p\ncarveout 2p\n", "bad:3: a second carveout line" },
	{ "uvma-trace 1\nmunmap @0p 1p\x80\n", "bad:2: not plain text" },
	{ "uvma-trace 1\nmunmap 18446744073709551616 1p\n", "bad:2: bad address" },
	{ "uvma-trace 1\nmunmap 99999999999999999999 1p\n", "bad:2: bad address" },
	{ "uvma-trace 1\nmunmap 0x10000000000000000 1p\n", "bad:2: bad address" },
	{ "uvma-trace 1\nmunmap 02000000000000000000000 1p\n", "bad:2: bad address" },
	{ "uvma-trace 1\nmunmap 0x 1p\n", "bad:2: bad address" },
	{ "uvma-trace 1\nmunmap 0x1g 1p\n", "bad:2: bad address" },
	{ "uvma-trace 1\nmunmap 12a 1p\n", "bad:2: bad address" },
	{ "uvma-trace 1\nmunmap 09 1p\n", "bad:2: bad address" },
	{ "uvma-trace 1\nmunmap 0x1000 xp\n", "bad:2: bad length 'xp'" },
	{ "uvma-trace 1\nmunmap 0x1000 p\n", "bad:2: bad length 'p'" },
	{ "uvma-trace 1\nthp\n", "bad:2: usage: thp always=SIZES madvise=SIZES" },
	{ "uvma-trace 1\nthp sometimes=64k\n", "bad:2: bad thp setting 'sometimes=64k'" },
	{ "uvma-trace 1\nthp always=8k\n", "bad:2: bad THP size '8k'" },
	{ "uvma-trace 1\nthp always=64k madvise=64k\n", "bad:2: THP size '64k' given twice" },
	{ "uvma-trace 1\nthp always=64k\nthp madvise=2m\n", "bad:3: a second thp line" },
	{ "uvma-trace 1\nthp always=16k = 0\n", "bad:2: thp takes no result" },
	{ "uvma-trace 1\nswap 3\n", "bad:2: swap size must be whole pages" },
	{ "uvma-trace 1\nswap 1p\nswap 2p\n", "bad:3: a second swap line" },
	{ "uvma-trace 1\nswap 4p = 0\n", "bad:2: swap takes no result" },
	{ "uvma-trace 1\npin @0p 1p x\n", "bad:2: expected 'pin ADDR LEN r|w'" },
	{ "uvma-trace 1\npin @0p 0 r\n", "bad:2: pin length must be whole pages" },
	{ "uvma-trace 1\nksm_scan now\n", "bad:2: expected 'ksm_scan'" },
	{ "uvma-trace 1\nmigrate\n", "bad:2: expected 'migrate ADDR'" },
};

/* Model-only lines: parsed, marked, written back. */
static void model_only_lines(void **state)
{
	static const char text[] = "uvma-trace 1\nmmap @0p 4p rw private,anonymous\nswap 64p\n"
				   "pin @1p 2p w = 2\nksm_scan\nmigrate @2p\nmigrate_finish\nunpin\n";
	static const char *const back[] = { "swap 64p", "pin @1p 2p w", "ksm_scan", "migrate @2p",
					     "migrate_finish", "unpin" };
	struct trace t;
	char err[256], line[256];

	(void)state;
	assert_int_equal(trace_parse("m", text, &t, err, sizeof(err)), 0);
	assert_int_equal(t.model_only, 3);
	assert_int_equal(t.swap_pages, 64);
	for (int i = 0; i < 6; i++) {
		op_format(&t, &t.ops[i + 1], line, sizeof(line));
		assert_string_equal(line, back[i]);
	}
	trace_free(&t);
	assert_int_equal(trace_parse("m", "uvma-trace 1\nmunmap @0p 1p\n", &t, err, sizeof(err)), 0);
	assert_int_equal(t.model_only, 0);
	trace_free(&t);
}

/* What uvma record writes: files with host paths, exec, vma, spawn. */
static void recorded_lines(void **state)
{
	static const char text[] =
		"uvma-trace 1\n"
		"exec brk=0x555555559000\n"
		"file f0 0x3fb8 path=/tmp/a%20b%23c mode=r\n"
		"vma 0x555555554000 0x555555555000 0x71 pgoff=0x1 fd=f0\n"
		"vma 0x7ffffffde000 0x7ffffffff000 0x100173 special=stack faulted\n"
		"spawn p2\n"
		"[p2] exec\n"
		"file m1 1p memfd=buf%231 mode=rw\n"
		"[p2] maps 12 0x00c0ffee12345678\n";
	static const char *const back[] = { "exec brk=0x555555559000",
					     "file f0 0x3fb8 path=/tmp/a%20b%23c mode=r",
					     "vma 0x555555554000 0x555555555000 0x71 pgoff=0x1 fd=f0",
					     "vma 0x7ffffffde000 0x7ffffffff000 0x100173 special=stack faulted",
					     "spawn p2", "[p2] exec", "file m1 1p memfd=buf%231 mode=rw",
					     "[p2] maps 12 0x00c0ffee12345678" };
	static const struct {
		const char *text, *message;
	} bad_rec[] = {
		{ "uvma-trace 1\nfile f 1p path=/a%zz\n", "bad path '/a%zz'" },
		{ "uvma-trace 1\nfile f 1p colour=red\n", "bad file attribute 'colour=red'" },
		{ "uvma-trace 1\nvma 0x2000 0x1000 0x73\n", "a vma needs START < END" },
		{ "uvma-trace 1\nvma 0x1000 0x2000 0x73 special=moon\n", "unknown special 'moon'" },
		{ "uvma-trace 1\nvma 0x1000 0x2000 0x73 fd=nope\n", "no file 'nope'" },
		{ "uvma-trace 1\nexec now\n", "expected 'exec [brk=ADDR]'" },
		{ "uvma-trace 1\nspawn main\n", "process 'main' exists already" },
		{ "uvma-trace 1\nmaps 12\n", "expected 'maps COUNT HASH'" },
		{ "uvma-trace 1\nmaps 12 0xg\n", "expected 'maps COUNT HASH'" },
		{ "uvma-trace 1\nmaps 1 2 3\n", "expected 'maps COUNT HASH'" },
		{ "uvma-trace 1\nmaps 1 2 = 0\n", "maps takes no result" },
	};
	struct trace t;
	char err[256], line[256];

	(void)state;
	assert_int_equal(trace_parse("r", text, &t, err, sizeof(err)), 0);
	assert_string_equal(t.file_path[0], "/tmp/a b#c");
	assert_int_equal(t.model_only, 2);	/* exec is the model's too */
	for (int i = 0; i < 8; i++) {
		op_format(&t, &t.ops[i], line, sizeof(line));
		assert_string_equal(line, back[i]);
	}
	assert_int_equal(t.ops[7].kind, OP_MAPS);
	assert_int_equal(t.ops[7].proc, 1);
	assert_int_equal(t.ops[7].len, 12);
	assert_true(t.ops[7].len2 == 0x00c0ffee12345678ULL);
	assert_true(t.file_mode[1] & FILE_MEMFD);
	assert_string_equal(t.file_path[1], "buf#1");
	trace_free(&t);
	for (size_t i = 0; i < sizeof(bad_rec) / sizeof(bad_rec[0]); i++) {
		if (!trace_parse("bad", bad_rec[i].text, &t, err, sizeof(err)))
			fail_msg("accepted: %s", bad_rec[i].text);
		if (!strstr(err, bad_rec[i].message))
			fail_msg("'%s' does not say '%s'", err, bad_rec[i].message);
	}
}

static void thp_line(void **state)
{
	static const char text[] = "uvma-trace 1\nthp always=16k,1024k madvise=2m\n";
	struct trace t;
	char err[256], line[256];

	(void)state;
	assert_int_equal(trace_parse("thp", text, &t, err, sizeof(err)), 0);
	assert_true(t.has_thp);
	assert_int_equal(t.thp_always, (1U << 2) | (1U << 8));
	assert_int_equal(t.thp_madvise, 1U << 9);
	op_format(&t, &t.ops[0], line, sizeof(line));
	assert_string_equal(line, "thp always=16k,1024k madvise=2048k");
	trace_free(&t);

	/* no size in one mode, or in both: what is written parses back (a bare "thp" did not) */
	assert_int_equal(trace_parse("thp", "uvma-trace 1\nthp always= madvise=2m\n", &t, err,
				     sizeof(err)), 0);
	op_format(&t, &t.ops[0], line, sizeof(line));
	assert_string_equal(line, "thp madvise=2048k");
	trace_free(&t);
	assert_int_equal(trace_parse("thp", "uvma-trace 1\nthp always= madvise=\n", &t, err,
				     sizeof(err)), 0);
	assert_int_equal(t.thp_always | t.thp_madvise, 0);
	op_format(&t, &t.ops[0], line, sizeof(line));
	assert_string_equal(line, "thp always=");
	trace_free(&t);
	assert_int_equal(trace_parse("thp", "uvma-trace 1\nthp always=\n", &t, err, sizeof(err)), 0);
	trace_free(&t);
}

/* Numbers as strtoull's base 0 reads them: decimal, 0x hex, 0 octal, to 2^64 - 1. */
static void numbers(void **state)
{
	static const struct {
		const char *word;
		uint64_t val;
	} ok[] = {
		{ "0", 0 },
		{ "4096", 4096 },
		{ "0x7f0000001000", 0x7f0000001000ULL },
		{ "0X7F0000001000", 0x7f0000001000ULL },
		{ "0777", 0777 },
		{ "18446744073709551615", UINT64_MAX },
		{ "0xffffffffffffffff", UINT64_MAX },
		{ "01777777777777777777777", UINT64_MAX },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[128], err[256];
		struct trace t;

		snprintf(text, sizeof(text), "uvma-trace 1\nmunmap %s 1p\n", ok[i].word);
		if (trace_parse("n", text, &t, err, sizeof(err)))
			fail_msg("%s refused: %s", ok[i].word, err);
		assert_int_equal(t.nops, 1);
		assert_false(t.ops[0].addr.rel);
		if (t.ops[0].addr.val != ok[i].val)
			fail_msg("%s read as %#llx", ok[i].word, (unsigned long long)t.ops[0].addr.val);
		assert_int_equal(t.ops[0].len, 4096);
		trace_free(&t);
	}
}

/* A NUL or a byte above 0x7f anywhere in a streamed line (checked 8 bytes at a time). */
static void not_plain_text_anywhere(void **state)
{
	static const char line[] = "munmap 0x7f0000001000 0x2000 = 0   ";
	const size_t n = sizeof(line) - 1;

	(void)state;
	for (size_t at = 0; at < n; at++) {
		for (int high = 0; high < 2; high++) {
			char buf[sizeof(line)], err[256] = "";
			struct trace t;

			memcpy(buf, line, sizeof(line));
			buf[at] = high ? (char)0xc3 : 0;
			trace_stream_begin(&t, "s");
			assert_int_equal(trace_stream_line(&t, 1, "uvma-trace 1", 12, err, sizeof(err)), 0);
			if (trace_stream_line(&t, 2, buf, n, err, sizeof(err)) != -1 ||
			    !strstr(err, "not plain text"))
				fail_msg("byte %#x at %zu: '%s'", high ? 0xc3 : 0, at, err);
			trace_free(&t);
		}
	}
}

/*
 * The maps checksum compares what the model can know: addresses, permissions,
 * offset and name; not device and inode, not the gate page, not " (deleted)"
 * after a file (a memfd keeps it).
 */
static void maps_checksum(void **state)
{
	static const char kernel[] =
		"555555554000-555555556000 r--p 00000000 fd:01 1234              /usr/bin/x\n"
		"7f0000000000-7f0000001000 rw-s 00000000 00:01 77                /memfd:buf (deleted)\n"
		"7f0000001000-7f0000002000 r--p 00001000 fd:01 99                /tmp/gone (deleted)\n"
		"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                 [stack]\n"
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0         [vsyscall]\n";
	static const char model[] =
		"555555554000-555555556000 r--p 00000000 00:00 5 /usr/bin/x\n"
		"7f0000000000-7f0000001000 rw-s 00000000 00:00 6 /memfd:buf (deleted)\n"
		"7f0000001000-7f0000002000 r--p 00001000 00:00 7 /tmp/gone\n"
		"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n";
	static const char other[] =
		"555555554000-555555556000 r--p 00000000 00:00 5 /usr/bin/x\n"
		"7f0000000000-7f0000001000 rw-s 00000000 00:00 6 /memfd:buf\n"
		"7f0000001000-7f0000002000 r--p 00001000 00:00 7 /tmp/gone\n"
		"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n";
	struct maps_sum k, m, o;
	struct maps_line l;
	const char *p = kernel;

	(void)state;
	maps_sum(kernel, &k);
	maps_sum(model, &m);
	maps_sum(other, &o);
	assert_int_equal(k.count, 4);
	assert_int_equal(m.count, 4);
	assert_true(k.hash == m.hash);
	assert_true(k.hash != o.hash);	/* the memfd's " (deleted)" counts */
	assert_true(maps_next(&p, &l));
	assert_true(l.start == 0x555555554000ULL && l.end == 0x555555556000ULL && l.off == 0);
	assert_string_equal(l.perms, "r--p");
	assert_int_equal(l.namelen, strlen("/usr/bin/x"));
	assert_memory_equal(l.name, "/usr/bin/x", l.namelen);
	p = "not a maps line\n";
	assert_false(maps_next(&p, &l));
}

/* Results as a trace writes them, and read back. */
static void results(void **state)
{
	static const struct {
		long r;
		const char *text;
	} cases[] = {
		{ -5, "-EIO" },		{ -4000, "-4000" }, { 0x7f0000001000L, "0x7f0000001000" },
		{ 12, "12" },		{ 0, "0" },	    { -12, "-ENOMEM" },
	};
	char buf[40], text[128];
	struct trace t;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		trace_format_result(buf, sizeof(buf), cases[i].r);
		assert_string_equal(buf, cases[i].text);
		snprintf(text, sizeof(text), "uvma-trace 1\nmunmap @0p 1p = %s\n", buf);
		assert_int_equal(trace_parse("r", text, &t, buf, sizeof(buf)), 0);
		assert_int_equal(t.ops[0].result, cases[i].r);
		trace_free(&t);
	}
}

static void rejects_malformed_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct trace t;
		char err[256] = "";

		if (trace_parse("bad", bad[i].text, &t, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i].text);
		if (strncmp(err, bad[i].message, strlen(bad[i].message)))
			fail_msg("for %s\nexpected: %s\ngot:      %s", bad[i].text, bad[i].message, err);
		assert_null(t.ops);
		assert_int_equal(t.nops, 0);
	}
}

static void long_lines_are_refused(void **state)
{
	char text[3000];
	struct trace t;
	char err[256];

	(void)state;
	strcpy(text, "uvma-trace 1\nmunmap @0p 1p ");
	memset(text + strlen(text), '#', 2000);
	text[13 + 14 + 2000] = '\n';
	text[13 + 14 + 2001] = 0;
	assert_int_equal(trace_parse("long", text, &t, err, sizeof(err)), -1);
	assert_string_equal(err, "long:2: line longer than 1023 characters");
}

static void round_trip(void **state)
{
	static const char text[] = "uvma-trace 1\n"
				   "file f 8p\n"
				   "mmap @3p 2p rx shared,fixed_noreplace fd=f off=0x1000\n"
				   "fork c\n"
				   "[c] mremap @3p 2p 4p maymove\n"
				   "madvise @0p 1p 7\n"
				   "madvise @0p 1p -1\n"
				   "mmap @0p 1p rw private,anonymous,0x80000000\n"
				   "mbind @1p 2p bind,static_nodes 0x3 64 strict,move\n"
				   "mbind @1p 2p local - 0 0\n"
				   "mseal @1p 2p\n"
				   "mseal @1p 2p 0x4\n"
				   "mlockall current,future\n";
	struct trace t, u;
	char err[256], buf[4096], line[512];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "uvma-trace 1\n");

	(void)state;
	assert_int_equal(trace_parse("rt", text, &t, err, sizeof(err)), 0);
	for (int i = 0; i < t.nops; i++) {
		op_format(&t, &t.ops[i], line, sizeof(line));
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\n", line);
	}
	if (trace_parse("rt2", buf, &u, err, sizeof(err)))
		fail_msg("formatted trace does not parse: %s\n%s", err, buf);
	assert_int_equal(u.nops, t.nops);
	for (int i = 0; i < t.nops; i++) {
		assert_int_equal(u.ops[i].kind, t.ops[i].kind);
		assert_int_equal(u.ops[i].flags, t.ops[i].flags);
		assert_int_equal(u.ops[i].addr.val, t.ops[i].addr.val);
		assert_int_equal(u.ops[i].len, t.ops[i].len);
		assert_int_equal(u.ops[i].arg, t.ops[i].arg);
		assert_true(u.ops[i].len2 == t.ops[i].len2);
	}
	/* bits and advices without a name: numbers, written back as numbers */
	assert_int_equal(t.ops[5].arg, -1);
	assert_int_equal((unsigned int)t.ops[6].flags,
			 0x80000000u | UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS);
	assert_int_equal(t.ops[7].kind, OP_MBIND);
	assert_int_equal(t.ops[7].arg, UVMA_MPOL_BIND | UVMA_MPOL_F_STATIC_NODES);
	assert_int_equal(t.ops[7].len2, 3);
	assert_int_equal(t.ops[7].off, 64);
	assert_int_equal(t.ops[7].flags, UVMA_MPOL_MF_STRICT | UVMA_MPOL_MF_MOVE);
	assert_int_equal(t.ops[8].prot, 1);
	assert_int_equal(u.ops[8].prot, 1);
	assert_int_equal(t.ops[10].kind, OP_MSEAL);
	assert_int_equal(t.ops[10].len2, 4);
	trace_free(&t);
	trace_free(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_the_design_example),
		cmocka_unit_test(rejects_malformed_lines),
		cmocka_unit_test(numbers),
		cmocka_unit_test(not_plain_text_anywhere),
		cmocka_unit_test(long_lines_are_refused),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(thp_line),
		cmocka_unit_test(model_only_lines),
		cmocka_unit_test(recorded_lines),
		cmocka_unit_test(maps_checksum),
		cmocka_unit_test(results),
	};

	return cmocka_run_group_tests_name("trace reader", tests, NULL, NULL);
}
