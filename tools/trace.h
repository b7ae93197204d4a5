/* SPDX-License-Identifier: MIT */
/*
 * The .utrace format (docs/trace-format.md): a program of operations on one
 * or more processes, with the expected (or recorded) result of each.
 */
#ifndef UVMA_TRACE_H
#define UVMA_TRACE_H

#include <stdbool.h>
#include <stdint.h>

enum op_kind {
	OP_CARVEOUT,
	OP_THP,
	OP_ZEROPAGE,	/* zeropage on|off: may read faults map the zero page */
	OP_FILE,
	OP_MMAP,
	OP_MUNMAP,
	OP_MPROTECT,
	OP_PKEY_MPROTECT,
	OP_MADVISE,
	OP_MLOCK,
	OP_MLOCK2,
	OP_MUNLOCK,
	OP_MLOCKALL,
	OP_MUNLOCKALL,
	OP_MREMAP,
	OP_MSEAL,	/* mseal ADDR LEN [FLAGS]: flags in len2 */
	OP_MBIND,	/* mbind ADDR LEN MODE NODES MAXNODE FLAGS: mode in arg, nodes in len2
			 * (prot 1: a NULL mask), maxnode in off, flags in flags */
	OP_BRK,
	OP_TOUCH,
	OP_FORK,
	OP_EXIT,
	OP_PRCTL_MEMORY_MERGE,
	OP_PRCTL_ANON_NAME,
	OP_EXPECT_VMAS,
	OP_EXPECT_VMA,
	OP_FILL,
	/* model-only lines: what the host cannot be made to do on request */
	OP_SWAP,		/* swap SIZE: the machine's swap space */
	OP_KSM_SCAN,		/* ksm_scan: one full pass of ksmd */
	OP_PIN,			/* pin ADDR LEN r|w: pin_user_pages, held until unpin */
	OP_UNPIN,		/* unpin: every pin of the line's process */
	OP_MIGRATE,		/* migrate ADDR: start migrating the folio there */
	OP_MIGRATE_FINISH,	/* migrate_finish: end every migration still running */
	/* recorded traces (uvma record): the state a real process starts from */
	OP_EXEC,		/* exec [brk=ADDR]: the process starts an empty address space */
	OP_VMA,			/* vma START END FLAGS [pgoff=N] [fd=NAME] [special=S] [faulted] */
	OP_SPAWN,		/* spawn NAME: a new process with an empty address space */
	OP_MAPS,		/* maps COUNT HASH: the kernel's maps here (mapsum.h) */
	OP_NKINDS,
};

/* An address: absolute, or relative to the carve-out ("@"). */
struct taddr {
	bool rel;
	uint64_t val;
};

#define TRACE_MAX_PROCS 512
#define TRACE_MAX_FILES 2048
#define TRACE_NAME_MAX 64
/* fill_to_limit maps its one-page VMAs here, two pages apart: outside the carve-out */
#define FILL_BASE 0x300000000000ULL

struct op {
	enum op_kind kind;
	int line;
	int proc;		/* index into trace.procs */
	struct taddr addr, addr2;	/* mremap: addr2 = new address */
	uint64_t len, len2;	/* maps: len = lines, len2 = checksum */
	int prot;
	int flags;
	int arg;		/* advice, pkey, child proc, file, r/w, enable */
	uint64_t off;
	int file;		/* -1: none */
	char name[TRACE_NAME_MAX];
	bool has_result;
	bool result_rel;	/* "= @N": relative to the carve-out */
	long result;
	unsigned int policies;	/* expect[...]: bit set of policies, 0 = all */
};

struct trace {
	const char *path;
	uint64_t carveout;	/* bytes */
	/* the "thp" line: THP sizes as order masks; has_thp 0 = the host's defaults */
	int has_thp;
	uint32_t thp_always, thp_madvise;
	uint64_t swap_pages;	/* the "swap" line; 0: none, as on the host */
	/* the "zeropage" line: 1 on, -1 off (mm_forbids_zeropage), 0 not said */
	int zero_page;
	int model_only;		/* the first model-only line (swap, ksm_scan, pin, ...), or 0 */
	int nprocs;
	char procs[TRACE_MAX_PROCS][TRACE_NAME_MAX];
	int nfiles;
	char files[TRACE_MAX_FILES][TRACE_NAME_MAX];
	uint64_t file_size[TRACE_MAX_FILES];
	char *file_path[TRACE_MAX_FILES];	/* "path=": a regular file (model only), else NULL */
	int file_mode[TRACE_MAX_FILES];		/* its open mode: 1 read, 2 write, 3 both */
#define FILE_MEMFD 4	/* file_mode: file_path names a memfd (memfd=NAME), not a host file */
	struct op *ops;
	int nops, cap;
};

/*
 * Read @path.  Returns 0, or -1 with "FILE:LINE: problem" in @err; nothing
 * of a malformed trace is kept.
 */
int trace_load(const char *path, struct trace *t, char *err, size_t errsize);
int trace_parse(const char *path, const char *text, struct trace *t, char *err, size_t errsize);
/*
 * The same a line at a time, for inputs too long to hold: begin, then each
 * line (numbered from 1, the header first) appends its op to t->ops, which
 * the caller may run and drop (t->nops = 0) before the next line.
 */
void trace_stream_begin(struct trace *t, const char *path);
int trace_stream_line(struct trace *t, int lineno, const char *text, size_t n, char *err,
		      size_t errsize);
void trace_free(struct trace *t);
const char *op_name(enum op_kind k);
/*
 * A call's result as a trace writes it: -ERRNO by name (a number when the
 * name is not known), an address in hex, a small value in decimal.
 */
void trace_format_result(char *buf, size_t size, long r);
/* Write one op back as a trace line (for reports and minimised programs). */
int op_format(const struct trace *t, const struct op *op, char *buf, size_t size);
/* The "thp always=SIZES madvise=SIZES" line for these order masks (no newline). */
int trace_format_thp(char *buf, size_t size, uint32_t always, uint32_t madvise);
/* The policy bit of a policy name (linux = bit 0), or -1. */
int policy_bit(const char *name);
const char *policy_name(int bit);
/* Escape a path for "path=" (space, '#', '%' and unprintable bytes as %XX). */
void trace_escape(char *out, size_t size, const char *s);

#endif
