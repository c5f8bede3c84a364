/*
 * config_fixture.c: helpers for the sensor/config/config.h tests; see the header.
 */
#include "config_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct config *load(const char *yaml)
{
	struct config_error err = {{0}};
	struct config *cfg = config_load_buffer(yaml, strlen(yaml), "test.yaml", &err);
	cr_assert_not_null(cfg, "load failed: %s", err.message);
	return cfg;
}

void set_ok(struct config *cfg, const char *assignment)
{
	struct config_error err = {{0}};
	cr_assert_eq(config_set(cfg, assignment, &err), 0, "--set %s: %s", assignment, err.message);
}

const char *scalar_at(const struct config *cfg, const char *path)
{
	return config_node_scalar(config_lookup(cfg, path));
}

/* Records what config_node_flatten reports, as "key=value" lines. */
struct flat {
	char text[1024];
	size_t n;
};

void flat_visit(const char *dotted_key, const struct config_node *value, void *ctx)
{
	struct flat *f = ctx;
	const char *s = config_node_scalar(value);
	size_t used = strlen(f->text);
	snprintf(f->text + used, sizeof f->text - used, "%s=%s\n", dotted_key, s ? s : "(list)");
	f->n++;
}

const char *flatten(const struct config *cfg, const char *path)
{
	static struct flat f;
	memset(&f, 0, sizeof f);
	size_t n = config_node_flatten(config_lookup(cfg, path), flat_visit, &f);
	cr_assert_eq(n, f.n);
	return f.text;
}

/* `open` repeated n times, then `middle`, then `close` n times, after "a: " (the root map). */
char *nested(int n, const char *open, const char *middle, const char *close)
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
char *deep_key(int n, const char *tail)
{
	size_t cap = (size_t)n * 2 + strlen(tail) + 1;
	char *s = malloc(cap);
	cr_assert_not_null(s);
	for (int i = 0; i < n; i++)
		memcpy(s + 2 * i, "a.", 2);
	snprintf(s + 2 * n, cap - 2 * (size_t)n, "%s", tail);
	return s;
}

const char nested_yaml[] = "capture:\n"                           /* 1 */
                           "  snaplen: 65535\n"                   /* 2 */
                           "smtp:\n"                              /* 3 */
                           "  ports:\n"                           /* 4 */
                           "    - 25\n"                           /* 5 */
                           "    - 587\n"                          /* 6 */
                           "flow:\n"                              /* 7 */
                           "  timeout: {new: 30s, closed: 10s}\n" /* 8 */
                           "  # a comment\n"                      /* 9 */
                           "  memcap: 128mb\n";                   /* 10 */
