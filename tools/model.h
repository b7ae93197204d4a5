/* SPDX-License-Identifier: MIT */
/*
 * Running a trace on the model: one address space per trace process.
 */
#ifndef UVMA_MODEL_H
#define UVMA_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"
#include "uvma.h"

struct model {
	struct uvma_sys *sys;
	struct uvma_mm *mm[TRACE_MAX_PROCS];
	struct uvma_file *files[TRACE_MAX_FILES];
	uint64_t base, size;
	unsigned long max_map_count;	/* the machine's vm.max_map_count */
	/* model-only lines: pins held (with their process) and migrations running */
	struct model_pin {
		int proc;
		struct uvma_page *page;
	} *pins;
	size_t npins, cappins;
	long *migrations;
	size_t nmigrations, capmigrations;
	/*
	 * A forked child runs at once (uvma_mm_run()), as the agent's does;
	 * uvma diff sets this to run it only after the parent's state is
	 * compared, as the kernel's parent is snapshotted before its child runs.
	 */
	bool defer_child_run;
};

/*
 * Start a model of @t with its carve-out at @base.  With @initial (an
 * smaps text of a whole process) the first address space starts from that
 * layout; otherwise it is empty, with mmap_base at 0x7ffff7fff000.  @cfg
 * is the machine (NULL: the host's defaults as uvma_sys_config_default()).
 */
int model_start(struct model *m, const struct trace *t, uint64_t base, const char *initial,
		const struct uvma_sys_config *cfg, char *err, size_t errsize);
/* Run @op; returns the call's result.  -ENOSYS-free: every op kind runs. */
long model_step(struct model *m, const struct trace *t, const struct op *op);
/* smaps of the carve-out of @proc into @buf (truncated at @size). */
void model_smaps(struct model *m, int proc, char *buf, size_t size);
/*
 * A trace's "maps COUNT HASH" line against the model's maps of its process
 * (mapsum.h): 0 they agree, 1 they differ (@why says how, after "LINE: "),
 * -errno when the model's maps cannot be rendered.
 */
int model_check_maps(struct model *m, const struct trace *t, const struct op *op, char *why,
		     size_t size);
void model_stop(struct model *m);

/* The vm_flags a "VmFlags:" line of smaps names (two-letter mnemonics). */
uint64_t model_parse_vmflags(const char *s);
/* Seed @mm from an smaps text (whole process).  0 or -1 with @err. */
int model_import_smaps(struct uvma_mm *mm, const char *smaps, char *err, size_t errsize);
/* ... or from a /proc/PID/maps text (flags made up from the permissions). */
int model_import_maps(struct uvma_mm *mm, const char *text, char *err, size_t errsize);

#endif
