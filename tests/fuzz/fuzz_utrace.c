// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the .utrace reader, and the model running what it
 * accepts (the checker after every call in this build).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[512];
	struct trace t;
	struct model m;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (!trace_parse("fuzz", text, &t, err, sizeof(err))) {
		if (!model_start(&m, &t, 0x200000000000ULL, NULL, NULL, err, sizeof(err))) {
			/* a bounded program: fill_to_limit maps tens of thousands */
			for (int i = 0; i < t.nops && i < 200; i++)
				if (t.ops[i].kind != OP_FILL)
					model_step(&m, &t, &t.ops[i]);
			model_stop(&m);
		}
		trace_free(&t);
	}
	free(text);
	return 0;
}
