/*
 * seq_tree.c: the AVL tree behind seq_tree.h. No parent pointers: insert and
 * remove record the links they walk down (at most SEQ_TREE_MAX_HEIGHT) and
 * rebalance back up them; a link is the parent's child pointer, or the root.
 * A root of height 0 marks the list form (see seq_tree.h).
 */
#include "sensor/flow/seq_tree.h"

#include <stdbool.h>

/* Serial-number order (RFC 1982), so that wrap at 2^32 is invisible. */
static int seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static unsigned height(const struct seq_tree_node *n)
{
	return n ? n->height : 0;
}

static void fix_height(struct seq_tree_node *n)
{
	unsigned l = height(n->left), r = height(n->right);
	n->height = (uint8_t)(1 + (l > r ? l : r));
}

/* A node's child link on one side: 0 left, 1 right (as libavl writes its rotations once for both sides). */
static struct seq_tree_node **child(struct seq_tree_node *n, int side)
{
	return side ? &n->right : &n->left;
}

/* Lifts n's child on `side` into n's place; returns it. */
static struct seq_tree_node *rotate(struct seq_tree_node *n, int side)
{
	struct seq_tree_node *up = *child(n, side);
	*child(n, side) = *child(up, !side);
	*child(up, !side) = n;
	fix_height(n);
	fix_height(up);
	return up;
}

/*
 * Restores the AVL property at *link, whose subtrees are balanced and differ in
 * height by at most 2. Returns whether the subtree's height changed: when it did
 * not, nothing above it needs looking at.
 */
static bool rebalance(struct seq_tree_node **link)
{
	struct seq_tree_node *n = *link;
	unsigned before = n->height;
	int balance = (int)height(n->left) - (int)height(n->right);
	if (balance > 1 || balance < -1) {
		int heavy = balance < 0; /* the taller side */
		struct seq_tree_node **h = child(n, heavy);
		if (height(*child(*h, heavy)) < height(*child(*h, !heavy))) /* zig-zag: straighten it first */
			*h = rotate(*h, !heavy);
		*link = rotate(n, heavy);
	} else {
		fix_height(n);
	}
	return (*link)->height != before;
}

/* Rebalances the recorded links from the deepest up, as far as heights change. */
static void rebalance_path(struct seq_tree_node **path[], unsigned depth)
{
	while (depth > 0 && rebalance(path[--depth]))
		;
}

static bool is_list(const struct seq_tree *t)
{
	return t->root && t->root->height == 0;
}

/* The balanced tree of the first `n` nodes of *list (sorted, through `right`), which it consumes. */
static struct seq_tree_node *build(struct seq_tree_node **list, size_t n)
{
	if (n == 0)
		return NULL;
	struct seq_tree_node *left = build(list, n / 2);
	struct seq_tree_node *root = *list;
	*list = root->right;
	root->left = left;
	root->right = build(list, n - n / 2 - 1);
	fix_height(root); /* halves differ by at most one node, so heights by at most one */
	return root;
}

/* Turns the list form into the balanced tree: O(n), recursion depth log2(n). */
static void make_tree(struct seq_tree *t)
{
	if (!is_list(t))
		return;
	size_t n = 0;
	for (const struct seq_tree_node *at = t->root; at; at = at->right)
		n++;
	struct seq_tree_node *list = t->root;
	t->root = build(&list, n);
}

void seq_tree_append(struct seq_tree *t, struct seq_tree_node *n, struct seq_tree_node *last)
{
	if (t->root && !is_list(t)) {
		seq_tree_insert(t, n);
		return;
	}
	n->left = n->right = NULL;
	n->height = 0;
	if (last)
		last->right = n;
	else
		t->root = n;
}

void seq_tree_insert(struct seq_tree *t, struct seq_tree_node *n)
{
	make_tree(t);
	struct seq_tree_node **path[SEQ_TREE_MAX_HEIGHT];
	unsigned depth = 0;
	struct seq_tree_node **link = &t->root;
	while (*link) {
		path[depth++] = link;
		link = seq_before(n->seq, (*link)->seq) ? &(*link)->left : &(*link)->right;
	}
	n->left = n->right = NULL;
	n->height = 1;
	*link = n;
	rebalance_path(path, depth);
}

void seq_tree_remove(struct seq_tree *t, struct seq_tree_node *n)
{
	if (is_list(t) && n == t->root) { /* the list form loses its first in O(1) */
		t->root = n->right;
		return;
	}
	make_tree(t);
	struct seq_tree_node **path[SEQ_TREE_MAX_HEIGHT];
	unsigned depth = 0;
	struct seq_tree_node **link = &t->root;
	while (*link && *link != n) {
		path[depth++] = link;
		link = seq_before(n->seq, (*link)->seq) ? &(*link)->left : &(*link)->right;
	}
	if (!*link) /* not in the tree: a caller's bug, but nothing to unlink */
		return;
	if (!n->left || !n->right) {
		*link = n->left ? n->left : n->right;
		rebalance_path(path, depth);
		return;
	}
	/* Two children: the successor (least of the right subtree) takes n's place. */
	path[depth++] = link;
	unsigned below = depth; /* path[below], if walked, is &n->right: it becomes &succ->right */
	struct seq_tree_node **slink = &n->right;
	while ((*slink)->left) {
		path[depth++] = slink;
		slink = &(*slink)->left;
	}
	struct seq_tree_node *succ = *slink;
	*slink = succ->right;
	succ->left = n->left;
	succ->right = n->right;
	succ->height = n->height;
	*link = succ;
	if (depth > below)
		path[below] = &succ->right;
	rebalance_path(path, depth);
}

struct seq_tree_node *seq_tree_first(const struct seq_tree *t)
{
	struct seq_tree_node *n = t->root;
	while (n && n->left) /* the list form has no left links: its root is its first */
		n = n->left;
	return n;
}

struct seq_tree_node *seq_tree_last(struct seq_tree *t)
{
	make_tree(t);
	struct seq_tree_node *n = t->root;
	while (n && n->right)
		n = n->right;
	return n;
}

/* The stack holds the nodes still to visit whose left subtrees are done: the top is the next. */
static void push_left_spine(struct seq_tree_iter *it, struct seq_tree_node *n)
{
	for (; n; n = n->left)
		it->stack[it->depth++] = n;
}

struct seq_tree_node *seq_tree_seek(struct seq_tree_iter *it, struct seq_tree *t, uint32_t seq)
{
	make_tree(t);
	struct seq_tree_node *floor = NULL;
	it->depth = 0;
	for (struct seq_tree_node *n = t->root; n;) {
		if (seq_before(seq, n->seq)) { /* after seq: visited later, once its left side is */
			it->stack[it->depth++] = n;
			n = n->left;
		} else {
			floor = n;
			n = n->right;
		}
	}
	return floor;
}

struct seq_tree_node *seq_tree_next(struct seq_tree_iter *it)
{
	if (it->depth == 0)
		return NULL;
	struct seq_tree_node *n = it->stack[--it->depth];
	push_left_spine(it, n->right);
	return n;
}
