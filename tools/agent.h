/* SPDX-License-Identifier: MIT */
/*
 * The protocol between the kernel executor and its agents: fixed-size
 * requests, a reply header, then the smaps text of the carve-out.
 */
#ifndef UVMA_AGENT_H
#define UVMA_AGENT_H

#include <stdint.h>

#include "trace.h"

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


int write_full(int fd, const void *buf, size_t len);
int read_full(int fd, void *buf, size_t len);

#endif
