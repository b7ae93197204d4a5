/* SPDX-License-Identifier: MIT */
/*
 * The replay report (docs/replay.md): readable text, JSON, and a plot of the
 * VMA count over time made by gnuplot.
 */
#ifndef UVMA_REPORT_H
#define UVMA_REPORT_H

#include <stdio.h>

#include "replay.h"

#define REPORT_MAX 5	/* policies side by side */

/* @res: one result per policy, replays of the same trace. */
void report_text(FILE *out, const char *trace, const struct replay_result *res, int n,
		 enum fault_model faults);
void report_json(FILE *out, const char *trace, const struct replay_result *res, int n,
		 enum fault_model faults);
/* Draw the VMA count over time of each policy into @path (.svg or .png). */
int report_plot(const char *path, const char *trace, const struct replay_result *res, int n,
		char *err, size_t errsize);

#endif
