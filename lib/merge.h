/* SPDX-License-Identifier: MIT */
/*
 * The merge engine: one request struct per merge (spec section 3).
 */
#ifndef UVMA_MERGE_H
#define UVMA_MERGE_H

#include "internal.h"

enum vmg_state {
	VMG_START,
	VMG_NOMERGE,
	VMG_SUCCESS,
	VMG_ERROR_NOMEM,
};

/* Why a merge did not happen, for tracing (the first reason found): uvma.h's. */
#define merge_reason uvma_reason
#define MR_NONE UVMA_REASON_NONE
#define MR_SPECIAL UVMA_REASON_SPECIAL
#define MR_NO_NEIGHBOUR UVMA_REASON_NO_NEIGHBOUR
#define MR_INTERIOR UVMA_REASON_INTERIOR
#define MR_FLAGS UVMA_REASON_FLAGS
#define MR_FILE UVMA_REASON_FILE
#define MR_PGOFF UVMA_REASON_PGOFF
#define MR_ANON_VMA UVMA_REASON_ANON_VMA
#define MR_FORK_CHILD UVMA_REASON_FORK_CHILD
#define MR_POLICY UVMA_REASON_POLICY
#define MR_UFFD UVMA_REASON_UFFD
#define MR_ANON_NAME UVMA_REASON_ANON_NAME
#define MR_CLOSE UVMA_REASON_CLOSE
#define MR_NOMEM UVMA_REASON_NOMEM

struct vma_merge {
	/* inputs */
	struct uvma_mm *mm;
	struct uvma_vma *prev;
	struct uvma_vma *middle;	/* existing range: the VMA being modified */
	struct uvma_vma *next;
	uint64_t start, end, pgoff;
	uint64_t flags;
	struct uvma_file *file;
	struct anon_vma *anon_vma;
	uint32_t policy;
	uint32_t uffd;
	struct anon_name *anon_name;
	struct uvma_vma *copied_from;	/* mremap: the VMA being copied */
	bool just_expand;		/* brk: only prev is considered */
	bool expand_event;		/* mremap growing in place: traced as an expansion */
	bool relocatable;		/* matena, mremap: the pages to move were checked */
	struct anon_vma *absorbed[2];	/* matena: anon_vmas whose folios the target takes */
	/* ideal: ranges whose pages take the target's anon_vma, and the VMA mapping them now */
	struct {
		struct uvma_vma *vma;
		uint64_t start, end;
	} ideal[2];
	/* working */
	bool adjust_middle_start;
	bool adjust_next_start;
	bool remove_middle;
	bool remove_next;
	/* outcome */
	struct uvma_vma *target;
	enum vmg_state state;
	enum merge_reason reason;
};

/* A request for a new range [start, end) with the attributes of a fresh mapping. */
#define VMG_NEW(name, mm_, prev_, next_, start_, end_, flags_, file_, pgoff_)                       \
	struct vma_merge name = {                                                             \
		.mm = (mm_), .prev = (prev_), .next = (next_), .start = (start_), .end = (end_), \
		.flags = (flags_), .file = (file_), .pgoff = (pgoff_), .state = VMG_START,      \
	}

/* A request to change [start, end) of @middle; attributes copied from it. */
#define VMG_MODIFY(name, prev_, middle_, start_, end_)                                           \
	struct vma_merge name = {                                                             \
		.mm = (middle_)->mm, .prev = (prev_), .middle = (middle_), .start = (start_),    \
		.end = (end_), .flags = (middle_)->flags, .file = (middle_)->file,               \
		.anon_vma = (middle_)->anon_vma, .policy = (middle_)->policy,                  \
		.uffd = (middle_)->uffd, .anon_name = (middle_)->anon_name,                     \
		.pgoff = (middle_)->pgoff + (((start_) - (middle_)->start) >> PAGE_SHIFT),      \
		.state = VMG_START,                                                           \
	}

struct uvma_vma *vma_merge_new_range(struct vma_merge *vmg);
/* Would vma_merge_new_range() merge @vmg?  Changes nothing (relocate's cheap path). */
bool vma_merge_possible(struct vma_merge *vmg);
int vma_expand(struct vma_merge *vmg) __must_check;
struct uvma_vma *vma_merge_extend(struct uvma_vma *vma, uint64_t delta);

/*
 * Merge or split so that exactly [start, end) of @vmg->middle can take the
 * new attributes in @vmg.  Returns the VMA covering [start, end), or NULL
 * with *err set.
 */
struct uvma_vma *vma_modify(struct vma_merge *vmg, int *err);

/* vma_modify for a flag change; *flags receives the flags to set (with sticky bits). */
struct uvma_vma *vma_modify_flags(struct uvma_vma *prev, struct uvma_vma *vma, uint64_t start,
				  uint64_t end, uint64_t *flags, int *err);

/* The event of a merge request: begun before the engine changes @vmg. */
void vmg_event_begin(const struct vma_merge *vmg, struct uvma_event *ev, enum uvma_event_kind kind);
void vmg_event_end(struct vma_merge *vmg, struct uvma_event *ev);

#endif
