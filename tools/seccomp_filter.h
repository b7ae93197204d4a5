/* SPDX-License-Identifier: MIT */
/*
 * The seccomp filter of uvma record, shared with the bare loop it is
 * measured against (bench/bare_trace.c): the calls the model cares about stop
 * the tracee (SECCOMP_RET_TRACE), every other call runs.  Opens are not in
 * it: a mapping's file is found from its fd when it is mapped.
 */
#ifndef UVMA_SECCOMP_FILTER_H
#define UVMA_SECCOMP_FILTER_H

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sysnr.h"

static const int record_traced[] = {
	SYS_mmap, SYS_munmap, SYS_mprotect, SYS_brk, SYS_mremap, SYS_madvise, SYS_mlock,
	SYS_munlock, SYS_mlockall, SYS_munlockall, SYS_mlock2, SYS_pkey_mprotect, SYS_prctl,
	SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_execve, SYS_execveat, SYS_close,
	SYS_dup, SYS_dup2, SYS_dup3, SYS_shmat, SYS_shmdt, SYS_remap_file_pages, SYS_mseal,
	SYS_mbind,
};

/* In the tracee, before exec: no new privileges, then the filter.  0 or -1 (errno). */
static inline int record_install_filter(void)
{
	enum { N = sizeof(record_traced) / sizeof(record_traced[0]) };
	struct sock_filter f[4 + 2 * N + 1];
	struct sock_fprog prog;
	unsigned int n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	for (unsigned int i = 0; i < N; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (unsigned int)record_traced[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

#endif
