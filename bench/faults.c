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
 * again, as fast as it can (or writes them in between; or makes calls that
 * change nothing, to part the lock protocol's cost from the tree's; or maps
 * and unmaps at the pace of the host kernel's own mmap + munmap, measured
 * at the start, as a program running on the kernel would).  Two address
 * spaces: bare, and with a
 * thousand more VMAs (see space_vmas).  Each figure is the median of 5
 * runs of 300 ms, in rounds that take every configuration in turn, after
 * a round that warms the heap up.  The threads are made once and kept
 * (their malloc arenas stay warm); faulting thread 0 and the mapper are
 * pinned to CPUs of their own.
 */
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>
#include <urcu-bp.h>

#define REGION_PAGES (2UL << 20)	/* 8 GiB: more than a run can touch */
#define BASE_ADDR 0x100000000000ULL
#define MAPPER_ADDR 0x200000000000ULL
#define RUNS 5
#define RUN_NS 300e6

struct run {
	struct uvma_mm *mm;
	int nfault;		/* faulting threads that take part */
	bool mapper, write;	/* the mapper takes part; it writes its pages */
	bool empty;		/* its calls change nothing */
	double pace_ns;		/* > 0: one cycle per pace_ns at most */
	int stop;		/* atomic: the run is over */
	unsigned long faults[2];
	unsigned long maps;
};

/*
 * The threads live for the whole benchmark and take part in the runs that
 * need them: each keeps its malloc arena, warm after the first rounds.
 * Threads made for each run got whichever arena was free, some of them
 * empty: the heap's growth (10 us a host page fault on this PVM host) then
 * decided the figures, not the locks.
 */
static pthread_barrier_t run_start, run_end;
static struct run *current;
static bool pool_quit;

static unsigned long fault_loop(struct run *r, int id)
{
	uint64_t base = BASE_ADDR + (uint64_t)id * (REGION_PAGES + 512) * 4096ULL;
	unsigned long n = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED) && n < REGION_PAGES) {
		if (uvma_fault(r->mm, base + n * 4096, true)) {
			fprintf(stderr, "bench-faults: a fault failed\n");
			exit(1);
		}
		n++;
	}
	return n;
}

/*
 * The mapper: 16 pages mapped and unmapped (@write: and all written in
 * between, the guest allocator's fresh buffer), as fast as it can; or
 * (@empty) two calls that take the mmap_lock for writing and change
 * nothing (mprotect where nothing is mapped: -ENOMEM), what the lock
 * protocol alone costs the faulting threads; or (@pace_ns) map/unmap
 * cycles no faster than one per @pace_ns, the host kernel's own time for
 * mmap + munmap.
 */
static unsigned long map_loop(struct run *r)
{
	unsigned long maps = 0;
	double next = now_ns();

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		long a;

		if (r->empty) {
			if (uvma_mprotect(r->mm, MAPPER_ADDR, 16 * 4096, UVMA_PROT_READ) != -ENOMEM ||
			    uvma_mprotect(r->mm, MAPPER_ADDR, 16 * 4096, UVMA_PROT_WRITE) != -ENOMEM) {
				fprintf(stderr, "bench-faults: an empty call found something mapped\n");
				exit(1);
			}
			maps++;
			continue;
		}
		if (r->pace_ns > 0) {
			next += r->pace_ns;
			while (now_ns() < next)
				;
		}
		a = uvma_mmap(r->mm, MAPPER_ADDR, 16 * 4096, UVMA_PROT_READ | UVMA_PROT_WRITE,
			      UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED_NOREPLACE, NULL, 0);
		if (a < 0 || (r->write && uvma_touch(r->mm, (uint64_t)a, 16 * 4096, true)) ||
		    uvma_munmap(r->mm, (uint64_t)a, 16 * 4096)) {
			fprintf(stderr, "bench-faults: the mapper's calls failed\n");
			exit(1);
		}
		/* counted aside: a store per cycle would share r->stop's line */
		maps++;
	}
	return maps;
}

/* Worker 0 and 1 fault, worker 2 maps. */
static void *worker(void *p)
{
	int id = (int)(intptr_t)p;

	/*
	 * The first faulting thread on CPU 0, the mapper on CPU 1: the
	 * one-thread figures are one faulting CPU beside one mapping CPU, not
	 * wherever the scheduler put two threads woken together.  The second
	 * faulting thread goes where there is room.
	 */
	if (id != 1 && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(id ? 1 : 0, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		/*
		 * The kernel runs RCU callbacks on the CPU that queued them: the
		 * nodes and VMAs the mapper's calls retire are freed on the
		 * mapper's CPU, by a callback thread pinned there.  liburcu's
		 * default thread runs wherever the scheduler puts it: on the
		 * faulting thread's CPU it took up to a fifth of that CPU.
		 */
		if (id == 2) {
			struct call_rcu_data *crd = create_call_rcu_data(0, 1);

			if (!crd) {
				fprintf(stderr, "bench-faults: no call_rcu thread\n");
				exit(1);
			}
			set_thread_call_rcu_data(crd);
		}
	}
	for (;;) {
		struct run *r;

		pthread_barrier_wait(&run_start);
		if (pool_quit)
			return NULL;
		r = current;
		if (id < r->nfault)
			r->faults[id] = fault_loop(r, id);
		else if (id == 2 && r->mapper)
			r->maps = map_loop(r);
		pthread_barrier_wait(&run_end);
	}
}

static pthread_t workers[3];

static void pool_start(void)
{
	pthread_barrier_init(&run_start, NULL, 4);
	pthread_barrier_init(&run_end, NULL, 4);
	for (int i = 0; i < 3; i++)
		pthread_create(&workers[i], NULL, worker, (void *)(intptr_t)i);
}

static void pool_stop(void)
{
	pool_quit = true;
	pthread_barrier_wait(&run_start);
	for (int i = 0; i < 3; i++)
		pthread_join(workers[i], NULL);
}

enum mix { ALONE, MAP_UNMAP, MAP_WRITE_UNMAP, EMPTY_CALLS, HOST_PACE, NMIX };
static const char *const mix_name[NMIX] = { "alone", "+ map/unmap", "+ map/write/unmap",
					    "+ empty calls", "+ map/unmap at host pace" };
static const char *const mix_short[NMIX] = { "none", "map/unmap", "map/write", "empty",
					     "host pace" };

/* The host kernel's mmap + munmap of 16 pages, ns: the HOST_PACE mapper's period. */
static double host_pace_ns;

static double measure_host_pace(void)
{
	double v[5];

	for (int r = 0; r < 5; r++) {
		double t0 = now_ns();

		for (int i = 0; i < 2000; i++) {
			void *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED || munmap(p, 16 * 4096)) {
				perror("bench-faults: host mmap");
				exit(1);
			}
		}
		v[r] = (now_ns() - t0) / 2000;
	}
	return median(v, 5);
}

/*
 * The address spaces: bare (the faulting threads' VMAs and the mapper's),
 * and with a thousand more VMAs, as a process with its libraries and heaps
 * has.  They lie between the faulting threads' VMAs and the mapper's: in
 * the bare space all three share one tree leaf, which every call of the
 * mapper replaces under the faulting threads' lookups (the kernel's maple
 * tree does the same in RCU mode); in the larger one they do not.
 */
#define NSPACE 2
static const int space_vmas[NSPACE] = { 0, 1000 };
#define OTHER_ADDR 0x180000000000ULL

/* Faults per second of @nfault threads in @mix, with @other more VMAs. */
static double one_run(int other, int nfault, enum mix mix, double *maps_per_s)
{
	struct uvma_sys *sys = uvma_sys_create(NULL);
	struct run r = { .nfault = nfault, .mapper = mix != ALONE, .write = mix == MAP_WRITE_UNMAP,
			 .empty = mix == EMPTY_CALLS, .pace_ns = mix == HOST_PACE ? host_pace_ns : 0 };
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
	for (int i = 0; i < other; i++)
		if (uvma_mmap(r.mm, OTHER_ADDR + i * 8192ULL, 4096, UVMA_PROT_READ,
			      UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED_NOREPLACE, NULL,
			      0) < 0) {
			fprintf(stderr, "bench-faults: set-up failed\n");
			exit(1);
		}
	current = &r;
	t0 = now_ns();
	pthread_barrier_wait(&run_start);
	while (now_ns() - t0 < RUN_NS)
		usleep(10000);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_barrier_wait(&run_end);
	t1 = now_ns();
	uvma_sys_destroy(sys);
	*maps_per_s = (double)r.maps * 1e9 / (t1 - t0);
	return (double)(r.faults[0] + r.faults[1]) * 1e9 / (t1 - t0);
}

/* each address space, 1 and 2 faulting threads, each mix */
#define NCONF (NSPACE * 2 * NMIX)

static int conf_space(int c)
{
	return c / (2 * NMIX);
}

static int conf_threads(int c)
{
	return 1 + c / NMIX % 2;
}

static double conf_run(int c, double *maps_per_s)
{
	return one_run(space_vmas[conf_space(c)], conf_threads(c), (enum mix)(c % NMIX), maps_per_s);
}

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
		conf_run(c, &unused);
	for (int i = 0; i < RUNS; i++)
		for (int c = 0; c < NCONF; c++)
			v[c][i] = conf_run(c, &w[c][i]);
	for (int c = 0; c < NCONF; c++) {
		f[c] = median(v[c], RUNS);
		m[c] = median(w[c], RUNS);
	}
}

static void print_row(const char *build, const double *v, int space)
{
	printf("%-16s", build);
	for (int c = 0; c < NCONF; c++)
		if (conf_space(c) == space)
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
	long only = -1;

	/* arguments first: an error after a minute of measuring helps nobody */
	if (argc > 1 && !strcmp(argv[1], "--only")) {
		char *end = NULL;

		/* one configuration for 20 runs, for perf: the columns in order, bare space first */
		if (argc == 3)
			only = strtol(argv[2], &end, 10);
		if (argc != 3 || !*argv[2] || *end || only < 0 || only >= NCONF) {
			fprintf(stderr, "bench-faults: --only takes a configuration from 0 to %d\n",
				NCONF - 1);
			return 2;
		}
	} else if (argc > 1 && !strcmp(argv[1], "--raw")) {
		char *end = NULL;

		/* the other build's run: the host pace its caller measured */
		if (argc == 3)
			host_pace_ns = strtod(argv[2], &end);
		if (argc != 3 || !*argv[2] || *end || !(host_pace_ns > 0)) {
			fprintf(stderr, "bench-faults: --raw takes the host pace in ns\n");
			return 2;
		}
	} else if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: bench-faults [--only N | LOCK-ONLY-BINARY]\n");
		return 2;
	}
	if (!(host_pace_ns > 0))
		host_pace_ns = measure_host_pace();

	/*
	 * Keep what the runs free in malloc's arenas: returned to the host and
	 * faulted in again (10 us a page on this PVM host), the heap's growth
	 * decided the figures, by which arena a new thread happened to get.
	 */
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
	mallopt(M_TOP_PAD, 1 << 30);	/* a thread's arena keeps its emptied heaps too */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	/*
	 * No fastbins: the tear-down frees two million folios between runs,
	 * and glibc consolidated those fastbin chunks at the next run's first
	 * large allocation (a page table), tens of milliseconds on the
	 * faulting thread's clock.
	 */
	mallopt(M_MXFAST, 0);
	pool_start();
	/*
	 * The main thread's calls (each run's set-up, the tear-down of the
	 * last) retire nodes too: their callbacks on the mapper's CPU as well,
	 * not on a thread that may run on the faulting thread's CPU during the
	 * next run.
	 */
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		struct call_rcu_data *crd = create_call_rcu_data(0, 1);

		if (!crd) {
			fprintf(stderr, "bench-faults: no call_rcu thread\n");
			return 1;
		}
		set_thread_call_rcu_data(crd);
	}

	if (only >= 0) {
		double w;

		for (int i = 0; i < 20; i++) {
			double v = conf_run((int)only, &w);

			printf("%.2f M faults/s, mapper %.0fk cycles/s\n", v / 1e6, w / 1e3);
		}
		pool_stop();
		return 0;
	}
	measure(f, m);
	pool_stop();
	if (argc > 1 && !strcmp(argv[1], "--raw")) {
		/* for the other build's run: one line of numbers */
		for (int c = 0; c < NCONF; c++)
			printf("%.0f %.0f ", f[c], m[c]);
		printf("\n");
		return 0;
	}
	printf("uvma bench-faults: millions of faults per second, median of %d interleaved runs of "
	       "%.0f ms after a warm-up round, %ld CPUs; host pace: the host's mmap + munmap of 16 "
	       "pages, %.0f ns\n", RUNS, RUN_NS / 1e6, sysconf(_SC_NPROCESSORS_ONLN), host_pace_ns);
	for (int sp = 0; sp < NSPACE; sp++) {
		printf("%s\n%-16s", sp ? "+1000: a thousand more VMAs between the faulting threads' and the mapper's"
				       : "bare: the faulting threads' VMAs and the mapper's, in one tree leaf",
		       "faulting threads");
		for (int c = 0; c < 2 * NMIX; c++)
			printf(" %10d", conf_threads(c));
		printf("\n%-16s", "mapper");
		for (int c = 0; c < 2 * NMIX; c++)
			printf(" %10.10s", mix_short[c % NMIX]);
		printf("\n");
		print_row(self, f, sp);
	}
	if (argc < 2)
		return 0;
	{
		/* the mmap_lock-only binary, run now so that both share the machine's state */
		char cmd[4096];
		FILE *p;

		snprintf(cmd, sizeof(cmd), "%s --raw %.0f", argv[1], host_pace_ns);
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
	for (int sp = 0; sp < NSPACE; sp++) {
		print_row(sp ? "lock only, +1000" : "lock only, bare", g, sp);
	}
	for (int c = 0; c < NCONF; c++) {
		int base = c - c % NMIX, threads = conf_threads(c);
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
		printf("%-6s %d thread%s %-17s VMA lock keeps %3.0f %% of its rate alone (target >= 80 %%; "
		       "CPU time allows %3.0f %%), x%.2f the mmap_lock-only build (target >= x2); "
		       "mapper %.0fk vs %.0fk cycles/s\n",
		       conf_space(c) ? "+1000" : "bare", threads, threads > 1 ? "s" : " ", mix_name[c % NMIX], 100 * f[c] / f[base],
		       100 * shared_cpus / alone_cpus, f[c] / g[c], m[c] / 1e3, n[c] / 1e3);
	}
	return 0;
}
