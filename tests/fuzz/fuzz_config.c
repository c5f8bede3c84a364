/*
 * fuzz_config.c: config_load_buffer on arbitrary bytes, then every reader.
 *
 * A loaded tree is walked whole (every accessor on every node), flattened,
 * read through each typed getter at the paths the sensor uses, and finally
 * given a few --set overrides derived from the input, so the mutating code
 * runs on trees the parser produced, not only on ones we wrote by hand.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sensor/config/config.h"

/* Touches every field so the sanitizers see each read. */
static size_t walk(const struct config_node *n)
{
	size_t sum = (size_t)config_node_kind(n) + config_node_line(n) + strlen(config_node_origin(n));
	const char *s = config_node_scalar(n);
	const char *key = config_node_key(n);
	if (s)
		sum += strlen(s);
	if (key)
		sum += strlen(key);
	for (size_t i = 0; i < config_node_count(n); i++)
		sum += walk(config_node_child(n, i));
	return sum;
}

static void visit(const char *dotted_key, const struct config_node *value, void *ctx)
{
	size_t *sum = ctx;
	*sum += strlen(dotted_key) + (config_node_scalar(value) ? 1 : 0);
}

static void read_getters(const struct config *cfg, const char *path)
{
	struct config_error err;
	uint64_t u;
	bool b;
	const char *s;
	uint16_t ports[8];
	size_t n;

	(void)config_get_bool(cfg, path, false, &b, &err);
	(void)config_get_u64(cfg, path, 0, 1, 65535, &u, &err);
	(void)config_get_size(cfg, path, 0, &u, &err);
	(void)config_get_seconds(cfg, path, 0, &u, &err);
	(void)config_get_string(cfg, path, NULL, &s, &err);
	(void)config_get_ports(cfg, path, NULL, 0, ports, 8, &n, &err);
}

/* A few --set assignments built from the input's first keys, so they hit existing nodes. */
static void apply_sets(struct config *cfg)
{
	static const char *const values[] = {"1", "[25, 587]", "[[1]]", "x,y", "[", ""};
	const struct config_node *root = config_lookup(cfg, "");
	struct config_error err;
	char assignment[1024];

	for (size_t i = 0; i < config_node_count(root) && i < 4; i++) {
		const struct config_node *c = config_node_child(root, i);
		const struct config_node *g = config_node_child(c, 0);
		const char *gk = config_node_key(g);
		if (gk)
			snprintf(assignment, sizeof assignment, "%s.%s.z=%s", config_node_key(c), gk,
			         values[i % 6]);
		else
			snprintf(assignment, sizeof assignment, "%s.y=%s", config_node_key(c),
			         values[(i + 3) % 6]);
		(void)config_set(cfg, assignment, &err);
		snprintf(assignment, sizeof assignment, "%s=%s", config_node_key(c), values[(i + 1) % 6]);
		(void)config_set(cfg, assignment, &err);
	}
	(void)config_set(cfg, "kafka.properties.message.timeout.ms=5000", &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
	    "capture.snaplen",
	    "capture.promiscuous",
	    "capture.buffer_size",
	    "smtp.ports",
	    "tls.implicit_ports",
	    "flow.memcap",
	    "flow.timeout.new",
	    "flow.emergency.recovery_percent",
	    "stream.depth",
	    "kafka.properties.message.timeout.ms",
	    "a",
	    "a.b",
	    "a.b.c",
	    "",
	};
	struct config_error err;
	struct config *cfg = config_load_buffer((const char *)data, size, "fuzz", &err);
	size_t sum = 0;

	if (!cfg)
		return 0;
	sum += walk(config_lookup(cfg, ""));
	config_node_flatten(config_lookup(cfg, ""), visit, &sum);
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		read_getters(cfg, paths[i]);
	apply_sets(cfg);
	sum += walk(config_lookup(cfg, ""));
	config_node_flatten(config_lookup(cfg, "kafka.properties"), visit, &sum);
	config_free(cfg);
	return sum == (size_t)-1; /* keeps `sum` alive; never true */
}
