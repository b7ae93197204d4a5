// SPDX-License-Identifier: MIT
/* The compared fields of /proc/PID/maps lines, and their checksum (mapsum.h). */
#include "mapsum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_spaces(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static const char *skip_word(const char *s)
{
	while (*s && *s != ' ' && *s != '\t' && *s != '\n')
		s++;
	return s;
}

static bool parse_line(const char *s, const char *eol, struct maps_line *l)
{
	char *e;
	const char *w;
	size_t n;

	l->start = strtoull(s, &e, 16);
	if (e == s || *e != '-')
		return false;
	s = e + 1;
	l->end = strtoull(s, &e, 16);
	if (e == s || *e != ' ')
		return false;
	s = skip_spaces(e);
	w = skip_word(s);
	n = (size_t)(w - s);
	if (!n || n >= sizeof(l->perms))
		return false;
	memcpy(l->perms, s, n);
	l->perms[n] = 0;
	s = skip_spaces(w);
	l->off = strtoull(s, &e, 16);
	if (e == s)
		return false;
	s = skip_spaces(skip_word(skip_spaces(e)));	/* device */
	s = skip_spaces(skip_word(s));			/* inode */
	if (s > eol)
		return false;
	l->name = s;
	l->namelen = (size_t)(eol - s);
	while (l->namelen && (s[l->namelen - 1] == ' ' || s[l->namelen - 1] == '\t'))
		l->namelen--;
	if (l->namelen > 10 && !memcmp(s + l->namelen - 10, " (deleted)", 10) &&
	    (l->namelen < 7 || memcmp(s, "/memfd:", 7)))
		l->namelen -= 10;
	return true;
}

bool maps_next(const char **p, struct maps_line *l)
{
	for (;;) {
		const char *s = *p, *eol;

		if (!*s)
			return false;
		eol = strchr(s, '\n');
		if (!eol)
			eol = s + strlen(s);
		*p = *eol ? eol + 1 : eol;
		if (!parse_line(s, eol, l))
			return false;
		if (l->namelen == 10 && !memcmp(l->name, "[vsyscall]", 10))
			continue;
		return true;
	}
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
	const unsigned char *b = data;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void maps_sum(const char *text, struct maps_sum *s)
{
	struct maps_line l;

	s->count = 0;
	s->hash = 0xcbf29ce484222325ULL;
	while (maps_next(&text, &l)) {
		char head[80];
		int n = snprintf(head, sizeof(head), "%llx-%llx %s %llx ",
				 (unsigned long long)l.start, (unsigned long long)l.end, l.perms,
				 (unsigned long long)l.off);

		/* the line as text, so that the sum does not depend on the machine's byte order */
		s->hash = fnv(s->hash, head, (size_t)n);
		s->hash = fnv(s->hash, l.name, l.namelen);
		s->hash = fnv(s->hash, "\n", 1);
		s->count++;
	}
}
