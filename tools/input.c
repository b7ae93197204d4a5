// SPDX-License-Identifier: MIT
/*
 * Trace input, plain or compressed (see input.h).
 */
#include <errno.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include "input.h"

#define CHUNK (256 * 1024)
#define MAX_LINE (1024 * 1024)

struct input_codec {
	unsigned char in[CHUNK];
	size_t in_len, in_pos;
	z_stream z;
	lzma_stream xz;
	ZSTD_DStream *zs;
	int done;	/* the compressed stream ended */
};

int errorf(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -1;
}

const char *input_kind_name(enum input_kind k)
{
	static const char *const names[] = { "plain", "gzip", "xz", "zstd" };

	return names[k];
}

int input_open(struct input *in, const char *path, char *err, size_t errsize)
{
	unsigned char magic[6] = { 0 };
	struct stat st;
	size_t n;

	memset(in, 0, sizeof(*in));
	in->path = path;
	in->f = fopen(path, "rb");
	if (!in->f)
		return errorf(err, errsize, "%s: %s", path, strerror(errno));
	if (!fstat(fileno(in->f), &st))
		in->size = (uint64_t)st.st_size;
	if (S_ISDIR(st.st_mode)) {
		fclose(in->f);
		return errorf(err, errsize, "%s: is a directory", path);
	}
	n = fread(magic, 1, sizeof(magic), in->f);
	rewind(in->f);
	if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		in->kind = INPUT_GZIP;
	else if (n >= 6 && !memcmp(magic, "\xfd" "7zXZ\0", 6))
		in->kind = INPUT_XZ;
	else if (n >= 4 && !memcmp(magic, "\x28\xb5\x2f\xfd", 4))
		in->kind = INPUT_ZSTD;
	if (in->kind != INPUT_PLAIN) {
		in->codec = calloc(1, sizeof(*in->codec));
		if (!in->codec)
			goto nomem;
		if (in->kind == INPUT_GZIP && inflateInit2(&in->codec->z, 15 + 32) != Z_OK)
			goto nomem;
		if (in->kind == INPUT_XZ &&
		    lzma_stream_decoder(&in->codec->xz, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
			goto nomem;
		if (in->kind == INPUT_ZSTD && !(in->codec->zs = ZSTD_createDStream()))
			goto nomem;
	}
	in->buf_cap = CHUNK;
	in->buf = malloc(in->buf_cap);
	if (!in->buf)
		goto nomem;
	return 0;
nomem:
	input_close(in);
	return errorf(err, errsize, "%s: out of memory", path);
}

void input_close(struct input *in)
{
	if (in->codec) {
		if (in->kind == INPUT_GZIP)
			inflateEnd(&in->codec->z);
		else if (in->kind == INPUT_XZ)
			lzma_end(&in->codec->xz);
		else if (in->kind == INPUT_ZSTD)
			ZSTD_freeDStream(in->codec->zs);
		free(in->codec);
	}
	if (in->f)
		fclose(in->f);
	free(in->buf);
	free(in->line);
	memset(in, 0, sizeof(*in));
}

/* Refill the compressed side; 0 at end of file. */
static size_t refill(struct input *in)
{
	struct input_codec *c = in->codec;

	if (c->in_pos < c->in_len)
		return c->in_len - c->in_pos;
	c->in_len = fread(c->in, 1, CHUNK, in->f);
	c->in_pos = 0;
	in->consumed += c->in_len;
	return c->in_len;
}

/*
 * Decompress into out[0, cap): bytes produced, 0 at a clean end, -1 on a
 * corrupt or truncated stream.
 */
static long decode(struct input *in, char *out, size_t cap, char *err, size_t errsize)
{
	struct input_codec *c = in->codec;
	size_t avail;

	for (;;) {
		size_t produced = 0;

		avail = refill(in);
		if (c->done && !avail)
			return 0;
		if (in->kind == INPUT_GZIP) {
			int r;

			if (c->done) {
				/* concatenated gzip members (gzip a; gzip b; cat) */
				inflateReset(&c->z);
				c->done = 0;
			}
			c->z.next_in = c->in + c->in_pos;
			c->z.avail_in = (uInt)avail;
			c->z.next_out = (Bytef *)out;
			c->z.avail_out = (uInt)cap;
			r = inflate(&c->z, Z_NO_FLUSH);
			c->in_pos += avail - c->z.avail_in;
			produced = cap - c->z.avail_out;
			if (r == Z_STREAM_END)
				c->done = 1;
			else if (r != Z_OK && !(r == Z_BUF_ERROR && avail))
				return errorf(err, errsize, "%s: corrupt gzip data (%s)", in->path,
					    c->z.msg ? c->z.msg : "inflate failed");
		} else if (in->kind == INPUT_XZ) {
			lzma_ret r;

			c->xz.next_in = c->in + c->in_pos;
			c->xz.avail_in = avail;
			c->xz.next_out = (uint8_t *)out;
			c->xz.avail_out = cap;
			r = lzma_code(&c->xz, avail ? LZMA_RUN : LZMA_FINISH);
			c->in_pos += avail - c->xz.avail_in;
			produced = cap - c->xz.avail_out;
			if (r == LZMA_STREAM_END)
				c->done = 1;
			else if (r != LZMA_OK)
				return errorf(err, errsize, "%s: corrupt or truncated xz data (error %d)",
					    in->path, (int)r);
		} else {
			ZSTD_inBuffer ib = { c->in + c->in_pos, avail, 0 };
			ZSTD_outBuffer ob = { out, cap, 0 };
			size_t r = ZSTD_decompressStream(c->zs, &ob, &ib);

			c->in_pos += ib.pos;
			produced = ob.pos;
			if (ZSTD_isError(r))
				return errorf(err, errsize, "%s: corrupt zstd data (%s)", in->path,
					    ZSTD_getErrorName(r));
			/* r == 0: a frame ended; more frames may follow */
			c->done = r == 0;
		}
		if (produced)
			return (long)produced;
		if (!avail && !c->done)
			return errorf(err, errsize, "%s: truncated %s data", in->path,
				    input_kind_name(in->kind));
	}
}

/* More bytes into the buffer: 1, 0 at end, -1 on error. */
static int fill(struct input *in, char *err, size_t errsize)
{
	long n;

	if (in->buf_pos) {
		memmove(in->buf, in->buf + in->buf_pos, in->buf_len - in->buf_pos);
		in->buf_len -= in->buf_pos;
		in->buf_pos = 0;
	}
	if (in->buf_len == in->buf_cap) {
		char *nb = realloc(in->buf, in->buf_cap * 2);

		if (!nb)
			return errorf(err, errsize, "%s: out of memory", in->path);
		in->buf = nb;
		in->buf_cap *= 2;
	}
	if (in->kind == INPUT_PLAIN) {
		n = (long)fread(in->buf + in->buf_len, 1, in->buf_cap - in->buf_len, in->f);
		in->consumed += (uint64_t)n;
		if (!n && ferror(in->f))
			return errorf(err, errsize, "%s: read error", in->path);
	} else {
		n = decode(in, in->buf + in->buf_len, in->buf_cap - in->buf_len, err, errsize);
		if (n < 0)
			return -1;
	}
	in->buf_len += (size_t)n;
	return n > 0;
}

int input_line(struct input *in, char **line, size_t *len, char *err, size_t errsize)
{
	char *nl;
	size_t n;

	for (;;) {
		nl = memchr(in->buf + in->buf_pos, '\n', in->buf_len - in->buf_pos);
		if (nl)
			break;
		if (in->buf_len - in->buf_pos > MAX_LINE)
			return errorf(err, errsize, "%s:%lu: line longer than %d bytes", in->path,
				    in->lineno + 1, MAX_LINE);
		if (!in->eof) {
			int r = fill(in, err, errsize);

			if (r < 0)
				return -1;
			if (r == 0)
				in->eof = 1;
			continue;
		}
		if (in->buf_pos == in->buf_len)
			return 0;
		/* the last line has no newline */
		nl = in->buf + in->buf_len;
		break;
	}
	n = (size_t)(nl - (in->buf + in->buf_pos));
	if (n + 1 > in->line_cap) {
		char *l = realloc(in->line, n + 1);

		if (!l)
			return errorf(err, errsize, "%s: out of memory", in->path);
		in->line = l;
		in->line_cap = n + 1;
	}
	memcpy(in->line, in->buf + in->buf_pos, n);
	in->line[n] = 0;
	in->buf_pos += n + (nl < in->buf + in->buf_len ? 1 : 0);
	in->lineno++;
	if (memchr(in->line, 0, n))
		return errorf(err, errsize, "%s:%lu: a NUL byte (binary data?)", in->path, in->lineno);
	*line = in->line;
	*len = n;
	return 1;
}

char *input_slurp(const char *path, size_t *len, char *err, size_t errsize)
{
	struct input in;
	char *text = NULL, *line;
	size_t n = 0, cap = 0, l;
	int r;

	if (input_open(&in, path, err, errsize))
		return NULL;
	while ((r = input_line(&in, &line, &l, err, errsize)) > 0) {
		if (n + l + 2 > cap) {
			size_t nc = (n + l + 2) * 2;
			char *t = realloc(text, nc);

			if (!t) {
				errorf(err, errsize, "%s: out of memory", path);
				r = -1;
				break;
			}
			text = t;
			cap = nc;
		}
		memcpy(text + n, line, l);
		n += l;
		text[n++] = '\n';
		text[n] = 0;
	}
	input_close(&in);
	if (r < 0) {
		free(text);
		return NULL;
	}
	if (!text)
		text = calloc(1, 1);
	if (len)
		*len = n;
	return text;
}
