// SPDX-License-Identifier: MIT
/*
 * The replay report: text, JSON, and the VMA-count plot (gnuplot).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "trace.h"

/* Figures of one policy, summed over its address spaces. */
struct totals {
	unsigned long vmas_end, anon_vmas, avcs;
	unsigned long merges_done, merges_refused, reloc_done, reloc_refused;
	unsigned long folios_relocated, folios_split;
	unsigned long reasons[UVMA_REASONS];
	unsigned long long kbytes;	/* kernel memory at the end, bytes */
};

static void totals_of(const struct replay_result *res, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < res->nspaces; i++) {
		const struct space_report *s = &res->spaces[i];

		t->vmas_end += s->vmas_end;
		t->anon_vmas += s->anon_vmas_end;
		t->avcs += s->avcs_end;
		t->merges_done += s->ev.done[UVMA_EVENT_MERGE] + s->ev.done[UVMA_EVENT_EXPAND];
		t->merges_refused += s->ev.refused[UVMA_EVENT_MERGE] + s->ev.refused[UVMA_EVENT_EXPAND];
		t->reloc_done += s->ev.done[UVMA_EVENT_RELOCATE];
		t->reloc_refused += s->ev.refused[UVMA_EVENT_RELOCATE];
		t->folios_relocated += s->st.folios_relocated;
		t->folios_split += s->st.folios_split;
		for (int r = 0; r < UVMA_REASONS; r++)
			t->reasons[r] += s->ev.reasons[r];
	}
	t->kbytes = (unsigned long long)t->vmas_end * KERNEL_VMA_BYTES +
		    (unsigned long long)t->anon_vmas * KERNEL_ANON_VMA_BYTES +
		    (unsigned long long)t->avcs * KERNEL_AVC_BYTES;
}

/* Reasons a relocation is refused; the others are the merge engine's (and splits'). */
static bool relocation_reason(int r)
{
	return r >= UVMA_REASON_ANON_VMA_SHARED;
}

static void row(FILE *out, const char *label, const unsigned long *v, int n)
{
	fprintf(out, "  %-30s", label);
	for (int i = 0; i < n; i++)
		fprintf(out, " %10lu", v[i]);
	fputc('\n', out);
}

static void kib(char *buf, size_t size, unsigned long long bytes)
{
	if (bytes >= 10ULL << 20)
		snprintf(buf, size, "%.1f MiB", (double)bytes / (1 << 20));
	else
		snprintf(buf, size, "%.1f KiB", (double)bytes / 1024);
}

void report_text(FILE *out, const char *trace, const struct replay_result *res, int n,
		 enum fault_model faults)
{
	struct totals t[REPORT_MAX];
	unsigned long v[REPORT_MAX];
	int base = 0;

	for (int i = 0; i < n; i++) {
		totals_of(&res[i], &t[i]);
		if (res[i].policy == UVMA_POLICY_LINUX)
			base = i;
	}
	fprintf(out, "uvma replay: %s (%s, %lu lines, %lu events, %lu mm calls, %d address spaces",
		trace, res[0].format, res[0].lines, res[0].events, res[0].calls, res[0].nspaces);
	if (!strcmp(res[0].format, "strace"))
		fprintf(out, "; faults: %s", fault_model_name(faults));
	fprintf(out, ")\n");
	fprintf(out, "  divergences %lu (calls the model answered unlike the kernel), implied ranges %lu,"
		" lines skipped %lu\n", res[base].divergences, res[base].implied, res[base].skipped);
	if (res[base].policy == UVMA_POLICY_LINUX && res[base].maps_checked)
		fprintf(out, "  the kernel's maps, recorded at %lu points: the model's differ at %lu\n",
			res[base].maps_checked, res[base].maps_differ);
	fputc('\n', out);
	fprintf(out, "  %-30s", "");
	for (int i = 0; i < n; i++)
		fprintf(out, " %10s", policy_name((int)res[i].policy));
	fputc('\n', out);
#define ROW(label, expr)                                \
	do {                                            \
		for (int i = 0; i < n; i++)             \
			v[i] = (expr);                  \
		row(out, label, v, n);                  \
	} while (0)
	ROW("VMAs at exit (all processes)", t[i].vmas_end);
	ROW("VMAs at the peak (live at once)", res[i].total_peak);
	ROW("merges attempted", t[i].merges_done + t[i].merges_refused);
	ROW("merges done", t[i].merges_done);
	for (int r = 1; r < UVMA_REASONS; r++) {
		bool any = false;
		char label[64];

		for (int i = 0; i < n; i++)
			any |= t[i].reasons[r] != 0;
		if (!any || relocation_reason(r))
			continue;
		snprintf(label, sizeof(label), "  refused: %s", uvma_reason_name((enum uvma_reason)r));
		ROW(label, t[i].reasons[r]);
	}
	ROW("relocations done", t[i].reloc_done);
	ROW("relocations refused", t[i].reloc_refused);
	for (int r = UVMA_REASON_ANON_VMA_SHARED; r < UVMA_REASONS; r++) {
		bool any = false;
		char label[64];

		for (int i = 0; i < n; i++)
			any |= t[i].reasons[r] != 0;
		if (!any)
			continue;
		snprintf(label, sizeof(label), "  refused: %s", uvma_reason_name((enum uvma_reason)r));
		ROW(label, t[i].reasons[r]);
	}
	ROW("folios relocated", t[i].folios_relocated);
	ROW("large folios split", t[i].folios_split);
	ROW("anon_vmas at exit", t[i].anon_vmas);
	ROW("anon_vma_chains at exit", t[i].avcs);
#undef ROW
	fprintf(out, "  %-30s", "kernel memory at exit");
	for (int i = 0; i < n; i++) {
		char b[32];

		kib(b, sizeof(b), t[i].kbytes);
		fprintf(out, " %10s", b);
	}
	fprintf(out, "\n  %-30s", "model time");
	for (int i = 0; i < n; i++) {
		char b[32];

		snprintf(b, sizeof(b), "%.2f ms", res[i].model_seconds * 1e3);
		fprintf(out, " %10s", b);
	}
	fprintf(out, "\n  %-30s", "  against linux");
	for (int i = 0; i < n; i++) {
		char b[32];
		double d = res[base].model_seconds > 0
				   ? (res[i].model_seconds / res[base].model_seconds - 1) * 100 : 0;

		snprintf(b, sizeof(b), "%+.1f%%", d);
		fprintf(out, " %10s", b);
	}
	fprintf(out, "\n\n  kernel memory: vm_area_struct %d B, anon_vma %d B, anon_vma_chain %d B"
		" (this host's slab objects)\n", KERNEL_VMA_BYTES, KERNEL_ANON_VMA_BYTES,
		KERNEL_AVC_BYTES);
	for (int i = 0; i < n; i++)
		if (res[i].policy == UVMA_POLICY_RELOCATE)
			fprintf(out, "  relocate: %s\n", res[i].relocate_all
				? "every move of anonymous memory counted as flagged (--relocate-all)"
				: "only moves passing MREMAP_RELOCATE_ANON, which programs do not yet "
				  "(--relocate-all counts every move)");
	/* per address space, the same in every run: in trace order */
	fprintf(out, "\n  VMAs of each address space at its exit (pid, program):\n");
	for (int s = 0; s < res[base].nspaces; s++) {
		fprintf(out, "  %7d %-22.22s", res[base].spaces[s].pid, res[base].spaces[s].comm);
		for (int i = 0; i < n; i++)
			fprintf(out, " %10lu", s < res[i].nspaces ? res[i].spaces[s].vmas_end : 0);
		fprintf(out, "%s\n", res[base].spaces[s].exited ? "" : "   (alive at the end)");
		if (s == 49 && res[base].nspaces > 60) {
			fprintf(out, "  ... %d more (--json lists them all)\n", res[base].nspaces - 50);
			break;
		}
	}
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

void report_json(FILE *out, const char *trace, const struct replay_result *res, int n,
		 enum fault_model faults)
{
	int base = 0;

	for (int i = 0; i < n; i++)
		if (res[i].policy == UVMA_POLICY_LINUX)
			base = i;
	fprintf(out, "{\"trace\":");
	json_str(out, trace);
	fprintf(out, ",\"format\":\"%s\",\"faults\":\"%s\",\"lines\":%lu,\"events\":%lu,"
		"\"calls\":%lu,\"kernel_object_bytes\":{\"vm_area_struct\":%d,\"anon_vma\":%d,"
		"\"anon_vma_chain\":%d},\"policies\":[",
		res[0].format, fault_model_name(faults), res[0].lines, res[0].events, res[0].calls,
		KERNEL_VMA_BYTES, KERNEL_ANON_VMA_BYTES, KERNEL_AVC_BYTES);
	for (int i = 0; i < n; i++) {
		struct totals t;
		bool first = true;

		totals_of(&res[i], &t);
		fprintf(out, "%s{\"policy\":\"%s\",\"relocate_all\":%s,\"vmas_end\":%lu,\"vmas_peak\":%lu,"
			"\"merges\":{\"attempted\":%lu,\"done\":%lu,\"refused\":{",
			i ? "," : "", policy_name((int)res[i].policy),
			res[i].relocate_all ? "true" : "false", t.vmas_end, res[i].total_peak,
			t.merges_done + t.merges_refused, t.merges_done);
		for (int r = 1; r < UVMA_REASONS; r++)
			if (t.reasons[r] && !relocation_reason(r)) {
				fprintf(out, "%s\"%s\":%lu", first ? "" : ",",
					uvma_reason_name((enum uvma_reason)r), t.reasons[r]);
				first = false;
			}
		fprintf(out, "}},\"relocations\":{\"done\":%lu,\"refused\":{", t.reloc_done);
		first = true;
		for (int r = UVMA_REASON_ANON_VMA_SHARED; r < UVMA_REASONS; r++)
			if (t.reasons[r]) {
				fprintf(out, "%s\"%s\":%lu", first ? "" : ",",
					uvma_reason_name((enum uvma_reason)r), t.reasons[r]);
				first = false;
			}
		fprintf(out, "},\"refused_total\":%lu,\"folios_relocated\":%lu,\"folios_split\":%lu},"
			"\"anon_vmas_end\":%lu,\"avcs_end\":%lu,\"kernel_bytes_end\":%llu,"
			"\"model_seconds\":%.6f,\"time_vs_linux\":%.4f,\"divergences\":%lu,"
			"\"maps_checked\":%lu,\"maps_differ\":%lu,"
			"\"implied\":%lu,\"skipped\":%lu,\"series\":{\"stride\":%lu,\"values\":[",
			t.reloc_refused, t.folios_relocated, t.folios_split, t.anon_vmas, t.avcs, t.kbytes,
			res[i].model_seconds,
			res[base].model_seconds > 0 ? res[i].model_seconds / res[base].model_seconds : 1.0,
			res[i].divergences, res[i].maps_checked, res[i].maps_differ, res[i].implied,
			res[i].skipped, res[i].stride);
		for (size_t k = 0; k < res[i].nseries; k++)
			fprintf(out, "%s%u", k ? "," : "", res[i].series[k]);
		fprintf(out, "]},\"spaces\":[");
		for (int s = 0; s < res[i].nspaces; s++) {
			const struct space_report *sp = &res[i].spaces[s];

			fprintf(out, "%s{\"pid\":%d,\"comm\":", s ? "," : "", sp->pid);
			json_str(out, sp->comm);
			fprintf(out, ",\"vmas_end\":%lu,\"vmas_peak\":%lu,\"merges\":%lu,"
				"\"relocations\":%lu,\"exited\":%s}",
				sp->vmas_end, sp->vmas_peak,
				sp->ev.done[UVMA_EVENT_MERGE] + sp->ev.done[UVMA_EVENT_EXPAND],
				sp->ev.done[UVMA_EVENT_RELOCATE], sp->exited ? "true" : "false");
		}
		fprintf(out, "]}");
	}
	fprintf(out, "]}\n");
}

int report_plot(const char *path, const char *trace, const struct replay_result *res, int n,
		char *err, size_t errsize)
{
	const char *dot = strrchr(path, '.');
	bool png = dot && !strcmp(dot, ".png");
	char cmd[64];
	FILE *gp;
	int status;

	if (!dot || (strcmp(dot, ".svg") && !png)) {
		snprintf(err, errsize, "--plot %s: the file must end in .svg or .png", path);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "gnuplot 2>&1");
	gp = popen(cmd, "w");
	if (!gp) {
		snprintf(err, errsize, "--plot: cannot run gnuplot: %s", strerror(errno));
		return -1;
	}
	fprintf(gp, "set terminal %s size 900,500\n", png ? "pngcairo" : "svg");
	fprintf(gp, "set output '");
	for (const char *p = path; *p; p++)
		fprintf(gp, *p == '\'' ? "''" : "%c", *p);
	fprintf(gp, "'\nset title 'VMAs of %s over time'\n", strrchr(trace, '/') ? strrchr(trace, '/') + 1
										    : trace);
	fprintf(gp, "set xlabel 'events'\nset ylabel 'VMAs (all live processes)'\nset key top left\n");
	fprintf(gp, "set grid\n");
	for (int i = 0; i < n; i++) {
		fprintf(gp, "$%s << EOD\n", policy_name((int)res[i].policy));
		for (size_t k = 0; k < res[i].nseries; k++)
			fprintf(gp, "%lu %u\n", (unsigned long)k * res[i].stride, res[i].series[k]);
		fprintf(gp, "EOD\n");
	}
	fprintf(gp, "plot ");
	for (int i = 0; i < n; i++)
		/* dashes tell apart the policies whose lines lie on each other */
		fprintf(gp, "%s$%s using 1:2 with steps lw 2 dt %d title '%s'", i ? ", " : "",
			policy_name((int)res[i].policy), i + 1, policy_name((int)res[i].policy));
	fprintf(gp, "\n");
	status = pclose(gp);
	if (status) {
		snprintf(err, errsize, "--plot: gnuplot failed (status %d; is gnuplot installed?)",
			 status);
		return -1;
	}
	return 0;
}
