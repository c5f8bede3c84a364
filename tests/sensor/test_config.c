/*
 * test_config.c: the YAML config tree (sensor/config/config.h): kinds, keys, origins
 * and lines, reading files, and what a file may not hold. The typed getters
 * are in test_config_get.c, --set in test_config_set.c; the helpers and the
 * nested_yaml example they share in tests/support/config_fixture.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_fixture.h"
#include "sensor/config/config.h"
#include "test_support.h"

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

/* ---- the tree ---- */
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
