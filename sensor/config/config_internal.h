/*
 * config_internal.h: what config.c (the tree and the YAML builder),
 * config_set.c (--set) and config_get.c (the typed getters) share. Private to
 * those files; everything else uses config.h.
 */
#ifndef TLSOBS_CONFIG_INTERNAL_H
#define TLSOBS_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sensor/config/config.h"

/* The origin of nodes made by --set; messages about them start with it. */
#define CONFIG_SET_ORIGIN "--set"

struct config_node {
	enum config_node_kind kind;
	char *key;                     /* NULL for the root and sequence items */
	char *scalar;                  /* CONFIG_SCALAR only, NUL-free */
	struct config_node **children; /* maps and sequences, in file order */
	struct config_node **sorted;   /* maps: the same children by key (strcmp), once closed */
	size_t count, cap;             /* children used, children and sorted allocated */
	size_t index;                  /* position in the parent's children */
	const char *origin;            /* borrowed: the tree's name or a string literal */
	unsigned line;
};

struct config {
	struct config_node *root;
	char *origin; /* the file or buffer name; nodes borrow it */
	size_t nodes;
};

/* Bytes of a bad value quoted in a message: enough to recognise it, short enough for one line. */
enum { CONFIG_QUOTE_MAX = 64 };
#define QUOTED "'%.*s%s'"
#define QUOTE_ARGS(s, len)                                                                                   \
	(int)((len) > CONFIG_QUOTE_MAX ? CONFIG_QUOTE_MAX : (len)), (s),                                     \
	    ((len) > CONFIG_QUOTE_MAX ? "..." : "")

/* Formats into err->message (NULL err: nothing), control characters made '?' so it stays one line. */
void config_error_set(struct config_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "a scalar", "a map" or "a list", for messages. */
const char *config_kind_name(enum config_node_kind kind);

/* Nodes (config.c). `origin` is borrowed; config_node_free frees the subtree and takes NULL. */
struct config_node *config_node_new(enum config_node_kind kind, const char *origin, unsigned line);
void config_node_free(struct config_node *n);
/* Makes room for one more child (maps: in `sorted` too), 0 or -1 out of memory. */
int config_node_grow(struct config_node *n);
int config_node_append(struct config_node *parent, struct config_node *child);

/* A closed map's `sorted` slot for key[0..len): where it is (*found) or where it would go. */
size_t config_map_slot(const struct config_node *map, const char *key, size_t len, bool *found);
struct config_node *config_map_find(const struct config_node *map, const char *key, size_t len);

/* True when every dot-separated part of key[0..len) is non-empty and at most CONFIG_MAX_KEY bytes. */
bool config_key_valid(const char *key, size_t len);

/*
 * Parses value[0..len), a YAML flow sequence, with the file parser under the
 * given caps; NULL with err filled ("--set: path: ...") on failure.
 */
struct config_node *config_parse_list(const char *path, const char *value, size_t len, size_t max_depth,
                                      size_t max_nodes, struct config_error *err);

#endif
