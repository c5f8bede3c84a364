/*
 * config_set.c: --set KEY=VALUE assignments on a loaded tree (rules in config.h).
 *
 * The path is followed as config_lookup follows it, so an assignment replaces
 * the value a lookup would find; anything missing is created as maps marked
 * "--set". Depth and node caps are checked before the tree changes, so a
 * refused assignment leaves the tree as it was.
 */
#include "sensor/config/config.h"
#include "sensor/config/config_internal.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static size_t node_size(const struct config_node *n)
{
	size_t total = 1;
	for (size_t i = 0; i < n->count; i++)
		total += node_size(n->children[i]);
	return total;
}

/* Where an assignment lands: `old` replaced in `map`, or `rest` created below `map`. */
struct set_point {
	struct config_node *map;
	struct config_node *old;
	const char *rest;
	size_t depth; /* maps from the root to `map`, both counted */
};

/* Follows the path as config_lookup does; refuses to go through a value or to overwrite a section. */
static int set_walk(struct config *cfg, const char *path, struct set_point *at, struct config_error *err)
{
	struct config_node *map = cfg->root;
	const char *rest = path;
	size_t depth = 1;

	for (;;) {
		size_t len = strlen(rest);
		struct config_node *c = config_map_find(map, rest, len);
		if (c && c->kind == CONFIG_MAP) {
			config_error_set(err, CONFIG_SET_ORIGIN ": %s is a section, not a value", path);
			return -1;
		}
		const char *dot = memchr(rest, '.', len);
		struct config_node *section =
		    !c && dot ? config_map_find(map, rest, (size_t)(dot - rest)) : NULL;
		if (!section) {
			*at = (struct set_point){.map = map, .old = c, .rest = rest, .depth = depth};
			return 0;
		}
		if (section->kind != CONFIG_MAP) {
			config_error_set(err, CONFIG_SET_ORIGIN ": %.*s is not a section", (int)(dot - path),
			                 path);
			return -1;
		}
		map = section;
		rest = dot + 1;
		depth++;
	}
}

static size_t count_dots(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '.';
	return n;
}

/* The value node: a scalar as written, or a flow sequence parsed with the file parser. */
static struct config_node *set_value(const char *path, const char *value, size_t max_depth, size_t max_nodes,
                                     struct config_error *err)
{
	size_t len = strlen(value);

	if (len > CONFIG_MAX_SCALAR) {
		config_error_set(err, CONFIG_SET_ORIGIN ": %s: value longer than %d bytes", path,
		                 CONFIG_MAX_SCALAR);
		return NULL;
	}
	if (value[0] != '[') {
		struct config_node *n =
		    max_nodes ? config_node_new(CONFIG_SCALAR, CONFIG_SET_ORIGIN, 0) : NULL;
		if (n)
			n->scalar = strdup(value);
		if (!n || !n->scalar) {
			config_error_set(err, CONFIG_SET_ORIGIN ": %s: %s", path,
			                 max_nodes ? "out of memory" : "too many nodes");
			config_node_free(n);
			return NULL;
		}
		return n;
	}
	return config_parse_list(path, value, len, max_depth, max_nodes, err);
}

/* Wraps `value` in one map per dotted part of `rest` but the last, which keys the value. */
static struct config_node *set_wrap(struct config_node *value, const char *rest)
{
	const char *end = rest + strlen(rest);
	const char *part = strrchr(rest, '.');
	part = part ? part + 1 : rest;

	value->key = strndup(part, (size_t)(end - part));
	if (!value->key)
		goto fail;
	while (part != rest) {
		end = part - 1; /* the dot */
		part = end;
		while (part != rest && part[-1] != '.')
			part--;
		struct config_node *map = config_node_new(CONFIG_MAP, CONFIG_SET_ORIGIN, 0);
		if (!map || config_node_append(map, value) != 0) {
			config_node_free(map);
			goto fail;
		}
		map->sorted[0] = value;
		value = map;
		value->key = strndup(part, (size_t)(end - part));
		if (!value->key)
			goto fail;
	}
	return value;
fail:
	config_node_free(value);
	return NULL;
}

/* Puts `n` into `map` in both orders; `map` has room (config_node_grow was called). */
static void map_insert(struct config_node *map, struct config_node *n)
{
	bool found;
	size_t slot = config_map_slot(map, n->key, strlen(n->key), &found);

	n->index = map->count;
	map->children[map->count] = n;
	memmove(map->sorted + slot + 1, map->sorted + slot, (map->count - slot) * sizeof *map->sorted);
	map->sorted[slot] = n;
	map->count++;
}

static void map_replace(struct config_node *map, struct config_node *old, struct config_node *n)
{
	bool found;
	size_t slot = config_map_slot(map, old->key, strlen(old->key), &found);

	assert(found && map->sorted[slot] == old);
	n->key = old->key;
	old->key = NULL;
	n->index = old->index;
	map->children[n->index] = n;
	map->sorted[slot] = n;
	config_node_free(old);
}

int config_set(struct config *cfg, const char *assignment, struct config_error *err)
{
	const char *eq = assignment ? strchr(assignment, '=') : NULL;
	struct config_node *value = NULL;
	struct set_point at;
	char *path = NULL;
	int rc = -1;

	/* A blank in the key: a value typed with a space for '=' (a base64 password may hold '=' itself). */
	if (eq && memchr(assignment, ' ', (size_t)(eq - assignment)))
		eq = NULL;
	if (!eq || eq == assignment) {
		/* Only what looks like a key is echoed: the rest may be a password typed with a space for
		 * '='. */
		size_t len = assignment
		                 ? strspn(assignment, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                                      "0123456789._-")
		                 : 0;
		bool more = assignment && assignment[len] != '\0';
		if (eq && eq == assignment)
			config_error_set(err,
			                 CONFIG_SET_ORIGIN ": expected KEY=VALUE, got no key before '='");
		else
			config_error_set(err, CONFIG_SET_ORIGIN ": expected KEY=VALUE, got " QUOTED "%s",
			                 QUOTE_ARGS(assignment ? assignment : "", len),
			                 more ? " and more, not shown (it may be a secret)" : "");
		return -1;
	}
	size_t plen = (size_t)(eq - assignment);
	if (!config_key_valid(assignment, plen)) {
		config_error_set(err,
		                 CONFIG_SET_ORIGIN ": " QUOTED
		                                   " is not a valid key (empty part, or one over %d bytes)",
		                 QUOTE_ARGS(assignment, plen), CONFIG_MAX_KEY);
		return -1;
	}
	path = strndup(assignment, plen);
	if (!path) {
		config_error_set(err, CONFIG_SET_ORIGIN ": out of memory");
		return -1;
	}
	if (set_walk(cfg, path, &at, err) != 0)
		goto fail;
	/* Maps to create: one per dot of `rest`, unless an existing value is replaced. */
	size_t new_maps = at.old ? 0 : count_dots(at.rest);
	if (at.depth + new_maps > CONFIG_MAX_DEPTH) {
		config_error_set(err, CONFIG_SET_ORIGIN ": %s: nested deeper than %d levels", path,
		                 CONFIG_MAX_DEPTH);
		goto fail;
	}
	size_t used = cfg->nodes + new_maps;
	size_t budget = used < CONFIG_MAX_NODES ? CONFIG_MAX_NODES - used : 0;
	value = set_value(path, eq + 1, CONFIG_MAX_DEPTH - at.depth - new_maps, budget, err);
	if (!value)
		goto fail;
	size_t added = node_size(value) + new_maps;
	if (at.old) {
		cfg->nodes -= node_size(at.old);
		map_replace(at.map, at.old, value);
	} else {
		value = set_wrap(value, at.rest);
		if (!value || config_node_grow(at.map) != 0) {
			config_error_set(err, CONFIG_SET_ORIGIN ": %s: out of memory", path);
			goto fail;
		}
		map_insert(at.map, value);
	}
	value = NULL;
	cfg->nodes += added;
	rc = 0;
fail:
	config_node_free(value);
	free(path);
	return rc;
}
