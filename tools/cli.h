/* SPDX-License-Identifier: MIT */
/* What the uvma subcommands share. */
#ifndef UVMA_CLI_H
#define UVMA_CLI_H

#include "trace.h"

enum oracle_mode {
	ORACLE_LIVE,	/* run on the kernel */
	ORACLE_RECORD,	/* run on the kernel and write FILE.golden */
	ORACLE_GOLDEN,	/* the kernel's answers from FILE.golden */
};

/* Kernel against model, line by line: 0 agree, 1 differ, 2 cannot run. */
int diff_trace(struct trace *t, int quiet, int silent, unsigned long *nlines);
int diff_trace_mode(struct trace *t, enum oracle_mode mode, int quiet, int silent,
		    unsigned long *nlines);
int cmd_fuzz(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_maps(int argc, char **argv);
int cmd_record(int argc, char **argv);

#endif
