/* SPDX-License-Identifier: MIT */
/*
 * uvma run --trace: the library's merge events as text (key=value, like an
 * ftrace event) or JSON lines.
 */
#ifndef UVMA_TOOLS_EVENTS_H
#define UVMA_TOOLS_EVENTS_H

#include <stdio.h>

#include "model.h"
#include "trace.h"

enum event_format { EVENTS_OFF, EVENTS_TEXT, EVENTS_JSON };

struct event_printer {
	enum event_format format;
	FILE *out;
	const struct trace *t;
	const struct model *m;
	int line;		/* the trace line being run */
};

/* Parse "--trace" or "--trace=json|text"; 0, or -1 if @arg is not a valid --trace. */
int event_format_parse(const char *arg, enum event_format *f);
/* Install the printer as @m's event hook. */
void event_printer_start(struct event_printer *p, const struct model *m, const struct trace *t);
/* The per-process counters, after the trace. */
void event_printer_counts(struct event_printer *p);

#endif
