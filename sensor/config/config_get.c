/*
 * config_get.c: typed reading of the configuration tree (rules in config.h).
 *
 * Built on the public tree API only: a getter looks a dotted path up, checks
 * the node is a scalar (or, for ports, a list) and parses its text strictly,
 * so a bad value becomes one error naming the file:line, never a silent default.
 */
#include "sensor/config/config.h"
#include "sensor/config/config_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void config_error_at(struct config_error *err, const struct config_node *n, const char *path, const char *fmt,
                     ...)
{
	char msg[sizeof err->message];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!path)
		path = "";
	const char *sep = *path ? ": " : "";
	if (!n)
		config_error_set(err, "%s%s%s", path, sep, msg);
	else if (config_node_line(n) == 0)
		config_error_set(err, "%s: %s%s%s", config_node_origin(n), path, sep, msg);
	else
		config_error_set(err, "%s:%u: %s%s%s", config_node_origin(n), config_node_line(n), path, sep,
		                 msg);
}

/* 1 with *node set when a scalar is at path, 0 when nothing is, -1 (err filled) for a map or list. */
static int get_scalar(const struct config *cfg, const char *path, const char *expected,
                      const struct config_node **node, struct config_error *err)
{
	const struct config_node *n = config_lookup(cfg, path);
	if (!n)
		return 0;
	if (config_node_kind(n) != CONFIG_SCALAR) {
		config_error_at(err, n, path, "expected %s, got %s", expected,
		                config_kind_name(config_node_kind(n)));
		return -1;
	}
	*node = n;
	return 1;
}

/*
 * Decimal digits only. strtoull would also take leading spaces, a sign
 * ("-1" wraps to UINT64_MAX) and trailing junk, so we accumulate by hand,
 * checking overflow before each step. 0, or -1 for a non-digit or overflow.
 */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

struct unit {
	const char *name;
	uint64_t factor;
};

static const struct unit size_units[] = {
    {"", 1},
    {"k", 1ull << 10},
    {"kb", 1ull << 10},
    {"kib", 1ull << 10},
    {"m", 1ull << 20},
    {"mb", 1ull << 20},
    {"mib", 1ull << 20},
    {"g", 1ull << 30},
    {"gb", 1ull << 30},
    {"gib", 1ull << 30},
    {NULL, 0},
};

static const struct unit time_units[] = {
    {"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {NULL, 0},
};

/* Digits then an optional unit from the table: 0, -1 when malformed, -2 when it overflows. */
static int parse_with_unit(const char *s, const struct unit *units, uint64_t *out)
{
	size_t digits = strspn(s, "0123456789");
	uint64_t v;

	if (digits == 0)
		return -1;
	const struct unit *u = units;
	while (u->name && strcasecmp(s + digits, u->name) != 0)
		u++;
	if (!u->name)
		return -1;
	if (parse_u64(s, digits, &v) != 0 || v > UINT64_MAX / u->factor)
		return -2;
	*out = v * u->factor;
	return 0;
}

int config_get_bool(const struct config *cfg, const char *path, bool def, bool *out, struct config_error *err)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	const struct config_node *n = NULL;
	int found = get_scalar(cfg, path, "true or false", &n, err);

	if (found <= 0) {
		if (found == 0)
			*out = def;
		return found;
	}
	const char *s = config_node_scalar(n);
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*out = strcasecmp(s, yes[i]) == 0;
			return 0;
		}
	}
	config_error_at(err, n, path, "expected true or false, got " QUOTED, QUOTE_ARGS(s, strlen(s)));
	return -1;
}

int config_get_u64(const struct config *cfg, const char *path, uint64_t def, uint64_t min, uint64_t max,
                   uint64_t *out, struct config_error *err)
{
	const struct config_node *n = NULL;
	int found = get_scalar(cfg, path, "a number", &n, err);
	uint64_t v;

	if (found <= 0) {
		if (found == 0)
			*out = def;
		return found;
	}
	const char *s = config_node_scalar(n);
	size_t len = strlen(s);
	if (parse_u64(s, len, &v) != 0 || v < min || v > max) {
		config_error_at(err, n, path,
		                "expected a number from %" PRIu64 " to %" PRIu64 ", got " QUOTED, min, max,
		                QUOTE_ARGS(s, len));
		return -1;
	}
	*out = v;
	return 0;
}

/* The getters for sizes and durations differ only in their units and wording. */
static int get_with_unit(const struct config *cfg, const char *path, uint64_t def, uint64_t *out,
                         const struct unit *units, const char *what, const char *example,
                         struct config_error *err)
{
	const struct config_node *n = NULL;
	int found = get_scalar(cfg, path, what, &n, err);

	if (found <= 0) {
		if (found == 0)
			*out = def;
		return found;
	}
	const char *s = config_node_scalar(n);
	size_t len = strlen(s);
	switch (parse_with_unit(s, units, out)) {
	case 0:
		return 0;
	case -2:
		config_error_at(err, n, path, QUOTED " does not fit in 64 bits", QUOTE_ARGS(s, len));
		return -1;
	default:
		config_error_at(err, n, path, "expected %s such as %s, got " QUOTED, what, example,
		                QUOTE_ARGS(s, len));
		return -1;
	}
}

int config_get_size(const struct config *cfg, const char *path, uint64_t def, uint64_t *out,
                    struct config_error *err)
{
	return get_with_unit(cfg, path, def, out, size_units, "a size", "65536, 64kb or 32mib", err);
}

int config_get_seconds(const struct config *cfg, const char *path, uint64_t def, uint64_t *out,
                       struct config_error *err)
{
	return get_with_unit(cfg, path, def, out, time_units, "a duration", "30, 30s, 5m, 2h or 1d", err);
}

int config_get_string(const struct config *cfg, const char *path, const char *def, const char **out,
                      struct config_error *err)
{
	const struct config_node *n = NULL;
	int found = get_scalar(cfg, path, "a string", &n, err);

	if (found <= 0) {
		if (found == 0)
			*out = def;
		return found;
	}
	*out = config_node_scalar(n);
	return 0;
}

/* One port, given as pointer and length; fills *err naming `n` when it is not 1..65535. */
static int port_parse(const struct config_node *n, const char *path, const char *s, size_t len, uint16_t *out,
                      struct config_error *err)
{
	uint64_t v;

	if (parse_u64(s, len, &v) != 0 || v < 1 || v > 65535) {
		config_error_at(err, n, path, "expected a port from 1 to 65535, got " QUOTED,
		                QUOTE_ARGS(s, len));
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

/* "25, 587,2525": ports between commas, blanks around each allowed. */
static int ports_from_scalar(const struct config_node *n, const char *path, uint16_t *out, size_t cap,
                             size_t *count, struct config_error *err)
{
	const char *p = config_node_scalar(n);
	size_t k = 0;

	for (;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (k == cap) {
			config_error_at(err, n, path, "more than %zu ports", cap);
			return -1;
		}
		if (port_parse(n, path, p, (size_t)(end - p), &out[k], err) != 0)
			return -1;
		k++;
		if (!comma)
			break;
		p = comma + 1;
	}
	*count = k;
	return 0;
}

int config_get_ports(const struct config *cfg, const char *path, const uint16_t *def, size_t ndef,
                     uint16_t *out, size_t cap, size_t *count, struct config_error *err)
{
	const struct config_node *n = config_lookup(cfg, path);

	if (!n) {
		if (ndef > cap) {
			config_error_at(err, NULL, path, "more than %zu default ports", cap);
			return -1;
		}
		if (ndef)
			memcpy(out, def, ndef * sizeof *out);
		*count = ndef;
		return 0;
	}
	if (config_node_kind(n) == CONFIG_SCALAR)
		return ports_from_scalar(n, path, out, cap, count, err);
	if (config_node_kind(n) == CONFIG_MAP) {
		config_error_at(err, n, path, "expected a list of ports, got a map");
		return -1;
	}
	if (config_node_count(n) > cap) {
		config_error_at(err, n, path, "more than %zu ports", cap);
		return -1;
	}
	for (size_t i = 0; i < config_node_count(n); i++) {
		const struct config_node *item = config_node_child(n, i);
		if (config_node_kind(item) != CONFIG_SCALAR) {
			config_error_at(err, item, path, "expected a port from 1 to 65535, got %s",
			                config_kind_name(config_node_kind(item)));
			return -1;
		}
		const char *s = config_node_scalar(item);
		if (port_parse(item, path, s, strlen(s), &out[i], err) != 0)
			return -1;
	}
	*count = config_node_count(n);
	return 0;
}
