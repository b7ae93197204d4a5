/* SPDX-License-Identifier: MIT */
/*
 * Test helpers: address spaces described as pictures.
 *
 * Addresses are pages relative to BASE.  layout() renders the VMAs inside
 * [BASE, BASE + 4096 pages) as "[0,4) rw-p ac | [4,8) r--p" so that a test
 * compares a whole address space in one assertion, and cmocka prints both
 * pictures when they differ.
 */
#ifndef UVMA_TEST_HELPERS_H
#define UVMA_TEST_HELPERS_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "uvma.h"

#define BASE 0x100000000000ULL
#define P(n) (BASE + (uint64_t)(n) * 4096)
#define PG(n) ((uint64_t)(n) * 4096)
#define RW (UVMA_PROT_READ | UVMA_PROT_WRITE)
#define RO UVMA_PROT_READ
#define ANON (UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED_NOREPLACE)
#define ANON_FIXED (UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED)
#define SPAN 4096

struct env {
	struct uvma_sys *sys;
	struct uvma_mm *mm;
};

/* A machine with @cfg (NULL: the host's defaults) and one address space. */
static inline void env_setup_cfg(struct env *e, const struct uvma_sys_config *cfg)
{
	e->sys = uvma_sys_create(cfg);
	assert_non_null(e->sys);
	e->mm = uvma_mm_create(e->sys);
	assert_non_null(e->mm);
}

static inline void env_setup(struct env *e)
{
	env_setup_cfg(e, NULL);
}

/* No invariant broken by any call so far, nothing leaked at the end. */
static inline void env_check(struct env *e)
{
	const char *why = NULL;

	if (uvma_sys_violations(e->sys, &why))
		fail_msg("invariant violated: %s", why);
}

static inline void env_teardown(struct env *e)
{
	env_check(e);
	uvma_sys_destroy(e->sys);
}

/* Map @n pages at page @at (anonymous private, NOREPLACE) and check the result. */
static inline void map(struct env *e, unsigned at, unsigned n, int prot)
{
	long r = uvma_mmap(e->mm, P(at), PG(n), prot, ANON, NULL, 0);

	if (r != (long)P(at))
		fail_msg("mmap [%u,%u) returned %ld", at, at + n, r);
}

static inline void write_pages(struct env *e, unsigned at, unsigned n)
{
	assert_int_equal(uvma_touch(e->mm, P(at), PG(n), true), 0);
}

/* Map @n pages at @at and write them all: a faulted VMA with its own anon_vma. */
static inline void map_written(struct env *e, unsigned at, unsigned n)
{
	map(e, at, n, RW);
	write_pages(e, at, n);
}

/* mremap [from, from+n) to @to (MAYMOVE|FIXED); it must succeed. */
static inline void move_to(struct env *e, unsigned from, unsigned n, unsigned to)
{
	long r = uvma_mremap(e->mm, P(from), PG(n), PG(n), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED,
			     P(to));

	if (r != (long)P(to))
		fail_msg("mremap [%u,%u) to %u returned %ld", from, from + n, to, r);
}

static inline const char *flag_words(uint64_t f, char *buf, size_t size)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} words[] = {
		{ UVMA_VM_ACCOUNT, "ac" },   { UVMA_VM_NORESERVE, "nr" }, { UVMA_VM_LOCKED, "lo" },
		{ UVMA_VM_LOCKONFAULT, "lf" }, { UVMA_VM_DONTCOPY, "dc" }, { UVMA_VM_WIPEONFORK, "wf" },
		{ UVMA_VM_MAYBE_GUARD, "gu" }, { UVMA_VM_GROWSDOWN, "gd" }, { UVMA_VM_HUGEPAGE, "hg" },
		{ UVMA_VM_NOHUGEPAGE, "nh" }, { UVMA_VM_MERGEABLE, "mg" }, { UVMA_VM_DONTDUMP, "dd" },
		{ UVMA_VM_SEQ_READ, "sr" }, { UVMA_VM_RAND_READ, "rr" }, { UVMA_VM_SEALED, "sl" },
	};
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (f & words[i].bit)
			len += (size_t)snprintf(buf + len, size - len, " %s", words[i].name);
	return buf;
}

/* The picture of the test window. */
static inline const char *layout(struct env *e)
{
	static char out[8192];
	struct uvma_vma_info vi;
	uint64_t a = BASE;
	size_t len = 0;

	out[0] = 0;
	while (!uvma_find_vma(e->mm, a, &vi) && vi.start < P(SPAN)) {
		char words[128];

		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s[%llu,%llu) %c%c%c%c%s",
					len ? " | " : "",
					(unsigned long long)((vi.start - BASE) / 4096),
					(unsigned long long)((vi.end - BASE) / 4096),
					vi.flags & UVMA_VM_READ ? 'r' : '-',
					vi.flags & UVMA_VM_WRITE ? 'w' : '-',
					vi.flags & UVMA_VM_EXEC ? 'x' : '-',
					vi.flags & UVMA_VM_MAYSHARE ? 's' : 'p',
					flag_words(vi.flags, words, sizeof(words)));
		a = vi.end;
	}
	return out;
}

#define assert_layout(e, picture) assert_string_equal(layout(e), picture)

static inline struct uvma_vma_info vma_at(struct env *e, unsigned page)
{
	struct uvma_vma_info vi;

	assert_int_equal(uvma_find_vma(e->mm, P(page), &vi), 0);
	assert_true(vi.start <= P(page));
	return vi;
}

#endif
