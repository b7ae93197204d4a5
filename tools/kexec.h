/* SPDX-License-Identifier: MIT */
/*
 * The kernel executor: runs a trace for real, one agent process per trace
 * process, and reads back /proc/self/smaps of the carve-out after each line.
 */
#ifndef UVMA_KEXEC_H
#define UVMA_KEXEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "trace.h"
#include "uvma.h"

/* Fixed carve-out base: free in an ADDR_NO_RANDOMIZE process on x86_64. */
#define CARVEOUT_BASE 0x200000000000ULL
#define KEXEC_TEXT_MAX (8u << 20)

#define KEXEC_MAX_OWN 1024

struct kexec {
	/* the agent's own mappings at start: a trace may not touch them */
	uint64_t own_start[KEXEC_MAX_OWN], own_end[KEXEC_MAX_OWN];
	int nown;
	pid_t pid[TRACE_MAX_PROCS];
	int sock[TRACE_MAX_PROCS];
	int nprocs;
	uint64_t base, size;
	unsigned int timeout_ms;
};

/*
 * Start the first agent.  @initial (KEXEC_TEXT_MAX bytes) receives the
 * agent's whole /proc/self/smaps, so that a model can start from the same
 * layout.  Returns 0 or -1 with a message in @err.
 */
int kexec_start(struct kexec *k, const struct trace *t, char *initial, char *err, size_t errsize);

/*
 * Run @op in its process; *result gets the call's return value (or -errno),
 * @smaps the carve-out's smaps afterwards.  Returns 0, or -1 with a
 * message in @err if the agent died, hung or the op cannot run for real.
 */
int kexec_step(struct kexec *k, const struct trace *t, const struct op *op, long *result,
	       char *smaps, char *err, size_t errsize);
/*
 * 0, or -1 with "FILE:LINE: ..." if an absolute address of the trace meets
 * one of the agent's own mappings (after kexec_start).
 */
int kexec_check_trace(const struct kexec *k, const struct trace *t, char *err, size_t errsize);
/* smaps of the carve-out in process @proc. */
int kexec_smaps(struct kexec *k, int proc, char *smaps, char *err, size_t errsize);
void kexec_stop(struct kexec *k);

/*
 * The host's anonymous THP sizes from /sys/kernel/mm/transparent_hugepage,
 * as the model's order masks ("inherit" follows the top-level setting).
 * Returns 0, or -1 (with the defaults kept) if sysfs cannot be read.
 */
int kexec_host_thp(struct uvma_sys_config *cfg);

/*
 * Does this kernel forbid the shared zero page (a read fault on private
 * anonymous memory allocating a page, as mm_forbids_zeropage() makes it)?
 * Probed once, by reading a page of our own: 1 forbidden, 0 allowed, -1 the
 * probe failed (smaps unreadable).
 */
int kexec_host_forbids_zero_page(void);

/*
 * The host's NUMA nodes online, as the model counts them (nodes 0 to N - 1:
 * one more than the highest in /sys/devices/system/node/online, at most
 * 64); 1 when it cannot be read.  Traces and golden files do not carry it:
 * those of this project come from one-node hosts.
 */
unsigned int kexec_host_numa_nodes(void);

#endif
