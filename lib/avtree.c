// SPDX-License-Identifier: MIT
/*
 * The anon_vma interval tree: the AVCs of one anon_vma ordered by the first
 * page offset of their VMA, each subtree knowing the highest last page
 * offset below it, so that the reverse map finds the VMAs that may map an
 * index in O(log n + hits) instead of visiting every VMA of the anon_vma.
 *
 * It is a treap (a binary search tree that is also a heap on a random
 * priority) rather than the kernel's augmented red-black tree: insertion and
 * removal are a few lines each and the expected depth is the same O(log n).
 * Keys are read from the VMA, so a VMA whose range or pgoff changes must not
 * be found under its old key (the kernel's vma_prepare/vma_complete take it
 * out and put it back).  Here the tree is kept lazily: a change turns the
 * anon_vma's tree into a plain list (left and right as prev and next), later
 * links and unlinks are list operations, and the next walk sorts it back into
 * a treap.  Replaying VMA changes, with no reverse-map walk between them,
 * then costs O(1) per change instead of an erase and an insert.
 */
#include "internal.h"

static uint64_t avc_first(const struct avc *a)
{
	return a->vma->pgoff;
}

static uint64_t avc_last(const struct avc *a)
{
	return a->vma->pgoff + vma_pages(a->vma) - 1;
}

/* The treap priority: a fixed pseudo-random function of the address (splitmix64). */
static uint64_t prio(const struct avc *a)
{
	uint64_t z = (uintptr_t)a + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool avc_less(const struct avc *a, const struct avc *b)
{
	if (avc_first(a) != avc_first(b))
		return avc_first(a) < avc_first(b);
	return (uintptr_t)a < (uintptr_t)b;
}

static void fix(struct avc *n)
{
	uint64_t last = avc_last(n);

	if (n->left && n->left->subtree_last > last)
		last = n->left->subtree_last;
	if (n->right && n->right->subtree_last > last)
		last = n->right->subtree_last;
	n->subtree_last = last;
}

static struct avc *rotate_right(struct avc *n)
{
	struct avc *l = n->left;

	n->left = l->right;
	l->right = n;
	fix(n);
	fix(l);
	return l;
}

static struct avc *rotate_left(struct avc *n)
{
	struct avc *r = n->right;

	n->right = r->left;
	r->left = n;
	fix(n);
	fix(r);
	return r;
}

static struct avc *insert(struct avc *t, struct avc *n)
{
	if (!t)
		return n;
	if (avc_less(n, t)) {
		t->left = insert(t->left, n);
		if (prio(t->left) > prio(t))
			return rotate_right(t);
	} else {
		t->right = insert(t->right, n);
		if (prio(t->right) > prio(t))
			return rotate_left(t);
	}
	fix(t);
	return t;
}

/* Join two treaps whose keys are all smaller in @a than in @b. */
static struct avc *join(struct avc *a, struct avc *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (prio(a) > prio(b)) {
		a->right = join(a->right, b);
		fix(a);
		return a;
	}
	b->left = join(a, b->left);
	fix(b);
	return b;
}

static struct avc *erase(struct avc *t, struct avc *n)
{
	UVMA_BUG_ON(!t);	/* not in the tree, or filed under a stale key */
	if (t == n)
		return join(n->left, n->right);
	if (avc_less(n, t))
		t->left = erase(t->left, n);
	else
		t->right = erase(t->right, n);
	fix(t);
	return t;
}

/* The treap in order, as a list through left (prev) and right (next) pushed on *head. */
static void flatten(struct avc *t, struct avc **head)
{
	while (t) {
		struct avc *l = t->left;

		flatten(t->right, head);
		t->left = NULL;
		t->right = *head;
		if (*head)
			(*head)->left = t;
		*head = t;
		t = l;
	}
}

static void make_unsorted(struct anon_vma *av)
{
	struct avc *head = NULL;

	if (av->unsorted)
		return;
	flatten(av->rb_root, &head);
	av->rb_root = head;
	av->unsorted = true;
}

/* Before a walk: the list back into a treap, under the keys the VMAs have now. */
static void sort(const struct anon_vma *cav)
{
	struct anon_vma *av = (struct anon_vma *)cav;	/* the order is a cache */
	struct avc *l = av->rb_root;

	if (!av->unsorted)
		return;
	av->rb_root = NULL;
	av->unsorted = false;
	while (l) {
		struct avc *next = l->right;

		l->left = l->right = NULL;
		fix(l);
		av->rb_root = insert(av->rb_root, l);
		l = next;
	}
}

void avtree_insert(struct anon_vma *av, struct avc *avc)
{
	avc->left = avc->right = NULL;
	av->navcs++;
	if (av->unsorted) {
		avc->right = av->rb_root;
		if (av->rb_root)
			av->rb_root->left = avc;
		av->rb_root = avc;
		return;
	}
	fix(avc);
	av->rb_root = insert(av->rb_root, avc);
}

void avtree_remove(struct anon_vma *av, struct avc *avc)
{
	av->navcs--;
	if (av->unsorted) {
		if (avc->left)
			avc->left->right = avc->right;
		else
			av->rb_root = avc->right;
		if (avc->right)
			avc->right->left = avc->left;
		return;
	}
	av->rb_root = erase(av->rb_root, avc);
}

static bool query(struct avc *t, uint64_t first, uint64_t last,
		  bool (*fn)(struct avc *avc, void *ctx), void *ctx)
{
	while (t) {
		if (t->subtree_last < first)
			return true;
		if (t->left && !query(t->left, first, last, fn, ctx))
			return false;
		if (avc_first(t) > last)
			return true;
		if (avc_last(t) >= first && !fn(t, ctx))
			return false;
		t = t->right;
	}
	return true;
}

bool avtree_query(const struct anon_vma *av, uint64_t first, uint64_t last,
		  bool (*fn)(struct avc *avc, void *ctx), void *ctx)
{
	sort(av);
	return query(av->rb_root, first, last, fn, ctx);
}

bool avtree_for_each(const struct anon_vma *av, bool (*fn)(struct avc *avc, void *ctx), void *ctx)
{
	sort(av);
	return query(av->rb_root, 0, UINT64_MAX, fn, ctx);
}

/* Is @avc in @av's tree, under its VMA's current key? */
bool avtree_contains(const struct anon_vma *av, const struct avc *avc)
{
	const struct avc *t;

	sort(av);
	t = av->rb_root;

	while (t && t != avc)
		t = avc_less(avc, t) ? t->left : t->right;
	return t == avc;
}

/* Order, heap and subtree_last of the whole tree; returns the node count or -1. */
static long check(const struct avc *t, const struct avc **prev)
{
	long l, r;
	uint64_t last;

	if (!t)
		return 0;
	l = check(t->left, prev);
	if (l < 0 || (*prev && !avc_less(*prev, t)))
		return -1;
	*prev = t;
	r = check(t->right, prev);
	if (r < 0 || (t->left && prio(t->left) > prio(t)) || (t->right && prio(t->right) > prio(t)))
		return -1;
	last = avc_last(t);
	if (t->left && t->left->subtree_last > last)
		last = t->left->subtree_last;
	if (t->right && t->right->subtree_last > last)
		last = t->right->subtree_last;
	if (last != t->subtree_last)
		return -1;
	return l + r + 1;
}

bool avtree_valid(const struct anon_vma *av)
{
	const struct avc *prev = NULL;

	sort(av);
	return check(av->rb_root, &prev) == (long)av->navcs;
}

/*
 * The VMA's range or pgoff is about to change: every tree it is in stops
 * being sorted (a list until the next walk sorts it under the new keys).
 */
/*
 * The range or page offset of @vma changes between these two calls.  An
 * rmap walk reads them, so in the multi-threaded build the page lock is held
 * from one call to the other; the VMA itself is write-locked before.
 */
void anon_vma_pre_update(struct uvma_vma *vma)
{
	vma_start_write(vma);
	page_lock(vma->mm->sys);
	for (struct list_head *p = vma->anon_vma_chain.next; p != &vma->anon_vma_chain; p = p->next)
		make_unsorted(container_of(p, struct avc, same_vma)->anon_vma);
}

void anon_vma_post_update(struct uvma_vma *vma)
{
	/* the keys are read at the next walk */
	page_unlock(vma->mm->sys);
}
