// SPDX-License-Identifier: MIT
/*
 * uvma-agent: runs trace operations for real, for the kernel executor.
 *
 * Built without sanitizers (their shadow mappings would be part of the
 * address space under test) and started with ADDR_NO_RANDOMIZE, so its
 * layout is the same every run.  After start-up it allocates nothing and
 * uses raw system calls; the only mappings that change are the trace's own.
 * It talks on file descriptor 3.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "kexec.h"
#include "sysnr.h"


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

/* Read /proc/self/smaps; keep the VMAs in [lo, hi) (all with lo == hi == 0). */
static size_t agent_smaps(uint64_t lo, uint64_t hi)
{
	int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
	size_t len = 0, out = 0;
	bool keep = false;
	char *line;

	if (fd < 0)
		return 0;
	/* VMAs come in address order: stop reading at the first header at or past hi */
	for (size_t scan = 0;;) {
		ssize_t n = read(fd, agent_buf + len, sizeof(agent_buf) - 1 - len);
		bool past = false;

		if (n <= 0)
			break;
		len += (size_t)n;
		agent_buf[len] = 0;
		while (hi && !past) {
			char *nl = strchr(agent_buf + scan, '\n');
			unsigned long long s0, e0;
			char c0;

			if (!nl)
				break;
			if (sscanf(agent_buf + scan, "%llx-%llx%c", &s0, &e0, &c0) == 3 && c0 == ' ' &&
			    s0 >= hi)
				past = true;
			scan = (size_t)(nl - agent_buf) + 1;
		}
		if (past)
			break;
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

/* VMAs of this process: the lines of /proc/self/maps but the vsyscall page. */
static long agent_map_count(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	long lines = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, agent_buf, sizeof(agent_buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += agent_buf[i] == '\n';
	close(fd);
	return lines - 1;
}

static long read_max_map_count(void)
{
	int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
	char num[32];
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, num, sizeof(num) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	num[n] = 0;
	return strtol(num, NULL, 10);
}

/* One-page VMAs at FILL_BASE, two pages apart, until map_count == max - margin. */
static long agent_fill(long margin)
{
	long max = read_max_map_count(), count = agent_map_count();

	if (max < 0 || count < 0)
		return max < 0 ? max : count;
	for (long i = 0; count < max - margin; i++, count++) {
		void *a = (void *)(FILL_BASE + (uint64_t)i * 8192);

		if (mmap(a, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
			 0) != a)
			return -errno;
	}
	return 0;
}

/*
 * mbind with the trace's mask: the kernel may read a page of it (the bits
 * past the first 64 are 0).  On this function's stack, below the loop's
 * frame, only while it runs: the agent's own pages are part of what the
 * fork scenarios see (no new BSS), and at vm.max_map_count the heap may
 * not grow (a malloc here would fail where the kernel's mbind does not).
 */
static __attribute__((noinline)) long agent_mbind(const struct kreq *q)
{
	uint64_t mask[512];

	memset(mask, 0, sizeof(mask));
	mask[0] = q->len2;
	return sys_ret(syscall(SYS_mbind, q->addr, q->len, q->arg, q->prot ? NULL : mask, q->off,
			       q->flags));
}

static int agent_main(int fd)
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
		case OP_MSEAL:
			r = sys_ret(syscall(SYS_mseal, q.addr, q.len, q.len2));
			break;
		case OP_MBIND:
			r = agent_mbind(&q);
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
		case OP_FILL:
			r = agent_fill((long)q.len);
			break;
		case OP_EXIT:
			agent_reply(fd, 0, 0, false, -1);
			_exit(0);
		default:
			r = -ENOSYS;
		}
		agent_reply(fd, r, 0, true, -1);
	}
}


int main(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "uvma-agent: started by uvma diff, not by hand\n");
		return 2;
	}
	return agent_main(3);
}
