/*
 * settings_table.h: every configuration key of the sensor, described once (the way nginx's ngx_command_t
 * describes its directives).
 *
 * One row per key: its dotted YAML path, its type (bool, a whole number within bounds, a size such as 32mb,
 * a duration such as 30s, a string, one of a few names, a port list, a list of strings, or a custom loader
 * for keys with structure of their own), its default, its bounds, where it lives in struct sensor_settings
 * (offsetof) and whether a SIGHUP reload applies it. Loading and defaults (settings_load), the unknown-key
 * check (settings_check_unknown), the effective configuration of `tlsobs -T -v` and the key list of
 * `tlsobs --list-settings` (docs/settings.md) are all read from this table, so none can drift from another.
 * The table is read-only; settings_table.c holds it, settings_types.c the per-type loaders and printers.
 */
#ifndef TLSOBS_SETTINGS_TABLE_H
#define TLSOBS_SETTINGS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sensor/config/config.h"

struct sensor_settings;
struct setting;

enum setting_type {
	SETTING_BOOL,     /* true/false/yes/no/on/off/1/0, into a bool */
	SETTING_UINT,     /* a whole number within [min, max], into an unsigned field of `size` bytes */
	SETTING_SIZE,     /* bytes with an optional unit (64kb, 32mb, 1gb), into a uint64_t */
	SETTING_DURATION, /* seconds with an optional unit (30s, 5m, 2h, 1d), into a uint64_t in microseconds
	                   */
	SETTING_STRING,   /* a scalar copied into a char[size] */
	SETTING_ENUM,     /* one of `names`, stored as its index into an enum field */
	SETTING_PORTS,    /* TCP/UDP ports, into a uint16_t[cap] with its count (a size_t) at count_offset */
	SETTING_LIST,     /* strings, into a char[cap][width] with its count (a size_t) at count_offset */
	SETTING_CUSTOM,   /* a key with structure of its own: `load` and `print` */
	SETTING_TYPE_COUNT
};
const char *setting_type_str(enum setting_type t); /* "bool", "uint", "size", ... */

enum setting_flags {
	SETTING_RELOAD = 1u << 0,       /* a SIGHUP reload applies it (sensor_reload, main.c's logger) */
	SETTING_FREEFORM = 1u << 1,     /* any key below it is its own (kafka.properties.*) */
	SETTING_HOST_DEFAULT = 1u << 2, /* a string whose default ("" or absent) is the host name */
	SETTING_SPLIT = 1u << 3,        /* a list given as one scalar is cut at commas (else: one entry) */
};

/* Custom keys: load fills the settings from cfg (0, or -1 with *err); print writes the value as YAML. The
 * _func types declare the handlers (settings_custom.h), the _fn pointers name them in rows. */
typedef int setting_load_func(const struct config *cfg, const struct setting *st, struct sensor_settings *s,
                              struct config_error *err);
typedef setting_load_func *setting_load_fn;
typedef void setting_print_func(const struct setting *st, const struct sensor_settings *s, char *buf,
                                size_t cap);
typedef setting_print_func *setting_print_fn;
/* A check between keys, run once the key it belongs to is loaded: 0, or -1 with *err. */
typedef int setting_check_func(const struct config *cfg, const struct sensor_settings *s,
                               struct config_error *err);
typedef setting_check_func *setting_check_fn;
/* Unknown keys inside the value (policy.partners entries): their number, each reported. */
typedef size_t (*setting_keys_fn)(const struct config_node *n, void (*report)(const char *message, void *ctx),
                                  void *ctx);

struct setting {
	const char *key; /* dotted YAML path */
	enum setting_type type;
	unsigned flags;             /* enum setting_flags */
	size_t offset, size;        /* the field in struct sensor_settings (custom: what load fills) */
	uint64_t def;               /* bool, uint, size: the value; duration: seconds */
	const char *def_text;       /* string: the default (NULL: ""); enum: the default's name */
	uint64_t min, max;          /* uint: always; size, duration and custom: when max > 0 */
	const char *const *names;   /* enum: the names in value order, NULL-terminated */
	const uint16_t *def_ports;  /* ports: the default list */
	size_t n_def_ports;         /* ports: its length */
	size_t count_offset;        /* ports and lists: the size_t count */
	size_t cap, width;          /* ports and lists: entries at most; lists: bytes per entry */
	setting_load_fn load;       /* custom */
	setting_print_fn print;     /* custom */
	setting_check_fn check;     /* optional */
	setting_keys_fn check_keys; /* optional */
	const char *doc_default;    /* the default column of --list-settings when it depends on the host or
	                               build; NULL: the loaded default */
	const char *doc_type;       /* custom: its type for --list-settings ("list of CIDRs") */
};

extern const struct setting settings_table[];
extern const size_t settings_table_count;

/* The row of a key, or NULL. */
const struct setting *settings_table_find(const char *key);

/*
 * Loads one row into s: the value at its key, or the default. 0, or -1 with *err naming the key (and its
 * file:line when it was given).
 */
int setting_load(const struct config *cfg, const struct setting *st, struct sensor_settings *s,
                 struct config_error *err);
/* The row's value in s as YAML ("32mb", "[25, 587]", "\"tlsobs.\""), into buf. */
void setting_format(const struct setting *st, const struct sensor_settings *s, char *buf, size_t cap);
/* The row's bounds for people ("64 .. 262144", "1s .. 7d", "error|warning|notice"), "" when it has none. */
void setting_bounds(const struct setting *st, char *buf, size_t cap);

/* Sizes and durations as the configuration writes them: the largest unit that divides ("32mb", "600s"). */
void setting_format_size(uint64_t bytes, char *buf, size_t cap);
void setting_format_duration(uint64_t seconds, char *buf, size_t cap);

/*
 * SIGHUP: calls changed(key) for each row a reload does not apply (no SETTING_RELOAD) whose value in next
 * differs from the running one, so the operator learns it waits for a restart; returns their number.
 * kafka.properties is left out: the running copy holds its secrets resolved (secrets.h), next does not.
 */
size_t settings_restart_needed(const struct sensor_settings *running, const struct sensor_settings *next,
                               void (*changed)(const char *key, void *ctx), void *ctx);

/* -T -v: every key and its value in s, "key: value" a line, in table order. */
void settings_print(const struct sensor_settings *s, FILE *out);
/*
 * --list-settings: the table as a Markdown table (key, type, default, bounds, reload), the text of
 * docs/settings.md. 0, or -1 when the defaults do not load (a bug: the unit tests say so first).
 */
int settings_list(FILE *out);

#endif
