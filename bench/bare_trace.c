// SPDX-License-Identifier: MIT
/*
 * The baseline of `uvma record`'s overhead (make bench): the same seccomp
 * filter and ptrace stops as record (a seccomp stop at entry, a syscall-exit
 * stop after, the same fork/clone/exec following), and nothing else done
 * at them.  usage: bare-trace COMMAND ARGS...
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const int traced[] = {
	SYS_mmap, SYS_munmap, SYS_mprotect, SYS_brk, SYS_mremap, SYS_madvise, SYS_mlock,
	SYS_munlock, SYS_mlockall, SYS_munlockall, SYS_mlock2, SYS_pkey_mprotect, SYS_prctl,
	SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_execve, SYS_execveat, SYS_close,
	SYS_dup, SYS_dup2, SYS_dup3, SYS_shmat, SYS_shmdt, SYS_remap_file_pages,
};

static int filter(void)
{
	struct sock_filter f[4 + 2 * (sizeof(traced) / sizeof(traced[0])) + 1];
	struct sock_fprog prog;
	unsigned int n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (unsigned int i = 0; i < sizeof(traced) / sizeof(traced[0]); i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)traced[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int main(int argc, char **argv)
{
	int status;
	pid_t child, tid;
	/* per task: inside a call (resume with PTRACE_SYSCALL) */
	static unsigned char in_call[1 << 22];

	if (argc < 2) {
		fprintf(stderr, "usage: bare-trace COMMAND ARGS...\n");
		return 2;
	}
	child = fork();
	if (child == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0))
			_exit(127);
		raise(SIGSTOP);
		if (filter())
			_exit(127);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (waitpid(child, &status, 0) != child || !WIFSTOPPED(status))
		return 1;
	ptrace(PTRACE_SETOPTIONS, child, 0,
	       PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
		       PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD);
	ptrace(PTRACE_CONT, child, 0, 0);
	while ((tid = waitpid(-1, &status, __WALL)) > 0) {
		int sig, event = status >> 16;
		unsigned char *ic = &in_call[tid & ((1 << 22) - 1)];

		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP)
			*ic = 1;
		else if (sig == (SIGTRAP | 0x80))
			*ic = 0;
		if (sig == SIGTRAP || sig == (SIGTRAP | 0x80) || sig == SIGSTOP)
			sig = 0;
		ptrace(*ic ? PTRACE_SYSCALL : PTRACE_CONT, tid, 0, sig);
	}
	return 0;
}
