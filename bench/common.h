/* SPDX-License-Identifier: MIT */
/*
 * What the benchmarks share: the clock, medians, a random source, and the
 * allocation hooks that count the model's bytes by object type (from malloc,
 * or with --arena from one THP-backed region with a free list per size).
 */
#ifndef UVMA_BENCH_COMMON_H
#define UVMA_BENCH_COMMON_H

#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "uvma.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}


/* ---- memory accounting by object type -------------------------------------------- */

struct mem {
	size_t bytes[8];
	size_t total;
	struct uvma_sizes sz;
};

static struct mem mem;

static int type_of(size_t size)
{
	const size_t *s = (const size_t *)&mem.sz;

	for (int i = 0; i < 8; i++)
		if (s[i] == size)
			return i;
	return -1;
}

/*
 * With --arena, objects come from one THP-backed region with a free list
 * per size (what an embedder with many VMAs would plug into the allocation
 * hooks); by default, from malloc.
 */
static int use_arena;
static char *arena, *arena_top, *arena_end;
static void *free_lists[4200 / 8 + 1];

static void *arena_alloc(size_t size)
{
	size_t idx = (size + 15) / 16 * 2; /* 16-byte granules: the library asks malloc's alignment */
	void *p;

	if (idx < sizeof(free_lists) / sizeof(free_lists[0]) && free_lists[idx]) {
		p = free_lists[idx];
		free_lists[idx] = *(void **)p;
		return p;
	}
	if (!arena) {
		size_t len = 16UL << 30;

		arena = mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (arena == MAP_FAILED)
			return NULL;
		madvise(arena, len, MADV_HUGEPAGE);
		arena_top = arena;
		arena_end = arena + len;
	}
	size = idx * 8;
	if (arena_top + size > arena_end)
		return NULL;
	p = arena_top;
	arena_top += size;
	return p;
}

static void arena_free(void *p, size_t size)
{
	size_t idx = (size + 15) / 16 * 2;

	*(void **)p = free_lists[idx];
	free_lists[idx] = p;
}

static void *bench_alloc(void *ctx, size_t size)
{
	int t = type_of(size);

	(void)ctx;
	if (t >= 0)
		mem.bytes[t] += size;
	mem.total += size;
	return use_arena ? arena_alloc(size) : malloc(size);
}

static void bench_free(void *ctx, void *p, size_t size)
{
	int t = type_of(size);

	(void)ctx;
	if (t >= 0)
		mem.bytes[t] -= size;
	mem.total -= size;
	if (use_arena)
		arena_free(p, size);
	else
		free(p);
}

static __attribute__((unused)) struct uvma_alloc_ops ops = { bench_alloc, bench_free, NULL };

/*
 * The arguments every benchmark takes (--arena), the object sizes, and the
 * CPU: the second one when there is one, as the host loops run there too.
 * Returns 0, or 2 after a usage message.
 */
static __attribute__((unused)) int bench_start(int argc, char **argv, const char *name)
{
	cpu_set_t set;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--arena")) {
			fprintf(stderr, "usage: %s [--arena]\n", name);
			return 2;
		}
		use_arena = 1;
	}
	uvma_object_sizes(&mem.sz);
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	return 0;
}

#endif
