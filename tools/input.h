/* SPDX-License-Identifier: MIT */
/*
 * Reading trace input line by line, plain or compressed: gzip (zlib), xz
 * (liblzma) and zstd (libzstd), told apart by their magic bytes, never by
 * spawning a decompressor.
 */
#ifndef UVMA_INPUT_H
#define UVMA_INPUT_H

#include <stdint.h>
#include <stdio.h>

enum input_kind { INPUT_PLAIN, INPUT_GZIP, INPUT_XZ, INPUT_ZSTD };

struct input_codec;

struct input {
	const char *path;
	FILE *f;
	enum input_kind kind;
	struct input_codec *codec;
	/* decompressed bytes not yet returned as lines */
	char *buf;
	size_t buf_len, buf_pos, buf_cap;
	int eof;
	/* the line returned last */
	char *line;
	size_t line_cap;
	unsigned long lineno;
	uint64_t size;		/* the file's size in bytes */
	uint64_t consumed;	/* bytes of the file read so far (for progress) */
};

/* Open @path.  0, or -1 with "PATH: problem" in @err. */
int input_open(struct input *in, const char *path, char *err, size_t errsize);
/*
 * The next line, without its newline, NUL-terminated in *line (valid until
 * the next call).  1: a line; 0: end of input; -1: error ("PATH:LINE: ..."
 * in @err: a corrupt or truncated compressed stream, a NUL byte, a line over
 * 1 MiB).
 */
int input_line(struct input *in, char **line, size_t *len, char *err, size_t errsize);
void input_close(struct input *in);
const char *input_kind_name(enum input_kind k);

/* snprintf into @err; returns -1 (the tools' error convention). */
int errorf(char *err, size_t errsize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The whole decompressed text of @path (for .utrace files), NUL-terminated; free() it. */
char *input_slurp(const char *path, size_t *len, char *err, size_t errsize);

#endif
