// SPDX-License-Identifier: MIT
/*
 * The merge policies under random programs: whatever a policy merges or
 * relocates, the invariant checker (run after every call in this build)
 * must find the reverse map exact and every page's data where it was
 * written.  A deterministic random mix of the calls that move, merge and
 * share memory: mmap, munmap, mprotect, mremap, madvise, fork, exit, writes.
 */
#include "helpers.h"

#define SLOTS 64	/* pages of the window the programs use */
#define PROCS 4

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

struct world {
	struct env e;
	struct uvma_mm *mm[PROCS];
	uint64_t value[PROCS][SLOTS];	/* what each page should read; 0: never written */
	bool mapped[PROCS][SLOTS];
};

static void one_step(struct world *w)
{
	int p = (int)rnd(PROCS);
	struct uvma_mm *mm = w->mm[p];
	unsigned int a = rnd(SLOTS - 8), n = 1 + rnd(8);
	uint64_t v;

	if (!mm)
		return;
	switch (rnd(9)) {
	case 0:
		if (uvma_mmap(mm, P(a), PG(n), RW, ANON_FIXED, NULL, 0) == (long)P(a))
			for (unsigned int i = 0; i < n; i++) {
				w->mapped[p][a + i] = true;
				w->value[p][a + i] = 0;
			}
		break;
	case 1:
		if (!uvma_munmap(mm, P(a), PG(n)))
			for (unsigned int i = 0; i < n; i++)
				w->mapped[p][a + i] = false;
		break;
	case 2:
		uvma_mprotect(mm, P(a), PG(n), rnd(2) ? RO : RW);
		break;
	case 3: {
		unsigned int b = rnd(SLOTS - 8);

		if (a + n <= b || b + n <= a) {
			bool all = true;

			for (unsigned int i = 0; i < n; i++)
				all &= w->mapped[p][a + i];
			if (all && uvma_mremap(mm, P(a), PG(n), PG(n),
					       UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(b)) == (long)P(b)) {
				uint64_t tmp[8];

				for (unsigned int i = 0; i < n; i++)
					tmp[i] = w->value[p][a + i];
				for (unsigned int i = 0; i < n; i++)
					w->mapped[p][a + i] = false;
				for (unsigned int i = 0; i < n; i++) {
					w->mapped[p][b + i] = true;
					w->value[p][b + i] = tmp[i];
				}
			}
		}
		break;
	}
	case 4:
	case 5:
		for (unsigned int i = 0; i < n; i++) {
			uint64_t val = rng | 1;

			if (w->mapped[p][a + i] && !uvma_write_value(mm, P(a + i), val))
				w->value[p][a + i] = val;
		}
		break;
	case 6: {
		int c;
		int err;

		for (c = 0; c < PROCS && w->mm[c]; c++)
			;
		if (c < PROCS) {
			w->mm[c] = uvma_fork(mm, &err);
			assert_non_null(w->mm[c]);
			memcpy(w->value[c], w->value[p], sizeof(w->value[c]));
			/* VM_DONTCOPY (MADV_DONTFORK) memory is not in the child */
			for (unsigned int i = 0; i < SLOTS; i++) {
				struct uvma_vma_info vi;

				w->mapped[c][i] = w->mapped[p][i] &&
						  !uvma_find_vma(w->mm[c], P(i), &vi) && vi.start <= P(i);
			}
		}
		break;
	}
	case 7:
		if (p) {
			uvma_mm_exit(mm);
			w->mm[p] = NULL;
		}
		break;
	default:
		uvma_madvise(mm, P(a), PG(n), rnd(2) ? UVMA_MADV_DONTFORK : UVMA_MADV_DOFORK);
		break;
	}
	/* every written page still reads what was written, in every process */
	for (int q = 0; q < PROCS; q++)
		for (unsigned int i = 0; w->mm[q] && i < SLOTS; i++)
			if (w->mapped[q][i] && w->value[q][i]) {
				struct uvma_page_info pi;

				assert_int_equal(uvma_page_info(w->mm[q], P(i), &pi), 0);
				if (pi.state == UVMA_PAGE_PRESENT && pi.value != w->value[q][i])
					fail_msg("process %d page %u: value %#llx, wrote %#llx", q, i,
						 (unsigned long long)pi.value,
						 (unsigned long long)w->value[q][i]);
				assert_int_equal(uvma_read_value(w->mm[q], P(i), &v), 0);
				assert_int_equal(v, w->value[q][i]);
			}
}

/* Runs the programs of one seed; returns the merges done in the first processes. */
static unsigned long random_programs(enum uvma_policy policy)
{
	unsigned long merges = 0;

	rng = 0x9e3779b97f4a7c15ULL;
	for (int prog = 0; prog < 200; prog++) {
		struct uvma_sys_config cfg;
		struct world w;

		memset(&w, 0, sizeof(w));
		uvma_sys_config_default(&cfg);
		cfg.policy = policy;
		cfg.relocate_all = true;	/* the programs pass no flags */
		env_setup_cfg(&w.e, &cfg);
		w.mm[0] = w.e.mm;
		for (int step = 0; step < 200; step++)
			one_step(&w);
		{
			struct uvma_event_counts c;

			uvma_mm_event_counts(w.mm[0], &c);
			merges += c.done[UVMA_EVENT_MERGE];
		}
		env_teardown(&w.e);
	}
	return merges;
}

static void policies_random(void **state)
{
	unsigned long linux_merges, matena_merges, relocate_merges, auto_merges;

	(void)state;
	linux_merges = random_programs(UVMA_POLICY_LINUX);
	matena_merges = random_programs(UVMA_POLICY_MATENA);
	relocate_merges = random_programs(UVMA_POLICY_RELOCATE);
	auto_merges = random_programs(UVMA_POLICY_AUTO);
	/* the same programs: the relocating policies merge where linux cannot */
	if (matena_merges <= linux_merges || auto_merges <= linux_merges ||
	    relocate_merges <= linux_merges)
		fail_msg("merges: linux %lu, matena %lu, relocate %lu, auto %lu", linux_merges,
			 matena_merges, relocate_merges, auto_merges);
	print_message("merges: linux %lu, matena %lu, relocate %lu, auto %lu\n", linux_merges,
		      matena_merges, relocate_merges, auto_merges);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policies_random),
	};

	return cmocka_run_group_tests_name("policies under random programs", tests, NULL, NULL);
}
