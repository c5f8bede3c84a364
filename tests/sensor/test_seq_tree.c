/*
 * test_seq_tree.c: sensor/flow/seq_tree.h, the AVL tree behind the reassembler's
 * out-of-order buffer: order of insertion, lookup (seek, floor) and removal,
 * the AVL invariants (order, heights, balance) after every change, sequence
 * wrap, the list form that appends keep until something else is asked, and a
 * random differential against a sorted array. Seeds are fixed.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/flow/seq_tree.h"
#include "test_support.h"

enum { N_MAX = 20000 };

static struct seq_tree_node nodes[N_MAX];

static int serial_cmp(uint32_t a, uint32_t b)
{
	int32_t d = (int32_t)(a - b);
	return d < 0 ? -1 : d > 0;
}

/* Checks order (keys strictly between lo and hi, when given), heights and balance; returns the node count. */
static size_t check_subtree(const struct seq_tree_node *n, const uint32_t *lo, const uint32_t *hi,
                            unsigned *height)
{
	if (!n) {
		*height = 0;
		return 0;
	}
	if (lo)
		cr_assert_gt(serial_cmp(n->seq, *lo), 0, "key %u out of order", n->seq);
	if (hi)
		cr_assert_lt(serial_cmp(n->seq, *hi), 0, "key %u out of order", n->seq);
	unsigned hl, hr;
	size_t count =
	    1 + check_subtree(n->left, lo, &n->seq, &hl) + check_subtree(n->right, &n->seq, hi, &hr);
	cr_assert_leq(hl > hr ? hl - hr : hr - hl, 1, "node %u is out of balance (%u, %u)", n->seq, hl, hr);
	*height = 1 + (hl > hr ? hl : hr);
	cr_assert_eq(n->height, *height, "node %u records height %u, has %u", n->seq, n->height, *height);
	return count;
}

static size_t check_tree(const struct seq_tree *t)
{
	unsigned h;
	size_t n = check_subtree(t->root, NULL, NULL, &h);
	/* An AVL tree of n nodes is at most about 1.44 log2(n + 2) high. */
	cr_assert_leq((double)h, 1.4405 * log2((double)n + 2) + 0.01, "height %u for %zu nodes", h, n);
	return n;
}

static struct seq_tree_node *add(struct seq_tree *t, size_t i, uint32_t seq)
{
	nodes[i].seq = seq;
	seq_tree_insert(t, &nodes[i]);
	return &nodes[i];
}

/* Every key, in order, through seek and next from just before `from`. */
static size_t walk_from(struct seq_tree *t, uint32_t from, uint32_t *out, size_t cap)
{
	struct seq_tree_iter it;
	size_t n = 0;
	struct seq_tree_node *at = seq_tree_seek(&it, t, from - 1);
	cr_assert(at == NULL || serial_cmp(at->seq, from) < 0);
	for (at = seq_tree_next(&it); at; at = seq_tree_next(&it)) {
		cr_assert_lt(n, cap);
		out[n++] = at->seq;
	}
	return n;
}

static void shuffle_keys(uint32_t *k, size_t n, uint64_t *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(test_rand(rng) % i);
		uint32_t x = k[i - 1];
		k[i - 1] = k[j];
		k[j] = x;
	}
}

/* ---- insertion and order ---- */

Test(insert, ascending_descending_and_random_insertions_stay_balanced_and_ordered)
{
	static uint32_t keys[4000], got[4000];
	uint64_t rng = 5;
	for (int order = 0; order < 3; order++) {
		for (size_t i = 0; i < 4000; i++)
			keys[i] = 1000 + 3 * (uint32_t)(order == 1 ? 3999 - i : i);
		if (order == 2)
			shuffle_keys(keys, 4000, &rng);
		struct seq_tree t;
		seq_tree_init(&t);
		cr_assert_null(seq_tree_first(&t));
		cr_assert_null(seq_tree_last(&t));
		for (size_t i = 0; i < 4000; i++) {
			add(&t, i, keys[i]);
			if (i % 97 == 0 || i < 64)
				cr_assert_eq(check_tree(&t), i + 1);
		}
		cr_assert_eq(check_tree(&t), 4000);
		cr_assert_eq(seq_tree_first(&t)->seq, 1000);
		cr_assert_eq(seq_tree_last(&t)->seq, 1000 + 3 * 3999);
		cr_assert_eq(walk_from(&t, 0, got, 4000), 4000);
		for (size_t i = 0; i < 4000; i++)
			cr_assert_eq(got[i], 1000 + 3 * (uint32_t)i, "order %d: position %zu holds %u", order,
			             i, got[i]);
	}
}

Test(insert, keys_compare_modulo_2_32_across_the_wrap)
{
	struct seq_tree t;
	seq_tree_init(&t);
	uint32_t base = 0xFFFFFF00u;
	for (size_t i = 0; i < 512; i++) /* from 2^32 - 256 to 255, inserted from the top down */
		add(&t, i, base + (uint32_t)(511 - i));
	check_tree(&t);
	cr_assert_eq(seq_tree_first(&t)->seq, base);
	cr_assert_eq(seq_tree_last(&t)->seq, 0xFFu);
	uint32_t got[512];
	cr_assert_eq(walk_from(&t, base, got, 512), 512);
	for (uint32_t i = 0; i < 512; i++)
		cr_assert_eq(got[i], base + i);
}

/* ---- lookup ---- */

Test(lookup, seek_returns_the_floor_and_next_walks_on_from_after_the_key)
{
	struct seq_tree t;
	seq_tree_init(&t);
	for (size_t i = 0; i < 100; i++) /* 10, 20, ..., 1000, shuffled by a stride */
		add(&t, i, 10 * (uint32_t)(1 + (i * 37) % 100));
	struct seq_tree_iter it;
	cr_assert_null(seq_tree_seek(&it, &t, 5), "nothing at or before 5");
	cr_assert_eq(seq_tree_next(&it)->seq, 10);
	cr_assert_eq(seq_tree_seek(&it, &t, 10)->seq, 10, "a key is its own floor");
	cr_assert_eq(seq_tree_next(&it)->seq, 20);
	cr_assert_eq(seq_tree_seek(&it, &t, 15)->seq, 10);
	cr_assert_eq(seq_tree_next(&it)->seq, 20);
	cr_assert_eq(seq_tree_next(&it)->seq, 30);
	cr_assert_eq(seq_tree_seek(&it, &t, 999)->seq, 990);
	cr_assert_eq(seq_tree_next(&it)->seq, 1000);
	cr_assert_null(seq_tree_next(&it));
	cr_assert_null(seq_tree_next(&it), "the end stays the end");
	cr_assert_eq(seq_tree_seek(&it, &t, 5000)->seq, 1000);
	cr_assert_null(seq_tree_next(&it));
	struct seq_tree empty;
	seq_tree_init(&empty);
	cr_assert_null(seq_tree_seek(&it, &empty, 1));
	cr_assert_null(seq_tree_next(&it));
}

/* ---- removal ---- */

Test(remove, removing_the_first_again_and_again_yields_every_key_in_order)
{
	static uint32_t keys[3000];
	uint64_t rng = 11;
	struct seq_tree t;
	seq_tree_init(&t);
	for (size_t i = 0; i < 3000; i++)
		keys[i] = 7 * (uint32_t)i;
	shuffle_keys(keys, 3000, &rng);
	for (size_t i = 0; i < 3000; i++)
		add(&t, i, keys[i]);
	for (uint32_t k = 0; k < 3000; k++) {
		struct seq_tree_node *first = seq_tree_first(&t);
		cr_assert_eq(first->seq, 7 * k);
		seq_tree_remove(&t, first);
		if (k % 101 == 0)
			cr_assert_eq(check_tree(&t), 2999 - k);
	}
	cr_assert_null(t.root);
}

Test(remove, removals_in_random_order_keep_the_tree_balanced_and_the_rest_in_order)
{
	static uint32_t keys[2000], got[2000];
	static uint8_t gone[2000];
	uint64_t rng = 23;
	struct seq_tree t;
	seq_tree_init(&t);
	for (size_t i = 0; i < 2000; i++)
		add(&t, i, 100 + 2 * (uint32_t)i); /* nodes[i] holds 100 + 2i */
	for (size_t i = 0; i < 2000; i++)
		keys[i] = (uint32_t)i;
	shuffle_keys(keys, 2000, &rng);
	memset(gone, 0, sizeof gone);
	for (size_t k = 0; k < 2000; k++) {
		seq_tree_remove(&t, &nodes[keys[k]]); /* leaves, inner nodes, the root: wherever it is */
		gone[keys[k]] = 1;
		cr_assert_eq(check_tree(&t), 1999 - k);
		if (k % 199 == 0) {
			size_t n = walk_from(&t, 0, got, 2000), j = 0;
			for (size_t i = 0; i < 2000; i++)
				if (!gone[i])
					cr_assert_eq(got[j++], 100 + 2 * (uint32_t)i);
			cr_assert_eq(n, j);
		}
	}
	cr_assert_null(t.root);
}

Test(remove, a_node_not_in_the_tree_is_left_alone)
{
	struct seq_tree t;
	seq_tree_init(&t);
	for (size_t i = 0; i < 10; i++)
		add(&t, i, 10 * (uint32_t)i);
	struct seq_tree_node stranger = {.seq = 55};
	seq_tree_remove(&t, &stranger);
	cr_assert_eq(check_tree(&t), 10);
	struct seq_tree_node twin = {.seq = 50}; /* the key of a node in the tree, but another node */
	seq_tree_remove(&t, &twin);
	cr_assert_eq(check_tree(&t), 10);
}

/* ---- appends: the list form ---- */

static bool is_list_form(const struct seq_tree *t)
{
	return t->root && t->root->height == 0;
}

Test(append, appends_stay_a_list_that_loses_its_first_in_order_until_a_seek_builds_the_tree)
{
	static uint32_t got[1000];
	struct seq_tree t;
	seq_tree_init(&t);
	struct seq_tree_node *last = NULL;
	for (size_t i = 0; i < 1000; i++) {
		nodes[i].seq = 0xFFFFFE00u + 5 * (uint32_t)i; /* across the wrap */
		seq_tree_append(&t, &nodes[i], last);
		last = &nodes[i];
	}
	cr_assert(is_list_form(&t), "appends alone keep the list form");
	for (size_t i = 0; i < 10; i++) {
		struct seq_tree_node *first = seq_tree_first(&t);
		cr_assert_eq(first, &nodes[i]);
		seq_tree_remove(&t, first);
	}
	cr_assert(is_list_form(&t), "removing the first keeps it");
	struct seq_tree_iter it;
	cr_assert_eq(seq_tree_seek(&it, &t, 0xFFFFFE00u + 5 * 500 + 2), &nodes[500]);
	cr_assert_not(is_list_form(&t), "a seek builds the tree");
	cr_assert_eq(check_tree(&t), 990);
	cr_assert_eq(seq_tree_next(&it), &nodes[501]);
	cr_assert_eq(walk_from(&t, 0xFFFFFE00u, got, 1000), 990);
	for (size_t i = 0; i < 990; i++)
		cr_assert_eq(got[i], nodes[10 + i].seq);
	/* Appends to a tree go in as inserts: it stays balanced. */
	for (size_t i = 1000; i < 3000; i++) {
		nodes[i].seq = 0xFFFFFE00u + 5 * (uint32_t)i;
		seq_tree_append(&t, &nodes[i], &nodes[i - 1]);
		if (i % 111 == 0)
			cr_assert_eq(check_tree(&t), i - 9);
	}
	cr_assert_eq(check_tree(&t), 2990);
	cr_assert_eq(seq_tree_last(&t), &nodes[2999]);
}

static void append_keys(struct seq_tree *t, size_t n)
{
	seq_tree_init(t);
	for (size_t i = 0; i < n; i++) {
		nodes[i].seq = 10 * (uint32_t)(i + 1);
		seq_tree_append(t, &nodes[i], i ? &nodes[i - 1] : NULL);
	}
}

Test(append, an_insert_or_a_removal_inside_the_list_builds_the_tree_first)
{
	for (size_t size = 1; size <= 130; size++) { /* every shape of the built tree up to 130 nodes */
		struct seq_tree t;
		append_keys(&t, size);
		add(&t, size, 10 * (uint32_t)(size / 2) + 5); /* between two listed keys */
		cr_assert_eq(check_tree(&t), size + 1);
		append_keys(&t, size);
		seq_tree_remove(&t, &nodes[size - 1]); /* the last: not the first unless alone */
		if (size > 1)
			cr_assert_eq(check_tree(&t), size - 1);
		else
			cr_assert_null(t.root);
		cr_assert_eq(seq_tree_last(&t), size > 1 ? &nodes[size - 2] : NULL);
	}
}

/* ---- against a sorted array ---- */

static size_t model_floor(const uint32_t *keys, size_t n, uint32_t seq) /* index of the floor, or n */
{
	size_t best = n;
	for (size_t i = 0; i < n; i++)
		if (serial_cmp(keys[i], seq) <= 0)
			best = i;
	return best;
}

static void model_insert(uint32_t *keys, size_t *n, uint32_t seq)
{
	size_t at = 0;
	while (at < *n && serial_cmp(keys[at], seq) < 0)
		at++;
	memmove(keys + at + 1, keys + at, (*n - at) * sizeof *keys);
	keys[at] = seq;
	(*n)++;
}

Test(random, mixed_inserts_removals_and_seeks_match_a_sorted_array)
{
	static uint32_t model[N_MAX];
	static struct seq_tree_node *by_key[1 << 14]; /* the node holding base + k, or NULL */
	for (unsigned long long seed = 1; seed <= 20; seed++) {
		uint64_t rng = seed * 0x9E3779B97F4A7C15ull;
		uint32_t base = (uint32_t)test_rand(&rng); /* anywhere, so some seeds wrap */
		struct seq_tree t;
		seq_tree_init(&t);
		memset(by_key, 0, sizeof by_key);
		size_t n = 0, next_node = 0;
		for (size_t step = 0; step < 4000; step++) {
			uint64_t r = test_rand(&rng);
			uint32_t k = (uint32_t)((r >> 8) % (1 << 14)), seq = base + k;
			if (r % 7 == 1 && next_node < N_MAX &&
			    (n == 0 || model[n - 1] - base + 4 < (1 << 14))) {
				k = n ? model[n - 1] - base + 1 + (uint32_t)((r >> 40) % 3)
				      : k; /* past the greatest */
				seq = base + k;
				nodes[next_node].seq = seq;
				seq_tree_append(&t, &nodes[next_node],
				                n ? by_key[model[n - 1] - base] : NULL);
				by_key[k] = &nodes[next_node++];
				model_insert(model, &n, seq);
			} else if (r % 3 != 0 && !by_key[k] && next_node < N_MAX) {
				by_key[k] = add(&t, next_node++, seq);
				model_insert(model, &n, seq);
			} else if (r % 3 == 0 && n > 0) {
				size_t at = model_floor(model, n, seq);
				if (at == n)
					at = 0;
				struct seq_tree_node *victim = by_key[model[at] - base];
				cr_assert_not_null(victim);
				seq_tree_remove(&t, victim);
				by_key[model[at] - base] = NULL;
				memmove(model + at, model + at + 1, (n - at - 1) * sizeof *model);
				n--;
			}
			struct seq_tree_iter it;
			struct seq_tree_node *floor = seq_tree_seek(&it, &t, seq);
			size_t at = model_floor(model, n, seq);
			cr_assert_eq(floor ? floor->seq : 0, at < n ? model[at] : 0, "seed %llu step %zu",
			             seed, step);
			struct seq_tree_node *after = seq_tree_next(&it);
			size_t want = at < n ? at + 1 : 0;
			cr_assert_eq(after ? after->seq : 0, want < n ? model[want] : 0, "seed %llu step %zu",
			             seed, step);
			if (step % 250 == 0)
				cr_assert_eq(check_tree(&t), n);
		}
		cr_assert_eq(check_tree(&t), n);
		cr_assert_eq(n ? seq_tree_first(&t)->seq : 0, n ? model[0] : 0);
		cr_assert_eq(n ? seq_tree_last(&t)->seq : 0, n ? model[n - 1] : 0);
	}
}
