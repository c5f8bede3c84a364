/*
 * seq_tree.h: an ordered set of nodes keyed by TCP sequence number, in O(log n).
 *
 * An AVL tree (height-balanced, so every operation is logarithmic in the worst
 * case, whatever order an attacker sends segments in: no randomness to guess).
 * Intrusive: the caller embeds a `struct seq_tree_node` in its own record and
 * owns the memory; the tree only links nodes. Keys compare modulo 2^32 (RFC 1982
 * serial arithmetic), which is a total order only while all keys in one tree lie
 * within 2^31 of one another: tcp_stream keeps them within TCP_STREAM_MAX_WINDOW
 * of next_seq. Keys must be distinct.
 *
 * The common reordering (a hole, then segments in order behind it, drained from
 * the front once it fills) costs O(1) per node: while every node came in by
 * seq_tree_append and only the first was removed, the nodes stay a plain list
 * (through `right`, height 0). The first other operation builds the balanced
 * tree from that list in O(n), once per node at most: it stays a tree until empty.
 *
 * Used by tcp_stream.c for its out-of-order segments (first-wins reassembly).
 */
#ifndef TLSOBS_SEQ_TREE_H
#define TLSOBS_SEQ_TREE_H

#include <stddef.h>
#include <stdint.h>

/*
 * An AVL tree of height h holds at least Fib(h + 2) - 1 nodes: 64 levels would
 * take more than 10^13 nodes, far beyond any memcap, so fixed stacks of this
 * depth are enough for the paths and iterators below.
 */
enum { SEQ_TREE_MAX_HEIGHT = 64 };

struct seq_tree_node {
	struct seq_tree_node *left, *right;
	uint32_t seq;   /* the key */
	uint8_t height; /* of the subtree rooted here: 1 for a leaf; 0 while the tree is a list */
};

struct seq_tree {
	struct seq_tree_node *root; /* NULL when empty */
};

/* Walks nodes in key order from a point (seq_tree_seek); valid until the tree changes. */
struct seq_tree_iter {
	struct seq_tree_node *stack[SEQ_TREE_MAX_HEIGHT];
	unsigned depth;
};

static inline void seq_tree_init(struct seq_tree *t)
{
	t->root = NULL;
}

/* Links `n` (its `seq` set by the caller, not already in the tree). */
void seq_tree_insert(struct seq_tree *t, struct seq_tree_node *n);

/* Links `n`, whose key comes after every key in the tree; `last` is the node with the greatest key (NULL:
 * empty). */
void seq_tree_append(struct seq_tree *t, struct seq_tree_node *n, struct seq_tree_node *last);

/* Unlinks `n`, which must be in the tree. The caller frees it. */
void seq_tree_remove(struct seq_tree *t, struct seq_tree_node *n);

/* The node with the least key, or NULL. */
struct seq_tree_node *seq_tree_first(const struct seq_tree *t);

/* The node with the greatest key, or NULL. */
struct seq_tree_node *seq_tree_last(struct seq_tree *t);

/*
 * Returns the node with the greatest key at or before `seq` (NULL if none) and
 * sets `it` so that seq_tree_next() yields the nodes after `seq`, in order.
 */
struct seq_tree_node *seq_tree_seek(struct seq_tree_iter *it, struct seq_tree *t, uint32_t seq);

/* The next node of the walk, or NULL at the end. Amortised O(1). */
struct seq_tree_node *seq_tree_next(struct seq_tree_iter *it);

#endif
