// SPDX-License-Identifier: MIT
/*
 * uvma replay and uvma maps: the command line over replay.c and report.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "input.h"
#include "record.h"
#include "replay.h"
#include "report.h"

static const char replay_usage[] =
	"usage: uvma replay [--policy P|all] [--relocate-all] [--initial-maps FILE]\n"
	"                   [--faults written|none|all] [--json] [--plot FILE.svg|.png]\n"
	"                   [--divergences] TRACE...\n"
	"       uvma maps [--pid PID] [--at N] [--initial-maps FILE] [--policy P]\n"
	"                   [--faults MODEL] TRACE...\n"
	"  TRACE: a .utrace, or strace output (-f in one file, or the FILE.PID files of -ff),\n"
	"  plain or compressed with gzip, xz or zstd.\n";

struct opts {
	int policy;		/* -1: all */
	bool relocate_all, json, divergences;
	enum fault_model faults;
	const char *initial, *plot;
	char *initial_text;
	int pid;
	unsigned long at;
	char **paths;
	int npaths;
};

static int parse(const char *cmd, int argc, char **argv, struct opts *o, bool maps)
{
	char err[512];

	memset(o, 0, sizeof(*o));
	o->paths = calloc((size_t)argc + 1, sizeof(char *));
	if (!o->paths)
		return 2;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;

		if (!strcmp(a, "--policy") && more) {
			a = argv[++i];
			if (!strcmp(a, "all") && !maps) {
				o->policy = -1;
			} else if ((o->policy = policy_bit(a)) < 0) {
				fprintf(stderr, "uvma %s: unknown policy '%s'\n", cmd, a);
				return 2;
			}
		} else if (!strcmp(a, "--faults") && more) {
			if (fault_model_parse(argv[++i], &o->faults)) {
				fprintf(stderr, "uvma %s: --faults takes written, none or all, not '%s'\n",
					cmd, argv[i]);
				return 2;
			}
		} else if (!strcmp(a, "--initial-maps") && more) {
			o->initial = argv[++i];
		} else if (!strcmp(a, "--relocate-all")) {
			o->relocate_all = true;
		} else if (!strcmp(a, "--json") && !maps) {
			o->json = true;
		} else if (!strcmp(a, "--divergences") && !maps) {
			o->divergences = true;
		} else if (!strcmp(a, "--plot") && more && !maps) {
			o->plot = argv[++i];
		} else if (!strcmp(a, "--pid") && more && maps) {
			char *e;

			o->pid = (int)strtol(argv[++i], &e, 10);
			if (*e || o->pid <= 0) {
				fprintf(stderr, "uvma maps: bad pid '%s'\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(a, "--at") && more && maps) {
			char *e;

			o->at = strtoul(argv[++i], &e, 10);
			if (*e || !o->at) {
				fprintf(stderr, "uvma maps: --at takes an event number from 1, not '%s'\n",
					argv[i]);
				return 2;
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "uvma %s: unknown option '%s' (or it needs a value)\n%s", cmd, a,
				replay_usage);
			return 2;
		} else {
			o->paths[o->npaths++] = argv[i];
		}
	}
	if (!o->npaths) {
		fprintf(stderr, "uvma %s: no trace given\n%s", cmd, replay_usage);
		return 2;
	}
	if (o->relocate_all && o->policy != UVMA_POLICY_RELOCATE && o->policy != -1) {
		fprintf(stderr, "uvma %s: --relocate-all goes with --policy relocate or all\n", cmd);
		return 2;
	}
	if (o->initial) {
		o->initial_text = input_slurp(o->initial, NULL, err, sizeof(err));
		if (!o->initial_text) {
			fprintf(stderr, "uvma %s: %s\n", cmd, err);
			return 2;
		}
	}
	for (int i = 0; i < o->npaths; i++)
		if (access(o->paths[i], R_OK)) {
			fprintf(stderr, "uvma %s: %s: %s\n", cmd, o->paths[i], strerror(errno));
			return 2;
		}
	return 0;
}

static void opts_free(struct opts *o)
{
	free(o->paths);
	free(o->initial_text);
}

int cmd_replay(int argc, char **argv)
{
	enum { TIME_REPS = 5 };
	struct replay_result res[REPORT_MAX];
	double times[REPORT_MAX][TIME_REPS];
	int pols[REPORT_MAX], n = 0, status = 0, nreps = 1;
	struct opts o;
	char err[1024];
	int r = parse("replay", argc, argv, &o, false);

	if (r) {
		opts_free(&o);
		return r;
	}
	if (o.policy == -1)
		for (int p = UVMA_POLICY_LINUX; p <= UVMA_POLICY_IDEAL; p++)
			pols[n++] = p;
	else
		pols[n++] = o.policy;
	for (int rep = 0, reps = 1; rep < reps; rep++)
	for (int i = 0; i < n; i++) {
		struct replay_result again;
		struct replay_config cfg = {
			.policy = (enum uvma_policy)pols[i],
			.relocate_all = o.relocate_all && pols[i] == UVMA_POLICY_RELOCATE,
			.faults = o.faults,
			.initial_maps = o.initial_text,
			.maps_pid = -1,
			.progress = isatty(2),
			/* divergences are the same under every policy: listed once */
			.log = o.divergences && i == 0 ? stderr : NULL,
		};

		if (rep) {
			/* the model's time again: the median of the runs goes in the report */
			cfg.log = NULL;
			cfg.progress = false;
			if (!replay_run(o.paths, o.npaths, &cfg, &again, err, sizeof(err)))
				times[i][rep] = again.model_seconds;
			else
				times[i][rep] = res[i].model_seconds;
			replay_result_free(&again);
			continue;
		}
		if (replay_run(o.paths, o.npaths, &cfg, &res[i], err, sizeof(err))) {
			fprintf(stderr, "uvma replay: %s\n", err);
			for (int k = 0; k <= i; k++)
				replay_result_free(&res[k]);
			opts_free(&o);
			return 2;
		}
		times[i][0] = res[i].model_seconds;
		/*
		 * Short replays are timed 5 times, the policies interleaved so
		 * that the machine's drift touches each alike.
		 */
		if (i == n - 1 && n > 1 && res[0].total_seconds < 0.5)
			reps = TIME_REPS;
		nreps = reps;
	}
	for (int i = 0; i < n && nreps > 1; i++) {
		/* insertion sort of a handful */
		for (int a = 1; a < nreps; a++)
			for (int b = a; b > 0 && times[i][b - 1] > times[i][b]; b--) {
				double tmp = times[i][b];

				times[i][b] = times[i][b - 1];
				times[i][b - 1] = tmp;
			}
		res[i].model_seconds = times[i][nreps / 2];
	}
	if (o.json)
		report_json(stdout, o.paths[0], res, n, o.faults);
	else
		report_text(stdout, o.paths[0], res, n, o.faults);
	if (o.plot && report_plot(o.plot, o.paths[0], res, n, err, sizeof(err))) {
		fprintf(stderr, "uvma replay: %s\n", err);
		status = 2;
	}
	for (int i = 0; i < n; i++) {
		/* the model under the linux policy left the kernel's path: its figures are suspect */
		if (res[i].maps_differ) {
			fprintf(stderr, "uvma replay: %s: the model's maps differ from the kernel's at %lu "
				"of the trace's %lu maps lines, the first at line %lu (--divergences "
				"lists them)\n", o.paths[0], res[i].maps_differ, res[i].maps_checked,
				res[i].maps_first_line);
			if (!status)
				status = 1;
		}
	}
	for (int i = 0; i < n; i++)
		replay_result_free(&res[i]);
	opts_free(&o);
	return status;
}

int cmd_maps(int argc, char **argv)
{
	struct replay_result res;
	struct opts o;
	char err[1024];
	int r = parse("maps", argc, argv, &o, true);
	struct replay_config cfg;

	if (r) {
		opts_free(&o);
		return r;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.policy = (enum uvma_policy)o.policy;
	cfg.relocate_all = o.relocate_all;
	cfg.faults = o.faults;
	cfg.initial_maps = o.initial_text;
	cfg.stop_after = o.at;
	cfg.maps_pid = o.pid;
	if (replay_run(o.paths, o.npaths, &cfg, &res, err, sizeof(err))) {
		fprintf(stderr, "uvma maps: %s\n", err);
		replay_result_free(&res);
		opts_free(&o);
		return 2;
	}
	if (!res.maps_found) {
		fprintf(stderr, "uvma maps: %s: no process %d alive %s\n", o.paths[0], o.pid,
			o.at ? "at that event" : "at the end of the trace");
		r = 1;
	} else {
		fputs(res.maps, stdout);
		if (o.at && res.events < o.at)
			fprintf(stderr, "uvma maps: the trace has only %lu events; shown at its end\n",
				res.events);
	}
	replay_result_free(&res);
	opts_free(&o);
	return r;
}

int cmd_record(int argc, char **argv)
{
	struct record_opts ro = { .maps_every = 256 };
	const char *outpath = NULL, *policy = NULL;
	char tmp[] = "/tmp/uvma-record-XXXXXX.utrace";
	unsigned long divergences = 0;
	int i, exit_status = 0, status = 0;
	FILE *out;

	for (i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--verify")) {
			ro.verify = true;
		} else if (!strcmp(argv[i], "--maps-every") && i + 1 < argc) {
			char *end;

			errno = 0;
			ro.maps_every = strtoul(argv[++i], &end, 10);
			if (errno || end == argv[i] || *end || argv[i][0] == '-') {
				fprintf(stderr, "uvma record: --maps-every '%s': a number of calls "
					"(0: no maps lines)\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			outpath = argv[++i];
		} else if (!strcmp(argv[i], "--policy") && i + 1 < argc) {
			policy = argv[++i];
			if (strcmp(policy, "all") && policy_bit(policy) < 0) {
				fprintf(stderr, "uvma record: unknown policy '%s'\n", policy);
				return 2;
			}
		} else {
			fprintf(stderr, "uvma record: unknown option '%s'\nusage: uvma record "
				"[--policy P|all] [-o FILE.utrace] [--verify] [--maps-every N] -- COMMAND ARGS...\n",
				argv[i]);
			return 2;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: uvma record [--policy P|all] [-o FILE.utrace] [--verify] "
			"[--maps-every N] -- COMMAND ARGS...\n");
		return 2;
	}
	if (outpath) {
		out = fopen(outpath, "w");
	} else {
		int fd = mkstemps(tmp, 7);

		out = fd >= 0 ? fdopen(fd, "w") : NULL;
		outpath = tmp;
	}
	if (!out) {
		fprintf(stderr, "uvma record: %s: %s\n", outpath, strerror(errno));
		return 2;
	}
	if (record_run(&ro, argv + i + 1, out, &divergences, &exit_status)) {
		fclose(out);
		return 2;
	}
	if (fclose(out)) {
		fprintf(stderr, "uvma record: %s: %s\n", outpath, strerror(errno));
		return 2;
	}
	fprintf(stderr, "uvma record: %s exited with %d; trace in %s", argv[i + 1], exit_status,
		outpath);
	if (ro.verify)
		fprintf(stderr, "; %lu divergences from the kernel's maps", divergences);
	fprintf(stderr, "\n");
	if (ro.verify && divergences)
		status = 1;
	if (policy) {
		char *rargv[4] = { "--policy", (char *)policy, (char *)outpath, NULL };
		int r = cmd_replay(3, rargv);

		if (r > status)
			status = r;
	}
	return status;
}
