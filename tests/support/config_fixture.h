/*
 * config_fixture.h: helpers for the sensor/config/config.h tests (sensor layer: only
 * sensor tests may call it). Each asserts what it needs, so a test reads as
 * the behaviour it checks.
 */
#ifndef TLSOBS_CONFIG_FIXTURE_H
#define TLSOBS_CONFIG_FIXTURE_H

#include <stddef.h>

#include "sensor/config/config.h"

/* Ten lines of YAML with maps, a list and a flow map; tests name their line numbers. */
extern const char nested_yaml[];

/* Loads `yaml` as "test.yaml", failing the test if it does not load. */
struct config *load(const char *yaml);
/* Applies a --set assignment, failing the test if it is refused. */
void set_ok(struct config *cfg, const char *assignment);
const char *scalar_at(const struct config *cfg, const char *path);

/* A config_visit_fn appending "key=value\n" ("(list)" for lists) to a struct flat (ctx). */
void flat_visit(const char *dotted_key, const struct config_node *value, void *ctx);
/* The lines flattening the map at path gives (a static buffer). */
const char *flatten(const struct config *cfg, const char *path);

/* `open` repeated n times, then `middle`, then `close` n times, after "a: " (the root map); free it. */
char *nested(int n, const char *open, const char *middle, const char *close);
/* "a.a.[...].a." n times then `tail`, for --set; free it. */
char *deep_key(int n, const char *tail);

#endif
