/* SPDX-License-Identifier: MIT */
/*
 * KSM's objects (ksm.c), shared with the reverse-map walk.
 */
#ifndef UVMA_KSM_H
#define UVMA_KSM_H

#include "internal.h"

/*
 * One page of a VM_MERGEABLE VMA that KSM has looked at, keyed by its
 * address space and address, as the kernel's rmap_item is.  While the page
 * is merged the item sits on its stable node and pins the anon_vma it was
 * merged under: the reverse map of a KSM folio goes through these.
 */
struct ksm_item {
	struct uvma_mm *mm;
	uint64_t addr;
	uint64_t checksum;	/* the content seen at the last pass */
	bool checksum_valid;
	unsigned long pass;	/* the last pass that saw the page */
	struct anon_vma *anon_vma;	/* while stable: a reference */
	struct ksm_stable *stable;
	struct list_head stable_node;	/* stable->items */
	struct ksm_item *hnext;		/* hash chain */
};

/* A KSM folio and the pages merged into it. */
struct ksm_stable {
	struct uvma_folio *folio;
	uint64_t content;
	struct list_head items;
	struct list_head node;	/* ksm_state.stables */
};

struct ksm_state {
	struct ksm_item **hash;
	unsigned long nbuckets, nitems;
	struct list_head stables;
	unsigned long passes;
};

#endif
