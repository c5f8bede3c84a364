/*
 * config.c: the sensor's YAML configuration as a tree (rules in config.h).
 *
 * libyaml's event parser (yaml_parser_parse) drives a small builder: a stack
 * of the maps and sequences still open, each map holding the key that waits
 * for its value. Every limit is checked before we take memory for it. When a
 * map closes, its children are sorted by key once: that finds duplicate keys
 * and makes each lookup step a binary search, while `children` keeps file
 * order for iteration and error reporting. --set assignments are applied to
 * the tree in config_set.c.
 */
#include "sensor/config/config.h"
#include "sensor/config/config_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define CONFIG_EMPTY_ORIGIN "(empty)"

/* One open map or sequence during the parse. */
struct builder_frame {
	struct config_node *node;
	char *key; /* maps: the key read, waiting for its value */
	unsigned key_line;
};

struct builder {
	const char *origin;
	const char *set_path; /* parsing a --set value: messages say "--set: path: ...", lines are 0 */
	const char *data;
	size_t len;
	enum config_node_kind root_kind;
	size_t nodes, max_nodes;
	size_t depth, max_depth;
	struct builder_frame stack[CONFIG_MAX_DEPTH];
	struct config_node *root;
	unsigned documents;
	struct config_error *err;
};

/* ---- errors ---- */

void config_error_set(struct config_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	/* Keys and values may hold newlines or escapes; the message must stay one printable line. */
	for (char *p = err->message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

const char *config_kind_name(enum config_node_kind kind)
{
	switch (kind) {
	case CONFIG_SCALAR:
		return "a scalar";
	case CONFIG_MAP:
		return "a map";
	case CONFIG_SEQUENCE:
		return "a list";
	}
	return "unknown";
}

/* ---- nodes ---- */

struct config_node *config_node_new(enum config_node_kind kind, const char *origin, unsigned line)
{
	struct config_node *n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->kind = kind;
	n->origin = origin;
	n->line = line;
	return n;
}

void config_node_free(struct config_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->count; i++)
		config_node_free(n->children[i]);
	free(n->children);
	free(n->sorted);
	free(n->key);
	free(n->scalar);
	free(n);
}

/* Makes room for one more child; maps grow `sorted` alongside so closing or inserting cannot fail. */
int config_node_grow(struct config_node *n)
{
	if (n->count < n->cap)
		return 0;
	size_t cap = n->cap ? n->cap * 2 : 4;
	struct config_node **children = realloc(n->children, cap * sizeof *children);
	if (!children)
		return -1;
	n->children = children;
	if (n->kind == CONFIG_MAP) {
		struct config_node **sorted = realloc(n->sorted, cap * sizeof *sorted);
		if (!sorted)
			return -1;
		n->sorted = sorted;
	}
	n->cap = cap;
	return 0;
}

int config_node_append(struct config_node *parent, struct config_node *child)
{
	if (config_node_grow(parent) != 0)
		return -1;
	child->index = parent->count;
	parent->children[parent->count++] = child;
	return 0;
}

/* Orders keys as strcmp does, for a key given as pointer and length. */
static int key_cmp(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static int node_key_cmp(const void *a, const void *b)
{
	const struct config_node *x = *(const struct config_node *const *)a;
	const struct config_node *y = *(const struct config_node *const *)b;
	return strcmp(x->key, y->key);
}

/* Binary search for a slot in a closed map: where `key` is, or where it would go. */
size_t config_map_slot(const struct config_node *map, const char *key, size_t len, bool *found)
{
	size_t lo = 0, hi = map->count;
	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(key, len, map->sorted[mid]->key);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct config_node *config_map_find(const struct config_node *map, const char *key, size_t len)
{
	bool found;
	size_t i = config_map_slot(map, key, len, &found);
	return found ? map->sorted[i] : NULL;
}

/*
 * The lookup rule of config.h: at each map the whole rest of the path as one
 * key (a dotted value), else its first part as a section. Section keys never
 * hold dots, so no other split can match.
 */
static struct config_node *node_resolve(const struct config_node *n, const char *path)
{
	while (n && n->kind == CONFIG_MAP) {
		size_t len = strlen(path);
		struct config_node *c = config_map_find(n, path, len);
		if (c)
			return c;
		const char *dot = memchr(path, '.', len);
		if (!dot)
			return NULL;
		c = config_map_find(n, path, (size_t)(dot - path));
		if (!c || c->kind != CONFIG_MAP)
			return NULL;
		n = c;
		path = dot + 1;
	}
	return NULL;
}

/* ---- the builder ---- */

__attribute__((format(printf, 3, 4))) static void builder_fail(struct builder *b, unsigned line,
                                                               const char *fmt, ...)
{
	char msg[sizeof b->err->message];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (b->set_path)
		config_error_set(b->err, CONFIG_SET_ORIGIN ": %s: %s", b->set_path, msg);
	else
		config_error_set(b->err, "%s:%u: %s", b->origin, line, msg);
}

static struct config_node *builder_node(struct builder *b, enum config_node_kind kind, unsigned line)
{
	if (b->nodes >= b->max_nodes) {
		builder_fail(b, line, "more than %d nodes", CONFIG_MAX_NODES);
		return NULL;
	}
	struct config_node *n = config_node_new(kind, b->origin, line);
	if (!n) {
		builder_fail(b, line, "out of memory");
		return NULL;
	}
	b->nodes++;
	return n;
}

static struct builder_frame *builder_top(struct builder *b)
{
	return b->depth ? &b->stack[b->depth - 1] : NULL;
}

/* True when every dot-separated part of key[0..len) is non-empty and at most CONFIG_MAX_KEY bytes. */
bool config_key_valid(const char *key, size_t len)
{
	size_t part = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && key[i] != '.') {
			part++;
			continue;
		}
		if (part == 0 || part > CONFIG_MAX_KEY)
			return false;
		part = 0;
	}
	return true;
}

/* A key must name something a path can reach: non-empty parts between dots, and capped. */
static int builder_check_key(struct builder *b, const char *key, size_t len, unsigned line)
{
	if (len == 0) {
		builder_fail(b, line, "empty key");
		return -1;
	}
	if (len > CONFIG_MAX_KEY) {
		builder_fail(b, line, "key " QUOTED " is longer than %d bytes", QUOTE_ARGS(key, len),
		             CONFIG_MAX_KEY);
		return -1;
	}
	if (!config_key_valid(key, len)) {
		builder_fail(b, line, "key '%s' has an empty part between dots", key);
		return -1;
	}
	return 0;
}

/* Hangs a new node under the open collection (or makes it the root); frees it on failure. */
static int builder_attach(struct builder *b, struct config_node *n)
{
	struct builder_frame *top = builder_top(b);

	if (!top) {
		b->root = n;
		return 0;
	}
	if (top->node->kind == CONFIG_MAP) {
		/* A dotted section key would give a section two spellings; dotted keys are for values. */
		if (n->kind == CONFIG_MAP && strchr(top->key, '.')) {
			builder_fail(b, top->key_line,
			             "key '%s' holds a section; only values may have dotted keys", top->key);
			config_node_free(n);
			return -1;
		}
		n->key = top->key;
		n->line = top->key_line;
		top->key = NULL;
	}
	if (config_node_append(top->node, n) != 0) {
		builder_fail(b, n->line, "out of memory");
		config_node_free(n);
		return -1;
	}
	return 0;
}

static int builder_root_kind(struct builder *b, enum config_node_kind kind, unsigned line)
{
	if (b->depth > 0 || kind == b->root_kind)
		return 0;
	if (b->set_path)
		builder_fail(b, line, "expected a list like [25, 587], got %s", config_kind_name(kind));
	else
		builder_fail(b, line, "the top level must be a map of sections, got %s",
		             config_kind_name(kind));
	return -1;
}

static int builder_scalar(struct builder *b, const yaml_event_t *ev, unsigned line)
{
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct builder_frame *top = builder_top(b);

	if (len > CONFIG_MAX_SCALAR) {
		builder_fail(b, line, "scalar longer than %d bytes", CONFIG_MAX_SCALAR);
		return -1;
	}
	if (memchr(text, '\0', len)) {
		builder_fail(b, line, "scalar holds a NUL byte");
		return -1;
	}
	if (top && top->node->kind == CONFIG_MAP && !top->key) {
		if (builder_check_key(b, text, len, line) != 0)
			return -1;
		top->key = strndup(text, len);
		top->key_line = line;
		if (!top->key) {
			builder_fail(b, line, "out of memory");
			return -1;
		}
		return 0;
	}
	/* "---" alone, or a file of comments, is an empty document: an empty config. */
	if (!top && !b->set_path && len == 0 && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		b->root = builder_node(b, CONFIG_MAP, line);
		return b->root ? 0 : -1;
	}
	if (builder_root_kind(b, CONFIG_SCALAR, line) != 0)
		return -1;
	struct config_node *n = builder_node(b, CONFIG_SCALAR, line);
	if (!n)
		return -1;
	n->scalar = strndup(text, len);
	if (!n->scalar) {
		builder_fail(b, line, "out of memory");
		config_node_free(n);
		return -1;
	}
	return builder_attach(b, n);
}

static int builder_open(struct builder *b, enum config_node_kind kind, unsigned line)
{
	struct builder_frame *top = builder_top(b);

	if (top && top->node->kind == CONFIG_MAP && !top->key) {
		builder_fail(b, line, "map keys must be scalars, got %s", config_kind_name(kind));
		return -1;
	}
	if (builder_root_kind(b, kind, line) != 0)
		return -1;
	if (b->depth >= b->max_depth) {
		builder_fail(b, line, "nested deeper than %d levels", CONFIG_MAX_DEPTH);
		return -1;
	}
	struct config_node *n = builder_node(b, kind, line);
	if (!n || builder_attach(b, n) != 0)
		return -1;
	b->stack[b->depth++] = (struct builder_frame){.node = n};
	return 0;
}

/*
 * A value written twice in one map: the same key, or a dotted key and the
 * nested spelling (message.timeout.ms next to message: {timeout: {ms: ..}}).
 * A value beside a section of the same path is allowed (see config.h).
 */
static int map_check_duplicates(struct builder *b, const struct config_node *map)
{
	const struct config_node *dup = NULL;

	for (size_t i = 1; i < map->count; i++) {
		const struct config_node *x = map->sorted[i - 1], *y = map->sorted[i];
		if (strcmp(x->key, y->key) != 0)
			continue;
		const struct config_node *later = x->index > y->index ? x : y;
		if (!dup || later->index < dup->index)
			dup = later;
	}
	if (dup) {
		builder_fail(b, dup->line, "duplicate key '%s'", dup->key);
		return -1;
	}
	for (size_t i = 0; i < map->count; i++) {
		const struct config_node *c = map->children[i];
		const char *dot = strchr(c->key, '.');
		if (!dot || c->kind == CONFIG_MAP)
			continue;
		const struct config_node *section = config_map_find(map, c->key, (size_t)(dot - c->key));
		const struct config_node *other = section ? node_resolve(section, dot + 1) : NULL;
		if (!other || other->kind == CONFIG_MAP)
			continue;
		builder_fail(b, section->index > c->index ? other->line : c->line, "duplicate key '%s'",
		             c->key);
		return -1;
	}
	return 0;
}

static int builder_close(struct builder *b)
{
	struct builder_frame *top = &b->stack[--b->depth];
	struct config_node *map = top->node;

	free(top->key); /* libyaml pairs every key with a value; only a broken stream leaves one */
	top->key = NULL;
	if (map->kind != CONFIG_MAP || map->count == 0)
		return 0;
	memcpy(map->sorted, map->children, map->count * sizeof *map->sorted);
	qsort(map->sorted, map->count, sizeof *map->sorted, node_key_cmp);
	return map_check_duplicates(b, map);
}

static const yaml_char_t *event_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

static int builder_event(struct builder *b, const yaml_event_t *ev)
{
	unsigned line = b->set_path ? 0 : (unsigned)ev->start_mark.line + 1;
	const yaml_char_t *anchor = event_anchor(ev);

	/* Aliases can multiply a small file into a huge tree ("billion laughs"); we take none. */
	if (anchor) {
		builder_fail(b, line, "anchors (&%s) are not supported", (const char *)anchor);
		return -1;
	}
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->documents++ > 0) {
			builder_fail(b, line, "more than one YAML document");
			return -1;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		builder_fail(b, line, "aliases (*%s) are not supported", (const char *)ev->data.alias.anchor);
		return -1;
	case YAML_SCALAR_EVENT:
		return builder_scalar(b, ev, line);
	case YAML_SEQUENCE_START_EVENT:
		return builder_open(b, CONFIG_SEQUENCE, line);
	case YAML_MAPPING_START_EVENT:
		return builder_open(b, CONFIG_MAP, line);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return builder_close(b);
	default:
		return 0;
	}
}

static unsigned line_at(const char *data, size_t len, size_t offset)
{
	unsigned line = 1;
	for (size_t i = 0; i < offset && i < len; i++)
		line += data[i] == '\n';
	return line;
}

static void builder_yaml_error(struct builder *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		builder_fail(b, 0, "out of memory");
		break;
	case YAML_READER_ERROR:
		/* Reader errors (bad UTF-8, control bytes) carry a byte offset, not a mark. */
		if (p->problem_value >= 0)
			builder_fail(b, line_at(b->data, b->len, p->problem_offset), "%s (byte 0x%02x)",
			             problem, (unsigned)p->problem_value);
		else
			builder_fail(b, line_at(b->data, b->len, p->problem_offset), "%s", problem);
		break;
	default:
		/* The problem is often seen a line after the cause; the context names where that began. */
		if (p->context && !b->set_path)
			builder_fail(b, (unsigned)p->problem_mark.line + 1, "%s (%s at line %u)", problem,
			             p->context, (unsigned)p->context_mark.line + 1);
		else
			builder_fail(b, (unsigned)p->problem_mark.line + 1, "%s", problem);
		break;
	}
}

/* Parses b->data into b->root; on failure *b->err is filled and builder_discard frees what was built. */
static int builder_run(struct builder *b)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = -1;

	if (!yaml_parser_initialize(&parser)) {
		builder_fail(b, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)b->data, b->len);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			builder_yaml_error(b, &parser);
			goto fail;
		}
		bool end = ev.type == YAML_STREAM_END_EVENT;
		int r = builder_event(b, &ev);
		yaml_event_delete(&ev);
		if (r != 0)
			goto fail;
		if (end)
			break;
	}
	rc = 0;
fail:
	yaml_parser_delete(&parser);
	return rc;
}

static void builder_discard(struct builder *b)
{
	for (size_t i = 0; i < b->depth; i++)
		free(b->stack[i].key);
	b->depth = 0;
	config_node_free(b->root);
	b->root = NULL;
}

/* ---- loading ---- */

static struct config *config_alloc(const char *origin)
{
	struct config *cfg = calloc(1, sizeof *cfg);
	if (!cfg)
		return NULL;
	cfg->origin = strdup(origin);
	if (!cfg->origin) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

struct config *config_new(void)
{
	struct config *cfg = config_alloc(CONFIG_EMPTY_ORIGIN);
	if (!cfg)
		return NULL;
	cfg->root = config_node_new(CONFIG_MAP, cfg->origin, 0);
	if (!cfg->root) {
		config_free(cfg);
		return NULL;
	}
	cfg->nodes = 1;
	return cfg;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	config_node_free(cfg->root);
	free(cfg->origin);
	free(cfg);
}

struct config *config_load_buffer(const char *data, size_t len, const char *origin, struct config_error *err)
{
	struct builder b = {0};
	struct config *cfg = NULL;

	if (!origin)
		origin = "(buffer)";
	if (len > CONFIG_MAX_FILE) {
		config_error_set(err, "%s: larger than %d bytes", origin, CONFIG_MAX_FILE);
		return NULL;
	}
	cfg = config_alloc(origin);
	if (!cfg) {
		config_error_set(err, "%s: out of memory", origin);
		return NULL;
	}
	b = (struct builder){.origin = cfg->origin,
	                     .data = data ? data : "",
	                     .len = data ? len : 0,
	                     .root_kind = CONFIG_MAP,
	                     .max_nodes = CONFIG_MAX_NODES,
	                     .max_depth = CONFIG_MAX_DEPTH,
	                     .err = err};
	if (builder_run(&b) != 0)
		goto fail;
	if (!b.root) {
		b.root = builder_node(&b, CONFIG_MAP, 1);
		if (!b.root)
			goto fail;
	}
	cfg->root = b.root;
	cfg->nodes = b.nodes;
	return cfg;
fail:
	builder_discard(&b);
	config_free(cfg);
	return NULL;
}

/* Reads at most CONFIG_MAX_FILE bytes (one more to notice a bigger file) of f, which it closes. */
static char *read_capped(FILE *f, const char *path, size_t *len, struct config_error *err)
{
	char *buf = NULL;
	size_t used = 0, cap = 0;

	if (!f) {
		config_error_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (used == cap) {
			if (cap > CONFIG_MAX_FILE) {
				config_error_set(err, "%s: larger than %d bytes", path, CONFIG_MAX_FILE);
				goto fail;
			}
			size_t grown = cap ? cap * 2 : 64 * 1024;
			if (grown > (size_t)CONFIG_MAX_FILE + 1)
				grown = (size_t)CONFIG_MAX_FILE + 1;
			char *p = realloc(buf, grown);
			if (!p) {
				config_error_set(err, "%s: out of memory", path);
				goto fail;
			}
			buf = p;
			cap = grown;
		}
		size_t n = fread(buf + used, 1, cap - used, f);
		used += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		config_error_set(err, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	*len = used;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

struct config *config_load_file(const char *path, struct config_error *err)
{
	size_t len = 0;
	char *data = read_capped(fopen(path, "rb"), path, &len, err);
	if (!data)
		return NULL;
	struct config *cfg = config_load_buffer(data, len, path, err);
	free(data);
	return cfg;
}

struct config *config_load_fd(int fd, const char *path, struct config_error *err)
{
	int copy = dup(fd);
	FILE *f = copy >= 0 && lseek(copy, 0, SEEK_SET) == 0 ? fdopen(copy, "rb") : NULL;
	if (!f && copy >= 0)
		close(copy);
	size_t len = 0;
	char *data = read_capped(f, path, &len, err);
	if (!data)
		return NULL;
	struct config *cfg = config_load_buffer(data, len, path, err);
	free(data);
	return cfg;
}

/*
 * The value of a --set that starts with '[': a flow sequence read with the file
 * parser, so the same limits and messages apply ("--set: path: ...").
 */
struct config_node *config_parse_list(const char *path, const char *value, size_t len, size_t max_depth,
                                      size_t max_nodes, struct config_error *err)
{
	struct builder b = {.origin = CONFIG_SET_ORIGIN,
	                    .set_path = path,
	                    .data = value,
	                    .len = len,
	                    .root_kind = CONFIG_SEQUENCE,
	                    .max_nodes = max_nodes,
	                    .max_depth = max_depth,
	                    .err = err};
	if (builder_run(&b) != 0) {
		builder_discard(&b);
		return NULL;
	}
	if (!b.root) /* cannot happen for text starting with '[', but never hand back NULL silently */
		config_error_set(err, CONFIG_SET_ORIGIN ": %s: expected a list like [25, 587]", path);
	return b.root;
}

/* ---- reading the tree ---- */

const struct config_node *config_lookup(const struct config *cfg, const char *path)
{
	if (!cfg || !path)
		return NULL;
	if (*path == '\0')
		return cfg->root;
	return node_resolve(cfg->root, path);
}

enum config_node_kind config_node_kind(const struct config_node *n)
{
	assert(n);
	return n->kind;
}

const char *config_node_scalar(const struct config_node *n)
{
	return n && n->kind == CONFIG_SCALAR ? n->scalar : NULL;
}

const char *config_node_origin(const struct config_node *n)
{
	return n ? n->origin : "";
}

unsigned config_node_line(const struct config_node *n)
{
	return n ? n->line : 0;
}

size_t config_node_count(const struct config_node *n)
{
	return n ? n->count : 0;
}

const struct config_node *config_node_child(const struct config_node *n, size_t i)
{
	return n && i < n->count ? n->children[i] : NULL;
}

const char *config_node_key(const struct config_node *n)
{
	return n ? n->key : NULL;
}

/* Keys are capped and so is depth, so every dotted key below any map fits. */
struct flatten {
	config_visit_fn visit;
	void *ctx;
	size_t visited;
	char key[CONFIG_MAX_DEPTH * (CONFIG_MAX_KEY + 1)];
};

static void flatten_walk(struct flatten *f, const struct config_node *map, size_t used)
{
	for (size_t i = 0; i < map->count; i++) {
		const struct config_node *c = map->children[i];
		size_t klen = strlen(c->key);
		size_t end = used + (used ? 1 : 0) + klen;
		if (end >= sizeof f->key)
			continue; /* unreachable while the caps hold */
		char *p = f->key + used;
		if (used)
			*p++ = '.';
		memcpy(p, c->key, klen);
		f->key[end] = '\0';
		if (c->kind == CONFIG_MAP) {
			flatten_walk(f, c, end);
			continue;
		}
		if (f->visit)
			f->visit(f->key, c, f->ctx);
		f->visited++;
	}
}

size_t config_node_flatten(const struct config_node *map, config_visit_fn visit, void *ctx)
{
	struct flatten f = {.visit = visit, .ctx = ctx};

	if (!map || map->kind != CONFIG_MAP)
		return 0;
	flatten_walk(&f, map, 0);
	return f.visited;
}
