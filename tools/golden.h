/* SPDX-License-Identifier: MIT */
/*
 * Golden files (FILE.golden.gz, gzip text): the kernel's answers to a trace,
 * recorded by uvma diff --record, so that the model can be checked where no
 * such kernel runs.
 *
 *   uvma-golden 1
 *   kernel 6.18.44-fc-v657
 *   trace 5f3a9c2e1b7d4a60          (FNV-1a of the trace text)
 *   initial 12                      (lines of the agent's smaps follow)
 *   ...
 *   step 7 0 0x200000004000 25      (line, process, result, smaps lines)
 *   ...
 *   end
 */
#ifndef UVMA_GOLDEN_H
#define UVMA_GOLDEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct golden_step {
	int line, proc;
	long result;
	char *text;	/* normalized smaps of the process after the line */
};

struct golden {
	char kernel[256];
	bool forbids_zero_page;	/* the "zeropage off" line: the kernel had no zero page */
	uint64_t hash;
	char *initial;
	struct golden_step *steps;
	int nsteps, cap;
};

uint64_t golden_hash_file(const char *path);
/* Path of the golden file of @trace: "x.utrace" -> "x.golden". */
void golden_path(const char *trace, char *out, size_t size);
int golden_load(const char *path, struct golden *g, char *err, size_t errsize);
const struct golden_step *golden_find(const struct golden *g, int line, int proc);
void golden_free(struct golden *g);

/* Writing, step by step, while the kernel runs (gzip-compressed). */
struct golden_writer;
struct golden_writer *golden_create(const char *path, const char *kernel, bool forbids_zero_page,
				    uint64_t hash, const char *initial);
void golden_add(struct golden_writer *w, int line, int proc, long result, const char *text);
int golden_finish(struct golden_writer *w);

#endif
