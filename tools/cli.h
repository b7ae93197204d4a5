/* SPDX-License-Identifier: MIT */
/* What the uvma subcommands share. */
#ifndef UVMA_CLI_H
#define UVMA_CLI_H

#include "trace.h"

/* Kernel against model, line by line: 0 agree, 1 differ, 2 cannot run. */
int diff_trace(struct trace *t, int quiet, int silent, unsigned long *nlines);
int cmd_fuzz(int argc, char **argv);

#endif
