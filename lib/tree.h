/* SPDX-License-Identifier: MIT */
/*
 * The VMA tree: a B+tree of non-overlapping ranges keyed on their end.
 *
 * Leaves hold (end, entry) pairs in order; an internal node holds, for each
 * child but the last, a separator that is >= every key of that child and <
 * every key of the next.  Separators may be stale after an erase (they only
 * bound), so a lookup that finds nothing in its leaf moves on to the next one.
 *
 * One writer, any number of lock-free readers: with @cow set, a node that a
 * reader may see is never changed in place except for one aligned pointer
 * store of a child slot; a writer copies the node, edits the copy, publishes
 * it with a release store into its parent (or the root) and hands the old node
 * to the retire hook, which must not reuse it until readers are done with it.
 *
 * Nothing here fails once tree_preallocate() has succeeded: every node an
 * operation may need comes from the tree's reserve.
 */
#ifndef UVMA_TREE_H
#define UVMA_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TREE_FANOUT 16
#define TREE_MAX_HEIGHT 16

#ifdef UVMA_MT
#include <urcu-bp.h>
#endif

struct tree_node {
	uint8_t leaf;
	uint8_t n;
	uint64_t key[TREE_FANOUT];
	void *slot[TREE_FANOUT];
#ifdef UVMA_MT
	struct rcu_head rcu;	/* retired nodes wait here for readers to leave */
	struct uvma_sys *sys;
	struct tree_node *retired_next;	/* the batch a call retired (mt.c) */
	/*
	 * A whole number of cache lines, allocated on a line boundary (sys.c):
	 * a node shares no line with another, which the writer may be filling
	 * while readers search this one (the kernel's maple nodes are aligned
	 * to their size).
	 */
	uint8_t pad[24];
#endif
};
#ifdef UVMA_MT
_Static_assert(sizeof(struct tree_node) % 64 == 0, "a tree node is whole cache lines");
#endif

struct uvma_sys;

struct tree {
	struct tree_node *root;
#ifdef UVMA_MT
	/*
	 * Readers load the root; the writer's bookkeeping below changes at
	 * every call, the root only when the root node is replaced.
	 */
	char pad_root[64 - sizeof(struct tree_node *)];
#endif
	unsigned long count;
	unsigned int height;	/* 0: empty */
	bool cow;
	struct uvma_sys *sys;	/* allocator */
	struct tree_node *reserve; /* free nodes, chained through slot[0] */
	unsigned int nreserve;
	void (*retire)(void *ctx, struct tree_node *node);
	void *retire_ctx;
};

/* A position in the tree: the path from the root to one leaf slot. */
struct tree_cursor {
	const struct tree *tree;
	unsigned int depth;
	const struct tree_node *node[TREE_MAX_HEIGHT];
	unsigned int idx[TREE_MAX_HEIGHT];
};

void tree_init(struct tree *t, struct uvma_sys *sys);
void tree_destroy(struct tree *t);
/* Make sure the next @ops modifications cannot fail; -ENOMEM otherwise. */
int tree_preallocate(struct tree *t, unsigned int ops);

/* The first entry whose key is > @addr, or NULL; @cur (may be NULL) points at it. */
void *tree_find_after(const struct tree *t, uint64_t addr, struct tree_cursor *cur);
/* The same without a cursor: the common lookup. */
void *tree_lookup_after(const struct tree *t, uint64_t addr);
/* The entry the cursor is at, or NULL. */
void *tree_cursor_entry(const struct tree_cursor *cur);
/* Move the cursor to the next / previous entry; NULL at the end. */
void *tree_cursor_next(struct tree_cursor *cur);
void *tree_cursor_prev(struct tree_cursor *cur);
void *tree_first(const struct tree *t, struct tree_cursor *cur);
void *tree_last(const struct tree *t, struct tree_cursor *cur);

/* Insert @entry under @key (no entry with that key may exist). */
void tree_insert(struct tree *t, uint64_t key, void *entry);
/* Erase the entry stored under @key, which must be @entry. */
void tree_erase(struct tree *t, uint64_t key, void *entry);
/* Replace the entry under @key by @entry (same key, same place). */
void tree_replace(struct tree *t, uint64_t key, void *entry);
/*
 * Replace the entry under @key by @entry and insert @lo_entry under @lo_key,
 * which must sort just before @key (no key between): a split whose upper
 * part keeps the key, in one descent.
 */
void tree_replace_insert_before(struct tree *t, uint64_t key, void *entry, uint64_t lo_key,
				void *lo_entry);
/*
 * File @entry, stored under @old, under @new instead.  No other key may lie
 * between the two (a range whose end moves without crossing a neighbour).
 */
void tree_rekey(struct tree *t, uint64_t old, uint64_t new, void *entry);

/* Structural checks: order, counts, separators.  0 or -EUCLEAN. */
int tree_check(const struct tree *t, char *why, size_t size);
size_t tree_bytes(const struct tree *t);

#endif
