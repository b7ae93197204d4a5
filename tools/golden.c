// SPDX-License-Identifier: MIT
/*
 * Golden files: reading and writing (format in golden.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

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
		snprintf(out, size, "%.*s.golden.gz", (int)(n - 7), trace);
	else
		snprintf(out, size, "%s.golden.gz", trace);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The text is written through gzip: smaps repeats itself from step to step. */
struct golden_writer {
	gzFile gz;
	int err;
};

static void gz_puts(struct golden_writer *w, const char *s)
{
	size_t n = strlen(s);

	if (n && gzwrite(w->gz, s, (unsigned int)n) != (int)n)
		w->err = 1;
}

struct golden_writer *golden_create(const char *path, const char *kernel, bool forbids_zero_page,
				    uint64_t hash, const char *initial)
{
	struct golden_writer *w = calloc(1, sizeof(*w));
	char head[512];

	if (!w)
		return NULL;
	w->gz = gzopen(path, "wb9");
	if (!w->gz) {
		free(w);
		return NULL;
	}
	/* a kernel without the zero page says so; files from before the line lack it */
	snprintf(head, sizeof(head), "uvma-golden 1\nkernel %s\n%strace %016llx\ninitial %d\n",
		 kernel, forbids_zero_page ? "zeropage off\n" : "", (unsigned long long)hash,
		 count_lines(initial));
	gz_puts(w, head);
	gz_puts(w, initial);
	return w;
}

void golden_add(struct golden_writer *w, int line, int proc, long result, const char *text)
{
	char head[128];

	snprintf(head, sizeof(head), "step %d %d %ld %d\n", line, proc, result, count_lines(text));
	gz_puts(w, head);
	gz_puts(w, text);
}

int golden_finish(struct golden_writer *w)
{
	int err;

	gz_puts(w, "end\n");
	err = w->err | (gzclose(w->gz) != Z_OK);
	free(w);
	return err ? -1 : 0;
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
	gzFile gz = gzopen(path, "rb");
	char *text = NULL, *pos, line[256];
	size_t size = 0, cap = 0;
	int n, lineno = 0;
	unsigned long long hash;

	memset(g, 0, sizeof(*g));
	if (!gz) {
		snprintf(err, errsize, "%s: %s (record it with uvma diff --record)", path,
			 strerror(errno));
		return -1;
	}
	for (;;) {
		int got;

		if (cap - size < 65536) {
			char *t;

			cap = cap ? cap * 2 : 1 << 20;
			if (cap > (256u << 20) || !(t = realloc(text, cap))) {
				gzclose(gz);
				free(text);
				snprintf(err, errsize, "%s: too large", path);
				return -1;
			}
			text = t;
		}
		got = gzread(gz, text + size, (unsigned int)(cap - size - 1));
		if (got < 0) {
			gzclose(gz);
			free(text);
			snprintf(err, errsize, "%s: not a gzip file, or damaged", path);
			return -1;
		}
		if (!got)
			break;
		size += (size_t)got;
	}
	gzclose(gz);
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
	lineno = 3;
	if (!next_line(&pos, line, sizeof(line)))
		BAD("%s:3: expected 'trace HASH'", path);
	if (!strcmp(line, "zeropage off")) {
		g->forbids_zero_page = true;
		lineno++;
		if (!next_line(&pos, line, sizeof(line)))
			BAD("%s:%d: expected 'trace HASH'", path, lineno);
	}
	if (sscanf(line, "trace %llx", &hash) != 1)
		BAD("%s:%d: expected 'trace HASH'", path, lineno);
	g->hash = hash;
	lineno++;
	if (!next_line(&pos, line, sizeof(line)) || sscanf(line, "initial %d", &n) != 1 || n < 0 ||
	    !(g->initial = take_lines(&pos, n)))
		BAD("%s:%d: bad initial section", path, lineno);
	lineno += n;
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
			int ncap = g->cap ? 2 * g->cap : 64;
			struct golden_step *s = realloc(g->steps, (size_t)ncap * sizeof(*s));

			if (!s) {
				free(st.text);
				BAD("%s: out of memory", path);
			}
			g->steps = s;
			g->cap = ncap;
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
