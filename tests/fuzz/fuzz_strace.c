// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the strace reader and the replay over it.  Any input
 * must end in events or a clear error: never a crash, a hang or a leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay.h"
#include "strace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct replay_config cfg = { .policy = UVMA_POLICY_AUTO, .maps_pid = -1 };
	struct replay_result res;
	char err[512], *paths[1] = { path };
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/uvma-fuzz-strace-%d", (int)getpid());
	f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	/* a .utrace header would send it to the other reader: that has its own target */
	if (size >= 10 && !memcmp(data, "uvma-trace", 10))
		return 0;
	cfg.faults = size & 1 ? FAULTS_WRITTEN : FAULTS_ALL;
	replay_run(paths, 1, &cfg, &res, err, sizeof(err));
	replay_result_free(&res);
	return 0;
}
