/* SPDX-License-Identifier: MIT */
/*
 * Reading strace output as people record it: `strace -f` (one file, pids
 * in front: "1234 " with -o, "[pid 1234] " on a terminal) or `-ff` (one file
 * per pid, FILE.PID), with or without -t/-tt/-ttt/-r timestamps, -T times,
 * -y/-yy paths, -X raw or -X verbose, --seccomp-bpf.  A call cut by another
 * process's line ("<unfinished ...>") is joined with its "<... NAME
 * resumed>" rest.  The reader gives whole calls and process ends, in order.
 */
#ifndef UVMA_STRACE_H
#define UVMA_STRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "input.h"

enum sc_kind {
	SC_CALL,	/* a finished system call */
	SC_EXITED,	/* "+++ exited with N +++" */
	SC_KILLED,	/* "+++ killed by SIG... +++" */
};

#define SC_MAX_ARGS 8

/* One argument: its number (flags resolved), and for -y an fd's path. */
struct sc_arg {
	const char *text;	/* the argument as written, NUL-terminated */
	uint64_t val;
	bool is_num;		/* val holds a number (NULL, flags and fds included) */
	const char *path;	/* "3</usr/lib/libc.so.6>": the path, else NULL */
};

struct sc_event {
	enum sc_kind kind;
	int pid;
	unsigned long line;	/* where the call ended (its result) */
	const char *file;
	char name[32];
	int nargs;
	struct sc_arg arg[SC_MAX_ARGS];
	bool result_known;	/* false for "= ?" */
	long result;		/* the value, or -errno */
	const char *result_path;	/* -y on a returned fd */
	int status;		/* SC_EXITED: the exit status */
	double ts;		/* -t/-tt/-ttt timestamp in seconds, or -1 */
};

struct strace_reader;

/*
 * Open @path (plain or compressed).  @pid is the pid for a file of -ff
 * (FILE.PID), or 0 when the lines carry pids or there is one process.
 */
struct strace_reader *strace_open(const char *path, int pid, char *err, size_t errsize);
/*
 * The next event: 1, 0 at the end, -1 with "FILE:LINE: problem" in @err (a
 * line that is neither strace output nor anything strace writes).  Pointers
 * in @ev stay valid until the next call.
 */
int strace_next(struct strace_reader *r, struct sc_event *ev, char *err, size_t errsize);
/* Lines skipped as uninteresting (signals, "strace:" notes, other calls). */
unsigned long strace_skipped(const struct strace_reader *r);
/* The pid unprefixed lines (the first process on a terminal) turned out to have, or 0. */
int strace_alias0(const struct strace_reader *r);
const struct input *strace_input(const struct strace_reader *r);
void strace_close(struct strace_reader *r);

/* Does @path look like strace output rather than a .utrace? */
bool strace_sniff(const char *path);

/* Parse one call line's body "NAME(ARGS) = RESULT" (for tests). */
int strace_parse_call(char *body, struct sc_event *ev, char *err, size_t errsize);

#endif
