// SPDX-License-Identifier: MIT
/*
 * A program for `uvma record --verify` (make check): the memory calls a
 * real program makes, and the ones the relocation designs are about.
 * Buffers grown with realloc (glibc moves them with mremap), a file mapped
 * shared and private, mprotect splits and rejoins, MADV_DONTNEED, mlock,
 * guard regions, MREMAP_DONTUNMAP, fork with writes on both sides, threads
 * mapping at the same time (record --verify must wait for each other's
 * calls), a memfd (its name kept), a deep recursion (the stack grows by
 * faults, not calls).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static void *worker(void *arg)
{
	for (int i = 0; i < 50; i++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED)
			break;
		memset(p, 3, 1 << 16);
		munmap(p + (1 << 16), 1 << 16);
		if (i % 2)
			munmap(p, 1 << 20);
	}
	return arg;
}

/* About 2 MiB of stack, a page at a time. */
static int deep(int n)
{
	volatile char frame[4096];

	frame[0] = (char)n;
	return n ? deep(n - 1) + (frame[0] & 1) : 0;
}

int main(void)
{
	char path[] = "/tmp/uvma-mmwalk-XXXXXX";
	char *bufs[16], *grow = NULL, *a, *b, *f, *g;
	size_t n = 1 << 16;
	pthread_t t[4];
	int fd;
	pid_t pid;

	/* realloc growth: glibc moves large blocks with mremap */
	for (int i = 0; i < 10; i++) {
		grow = realloc(grow, n);
		if (!grow)
			return 1;
		memset(grow, i, n);
		n *= 2;
	}
	for (int i = 0; i < 16; i++) {
		bufs[i] = malloc(200000 + 4096 * (size_t)i);
		if (!bufs[i])
			return 1;
		memset(bufs[i], 1, 1000);
	}
	for (int i = 0; i < 16; i += 3)
		free(bufs[i]);
	/* split and rejoin */
	a = mmap(NULL, 64 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return 1;
	memset(a, 7, 64 << 12);
	mprotect(a + (8 << 12), 8 << 12, PROT_READ);
	mprotect(a + (16 << 12), 8 << 12, PROT_NONE);
	mprotect(a + (8 << 12), 16 << 12, PROT_READ | PROT_WRITE);
	madvise(a + (32 << 12), 8 << 12, MADV_DONTNEED);
	mlock(a + (40 << 12), 4 << 12);
	munlock(a + (40 << 12), 4 << 12);
	madvise(a + (60 << 12), 1 << 12, MADV_GUARD_INSTALL);
	/* a faulted block moved next to its neighbour: the case of the relocation designs */
	b = mmap(NULL, 16 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return 1;
	memset(b, 9, 16 << 12);
	munmap(a + (48 << 12), 16 << 12);
	mremap(b, 16 << 12, 16 << 12, MREMAP_MAYMOVE | MREMAP_FIXED, a + (48 << 12));
	g = mremap(a, 4 << 12, 4 << 12, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	if (g != MAP_FAILED)
		g[0] = 1;
	/* a file, shared and private */
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 32 << 12))
		return 1;
	f = mmap(NULL, 32 << 12, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (f == MAP_FAILED)
		return 1;
	memset(f, 5, 32 << 12);
	munmap(f + (8 << 12), 4 << 12);
	f = mmap(NULL, 16 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 4 << 12);
	if (f != MAP_FAILED)
		f[4096] = 2;
	close(fd);
	unlink(path);
	/* a memfd: shmem with a name */
	fd = memfd_create("mmwalk buffer", 0);
	if (fd >= 0 && !ftruncate(fd, 16 << 12)) {
		f = mmap(NULL, 16 << 12, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (f != MAP_FAILED)
			f[0] = 1;
		close(fd);
	}
	if (deep(500) < 0)
		return 1;
	/* threads mapping at the same time, then fork with writes on both sides */
	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			return 1;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pid = fork();
	if (pid == 0) {
		memset(a, 8, 4 << 12);
		grow = realloc(grow, n * 2);
		_exit(grow ? 0 : 1);
	}
	memset(a + (4 << 12), 6, 4 << 12);
	waitpid(pid, NULL, 0);
	printf("mmwalk done\n");
	return 0;
}
