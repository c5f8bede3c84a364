/* test_settings_table.c: the settings table itself: its rows are sound, its types parse and refuse as they
 * say, and what it prints reads back as the same settings. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/config/config.h"
#include "sensor/config/settings.h"
#include "sensor/config/settings_table.h"

/* ---- helpers ---- */

static struct sensor_settings *settings_new(void)
{
	struct sensor_settings *s = calloc(1, sizeof *s);
	cr_assert_not_null(s);
	return s;
}

/* settings_load on an empty configuration with these --set assignments: 0 or -1, the message in *err. */
static int load_with(const char *const *sets, size_t n, struct sensor_settings *s, struct config_error *err)
{
	struct config *cfg = config_new();
	cr_assert_not_null(cfg);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(config_set(cfg, sets[i], err), 0, "--set %s: %s", sets[i], err->message);
	int rc = settings_load(cfg, s, err);
	config_free(cfg);
	return rc;
}

static int load_one(const char *key, const char *value, struct sensor_settings *s, struct config_error *err)
{
	char set[9000];
	snprintf(set, sizeof set, "%s=%s", key, value);
	const char *sets[] = {set};
	return load_with(sets, 1, s, err);
}

/* A value of the row that must be refused, naming the key: "--set: key: ...". */
static void assert_refused(const struct setting *st, const char *value)
{
	struct sensor_settings *s = settings_new();
	struct config_error err = {{0}};
	cr_assert_eq(load_one(st->key, value, s, &err), -1, "%s=%s accepted", st->key, value);
	char want[300];
	snprintf(want, sizeof want, "--set: %s: ", st->key);
	cr_assert_eq(strncmp(err.message, want, strlen(want)), 0, "%s=%s: message does not name the key: %s",
	             st->key, value, err.message);
	free(s);
}

static uint64_t field_uint(const struct sensor_settings *s, const struct setting *st)
{
	const char *p = (const char *)s + st->offset;
	if (st->size == sizeof(uint32_t)) {
		uint32_t v;
		memcpy(&v, p, sizeof v);
		return v;
	}
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* ---- the rows ---- */

Test(settings_table, keys_are_unique_and_each_names_a_field_inside_the_settings)
{
	cr_assert_gt(settings_table_count, 50);
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		cr_assert_not_null(st->key);
		cr_assert_eq(settings_table_find(st->key), st, "%s is in the table twice", st->key);
		for (size_t j = 0; j < settings_table_count; j++) /* no key is a section of another */
			cr_assert(j == i || strncmp(settings_table[j].key, st->key, strlen(st->key)) != 0 ||
			              settings_table[j].key[strlen(st->key)] != '.',
			          "%s is both a key and a section", st->key);
		cr_assert_leq(st->offset + st->size, sizeof(struct sensor_settings), "%s", st->key);
		cr_assert_gt(st->size, 0, "%s has no field", st->key);
		if (st->type == SETTING_PORTS || st->type == SETTING_LIST)
			cr_assert_leq(st->count_offset + sizeof(size_t), sizeof(struct sensor_settings), "%s",
			              st->key);
		if (st->type == SETTING_CUSTOM)
			cr_assert(st->load && st->print, "%s: a custom row needs a loader and a printer",
			          st->key);
	}
	cr_assert_null(settings_table_find("flow"));
	cr_assert_null(settings_table_find("flow.memcapp"));
}

Test(settings_table, every_default_lies_within_its_bounds)
{
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		switch (st->type) {
		case SETTING_UINT:
			cr_assert(st->min <= st->max, "%s", st->key);
			cr_assert(st->def >= st->min && st->def <= st->max,
			          "%s: %" PRIu64 " outside its bounds", st->key, st->def);
			cr_assert(st->size == 8 || st->max <= UINT32_MAX,
			          "%s: the bound does not fit its field", st->key);
			break;
		case SETTING_SIZE:
		case SETTING_DURATION:
			cr_assert(st->max == 0 || (st->def >= st->min && st->def <= st->max), "%s", st->key);
			break;
		case SETTING_ENUM: {
			bool found = false;
			for (size_t k = 0; st->names[k]; k++)
				found |= strcmp(st->names[k], st->def_text) == 0;
			cr_assert(found, "%s: default %s is not one of its names", st->key, st->def_text);
			break;
		}
		case SETTING_PORTS:
			cr_assert_leq(st->n_def_ports, st->cap, "%s", st->key);
			break;
		case SETTING_STRING:
			cr_assert_lt(st->def_text ? strlen(st->def_text) : 0, st->size, "%s", st->key);
			break;
		default:
			break;
		}
	}
}

Test(settings_table, an_empty_configuration_loads_each_rows_default)
{
	struct sensor_settings *s = settings_new();
	struct config_error err = {{0}};
	cr_assert_eq(load_with(NULL, 0, s, &err), 0, "%s", err.message);
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		const char *f = (const char *)s + st->offset;
		if (st->type == SETTING_UINT || st->type == SETTING_SIZE)
			cr_assert_eq(field_uint(s, st), st->def, "%s", st->key);
		else if (st->type == SETTING_DURATION)
			cr_assert_eq(field_uint(s, st), st->def * 1000000u, "%s", st->key);
		else if (st->type == SETTING_BOOL)
			cr_assert_eq(*(const bool *)f, st->def != 0, "%s", st->key);
		else if (st->type == SETTING_STRING && !(st->flags & SETTING_HOST_DEFAULT))
			cr_assert_str_eq(f, st->def_text ? st->def_text : "", "%s", st->key);
		else if (st->type == SETTING_PORTS)
			cr_assert_eq(memcmp(f, st->def_ports, st->n_def_ports * sizeof(uint16_t)), 0, "%s",
			             st->key);
	}
	cr_assert_eq(s->rules.n_expiry_alert_days, 4);
	settings_free(s);
	free(s);
}

/* ---- each type refuses what is out of range, naming the key ---- */

Test(settings_table, uint_rows_refuse_values_outside_their_bounds)
{
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		if (st->type != SETTING_UINT)
			continue;
		char v[32];
		snprintf(v, sizeof v, "%" PRIu64, st->max + 1);
		assert_refused(st, v);
		if (st->min > 0) {
			snprintf(v, sizeof v, "%" PRIu64, st->min - 1);
			assert_refused(st, v);
		}
		assert_refused(st, "-1");
		assert_refused(st, "12abc");
	}
}

Test(settings_table, size_and_duration_rows_refuse_values_outside_their_bounds)
{
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		if (st->type != SETTING_SIZE && st->type != SETTING_DURATION)
			continue;
		assert_refused(st, "lots");
		assert_refused(st, "99999999999999999999");
		if (st->max == 0)
			continue;
		char v[32];
		if (st->max != UINT64_MAX) {
			snprintf(v, sizeof v, "%" PRIu64, st->max + 1);
			assert_refused(st, v);
		}
		if (st->min > 0) {
			snprintf(v, sizeof v, "%" PRIu64, st->min - 1);
			assert_refused(st, v);
		}
	}
}

Test(settings_table, bound_messages_say_the_bounds_in_units)
{
	struct sensor_settings *s = settings_new();
	struct config_error err = {{0}};
	cr_assert_eq(load_one("capture.buffer_size", "2gb", s, &err), -1);
	cr_assert_str_eq(err.message, "--set: capture.buffer_size: must be at most 1gb");
	cr_assert_eq(load_one("defrag.memcap", "512kb", s, &err), -1);
	cr_assert_str_eq(err.message, "--set: defrag.memcap: must be at least 1mb");
	cr_assert_eq(load_one("flow.timeout.new", "8d", s, &err), -1);
	cr_assert_str_eq(err.message, "--set: flow.timeout.new: expected a duration from 1s to 7d");
	cr_assert_eq(load_one("defrag.timeout", "0", s, &err), -1);
	cr_assert_str_eq(err.message, "--set: defrag.timeout: expected a duration from 1s to 1h");
	cr_assert_eq(load_one("log.level", "loud", s, &err), -1);
	cr_assert_str_eq(err.message, "--set: log.level: expected error, warning, notice, info or debug");
	cr_assert_eq(load_one("policy.default_mode", "strict", s, &err), -1);
	cr_assert_str_eq(err.message, "--set: policy.default_mode: expected enforced, opportunistic or none");
	free(s);
}

Test(settings_table, other_types_refuse_what_they_cannot_hold)
{
	char *too_long = malloc(8192);
	cr_assert_not_null(too_long);
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		switch (st->type) {
		case SETTING_BOOL:
			assert_refused(st, "maybe");
			break;
		case SETTING_ENUM:
			assert_refused(st, "bogus");
			break;
		case SETTING_PORTS:
			assert_refused(st, "70000");
			assert_refused(st, "0");
			break;
		case SETTING_STRING:
		case SETTING_LIST:
			cr_assert_lt(st->type == SETTING_LIST ? st->width : st->size, 8191);
			memset(too_long, 'x', st->type == SETTING_LIST ? st->width : st->size);
			too_long[st->type == SETTING_LIST ? st->width : st->size] = '\0';
			assert_refused(st, too_long);
			break;
		default:
			break;
		}
	}
	free(too_long);
}

/* ---- what the table prints ---- */

/* Every row printed by -T -v, given back as --set, loads the same settings: the printing is faithful. */
Test(settings_table, printed_values_read_back_as_the_same_settings)
{
	static const char *const sets[] = {
	    "flow.memcap=256mb",
	    "smtp.ports=25,10025",
	    "stats.interval=90",
	    "log.level=debug",
	    "internal_networks=10.0.0.0/8,2001:db8::/32",
	    "capture.files=a.pcap",
	    "detection.history.ttl=2h",
	    "certificates.expiry_alert_days=[9, 3]",
	    "metrics.listen=127.0.0.1:9332",
	};
	struct sensor_settings *a = settings_new(), *b = settings_new();
	struct config_error err = {{0}};
	cr_assert_eq(load_with((const char *const *)sets, sizeof sets / sizeof sets[0], a, &err), 0, "%s",
	             err.message);
	struct config *cfg = config_new();
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		char value[8192], set[8400];
		setting_format(st, a, value, sizeof value);
		if (st->type == SETTING_STRING || st->type == SETTING_CUSTOM || st->type == SETTING_LIST)
			continue; /* quoted YAML; --set takes scalars as they are */
		snprintf(set, sizeof set, "%s=%s", st->key, value);
		cr_assert_eq(config_set(cfg, set, &err), 0, "%s: %s", set, err.message);
	}
	cr_assert_eq(settings_load(cfg, b, &err), 0, "%s", err.message);
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		if (st->type == SETTING_STRING || st->type == SETTING_CUSTOM || st->type == SETTING_LIST)
			continue;
		cr_assert_eq(memcmp((char *)a + st->offset, (char *)b + st->offset, st->size), 0, "%s",
		             st->key);
	}
	char value[256];
	setting_format(settings_table_find("internal_networks"), a, value, sizeof value);
	cr_assert_str_eq(value, "[\"10.0.0.0/8\", \"2001:db8::/32\"]");
	setting_format(settings_table_find("metrics.listen"), a, value, sizeof value);
	cr_assert_str_eq(value, "\"127.0.0.1:9332\"");
	setting_format(settings_table_find("certificates.expiry_alert_days"), a, value, sizeof value);
	cr_assert_str_eq(value, "[9, 3]");
	setting_format(settings_table_find("capture.files"), a, value, sizeof value);
	cr_assert_str_eq(value, "[\"a.pcap\"]");
	config_free(cfg);
	settings_free(a);
	settings_free(b);
	free(a);
	free(b);
}

Test(settings_table, sizes_and_durations_print_in_the_largest_unit_that_divides)
{
	char buf[32];
	setting_format_size(32ull << 20, buf, sizeof buf);
	cr_assert_str_eq(buf, "32mb");
	setting_format_size(1ull << 30, buf, sizeof buf);
	cr_assert_str_eq(buf, "1gb");
	setting_format_size(1536, buf, sizeof buf);
	cr_assert_str_eq(buf, "1536");
	setting_format_size(0, buf, sizeof buf);
	cr_assert_str_eq(buf, "0");
	setting_format_duration(30 * 86400, buf, sizeof buf);
	cr_assert_str_eq(buf, "30d");
	setting_format_duration(900, buf, sizeof buf);
	cr_assert_str_eq(buf, "15m");
	setting_format_duration(90, buf, sizeof buf);
	cr_assert_str_eq(buf, "90s");
	setting_format_duration(0, buf, sizeof buf);
	cr_assert_str_eq(buf, "0s");
}

Test(settings_table, kafka_property_values_are_not_printed)
{
	static const char *const sets[] = {"kafka.properties.sasl.password=hunter2",
	                                   "kafka.properties.ssl.key.password_env=KEYPASS"};
	struct sensor_settings *s = settings_new();
	struct config_error err = {{0}};
	cr_assert_eq(load_with((const char *const *)sets, 2, s, &err), 0, "%s", err.message);
	char value[512];
	setting_format(settings_table_find("kafka.properties"), s, value, sizeof value);
	cr_assert_null(strstr(value, "hunter2"), "%s", value);
	cr_assert_null(strstr(value, "KEYPASS"), "%s", value);
	cr_assert_not_null(strstr(value, "sasl.password"), "%s", value);
	cr_assert_not_null(strstr(value, "ssl.key.password_env"), "%s", value);
	free(s);
}

Test(settings_table, the_list_has_a_row_per_key_and_says_which_reload)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cr_assert_not_null(out);
	cr_assert_eq(settings_list(out), 0);
	fclose(out);
	size_t rows = 0;
	for (const char *p = text; (p = strstr(p, "\n| ")) != NULL; p++)
		rows++;
	cr_assert_eq(rows, settings_table_count + 1, "%zu rows for %zu keys (and the header)", rows,
	             settings_table_count);
	cr_assert_not_null(strstr(text, "| policy.partners | list of partners | [] |  | yes |"), "%s", text);
	cr_assert_not_null(strstr(text, "| flow.memcap | size | 128mb |  | no |"), "%s", text);
	free(text);
}

static void collect_key(const char *key, void *ctx)
{
	char *out = ctx;
	size_t used = strlen(out);
	snprintf(out + used, 512 - used, "%s;", key);
}

Test(settings_table, a_reload_names_the_changed_keys_it_cannot_apply)
{
	static const char *const before[] = {"flow.memcap=128mb", "stats.interval=60", "smtp.ports=25"};
	static const char *const after[] = {"flow.memcap=256mb", "stats.interval=30", "smtp.ports=25,587",
	                                    "kafka.properties.client.id=x", "policy.default_mode=none"};
	struct sensor_settings *a = settings_new(), *b = settings_new();
	struct config_error err = {{0}};
	cr_assert_eq(load_with((const char *const *)before, 3, a, &err), 0, "%s", err.message);
	cr_assert_eq(load_with((const char *const *)after, 5, b, &err), 0, "%s", err.message);
	char keys[512] = "";
	cr_assert_eq(settings_restart_needed(a, a, collect_key, keys), 0, "%s", keys);
	cr_assert_eq(settings_restart_needed(a, b, collect_key, keys), 2, "%s", keys);
	cr_assert_str_eq(keys, "smtp.ports;flow.memcap;"); /* stats.interval and the policy reload */
	settings_free(a);
	settings_free(b);
	free(a);
	free(b);
}

Test(settings_table, enum_names_are_in_the_order_of_their_enums)
{
	const struct setting *level = settings_table_find("log.level");
	const struct setting *mode = settings_table_find("policy.default_mode");
	cr_assert(level && mode);
	for (int l = 0; l < LOGGER_LEVEL_COUNT; l++)
		cr_assert_str_eq(level->names[l], logger_level_str((enum logger_level)l));
	cr_assert_null(level->names[LOGGER_LEVEL_COUNT]);
	for (int m = POLICY_MODE_ENFORCED; m <= POLICY_MODE_NONE; m++)
		cr_assert_str_eq(mode->names[m], policy_mode_str((enum policy_mode)m));
	cr_assert_null(mode->names[POLICY_MODE_NONE + 1]);
	cr_assert_str_eq(settings_table_find("log.target")->names[LOGGER_SYSLOG], "syslog");
}
