/*
 * settings_types.c: what each type of the settings table means (settings_table.h): how a row is loaded
 * from the configuration tree into struct sensor_settings, with its default and bounds, and how its value
 * is written back as YAML for -T -v and --list-settings. Custom rows bring their own loader and printer.
 *
 * Messages name the key, and its file:line when it was given; their wording is that of the getters
 * (config_get.c) and, for bounds, "must be at most 1gb" / "expected a duration from 1s to 7d".
 */
#include "sensor/config/settings_table.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sensor/config/settings.h"
#include "sensor/config/settings_custom.h"

static const char *const type_names[SETTING_TYPE_COUNT] = {
    "bool", "uint", "size", "duration", "string", "enum", "ports", "list", "custom",
};

const char *setting_type_str(enum setting_type t)
{
	return (unsigned)t < SETTING_TYPE_COUNT ? type_names[t] : "?";
}

static void *field(struct sensor_settings *s, size_t offset)
{
	return (char *)s + offset;
}

static const void *cfield(const struct sensor_settings *s, size_t offset)
{
	return (const char *)s + offset;
}

/* An unsigned field of 1, 2, 4 or 8 bytes (the table's bounds make the value fit). */
static void store_uint(void *dst, size_t size, uint64_t v)
{
	if (size == sizeof(uint8_t)) {
		uint8_t x = (uint8_t)v;
		memcpy(dst, &x, sizeof x);
	} else if (size == sizeof(uint16_t)) {
		uint16_t x = (uint16_t)v;
		memcpy(dst, &x, sizeof x);
	} else if (size == sizeof(uint32_t)) {
		uint32_t x = (uint32_t)v;
		memcpy(dst, &x, sizeof x);
	} else {
		memcpy(dst, &v, sizeof v);
	}
}

static uint64_t fetch_uint(const void *src, size_t size)
{
	if (size == sizeof(uint8_t))
		return *(const uint8_t *)src;
	if (size == sizeof(uint16_t)) {
		uint16_t x;
		memcpy(&x, src, sizeof x);
		return x;
	}
	if (size == sizeof(uint32_t)) {
		uint32_t x;
		memcpy(&x, src, sizeof x);
		return x;
	}
	uint64_t x;
	memcpy(&x, src, sizeof x);
	return x;
}

struct unit_name {
	const char *name;
	uint64_t factor;
};

static void format_with_units(uint64_t v, const struct unit_name *units, char *buf, size_t cap)
{
	const struct unit_name *u = units; /* largest first; the last has factor 1 */
	while (u->factor > 1 && (v == 0 || v % u->factor != 0))
		u++;
	snprintf(buf, cap, "%" PRIu64 "%s", v / u->factor, u->name);
}

void setting_format_size(uint64_t bytes, char *buf, size_t cap)
{
	static const struct unit_name units[] = {
	    {"gb", 1ull << 30}, {"mb", 1ull << 20}, {"kb", 1ull << 10}, {"", 1}};
	format_with_units(bytes, units, buf, cap);
}

void setting_format_duration(uint64_t seconds, char *buf, size_t cap)
{
	static const struct unit_name units[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
	format_with_units(seconds, units, buf, cap);
}

/* Sizes and durations outside [min, max] (when the row has bounds): an error at the value's line. */
static int check_unit_bounds(const struct config *cfg, const struct setting *st, uint64_t v,
                             struct config_error *err)
{
	if (st->max == 0 || (v >= st->min && v <= st->max))
		return 0;
	char lo[32], hi[32];
	const struct config_node *n = config_lookup(cfg, st->key);
	if (st->type == SETTING_DURATION) {
		setting_format_duration(st->min, lo, sizeof lo);
		setting_format_duration(st->max, hi, sizeof hi);
		config_error_at(err, n, st->key, "expected a duration from %s to %s", lo, hi);
		return -1;
	}
	setting_format_size(st->min, lo, sizeof lo);
	setting_format_size(st->max, hi, sizeof hi);
	if (st->min == 0)
		config_error_at(err, n, st->key, "must be at most %s", hi);
	else if (st->max == UINT64_MAX)
		config_error_at(err, n, st->key, "must be at least %s", lo);
	else
		config_error_at(err, n, st->key, "must be from %s to %s", lo, hi);
	return -1;
}

static int load_string(const struct config *cfg, const struct setting *st, char *dst,
                       struct config_error *err)
{
	const char *v;
	if (config_get_string(cfg, st->key, st->def_text ? st->def_text : "", &v, err) != 0)
		return -1;
	if (strlen(v) >= st->size) {
		config_error_at(err, config_lookup(cfg, st->key), st->key, "longer than %zu characters",
		                st->size - 1);
		return -1;
	}
	snprintf(dst, st->size, "%s", v);
	if (!dst[0] && (st->flags & SETTING_HOST_DEFAULT) &&
	    (gethostname(dst, st->size - 1) != 0 || !dst[0])) /* "sensor.name:" left empty: the default */
		snprintf(dst, st->size, "unknown");
	return 0;
}

void settings_print_add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	if (*len >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

/* "expected error, warning, notice, info or debug": the names of an enum row, as its error says them. */
static void enum_expected(const struct setting *st, char *buf, size_t cap)
{
	size_t n = 0, len = 0;
	while (st->names[n])
		n++;
	settings_print_add(buf, cap, &len, "expected");
	for (size_t i = 0; i < n; i++)
		settings_print_add(buf, cap, &len, "%s %s",
		                   i == 0       ? ""
		                   : i + 1 == n ? " or"
		                                : ",",
		                   st->names[i]);
}

static int load_enum(const struct config *cfg, const struct setting *st, void *dst, struct config_error *err)
{
	const char *v;
	if (config_get_string(cfg, st->key, st->def_text, &v, err) != 0)
		return -1;
	for (unsigned i = 0; st->names[i]; i++)
		if (strcmp(v, st->names[i]) == 0) {
			store_uint(dst, st->size, i);
			return 0;
		}
	char expected[256];
	enum_expected(st, expected, sizeof expected);
	config_error_at(err, config_lookup(cfg, st->key), st->key, "%s", expected);
	return -1;
}

/* Copies text[0..len) into the next entry of a list row; errors name the node. */
static int list_add(const struct config_node *n, const struct setting *st, struct sensor_settings *s,
                    const char *text, size_t len, struct config_error *err)
{
	size_t *count = field(s, st->count_offset);
	while (len > 0 && (*text == ' ' || *text == '\t'))
		text++, len--;
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len == 0) {
		config_error_at(err, n, st->key, "an empty entry");
		return -1;
	}
	if (*count >= st->cap) {
		config_error_at(err, n, st->key, "more than %zu entries", st->cap);
		return -1;
	}
	if (len >= st->width) {
		config_error_at(err, n, st->key, "an entry longer than %zu characters", st->width - 1);
		return -1;
	}
	char *slot = (char *)field(s, st->offset) + *count * st->width;
	memcpy(slot, text, len);
	slot[len] = '\0';
	(*count)++;
	return 0;
}

/*
 * A list: a YAML sequence or, as --set gives it, one scalar: cut at commas for SETTING_SPLIT rows
 * ("eth1,eth2"), else one entry, since paths and "kafka:HOST:PORT,HOST:PORT" may hold commas. Absent or
 * "": no entries.
 */
static int load_list(const struct config *cfg, const struct setting *st, struct sensor_settings *s,
                     struct config_error *err)
{
	const struct config_node *n = config_lookup(cfg, st->key);
	*(size_t *)field(s, st->count_offset) = 0;
	if (!n)
		return 0;
	if (config_node_kind(n) == CONFIG_MAP) {
		config_error_at(err, n, st->key, "expected a list, got a map");
		return -1;
	}
	if (config_node_kind(n) == CONFIG_SCALAR) {
		const char *v = config_node_scalar(n);
		if (strspn(v, " \t") == strlen(v))
			return 0;
		for (const char *comma; (st->flags & SETTING_SPLIT) && (comma = strchr(v, ','));
		     v = comma + 1)
			if (list_add(n, st, s, v, (size_t)(comma - v), err) != 0)
				return -1;
		return list_add(n, st, s, v, strlen(v), err);
	}
	for (size_t i = 0; i < config_node_count(n); i++) {
		const struct config_node *item = config_node_child(n, i);
		const char *v = config_node_scalar(item);
		if (!v) {
			config_error_at(err, item, st->key, "expected a list of values");
			return -1;
		}
		if (list_add(item, st, s, v, strlen(v), err) != 0)
			return -1;
	}
	return 0;
}

/* Sizes and durations: the getter, then the row's bounds; durations are kept in microseconds. */
static int load_with_unit(const struct config *cfg, const struct setting *st, struct sensor_settings *s,
                          struct config_error *err)
{
	uint64_t v;
	int rc = st->type == SETTING_SIZE ? config_get_size(cfg, st->key, st->def, &v, err)
	                                  : config_get_seconds(cfg, st->key, st->def, &v, err);
	if (rc != 0 || check_unit_bounds(cfg, st, v, err) != 0)
		return -1;
	store_uint(field(s, st->offset), st->size, st->type == SETTING_DURATION ? v * 1000000u : v);
	return 0;
}

int setting_load(const struct config *cfg, const struct setting *st, struct sensor_settings *s,
                 struct config_error *err)
{
	uint64_t v;
	switch (st->type) {
	case SETTING_BOOL:
		return config_get_bool(cfg, st->key, st->def != 0, field(s, st->offset), err);
	case SETTING_UINT:
		if (config_get_u64(cfg, st->key, st->def, st->min, st->max, &v, err) != 0)
			return -1;
		store_uint(field(s, st->offset), st->size, v);
		return 0;
	case SETTING_SIZE:
	case SETTING_DURATION:
		return load_with_unit(cfg, st, s, err);
	case SETTING_STRING:
		return load_string(cfg, st, field(s, st->offset), err);
	case SETTING_ENUM:
		return load_enum(cfg, st, field(s, st->offset), err);
	case SETTING_PORTS:
		return config_get_ports(cfg, st->key, st->def_ports, st->n_def_ports, field(s, st->offset),
		                        st->cap, field(s, st->count_offset), err);
	case SETTING_LIST:
		return load_list(cfg, st, s, err);
	case SETTING_CUSTOM:
	case SETTING_TYPE_COUNT:
		break;
	}
	return st->load ? st->load(cfg, st, s, err) : 0;
}

/* A YAML double-quoted scalar: quotes, backslashes and control characters escaped. */
static size_t format_quoted(const char *v, char *buf, size_t cap)
{
	size_t len = 0;
	if (cap < 3)
		return 0;
	buf[len++] = '"';
	for (; *v && len + 7 < cap; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == '"' || c == '\\')
			len += (size_t)snprintf(buf + len, cap - len, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			len += (size_t)snprintf(buf + len, cap - len, "\\x%02x", c);
		else
			buf[len++] = (char)c;
	}
	buf[len++] = '"';
	buf[len] = '\0';
	return len;
}

static void format_ports(const uint16_t *ports, size_t n, char *buf, size_t cap)
{
	size_t len = (size_t)snprintf(buf, cap, "[");
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%u", i ? ", " : "", ports[i]);
	if (len < cap)
		snprintf(buf + len, cap - len, "]");
}

static void format_list(const struct setting *st, const struct sensor_settings *s, char *buf, size_t cap)
{
	size_t n = *(const size_t *)cfield(s, st->count_offset);
	size_t len = (size_t)snprintf(buf, cap, "[");
	for (size_t i = 0; i < n && len + 4 < cap; i++) {
		if (i)
			len += (size_t)snprintf(buf + len, cap - len, ", ");
		len +=
		    format_quoted((const char *)cfield(s, st->offset) + i * st->width, buf + len, cap - len);
	}
	if (len < cap)
		snprintf(buf + len, cap - len, "]");
}

void setting_format(const struct setting *st, const struct sensor_settings *s, char *buf, size_t cap)
{
	const void *f = cfield(s, st->offset);
	buf[0] = '\0';
	switch (st->type) {
	case SETTING_BOOL:
		snprintf(buf, cap, "%s", *(const bool *)f ? "true" : "false");
		return;
	case SETTING_UINT:
		snprintf(buf, cap, "%" PRIu64, fetch_uint(f, st->size));
		return;
	case SETTING_SIZE:
		setting_format_size(fetch_uint(f, st->size), buf, cap);
		return;
	case SETTING_DURATION:
		setting_format_duration(fetch_uint(f, st->size) / 1000000u, buf, cap);
		return;
	case SETTING_STRING:
		format_quoted(f, buf, cap);
		return;
	case SETTING_ENUM: {
		uint64_t v = fetch_uint(f, st->size);
		size_t n = 0;
		while (st->names[n])
			n++;
		snprintf(buf, cap, "%s", v < n ? st->names[v] : "?");
		return;
	}
	case SETTING_PORTS:
		format_ports(f, *(const size_t *)cfield(s, st->count_offset), buf, cap);
		return;
	case SETTING_LIST:
		format_list(st, s, buf, cap);
		return;
	case SETTING_CUSTOM:
	case SETTING_TYPE_COUNT:
		break;
	}
	if (st->print)
		st->print(st, s, buf, cap);
}

void setting_bounds(const struct setting *st, char *buf, size_t cap)
{
	char lo[32], hi[32];
	buf[0] = '\0';
	if (st->type == SETTING_UINT) {
		snprintf(buf, cap, "%" PRIu64 " .. %" PRIu64, st->min, st->max);
	} else if ((st->type == SETTING_SIZE || st->type == SETTING_DURATION) && st->max > 0) {
		void (*fmt)(uint64_t, char *, size_t) =
		    st->type == SETTING_SIZE ? setting_format_size : setting_format_duration;
		fmt(st->min, lo, sizeof lo);
		fmt(st->max, hi, sizeof hi);
		if (st->min == 0)
			snprintf(buf, cap, "at most %s", hi);
		else if (st->max == UINT64_MAX)
			snprintf(buf, cap, "at least %s", lo);
		else
			snprintf(buf, cap, "%s .. %s", lo, hi);
	} else if (st->type == SETTING_ENUM) {
		size_t len = 0;
		for (size_t i = 0; st->names[i] && len < cap; i++)
			len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", st->names[i]);
	} else if (st->type == SETTING_PORTS || st->type == SETTING_LIST) {
		snprintf(buf, cap, "at most %zu", st->cap);
	} else if (st->type == SETTING_CUSTOM && st->max > 0) {
		snprintf(buf, cap, "%" PRIu64 " .. %" PRIu64 " each", st->min, st->max);
	}
}
