/* SPDX-License-Identifier: MIT */
/*
 * uvma record: a real program under ptrace and seccomp, written as a .utrace
 * (docs/replay.md).
 */
#ifndef UVMA_RECORD_H
#define UVMA_RECORD_H

#include <stdbool.h>
#include <stdio.h>

struct record_opts {
	bool verify;	/* compare the model's maps with the kernel's after every call */
	/* a "maps" line (the kernel's maps checksum) after every this many calls; 0 never */
	unsigned long maps_every;
};

/*
 * Run @argv (NULL-terminated) to its end, writing the trace to @out.
 * 0, or -1 (the reason on stderr).  *exit_status: the program's.
 */
int record_run(struct record_opts *o, char **argv, FILE *out, unsigned long *divergences,
	       int *exit_status);

#endif
