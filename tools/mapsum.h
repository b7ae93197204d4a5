/* SPDX-License-Identifier: MIT */
/*
 * The fields of a /proc/PID/maps line that the model and the kernel must
 * agree on, and a checksum over them: what `uvma record --verify` compares
 * line by line, and what a recorded trace's "maps" lines carry so that a
 * replay can check the model against the kernel long after the recording.
 */
#ifndef UVMA_MAPSUM_H
#define UVMA_MAPSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct maps_line {
	uint64_t start, end, off;
	char perms[8];
	const char *name;	/* not NUL-terminated: namelen bytes */
	size_t namelen;
};

/*
 * The next line of maps text at *@p, advancing *@p past it.  The kernel's
 * [vsyscall] gate page (not a VMA) is skipped, and so is " (deleted)" after
 * a file's name (the model does not follow unlink; a memfd keeps it, as the
 * model prints it).  Device and inode numbers are not compared: the model's
 * are its own.  Returns false at the end of the text, or at a line that is
 * not a maps line.
 */
bool maps_next(const char **p, struct maps_line *l);

struct maps_sum {
	unsigned long count;	/* lines */
	uint64_t hash;		/* FNV-1a 64 over the lines' compared fields */
};

void maps_sum(const char *text, struct maps_sum *s);

#endif
