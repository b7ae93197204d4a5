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

#include "kexec.h"

enum {
	REQ_INIT = 1000,
	REQ_SMAPS,
};

struct kreq {
	int32_t kind;
	int32_t prot, flags, arg, file;
	uint64_t addr, addr2, len, len2, off;
	char name[TRACE_NAME_MAX];
};

struct kresp {
	int64_t result;
	int32_t pid;
	uint32_t textlen;
};

/* ---- the agent ------------------------------------------------------------------ */

static char agent_buf[KEXEC_TEXT_MAX];
static char agent_out[KEXEC_TEXT_MAX];
static int agent_files[TRACE_MAX_FILES];
static uint64_t agent_base, agent_size;
static sigjmp_buf agent_jmp;

static void agent_fault(int sig)
{
	(void)sig;
	siglongjmp(agent_jmp, 1);
}

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read /proc/self/smaps; keep the VMAs in [lo, hi) (all with lo == hi == 0). */
static size_t agent_smaps(uint64_t lo, uint64_t hi)
{
	int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
	size_t len = 0, out = 0;
	bool keep = false;
	char *line;

	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(fd, agent_buf + len, sizeof(agent_buf) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	agent_buf[len] = 0;
	for (line = agent_buf; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
		unsigned long long s, e;
		int hdr = 0;
		char c;

		/* a VMA header starts with "start-end " in hex */
		if (sscanf(line, "%llx-%llx%c", &s, &e, &c) == 3 && c == ' ')
			hdr = 1;
		if (hdr)
			keep = (!lo && !hi) || (s < hi && e > lo);
		if (keep && out + n < sizeof(agent_out)) {
			memcpy(agent_out + out, line, n);
			out += n;
		}
		line += n;
	}
	return out;
}

static void agent_reply(int fd, long result, int pid, bool with_smaps, int pass_fd)
{
	struct kresp r = { .result = result, .pid = pid };
	size_t len = with_smaps ? agent_smaps(agent_base, agent_base + agent_size) : 0;
	struct msghdr msg = { 0 };
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	char cbuf[CMSG_SPACE(sizeof(int))];

	r.textlen = (uint32_t)len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	if (sendmsg(fd, &msg, 0) != (ssize_t)sizeof(r))
		_exit(3);
	if (len && write_full(fd, agent_out, len))
		_exit(3);
}

static long sys_ret(long r)
{
	return r == -1 ? -errno : r;
}

static long agent_touch(uint64_t addr, uint64_t len, int write)
{
	volatile char *p;
	uint64_t end = (addr + len + 4095) & ~4095ULL;

	for (volatile uint64_t a = addr & ~4095ULL; a < end; a += 4096) {
		p = (volatile char *)a;
		if (sigsetjmp(agent_jmp, 1))
			return -EFAULT;
		/* a store alone: a read first would fault the page in for reading */
		if (write)
			*p = 0x5a;
		else
			(void)*p;
	}
	return 0;
}

int kexec_agent_main(int fd)
{
	struct sigaction sa = { 0 };
	struct kreq q;

	sa.sa_handler = agent_fault;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	for (int i = 0; i < TRACE_MAX_FILES; i++)
		agent_files[i] = -1;
	for (;;) {
		long r = 0;

		if (read_full(fd, &q, sizeof(q)))
			_exit(0);
		switch (q.kind) {
		case REQ_INIT: {
			void *p;

			agent_base = q.addr;
			agent_size = q.len;
			/* the carve-out must be free: reserve it once, then let it go */
			p = mmap((void *)agent_base, agent_size, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
			if (p != (void *)agent_base) {
				agent_reply(fd, -EEXIST, 0, false, -1);
				break;
			}
			munmap(p, agent_size);
			agent_base = 0;
			agent_size = 0;
			/* the whole address space, for the model to start from */
			agent_reply(fd, 0, getpid(), true, -1);
			agent_base = q.addr;
			agent_size = q.len;
			continue;
		}
		case REQ_SMAPS:
			break;
		case OP_FILE: {
			char name[TRACE_NAME_MAX];
			int mfd;

			memcpy(name, q.name, sizeof(name));
			name[sizeof(name) - 1] = 0;
			mfd = (int)syscall(SYS_memfd_create, name, 0);
			if (mfd < 0 || ftruncate(mfd, (off_t)q.len)) {
				r = -errno;
				break;
			}
			agent_files[q.file] = mfd;
			break;
		}
		case OP_MMAP:
			r = sys_ret(syscall(SYS_mmap, q.addr, q.len, q.prot, q.flags,
					    q.file >= 0 ? agent_files[q.file] : -1, q.off));
			break;
		case OP_MUNMAP:
			r = sys_ret(syscall(SYS_munmap, q.addr, q.len));
			break;
		case OP_MPROTECT:
			r = sys_ret(syscall(SYS_mprotect, q.addr, q.len, q.prot));
			break;
		case OP_PKEY_MPROTECT:
			r = sys_ret(syscall(SYS_pkey_mprotect, q.addr, q.len, q.prot, q.arg));
			break;
		case OP_MADVISE:
			r = sys_ret(syscall(SYS_madvise, q.addr, q.len, q.arg));
			break;
		case OP_MLOCK:
			r = sys_ret(syscall(SYS_mlock, q.addr, q.len));
			break;
		case OP_MLOCK2:
			r = sys_ret(syscall(SYS_mlock2, q.addr, q.len, q.flags));
			break;
		case OP_MUNLOCK:
			r = sys_ret(syscall(SYS_munlock, q.addr, q.len));
			break;
		case OP_MLOCKALL:
			r = sys_ret(syscall(SYS_mlockall, q.flags));
			break;
		case OP_MUNLOCKALL:
			r = sys_ret(syscall(SYS_munlockall));
			break;
		case OP_MREMAP:
			r = sys_ret(syscall(SYS_mremap, q.addr, q.len, q.len2, q.flags, q.addr2));
			break;
		case OP_TOUCH:
			r = agent_touch(q.addr, q.len, q.arg);
			break;
		case OP_PRCTL_MEMORY_MERGE:
			r = sys_ret(syscall(SYS_prctl, 67 /* PR_SET_MEMORY_MERGE */, (unsigned long)q.arg, 0, 0, 0));
			break;
		case OP_PRCTL_ANON_NAME:
			r = sys_ret(syscall(SYS_prctl, 0x53564d41, 0, q.addr, q.len,
					    strcmp(q.name, "-") ? q.name : NULL));
			break;
		case OP_FORK: {
			int sv[2];
			pid_t pid;

			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
				agent_reply(fd, -errno, 0, false, -1);
				continue;
			}
			pid = fork();
			if (pid < 0) {
				agent_reply(fd, -errno, 0, false, -1);
				close(sv[0]);
				close(sv[1]);
				continue;
			}
			if (pid == 0) {
				close(fd);
				close(sv[0]);
				fd = sv[1];
				continue;
			}
			close(sv[1]);
			agent_reply(fd, 0, pid, true, sv[0]);
			close(sv[0]);
			continue;
		}
		case OP_EXIT:
			agent_reply(fd, 0, 0, false, -1);
			_exit(0);
		default:
			r = -ENOSYS;
		}
		agent_reply(fd, r, 0, true, -1);
	}
}

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

int kexec_start(struct kexec *k, const struct trace *t, char *initial, char *err, size_t errsize)
{
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
	/* orphaned grand-agents come to us, so that we can reap them */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errsize, "socketpair: %s", strerror(errno));
		return -1;
	}
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
		execl("/proc/self/exe", "uvma", "__agent", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	k->pid[0] = pid;
	k->sock[0] = sv[0];
	k->nprocs = 1;
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
	return 0;
}

static uint64_t abs_addr(const struct kexec *k, struct taddr a)
{
	return a.rel ? k->base + a.val : a.val;
}

int kexec_step(struct kexec *k, const struct trace *t, const struct op *op, long *result,
	       char *smaps, char *err, size_t errsize)
{
	struct kreq q = { .kind = op->kind };
	struct kresp r;
	int newfd;

	(void)t;
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
