// SPDX-License-Identifier: MIT
/*
 * The merge policies under random programs: whatever a policy merges or
 * relocates, the invariant checker (run after every call in this build)
 * must find the reverse map exact and every page's data where it was
 * written.  A deterministic random mix of the calls that move, merge and
 * share memory: mmap, munmap, mprotect, mremap, madvise, fork, exit, writes,
 * and what the folio model adds: swap-out, KSM passes, pins, migrations and
 * mTHP folios (16 KiB and 64 KiB, "always").
 */
#include "helpers.h"

#define SLOTS 64	/* pages of the window the programs use */
#define PROCS 4
#define PINS 8		/* pins held at once */
#define MIGRATIONS 4	/* migrations begun and not finished */

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
	struct uvma_page *pin[PINS];
	long migration[MIGRATIONS];
};

/* Pins and migrations outlive the step that started them, and exits too. */
static void pin_or_unpin(struct world *w, struct uvma_mm *mm, unsigned int a)
{
	int k = (int)rnd(PINS);

	if (w->pin[k]) {
		uvma_unpin_user_pages(w->e.sys, &w->pin[k], 1, rnd(2));
		w->pin[k] = NULL;
	} else if (uvma_pin_user_pages(mm, P(a), 1, rnd(2), &w->pin[k]) != 1) {
		w->pin[k] = NULL;
	}
}

static void migrate_step(struct world *w, struct uvma_mm *mm, unsigned int a)
{
	int k = (int)rnd(MIGRATIONS);

	if (w->migration[k]) {
		int err = uvma_migrate_finish(w->e.sys, w->migration[k]);

		/* a fault may have finished it already */
		if (err && err != -ENOENT)
			fail_msg("migrate_finish: %d", err);
		w->migration[k] = 0;
	} else {
		long id = uvma_migrate_start(mm, P(a));

		w->migration[k] = id > 0 ? id : 0;
	}
}

static void one_step(struct world *w)
{
	int p = (int)rnd(PROCS);
	struct uvma_mm *mm = w->mm[p];
	unsigned int a = rnd(SLOTS - 8), n = 1 + rnd(8);
	uint64_t v;

	if (!mm)
		return;
	switch (rnd(13)) {
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
			/* some pages alike, for KSM */
			uint64_t val = rnd(4) ? rng | 1 : 0x4b534d;

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
	case 8:
		uvma_madvise(mm, P(a), PG(n), rnd(2) ? UVMA_MADV_DONTFORK : UVMA_MADV_DOFORK);
		break;
	case 9:
		uvma_madvise(mm, P(a), PG(n), rnd(3) ? UVMA_MADV_PAGEOUT : UVMA_MADV_COLD);
		break;
	case 10:
		if (!uvma_madvise(mm, P(a), PG(n), UVMA_MADV_MERGEABLE))
			assert_true(uvma_ksm_scan(w->e.sys) >= 0);
		break;
	case 11:
		pin_or_unpin(w, mm, a);
		break;
	default:
		migrate_step(w, mm, a);
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

struct outcome {
	unsigned long merges, relocated, refused;	/* in the first processes */
};

/* Runs the programs of one seed. */
static struct outcome random_programs(enum uvma_policy policy)
{
	struct outcome o = { 0, 0, 0 };

	rng = 0x9e3779b97f4a7c15ULL;
	for (int prog = 0; prog < 200; prog++) {
		struct uvma_sys_config cfg;
		struct world w;

		memset(&w, 0, sizeof(w));
		uvma_sys_config_default(&cfg);
		cfg.policy = policy;
		cfg.relocate_all = true;	/* the programs pass no flags */
		cfg.swap_pages = 256;
		cfg.thp_orders_always = (1u << 2) | (1u << 4);
		env_setup_cfg(&w.e, &cfg);
		w.mm[0] = w.e.mm;
		for (int step = 0; step < 200; step++)
			one_step(&w);
		{
			struct uvma_event_counts c;

			uvma_mm_event_counts(w.mm[0], &c);
			o.merges += c.done[UVMA_EVENT_MERGE];
			o.relocated += c.done[UVMA_EVENT_RELOCATE];
			o.refused += c.refused[UVMA_EVENT_RELOCATE];
		}
		for (int k = 0; k < PINS; k++)
			if (w.pin[k])
				uvma_unpin_user_pages(w.e.sys, &w.pin[k], 1, false);
		for (int k = 0; k < MIGRATIONS; k++)
			if (w.migration[k]) {
				int err = uvma_migrate_finish(w.e.sys, w.migration[k]);

				assert_true(!err || err == -ENOENT);
			}
		env_teardown(&w.e);
	}
	return o;
}

static void policies_random(void **state)
{
	static const char *const name[] = { "linux", "matena", "relocate", "auto", "ideal" };
	struct outcome o[5];

	(void)state;
	for (int p = UVMA_POLICY_LINUX; p <= UVMA_POLICY_IDEAL; p++) {
		o[p] = random_programs((enum uvma_policy)p);
		print_message("%-8s merges %lu, relocations %lu done, %lu refused\n", name[p],
			      o[p].merges, o[p].relocated, o[p].refused);
	}
	/* the same programs: each design relocates some moves and refuses others */
	for (int p = UVMA_POLICY_MATENA; p <= UVMA_POLICY_AUTO; p++)
		if (!o[p].relocated || !o[p].refused)
			fail_msg("%s: %lu relocations done, %lu refused", name[p], o[p].relocated,
				 o[p].refused);
	assert_int_equal(o[UVMA_POLICY_LINUX].relocated + o[UVMA_POLICY_LINUX].refused, 0);
	/* ideal refuses only for lack of memory, and relocates every move the others try */
	assert_int_equal(o[UVMA_POLICY_IDEAL].refused, 0);
	for (int p = UVMA_POLICY_MATENA; p <= UVMA_POLICY_AUTO; p++)
		if (o[UVMA_POLICY_IDEAL].relocated < o[p].relocated ||
		    o[UVMA_POLICY_IDEAL].merges < o[p].merges ||
		    o[p].merges < o[UVMA_POLICY_LINUX].merges)
			fail_msg("merges: linux %lu, %s %lu, ideal %lu",
				 o[UVMA_POLICY_LINUX].merges, name[p], o[p].merges,
				 o[UVMA_POLICY_IDEAL].merges);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policies_random),
	};

	return cmocka_run_group_tests_name("policies under random programs", tests, NULL, NULL);
}
