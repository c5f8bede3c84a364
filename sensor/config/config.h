/*
 * config.h: the sensor's YAML configuration as a tree, plus command-line overrides.
 *
 * The file is read once with libyaml into a tree of maps, sequences and scalars,
 * each node remembering the file and line it came from. `--set a.b.c=value`
 * (as in Suricata) writes into the same tree, creating maps on the way; its
 * origin is "--set". Typed getters read a dotted path and, on a bad value,
 * fill a struct config_error with "file:line: key: message", so `-T` and start-up
 * can name the exact place. Modules read their own section once into their own
 * typed settings; nothing keeps the tree after start-up except for reloads.
 *
 * Ownership: config_load_file / config_new return a tree the caller frees with
 * config_free (NULL is a no-op). Nodes and strings returned are borrowed from
 * the tree and live as long as it.
 *
 * Dotted keys. Paths use dots, yet librdkafka property names contain them
 * ("message.timeout.ms"), so a key may hold dots when its value is a scalar or
 * a list; a key holding a map (a section) may not. Lookup therefore tries, at
 * each map, the whole rest of the path as one key first, then its first part
 * as a section. `properties: {message.timeout.ms: 5000}` and
 * `--set kafka.properties.message.timeout.ms=5000` (which creates nested
 * maps) both read back as "kafka.properties.message.timeout.ms", and
 * config_node_flatten reports both as "message.timeout.ms". Two spellings of
 * one value in a file are a duplicate key. A value may share its path with a
 * section (api.version.request next to api.version.request.timeout.ms), but
 * only a file can write both: --set cannot go through a value.
 *
 * Scalars are kept as written (no YAML type guessing); anchors and aliases are
 * refused, and so are more than one document and a top level that is not a map.
 */
#ifndef TLSOBS_CONFIG_H
#define TLSOBS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct config_node;

/* Limits on what a file or --set may build; each is an error naming the line. */
#define CONFIG_MAX_DEPTH 32                /* maps and sequences nested, the root map counted */
#define CONFIG_MAX_NODES 100000            /* nodes in one tree */
#define CONFIG_MAX_SCALAR (64 * 1024)      /* bytes in one scalar */
#define CONFIG_MAX_KEY 256                 /* bytes in one map key */
#define CONFIG_MAX_FILE (16 * 1024 * 1024) /* bytes of YAML */

enum config_node_kind { CONFIG_SCALAR, CONFIG_MAP, CONFIG_SEQUENCE };

struct config_error {
	char message[512]; /* "file:line: key: what is wrong", one line, no trailing newline */
};

struct config *config_new(void);
/* Parses a YAML file. On failure returns NULL and fills *err (file:line of the YAML error). */
struct config *config_load_file(const char *path, struct config_error *err);
/* The same from an open file (read from its start), named path in messages: a reload after the drop. */
struct config *config_load_fd(int fd, const char *path, struct config_error *err);
/* Parses YAML held in memory; `origin` names it in messages. Used by tests and the fuzzer. */
struct config *config_load_buffer(const char *data, size_t len, const char *origin, struct config_error *err);
void config_free(struct config *cfg);

/*
 * Applies one "a.b.c=value" override. The value is a scalar; a value that
 * starts with '[' is parsed as a YAML flow sequence ("[25, 587]"). Returns 0,
 * or -1 with *err filled ("--set: expected KEY=VALUE", ...).
 */
int config_set(struct config *cfg, const char *assignment, struct config_error *err);

/* The node at a dotted path ("flow.timeout.new"), or NULL. "" is the root. */
const struct config_node *config_lookup(const struct config *cfg, const char *path);

enum config_node_kind config_node_kind(const struct config_node *n);
/* Scalar text (NUL-terminated), or NULL when the node is not a scalar. */
const char *config_node_scalar(const struct config_node *n);
/* Where the node came from: a file name or "--set", and its 1-based line (0 for --set). */
const char *config_node_origin(const struct config_node *n);
unsigned config_node_line(const struct config_node *n);
/* Children of a map or sequence, in order; for maps, config_node_key() names each child. */
size_t config_node_count(const struct config_node *n);
const struct config_node *config_node_child(const struct config_node *n, size_t i);
const char *config_node_key(const struct config_node *n); /* NULL for sequence items and the root */

/*
 * Calls visit for every value below a map (scalars and sequences; maps are
 * walked), in file order, with its dotted key relative to `map`: for
 * kafka.properties, {message: {timeout: {ms: 1}}} and {message.timeout.ms: 1}
 * both give "message.timeout.ms". The key is valid only during the call.
 * Returns the number of values visited (0 when `map` is NULL or not a map).
 */
typedef void (*config_visit_fn)(const char *dotted_key, const struct config_node *value, void *ctx);
size_t config_node_flatten(const struct config_node *map, config_visit_fn visit, void *ctx);

/*
 * Typed getters. Each returns 0 and stores the value (or the default when the
 * path is absent), or -1 with *err filled when the value is present but wrong.
 *  - bool: true/false/yes/no/on/off/1/0
 *  - u64: decimal, within [min, max]
 *  - size: bytes with an optional unit: 512, 64kb, 128mb, 1gb, 1gib (k/m/g are 1024-based)
 *  - seconds: a duration with an optional unit: 30, 30s, 5m, 2h (stored in seconds)
 *  - string: any scalar
 */
int config_get_bool(const struct config *cfg, const char *path, bool def, bool *out,
                    struct config_error *err);
int config_get_u64(const struct config *cfg, const char *path, uint64_t def, uint64_t min, uint64_t max,
                   uint64_t *out, struct config_error *err);
int config_get_size(const struct config *cfg, const char *path, uint64_t def, uint64_t *out,
                    struct config_error *err);
int config_get_seconds(const struct config *cfg, const char *path, uint64_t def, uint64_t *out,
                       struct config_error *err);
int config_get_string(const struct config *cfg, const char *path, const char *def, const char **out,
                      struct config_error *err);
/*
 * A list of TCP ports: a YAML sequence ([25, 587]) or a comma-separated scalar
 * ("25,587", as --set gives it). Writes at most `cap` ports, sets *count.
 * Fails on a non-number, 0, > 65535, or more than `cap` entries.
 */
int config_get_ports(const struct config *cfg, const char *path, const uint16_t *def, size_t ndef,
                     uint16_t *out, size_t cap, size_t *count, struct config_error *err);

/*
 * Fills *err with "origin:line: path: <formatted message>" for the node;
 * "--set: path: ..." for a --set node, "path: ..." when n is NULL, and no
 * "path: " when path is NULL or "".
 */
void config_error_at(struct config_error *err, const struct config_node *n, const char *path, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

#endif
