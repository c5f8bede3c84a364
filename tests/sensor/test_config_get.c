/*
 * test_config_get.c: the typed getters of sensor/config/config.h (bool, u64, size,
 * seconds, string, ports) and config_error_at (helpers in
 * tests/support/config_fixture.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_fixture.h"
#include "sensor/config/config.h"
#include "test_support.h"

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
