// SPDX-License-Identifier: MIT
/*
 * uvma run --trace: one line per merge event.
 *
 *   text: event=merge call=mremap line=7 proc=main range=0x...-0x... prev=0x...-0x...
 *         middle=- next=- ok=0 reason=pgoff target=-
 *   json: {"event":"merge","call":"mremap","line":7,"proc":"main","range":[a,b],...}
 */
#include <string.h>

#include "events.h"

int event_format_parse(const char *arg, enum event_format *f)
{
	if (!strcmp(arg, "--trace") || !strcmp(arg, "--trace=text"))
		*f = EVENTS_TEXT;
	else if (!strcmp(arg, "--trace=json"))
		*f = EVENTS_JSON;
	else
		return -1;
	return 0;
}

static const char *proc_name(const struct event_printer *p, const struct uvma_mm *mm)
{
	for (int i = 0; i < p->t->nprocs; i++)
		if (p->m->mm[i] == mm)
			return p->t->procs[i];
	return "?";
}

static void put_range(FILE *out, const char *key, struct uvma_range r, int json)
{
	if (json) {
		if (r.start == r.end)
			fprintf(out, ",\"%s\":null", key);
		else
			fprintf(out, ",\"%s\":[%llu,%llu]", key, (unsigned long long)r.start,
				(unsigned long long)r.end);
		return;
	}
	if (r.start == r.end)
		fprintf(out, " %s=-", key);
	else
		fprintf(out, " %s=%#llx-%#llx", key, (unsigned long long)r.start,
			(unsigned long long)r.end);
}

static void print_event(void *ctx, const struct uvma_mm *mm, const struct uvma_event *ev)
{
	struct event_printer *p = ctx;
	int json = p->format == EVENTS_JSON;
	FILE *out = p->out;

	if (json)
		fprintf(out, "{\"event\":\"%s\",\"call\":\"%s\",\"line\":%d,\"proc\":\"%s\"",
			uvma_event_kind_name(ev->kind), ev->call, p->line, proc_name(p, mm));
	else
		fprintf(out, "event=%s call=%s line=%d proc=%s", uvma_event_kind_name(ev->kind),
			ev->call, p->line, proc_name(p, mm));
	put_range(out, "range", ev->range, json);
	if (ev->kind == UVMA_EVENT_SPLIT) {
		if (json)
			fprintf(out, ",\"at\":%llu", (unsigned long long)ev->at);
		else
			fprintf(out, " at=%#llx", (unsigned long long)ev->at);
	} else {
		put_range(out, "prev", ev->prev, json);
		put_range(out, "middle", ev->middle, json);
		put_range(out, "next", ev->next, json);
	}
	if (json)
		fprintf(out, ",\"ok\":%s,\"reason\":\"%s\"", ev->ok ? "true" : "false",
			uvma_reason_name(ev->reason));
	else
		fprintf(out, " ok=%d reason=%s", ev->ok, uvma_reason_name(ev->reason));
	put_range(out, "target", ev->target, json);
	fputs(json ? "}\n" : "\n", out);
}

void event_printer_start(struct event_printer *p, const struct model *m, const struct trace *t)
{
	p->m = m;
	p->t = t;
	p->line = 0;
	if (p->format != EVENTS_OFF)
		uvma_sys_set_event_hook(m->sys, print_event, p);
}

void event_printer_counts(struct event_printer *p)
{
	for (int i = 0; i < p->t->nprocs; i++) {
		struct uvma_event_counts c;
		int json = p->format == EVENTS_JSON;
		const char *sep = "";

		if (!p->m->mm[i])
			continue;
		uvma_mm_event_counts(p->m->mm[i], &c);
		if (json)
			fprintf(p->out, "{\"counts\":\"%s\"", p->t->procs[i]);
		else
			fprintf(p->out, "counts proc=%s", p->t->procs[i]);
		for (int k = 0; k < UVMA_EVENT_KINDS; k++) {
			const char *n = uvma_event_kind_name((enum uvma_event_kind)k);

			if (json)
				fprintf(p->out, ",\"%s\":%lu,\"%s_refused\":%lu", n, c.done[k], n,
					c.refused[k]);
			else
				fprintf(p->out, " %s=%lu %s_refused=%lu", n, c.done[k], n, c.refused[k]);
		}
		if (json)
			fputs(",\"reasons\":{", p->out);
		for (int r = 1; r < UVMA_REASONS; r++) {
			if (!c.reasons[r])
				continue;
			if (json)
				fprintf(p->out, "%s\"%s\":%lu", sep, uvma_reason_name((enum uvma_reason)r),
					c.reasons[r]);
			else
				fprintf(p->out, " %s=%lu", uvma_reason_name((enum uvma_reason)r),
					c.reasons[r]);
			sep = ",";
		}
		fputs(json ? "}}\n" : "\n", p->out);
	}
}
