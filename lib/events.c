// SPDX-License-Identifier: MIT
/*
 * Merge tracing: every merge attempt, expansion and split becomes a typed
 * event (the ranges involved, the outcome, the first reason a merge was
 * refused), handed to the machine's hook and counted per address space.
 * The library formats nothing; `uvma run --trace` prints the events.
 */
#include "merge.h"

static const char *const kind_names[UVMA_EVENT_KINDS] = {
	[UVMA_EVENT_MERGE] = "merge",
	[UVMA_EVENT_EXPAND] = "expand",
	[UVMA_EVENT_SPLIT] = "split",
	[UVMA_EVENT_RELOCATE] = "relocate",
};

static const char *const reason_names[UVMA_REASONS] = {
	[UVMA_REASON_NONE] = "none",
	[UVMA_REASON_SPECIAL] = "special",
	[UVMA_REASON_NO_NEIGHBOUR] = "no_neighbour",
	[UVMA_REASON_INTERIOR] = "interior",
	[UVMA_REASON_FLAGS] = "flags",
	[UVMA_REASON_FILE] = "file",
	[UVMA_REASON_PGOFF] = "pgoff",
	[UVMA_REASON_ANON_VMA] = "anon_vma",
	[UVMA_REASON_FORK_CHILD] = "fork_child",
	[UVMA_REASON_POLICY] = "mempolicy",
	[UVMA_REASON_UFFD] = "uffd",
	[UVMA_REASON_ANON_NAME] = "anon_name",
	[UVMA_REASON_CLOSE] = "close",
	[UVMA_REASON_NOMEM] = "nomem",
	[UVMA_REASON_MAP_COUNT] = "map_count",
	[UVMA_REASON_VM_OPS] = "vm_ops",
	[UVMA_REASON_ANON_VMA_SHARED] = "anon_vma_shared",
	[UVMA_REASON_FOLIO_SHARED] = "folio_shared",
	[UVMA_REASON_LARGE_FOLIO] = "large_folio",
	[UVMA_REASON_KSM] = "ksm",
	[UVMA_REASON_NOT_PRESENT] = "not_present",
	[UVMA_REASON_FOLIO_PINNED] = "folio_pinned",
};

const char *uvma_event_kind_name(enum uvma_event_kind k)
{
	return (unsigned int)k < UVMA_EVENT_KINDS ? kind_names[k] : NULL;
}

const char *uvma_reason_name(enum uvma_reason r)
{
	return (unsigned int)r < UVMA_REASONS ? reason_names[r] : NULL;
}

void uvma_sys_set_event_hook(struct uvma_sys *sys, uvma_event_fn fn, void *ctx)
{
	/* never in the middle of a call: a merge looks at the hook when it starts and ends */
	SYS_GUARD(sys);

	sys->event_fn = fn;
	sys->event_ctx = ctx;
}

void uvma_mm_event_counts(const struct uvma_mm *mm, struct uvma_event_counts *c)
{
	MM_READ_GUARD(mm);
	*c = mm->events;
}

static struct uvma_range range_of(const struct uvma_vma *v)
{
	return v ? (struct uvma_range){ v->start, v->end } : (struct uvma_range){ 0, 0 };
}

static void event_count(struct uvma_mm *mm, enum uvma_event_kind kind, bool ok,
			enum uvma_reason reason)
{
	if (ok)
		mm->events.done[kind]++;
	else
		mm->events.refused[kind]++;
	mm->events.reasons[reason]++;
}

void mm_event(struct uvma_mm *mm, struct uvma_event *ev)
{
	if (!ev->call)
		ev->call = mm->call ? mm->call : "?";
	event_count(mm, ev->kind, ev->ok, ev->reason);
	if (mm->sys->event_fn)
		mm->sys->event_fn(mm->sys->event_ctx, mm, ev);
}

void vmg_event_begin(const struct vma_merge *vmg, struct uvma_event *ev, enum uvma_event_kind kind)
{
	const struct uvma_vma *next = vmg->next;

	/*
	 * The event is for the hook alone: without one only its kind is kept,
	 * for the counts (merges are on every mmap's path; so is this).
	 */
	ev->kind = kind;
	if (!vmg->mm->sys->event_fn)
		return;
	*ev = (struct uvma_event){ .kind = kind };
	if (!next && vmg->middle)
		next = vma_next_of(vmg->mm, vmg->middle);
	ev->range = (struct uvma_range){ vmg->start, vmg->end };
	ev->prev = range_of(vmg->prev);
	ev->middle = range_of(vmg->middle);
	ev->next = range_of(next);
}

void vmg_event_end(struct vma_merge *vmg, struct uvma_event *ev)
{
	bool ok = vmg->state == VMG_SUCCESS;
	enum uvma_reason reason = ok ? UVMA_REASON_NONE : vmg->reason;

	if (!ok && reason == UVMA_REASON_NONE)
		reason = UVMA_REASON_NO_NEIGHBOUR;
	if (!vmg->mm->sys->event_fn) {
		event_count(vmg->mm, ev->kind, ok, reason);
		return;
	}
	ev->ok = ok;
	ev->reason = reason;
	ev->target = ok ? range_of(vmg->target) : (struct uvma_range){ 0, 0 };
	mm_event(vmg->mm, ev);
}

void split_event(struct uvma_mm *mm, uint64_t start, uint64_t end, uint64_t addr,
		 const struct uvma_vma *new, enum uvma_reason why)
{
	struct uvma_event ev;

	if (!mm->sys->event_fn) {
		event_count(mm, UVMA_EVENT_SPLIT, why == UVMA_REASON_NONE, why);
		return;
	}
	ev = (struct uvma_event){
		.kind = UVMA_EVENT_SPLIT,
		.range = { start, end },
		.at = addr,
		.ok = why == UVMA_REASON_NONE,
		.reason = why,
		.target = range_of(new),
	};

	mm_event(mm, &ev);
}
