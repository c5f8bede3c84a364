/* test_config.c: the YAML config tree, --set overrides and the typed getters. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/config.h"
#include "test_support.h"

/* ---- helpers ---- */

static struct config *load(const char *yaml)
{
	struct config_error err = {{0}};
	struct config *cfg = config_load_buffer(yaml, strlen(yaml), "test.yaml", &err);
	cr_assert_not_null(cfg, "load failed: %s", err.message);
	return cfg;
}

/* The error message of a load that must fail (a static buffer). */
static const char *load_error(const char *yaml, size_t len)
{
	static struct config_error err;
	memset(&err, 0, sizeof err);
	struct config *cfg = config_load_buffer(yaml, len, "test.yaml", &err);
	cr_assert_null(cfg, "expected a failure for:\n%s", yaml);
	return err.message;
}

#define cr_assert_load_error(yaml, expected) cr_assert_str_eq(load_error((yaml), strlen(yaml)), (expected))

static void set_ok(struct config *cfg, const char *assignment)
{
	struct config_error err = {{0}};
	cr_assert_eq(config_set(cfg, assignment, &err), 0, "--set %s: %s", assignment, err.message);
}

static const char *set_error(struct config *cfg, const char *assignment)
{
	static struct config_error err;
	memset(&err, 0, sizeof err);
	cr_assert_eq(config_set(cfg, assignment, &err), -1, "--set %s should fail", assignment);
	return err.message;
}

static const char *scalar_at(const struct config *cfg, const char *path)
{
	return config_node_scalar(config_lookup(cfg, path));
}

/* Writes `text` to a fresh file under /tmp; the caller unlinks it. */
static char *temp_file(const char *text, size_t len)
{
	char *path = strdup("/tmp/test_config_XXXXXX");
	cr_assert_not_null(path);
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Records what config_node_flatten reports, as "key=value" lines. */
struct flat {
	char text[1024];
	size_t n;
};

static void flat_visit(const char *dotted_key, const struct config_node *value, void *ctx)
{
	struct flat *f = ctx;
	const char *s = config_node_scalar(value);
	size_t used = strlen(f->text);
	snprintf(f->text + used, sizeof f->text - used, "%s=%s\n", dotted_key, s ? s : "(list)");
	f->n++;
}

static const char *flatten(const struct config *cfg, const char *path)
{
	static struct flat f;
	memset(&f, 0, sizeof f);
	size_t n = config_node_flatten(config_lookup(cfg, path), flat_visit, &f);
	cr_assert_eq(n, f.n);
	return f.text;
}

/* `open` repeated n times, then `middle`, then `close` n times, after "a: " (the root map). */
static char *nested(int n, const char *open, const char *middle, const char *close)
{
	size_t cap = 8 + strlen(middle) + (size_t)n * (strlen(open) + strlen(close));
	char *s = malloc(cap);
	cr_assert_not_null(s);
	size_t len = (size_t)snprintf(s, cap, "a: ");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s", open);
	len += (size_t)snprintf(s + len, cap - len, "%s", middle);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s", close);
	snprintf(s + len, cap - len, "\n");
	return s;
}

/* "a.a.[...].a." n times then `tail`, for --set. */
static char *deep_key(int n, const char *tail)
{
	size_t cap = (size_t)n * 2 + strlen(tail) + 1;
	char *s = malloc(cap);
	cr_assert_not_null(s);
	for (int i = 0; i < n; i++)
		memcpy(s + 2 * i, "a.", 2);
	snprintf(s + 2 * n, cap - 2 * (size_t)n, "%s", tail);
	return s;
}

/* ---- the tree ---- */

static const char nested_yaml[] = "capture:\n"                           /* 1 */
                                  "  snaplen: 65535\n"                   /* 2 */
                                  "smtp:\n"                              /* 3 */
                                  "  ports:\n"                           /* 4 */
                                  "    - 25\n"                           /* 5 */
                                  "    - 587\n"                          /* 6 */
                                  "flow:\n"                              /* 7 */
                                  "  timeout: {new: 30s, closed: 10s}\n" /* 8 */
                                  "  # a comment\n"                      /* 9 */
                                  "  memcap: 128mb\n";                   /* 10 */

Test(config, nested_maps_and_sequences_keep_their_kind_key_origin_and_line)
{
	struct config *cfg = load(nested_yaml);
	const struct config_node *root = config_lookup(cfg, "");
	cr_assert_eq(config_node_kind(root), CONFIG_MAP);
	cr_assert_eq(config_node_count(root), 3);
	cr_assert_null(config_node_key(root));
	cr_assert_str_eq(config_node_key(config_node_child(root, 0)), "capture");
	cr_assert_str_eq(config_node_key(config_node_child(root, 1)), "smtp");
	cr_assert_str_eq(config_node_key(config_node_child(root, 2)), "flow");

	const struct config_node *snaplen = config_lookup(cfg, "capture.snaplen");
	cr_assert_eq(config_node_kind(snaplen), CONFIG_SCALAR);
	cr_assert_str_eq(config_node_scalar(snaplen), "65535");
	cr_assert_str_eq(config_node_origin(snaplen), "test.yaml");
	cr_assert_eq(config_node_line(snaplen), 2);

	const struct config_node *ports = config_lookup(cfg, "smtp.ports");
	cr_assert_eq(config_node_kind(ports), CONFIG_SEQUENCE);
	cr_assert_eq(config_node_line(ports), 4);
	cr_assert_null(config_node_scalar(ports));
	cr_assert_eq(config_node_count(ports), 2);
	cr_assert_str_eq(config_node_scalar(config_node_child(ports, 0)), "25");
	cr_assert_eq(config_node_line(config_node_child(ports, 0)), 5);
	cr_assert_eq(config_node_line(config_node_child(ports, 1)), 6);
	cr_assert_null(config_node_key(config_node_child(ports, 1)));
	cr_assert_null(config_node_child(ports, 2));

	const struct config_node *timeout = config_lookup(cfg, "flow.timeout");
	cr_assert_eq(config_node_kind(timeout), CONFIG_MAP);
	cr_assert_eq(config_node_line(timeout), 8);
	cr_assert_str_eq(config_node_key(config_node_child(timeout, 1)), "closed");
	cr_assert_eq(config_node_line(config_lookup(cfg, "flow.timeout.closed")), 8);
	cr_assert_eq(config_node_line(config_lookup(cfg, "flow.memcap")), 10);
	config_free(cfg);
}

Test(config, lookup_gives_null_for_missing_paths_paths_through_values_and_empty_parts)
{
	struct config *cfg = load(nested_yaml);
	cr_assert_null(config_lookup(cfg, "capture.nope"));
	cr_assert_null(config_lookup(cfg, "nope.snaplen"));
	cr_assert_null(config_lookup(cfg, "capture.snaplen.more"));
	cr_assert_null(config_lookup(cfg, "smtp.ports.0"));
	cr_assert_null(config_lookup(cfg, "capture..snaplen"));
	cr_assert_null(config_lookup(cfg, "capture."));
	cr_assert_null(config_lookup(cfg, ".capture"));
	cr_assert_null(config_lookup(cfg, NULL));
	cr_assert_null(config_lookup(NULL, "capture"));
	config_free(cfg);
}

Test(config, scalars_are_kept_as_written_without_yaml_type_guessing)
{
	struct config *cfg = load("a: yes\nb: '007'\nc: ~\nd:\ne: \"two\\nlines\"\nf: |\n  block\n");
	cr_assert_str_eq(scalar_at(cfg, "a"), "yes");
	cr_assert_str_eq(scalar_at(cfg, "b"), "007");
	cr_assert_str_eq(scalar_at(cfg, "c"), "~");
	cr_assert_str_eq(scalar_at(cfg, "d"), "");
	cr_assert_str_eq(scalar_at(cfg, "e"), "two\nlines");
	cr_assert_str_eq(scalar_at(cfg, "f"), "block\n");
	config_free(cfg);
}

Test(config, a_file_is_read_with_its_path_as_origin)
{
	static const char yaml[] = "capture:\n  snaplen: 1500\n";
	char *path = temp_file(yaml, sizeof yaml - 1);
	struct config_error err = {{0}};
	struct config *cfg = config_load_file(path, &err);
	cr_assert_not_null(cfg, "%s", err.message);
	const struct config_node *n = config_lookup(cfg, "capture.snaplen");
	cr_assert_str_eq(config_node_origin(n), path);
	cr_assert_eq(config_node_line(n), 2);
	config_free(cfg);
	unlink(path);
	free(path);
}

Test(config, a_missing_file_is_an_error_naming_it)
{
	struct config_error err = {{0}};
	cr_assert_null(config_load_file("/tmp/test_config_does_not_exist.yaml", &err));
	cr_assert_str_eq(err.message, "/tmp/test_config_does_not_exist.yaml: No such file or directory");
}

Test(config, a_file_over_16_mib_is_refused)
{
	char *path = temp_file("a: 1\n", 5);
	cr_assert_eq(truncate(path, CONFIG_MAX_FILE + 1), 0);
	struct config_error err = {{0}};
	cr_assert_null(config_load_file(path, &err));
	char expected[600];
	snprintf(expected, sizeof expected, "%s: larger than 16777216 bytes", path);
	cr_assert_str_eq(err.message, expected);
	unlink(path);
	free(path);

	char *big = calloc(1, CONFIG_MAX_FILE + 1);
	cr_assert_not_null(big);
	cr_assert_str_eq(load_error(big, CONFIG_MAX_FILE + 1), "test.yaml: larger than 16777216 bytes");
	free(big);
}

Test(config, a_file_of_exactly_16_mib_is_read)
{
	/* One long comment makes up the size: the cap is on bytes, and this many still load. */
	char *yaml = malloc(CONFIG_MAX_FILE);
	cr_assert_not_null(yaml);
	memcpy(yaml, "a: 1\n#", 6);
	memset(yaml + 6, 'c', CONFIG_MAX_FILE - 7);
	yaml[CONFIG_MAX_FILE - 1] = '\n';
	char *path = temp_file(yaml, CONFIG_MAX_FILE);
	free(yaml);
	struct config_error err = {{0}};
	struct config *cfg = config_load_file(path, &err);
	cr_assert_not_null(cfg, "%s", err.message);
	cr_assert_str_eq(scalar_at(cfg, "a"), "1");
	config_free(cfg);
	unlink(path);
	free(path);
}

Test(config, an_empty_file_is_an_empty_config)
{
	static const char *const empties[] = {"", "# only a comment\n", "---\n", "\n\n"};
	for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
		struct config *cfg = load(empties[i]);
		const struct config_node *root = config_lookup(cfg, "");
		cr_assert_eq(config_node_kind(root), CONFIG_MAP);
		cr_assert_eq(config_node_count(root), 0);
		cr_assert_null(config_lookup(cfg, "capture"));
		config_free(cfg);
	}
}

Test(config, config_new_is_an_empty_map_and_config_free_takes_null)
{
	struct config *cfg = config_new();
	cr_assert_not_null(cfg);
	cr_assert_eq(config_node_kind(config_lookup(cfg, "")), CONFIG_MAP);
	cr_assert_eq(config_node_count(config_lookup(cfg, "")), 0);
	config_free(cfg);
	config_free(NULL);
}

Test(config, the_documented_example_loads_with_the_values_it_shows)
{
	struct config_error err = {{0}};
	struct config *cfg = config_load_file(test_source_path("docs/tlsobs.example.yaml"), &err);
	cr_assert_not_null(cfg, "%s", err.message);
	uint64_t v = 0;
	bool b = false;
	uint16_t ports[8];
	size_t n = 0;
	cr_assert_eq(config_get_u64(cfg, "capture.snaplen", 0, 64, 262144, &v, &err), 0, "%s", err.message);
	cr_assert_eq(v, 65535);
	cr_assert_eq(config_get_bool(cfg, "capture.promiscuous", false, &b, &err), 0);
	cr_assert(b);
	cr_assert_eq(config_get_size(cfg, "capture.buffer_size", 0, &v, &err), 0);
	cr_assert_eq(v, 32u << 20);
	cr_assert_eq(config_get_ports(cfg, "smtp.ports", NULL, 0, ports, 8, &n, &err), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(ports[2], 2525);
	cr_assert_eq(config_get_ports(cfg, "tls.implicit_ports", NULL, 0, ports, 8, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ports[0], 465);
	cr_assert_eq(config_get_size(cfg, "flow.memcap", 0, &v, &err), 0);
	cr_assert_eq(v, 128u << 20);
	cr_assert_eq(config_get_u64(cfg, "flow.hash_size", 0, 1, UINT64_MAX, &v, &err), 0);
	cr_assert_eq(v, 262144);
	cr_assert_eq(config_get_seconds(cfg, "flow.timeout.established", 0, &v, &err), 0);
	cr_assert_eq(v, 600);
	cr_assert_eq(config_get_seconds(cfg, "flow.emergency.timeout.closed", 0, &v, &err), 0);
	cr_assert_eq(v, 2);
	cr_assert_eq(config_get_u64(cfg, "flow.emergency.recovery_percent", 0, 1, 99, &v, &err), 0);
	cr_assert_eq(v, 70);
	cr_assert_eq(config_get_size(cfg, "stream.depth", 0, &v, &err), 0);
	cr_assert_eq(v, 64u << 20);
	cr_assert_eq(config_get_size(cfg, "stream.max_ooo_bytes", 0, &v, &err), 0);
	cr_assert_eq(v, 1u << 20);
	config_free(cfg);
}

/* ---- what a file may not hold ---- */

Test(config, a_yaml_syntax_error_names_the_file_and_line)
{
	cr_assert_load_error("a: 1\n  b: 2\n", "test.yaml:2: mapping values are not allowed in this context");
	cr_assert_load_error(
	    "a: 1\nb: [1, 2\nc: 3\n",
	    "test.yaml:3: did not find expected ',' or ']' (while parsing a flow sequence at line 2)");
	cr_assert_load_error(
	    "a: 1\nb: \"open\n",
	    "test.yaml:3: found unexpected end of stream (while scanning a quoted scalar at line 2)");
	cr_assert_load_error("a: 1\nb: \xff\n", "test.yaml:2: invalid leading UTF-8 octet (byte 0xff)");
}

Test(config, a_duplicate_key_is_an_error_at_its_second_line)
{
	cr_assert_load_error("a: 1\nb: 2\na: 3\n", "test.yaml:3: duplicate key 'a'");
	cr_assert_load_error("flow:\n  timeout:\n    new: 1\n    closed: 2\n    new: 3\n",
	                     "test.yaml:5: duplicate key 'new'");
	cr_assert_load_error("a: {b: 1, b: 2}\n", "test.yaml:1: duplicate key 'b'");
	/* The first duplicate in file order is the one named. */
	cr_assert_load_error("x: 1\ny: 1\ny: 2\nx: 2\n", "test.yaml:3: duplicate key 'y'");
}

Test(config, a_dotted_key_and_its_nested_spelling_are_duplicates)
{
	cr_assert_load_error("p:\n  message.timeout.ms: 1\n  message:\n    timeout:\n      ms: 2\n",
	                     "test.yaml:5: duplicate key 'message.timeout.ms'");
	cr_assert_load_error("p:\n  message: {timeout.ms: 2}\n  message.timeout.ms: 1\n",
	                     "test.yaml:3: duplicate key 'message.timeout.ms'");
}

Test(config, a_dotted_value_may_sit_beside_a_section_of_the_same_path)
{
	/* librdkafka has both api.version.request and api.version.request.timeout.ms. */
	struct config *cfg = load("p:\n  api.version.request: true\n  api:\n    version:\n      request:\n"
	                          "        timeout.ms: 5\n");
	cr_assert_str_eq(scalar_at(cfg, "p.api.version.request"), "true");
	cr_assert_str_eq(scalar_at(cfg, "p.api.version.request.timeout.ms"), "5");
	cr_assert_str_eq(flatten(cfg, "p"), "api.version.request=true\napi.version.request.timeout.ms=5\n");
	config_free(cfg);
}

Test(config, keys_must_be_names_a_path_can_reach)
{
	cr_assert_load_error("a..b: 1\n", "test.yaml:1: key 'a..b' has an empty part between dots");
	cr_assert_load_error(".a: 1\n", "test.yaml:1: key '.a' has an empty part between dots");
	cr_assert_load_error("a.: 1\n", "test.yaml:1: key 'a.' has an empty part between dots");
	cr_assert_load_error("\"\": 1\n", "test.yaml:1: empty key");
	cr_assert_load_error("? [a]\n: 1\n", "test.yaml:1: map keys must be scalars, got a list");
	cr_assert_load_error("x:\n  ? {a: 1}\n  : 1\n", "test.yaml:2: map keys must be scalars, got a map");
	cr_assert_load_error(
	    "flow.timeout: {new: 1}\n",
	    "test.yaml:1: key 'flow.timeout' holds a section; only values may have dotted keys");

	char key[CONFIG_MAX_KEY + 16];
	memset(key, 'k', CONFIG_MAX_KEY + 1);
	memcpy(key + CONFIG_MAX_KEY + 1, ": 1\n", 5);
	cr_assert_load_error(
	    key, "test.yaml:1: key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...' "
	         "is longer than 256 bytes");
}

Test(config, a_key_of_256_bytes_is_accepted)
{
	char yaml[CONFIG_MAX_KEY + 16];
	memset(yaml, 'k', CONFIG_MAX_KEY);
	memcpy(yaml + CONFIG_MAX_KEY, ": 1\n", 5);
	struct config *cfg = load(yaml);
	config_free(cfg);
}

Test(config, anchors_and_aliases_are_refused)
{
	cr_assert_load_error("a: &x 1\nb: *x\n", "test.yaml:1: anchors (&x) are not supported");
	cr_assert_load_error("a: 1\nb: *x\n", "test.yaml:2: aliases (*x) are not supported");
	cr_assert_load_error("a: 1\nb: &lol [1, 2]\n", "test.yaml:2: anchors (&lol) are not supported");
	cr_assert_load_error("a: 1\nb: &m {c: 1}\n", "test.yaml:2: anchors (&m) are not supported");
}

Test(config, nesting_deeper_than_32_levels_is_refused)
{
	/* the root map plus 31 more is the deepest allowed */
	char *ok = nested(CONFIG_MAX_DEPTH - 2, "{a: ", "{a: 1}", "}");
	struct config *cfg = load(ok);
	char *path = deep_key(CONFIG_MAX_DEPTH - 1, "a");
	path[strlen(path) - 2] = '\0'; /* "a.a...a": 31 parts */
	cr_assert_eq(config_node_kind(config_lookup(cfg, path)), CONFIG_MAP);
	free(path);
	config_free(cfg);
	free(ok);

	char *deep = nested(CONFIG_MAX_DEPTH - 1, "{a: ", "{a: 1}", "}");
	cr_assert_str_eq(load_error(deep, strlen(deep)), "test.yaml:1: nested deeper than 32 levels");
	free(deep);
	char *lists = nested(CONFIG_MAX_DEPTH - 1, "[", "[]", "]");
	cr_assert_str_eq(load_error(lists, strlen(lists)), "test.yaml:1: nested deeper than 32 levels");
	free(lists);
	lists = nested(CONFIG_MAX_DEPTH - 2, "[", "[]", "]");
	cfg = load(lists);
	config_free(cfg);
	free(lists);
}

Test(config, more_than_100000_nodes_are_refused)
{
	/* root + list + items: 100000 items make 100002 nodes */
	size_t items = CONFIG_MAX_NODES;
	char *yaml = malloc(items * 2 + 16);
	cr_assert_not_null(yaml);
	size_t len = (size_t)snprintf(yaml, 16, "a: [");
	for (size_t i = 0; i < items; i++) {
		yaml[len++] = '1';
		yaml[len++] = ',';
	}
	yaml[len - 1] = ']';
	cr_assert_str_eq(load_error(yaml, len), "test.yaml:1: more than 100000 nodes");
	/* two fewer fit exactly */
	yaml[len - 5] = ']';
	struct config_error err = {{0}};
	struct config *cfg = config_load_buffer(yaml, len - 4, "test.yaml", &err);
	cr_assert_not_null(cfg, "%s", err.message);
	cr_assert_eq(config_node_count(config_lookup(cfg, "a")), CONFIG_MAX_NODES - 2);
	config_free(cfg);
	free(yaml);
}

Test(config, a_scalar_over_64_kib_is_refused)
{
	size_t n = CONFIG_MAX_SCALAR + 1;
	char *yaml = malloc(n + 16);
	cr_assert_not_null(yaml);
	memcpy(yaml, "a: ", 3);
	memset(yaml + 3, 'x', n);
	memcpy(yaml + 3 + n, "\n", 2);
	cr_assert_str_eq(load_error(yaml, strlen(yaml)), "test.yaml:1: scalar longer than 65536 bytes");
	yaml[3 + n - 1] = '\n';
	yaml[3 + n] = '\0';
	struct config *cfg = load(yaml);
	cr_assert_eq(strlen(scalar_at(cfg, "a")), CONFIG_MAX_SCALAR);
	config_free(cfg);
	free(yaml);
}

Test(config, a_top_level_that_is_not_a_map_is_refused)
{
	cr_assert_load_error("- 25\n- 587\n",
	                     "test.yaml:1: the top level must be a map of sections, got a list");
	cr_assert_load_error("\n\nhello\n",
	                     "test.yaml:3: the top level must be a map of sections, got a scalar");
}

Test(config, a_second_yaml_document_is_refused)
{
	cr_assert_load_error("a: 1\n---\nb: 2\n", "test.yaml:2: more than one YAML document");
}

Test(config, a_nul_byte_in_a_scalar_is_refused)
{
	cr_assert_load_error("a: \"x\\0y\"\n", "test.yaml:1: scalar holds a NUL byte");
}

Test(config, error_messages_stay_on_one_line)
{
	static const char yaml[] = "\"a\\nb\": 1\n\"a\\nb\": 2\n";
	const char *msg = load_error(yaml, strlen(yaml));
	cr_assert_str_eq(msg, "test.yaml:2: duplicate key 'a?b'");
}

/* ---- typed getters ---- */

static const char getters_yaml[] = "v:\n"                          /* 1 */
                                   "  yes1: yes\n"                 /* 2 */
                                   "  no1: Off\n"                  /* 3 */
                                   "  maybe: maybe\n"              /* 4 */
                                   "  n: 42\n"                     /* 5 */
                                   "  neg: -1\n"                   /* 6 */
                                   "  big: 18446744073709551616\n" /* 7 */
                                   "  max: 18446744073709551615\n" /* 8 */
                                   "  size: 64KiB\n"               /* 9 */
                                   "  badsize: 1.5mb\n"            /* 10 */
                                   "  hugesize: 17179869184gb\n"   /* 11 */
                                   "  secs: 5m\n"                  /* 12 */
                                   "  badsecs: 5 m\n"              /* 13 */
                                   "  list: [1, 2]\n"              /* 14 */
                                   "  map: {a: 1}\n";              /* 15 */

Test(config, bool_getter_reads_every_spelling_and_names_a_bad_value)
{
	static const char *const trues[] = {"true", "yes", "on", "1", "TRUE", "Yes"};
	static const char *const falses[] = {"false", "no", "off", "0", "False", "OFF"};
	struct config_error err = {{0}};
	bool b;
	for (size_t i = 0; i < sizeof trues / sizeof trues[0]; i++) {
		char set[64];
		struct config *cfg = config_new();
		snprintf(set, sizeof set, "x=%s", trues[i]);
		set_ok(cfg, set);
		b = false;
		cr_assert_eq(config_get_bool(cfg, "x", false, &b, &err), 0, "%s", trues[i]);
		cr_assert(b, "%s", trues[i]);
		snprintf(set, sizeof set, "x=%s", falses[i]);
		set_ok(cfg, set);
		cr_assert_eq(config_get_bool(cfg, "x", true, &b, &err), 0, "%s", falses[i]);
		cr_assert_not(b, "%s", falses[i]);
		config_free(cfg);
	}
	struct config *cfg = load(getters_yaml);
	cr_assert_eq(config_get_bool(cfg, "v.yes1", false, &b, &err), 0);
	cr_assert(b);
	cr_assert_eq(config_get_bool(cfg, "v.no1", true, &b, &err), 0);
	cr_assert_not(b);
	cr_assert_eq(config_get_bool(cfg, "v.absent", true, &b, &err), 0);
	cr_assert(b);
	cr_assert_eq(config_get_bool(cfg, "v.maybe", true, &b, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:4: v.maybe: expected true or false, got 'maybe'");
	cr_assert_eq(config_get_bool(cfg, "v.map", true, &b, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:15: v.map: expected true or false, got a map");
	config_free(cfg);
}

Test(config, u64_getter_checks_digits_range_and_overflow)
{
	struct config *cfg = load(getters_yaml);
	struct config_error err = {{0}};
	uint64_t v = 0;
	cr_assert_eq(config_get_u64(cfg, "v.n", 0, 1, 100, &v, &err), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(config_get_u64(cfg, "v.max", 0, 0, UINT64_MAX, &v, &err), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(config_get_u64(cfg, "v.absent", 7, 1, 100, &v, &err), 0);
	cr_assert_eq(v, 7);

	cr_assert_eq(config_get_u64(cfg, "v.n", 0, 50, 100, &v, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:5: v.n: expected a number from 50 to 100, got '42'");
	cr_assert_eq(config_get_u64(cfg, "v.n", 0, 1, 41, &v, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:5: v.n: expected a number from 1 to 41, got '42'");
	cr_assert_eq(config_get_u64(cfg, "v.neg", 0, 0, 100, &v, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:6: v.neg: expected a number from 0 to 100, got '-1'");
	cr_assert_eq(config_get_u64(cfg, "v.big", 0, 0, UINT64_MAX, &v, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:7: v.big: expected a number from 0 to 18446744073709551615, "
	                              "got '18446744073709551616'");
	cr_assert_eq(config_get_u64(cfg, "v.list", 0, 0, 9, &v, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:14: v.list: expected a number, got a list");
	cr_assert_eq(config_get_u64(cfg, "v.size", 0, 0, 9, &v, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:9: v.size: expected a number from 0 to 9, got '64KiB'");

	static const char *const junk[] = {"+1", " 1", "1 ", "0x10", "1e3", "", "1.0", "１"};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		char set[64];
		snprintf(set, sizeof set, "v.n=%s", junk[i]);
		set_ok(cfg, set);
		cr_assert_eq(config_get_u64(cfg, "v.n", 0, 0, UINT64_MAX, &v, &err), -1, "'%s'", junk[i]);
	}
	config_free(cfg);
}

Test(config, size_getter_takes_1024_based_units_in_any_case)
{
	static const struct {
		const char *text;
		uint64_t value;
	} cases[] = {
	    {"0", 0},           {"512", 512},         {"64k", 64 << 10},
	    {"64KB", 64 << 10}, {"1kib", 1024},       {"128mb", 128u << 20},
	    {"3M", 3u << 20},   {"2MiB", 2u << 20},   {"1g", 1u << 30},
	    {"1GB", 1u << 30},  {"4gib", 4ull << 30}, {"17179869183gb", 17179869183ull << 30},
	};
	struct config_error err = {{0}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct config *cfg = config_new();
		char set[64];
		uint64_t v = 1;
		snprintf(set, sizeof set, "s=%s", cases[i].text);
		set_ok(cfg, set);
		cr_assert_eq(config_get_size(cfg, "s", 0, &v, &err), 0, "%s: %s", cases[i].text, err.message);
		cr_assert_eq(v, cases[i].value, "%s", cases[i].text);
		config_free(cfg);
	}
}

Test(config, size_getter_names_malformed_and_overflowing_values)
{
	struct config *cfg = load(getters_yaml);
	struct config_error err = {{0}};
	uint64_t v = 0;
	cr_assert_eq(config_get_size(cfg, "v.size", 0, &v, &err), 0);
	cr_assert_eq(v, 64 << 10);
	cr_assert_eq(config_get_size(cfg, "v.absent", 99, &v, &err), 0);
	cr_assert_eq(v, 99);
	cr_assert_eq(config_get_size(cfg, "v.badsize", 0, &v, &err), -1);
	cr_assert_str_eq(
	    err.message,
	    "test.yaml:10: v.badsize: expected a size such as 65536, 64kb or 32mib, got '1.5mb'");
	cr_assert_eq(config_get_size(cfg, "v.hugesize", 0, &v, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:11: v.hugesize: '17179869184gb' does not fit in 64 bits");
	cr_assert_eq(config_get_size(cfg, "v.big", 0, &v, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:7: v.big: '18446744073709551616' does not fit in 64 bits");
	cr_assert_eq(config_get_size(cfg, "v.map", 0, &v, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:15: v.map: expected a size, got a map");

	static const char *const junk[] = {"mb", "64 kb", "64tb", "-1", "64b", "64kbb", "k64", ""};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		char set[64];
		snprintf(set, sizeof set, "v.size=%s", junk[i]);
		set_ok(cfg, set);
		cr_assert_eq(config_get_size(cfg, "v.size", 0, &v, &err), -1, "'%s'", junk[i]);
	}
	config_free(cfg);
}

Test(config, seconds_getter_takes_s_m_h_d)
{
	static const struct {
		const char *text;
		uint64_t value;
	} cases[] = {{"30", 30},    {"30s", 30},  {"5m", 300}, {"2h", 7200},
	             {"1d", 86400}, {"2H", 7200}, {"0s", 0}};
	struct config_error err = {{0}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct config *cfg = config_new();
		char set[64];
		uint64_t v = 1;
		snprintf(set, sizeof set, "t=%s", cases[i].text);
		set_ok(cfg, set);
		cr_assert_eq(config_get_seconds(cfg, "t", 0, &v, &err), 0, "%s: %s", cases[i].text,
		             err.message);
		cr_assert_eq(v, cases[i].value, "%s", cases[i].text);
		config_free(cfg);
	}
	struct config *cfg = load(getters_yaml);
	uint64_t v = 0;
	cr_assert_eq(config_get_seconds(cfg, "v.secs", 0, &v, &err), 0);
	cr_assert_eq(v, 300);
	cr_assert_eq(config_get_seconds(cfg, "v.absent", 30, &v, &err), 0);
	cr_assert_eq(v, 30);
	cr_assert_eq(config_get_seconds(cfg, "v.badsecs", 0, &v, &err), -1);
	cr_assert_str_eq(
	    err.message,
	    "test.yaml:13: v.badsecs: expected a duration such as 30, 30s, 5m, 2h or 1d, got '5 m'");
	set_ok(cfg, "v.secs=213503982334601d"); /* UINT64_MAX / 86400 */
	cr_assert_eq(config_get_seconds(cfg, "v.secs", 0, &v, &err), 0);
	cr_assert_eq(v, 213503982334601ull * 86400);
	set_ok(cfg, "v.secs=213503982334602d");
	cr_assert_eq(config_get_seconds(cfg, "v.secs", 0, &v, &err), -1);
	cr_assert_str_eq(err.message, "--set: v.secs: '213503982334602d' does not fit in 64 bits");
	set_ok(cfg, "v.secs=5w");
	cr_assert_eq(config_get_seconds(cfg, "v.secs", 0, &v, &err), -1);
	cr_assert_str_eq(err.message,
	                 "--set: v.secs: expected a duration such as 30, 30s, 5m, 2h or 1d, got '5w'");
	config_free(cfg);
}

Test(config, string_getter_returns_any_scalar_or_the_default)
{
	struct config *cfg = load(getters_yaml);
	struct config_error err = {{0}};
	const char *s = NULL;
	cr_assert_eq(config_get_string(cfg, "v.maybe", "d", &s, &err), 0);
	cr_assert_str_eq(s, "maybe");
	cr_assert_eq(config_get_string(cfg, "v.absent", "d", &s, &err), 0);
	cr_assert_str_eq(s, "d");
	cr_assert_eq(config_get_string(cfg, "v.absent", NULL, &s, &err), 0);
	cr_assert_null(s);
	cr_assert_eq(config_get_string(cfg, "v.list", "d", &s, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:14: v.list: expected a string, got a list");
	config_free(cfg);
}

Test(config, a_long_bad_value_is_cut_short_in_the_message)
{
	struct config *cfg = config_new();
	char set[200] = "x=";
	memset(set + 2, 'z', 100);
	set_ok(cfg, set);
	struct config_error err = {{0}};
	bool b;
	cr_assert_eq(config_get_bool(cfg, "x", false, &b, &err), -1);
	cr_assert_str_eq(err.message,
	                 "--set: x: expected true or false, got "
	                 "'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...'");
	config_free(cfg);
}

/* ---- ports ---- */

static const char ports_yaml[] = "smtp:\n"                    /* 1 */
                                 "  ports: [25, 587, 2525]\n" /* 2 */
                                 "  flat: \"443,465\"\n"      /* 3 */
                                 "  spaced: 443, 465 ,993\n"  /* 4 */
                                 "  zero:\n"                  /* 5 */
                                 "    - 25\n"                 /* 6 */
                                 "    - 0\n"                  /* 7 */
                                 "  high: 65536\n"            /* 8 */
                                 "  word: [25, smtp]\n"       /* 9 */
                                 "  gap: 25,,587\n"           /* 10 */
                                 "  map: {a: 25}\n"           /* 11 */
                                 "  deep: [25, [587]]\n"      /* 12 */
                                 "  empty: []\n";             /* 13 */

Test(config, ports_come_from_a_list_or_a_comma_separated_scalar)
{
	struct config *cfg = load(ports_yaml);
	struct config_error err = {{0}};
	uint16_t p[4];
	size_t n = 99;
	cr_assert_eq(config_get_ports(cfg, "smtp.ports", NULL, 0, p, 4, &n, &err), 0, "%s", err.message);
	cr_assert_eq(n, 3);
	cr_assert_eq(p[0], 25);
	cr_assert_eq(p[1], 587);
	cr_assert_eq(p[2], 2525);
	cr_assert_eq(config_get_ports(cfg, "smtp.flat", NULL, 0, p, 4, &n, &err), 0, "%s", err.message);
	cr_assert_eq(n, 2);
	cr_assert_eq(p[0], 443);
	cr_assert_eq(p[1], 465);
	cr_assert_eq(config_get_ports(cfg, "smtp.spaced", NULL, 0, p, 4, &n, &err), 0, "%s", err.message);
	cr_assert_eq(n, 3);
	cr_assert_eq(p[2], 993);
	cr_assert_eq(config_get_ports(cfg, "smtp.empty", NULL, 0, p, 4, &n, &err), 0, "%s", err.message);
	cr_assert_eq(n, 0);
	config_free(cfg);
}

Test(config, ports_default_when_absent)
{
	static const uint16_t def[] = {25, 587};
	struct config *cfg = load(ports_yaml);
	struct config_error err = {{0}};
	uint16_t p[4];
	size_t n = 99;
	cr_assert_eq(config_get_ports(cfg, "smtp.absent", def, 2, p, 4, &n, &err), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(p[1], 587);
	cr_assert_eq(config_get_ports(cfg, "smtp.absent", NULL, 0, p, 4, &n, &err), 0);
	cr_assert_eq(n, 0);
	config_free(cfg);
}

Test(config, a_bad_port_is_named_at_its_own_line)
{
	struct config *cfg = load(ports_yaml);
	struct config_error err = {{0}};
	uint16_t p[4];
	size_t n = 0;
	static const struct {
		const char *path;
		const char *message;
	} cases[] = {
	    {"smtp.zero", "test.yaml:7: smtp.zero: expected a port from 1 to 65535, got '0'"},
	    {"smtp.high", "test.yaml:8: smtp.high: expected a port from 1 to 65535, got '65536'"},
	    {"smtp.word", "test.yaml:9: smtp.word: expected a port from 1 to 65535, got 'smtp'"},
	    {"smtp.gap", "test.yaml:10: smtp.gap: expected a port from 1 to 65535, got ''"},
	    {"smtp.map", "test.yaml:11: smtp.map: expected a list of ports, got a map"},
	    {"smtp.deep", "test.yaml:12: smtp.deep: expected a port from 1 to 65535, got a list"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_assert_eq(config_get_ports(cfg, cases[i].path, NULL, 0, p, 4, &n, &err), -1, "%s",
		             cases[i].path);
		cr_assert_str_eq(err.message, cases[i].message);
	}
	config_free(cfg);
}

Test(config, more_ports_than_room_is_an_error)
{
	struct config *cfg = load(ports_yaml);
	struct config_error err = {{0}};
	uint16_t p[2];
	size_t n = 0;
	cr_assert_eq(config_get_ports(cfg, "smtp.ports", NULL, 0, p, 2, &n, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:2: smtp.ports: more than 2 ports");
	cr_assert_eq(config_get_ports(cfg, "smtp.spaced", NULL, 0, p, 2, &n, &err), -1);
	cr_assert_str_eq(err.message, "test.yaml:4: smtp.spaced: more than 2 ports");
	cr_assert_eq(config_get_ports(cfg, "smtp.flat", NULL, 0, p, 2, &n, &err), 0);
	cr_assert_eq(n, 2);
	config_free(cfg);
}

Test(config, ports_from_set_take_both_forms_and_name_set_in_errors)
{
	struct config *cfg = load(ports_yaml);
	struct config_error err = {{0}};
	uint16_t p[4];
	size_t n = 0;
	set_ok(cfg, "smtp.ports=465,587");
	cr_assert_eq(config_get_ports(cfg, "smtp.ports", NULL, 0, p, 4, &n, &err), 0, "%s", err.message);
	cr_assert_eq(n, 2);
	cr_assert_eq(p[0], 465);
	set_ok(cfg, "smtp.ports=[2525]");
	cr_assert_eq(config_get_ports(cfg, "smtp.ports", NULL, 0, p, 4, &n, &err), 0, "%s", err.message);
	cr_assert_eq(n, 1);
	cr_assert_eq(p[0], 2525);
	set_ok(cfg, "smtp.ports=[25, 70000]");
	cr_assert_eq(config_get_ports(cfg, "smtp.ports", NULL, 0, p, 4, &n, &err), -1);
	cr_assert_str_eq(err.message, "--set: smtp.ports: expected a port from 1 to 65535, got '70000'");
	config_free(cfg);
}

/* ---- --set ---- */

Test(config, set_creates_nested_maps_with_set_as_origin)
{
	struct config *cfg = config_new();
	set_ok(cfg, "flow.timeout.new=45s");
	const struct config_node *n = config_lookup(cfg, "flow.timeout.new");
	cr_assert_str_eq(config_node_scalar(n), "45s");
	cr_assert_str_eq(config_node_key(n), "new");
	cr_assert_str_eq(config_node_origin(n), "--set");
	cr_assert_eq(config_node_line(n), 0);
	cr_assert_eq(config_node_kind(config_lookup(cfg, "flow")), CONFIG_MAP);
	cr_assert_eq(config_node_kind(config_lookup(cfg, "flow.timeout")), CONFIG_MAP);
	cr_assert_str_eq(config_node_origin(config_lookup(cfg, "flow.timeout")), "--set");
	set_ok(cfg, "flow.timeout.closed=5s");
	cr_assert_eq(config_node_count(config_lookup(cfg, "flow.timeout")), 2);
	cr_assert_str_eq(config_node_key(config_node_child(config_lookup(cfg, "flow.timeout"), 1)), "closed");
	config_free(cfg);
}

Test(config, set_overrides_a_file_value_in_place)
{
	struct config *cfg = load(nested_yaml);
	set_ok(cfg, "capture.snaplen=1500");
	const struct config_node *n = config_lookup(cfg, "capture.snaplen");
	cr_assert_str_eq(config_node_scalar(n), "1500");
	cr_assert_str_eq(config_node_origin(n), "--set");
	cr_assert_eq(config_node_line(n), 0);
	cr_assert_eq(config_node_child(config_lookup(cfg, "capture"), 0), n);
	cr_assert_eq(config_node_count(config_lookup(cfg, "capture")), 1);
	/* a list replaced by a scalar and back */
	set_ok(cfg, "smtp.ports=25");
	cr_assert_str_eq(scalar_at(cfg, "smtp.ports"), "25");
	set_ok(cfg, "smtp.ports=[1, 2, 3]");
	cr_assert_eq(config_node_count(config_lookup(cfg, "smtp.ports")), 3);
	/* new keys go after the file's */
	set_ok(cfg, "flow.hash_size=1024");
	const struct config_node *flow = config_lookup(cfg, "flow");
	cr_assert_str_eq(config_node_key(config_node_child(flow, config_node_count(flow) - 1)), "hash_size");
	config_free(cfg);
}

Test(config, set_parses_a_bracketed_value_as_a_flow_list)
{
	struct config *cfg = config_new();
	set_ok(cfg, "smtp.ports=[25, 587]");
	const struct config_node *n = config_lookup(cfg, "smtp.ports");
	cr_assert_eq(config_node_kind(n), CONFIG_SEQUENCE);
	cr_assert_eq(config_node_count(n), 2);
	cr_assert_str_eq(config_node_scalar(config_node_child(n, 1)), "587");
	cr_assert_str_eq(config_node_origin(config_node_child(n, 1)), "--set");
	cr_assert_eq(config_node_line(config_node_child(n, 1)), 0);
	set_ok(cfg, "empty=[]");
	cr_assert_eq(config_node_kind(config_lookup(cfg, "empty")), CONFIG_SEQUENCE);
	cr_assert_eq(config_node_count(config_lookup(cfg, "empty")), 0);
	/* only a leading '[' makes a list; the rest is kept as written */
	set_ok(cfg, "s=a,[b]");
	cr_assert_str_eq(scalar_at(cfg, "s"), "a,[b]");
	set_ok(cfg, "eq=a=b");
	cr_assert_str_eq(scalar_at(cfg, "eq"), "a=b");
	set_ok(cfg, "blank=");
	cr_assert_str_eq(scalar_at(cfg, "blank"), "");
	config_free(cfg);
}

Test(config, set_refuses_an_assignment_without_a_key)
{
	struct config *cfg = config_new();
	cr_assert_str_eq(set_error(cfg, "capture.snaplen"),
	                 "--set: expected KEY=VALUE, got 'capture.snaplen'");
	cr_assert_str_eq(set_error(cfg, "=5"), "--set: expected KEY=VALUE, got '=5'");
	cr_assert_str_eq(set_error(cfg, ""), "--set: expected KEY=VALUE, got ''");
	cr_assert_str_eq(set_error(cfg, "a..b=1"),
	                 "--set: 'a..b' is not a valid key (empty part, or one over 256 bytes)");
	cr_assert_str_eq(set_error(cfg, ".a=1"),
	                 "--set: '.a' is not a valid key (empty part, or one over 256 bytes)");
	cr_assert_eq(config_node_count(config_lookup(cfg, "")), 0);
	config_free(cfg);
}

Test(config, set_refuses_to_go_through_a_value_or_overwrite_a_section)
{
	struct config *cfg = load(nested_yaml);
	cr_assert_str_eq(set_error(cfg, "capture.snaplen.x=1"), "--set: capture.snaplen is not a section");
	cr_assert_str_eq(set_error(cfg, "smtp.ports.first=25"), "--set: smtp.ports is not a section");
	cr_assert_str_eq(set_error(cfg, "flow.timeout=5"), "--set: flow.timeout is a section, not a value");
	cr_assert_str_eq(scalar_at(cfg, "capture.snaplen"), "65535");
	config_free(cfg);
}

Test(config, set_reports_a_bad_list_with_its_key)
{
	struct config *cfg = config_new();
	cr_assert_str_eq(set_error(cfg, "smtp.ports=[25, 587"),
	                 "--set: smtp.ports: did not find expected ',' or ']'");
	cr_assert_str_eq(set_error(cfg, "smtp.ports=[25] x"),
	                 "--set: smtp.ports: did not find expected <document start>");
	cr_assert_str_eq(set_error(cfg, "smtp.ports=[&a 25]"),
	                 "--set: smtp.ports: anchors (&a) are not supported");
	cr_assert_null(config_lookup(cfg, "smtp"));
	config_free(cfg);
}

Test(config, set_keeps_the_depth_cap)
{
	struct config *cfg = config_new();
	char expected[256];
	/* 31 maps below the root: the deepest allowed */
	char *key = deep_key(CONFIG_MAX_DEPTH - 1, "v=1");
	set_ok(cfg, key);
	free(key);
	/* one more map, created or walked into, is too deep */
	key = deep_key(CONFIG_MAX_DEPTH - 1, "b.c=1");
	snprintf(expected, sizeof expected, "--set: %.*s: nested deeper than 32 levels", (int)strlen(key) - 2,
	         key);
	cr_assert_str_eq(set_error(cfg, key), expected);
	free(key);
	key = deep_key(CONFIG_MAX_DEPTH - 1, "l=[1]");
	snprintf(expected, sizeof expected, "--set: %.*s: nested deeper than 32 levels", (int)strlen(key) - 4,
	         key);
	cr_assert_str_eq(set_error(cfg, key), expected);
	free(key);
	key = deep_key(CONFIG_MAX_DEPTH - 2, "l=[1]");
	set_ok(cfg, key);
	free(key);
	config_free(cfg);
}

Test(config, set_values_in_getter_errors_are_named_by_set)
{
	struct config *cfg = load(nested_yaml);
	set_ok(cfg, "capture.snaplen=big");
	struct config_error err = {{0}};
	uint64_t v;
	cr_assert_eq(config_get_u64(cfg, "capture.snaplen", 0, 64, 65535, &v, &err), -1);
	cr_assert_str_eq(err.message,
	                 "--set: capture.snaplen: expected a number from 64 to 65535, got 'big'");
	config_free(cfg);
}

/* ---- dotted librdkafka keys ---- */

Test(config, a_dotted_librdkafka_key_reads_the_same_from_the_file_and_from_set)
{
	struct config *file = load("kafka: {properties: {message.timeout.ms: 5000}}\n");
	struct config *set = config_new();
	set_ok(set, "kafka.properties.message.timeout.ms=5000");

	cr_assert_str_eq(flatten(file, "kafka.properties"), "message.timeout.ms=5000\n");
	cr_assert_str_eq(flatten(set, "kafka.properties"), "message.timeout.ms=5000\n");
	cr_assert_str_eq(scalar_at(file, "kafka.properties.message.timeout.ms"), "5000");
	cr_assert_str_eq(scalar_at(set, "kafka.properties.message.timeout.ms"), "5000");
	/* the file keeps the key as written; --set nests */
	cr_assert_str_eq(config_node_key(config_lookup(file, "kafka.properties.message.timeout.ms")),
	                 "message.timeout.ms");
	cr_assert_str_eq(config_node_key(config_lookup(set, "kafka.properties.message.timeout.ms")), "ms");
	config_free(file);
	config_free(set);
}

Test(config, set_overrides_a_dotted_file_key_instead_of_adding_a_second_one)
{
	struct config *cfg = load("kafka:\n  properties:\n    message.timeout.ms: 5000\n    acks: all\n"
	                          "    queue:\n      buffering.max.ms: 5\n");
	set_ok(cfg, "kafka.properties.message.timeout.ms=1000");
	set_ok(cfg, "kafka.properties.queue.buffering.max.ms=50");
	set_ok(cfg, "kafka.properties.message.max.bytes=100000");
	cr_assert_str_eq(flatten(cfg, "kafka.properties"),
	                 "message.timeout.ms=1000\nacks=all\n"
	                 "queue.buffering.max.ms=50\nmessage.max.bytes=100000\n");
	cr_assert_str_eq(scalar_at(cfg, "kafka.properties.message.max.bytes"), "100000");
	config_free(cfg);
}

Test(config, set_can_add_a_property_that_extends_a_dotted_file_property)
{
	struct config *cfg = load("kafka: {properties: {api.version.request: 'true'}}\n");
	set_ok(cfg, "kafka.properties.api.version.request.timeout.ms=5000");
	cr_assert_str_eq(flatten(cfg, "kafka.properties"),
	                 "api.version.request=true\napi.version.request.timeout.ms=5000\n");
	cr_assert_str_eq(scalar_at(cfg, "kafka.properties.api.version.request"), "true");
	config_free(cfg);
}

Test(config, set_cannot_give_both_a_property_and_one_that_extends_it)
{
	/* The documented limit: --set nests, and a nested value cannot also be a section. */
	struct config *cfg = config_new();
	set_ok(cfg, "kafka.properties.api.version.request=true");
	cr_assert_str_eq(set_error(cfg, "kafka.properties.api.version.request.timeout.ms=5000"),
	                 "--set: kafka.properties.api.version.request is not a section");
	config_free(cfg);
}

Test(config, flatten_reports_lists_as_values_and_skips_empty_maps)
{
	struct config *cfg = load("p:\n  a: 1\n  b: {}\n  c: [1, 2]\n  d: {e: {f: x}}\n");
	cr_assert_str_eq(flatten(cfg, "p"), "a=1\nc=(list)\nd.e.f=x\n");
	cr_assert_str_eq(flatten(cfg, "p.d"), "e.f=x\n");
	cr_assert_eq(config_node_flatten(config_lookup(cfg, "p.a"), flat_visit, NULL), 0);
	cr_assert_eq(config_node_flatten(NULL, flat_visit, NULL), 0);
	cr_assert_eq(config_node_flatten(config_lookup(cfg, ""), NULL, NULL), 3);
	config_free(cfg);
}

/* ---- config_error_at ---- */

Test(config, error_at_names_the_file_line_or_set_and_the_path)
{
	struct config *cfg = load(nested_yaml);
	set_ok(cfg, "extra.x=1");
	struct config_error err = {{0}};
	config_error_at(&err, config_lookup(cfg, "flow.memcap"), "flow.memcap", "too small (%d)", 3);
	cr_assert_str_eq(err.message, "test.yaml:10: flow.memcap: too small (3)");
	config_error_at(&err, config_lookup(cfg, "extra.x"), "extra.x", "unknown setting");
	cr_assert_str_eq(err.message, "--set: extra.x: unknown setting");
	config_error_at(&err, NULL, "kafka.brokers", "is required");
	cr_assert_str_eq(err.message, "kafka.brokers: is required");
	config_error_at(&err, NULL, NULL, "plain");
	cr_assert_str_eq(err.message, "plain");
	config_error_at(&err, config_lookup(cfg, "flow"), "", "whole section");
	cr_assert_str_eq(err.message, "test.yaml:7: whole section");
	config_error_at(NULL, NULL, "x", "no crash");
	config_free(cfg);
}
