// SPDX-License-Identifier: MIT
/*
 * Merge and split rules (spec 3 and 4), each case as probed on the host
 * (spec section 10 and the host-oracle notes).
 */
#include "helpers.h"

static void new_range_merges(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	/* t1 T1: two adjacent unfaulted maps */
	map(&e, 0, 4, RW);
	map(&e, 4, 4, RW);
	assert_layout(&e, "[0,8) rw-p ac");
	/* t1 T2/T3: new maps after and before a faulted VMA */
	write_pages(&e, 0, 8);
	map(&e, 8, 2, RW);
	map_written(&e, 20, 2);
	map(&e, 18, 2, RW);
	assert_layout(&e, "[0,10) rw-p ac | [18,22) rw-p ac");
	env_teardown(&e);
}

static void gap_fill_between_anon_vmas(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	/* t1 T4: separately faulted neighbours have different anon_vmas */
	map_written(&e, 40, 4);
	map(&e, 46, 2, RW);
	/* not adjacent at fault time: a fresh anon_vma */
	write_pages(&e, 46, 2);
	map(&e, 44, 2, RW);
	assert_layout(&e, "[40,46) rw-p ac | [46,48) rw-p ac");
	/* t1 T5: faulted left, unfaulted right: all three */
	map_written(&e, 60, 4);
	map(&e, 66, 2, RW);
	map(&e, 64, 2, RW);
	assert_layout(&e, "[40,46) rw-p ac | [46,48) rw-p ac | [60,68) rw-p ac");
	env_teardown(&e);
}

static void mprotect_split_and_merge(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	map_written(&e, 0, 12);
	assert_int_equal(uvma_mprotect(e.mm, P(4), PG(4), RO), 0);
	assert_layout(&e, "[0,4) rw-p ac | [4,8) r--p ac | [8,12) rw-p ac");
	assert_int_equal(uvma_mm_map_count(e.mm), 3);
	assert_int_equal(uvma_mprotect(e.mm, P(4), PG(4), RW), 0);
	assert_layout(&e, "[0,12) rw-p ac");
	assert_int_equal(uvma_mm_map_count(e.mm), 1);
	env_teardown(&e);
}

static void account_flag_follows_faults(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	/* A1-A3: unfaulted RW made RO loses ac and merges with a fresh RO map */
	map(&e, 0, 4, RW);
	assert_int_equal(uvma_mprotect(e.mm, P(0), PG(4), RO), 0);
	map(&e, 4, 4, RO);
	assert_layout(&e, "[0,8) r--p");
	assert_int_equal(uvma_mprotect(e.mm, P(0), PG(8), RW), 0);
	assert_layout(&e, "[0,8) rw-p ac");
	/* A4: faulted RW made RO keeps ac and stays apart from fresh RO memory */
	map_written(&e, 20, 4);
	assert_int_equal(uvma_mprotect(e.mm, P(20), PG(4), RO), 0);
	map(&e, 24, 4, RO);
	assert_layout(&e, "[0,8) rw-p ac | [20,24) r--p ac | [24,28) r--p");
	/* N1: NORESERVE never merges with accounted memory */
	assert_int_equal(uvma_mmap(e.mm, P(40), PG(2), RW, ANON | UVMA_MAP_NORESERVE, NULL, 0),
			 (long)P(40));
	map(&e, 42, 2, RW);
	assert_layout(&e, "[0,8) rw-p ac | [20,24) r--p ac | [24,28) r--p | [40,42) rw-p nr | [42,44) rw-p ac");
	env_teardown(&e);
}

static void mprotect_stops_at_hole(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	/* H1: the first VMA is changed, then ENOMEM at the hole */
	map(&e, 80, 2, RW);
	map(&e, 84, 2, RW);
	assert_int_equal(uvma_mprotect(e.mm, P(80), PG(6), RO), -ENOMEM);
	assert_layout(&e, "[80,82) r--p | [84,86) rw-p ac");
	/* a hole at the start changes nothing */
	assert_int_equal(uvma_mprotect(e.mm, P(79), PG(3), RW), -ENOMEM);
	assert_layout(&e, "[80,82) r--p | [84,86) rw-p ac");
	env_teardown(&e);
}

static void munmap_spanning_vmas(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	/* U2: remnants on both ends */
	map(&e, 140, 2, RW);
	map(&e, 142, 2, RO);
	map(&e, 144, 2, RW | UVMA_PROT_EXEC);
	assert_int_equal(uvma_munmap(e.mm, P(141), PG(4)), 0);
	assert_layout(&e, "[140,141) rw-p ac | [145,146) rwxp ac");
	/* nothing mapped: 0; unaligned: EINVAL; zero length: EINVAL */
	assert_int_equal(uvma_munmap(e.mm, P(300), PG(1)), 0);
	assert_int_equal(uvma_munmap(e.mm, P(140) + 1, PG(1)), -EINVAL);
	assert_int_equal(uvma_munmap(e.mm, P(140), 0), -EINVAL);
	env_teardown(&e);
}

static void mremap_moves(void **state)
{
	struct env e;
	long r;

	(void)state;
	env_setup(&e);
	/* R1: unfaulted moved next to unfaulted: merged (pgoff reset) */
	map(&e, 0, 4, RW);
	map(&e, 64, 4, RW);
	r = uvma_mremap(e.mm, P(64), PG(4), PG(4), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(4));
	assert_int_equal(r, (long)P(4));
	assert_layout(&e, "[0,8) rw-p ac");
	/* R2: faulted moved next to unfaulted: not merged */
	map(&e, 100, 4, RW);
	map_written(&e, 200, 4);
	r = uvma_mremap(e.mm, P(200), PG(4), PG(4), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(104));
	assert_int_equal(r, (long)P(104));
	assert_layout(&e, "[0,8) rw-p ac | [100,104) rw-p ac | [104,108) rw-p ac");
	/* R3: the faulted tail moved away and back merges again */
	map_written(&e, 300, 8);
	r = uvma_mremap(e.mm, P(304), PG(4), PG(4), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(400));
	assert_int_equal(r, (long)P(400));
	r = uvma_mremap(e.mm, P(400), PG(4), PG(4), UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(304));
	assert_int_equal(r, (long)P(304));
	assert_layout(&e, "[0,8) rw-p ac | [100,104) rw-p ac | [104,108) rw-p ac | [300,308) rw-p ac");
	env_teardown(&e);
}

static void mremap_resize(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	map(&e, 0, 4, RW);
	map(&e, 10, 2, RW);
	/* R4/R5: grow in place, up to and merging with the next VMA */
	assert_int_equal(uvma_mremap(e.mm, P(0), PG(4), PG(6), 0, 0), (long)P(0));
	assert_int_equal(uvma_mremap(e.mm, P(0), PG(6), PG(10), 0, 0), (long)P(0));
	assert_layout(&e, "[0,12) rw-p ac");
	/* R7: blocked without MAYMOVE */
	map(&e, 20, 2, RW);
	map(&e, 22, 2, RO);
	assert_int_equal(uvma_mremap(e.mm, P(20), PG(2), PG(3), 0, 0), -ENOMEM);
	/* R6: shrink */
	assert_int_equal(uvma_mremap(e.mm, P(0), PG(12), PG(6), 0, 0), (long)P(0));
	assert_layout(&e, "[0,6) rw-p ac | [20,22) rw-p ac | [22,24) r--p");
	/* R14, R15: overlap, old_len beyond the VMA */
	assert_int_equal(uvma_mremap(e.mm, P(0), PG(4), PG(4),
				     UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(2)), -EINVAL);
	assert_int_equal(uvma_mremap(e.mm, P(20), PG(3), PG(5), UVMA_MREMAP_MAYMOVE, 0), -EFAULT);
	/* a private duplicate (old_len 0) is refused */
	assert_int_equal(uvma_mremap(e.mm, P(0), 0, PG(2), UVMA_MREMAP_MAYMOVE, 0), -EINVAL);
	env_teardown(&e);
}

static void mremap_multi_vma_move(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	/* R10: gaps between the source VMAs are kept */
	map(&e, 0, 2, RW);
	map(&e, 4, 2, RO);
	assert_int_equal(uvma_mremap(e.mm, P(0), PG(6), PG(6),
				     UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(100)), (long)P(100));
	assert_layout(&e, "[100,102) rw-p ac | [104,106) r--p");
	/* R11: a range starting in a gap */
	assert_int_equal(uvma_mremap(e.mm, P(103), PG(3), PG(3),
				     UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(200)), -EFAULT);
	env_teardown(&e);
}

static void self_adjacent_move(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	/* t19: the copy of the tail merges with its own source */
	map(&e, 0, 8, RW);
	assert_int_equal(uvma_mremap(e.mm, P(6), PG(2), PG(2),
				     UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(8)), (long)P(8));
	assert_layout(&e, "[0,6) rw-p ac | [8,10) rw-p ac");
	env_teardown(&e);
}

static void dontunmap(void **state)
{
	struct env e;
	struct uvma_vma_info vi;

	(void)state;
	env_setup(&e);
	map_written(&e, 0, 4);
	assert_int_equal(uvma_mremap(e.mm, P(0), PG(4), PG(4),
				     UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_DONTUNMAP | UVMA_MREMAP_FIXED,
				     P(20)), (long)P(20));
	assert_layout(&e, "[0,4) rw-p ac | [20,24) rw-p ac");
	/* the whole source was moved: its anon_vma is dropped */
	vi = vma_at(&e, 0);
	assert_int_equal(vi.anon_vma_id, 0);
	/* DONTUNMAP must not resize */
	assert_int_equal(uvma_mremap(e.mm, P(20), PG(4), PG(5),
				     UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_DONTUNMAP, 0), -EINVAL);
	env_teardown(&e);
}

static void fork_child_rules(void **state)
{
	struct env e;
	struct uvma_mm *child;
	int err;

	(void)state;
	env_setup(&e);
	map_written(&e, 0, 4);
	map(&e, 4, 4, RW | UVMA_PROT_EXEC);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	/* forked_source_vma: the inherited faulted VMA refuses the unfaulted neighbour */
	assert_int_equal(uvma_mprotect(child, P(4), PG(4), RW), 0);
	assert_int_equal(uvma_mm_map_count(child), 2);
	/* the parent still merges */
	assert_int_equal(uvma_mprotect(e.mm, P(4), PG(4), RW), 0);
	assert_layout(&e, "[0,8) rw-p ac");
	/* pieces of one inherited VMA re-merge (same anon_vma) */
	assert_int_equal(uvma_mprotect(child, P(1), PG(1), RO), 0);
	assert_int_equal(uvma_mm_map_count(child), 4);
	assert_int_equal(uvma_mprotect(child, P(1), PG(1), RW), 0);
	assert_int_equal(uvma_mm_map_count(child), 2);
	uvma_mm_exit(child);
	env_teardown(&e);
}

static void fork_dontcopy_wipeonfork_locked(void **state)
{
	struct env e;
	struct uvma_mm *child;
	struct uvma_vma_info vi;
	int err;

	(void)state;
	env_setup(&e);
	map(&e, 0, 2, RW);
	map(&e, 10, 2, RW);
	map(&e, 20, 4, RW);
	write_pages(&e, 0, 2);
	write_pages(&e, 20, 4);
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(2), UVMA_MADV_DONTFORK), 0);
	write_pages(&e, 10, 2);
	assert_int_equal(uvma_madvise(e.mm, P(10), PG(2), UVMA_MADV_WIPEONFORK), 0);
	assert_int_equal(uvma_mlock(e.mm, P(22), PG(2)), 0);
	assert_layout(&e, "[0,2) rw-p ac dc | [10,12) rw-p ac wf | [20,22) rw-p ac | [22,24) rw-p ac lo");
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	/* no DONTCOPY VMA; wf kept but empty; lo dropped, the pieces stay apart */
	assert_int_equal(uvma_find_vma(child, 0, &vi), 0);
	assert_int_equal(vi.start, P(10));
	assert_true(vi.flags & UVMA_VM_WIPEONFORK);
	assert_int_equal(vi.anon_vma_id, 0);
	assert_int_equal(uvma_mm_map_count(child), 3);
	assert_int_equal(uvma_find_vma(child, P(22), &vi), 0);
	assert_false(vi.flags & UVMA_VM_LOCKED);
	uvma_mm_exit(child);
	env_teardown(&e);
}

static void anon_vma_reuse_on_fault(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	/* t20: rw and rwx faulted separately share an anon_vma, then merge */
	map(&e, 0, 4, RW);
	map(&e, 4, 4, RW | UVMA_PROT_EXEC);
	write_pages(&e, 0, 4);
	write_pages(&e, 4, 4);
	assert_int_equal(vma_at(&e, 0).anon_vma_id, vma_at(&e, 4).anon_vma_id);
	assert_int_equal(uvma_mprotect(e.mm, P(4), PG(4), RW), 0);
	assert_layout(&e, "[0,8) rw-p ac");
	/* with dd in between at fault time: different anon_vmas, no merge */
	map(&e, 16, 4, RW);
	map(&e, 20, 4, RW);
	assert_int_equal(uvma_madvise(e.mm, P(20), PG(4), UVMA_MADV_DONTDUMP), 0);
	write_pages(&e, 16, 4);
	write_pages(&e, 20, 4);
	assert_int_equal(uvma_madvise(e.mm, P(20), PG(4), UVMA_MADV_DODUMP), 0);
	assert_layout(&e, "[0,8) rw-p ac | [16,20) rw-p ac | [20,24) rw-p ac");
	env_teardown(&e);
}

static void read_fault_has_no_anon_vma(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	/* t12 */
	map(&e, 0, 4, RW);
	assert_int_equal(uvma_touch(e.mm, P(0), PG(4), false), 0);
	assert_int_equal(vma_at(&e, 0).anon_vma_id, 0);
	write_pages(&e, 1, 1);
	assert_true(vma_at(&e, 0).anon_vma_id != 0);
	/* DONTNEED keeps the anon_vma */
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(4), UVMA_MADV_DONTNEED), 0);
	assert_true(vma_at(&e, 0).anon_vma_id != 0);
	/* MAP_POPULATE RW faults for write; RO populates with the zero page */
	assert_int_equal(uvma_mmap(e.mm, P(10), PG(2), RW, ANON | UVMA_MAP_POPULATE, NULL, 0),
			 (long)P(10));
	assert_true(vma_at(&e, 10).anon_vma_id != 0);
	assert_int_equal(uvma_mmap(e.mm, P(20), PG(2), RO, ANON | UVMA_MAP_POPULATE, NULL, 0),
			 (long)P(20));
	assert_int_equal(vma_at(&e, 20).anon_vma_id, 0);
	/* no access: SIGSEGV */
	assert_int_equal(uvma_fault(e.mm, P(20), true), -EFAULT);
	assert_int_equal(uvma_fault(e.mm, P(30), false), -EFAULT);
	env_teardown(&e);
}

static void guard_regions(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	/* t9: gu on the whole VMA without a split; sticky through merges */
	map(&e, 0, 8, RW);
	assert_int_equal(uvma_madvise(e.mm, P(2), PG(1), UVMA_MADV_GUARD_INSTALL), 0);
	assert_layout(&e, "[0,8) rw-p ac gu");
	assert_true(vma_at(&e, 0).anon_vma_id != 0);
	assert_int_equal(uvma_fault(e.mm, P(2), false), -EFAULT);
	map(&e, 8, 2, RW);
	assert_layout(&e, "[0,10) rw-p ac gu");
	assert_int_equal(uvma_mprotect(e.mm, P(4), PG(1), RO), 0);
	assert_layout(&e, "[0,4) rw-p ac gu | [4,5) r--p ac gu | [5,10) rw-p ac gu");
	assert_int_equal(uvma_mprotect(e.mm, P(4), PG(1), RW), 0);
	assert_layout(&e, "[0,10) rw-p ac gu");
	assert_int_equal(uvma_madvise(e.mm, P(2), PG(1), UVMA_MADV_GUARD_REMOVE), 0);
	assert_layout(&e, "[0,10) rw-p ac gu");
	assert_int_equal(uvma_fault(e.mm, P(2), false), 0);
	/* locked VMAs refuse guards */
	map(&e, 20, 2, RW);
	assert_int_equal(uvma_mlock(e.mm, P(20), PG(2)), 0);
	assert_int_equal(uvma_madvise(e.mm, P(20), PG(1), UVMA_MADV_GUARD_INSTALL), -EINVAL);
	/* droppable memory takes them */
	assert_int_equal(uvma_mmap(e.mm, P(30), PG(2), RW,
				   UVMA_MAP_DROPPABLE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED, NULL, 0),
			 (long)P(30));
	assert_int_equal(uvma_madvise(e.mm, P(30), PG(1), UVMA_MADV_GUARD_INSTALL), 0);
	assert_int_equal(uvma_fault(e.mm, P(30), true), -EFAULT);
	env_teardown(&e);
}

static void mseal_rules(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	map(&e, 0, 8, RW);
	/* flags, alignment, wrap-around, a hole: nothing sealed */
	assert_int_equal(uvma_mseal(e.mm, P(0), PG(1), 1), -EINVAL);
	assert_int_equal(uvma_mseal(e.mm, P(0) + 1, PG(1), 0), -EINVAL);
	assert_int_equal(uvma_mseal(e.mm, P(0), UINT64_MAX, 0), -EINVAL);
	assert_int_equal(uvma_mseal(e.mm, P(0), 0, 0), 0);
	assert_int_equal(uvma_mseal(e.mm, P(7), PG(2), 0), -ENOMEM);
	assert_layout(&e, "[0,8) rw-p ac");
	/* the sealed middle splits off; sealing it again changes nothing */
	assert_int_equal(uvma_mseal(e.mm, P(2), PG(2), 0), 0);
	assert_int_equal(uvma_mseal(e.mm, P(2), PG(2), 0), 0);
	assert_layout(&e, "[0,2) rw-p ac | [2,4) rw-p ac sl | [4,8) rw-p ac");
	/* mprotect changes the VMAs before the sealed one, then stops */
	assert_int_equal(uvma_mprotect(e.mm, P(0), PG(8), RO), -EPERM);
	assert_layout(&e, "[0,2) r--p | [2,4) rw-p ac sl | [4,8) rw-p ac");
	/* munmap refuses before anything goes; a split at its start stays */
	assert_int_equal(uvma_munmap(e.mm, P(1), PG(2)), -EPERM);
	assert_layout(&e, "[0,1) r--p | [1,2) r--p | [2,4) rw-p ac sl | [4,8) rw-p ac");
	assert_int_equal(uvma_mmap(e.mm, P(3), PG(2), RW, ANON_FIXED, NULL, 0), -EPERM);
	/* mremap may neither move, grow, shrink it nor land on it */
	assert_int_equal(uvma_mremap(e.mm, P(2), PG(2), PG(2),
				     UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(40)), -EPERM);
	assert_int_equal(uvma_mremap(e.mm, P(2), PG(2), PG(1), 0, 0), -EPERM);
	assert_int_equal(uvma_mremap(e.mm, P(4), PG(1), PG(1),
				     UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED, P(2)), -EPERM);
	/* discards: allowed where the process could write anyway */
	assert_int_equal(uvma_madvise(e.mm, P(2), PG(1), UVMA_MADV_DONTNEED), 0);
	map(&e, 20, 2, RO);
	assert_int_equal(uvma_mseal(e.mm, P(20), PG(2), 0), 0);
	assert_int_equal(uvma_madvise(e.mm, P(20), PG(1), UVMA_MADV_DONTNEED), -EPERM);
	assert_int_equal(uvma_madvise(e.mm, P(20), PG(1), UVMA_MADV_GUARD_INSTALL), -EPERM);
	assert_int_equal(uvma_madvise(e.mm, P(20), PG(1), UVMA_MADV_COLD), 0);
	/* sealed neighbours merge; an unsealed one does not join them */
	map(&e, 30, 2, RW);
	assert_int_equal(uvma_mseal(e.mm, P(30), PG(1), 0), 0);
	assert_int_equal(uvma_mseal(e.mm, P(31), PG(1), 0), 0);
	map(&e, 32, 1, RW);
	assert_layout(&e, "[0,1) r--p | [1,2) r--p | [2,4) rw-p ac sl | [4,8) rw-p ac | "
			  "[20,22) r--p sl | [30,32) rw-p ac sl | [32,33) rw-p ac");
	env_teardown(&e);
}

static void mbind_policies(void **state)
{
	const uint64_t n0 = 1, n01 = 3, n1 = 2, none = 0;
	struct uvma_sys_config cfg;
	struct env e;

	(void)state;
	uvma_sys_config_default(&cfg);
	cfg.numa_nodes = 2;
	env_setup_cfg(&e, &cfg);
	map(&e, 0, 16, RW);
	/* modes, flags, masks */
	assert_int_equal(uvma_mbind(e.mm, P(0), PG(1), 7, &n0, 64, 0), -EINVAL);
	assert_int_equal(uvma_mbind(e.mm, P(0), PG(1), UVMA_MPOL_BIND, &none, 64, 0), -EINVAL);
	assert_int_equal(uvma_mbind(e.mm, P(0), PG(1), UVMA_MPOL_DEFAULT, &n0, 64, 0), -EINVAL);
	assert_int_equal(uvma_mbind(e.mm, P(0), PG(1), UVMA_MPOL_BIND, &n0, 0, 0), -EINVAL);
	assert_int_equal(uvma_mbind(e.mm, P(0), PG(1), UVMA_MPOL_BIND, &n0, 64, 8), -EINVAL);
	assert_int_equal(uvma_mbind(e.mm, P(0), PG(1),
				    UVMA_MPOL_INTERLEAVE | UVMA_MPOL_F_NUMA_BALANCING, &n0, 64, 0),
			 -EINVAL);
	assert_int_equal(uvma_mbind(e.mm, P(0), PG(1), UVMA_MPOL_BIND, &n0, 64, 0), 0);
	assert_layout(&e, "[0,1) rw-p ac | [1,16) rw-p ac");
	/* equal policies merge; node 1 is online here, so {0} and {0,1} differ */
	assert_int_equal(uvma_mbind(e.mm, P(1), PG(1), UVMA_MPOL_BIND, &n0, 64, 0), 0);
	assert_int_equal(uvma_mbind(e.mm, P(2), PG(1), UVMA_MPOL_BIND, &n01, 64, 0), 0);
	assert_layout(&e, "[0,2) rw-p ac | [2,3) rw-p ac | [3,16) rw-p ac");
	/* preferred keeps its first node: {1} and {0,1}... differ, {0} and {0,1} do not */
	assert_int_equal(uvma_mbind(e.mm, P(4), PG(1), UVMA_MPOL_PREFERRED, &n1, 64, 0), 0);
	assert_int_equal(uvma_mbind(e.mm, P(5), PG(1), UVMA_MPOL_PREFERRED, &n01, 64, 0), 0);
	assert_int_equal(uvma_mbind(e.mm, P(6), PG(1), UVMA_MPOL_PREFERRED, &n0, 64, 0), 0);
	assert_layout(&e, "[0,2) rw-p ac | [2,3) rw-p ac | [3,4) rw-p ac | [4,5) rw-p ac | "
			  "[5,7) rw-p ac | [7,16) rw-p ac");
	/* a hole: EFAULT, nothing changed; the default policy may span it */
	assert_int_equal(uvma_munmap(e.mm, P(10), PG(1)), 0);
	assert_int_equal(uvma_mbind(e.mm, P(8), PG(4), UVMA_MPOL_BIND, &n0, 64, 0), -EFAULT);
	assert_int_equal(uvma_mbind(e.mm, P(0), PG(12), UVMA_MPOL_DEFAULT, NULL, 0, 0), 0);
	assert_layout(&e, "[0,10) rw-p ac | [11,16) rw-p ac");
	/* strict: a page on node 0 is misplaced under a policy of node 1 alone */
	write_pages(&e, 12, 1);
	assert_int_equal(uvma_mbind(e.mm, P(12), PG(1), UVMA_MPOL_BIND, &n1, 64,
				    UVMA_MPOL_MF_STRICT), -EIO);
	assert_layout(&e, "[0,10) rw-p ac | [11,16) rw-p ac");	/* nothing applied */
	assert_int_equal(uvma_mbind(e.mm, P(13), PG(1), UVMA_MPOL_BIND, &n1, 64,
				    UVMA_MPOL_MF_STRICT), 0);
	env_teardown(&e);
}

static void madvise_flags_and_holes(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	map_written(&e, 0, 12);
	assert_int_equal(uvma_madvise(e.mm, P(4), PG(4), UVMA_MADV_HUGEPAGE), 0);
	assert_layout(&e, "[0,4) rw-p ac | [4,8) rw-p ac hg | [8,12) rw-p ac");
	/* NOHUGEPAGE does not undo HUGEPAGE: it sets nh */
	assert_int_equal(uvma_madvise(e.mm, P(4), PG(4), UVMA_MADV_NOHUGEPAGE), 0);
	assert_layout(&e, "[0,4) rw-p ac | [4,8) rw-p ac nh | [8,12) rw-p ac");
	/* DONTFORK over [10,12) + hole + [13,15): both marked, ENOMEM */
	map(&e, 20, 2, RW);
	map(&e, 23, 2, RW);
	assert_int_equal(uvma_madvise(e.mm, P(20), PG(5), UVMA_MADV_DONTFORK), -ENOMEM);
	assert_layout(&e, "[0,4) rw-p ac | [4,8) rw-p ac nh | [8,12) rw-p ac | [20,22) rw-p ac dc | [23,25) rw-p ac dc");
	/* DOFORK on an unmarked range is a no-op, no split */
	assert_int_equal(uvma_madvise(e.mm, P(1), PG(1), UVMA_MADV_DOFORK), 0);
	assert_int_equal(uvma_mm_map_count(e.mm), 5);
	/* WIPEONFORK on shared memory: EINVAL */
	assert_int_equal(uvma_mmap(e.mm, P(40), PG(2), RW,
				   UVMA_MAP_SHARED | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED, NULL, 0),
			 (long)P(40));
	assert_int_equal(uvma_madvise(e.mm, P(40), PG(2), UVMA_MADV_WIPEONFORK), -EINVAL);
	/* unknown advice, unaligned start */
	assert_int_equal(uvma_madvise(e.mm, P(0), PG(1), 7), -EINVAL);
	assert_int_equal(uvma_madvise(e.mm, P(0) + 8, PG(1), UVMA_MADV_NORMAL), -EINVAL);
	/* nothing mapped at all */
	assert_int_equal(uvma_madvise(e.mm, P(100), PG(1), UVMA_MADV_NORMAL), -ENOMEM);
	env_teardown(&e);
}

static void mlock_and_mlockall(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	map(&e, 0, 6, RW);
	assert_int_equal(uvma_mlock(e.mm, P(2), PG(2)), 0);
	assert_layout(&e, "[0,2) rw-p ac | [2,4) rw-p ac lo | [4,6) rw-p ac");
	assert_true(vma_at(&e, 2).anon_vma_id != 0); /* populated for write */
	assert_int_equal(uvma_munlock(e.mm, P(2), PG(2)), 0);
	assert_layout(&e, "[0,6) rw-p ac");
	assert_int_equal(uvma_mlock2(e.mm, P(2), PG(2), UVMA_MLOCK_ONFAULT), 0);
	assert_layout(&e, "[0,2) rw-p ac | [2,4) rw-p ac lo lf | [4,6) rw-p ac");
	assert_int_equal(uvma_mlock2(e.mm, P(2), PG(2), 2), -EINVAL);
	/* t15: mlockall merges the lock-split pieces; munlockall too */
	assert_int_equal(uvma_mlockall(e.mm, UVMA_MCL_CURRENT), 0);
	assert_layout(&e, "[0,6) rw-p ac lo");
	assert_int_equal(uvma_munlockall(e.mm), 0);
	assert_layout(&e, "[0,6) rw-p ac");
	assert_int_equal(uvma_mlockall(e.mm, UVMA_MCL_ONFAULT), -EINVAL);
	assert_int_equal(uvma_mlockall(e.mm, 0), -EINVAL);
	/* a hole: ENOMEM after the first part is locked */
	map(&e, 10, 2, RW);
	map(&e, 13, 2, RW);
	assert_int_equal(uvma_mlock(e.mm, P(10), PG(5)), -ENOMEM);
	assert_layout(&e, "[0,6) rw-p ac | [10,12) rw-p ac lo | [13,15) rw-p ac");
	env_teardown(&e);
}

static void brk_heap(void **state)
{
	struct env e;
	char buf[4096];

	(void)state;
	env_setup(&e);
	uvma_mm_set_brk(e.mm, P(100), P(100));
	assert_int_equal(uvma_brk(e.mm, P(102)), P(102));
	assert_layout(&e, "[100,102) rw-p ac");
	assert_int_equal(uvma_brk(e.mm, P(104) - 100), P(104) - 100);
	assert_layout(&e, "[100,104) rw-p ac");
	/* t13: an anonymous map right after the break merges into [heap] */
	map(&e, 104, 2, RW);
	assert_layout(&e, "[100,106) rw-p ac");
	uvma_render_maps(e.mm, P(100), P(106), buf, sizeof(buf));
	assert_string_equal(buf, "100000064000-10000006a000 rw-p 00000000 00:00 0                          [heap]\n");
	/* shrinking cuts [newbrk, oldbrk) out of the merged VMA, nothing more */
	assert_int_equal(uvma_brk(e.mm, P(101)), P(101));
	assert_layout(&e, "[100,101) rw-p ac | [104,106) rw-p ac");
	/* below the start: the old break */
	assert_int_equal(uvma_brk(e.mm, P(99)), P(101));
	/* growth must leave a free page below the next mapping */
	assert_int_equal(uvma_brk(e.mm, P(104)), P(101));
	assert_int_equal(uvma_brk(e.mm, P(103)), P(103));
	assert_layout(&e, "[100,103) rw-p ac | [104,106) rw-p ac");
	env_teardown(&e);
}

static void mmap_errors_and_noreplace(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	map(&e, 0, 8, RW);
	assert_int_equal(uvma_mmap(e.mm, P(4), PG(8), RW, ANON, NULL, 0), -EEXIST);
	assert_int_equal(uvma_mmap(e.mm, P(4) + 1, PG(1), RW, ANON, NULL, 0), -EINVAL);
	assert_int_equal(uvma_mmap(e.mm, P(20), 0, RW, ANON, NULL, 0), -EINVAL);
	assert_int_equal(uvma_mmap(e.mm, P(20), PG(1), RW, ANON, NULL, 1), -EINVAL);
	assert_int_equal(uvma_mmap(e.mm, P(20), PG(1), RW, UVMA_MAP_PRIVATE, NULL, 0), -EBADF);
	assert_int_equal(uvma_mmap(e.mm, P(20), PG(1), RW,
				   UVMA_MAP_SHARED_VALIDATE | UVMA_MAP_ANONYMOUS, NULL, 0), -EINVAL);
	assert_int_equal(uvma_mmap(e.mm, 1ULL << 47, PG(1), RW, ANON, NULL, 0), -ENOMEM);
	/* MAP_FIXED clobbers and splits */
	assert_int_equal(uvma_mmap(e.mm, P(2), PG(1), RO, ANON_FIXED, NULL, 0), (long)P(2));
	assert_layout(&e, "[0,2) rw-p ac | [2,3) r--p | [3,8) rw-p ac");
	/* t17: identical MAP_FIXED over the middle of a faulted VMA is one VMA again */
	map_written(&e, 20, 8);
	assert_int_equal(uvma_mmap(e.mm, P(22), PG(2), RW, ANON_FIXED, NULL, 0), (long)P(22));
	assert_int_equal(vma_at(&e, 20).end, P(28));
	/* MAP_STACK gives nh, MAP_LOCKED lo, MAP_GROWSDOWN gd */
	assert_int_equal(uvma_mmap(e.mm, P(40), PG(1), RW, ANON | UVMA_MAP_STACK, NULL, 0), (long)P(40));
	assert_int_equal(uvma_mmap(e.mm, P(42), PG(1), RW, ANON | UVMA_MAP_LOCKED, NULL, 0), (long)P(42));
	assert_int_equal(uvma_mmap(e.mm, P(44), PG(1), RW, ANON | UVMA_MAP_GROWSDOWN, NULL, 0), (long)P(44));
	assert_layout(&e, "[0,2) rw-p ac | [2,3) r--p | [3,8) rw-p ac | [20,28) rw-p ac | [40,41) rw-p ac nh | [42,43) rw-p ac lo | [44,45) rw-p ac gd");
	env_teardown(&e);
}

static void shared_anon_never_merges(void **state)
{
	struct env e;
	char buf[4096];
	int flags = UVMA_MAP_SHARED | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED_NOREPLACE;

	(void)state;
	env_setup(&e);
	assert_int_equal(uvma_mmap(e.mm, P(0), PG(2), RW, flags, NULL, 0), (long)P(0));
	assert_int_equal(uvma_mmap(e.mm, P(2), PG(2), RW, flags, NULL, 0), (long)P(2));
	assert_layout(&e, "[0,2) rw-s | [2,4) rw-s");
	uvma_render_maps(e.mm, P(0), P(2), buf, sizeof(buf));
	assert_string_equal(buf, "100000000000-100000002000 rw-s 00000000 00:01 1025                       /dev/zero (deleted)\n");
	/* the upper part of a split shmem VMA shows its offset */
	assert_int_equal(uvma_mprotect(e.mm, P(1), PG(1), RO), 0);
	uvma_render_maps(e.mm, P(1), P(2), buf, sizeof(buf));
	assert_string_equal(buf, "100000001000-100000002000 r--s 00001000 00:01 1025                       /dev/zero (deleted)\n");
	env_teardown(&e);
}

static void placement_topdown_and_thp(void **state)
{
	struct env e;
	long a, b, c;

	(void)state;
	env_setup(&e);
	uvma_mm_set_mmap_base(e.mm, 0x7f0000000000ULL);
	a = uvma_mmap(e.mm, 0, PG(1), RW, UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS, NULL, 0);
	b = uvma_mmap(e.mm, 0, PG(1), RW, UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS, NULL, 0);
	assert_int_equal(a, 0x7f0000000000LL - 4096);
	assert_int_equal(b, a - 4096);
	assert_int_equal(uvma_mm_map_count(e.mm), 1);
	/* 2 MiB multiples land 2 MiB-aligned, the next one directly below */
	a = uvma_mmap(e.mm, 0, 2UL << 20, RW, UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS, NULL, 0);
	c = uvma_mmap(e.mm, 0, 2UL << 20, RW, UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS, NULL, 0);
	assert_int_equal(a & ((2L << 20) - 1), 0);
	assert_int_equal(c, a - (2L << 20));
	/* a free hint is honoured; a busy one is not */
	a = uvma_mmap(e.mm, 0x200000000000ULL + 123, PG(1), RW, UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS, NULL, 0);
	assert_int_equal(a, 0x200000000000LL);
	b = uvma_mmap(e.mm, 0x200000000000ULL, PG(1), RW, UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS, NULL, 0);
	assert_true(b != a && b > 0);
	env_teardown(&e);
}

/*
 * The five existing-range cases (spec 3.6), each by mprotect so that the
 * middle's new flags equal its neighbours': which VMA survives, its range,
 * pgoff and anon_vma.
 *
 *   A  PPPP MMMM NNNN -> PPPPPPPPPPPP       B  PPPP MMMM nnnn -> PPPPPPPP nnnn
 *   C  PPPP MMmm      -> PPPPPP mm          D  pppp MMMM NNNN -> pppp NNNNNNNN
 *   E  mmMM NNNN      -> mm NNNNNN
 */
static void existing_range_cases(void **state)
{
	struct env e;
	struct uvma_vma_info p, n;

	(void)state;
	env_setup(&e);
	/* A: prev faulted, middle unfaulted, next unfaulted: one VMA with prev's anon_vma */
	map_written(&e, 0, 4);
	map(&e, 4, 4, RO);
	map(&e, 8, 4, RW);
	p = vma_at(&e, 0);
	assert_int_equal(uvma_mprotect(e.mm, P(4), PG(4), RW), 0);
	n = vma_at(&e, 0);
	assert_int_equal(n.start, P(0));
	assert_int_equal(n.end, P(12));
	assert_int_equal(n.pgoff, P(0) >> 12);
	assert_int_equal(n.anon_vma_id, p.anon_vma_id);
	/* B: right side differs; middle deleted into prev, anon_vma duplicated from middle */
	map(&e, 20, 4, RW);
	map(&e, 24, 4, RO);
	write_pages(&e, 24, 0);
	assert_int_equal(uvma_touch(e.mm, P(24), PG(4), false), 0);
	map(&e, 28, 4, RW | UVMA_PROT_EXEC);
	assert_int_equal(uvma_mprotect(e.mm, P(24), PG(4), RW), 0);
	assert_layout(&e, "[0,12) rw-p ac | [20,28) rw-p ac | [28,32) rwxp ac");
	/* C: prefix of middle joins prev; the middle's start and pgoff advance */
	map(&e, 40, 4, RW);
	map(&e, 44, 4, RO);
	write_pages(&e, 40, 4);
	assert_int_equal(uvma_mprotect(e.mm, P(44), PG(2), RW), 0);
	n = vma_at(&e, 46);
	assert_int_equal(n.start, P(46));
	assert_int_equal(n.pgoff, P(46) >> 12);
	assert_int_equal(vma_at(&e, 40).end, P(46));
	/* D: whole middle joins next, which grows down with pgoff - pages */
	map(&e, 60, 4, RO);
	map(&e, 64, 4, RW);
	map(&e, 70, 2, RW);
	write_pages(&e, 64, 4);
	assert_int_equal(uvma_mprotect(e.mm, P(60), PG(4), RW), 0);
	n = vma_at(&e, 60);
	assert_int_equal(n.start, P(60));
	assert_int_equal(n.end, P(68));
	assert_int_equal(n.pgoff, P(60) >> 12);
	assert_true(n.anon_vma_id != 0);
	/* E: suffix of middle joins next; middle shrinks keeping its pgoff */
	map(&e, 80, 4, RO);
	map_written(&e, 84, 4);
	assert_int_equal(uvma_mprotect(e.mm, P(82), PG(2), RW), 0);
	assert_int_equal(vma_at(&e, 80).end, P(82));
	assert_int_equal(vma_at(&e, 80).pgoff, P(80) >> 12);
	n = vma_at(&e, 82);
	assert_int_equal(n.start, P(82));
	assert_int_equal(n.end, P(88));
	assert_int_equal(n.pgoff, P(82) >> 12);
	/* an interior range never merges: it splits */
	assert_int_equal(uvma_mprotect(e.mm, P(85), PG(1), RO), 0);
	assert_int_equal(vma_at(&e, 85).start, P(85));
	assert_int_equal(vma_at(&e, 85).end, P(86));
	env_teardown(&e);
}

/* exec layout: [stack], [vdso] that refuses splits, special mappings that never merge */
static void exec_layout(void **state)
{
	struct uvma_exec_layout l = { .stack_top = 0x7ffffffff000ULL, .brk_start = 0x555555560000ULL,
				      .vdso = true };
	struct uvma_vma_info vi;
	struct env e;
	char buf[2048];
	uint64_t vdso = 0;

	(void)state;
	env_setup(&e);
	assert_int_equal(uvma_mm_exec_layout(e.mm, &l), 0);
	assert_int_equal(uvma_mm_exec_layout(e.mm, &l), -EINVAL);
	for (uint64_t a = 0; !uvma_find_vma(e.mm, a, &vi); a = vi.end)
		if (vi.name && !strcmp(vi.name, "[vdso]"))
			vdso = vi.start;
	assert_true(vdso != 0);
	assert_int_equal(uvma_find_vma(e.mm, 0x7ffffffff000ULL - 4096, &vi), 0);
	assert_string_equal(vi.name, "[stack]");
	assert_true(vi.flags & UVMA_VM_GROWSDOWN);
	/* splitting the vdso is refused */
	assert_int_equal(uvma_mprotect(e.mm, vdso, 4096, UVMA_PROT_READ), -EINVAL);
	/* a page right below [vvar] never merges into it */
	uvma_render_maps(e.mm, vdso, vdso + 4096, buf, sizeof(buf));
	assert_non_null(strstr(buf, "r-xp 00000000 00:00 0                          [vdso]\n"));
	/* brk grows a [heap] from the layout's start */
	assert_int_equal(uvma_brk(e.mm, 0x555555562000ULL), 0x555555562000ULL);
	assert_int_equal(uvma_find_vma(e.mm, 0x555555560000ULL, &vi), 0);
	assert_string_equal(vi.name, "[heap]");
	/* a fault below the stack grows it */
	assert_int_equal(uvma_fault(e.mm, 0x7ffffffff000ULL - (200UL << 10), true), 0);
	assert_int_equal(uvma_find_vma(e.mm, 0x7ffffffff000ULL - (200UL << 10), &vi), 0);
	assert_string_equal(vi.name, "[stack]");
	env_teardown(&e);
}

/* ---- merge tracing ------------------------------------------------------------ */

struct log {
	int n;
	struct uvma_event ev[32];
	char call[32][16];
};

static void log_event(void *ctx, const struct uvma_mm *mm, const struct uvma_event *ev)
{
	struct log *l = ctx;

	(void)mm;
	if (l->n < 32) {
		l->ev[l->n] = *ev;
		snprintf(l->call[l->n], sizeof(l->call[0]), "%s", ev->call);
	}
	l->n++;
}

static void events_say_why(void **state)
{
	struct log l = { 0 };
	struct uvma_event_counts c;
	struct env e;

	(void)state;
	env_setup(&e);
	uvma_sys_set_event_hook(e.sys, log_event, &l);
	map(&e, 0, 4, RW);
	/* an unfaulted neighbour merges: the target is the joined range */
	l.n = 0;
	map(&e, 4, 4, RW);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].kind, UVMA_EVENT_MERGE);
	assert_string_equal(l.call[0], "mmap");
	assert_true(l.ev[0].ok);
	assert_int_equal(l.ev[0].prev.start, P(0));
	assert_int_equal(l.ev[0].target.start, P(0));
	assert_int_equal(l.ev[0].target.end, P(8));
	/* a change in the middle: the merge is refused (interior), then two splits */
	l.n = 0;
	assert_int_equal(uvma_mprotect(e.mm, P(2), PG(2), RO), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.ev[0].kind, UVMA_EVENT_MERGE);
	assert_int_equal(l.ev[0].reason, UVMA_REASON_INTERIOR);
	assert_int_equal(l.ev[1].kind, UVMA_EVENT_SPLIT);
	assert_int_equal(l.ev[1].at, P(2));
	assert_true(l.ev[1].ok);
	assert_int_equal(l.ev[2].at, P(4));
	assert_string_equal(l.call[2], "mprotect");
	/* a faulted VMA moved next to another faulted one: the anon_vmas differ (checked before pgoff) */
	map_written(&e, 20, 4);
	map_written(&e, 40, 4);
	l.n = 0;
	move_to(&e, 40, 4, 24);
	assert_int_equal(l.n, 1);
	assert_false(l.ev[0].ok);
	assert_int_equal(l.ev[0].reason, UVMA_REASON_ANON_VMA);
	assert_int_equal(l.ev[0].prev.start, P(20));
	/* a split that would pass max_map_count */
	uvma_sys_set_max_map_count(e.sys, uvma_mm_map_count(e.mm));
	l.n = 0;
	assert_int_equal(uvma_mprotect(e.mm, P(21), PG(1), RO), -ENOMEM);
	assert_int_equal(l.ev[l.n - 1].kind, UVMA_EVENT_SPLIT);
	assert_int_equal(l.ev[l.n - 1].reason, UVMA_REASON_MAP_COUNT);
	/* brk growing is an expansion */
	uvma_sys_set_max_map_count(e.sys, 65530);
	uvma_mm_set_brk(e.mm, P(100), P(100));
	assert_int_equal(uvma_brk(e.mm, P(101)), P(101));
	l.n = 0;
	assert_int_equal(uvma_brk(e.mm, P(102)), P(102));
	assert_int_equal(l.ev[0].kind, UVMA_EVENT_EXPAND);
	assert_true(l.ev[0].ok);
	assert_string_equal(l.call[0], "brk");
	/* the counters saw all of it, hook or not */
	uvma_mm_event_counts(e.mm, &c);
	assert_true(c.done[UVMA_EVENT_SPLIT] >= 2);
	assert_int_equal(c.refused[UVMA_EVENT_SPLIT], 1);
	assert_int_equal(c.reasons[UVMA_REASON_MAP_COUNT], 1);
	assert_int_equal(c.reasons[UVMA_REASON_ANON_VMA], 1);
	assert_string_equal(uvma_reason_name(UVMA_REASON_FORK_CHILD), "fork_child");
	assert_null(uvma_reason_name(UVMA_REASONS));
	env_teardown(&e);
}

/* ---- the matena policy ------------------------------------------------------- */

static void env_setup_policy(struct env *e, enum uvma_policy p, uint64_t swap_pages)
{
	struct uvma_sys_config cfg;

	uvma_sys_config_default(&cfg);
	cfg.policy = p;
	cfg.swap_pages = swap_pages;
	env_setup_cfg(e, &cfg);
}

/* Map and fault [0,4), map and fault [100,104), prepare, move [100,104) to 4: VMAs after. */
static struct uvma_page *pinned_page;

/*
 * Map and write [0,4) and [100,104), @prepare, move [100,104) to 4 with
 * @mflags: the VMAs after, or the negative result of a failed mremap.
 */
static long policy_move_flags(enum uvma_policy policy, void (*prepare)(struct env *e), int mflags)
{
	struct env e;
	long n;

	env_setup_policy(&e, policy, 16);
	map_written(&e, 0, 4);
	map_written(&e, 100, 4);
	if (prepare)
		prepare(&e);
	n = uvma_mremap(e.mm, P(100), PG(4), PG(4),
			UVMA_MREMAP_MAYMOVE | UVMA_MREMAP_FIXED | mflags, P(4));
	if (n == (long)P(4))
		n = (long)uvma_mm_map_count(e.mm);
	else	/* a failed relocating move changes nothing */
		assert_int_equal(vma_at(&e, 100).start, P(100));
	/* whatever happened, every page is still where its data is */
	for (unsigned int i = 0; n > 0 && i < 8; i++) {
		uint64_t v;

		assert_int_equal(uvma_read_value(e.mm, P(i), &v), 0);
	}
	if (pinned_page) {
		uvma_unpin_user_pages(e.sys, &pinned_page, 1, false);
		pinned_page = NULL;
	}
	env_teardown(&e);
	return n;
}

static unsigned long policy_move(enum uvma_policy policy, void (*prepare)(struct env *e))
{
	return (unsigned long)policy_move_flags(policy, prepare, 0);
}

static unsigned long matena_move(void (*prepare)(struct env *e))
{
	return policy_move(UVMA_POLICY_MATENA, prepare);
}

static unsigned long auto_move(void (*prepare)(struct env *e))
{
	return policy_move(UVMA_POLICY_AUTO, prepare);
}

static void prep_fork(struct env *e)
{
	int err;

	assert_non_null(uvma_fork(e->mm, &err));
}

static void prep_swap(struct env *e)
{
	assert_int_equal(uvma_reclaim(e->mm, P(101), PG(1)), 1);
}

static void prep_fork_exit(struct env *e)
{
	struct uvma_mm *child;
	int err;

	child = uvma_fork(e->mm, &err);
	assert_non_null(child);
	uvma_mm_exit(child);
}

static void prep_migrating(struct env *e)
{
	assert_true(uvma_migrate_start(e->mm, P(102)) > 0);
}

static void matena_eligibility(void **state)
{
	struct env e;

	(void)state;
	/* the plain case merges; each thing the RFC checks (or predates) keeps two VMAs */
	assert_int_equal(matena_move(NULL), 1);
	assert_int_equal(matena_move(prep_fork), 2);	/* the anon_vma has a child */
	/*
	 * The RFC looks at the present: once the child has exited, the anon_vma
	 * has no children and each page is mapped once again, so it relocates
	 * (the auto design would not: those folios were COW-shared once).
	 */
	assert_int_equal(matena_move(prep_fork_exit), 1);
	assert_int_equal(matena_move(prep_swap), 2);	/* a swap entry */
	assert_int_equal(matena_move(prep_migrating), 2);	/* a migration entry */
	/* the relocation is an event, and so is a refusal, with its reason */
	{
		struct log l = { 0 };
		struct uvma_mm *child;
		int err;

		env_setup_policy(&e, UVMA_POLICY_MATENA, 0);
		uvma_sys_set_event_hook(e.sys, log_event, &l);
		map_written(&e, 100, 4);
		l.n = 0;
		move_to(&e, 100, 2, 4);
		assert_int_equal(l.ev[0].kind, UVMA_EVENT_RELOCATE);
		assert_true(l.ev[0].ok);
		assert_int_equal(l.ev[0].target.start, P(4));
		child = uvma_fork(e.mm, &err);
		assert_non_null(child);
		l.n = 0;
		move_to(&e, 102, 2, 40);
		assert_int_equal(l.ev[0].kind, UVMA_EVENT_RELOCATE);
		assert_int_equal(l.ev[0].reason, UVMA_REASON_ANON_VMA_SHARED);
		env_teardown(&e);
	}
	/* a policy past the last one makes no machine */
	{
		struct uvma_sys_config cfg;

		uvma_sys_config_default(&cfg);
		cfg.policy = (enum uvma_policy)(UVMA_POLICY_IDEAL + 1);
		assert_null(uvma_sys_create(&cfg));
	}
	/* linux keeps two */
	env_setup_policy(&e, UVMA_POLICY_LINUX, 0);
	map_written(&e, 0, 4);
	map_written(&e, 100, 4);
	move_to(&e, 100, 4, 4);
	assert_int_equal(uvma_mm_map_count(e.mm), 2);
	env_teardown(&e);
}

static void prep_pin(struct env *e)
{
	/* held across the move; policy_move unpins it before the machine goes */
	assert_int_equal(uvma_pin_user_pages(e->mm, P(101), 1, true, &pinned_page), 1);
}

/* relocate: only flagged moves; the anon_vma's family and the folios' present state decide */
static void relocate_eligibility(void **state)
{
	const int f = UVMA_MREMAP_RELOCATE_ANON, must = UVMA_MREMAP_MUST_RELOCATE_ANON;

	(void)state;
	assert_int_equal(policy_move_flags(UVMA_POLICY_RELOCATE, NULL, 0), 2);	/* no flag */
	assert_int_equal(policy_move_flags(UVMA_POLICY_RELOCATE, NULL, f), 1);
	assert_int_equal(policy_move_flags(UVMA_POLICY_RELOCATE, NULL, must), 1);
	assert_int_equal(policy_move_flags(UVMA_POLICY_RELOCATE, prep_fork, f), 2);
	assert_int_equal(policy_move_flags(UVMA_POLICY_RELOCATE, prep_fork, must), -EFAULT);
	/* the series looks at the anon_vma's family now: a child that exited is gone */
	assert_int_equal(policy_move_flags(UVMA_POLICY_RELOCATE, prep_fork_exit, must), 1);
	assert_int_equal(policy_move_flags(UVMA_POLICY_RELOCATE, prep_pin, f), 2);
	assert_int_equal(policy_move_flags(UVMA_POLICY_RELOCATE, prep_pin, must), -EFAULT);
	assert_int_equal(policy_move_flags(UVMA_POLICY_RELOCATE, prep_migrating, must), -EFAULT);
	assert_int_equal(policy_move_flags(UVMA_POLICY_RELOCATE, prep_swap, must), 1);
	/* the host kernel does not know the flags */
	assert_int_equal(policy_move_flags(UVMA_POLICY_LINUX, NULL, f), -EINVAL);
	assert_int_equal(policy_move_flags(UVMA_POLICY_AUTO, NULL, must), -EINVAL);
}

/* auto: the folios' history decides, not the anon_vma's family */
static void auto_eligibility(void **state)
{
	(void)state;
	assert_int_equal(auto_move(NULL), 1);
	assert_int_equal(auto_move(prep_fork), 2);	/* shared with a live child */
	assert_int_equal(auto_move(prep_fork_exit), 2);	/* shared once: still blocks */
	assert_int_equal(auto_move(prep_swap), 1);	/* an unshared swap entry moves too */
	assert_int_equal(auto_move(prep_migrating), 1);	/* the migration ends first */
	assert_int_equal(auto_move(prep_pin), 1);	/* pins do not block auto */
	assert_int_equal(matena_move(prep_pin), 1);	/* nor the 2022 RFC */
}

static void prep_ksm(struct env *e)
{
	assert_int_equal(uvma_madvise(e->mm, P(0), PG(4), UVMA_MADV_MERGEABLE), 0);
	assert_int_equal(uvma_madvise(e->mm, P(100), PG(4), UVMA_MADV_MERGEABLE), 0);
	assert_true(uvma_ksm_scan(e->sys) >= 0);
	assert_true(uvma_ksm_scan(e->sys) >= 0);
}

/* ideal: nothing blocks; what is shared is copied first */
static void ideal_eligibility(void **state)
{
	struct env e;
	struct uvma_mm *child;
	struct uvma_page_info pi, ci;
	uint64_t v;
	int err;

	(void)state;
	assert_int_equal(policy_move(UVMA_POLICY_IDEAL, NULL), 1);
	assert_int_equal(policy_move(UVMA_POLICY_IDEAL, prep_fork), 1);
	assert_int_equal(policy_move(UVMA_POLICY_IDEAL, prep_fork_exit), 1);
	assert_int_equal(policy_move(UVMA_POLICY_IDEAL, prep_swap), 1);
	assert_int_equal(policy_move(UVMA_POLICY_IDEAL, prep_migrating), 1);
	assert_int_equal(policy_move(UVMA_POLICY_IDEAL, prep_pin), 1);
	assert_int_equal(policy_move(UVMA_POLICY_IDEAL, prep_ksm), 1);
	/* the MREMAP_RELOCATE_ANON flags are the 2025 series' own */
	assert_int_equal(policy_move_flags(UVMA_POLICY_IDEAL, NULL, UVMA_MREMAP_RELOCATE_ANON),
			 -EINVAL);

	/* with a live child: the parent's moved pages are copies, the child keeps the old */
	env_setup_policy(&e, UVMA_POLICY_IDEAL, 0);
	map_written(&e, 0, 4);
	map_written(&e, 100, 4);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	move_to(&e, 100, 4, 4);
	assert_int_equal(uvma_mm_map_count(e.mm), 1);
	assert_int_equal(uvma_page_info(e.mm, P(5), &pi), 0);
	assert_int_equal(uvma_page_info(child, P(101), &ci), 0);
	assert_true(pi.exclusive);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(ci.mapcount, 1);
	assert_int_equal(pi.index, P(5) >> 12);	/* the index of its new place */
	assert_int_equal(ci.index, P(101) >> 12);
	assert_int_equal(pi.value, ci.value);
	assert_int_equal(uvma_read_value(child, P(103), &v), 0);
	/* the fork child's rule: ideal merges a child's VMA with one that has no anon_vma */
	assert_int_equal(uvma_mmap(child, P(104), PG(2), RW, ANON_FIXED, NULL, 0), (long)P(104));
	assert_int_equal(vma_at(&e, 0).end, P(8));
	{
		struct uvma_vma_info vi;

		assert_int_equal(uvma_find_vma(child, P(104), &vi), 0);
		assert_int_equal(vi.start, P(100));
		assert_int_equal(vi.end, P(106));
	}
	/* mprotect splits and rejoins VMAs of different anon_vmas (the gap fill's) */
	map_written(&e, 8, 4);
	assert_int_equal(uvma_mm_map_count(e.mm), 1);
	assert_int_equal(uvma_mprotect(e.mm, P(7), PG(2), RO), 0);
	assert_int_equal(uvma_mm_map_count(e.mm), 3);
	assert_int_equal(uvma_mprotect(e.mm, P(7), PG(2), RW), 0);
	assert_int_equal(uvma_mm_map_count(e.mm), 1);
	uvma_mm_exit(child);
	env_teardown(&e);
}

/*
 * ideal, in a fork child: prev and middle share the child's anon_vma, next
 * has its own.  Making middle writable again merges all three; only next's
 * pages move to prev's anon_vma.  Middle's pages are still the parent's
 * (shared, naming the parent's anon_vma) and must stay so, or the parent's
 * mappings of them fall out of the reverse map (the checker runs after
 * every call in this build).
 */
static void ideal_shared_middle_stays(void **state)
{
	struct env e;
	struct uvma_mm *child;
	struct uvma_page_info pi;
	const char *why = NULL;
	int err;

	(void)state;
	env_setup_policy(&e, UVMA_POLICY_IDEAL, 0);
	map_written(&e, 0, 8);
	child = uvma_fork(e.mm, &err);
	assert_non_null(child);
	assert_int_equal(uvma_mprotect(child, P(4), PG(4), RO), 0);
	assert_int_equal(uvma_mmap(child, P(8), PG(4), RW, ANON_FIXED, NULL, 0), (long)P(8));
	assert_int_equal(uvma_touch(child, P(8), PG(4), true), 0);
	assert_int_equal(uvma_mm_map_count(child), 3);
	assert_int_equal(uvma_mprotect(child, P(4), PG(4), RW), 0);
	assert_int_equal(uvma_mm_map_count(child), 1);
	/* the middle page is still shared with the parent; next's moved */
	assert_int_equal(uvma_page_info(child, P(5), &pi), 0);
	assert_int_equal(pi.mapcount, 2);
	assert_int_equal(uvma_page_info(e.mm, P(5), &pi), 0);
	assert_int_equal(pi.mapcount, 2);
	if (uvma_sys_violations(e.sys, &why))
		fail_msg("%s", why);
	uvma_mm_exit(child);
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ideal_eligibility),
		cmocka_unit_test(ideal_shared_middle_stays),
		cmocka_unit_test(auto_eligibility),
		cmocka_unit_test(relocate_eligibility),
		cmocka_unit_test(matena_eligibility),
		cmocka_unit_test(events_say_why),
		cmocka_unit_test(new_range_merges),
		cmocka_unit_test(gap_fill_between_anon_vmas),
		cmocka_unit_test(mprotect_split_and_merge),
		cmocka_unit_test(account_flag_follows_faults),
		cmocka_unit_test(mprotect_stops_at_hole),
		cmocka_unit_test(munmap_spanning_vmas),
		cmocka_unit_test(mremap_moves),
		cmocka_unit_test(mremap_resize),
		cmocka_unit_test(mremap_multi_vma_move),
		cmocka_unit_test(self_adjacent_move),
		cmocka_unit_test(dontunmap),
		cmocka_unit_test(fork_child_rules),
		cmocka_unit_test(fork_dontcopy_wipeonfork_locked),
		cmocka_unit_test(anon_vma_reuse_on_fault),
		cmocka_unit_test(read_fault_has_no_anon_vma),
		cmocka_unit_test(guard_regions),
		cmocka_unit_test(mseal_rules),
		cmocka_unit_test(mbind_policies),
		cmocka_unit_test(madvise_flags_and_holes),
		cmocka_unit_test(mlock_and_mlockall),
		cmocka_unit_test(brk_heap),
		cmocka_unit_test(mmap_errors_and_noreplace),
		cmocka_unit_test(shared_anon_never_merges),
		cmocka_unit_test(placement_topdown_and_thp),
		cmocka_unit_test(existing_range_cases),
		cmocka_unit_test(exec_layout),
	};

	return cmocka_run_group_tests_name("merge and calls", tests, NULL, NULL);
}
