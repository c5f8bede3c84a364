/*
 * test_config_set.c: --set overrides (config_set in sensor/config/config.h), dotted
 * librdkafka keys from the file and from --set, and config_node_flatten
 * (helpers in tests/support/config_fixture.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_fixture.h"
#include "sensor/config/config.h"
#include "test_support.h"

static const char *set_error(struct config *cfg, const char *assignment)
{
	static struct config_error err;
	memset(&err, 0, sizeof err);
	cr_assert_eq(config_set(cfg, assignment, &err), -1, "--set %s should fail", assignment);
	return err.message;
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
	cr_assert_str_eq(set_error(cfg, "=5"), "--set: expected KEY=VALUE, got no key before '='");
	cr_assert_str_eq(
	    set_error(cfg, "kafka.properties.sasl.password S3cret!"),
	    "--set: expected KEY=VALUE, got 'kafka.properties.sasl.password' and more, not shown (it "
	    "may be a secret)");
	cr_assert_str_eq(
	    set_error(cfg, "kafka.properties.sasl.password cGFzc3dvcmQ="),
	    "--set: expected KEY=VALUE, got 'kafka.properties.sasl.password' and more, not shown (it "
	    "may be a secret)");
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
