// SPDX-License-Identifier: MIT
/*
 * Faults per second in the multi-threaded library (issue 7): 1 and 2
 * faulting threads, alone and with a thread that maps and unmaps all the
 * time.  Built twice: against libuvma-mt (faults take the VMA lock under
 * RCU) and against the mmap_lock-only variant (UVMA_MT_LOCK_ONLY); run
 * with the other's binary path as argument it prints both and the ratios.
 *
 * Each faulting thread first-touches the pages of its own 8 GiB VMA in
 * order, as a guest touching fresh memory: every fault is a real one
 * (lookup, VMA lock, page-table walk, a new folio), never a spurious fault
 * on a present page.  The mapper maps 16 pages elsewhere and unmaps them
 * again, as fast as it can.  Each figure is the median of 5 runs of
 * 300 ms, in rounds that take every configuration in turn, after a round
 * that warms the heap up.
 */
#include "common.h"

#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#define REGION_PAGES (2UL << 20)	/* 8 GiB: more than a run can touch */
#define BASE_ADDR 0x100000000000ULL
#define MAPPER_ADDR 0x200000000000ULL
#define RUNS 5
#define RUN_NS 300e6

struct run {
	struct uvma_mm *mm;
	volatile int stop;
	unsigned long faults[2];
	unsigned long maps;
};

struct arg {
	struct run *r;
	int id;
};

static void *faulter(void *p)
{
	struct arg *a = p;
	uint64_t base = BASE_ADDR + (uint64_t)a->id * (REGION_PAGES + 512) * 4096ULL;
	unsigned long n = 0;

	while (!__atomic_load_n(&a->r->stop, __ATOMIC_RELAXED) && n < REGION_PAGES) {
		if (uvma_fault(a->r->mm, base + n * 4096, true)) {
			fprintf(stderr, "bench-faults: a fault failed\n");
			exit(1);
		}
		n++;
	}
	a->r->faults[a->id] = n;
	return NULL;
}

/*
 * The mapper: 16 pages mapped and unmapped (@write: and all written in
 * between, the guest allocator's fresh buffer), as fast as it can.
 */
struct mapper_arg {
	struct run *r;
	bool write;
};

static void *mapper(void *p)
{
	struct mapper_arg *m = p;
	struct run *r = m->r;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		long a = uvma_mmap(r->mm, MAPPER_ADDR, 16 * 4096, UVMA_PROT_READ | UVMA_PROT_WRITE,
				   UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED_NOREPLACE,
				   NULL, 0);

		if (a < 0 || (m->write && uvma_touch(r->mm, (uint64_t)a, 16 * 4096, true)) ||
		    uvma_munmap(r->mm, (uint64_t)a, 16 * 4096)) {
			fprintf(stderr, "bench-faults: the mapper's calls failed\n");
			exit(1);
		}
		r->maps++;
	}
	return NULL;
}

enum mix { ALONE, MAP_UNMAP, MAP_WRITE_UNMAP, NMIX };
static const char *const mix_name[NMIX] = { "alone", "+ map/unmap", "+ map/write/unmap" };

/* Faults per second of @nfault threads in @mix. */
static double one_run(int nfault, enum mix mix, double *maps_per_s)
{
	struct uvma_sys *sys = uvma_sys_create(NULL);
	struct run r = { 0 };
	struct mapper_arg m = { &r, mix == MAP_WRITE_UNMAP };
	struct arg a[2];
	pthread_t t[3];
	double t0, t1;

	r.mm = uvma_mm_create(sys);
	for (int i = 0; i < 2; i++) {
		uint64_t base = BASE_ADDR + (uint64_t)i * (REGION_PAGES + 512) * 4096ULL;

		/* one page written at set-up gives the VMA its anon_vma */
		if (uvma_mmap(r.mm, base, REGION_PAGES * 4096ULL, UVMA_PROT_READ | UVMA_PROT_WRITE,
			      UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED_NOREPLACE, NULL,
			      0) != (long)base ||
		    uvma_touch(r.mm, base + (REGION_PAGES - 1) * 4096ULL, 4096, true)) {
			fprintf(stderr, "bench-faults: set-up failed\n");
			exit(1);
		}
	}
	t0 = now_ns();
	for (int i = 0; i < nfault; i++) {
		a[i] = (struct arg){ &r, i };
		pthread_create(&t[i], NULL, faulter, &a[i]);
	}
	if (mix != ALONE)
		pthread_create(&t[2], NULL, mapper, &m);
	while (now_ns() - t0 < RUN_NS)
		usleep(10000);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < nfault; i++)
		pthread_join(t[i], NULL);
	if (mix != ALONE)
		pthread_join(t[2], NULL);
	t1 = now_ns();
	uvma_sys_destroy(sys);
	*maps_per_s = (double)r.maps * 1e9 / (t1 - t0);
	return (double)(r.faults[0] + r.faults[1]) * 1e9 / (t1 - t0);
}

#define NCONF (2 * NMIX)	/* 1 and 2 faulting threads, each mix */

/*
 * One round of every configuration first, not counted: the process's heap
 * grows to its size there (a page fault of the host is slow, 10 us on the
 * PVM host), not in whichever configuration would come first.  Then RUNS
 * rounds, each configuration once per round, so that the machine's drifts
 * fall on all of them alike.
 */
static void measure(double f[NCONF], double m[NCONF])
{
	double v[NCONF][RUNS], w[NCONF][RUNS], unused;

	for (int c = 0; c < NCONF; c++)
		one_run(1 + c / NMIX, (enum mix)(c % NMIX), &unused);
	for (int i = 0; i < RUNS; i++)
		for (int c = 0; c < NCONF; c++)
			v[c][i] = one_run(1 + c / NMIX, (enum mix)(c % NMIX), &w[c][i]);
	for (int c = 0; c < NCONF; c++) {
		f[c] = median(v[c], RUNS);
		m[c] = median(w[c], RUNS);
	}
}

static void print_row(const char *build, const double *v)
{
	printf("%-16s", build);
	for (int c = 0; c < NCONF; c++)
		printf(" %10.2f", v[c] / 1e6);
	printf("\n");
}

int main(int argc, char **argv)
{
#ifdef BENCH_LOCK_ONLY
	const char *self = "mmap_lock only";
#else
	const char *self = "VMA lock";
#endif
	double f[NCONF], m[NCONF], g[NCONF], n[NCONF];

	if (argc > 2 && !strcmp(argv[1], "--only")) {
		/* one configuration (column 0 to 5) for 20 runs: for perf */
		int c = atoi(argv[2]);
		double w;

		if (c < 0 || c >= NCONF) {
			fprintf(stderr, "bench-faults: --only takes a column from 0 to %d\n", NCONF - 1);
			return 2;
		}
		for (int i = 0; i < 20; i++)
			printf("%.2f M faults/s\n", one_run(1 + c / NMIX, (enum mix)(c % NMIX), &w) / 1e6);
		return 0;
	}
	measure(f, m);
	if (argc > 1 && !strcmp(argv[1], "--raw")) {
		/* for the other build's run: one line of numbers */
		for (int c = 0; c < NCONF; c++)
			printf("%.0f %.0f ", f[c], m[c]);
		printf("\n");
		return 0;
	}
	printf("uvma bench-faults: millions of faults per second, median of %d interleaved runs of "
	       "%.0f ms after a warm-up round, %ld CPUs\n", RUNS, RUN_NS / 1e6,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-16s", "faulting threads");
	for (int c = 0; c < NCONF; c++)
		printf(" %10d", 1 + c / NMIX);
	printf("\n%-16s", "mapper");
	for (int c = 0; c < NCONF; c++)
		printf(" %10.10s", c % NMIX == ALONE ? "none" : c % NMIX == MAP_UNMAP ? "map/unmap" : "map/write");
	printf("\n");
	print_row(self, f);
	if (argc < 2)
		return 0;
	{
		/* the mmap_lock-only binary, run now so that both share the machine's state */
		char cmd[4096];
		FILE *p;

		snprintf(cmd, sizeof(cmd), "%s --raw", argv[1]);
		p = popen(cmd, "r");
		for (int c = 0; p && c < NCONF; c++)
			if (fscanf(p, "%lf %lf", &g[c], &n[c]) != 2) {
				fprintf(stderr, "bench-faults: could not read %s\n", argv[1]);
				return 1;
			}
		if (!p) {
			fprintf(stderr, "bench-faults: could not run %s\n", argv[1]);
			return 1;
		}
		pclose(p);
	}
	print_row("mmap_lock only", g);
	for (int c = 0; c < NCONF; c++) {
		int base = c - c % NMIX, threads = 1 + c / NMIX;
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		/*
		 * With the mapper, threads + 1 runnable threads share the CPUs:
		 * the faulting threads cannot get more CPU time than this share
		 * of what they had alone, whatever the locks do.
		 */
		double alone_cpus = threads < cpus ? threads : (double)cpus;
		double shared_cpus = threads + 1 <= cpus ? threads
							 : (double)cpus * threads / (threads + 1);

		if (c % NMIX == ALONE)
			continue;
		printf("%d thread%s %-17s VMA lock keeps %3.0f %% of its rate alone (target >= 80 %%; "
		       "CPU time allows %3.0f %%), x%.2f the mmap_lock-only build (target >= x2); "
		       "mapper %.0fk vs %.0fk cycles/s\n",
		       threads, c / NMIX ? "s" : " ", mix_name[c % NMIX], 100 * f[c] / f[base],
		       100 * shared_cpus / alone_cpus, f[c] / g[c], m[c] / 1e3, n[c] / 1e3);
	}
	return 0;
}
