// SPDX-License-Identifier: MIT
/*
 * The kernel executor.
 *
 * The first agent is this program re-executed with ADDR_NO_RANDOMIZE, so its
 * layout (and mmap_base, 0x7ffff7fff000) is the same every run and a model
 * seeded with its maps places hint-less mappings where the kernel does.
 * After start-up an agent allocates nothing and uses raw system calls, so
 * the only mappings that change are the trace's own.  A fork in the trace
 * forks the agent; the new agent's socket comes back to us by SCM_RIGHTS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "kexec.h"

/* ---- the executor -------------------------------------------------------------- */

static int wait_readable(struct kexec *k, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&p, 1, (int)k->timeout_ms);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

static int recv_reply(struct kexec *k, int proc, struct kresp *r, int *fd_out, char *text,
		      char *err, size_t errsize)
{
	int fd = k->sock[proc];
	struct msghdr msg = { 0 };
	struct iovec iov = { .iov_base = r, .iov_len = sizeof(*r) };
	char cbuf[CMSG_SPACE(sizeof(int))];
	ssize_t n;

	if (fd_out)
		*fd_out = -1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	if (wait_readable(k, fd)) {
		snprintf(err, errsize, "the kernel agent of process %d hung (no answer in %u ms)",
			 proc, k->timeout_ms);
		return -1;
	}
	n = recvmsg(fd, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(*r)) {
		snprintf(err, errsize, "the kernel agent of process %d died", proc);
		return -1;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && fd_out)
			memcpy(fd_out, CMSG_DATA(cm), sizeof(int));
	if (r->textlen >= KEXEC_TEXT_MAX) {
		snprintf(err, errsize, "the kernel agent sent %u bytes of smaps", r->textlen);
		return -1;
	}
	if (r->textlen && (wait_readable(k, fd) || read_full(fd, text, r->textlen))) {
		snprintf(err, errsize, "the kernel agent of process %d died mid-answer", proc);
		return -1;
	}
	text[r->textlen] = 0;
	return 0;
}

/* uvma-agent lives next to the uvma binary (or where UVMA_AGENT says). */
static int find_agent(char *path, size_t size)
{
	const char *env = getenv("UVMA_AGENT");
	ssize_t n;
	char *slash;

	if (env) {
		snprintf(path, size, "%s", env);
		return access(path, X_OK);
	}
	n = readlink("/proc/self/exe", path, size - 16);
	if (n <= 0)
		return -1;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash)
		return -1;
	strcpy(slash + 1, "uvma-agent");
	return access(path, X_OK);
}

/*
 * The agent asks for SCHED_FIFO (see kexec_start).  Find out once, in a
 * throwaway child, whether it will get it, and say so if not: traces whose
 * outcome depends on which side of a fork runs first may then need --retries.
 */
static void warn_no_fifo(void)
{
	static bool checked;
	struct sched_param sp = { .sched_priority = 1 };
	int status = 0;
	pid_t pid;

	if (checked)
		return;
	checked = true;
	pid = fork();
	if (pid == 0)
		_exit(sched_setscheduler(0, SCHED_FIFO, &sp) ? errno : 0);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return;
	if (WEXITSTATUS(status))
		fprintf(stderr, "uvma: warning: the agent cannot run SCHED_FIFO (%s); after a fork "
			"the child may run first\n", strerror(WEXITSTATUS(status)));
}

/*
 * The per-CPU page batches are per CPU, not per process: the pages uvma
 * itself faults in or writes to files (a golden file being recorded) would
 * join the agent CPU's lru_add batch and move it early, so that a drain the
 * agents' own writes would cause does not happen (seen: a child's first run
 * drained the batch under `uvma diff`, never under `uvma diff --record`).
 * uvma keeps to the other CPUs when there are any.
 */
static void keep_off_agent_cpu(void)
{
	const char *env = getenv("UVMA_AGENT_CPU");
	int agent = env ? atoi(env) : 0;
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) || !CPU_ISSET(agent, &set) || CPU_COUNT(&set) < 2)
		return;
	CPU_CLR(agent, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

int kexec_start(struct kexec *k, const struct trace *t, char *initial, char *err, size_t errsize)
{
	char agent_path[4096];
	int sv[2];
	pid_t pid;
	struct kreq q = { .kind = REQ_INIT };
	struct kresp r;

	memset(k, 0, sizeof(*k));
	k->timeout_ms = 10000;
	k->base = CARVEOUT_BASE;
	k->size = t->carveout;
	for (int i = 0; i < TRACE_MAX_PROCS; i++)
		k->sock[i] = -1;
	if (find_agent(agent_path, sizeof(agent_path))) {
		snprintf(err, errsize, "cannot find uvma-agent next to uvma (set UVMA_AGENT)");
		return -1;
	}
	/* orphaned grand-agents come to us, so that we can reap them */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errsize, "socketpair: %s", strerror(errno));
		return -1;
	}
	warn_no_fifo();
	pid = fork();
	if (pid < 0) {
		snprintf(err, errsize, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		personality(ADDR_NO_RANDOMIZE);
		/* one CPU, so that per-CPU page batches behave as the model's one */
		{
			const char *env = getenv("UVMA_AGENT_CPU");
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(env ? atoi(env) : 0, &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		/*
		 * After fork, whichever of parent and child writes a shared page
		 * first copies it, and that decides which stack copy sits in the
		 * lru_add batch (fork_write_stack() in lib/fork.c).  Under the fair
		 * class the child sometimes preempts the parent; a FIFO task is not
		 * preempted by its equal-priority child, so the parent always
		 * returns first, as the model assumes.  Needs CAP_SYS_NICE; without
		 * it such traces may need --retries.
		 */
		{
			struct sched_param sp = { .sched_priority = 1 };

			sched_setscheduler(0, SCHED_FIFO, &sp);
		}
		execl(agent_path, "uvma-agent", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	k->pid[0] = pid;
	k->sock[0] = sv[0];
	k->nprocs = 1;
	keep_off_agent_cpu();
	q.addr = k->base;
	q.len = k->size;
	if (write_full(k->sock[0], &q, sizeof(q)) || recv_reply(k, 0, &r, NULL, initial, err, errsize)) {
		if (!err[0])
			snprintf(err, errsize, "the kernel agent did not start");
		kexec_stop(k);
		return -1;
	}
	if (r.result) {
		snprintf(err, errsize, "the carve-out at %#llx (%llu bytes) is not free in the agent",
			 (unsigned long long)k->base, (unsigned long long)k->size);
		kexec_stop(k);
		return -1;
	}
	/* remember the agent's own mappings (the vsyscall page included) */
	for (const char *l = initial; *l && k->nown < KEXEC_MAX_OWN;) {
		unsigned long long s0, e0;
		char c;
		const char *nl = strchr(l, '\n');

		if (sscanf(l, "%llx-%llx%c", &s0, &e0, &c) == 3 && c == ' ') {
			k->own_start[k->nown] = s0;
			k->own_end[k->nown++] = e0;
		}
		l = nl ? nl + 1 : l + strlen(l);
	}
	return 0;
}

static uint64_t abs_addr(const struct kexec *k, struct taddr a)
{
	return a.rel ? k->base + a.val : a.val;
}

/*
 * Does an absolute range of the trace meet the agent's own mappings (its
 * code, stack, heap, libraries)?  Addresses relative to the carve-out, and
 * calls without an address, are the trace's own business.
 */
static int hits_agent(const struct kexec *k, struct taddr a, uint64_t len)
{
	uint64_t end;

	if (a.rel || !a.val)
		return 0;
	len = len ? (len + 4095) & ~4095ULL : 4096;
	end = a.val + len < a.val ? UINT64_MAX : a.val + len;
	for (int i = 0; i < k->nown; i++)
		if (a.val < k->own_end[i] && end > k->own_start[i])
			return 1;
	return 0;
}

static int op_hits_agent(const struct kexec *k, const struct op *op)
{
	return hits_agent(k, op->addr, op->len) ||
	       (op->kind == OP_MREMAP && hits_agent(k, op->addr2, op->len2));
}

int kexec_check_trace(const struct kexec *k, const struct trace *t, char *err, size_t errsize)
{
	for (int i = 0; i < t->nops; i++) {
		if (op_hits_agent(k, &t->ops[i])) {
			snprintf(err, errsize,
				 "%s:%d: this address range meets the kernel agent's own mappings; "
				 "use @offsets into the carve-out", t->path, t->ops[i].line);
			return -1;
		}
	}
	return 0;
}

int kexec_step(struct kexec *k, const struct trace *t, const struct op *op, long *result,
	       char *smaps, char *err, size_t errsize)
{
	struct kreq q = { .kind = op->kind };
	struct kresp r;
	int newfd;

	(void)t;
	if (op_hits_agent(k, op)) {
		snprintf(err, errsize, "the operation meets the kernel agent's own mappings");
		return -1;
	}
	if (op->kind == OP_BRK) {
		snprintf(err, errsize, "brk cannot run for real: it would move the agent's own heap");
		return -1;
	}
	q.prot = op->prot;
	q.flags = op->flags;
	q.arg = op->arg;
	q.file = op->file;
	q.addr = abs_addr(k, op->addr);
	q.addr2 = abs_addr(k, op->addr2);
	q.len = op->len;
	q.len2 = op->len2;
	q.off = op->off;
	if (op->kind == OP_FILE)
		snprintf(q.name, sizeof(q.name), "%s", t->files[op->file]);
	else
		memcpy(q.name, op->name, sizeof(q.name));
	if (k->sock[op->proc] < 0) {
		snprintf(err, errsize, "process %d has exited", op->proc);
		return -1;
	}
	if (write_full(k->sock[op->proc], &q, sizeof(q)) ||
	    recv_reply(k, op->proc, &r, &newfd, smaps, err, errsize)) {
		if (!err[0])
			snprintf(err, errsize, "the kernel agent of process %d died", op->proc);
		return -1;
	}
	*result = (long)r.result;
	if (op->kind == OP_FORK) {
		if (newfd < 0) {
			snprintf(err, errsize, "fork in the agent failed: %s",
				 strerror((int)-r.result));
			return -1;
		}
		k->sock[op->arg] = newfd;
		k->pid[op->arg] = r.pid;
		if (op->arg >= k->nprocs)
			k->nprocs = op->arg + 1;
	} else if (op->kind == OP_EXIT) {
		close(k->sock[op->proc]);
		k->sock[op->proc] = -1;
		waitpid(k->pid[op->proc], NULL, 0);
		k->pid[op->proc] = 0;
		smaps[0] = 0;
	}
	return 0;
}

int kexec_smaps(struct kexec *k, int proc, char *smaps, char *err, size_t errsize)
{
	struct kreq q = { .kind = REQ_SMAPS };
	struct kresp r;

	if (k->sock[proc] < 0) {
		smaps[0] = 0;
		return 0;
	}
	if (write_full(k->sock[proc], &q, sizeof(q)) ||
	    recv_reply(k, proc, &r, NULL, smaps, err, errsize))
		return -1;
	return 0;
}

void kexec_stop(struct kexec *k)
{
	for (int i = 0; i < k->nprocs; i++) {
		if (k->sock[i] >= 0)
			close(k->sock[i]);
		k->sock[i] = -1;
		if (k->pid[i] > 0)
			kill(k->pid[i], SIGKILL);
	}
	/* every agent is our child or was reparented to us */
	while (waitpid(-1, NULL, 0) > 0)
		;
	k->nprocs = 0;
}

/* ---- the host's zero page ------------------------------------------------------------- */

/*
 * One page, read and never written, between two PROT_NONE pages (so that
 * it merges with nothing): smaps counts it as Anonymous only if the read
 * fault allocated a page instead of mapping the zero page.  The kernel
 * command line does not say it reliably (pvm_no_zero_page=1 is one vendor's
 * switch; s390 decides per process): the fault does.
 */
static int probe_zero_page(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *r = mmap(NULL, (size_t)(3 * pg), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char line[512], want[64];
	unsigned long kb = 0;
	int found = 0, ret = -1;
	FILE *f;

	if (r == MAP_FAILED)
		return -1;
	if (mprotect(r + pg, (size_t)pg, PROT_READ)) {
		munmap(r, (size_t)(3 * pg));
		return -1;
	}
	(void)*(volatile char *)(r + pg);
	snprintf(want, sizeof(want), "%lx-", (unsigned long)(r + pg));
	f = fopen("/proc/self/smaps", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!found) {
			found = !strncmp(line, want, strlen(want));
			continue;
		}
		if (sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
			ret = kb > 0;
			break;
		}
	}
	if (f)
		fclose(f);
	munmap(r, (size_t)(3 * pg));
	return ret;
}

int kexec_host_forbids_zero_page(void)
{
	static int cached = -2;

	if (cached == -2)
		cached = probe_zero_page();
	return cached;
}

/* ---- the host's THP settings ---------------------------------------------------------- */

/* The bracketed word of a sysfs "always [madvise] never" file. */
static int read_mode(const char *path, char *mode, size_t size)
{
	char buf[256], *a, *b;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (!a || !b || (size_t)(b - a - 1) >= size)
		return -1;
	memcpy(mode, a + 1, (size_t)(b - a - 1));
	mode[b - a - 1] = 0;
	return 0;
}

int kexec_host_thp(struct uvma_sys_config *cfg)
{
	static const char dir[] = "/sys/kernel/mm/transparent_hugepage";
	char top[32], mode[32], path[128];
	uint32_t always = 0, madvise = 0;

	if (read_mode("/sys/kernel/mm/transparent_hugepage/enabled", top, sizeof(top)))
		return -1;
	for (int order = 2; order <= 9; order++) {
		snprintf(path, sizeof(path), "%s/hugepages-%dkB/enabled", dir, 4 << order);
		if (read_mode(path, mode, sizeof(mode))) {
			/* no per-size control: only the PMD size exists, at the top-level mode */
			if (order != 9)
				continue;
			snprintf(mode, sizeof(mode), "inherit");
		}
		if (!strcmp(mode, "inherit"))
			snprintf(mode, sizeof(mode), "%s", top);
		if (!strcmp(mode, "always"))
			always |= 1U << order;
		else if (!strcmp(mode, "madvise"))
			madvise |= 1U << order;
	}
	cfg->thp_orders_always = always;
	cfg->thp_orders_madvise = madvise;
	return 0;
}

unsigned int kexec_host_numa_nodes(void)
{
	FILE *f = fopen("/sys/devices/system/node/online", "r");
	char line[256];
	unsigned int highest = 0;

	if (!f)
		return 1;
	if (fgets(line, sizeof(line), f)) {
		/* "0", "0-3" or "0,2-3": the last number is the highest node */
		for (char *p = line; *p; p++)
			if (*p >= '0' && *p <= '9') {
				unsigned long v = strtoul(p, &p, 10);

				highest = v < 63 ? (unsigned int)v : 63;
				p--;
			}
	}
	fclose(f);
	return highest + 1;
}
