// SPDX-License-Identifier: MIT
/*
 * The baseline of `uvma record`'s overhead (make bench): the same seccomp
 * filter and ptrace stops as record (a seccomp stop at entry, a syscall-exit
 * stop after, the same fork/clone/exec following), and nothing else done
 * at them.  usage: bare-trace COMMAND ARGS...
 */
#include <errno.h>
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

#include "seccomp_filter.h"

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
		if (record_install_filter())
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
