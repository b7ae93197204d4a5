/* SPDX-License-Identifier: MIT */
/*
 * uvma replay: a trace of a real program (strace output or .utrace) through
 * the model under one policy, with what a report needs.
 */
#ifndef UVMA_REPLAY_H
#define UVMA_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "uvma.h"

/* What strace does not show: which memory was written (docs/replay.md). */
enum fault_model {
	FAULTS_WRITTEN,	/* memory a later call shows in use */
	FAULTS_NONE,
	FAULTS_ALL,	/* every writable private anonymous mapping, at once */
};

struct replay_config {
	enum uvma_policy policy;
	bool relocate_all;
	enum fault_model faults;
	const char *initial_maps;	/* a maps or smaps snapshot of the first process */
	unsigned long stop_after;	/* stop after this many events (0: all) */
	int maps_pid;			/* uvma maps: the process to render (0: the first) */
	bool progress;			/* a progress line on stderr */
	FILE *log;			/* divergences, one per line (NULL: not printed) */
};

/* One address space: created by exec, fork or the trace's start. */
struct space_report {
	int pid;
	char comm[64];
	unsigned long vmas_end, vmas_peak;
	unsigned long anon_vmas_end, avcs_end;
	struct uvma_event_counts ev;
	struct uvma_stats st;
	bool exited;
};

struct replay_result {
	enum uvma_policy policy;
	bool relocate_all;		/* relocate: every anonymous move counted as flagged */
	const char *format;		/* "strace" or "utrace" */
	unsigned long lines, events, calls, divergences, implied, skipped;
	/* a recorded trace's "maps" lines, checked under the linux policy only */
	unsigned long maps_checked, maps_differ, maps_first_line;
	double model_seconds, total_seconds;
	struct space_report *spaces;
	int nspaces, capspaces;
	/* the total VMA count of the live address spaces, every @stride events */
	uint32_t *series;
	size_t nseries, capseries;
	unsigned long stride, total_peak;
	char *maps;			/* uvma maps: the rendered maps, or NULL */
	bool maps_found;
};

/* Replay @paths (one trace, or the files of strace -ff).  0 or -1 with @err. */
int replay_run(char *const *paths, int npaths, const struct replay_config *cfg,
	       struct replay_result *res, char *err, size_t errsize);
void replay_result_free(struct replay_result *res);

const char *fault_model_name(enum fault_model f);
int fault_model_parse(const char *s, enum fault_model *f);

/* Object sizes of the host's slab caches, for the kernel-memory figure. */
#define KERNEL_VMA_BYTES 192	/* vm_area_struct, 6.15+ */
#define KERNEL_ANON_VMA_BYTES 104
#define KERNEL_AVC_BYTES 64

#endif
