// SPDX-License-Identifier: MIT
/*
 * make bench, the folio half: faults (4 KiB and THP), fork of a large
 * address space, reverse-map walks, and the model's bytes per folio and per
 * mapped page; the same faults and fork on the host kernel in the same run,
 * pinned to one CPU, median of the repetitions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define PG 4096UL
#define HPAGE (2UL << 20)
#define REPS 11
#define FORK_REPS 5
#define BASE 0x100000000000ULL
#define RW (UVMA_PROT_READ | UVMA_PROT_WRITE)
#define ANON_FIXED (UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED)

#define FAULT_PAGES 16384UL	/* 64 MiB of 4 KiB faults per repetition */
#define THP_FAULTS 128UL	/* 256 MiB of THP faults per repetition */
#define FORK_VMAS 10000UL
#define FORK_PAGES_PER_VMA 26UL	/* 10,000 x 26 pages: about 1 GiB touched */

static void die(const char *what)
{
	fprintf(stderr, "bench-memory: %s failed\n", what);
	exit(1);
}

static struct uvma_sys *new_sys(void)
{
	struct uvma_sys_config cfg;
	struct uvma_sys *sys;

	uvma_sys_config_default(&cfg);
	cfg.alloc = &ops;
	cfg.max_map_count = 1 << 24;
	sys = uvma_sys_create(&cfg);
	if (!sys)
		die("uvma_sys_create");
	return sys;
}

/* ---- faults --------------------------------------------------------------------------- */

/*
 * Write faults, one per @step bytes over @faults steps, in a fresh address
 * space per repetition (@thp: MADV_HUGEPAGE first); ns per fault, and the
 * model's bytes per 4 KiB page that the faults added.
 */
static double model_faults(unsigned long faults, uint64_t step, int thp, size_t *bytes_per_page)
{
	uint64_t len = faults * step;
	double v[REPS];

	for (int r = 0; r < REPS; r++) {
		struct uvma_sys *sys = new_sys();
		struct uvma_mm *mm = uvma_mm_create(sys);
		size_t before;
		double t;

		if (!mm || uvma_mmap(mm, BASE, len, RW, ANON_FIXED, NULL, 0) != (long)BASE ||
		    (thp && uvma_madvise(mm, BASE, len, UVMA_MADV_HUGEPAGE)))
			die("model mmap");
		before = mem.total;
		t = now_ns();
		for (unsigned long i = 0; i < faults; i++)
			if (uvma_fault(mm, BASE + i * step, true))
				die("model fault");
		v[r] = (now_ns() - t) / faults;
		*bytes_per_page = (mem.total - before) / (len / PG);
		uvma_sys_destroy(sys);
	}
	return median(v, REPS);
}

static double host_fault_4k(void)
{
	double v[REPS];

	for (int r = 0; r < REPS; r++) {
		char *p = mmap(NULL, FAULT_PAGES * PG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double t;

		if (p == MAP_FAILED)
			die("host mmap");
		madvise(p, FAULT_PAGES * PG, MADV_NOHUGEPAGE);
		t = now_ns();
		for (unsigned long i = 0; i < FAULT_PAGES; i++)
			((volatile char *)p)[i * PG] = 1;
		v[r] = (now_ns() - t) / FAULT_PAGES;
		munmap(p, FAULT_PAGES * PG);
	}
	return median(v, REPS);
}

static double host_fault_thp(void)
{
	double v[REPS];

	for (int r = 0; r < REPS; r++) {
		size_t len = (THP_FAULTS + 1) * HPAGE;
		char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *p;
		double t;

		if (raw == MAP_FAILED)
			die("host THP mmap");
		p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
		madvise(p, THP_FAULTS * HPAGE, MADV_HUGEPAGE);
		t = now_ns();
		for (unsigned long i = 0; i < THP_FAULTS; i++)
			((volatile char *)p)[i * HPAGE] = 1;
		v[r] = (now_ns() - t) / THP_FAULTS;
		munmap(raw, len);
	}
	return median(v, REPS);
}

/* ---- fork ------------------------------------------------------------------------------ */

static double model_fork(void)
{
	struct uvma_sys *sys = new_sys();
	struct uvma_mm *mm = uvma_mm_create(sys);
	const unsigned long slot = FORK_PAGES_PER_VMA + 1;
	double v[FORK_REPS];

	if (!mm)
		die("model mm");
	for (unsigned long i = 0; i < FORK_VMAS; i++) {
		uint64_t a = BASE + i * slot * PG;

		if (uvma_mmap(mm, a, FORK_PAGES_PER_VMA * PG, RW, ANON_FIXED, NULL, 0) != (long)a ||
		    uvma_touch(mm, a, FORK_PAGES_PER_VMA * PG, true))
			die("model fork set-up");
	}
	for (int r = 0; r < FORK_REPS; r++) {
		struct uvma_mm *child;
		int err;
		double t = now_ns();

		child = uvma_fork(mm, &err);
		v[r] = now_ns() - t;
		if (!child)
			die("uvma_fork");
		uvma_mm_exit(child);
	}
	uvma_sys_destroy(sys);
	return median(v, FORK_REPS);
}

static double host_fork(void)
{
	const unsigned long slot = FORK_PAGES_PER_VMA + 1;
	size_t len = FORK_VMAS * slot * PG;
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	double v[FORK_REPS];

	if (p == MAP_FAILED)
		die("host fork mmap");
	for (unsigned long i = 0; i < FORK_VMAS; i++) {
		char *a = p + i * slot * PG;

		/* alternate protections so that neighbours never merge */
		if (mprotect(a, FORK_PAGES_PER_VMA * PG, PROT_READ | PROT_WRITE))
			die("host mprotect");
		for (unsigned long j = 0; j < FORK_PAGES_PER_VMA; j++)
			((volatile char *)a)[j * PG] = 1;
	}
	for (int r = 0; r < FORK_REPS; r++) {
		double t = now_ns();
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		v[r] = now_ns() - t;
		if (pid < 0)
			die("fork");
		waitpid(pid, NULL, 0);
	}
	munmap(p, len);
	return median(v, FORK_REPS);
}

/* ---- reverse-map walks -------------------------------------------------------------------- */

static void count_hit(void *ctx, struct uvma_mm *mm, uint64_t addr, unsigned int page)
{
	(void)mm;
	(void)addr;
	(void)page;
	++*(unsigned long *)ctx;
}

/* A page shared by a parent and @forks children; or one anon_vma with @vmas VMAs. */
static double model_rmap(unsigned int forks, unsigned long vmas, unsigned long *found)
{
	struct uvma_sys *sys = new_sys();
	struct uvma_mm *mm = uvma_mm_create(sys);
	const unsigned long iters = 100000;
	double v[REPS];

	if (!mm || uvma_mmap(mm, BASE, 2 * vmas * PG, RW, ANON_FIXED, NULL, 0) != (long)BASE ||
	    uvma_touch(mm, BASE, 2 * vmas * PG, true))
		die("model rmap set-up");
	/* every other page read-only: 2 x vmas VMAs, one anon_vma */
	for (unsigned long i = 1; i < vmas; i++)
		if (uvma_mprotect(mm, BASE + 2 * i * PG, PG, UVMA_PROT_READ))
			die("model rmap mprotect");
	for (unsigned int i = 0; i < forks; i++) {
		int err;

		if (!uvma_fork(mm, &err))
			die("model rmap fork");
	}
	for (int r = 0; r < REPS; r++) {
		double t = now_ns();

		*found = 0;
		for (unsigned long i = 0; i < iters; i++)
			uvma_rmap_walk(mm, BASE, count_hit, found);
		v[r] = (now_ns() - t) / iters;
		*found /= iters;
	}
	uvma_sys_destroy(sys);
	return median(v, REPS);
}

/* ---- relocating mremap ----------------------------------------------------------- */

/*
 * A faulted region moved back and forth between two 2 MiB-aligned places, as
 * an ordinary move (linux) or relocating each time (relocate, with
 * MREMAP_RELOCATE_ANON): ns per mremap.
 */
static double model_move(enum uvma_policy policy, uint64_t pages, int thp)
{
	struct uvma_sys_config cfg;
	struct uvma_sys *sys;
	struct uvma_mm *mm;
	const uint64_t a = BASE, b = BASE + (64UL << 20), len = pages * PG;
	const int flags = UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED |
			  (policy == UVMA_POLICY_RELOCATE ? UVMA_MREMAP_RELOCATE_ANON : 0);
	const unsigned long iters = pages > 64 ? 500 : 20000;
	double v[REPS];

	uvma_sys_config_default(&cfg);
	cfg.alloc = &ops;
	cfg.policy = policy;
	sys = uvma_sys_create(&cfg);
	mm = sys ? uvma_mm_create(sys) : NULL;
	if (!mm || uvma_mmap(mm, a, len, RW, ANON_FIXED, NULL, 0) != (long)a ||
	    (thp && uvma_madvise(mm, a, len, UVMA_MADV_HUGEPAGE)) || uvma_touch(mm, a, len, true))
		die("model move set-up");
	for (int r = 0; r < REPS; r++) {
		double t = now_ns();

		for (unsigned long i = 0; i < iters; i++)
			if (uvma_mremap(mm, a, len, len, flags, b) != (long)b ||
			    uvma_mremap(mm, b, len, len, flags, a) != (long)a)
				die("model move");
		v[r] = (now_ns() - t) / (2.0 * iters);
	}
	uvma_sys_destroy(sys);
	return median(v, REPS);
}

int main(int argc, char **argv)
{
	size_t per_page_4k = 0, per_page_thp = 0;
	double m4k, h4k, mthp, hthp, mfork, hfork;
	unsigned long found4, found1k;
	double walk4, walk1k;

	if (bench_start(argc, argv, "bench-memory"))
		return 2;
	printf("uvma bench (folios): median of %d repetitions (fork: %d); host = this kernel, "
	       "same run\n\n", REPS, FORK_REPS);
	m4k = model_faults(FAULT_PAGES, PG, 0, &per_page_4k);
	h4k = host_fault_4k();
	mthp = model_faults(THP_FAULTS, HPAGE, 1, &per_page_thp);
	hthp = host_fault_thp();
	mfork = model_fork();
	hfork = host_fork();
	walk4 = model_rmap(3, 1, &found4);
	walk1k = model_rmap(0, 1000, &found1k);
	printf("%-46s model %9.1f ns  host %9.0f ns  (x%.1f)\n", "write fault, 4 KiB page", m4k, h4k,
	       h4k / m4k);
	printf("%-46s model %9.1f ns  host %9.0f ns  (x%.1f)\n", "write fault, THP (2 MiB)", mthp,
	       hthp, hthp / mthp);
	printf("%-46s model %9.2f ms  host %9.2f ms  (x%.1f)\n",
	       "fork: 10,000 VMAs, 1 GiB touched", mfork / 1e6, hfork / 1e6, hfork / mfork);
	printf("%-46s model %9.1f ns  (%lu mappings found)\n", "rmap walk: page shared by 4 processes",
	       walk4, found4);
	printf("%-46s model %9.1f ns  (%lu mapping found)\n", "rmap walk: anon_vma of 2,000 VMAs",
	       walk1k, found1k);
	printf("\nmremap of faulted memory, ordinary (linux) and relocating (relocate, flagged):\n");
	{
		static const struct {
			const char *what;
			uint64_t pages;
			int thp;
		} moves[] = {
			{ "16 pages", 16, 0 },
			{ "2 MiB of 4 KiB folios", 512, 0 },
			{ "2 MiB as one THP", 512, 1 },
		};

		for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
			double plain = model_move(UVMA_POLICY_LINUX, moves[i].pages, moves[i].thp);
			double reloc = model_move(UVMA_POLICY_RELOCATE, moves[i].pages, moves[i].thp);

			printf("  %-44s linux %9.1f ns  relocate %9.1f ns  (x%.2f)\n", moves[i].what,
			       plain, reloc, reloc / plain);
		}
	}
	printf("\nfolio struct: %zu bytes\n", mem.sz.folio);
	printf("per mapped 4 KiB page: %zu bytes (folio + page table); the kernel's: 72 "
	       "(struct page 64 + PTE 8)\n", per_page_4k);
	printf("per 4 KiB page of a THP: %zu bytes\n", per_page_thp);
	printf("(bytes as the model asks for them; malloc adds its own header to each object)\n");
	return 0;
}
