// SPDX-License-Identifier: MIT
/*
 * B+tree of VMAs keyed on vm_end; see tree.h for the rules readers rely on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "tree.h"

#define TREE_MIN (TREE_FANOUT / 4)
#define TREE_RESERVE_MAX 512

static inline void *load_ptr(void *const *p)
{
	return __atomic_load_n((void **)p, __ATOMIC_ACQUIRE);
}

static inline void store_ptr(void **p, void *v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

void tree_init(struct tree *t, struct uvma_sys *sys)
{
	memset(t, 0, sizeof(*t));
	t->sys = sys;
}

static void node_put_reserve(struct tree *t, struct tree_node *n)
{
	if (t->nreserve >= TREE_RESERVE_MAX) {
		uvma_free(t->sys, n, sizeof(*n));
		return;
	}
	n->slot[0] = t->reserve;
	t->reserve = n;
	t->nreserve++;
}

/* A node that readers may still hold is done with. */
static void node_release(struct tree *t, struct tree_node *n)
{
	if (t->cow && t->retire)
		t->retire(t->retire_ctx, n);
	else
		node_put_reserve(t, n);
}

static void destroy_subtree(struct tree *t, struct tree_node *n)
{
	if (!n->leaf)
		for (unsigned int i = 0; i < n->n; i++)
			destroy_subtree(t, n->slot[i]);
	uvma_free(t->sys, n, sizeof(*n));
}

void tree_destroy(struct tree *t)
{
	if (t->root)
		destroy_subtree(t, t->root);
	while (t->reserve) {
		struct tree_node *n = t->reserve;

		t->reserve = n->slot[0];
		uvma_free(t->sys, n, sizeof(*n));
	}
	t->root = NULL;
	t->nreserve = 0;
	t->count = 0;
	t->height = 0;
}

int tree_preallocate(struct tree *t, unsigned int ops)
{
	unsigned int need = ops * (2 * t->height + 4);

	while (t->nreserve < need) {
		struct tree_node *n = uvma_alloc(t->sys, sizeof(*n));

		if (!n)
			return -ENOMEM;
		n->slot[0] = t->reserve;
		t->reserve = n;
		t->nreserve++;
	}
	return 0;
}

static struct tree_node *node_new(struct tree *t, bool leaf)
{
	struct tree_node *n = t->reserve;

	/* tree_preallocate() guarantees this; running dry is a bug in the caller. */
	UVMA_BUG_ON(!n);
	t->reserve = n->slot[0];
	t->nreserve--;
	n->leaf = leaf;
	n->n = 0;
	return n;
}

/* The node to edit: the node itself, or in cow mode a private copy. */
static struct tree_node *node_writable(struct tree *t, struct tree_node *n)
{
	struct tree_node *w;

	if (!t->cow)
		return n;
	w = node_new(t, n->leaf);
	memcpy(w, n, sizeof(*w));
	node_release(t, n);
	return w;
}

/*
 * Every key slot past the node's last separator (internal nodes: the last
 * child's bound too) holds UINT64_MAX, so that a search is a fixed-size
 * binary search over all TREE_FANOUT slots: five compare-and-select steps,
 * no data-dependent branch.
 */
_Static_assert(TREE_FANOUT == 16, "the node search below is written for 16 keys");

static void node_pad(struct tree_node *n)
{
	unsigned int from = n->leaf ? n->n : (n->n ? n->n - 1u : 0u);

	for (unsigned int i = from; i < TREE_FANOUT; i++)
		n->key[i] = UINT64_MAX;
}

/*
 * The lock-free lookup of the multi-threaded build asks for all of a node's
 * lines as it reaches the node: a node a writer has just replaced is in
 * no cache of the reader's CPU, and its search reads two or three of its
 * lines one after the other (the keys of the binary search, then the
 * slot); asked for together they arrive in about one miss's time.
 */
static inline void node_prefetch(const struct tree_node *n)
{
#ifdef UVMA_MT
	const char *p = (const char *)n;

	for (size_t off = 0; off < offsetof(struct tree_node, slot) + sizeof(n->slot); off += 64)
		__builtin_prefetch(p + off);
#else
	(void)n;
#endif
}

/* How many keys are <= k. */
static inline unsigned int count_upto(const struct tree_node *n, uint64_t k)
{
	const uint64_t *key = n->key;
	unsigned int p = 0;

	p += key[p + 7] <= k ? 8 : 0;
	p += key[p + 3] <= k ? 4 : 0;
	p += key[p + 1] <= k ? 2 : 0;
	p += key[p] <= k ? 1 : 0;
	return p + (key[p] <= k);
}

/* How many keys are < k. */
static inline unsigned int count_below(const struct tree_node *n, uint64_t k)
{
	return k ? count_upto(n, k - 1) : 0;
}

/* Child index in an internal node for key @k: the first separator >= k. */
static inline unsigned int child_index(const struct tree_node *n, uint64_t k)
{
	unsigned int i = count_below(n, k);

	return i < n->n ? i : n->n - 1u;
}

/* ---- readers -------------------------------------------------------------- */

/* Descend from @n (at depth - 1) to its first (or, with @last, its last) entry. */
static void *cursor_edge(struct tree_cursor *cur, const struct tree_node *n, bool last)
{
	while (!n->leaf) {
		unsigned int i = last ? n->n - 1u : 0;

		cur->idx[cur->depth - 1] = i;
		n = load_ptr(&n->slot[i]);
		cur->node[cur->depth] = n;
		cur->depth++;
	}
	cur->idx[cur->depth - 1] = last ? n->n - 1u : 0;
	return n->n ? load_ptr(&n->slot[cur->idx[cur->depth - 1]]) : NULL;
}

/* Move one entry forward (@dir 1) or back (@dir -1); NULL past either end. */
static void *cursor_step(struct tree_cursor *cur, int dir)
{
	int d = (int)cur->depth - 1;

	if (d < 0)
		return NULL;
	for (;;) {
		const struct tree_node *n = cur->node[d];
		bool can = dir > 0 ? cur->idx[d] + 1 < n->n : cur->idx[d] > 0;

		if (can) {
			cur->idx[d] = (unsigned int)((int)cur->idx[d] + dir);
			if (n->leaf)
				return load_ptr(&n->slot[cur->idx[d]]);
			cur->depth = (unsigned int)d + 1;
			cur->node[cur->depth] = load_ptr(&n->slot[cur->idx[d]]);
			cur->depth++;
			return cursor_edge(cur, cur->node[cur->depth - 1], dir < 0);
		}
		if (d == 0) {
			cur->depth = 0;
			return NULL;
		}
		d--;
	}
}

void *tree_cursor_entry(const struct tree_cursor *cur)
{
	const struct tree_node *n;

	if (!cur->depth)
		return NULL;
	n = cur->node[cur->depth - 1];
	return cur->idx[cur->depth - 1] < n->n ? load_ptr(&n->slot[cur->idx[cur->depth - 1]]) : NULL;
}

void *tree_cursor_next(struct tree_cursor *cur)
{
	return cursor_step(cur, 1);
}

void *tree_cursor_prev(struct tree_cursor *cur)
{
	return cursor_step(cur, -1);
}

void *tree_first(const struct tree *t, struct tree_cursor *cur)
{
	const struct tree_node *root = load_ptr((void *const *)&t->root);

	cur->tree = t;
	cur->depth = 0;
	if (!root)
		return NULL;
	cur->node[0] = root;
	cur->depth = 1;
	return cursor_edge(cur, root, false);
}

void *tree_last(const struct tree *t, struct tree_cursor *cur)
{
	const struct tree_node *root = load_ptr((void *const *)&t->root);

	cur->tree = t;
	cur->depth = 0;
	if (!root)
		return NULL;
	cur->node[0] = root;
	cur->depth = 1;
	return cursor_edge(cur, root, true);
}

/* tree_find_after without a cursor: the common lookup, nothing recorded. */
void *tree_lookup_after(const struct tree *t, uint64_t addr)
{
	const struct tree_node *n = load_ptr((void *const *)&t->root);
	bool rightmost = true;
	unsigned int i;

	if (!n)
		return NULL;
	node_prefetch(n);
	while (!n->leaf) {
		i = count_upto(n, addr);
		if (i + 1u < n->n)
			rightmost = false;
		else
			i = n->n - 1u;
		n = load_ptr(&n->slot[i]);
		node_prefetch(n);
	}
	i = count_upto(n, addr);
	if (i < n->n)
		return load_ptr(&n->slot[i]);
	/* nothing ends above addr: the last leaf has no separator to be stale */
	if (rightmost)
		return NULL;
	/* a stale separator sent us to a leaf that ends below addr */
	return tree_find_after(t, addr, NULL);
}

void *tree_find_after(const struct tree *t, uint64_t addr, struct tree_cursor *cur)
{
	struct tree_cursor local;
	const struct tree_node *n = load_ptr((void *const *)&t->root);
	unsigned int i;

	if (!cur)
		cur = &local;
	cur->tree = t;
	cur->depth = 0;
	if (!n)
		return NULL;
	for (;;) {
		cur->node[cur->depth] = n;
		if (n->leaf)
			break;
		/* first child whose separator is > addr, else the last */
		i = count_upto(n, addr);
		if (i >= n->n)
			i = n->n - 1u;
		cur->idx[cur->depth++] = i;
		n = load_ptr(&n->slot[i]);
	}
	cur->depth++;
	i = count_upto(n, addr);
	if (i < n->n) {
		cur->idx[cur->depth - 1] = i;
		return load_ptr(&n->slot[i]);
	}
	/* Stale separator: the answer, if any, starts the next leaf. */
	cur->idx[cur->depth - 1] = n->n ? n->n - 1 : 0;
	if (!n->n) {
		cur->depth = 0;
		return NULL;
	}
	return tree_cursor_next(cur);
}

/* ---- writer ----------------------------------------------------------------- */

struct tree_path {
	unsigned int depth;
	struct tree_node *node[TREE_MAX_HEIGHT];
	unsigned int idx[TREE_MAX_HEIGHT]; /* child index taken at each internal level */
};

static struct tree_node *descend(struct tree *t, uint64_t k, struct tree_path *p)
{
	struct tree_node *n = t->root;

	p->depth = 0;
	while (!n->leaf) {
		unsigned int i = child_index(n, k);

		p->node[p->depth] = n;
		p->idx[p->depth] = i;
		p->depth++;
		n = n->slot[i];
	}
	p->node[p->depth] = n;
	return n;
}

/* Put @n in place of the node at @level of @p (in its parent, or as root). */
static void publish(struct tree *t, struct tree_path *p, unsigned int level, struct tree_node *n)
{
	if (level == 0)
		store_ptr((void **)&t->root, n);
	else
		store_ptr(&p->node[level - 1]->slot[p->idx[level - 1]], n);
}

static void node_insert_at(struct tree_node *n, unsigned int pos, uint64_t key, void *slot)
{
	memmove(&n->key[pos + 1], &n->key[pos], (n->n - pos) * sizeof(n->key[0]));
	memmove(&n->slot[pos + 1], &n->slot[pos], (n->n - pos) * sizeof(n->slot[0]));
	n->key[pos] = key;
	n->slot[pos] = slot;
	n->n++;
	/* the shift moved a padding key (or, at the end, the last bound) into place */
}

static void node_remove_at(struct tree_node *n, unsigned int pos)
{
	memmove(&n->key[pos], &n->key[pos + 1], (n->n - pos - 1) * sizeof(n->key[0]));
	memmove(&n->slot[pos], &n->slot[pos + 1], (n->n - pos - 1) * sizeof(n->slot[0]));
	n->n--;
	/* a leaf's old last key is left behind; an internal node's slot there is padding already */
	n->key[n->n] = UINT64_MAX;
}

/*
 * Insert (key, slot) at @pos of the node at @level, splitting upwards as
 * needed.  For internal levels, (key, slot) is (separator, right sibling)
 * placed after the child at pos - 1, whose separator becomes @key.
 */
static void insert_level(struct tree *t, struct tree_path *p, unsigned int level,
			 unsigned int pos, uint64_t key, void *slot, struct tree_node *replace_left)
{
	struct tree_node *orig = p->node[level];
	struct tree_node *n, *l, *r;
	uint64_t *keys, sep;
	void **slots;
	unsigned int total, nl, i;
	uint64_t kbuf[TREE_FANOUT + 1];
	void *sbuf[TREE_FANOUT + 1];

	if (orig->n < TREE_FANOUT) {
		n = node_writable(t, orig);
		if (replace_left)
			n->slot[pos - 1] = replace_left;
		if (!n->leaf) {
			/* the old bound of child pos-1 moves to the new right child */
			node_insert_at(n, pos, n->key[pos - 1], slot);
			n->key[pos - 1] = key;
		} else {
			node_insert_at(n, pos, key, slot);
		}
		if (n != orig)
			publish(t, p, level, n);
		return;
	}

	/* Full: lay out the n+1 entries, then cut them in two. */
	keys = kbuf;
	slots = sbuf;
	memcpy(keys, orig->key, orig->n * sizeof(keys[0]));
	memcpy(slots, orig->slot, orig->n * sizeof(slots[0]));
	if (replace_left)
		slots[pos - 1] = replace_left;
	memmove(&keys[pos + 1], &keys[pos], (orig->n - pos) * sizeof(keys[0]));
	memmove(&slots[pos + 1], &slots[pos], (orig->n - pos) * sizeof(slots[0]));
	if (orig->leaf) {
		keys[pos] = key;
	} else {
		keys[pos] = keys[pos - 1];
		keys[pos - 1] = key;
	}
	slots[pos] = slot;
	total = orig->n + 1;
	nl = (total + 1) / 2;

	l = t->cow ? node_new(t, orig->leaf) : orig;
	r = node_new(t, orig->leaf);
	l->leaf = r->leaf = orig->leaf;
	for (i = 0; i < nl; i++) {
		l->key[i] = keys[i];
		l->slot[i] = slots[i];
	}
	l->n = nl;
	for (i = nl; i < total; i++) {
		r->key[i - nl] = keys[i];
		r->slot[i - nl] = slots[i];
	}
	r->n = total - nl;
	sep = l->key[nl - 1];
	node_pad(l);
	node_pad(r);
	if (t->cow)
		node_release(t, orig);

	if (level == 0) {
		struct tree_node *root = node_new(t, false);

		root->key[0] = sep;
		root->slot[0] = l;
		root->key[1] = UINT64_MAX;
		root->slot[1] = r;
		root->n = 2;
		node_pad(root);
		t->height++;
		store_ptr((void **)&t->root, root);
		return;
	}
	/* The parent gets (sep, r) after l, and l in place of orig. */
	insert_level(t, p, level - 1, p->idx[level - 1] + 1, sep, r, l != orig ? l : NULL);
}

void tree_insert(struct tree *t, uint64_t key, void *entry)
{
	struct tree_path p;
	struct tree_node *leaf;
	unsigned int pos = 0;

	if (!t->root) {
		leaf = node_new(t, true);
		leaf->key[0] = key;
		leaf->slot[0] = entry;
		leaf->n = 1;
		node_pad(leaf);
		t->height = 1;
		t->count = 1;
		store_ptr((void **)&t->root, leaf);
		return;
	}
	leaf = descend(t, key, &p);
	pos = count_below(leaf, key);
	UVMA_BUG_ON(pos < leaf->n && leaf->key[pos] == key);
	insert_level(t, &p, p.depth, pos, key, entry, NULL);
	t->count++;
}

static unsigned int leaf_find(const struct tree_node *leaf, uint64_t key, void *entry)
{
	unsigned int i = count_below(leaf, key);

	UVMA_BUG_ON(i >= leaf->n || leaf->key[i] != key || leaf->slot[i] != entry);
	return i;
}

void tree_replace(struct tree *t, uint64_t key, void *entry)
{
	struct tree_path p;
	struct tree_node *leaf = descend(t, key, &p);
	unsigned int i = count_below(leaf, key);

	UVMA_BUG_ON(i >= leaf->n || leaf->key[i] != key);
	store_ptr(&leaf->slot[i], entry);
}

/*
 * A key that moves without passing another keeps its place in its leaf, so
 * without lock-free readers it is rewritten there.  Only the first and last
 * key of a leaf can meet a separator above it: the nearest ancestor in which
 * the leaf's subtree has a left (right) sibling holds the bound.
 *
 *            [ s0 | s1 | -- ]          old was the last key under s1 and
 *             /     |     \             new > s1: s1 = new.  Every key of
 *      [..]   [.. old]   [..]          the next child is > new, so the
 *                                      raised separator still divides.
 *
 * Moving down, a stale separator left of the leaf (one that only bounds,
 * after an erase) may be >= new: it becomes new - 1, still >= every key of
 * its child since the key before new is smaller.  Readers in cow mode may be
 * reading the nodes: erase and insert.
 */
void tree_rekey(struct tree *t, uint64_t old, uint64_t new, void *entry)
{
	struct tree_path p;
	struct tree_node *leaf;
	unsigned int pos, level;

	if (t->cow) {
		tree_erase(t, old, entry);
		tree_insert(t, new, entry);
		return;
	}
	leaf = descend(t, old, &p);
	pos = leaf_find(leaf, old, entry);
	leaf->key[pos] = new;
	if (new > old ? pos + 1u < leaf->n : pos > 0)
		return;
	for (level = p.depth; level > 0; level--) {
		struct tree_node *parent = p.node[level - 1];
		unsigned int idx = p.idx[level - 1];

		if (new > old && idx + 1u < parent->n) {
			if (parent->key[idx] < new)
				parent->key[idx] = new;
			return;
		}
		if (new < old && idx > 0) {
			if (parent->key[idx - 1] >= new)
				parent->key[idx - 1] = new - 1;
			return;
		}
	}
}

void tree_replace_insert_before(struct tree *t, uint64_t key, void *entry, uint64_t lo_key,
				void *lo_entry)
{
	struct tree_path p;
	struct tree_node *leaf = descend(t, key, &p);
	unsigned int pos = count_below(leaf, key);

	UVMA_BUG_ON(pos >= leaf->n || leaf->key[pos] != key || lo_key >= key ||
		    (pos && leaf->key[pos - 1] >= lo_key));
	/* one aligned store, as tree_replace: readers see the old entry or the new */
	store_ptr(&leaf->slot[pos], entry);
	if (!pos) {
		/* a stale separator on the left may claim lo_key: let the descent decide */
		tree_insert(t, lo_key, lo_entry);
		return;
	}
	insert_level(t, &p, p.depth, pos, lo_key, lo_entry, NULL);
	t->count++;
}

/* Merge nodes @a and @b (b right of a, separated by @sep) into a fresh node. */
static struct tree_node *node_merge(struct tree *t, struct tree_node *a, struct tree_node *b,
				    uint64_t sep)
{
	struct tree_node *m = node_new(t, a->leaf);

	memcpy(m->key, a->key, a->n * sizeof(m->key[0]));
	memcpy(m->slot, a->slot, a->n * sizeof(m->slot[0]));
	if (!a->leaf)
		m->key[a->n - 1] = sep;
	memcpy(&m->key[a->n], b->key, b->n * sizeof(m->key[0]));
	memcpy(&m->slot[a->n], b->slot, b->n * sizeof(m->slot[0]));
	m->n = a->n + b->n;
	node_pad(m);
	return m;
}

void tree_erase(struct tree *t, uint64_t key, void *entry)
{
	struct tree_path p;
	struct tree_node *leaf = descend(t, key, &p);
	struct tree_node *n;
	unsigned int level = p.depth;

	n = node_writable(t, leaf);
	node_remove_at(n, leaf_find(n, key, entry));
	t->count--;

	for (;;) {
		struct tree_node *parent, *sib, *pw, *m;
		unsigned int pidx, a;

		if (level == 0) {
			if (n->n == 0) {
				node_put_reserve(t, n);
				n = NULL;
				t->height = 0;
			} else if (!n->leaf && n->n == 1) {
				struct tree_node *child = n->slot[0];

				node_put_reserve(t, n);
				n = child;
				t->height--;
			}
			store_ptr((void **)&t->root, n);
			return;
		}
		parent = p.node[level - 1];
		pidx = p.idx[level - 1];
		if (n->n == 0) {
			/* Drop the empty child from its parent. */
			node_put_reserve(t, n);
			pw = node_writable(t, parent);
			if (pidx + 1 == pw->n && pidx > 0)
				pw->key[pidx - 1] = pw->key[pidx];
			node_remove_at(pw, pidx);
			n = pw;
			level--;
			continue;
		}
		if (n->n < TREE_MIN && parent->n > 1) {
			a = pidx + 1 < parent->n ? pidx : pidx - 1;
			sib = parent->slot[a == pidx ? pidx + 1 : pidx - 1];
			if (n->n + sib->n <= TREE_FANOUT) {
				m = a == pidx ? node_merge(t, n, sib, parent->key[a])
					      : node_merge(t, sib, n, parent->key[a]);
				node_put_reserve(t, n);
				node_release(t, sib);
				pw = node_writable(t, parent);
				pw->slot[a] = m;
				/* m takes the bound of the right one of the pair */
				pw->key[a] = pw->key[a + 1];
				node_remove_at(pw, a + 1);
				n = pw;
				level--;
				continue;
			}
		}
		if (n != p.node[level])
			publish(t, &p, level, n);
		return;
	}
}

/* ---- checks -------------------------------------------------------------- */

static int check_node(const struct tree_node *n, unsigned int depth, unsigned int height,
		      uint64_t lo, uint64_t hi, unsigned long *count, char *why, size_t size)
{
	if (n->n == 0 || n->n > TREE_FANOUT) {
		snprintf(why, size, "tree node with %u entries", n->n);
		return -EUCLEAN;
	}
	if (n->leaf != (depth == (unsigned int)height)) {
		snprintf(why, size, "tree leaf at depth %u of %u", depth, height);
		return -EUCLEAN;
	}
	for (unsigned int i = n->leaf ? n->n : n->n - 1u; i < TREE_FANOUT; i++) {
		if (n->key[i] != UINT64_MAX) {
			snprintf(why, size, "tree node key slot %u of %u not padded", i, n->n);
			return -EUCLEAN;
		}
	}
	for (unsigned int i = 0; i < n->n; i++) {
		uint64_t clo = i ? n->key[i - 1] : lo;
		uint64_t chi = (i + 1 < n->n) ? n->key[i] : hi;

		if (n->leaf) {
			if (n->key[i] <= lo || n->key[i] > hi || (i && n->key[i] <= n->key[i - 1])) {
				snprintf(why, size, "tree key %#llx out of order",
					 (unsigned long long)n->key[i]);
				return -EUCLEAN;
			}
			(*count)++;
			continue;
		}
		if (i + 1 < n->n && (n->key[i] <= clo || n->key[i] > hi)) {
			snprintf(why, size, "tree separator %#llx out of order",
				 (unsigned long long)n->key[i]);
			return -EUCLEAN;
		}
		if (check_node(n->slot[i], depth + 1, height, clo, chi, count, why, size))
			return -EUCLEAN;
	}
	return 0;
}

int tree_check(const struct tree *t, char *why, size_t size)
{
	unsigned long count = 0;

	if (!t->root) {
		if (t->count || t->height) {
			snprintf(why, size, "empty tree with count %lu", t->count);
			return -EUCLEAN;
		}
		return 0;
	}
	if (check_node(t->root, 1, t->height, 0, UINT64_MAX, &count, why, size))
		return -EUCLEAN;
	if (count != t->count) {
		snprintf(why, size, "tree holds %lu entries, count says %lu", count, t->count);
		return -EUCLEAN;
	}
	return 0;
}

static size_t subtree_bytes(const struct tree_node *n)
{
	size_t b = sizeof(*n);

	if (!n->leaf)
		for (unsigned int i = 0; i < n->n; i++)
			b += subtree_bytes(n->slot[i]);
	return b;
}

size_t tree_bytes(const struct tree *t)
{
	return t->root ? subtree_bytes(t->root) : 0;
}
