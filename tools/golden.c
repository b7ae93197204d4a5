// SPDX-License-Identifier: MIT
/*
 * Golden files: reading and writing (format in golden.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"

uint64_t golden_hash_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint64_t h = 0xcbf29ce484222325ULL;
	int c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF) {
		h ^= (unsigned char)c;
		h *= 0x100000001b3ULL;
	}
	fclose(f);
	return h;
}

void golden_path(const char *trace, char *out, size_t size)
{
	size_t n = strlen(trace);

	if (n > 7 && !strcmp(trace + n - 7, ".utrace"))
		snprintf(out, size, "%.*s.golden", (int)(n - 7), trace);
	else
		snprintf(out, size, "%s.golden", trace);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

FILE *golden_create(const char *path, const char *kernel, uint64_t hash, const char *initial)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return NULL;
	fprintf(f, "uvma-golden 1\nkernel %s\ntrace %016llx\ninitial %d\n%s", kernel,
		(unsigned long long)hash, count_lines(initial), initial);
	return f;
}

void golden_add(FILE *f, int line, int proc, long result, const char *text)
{
	fprintf(f, "step %d %d %ld %d\n%s", line, proc, result, count_lines(text), text);
}

int golden_finish(FILE *f)
{
	fprintf(f, "end\n");
	return fclose(f);
}

/* Read @n lines from *pos into a new string. */
static char *take_lines(char **pos, int n)
{
	char *start = *pos, *p = start, *out;

	for (int i = 0; i < n; i++) {
		char *nl = strchr(p, '\n');

		if (!nl)
			return NULL;
		p = nl + 1;
	}
	out = malloc((size_t)(p - start) + 1);
	if (!out)
		return NULL;
	memcpy(out, start, (size_t)(p - start));
	out[p - start] = 0;
	*pos = p;
	return out;
}

static char *next_line(char **pos, char *buf, size_t size)
{
	char *nl = strchr(*pos, '\n');
	size_t n;

	if (!nl)
		return NULL;
	n = (size_t)(nl - *pos);
	if (n >= size)
		return NULL;
	memcpy(buf, *pos, n);
	buf[n] = 0;
	*pos = nl + 1;
	return buf;
}

int golden_load(const char *path, struct golden *g, char *err, size_t errsize)
{
	FILE *f = fopen(path, "rb");
	char *text, *pos, line[256];
	long size;
	int n, lineno = 0;
	unsigned long long hash;

	memset(g, 0, sizeof(*g));
	if (!f) {
		snprintf(err, errsize, "%s: %s (record it with uvma diff --record)", path,
			 strerror(errno));
		return -1;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (size < 0 || size > (64L << 20)) {
		fclose(f);
		snprintf(err, errsize, "%s: bad size", path);
		return -1;
	}
	text = malloc((size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		free(text);
		snprintf(err, errsize, "%s: read error", path);
		return -1;
	}
	fclose(f);
	text[size] = 0;
	pos = text;
#define BAD(...)                                                         \
	do {                                                             \
		snprintf(err, errsize, __VA_ARGS__);                     \
		goto fail;                                               \
	} while (0)
	if (!next_line(&pos, line, sizeof(line)) || strcmp(line, "uvma-golden 1"))
		BAD("%s:1: not a golden file", path);
	if (!next_line(&pos, line, sizeof(line)) || strncmp(line, "kernel ", 7))
		BAD("%s:2: expected 'kernel RELEASE'", path);
	snprintf(g->kernel, sizeof(g->kernel), "%s", line + 7);
	if (!next_line(&pos, line, sizeof(line)) || sscanf(line, "trace %llx", &hash) != 1)
		BAD("%s:3: expected 'trace HASH'", path);
	g->hash = hash;
	if (!next_line(&pos, line, sizeof(line)) || sscanf(line, "initial %d", &n) != 1 || n < 0 ||
	    !(g->initial = take_lines(&pos, n)))
		BAD("%s:4: bad initial section", path);
	lineno = 4 + n;
	for (;;) {
		struct golden_step st;

		if (!next_line(&pos, line, sizeof(line)))
			BAD("%s:%d: truncated (no 'end')", path, lineno + 1);
		lineno++;
		if (!strcmp(line, "end"))
			break;
		if (sscanf(line, "step %d %d %ld %d", &st.line, &st.proc, &st.result, &n) != 4 || n < 0)
			BAD("%s:%d: expected 'step LINE PROC RESULT NLINES'", path, lineno);
		st.text = take_lines(&pos, n);
		if (!st.text)
			BAD("%s:%d: truncated step", path, lineno);
		lineno += n;
		if (g->nsteps == g->cap) {
			int cap = g->cap ? 2 * g->cap : 64;
			struct golden_step *s = realloc(g->steps, (size_t)cap * sizeof(*s));

			if (!s) {
				free(st.text);
				BAD("%s: out of memory", path);
			}
			g->steps = s;
			g->cap = cap;
		}
		g->steps[g->nsteps++] = st;
	}
#undef BAD
	free(text);
	return 0;
fail:
	free(text);
	golden_free(g);
	return -1;
}

const struct golden_step *golden_find(const struct golden *g, int line, int proc)
{
	for (int i = 0; i < g->nsteps; i++)
		if (g->steps[i].line == line && g->steps[i].proc == proc)
			return &g->steps[i];
	return NULL;
}

void golden_free(struct golden *g)
{
	for (int i = 0; i < g->nsteps; i++)
		free(g->steps[i].text);
	free(g->steps);
	free(g->initial);
	memset(g, 0, sizeof(*g));
}
