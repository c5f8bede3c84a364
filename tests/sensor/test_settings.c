/* test_settings.c: the sensor's typed settings, read and checked from the config tree. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/config/config.h"
#include "sensor/config/settings.h"
#include "test_support.h"

/* ---- helpers ---- */

static struct config *load(const char *yaml)
{
	struct config_error err = {{0}};
	struct config *cfg = config_load_buffer(yaml, strlen(yaml), "test.yaml", &err);
	cr_assert_not_null(cfg, "load failed: %s", err.message);
	return cfg;
}

static void set_ok(struct config *cfg, const char *assignment)
{
	struct config_error err = {{0}};
	cr_assert_eq(config_set(cfg, assignment, &err), 0, "--set %s: %s", assignment, err.message);
}

static struct sensor_settings settings_of(const struct config *cfg)
{
	struct sensor_settings s;
	struct config_error err = {{0}};
	cr_assert_eq(settings_load(cfg, &s, &err), 0, "settings_load: %s", err.message);
	return s;
}

/* The message settings_load gives for this YAML, which must fail (a static buffer). */
static const char *load_error(const char *yaml)
{
	static struct config_error err;
	struct sensor_settings s;
	memset(&err, 0, sizeof err);
	struct config *cfg = load(yaml);
	cr_assert_eq(settings_load(cfg, &s, &err), -1, "expected settings_load to fail for:\n%s", yaml);
	config_free(cfg);
	return err.message;
}

/* What settings_check_unknown reported, one message a line. */
struct reports {
	char text[2048];
	size_t n;
};

static void collect(const char *message, void *ctx)
{
	struct reports *r = ctx;
	size_t used = strlen(r->text);
	snprintf(r->text + used, sizeof r->text - used, "%s\n", message);
	r->n++;
}

/* Runs settings_check_unknown on the YAML; returns the reports (a static buffer), checks the count. */
static const char *unknown_in(const char *yaml)
{
	static struct reports r;
	memset(&r, 0, sizeof r);
	struct config *cfg = load(yaml);
	size_t n = settings_check_unknown(cfg, collect, &r);
	cr_assert_eq(n, r.n, "returned %zu, reported %zu", n, r.n);
	config_free(cfg);
	return r.text;
}

static const uint64_t S = 1000000; /* microseconds in a second */

static void assert_defaults(const struct sensor_settings *s)
{
	cr_assert_eq(s->snaplen, 65535);
	cr_assert(s->promiscuous);
	cr_assert_eq(s->buffer_size, 32u << 20);
	cr_assert_eq(s->defrag.memcap, 32u << 20);
	cr_assert_eq(s->defrag.timeout_us, 30 * S);
	cr_assert_eq(s->defrag.max_fragments, 256);
	cr_assert_eq(s->n_smtp_ports, 3);
	cr_assert_eq(s->smtp_ports[0], 25);
	cr_assert_eq(s->smtp_ports[1], 587);
	cr_assert_eq(s->smtp_ports[2], 2525);
	cr_assert_eq(s->n_implicit_tls_ports, 1);
	cr_assert_eq(s->implicit_tls_ports[0], 465);
	cr_assert_eq(s->decode.n_vxlan_ports, 1);
	cr_assert_eq(s->decode.vxlan_ports[0], 4789);
	cr_assert_eq(s->decode.n_geneve_ports, 1);
	cr_assert_eq(s->decode.geneve_ports[0], 6081);
	cr_assert_eq(s->flow.memcap, 128ull << 20);
	cr_assert_eq(s->flow.hash_size, 262144);
	cr_assert_eq(s->flow.timeout_us[FLOW_STATE_NEW], 30 * S);
	cr_assert_eq(s->flow.timeout_us[FLOW_STATE_ESTABLISHED], 600 * S);
	cr_assert_eq(s->flow.timeout_us[FLOW_STATE_CLOSED], 10 * S);
	cr_assert_eq(s->flow.emergency_timeout_us[FLOW_STATE_NEW], 5 * S);
	cr_assert_eq(s->flow.emergency_timeout_us[FLOW_STATE_ESTABLISHED], 60 * S);
	cr_assert_eq(s->flow.emergency_timeout_us[FLOW_STATE_CLOSED], 2 * S);
	cr_assert_eq(s->flow.recovery_percent, 70);
	cr_assert_eq(s->flow.stream.depth, 64ull << 20);
	cr_assert_eq(s->flow.stream.max_ooo_bytes, 1u << 20);
	cr_assert_eq(s->smtp.max_line, 4096);
	cr_assert_not(s->smtp.keep_local_parts);
	cr_assert_str_eq(s->ca_file, "");
	cr_assert_str_eq(s->state_db, "");
	cr_assert_not(s->any_port);
	cr_assert_not(s->all_flows);
	cr_assert_eq(s->rules.fallback_window_us, 15 * 60 * S);
	cr_assert_eq(s->rules.history_ttl_us, 30ull * 86400 * S);
	cr_assert_eq(s->rules.history_max_servers, 100000);
	cr_assert_eq(s->rules.history_max_pairs, 100000);
	cr_assert_eq(s->rules.n_expiry_alert_days, 4);
	cr_assert_eq(s->rules.expiry_alert_days[0], 30);
	cr_assert_eq(s->rules.expiry_alert_days[1], 14);
	cr_assert_eq(s->rules.expiry_alert_days[2], 7);
	cr_assert_eq(s->rules.expiry_alert_days[3], 1);
	cr_assert_str_eq(s->kafka.topic_prefix, "tlsobs.");
	cr_assert_str_eq(s->kafka.spool_dir, "/var/lib/tlsobs/spool");
	cr_assert_eq(s->kafka.spool_max_bytes, 1ull << 30);
	cr_assert_eq(s->kafka.shutdown_timeout_ms, 10000);
	cr_assert_not(s->kafka.cloudevents);
	cr_assert_eq(s->kafka.nproperties, 0);
	cr_assert_eq(s->stats_interval_us, 60 * S);
	cr_assert_eq(s->n_internal_networks, 0);
	cr_assert_eq(s->policy.default_mode, POLICY_MODE_OPPORTUNISTIC);
	cr_assert_eq(s->policy.n_partners, 0);
	cr_assert_null(s->policy.partners);
}

Test(settings, certificate_expiry_thresholds_are_a_list_of_days)
{
	struct config *cfg = load("certificates:\n  expiry_alert_days: [60, 3]\n");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.rules.n_expiry_alert_days, 2);
	cr_assert_eq(s.rules.expiry_alert_days[0], 60);
	cr_assert_eq(s.rules.expiry_alert_days[1], 3);
	config_free(cfg);
	cr_assert_str_eq(
	    load_error("certificates:\n  expiry_alert_days: [30, soon]\n"),
	    "test.yaml:2: certificates.expiry_alert_days: expected a number of days from 1 to 3650, got "
	    "\"soon\"");
	cr_assert_str_eq(
	    load_error("certificates:\n  expiry_alert_days: [0]\n"),
	    "test.yaml:2: certificates.expiry_alert_days: expected a number of days from 1 to 3650, got "
	    "\"0\"");
	cr_assert_str_eq(
	    load_error("certificates:\n  expiry_alert_days: []\n"),
	    "test.yaml:2: certificates.expiry_alert_days: expected a list of 1 to 16 numbers of days");
}

Test(settings, librdkafka_properties_pass_through_from_the_file_and_from_set)
{
	struct config *cfg = load("kafka:\n"
	                          "  properties:\n"
	                          "    security.protocol: SASL_SSL\n"
	                          "    client.id: gateway-1\n");
	struct config_error err = {{0}};
	cr_assert_eq(config_set(cfg, "kafka.properties.message.timeout.ms=5000", &err), 0, "%s", err.message);
	struct reports r = {.n = 0};
	cr_assert_eq(settings_check_unknown(cfg, collect, &r), 0, "%s", r.text);
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.kafka.nproperties, 3);
	bool timeout = false, protocol = false;
	for (unsigned i = 0; i < s.kafka.nproperties; i++) {
		if (strcmp(s.kafka.properties[i].name, "message.timeout.ms") == 0)
			timeout = strcmp(s.kafka.properties[i].value, "5000") == 0;
		if (strcmp(s.kafka.properties[i].name, "security.protocol") == 0)
			protocol = strcmp(s.kafka.properties[i].value, "SASL_SSL") == 0;
	}
	cr_assert(timeout && protocol);
	config_free(cfg);
}

/* ---- defaults ---- */

Test(settings, an_empty_config_gives_every_default)
{
	struct config *cfg = config_new();
	cr_assert_not_null(cfg);
	struct sensor_settings s = settings_of(cfg);
	assert_defaults(&s);
	config_free(cfg);
}

Test(settings, the_documented_example_holds_exactly_the_defaults_and_no_unknown_key)
{
	const char *path = test_source_path("docs/tlsobs.example.yaml");
	struct config_error err = {{0}};
	struct config *cfg = config_load_file(path, &err);
	cr_assert_not_null(cfg, "%s", err.message);
	struct sensor_settings s = settings_of(cfg);
	assert_defaults(&s);
	struct reports r = {.n = 0};
	cr_assert_eq(settings_check_unknown(cfg, collect, &r), 0, "%s", r.text);
	config_free(cfg);
}

Test(settings, a_section_left_empty_keeps_its_defaults_and_is_not_unknown)
{
	static const char yaml[] = "flow:\n"
	                           "  # memcap: 64mb\n"
	                           "capture:\n"
	                           "stream:\n";
	cr_assert_str_eq(unknown_in(yaml), "");
	struct config *cfg = load(yaml);
	struct sensor_settings s = settings_of(cfg);
	assert_defaults(&s);
	config_free(cfg);
}

/* ---- every key ---- */

Test(settings, every_key_is_read_into_its_field)
{
	static const char yaml[] = "capture:\n"
	                           "  snaplen: 1514\n"
	                           "  promiscuous: off\n"
	                           "  buffer_size: 8mb\n"
	                           "smtp:\n"
	                           "  ports: [25, 10025]\n"
	                           "tls:\n"
	                           "  implicit_ports: [465, 10465, 20465]\n"
	                           "flow:\n"
	                           "  memcap: 256mb\n"
	                           "  hash_size: 4096\n"
	                           "  timeout: {new: 1m, established: 2h, closed: 45}\n"
	                           "  emergency:\n"
	                           "    timeout: {new: 3s, established: 40s, closed: 1s}\n"
	                           "    recovery_percent: 50\n"
	                           "stream:\n"
	                           "  depth: 10kb\n"
	                           "  max_ooo_bytes: 64k\n";
	struct config *cfg = load(yaml);
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.snaplen, 1514);
	cr_assert_not(s.promiscuous);
	cr_assert_eq(s.buffer_size, 8u << 20);
	cr_assert_eq(s.n_smtp_ports, 2);
	cr_assert_eq(s.smtp_ports[0], 25);
	cr_assert_eq(s.smtp_ports[1], 10025);
	cr_assert_eq(s.n_implicit_tls_ports, 3);
	cr_assert_eq(s.implicit_tls_ports[0], 465);
	cr_assert_eq(s.implicit_tls_ports[1], 10465);
	cr_assert_eq(s.implicit_tls_ports[2], 20465);
	cr_assert_eq(s.flow.memcap, 256ull << 20);
	cr_assert_eq(s.flow.hash_size, 4096);
	cr_assert_eq(s.flow.timeout_us[FLOW_STATE_NEW], 60 * S);
	cr_assert_eq(s.flow.timeout_us[FLOW_STATE_ESTABLISHED], 7200 * S);
	cr_assert_eq(s.flow.timeout_us[FLOW_STATE_CLOSED], 45 * S);
	cr_assert_eq(s.flow.emergency_timeout_us[FLOW_STATE_NEW], 3 * S);
	cr_assert_eq(s.flow.emergency_timeout_us[FLOW_STATE_ESTABLISHED], 40 * S);
	cr_assert_eq(s.flow.emergency_timeout_us[FLOW_STATE_CLOSED], 1 * S);
	cr_assert_eq(s.flow.recovery_percent, 50);
	cr_assert_eq(s.flow.stream.depth, 10u << 10);
	cr_assert_eq(s.flow.stream.max_ooo_bytes, 64u << 10);
	cr_assert_str_eq(unknown_in(yaml), "");
	config_free(cfg);
}

Test(settings, set_overrides_a_file_value_and_fills_an_absent_one)
{
	struct config *cfg = load("flow:\n  memcap: 64mb\n");
	set_ok(cfg, "flow.memcap=32mb");
	set_ok(cfg, "capture.snaplen=9000");
	set_ok(cfg, "smtp.ports=25, 2525");
	set_ok(cfg, "tls.implicit_ports=[465]");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.flow.memcap, 32ull << 20);
	cr_assert_eq(s.snaplen, 9000);
	cr_assert_eq(s.n_smtp_ports, 2);
	cr_assert_eq(s.smtp_ports[1], 2525);
	cr_assert_eq(s.n_implicit_tls_ports, 1);
	struct reports r = {.n = 0};
	cr_assert_eq(settings_check_unknown(cfg, collect, &r), 0, "%s", r.text);
	config_free(cfg);
}

Test(settings, an_empty_port_list_means_no_ports)
{
	struct config *cfg = load("smtp:\n  ports: []\n");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.n_smtp_ports, 0);
	cr_assert_eq(s.n_implicit_tls_ports, 1);
	config_free(cfg);
}

Test(settings, tunnel_ports_are_read_and_an_empty_list_turns_a_tunnel_off)
{
	struct config *cfg = load("capture:\n  vxlan_ports: [4789, 8472]\n  geneve_ports: []\n");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.decode.n_vxlan_ports, 2);
	cr_assert_eq(s.decode.vxlan_ports[1], 8472);
	cr_assert_eq(s.decode.n_geneve_ports, 0);
	cr_assert_str_eq(unknown_in("capture:\n  vxlan_ports: [4789, 8472]\n  geneve_ports: []\n"), "");
	config_free(cfg);
	cfg = load("capture:\n  geneve_ports: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]\n");
	struct sensor_settings t;
	struct config_error err = {{0}};
	cr_assert_eq(settings_load(cfg, &t, &err), -1);
	cr_assert(strstr(err.message, "capture.geneve_ports") != NULL, "%s", err.message);
	config_free(cfg);
}

Test(settings, the_limits_themselves_are_accepted)
{
	struct config *cfg = load("capture: {snaplen: 64, buffer_size: 1gb}\n"
	                          "flow:\n"
	                          "  memcap: 1mb\n"
	                          "  hash_size: 1024\n"
	                          "  timeout: {new: 1s, established: 7d, closed: 168h}\n"
	                          "  emergency: {recovery_percent: 99}\n"
	                          "stream: {max_ooo_bytes: 1gb, depth: 0}\n");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.snaplen, 64);
	cr_assert_eq(s.buffer_size, 1u << 30);
	cr_assert_eq(s.flow.memcap, 1u << 20);
	cr_assert_eq(s.flow.hash_size, 1024);
	cr_assert_eq(s.flow.timeout_us[FLOW_STATE_NEW], 1 * S);
	cr_assert_eq(s.flow.timeout_us[FLOW_STATE_ESTABLISHED], 7 * 86400 * S);
	cr_assert_eq(s.flow.timeout_us[FLOW_STATE_CLOSED], 7 * 86400 * S);
	cr_assert_eq(s.flow.recovery_percent, 99);
	cr_assert_eq(s.flow.stream.max_ooo_bytes, 1u << 30);
	cr_assert_eq(s.flow.stream.depth, 0);
	config_free(cfg);
}

/* ---- dotted keys ---- */

Test(settings, dotted_keys_read_the_same_as_nested_sections)
{
	static const char *const forms[] = {
	    "flow.timeout.new: 7s\nstream.depth: 5kb\n",
	    "flow:\n  timeout.new: 7s\nstream:\n  depth: 5kb\n",
	    "flow:\n  timeout:\n    new: 7s\nstream: {depth: 5kb}\n",
	    "flow: {emergency: {recovery_percent: 70}, timeout.new: 7s}\nstream.depth: 5kb\n",
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct config *cfg = load(forms[i]);
		struct sensor_settings s = settings_of(cfg);
		cr_assert_eq(s.flow.timeout_us[FLOW_STATE_NEW], 7 * S, "form %zu", i);
		cr_assert_eq(s.flow.timeout_us[FLOW_STATE_CLOSED], 10 * S, "form %zu", i);
		cr_assert_eq(s.flow.stream.depth, 5u << 10, "form %zu", i);
		struct reports r = {.n = 0};
		cr_assert_eq(settings_check_unknown(cfg, collect, &r), 0, "form %zu: %s", i, r.text);
		config_free(cfg);
	}
}

Test(settings, a_deep_dotted_key_reaches_the_emergency_timeouts)
{
	struct config *cfg = load("flow.emergency.timeout.established: 90s\n"
	                          "flow:\n"
	                          "  emergency.recovery_percent: 60\n");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.flow.emergency_timeout_us[FLOW_STATE_ESTABLISHED], 90 * S);
	cr_assert_eq(s.flow.emergency_timeout_us[FLOW_STATE_NEW], 5 * S);
	cr_assert_eq(s.flow.recovery_percent, 60);
	struct reports r = {.n = 0};
	cr_assert_eq(settings_check_unknown(cfg, collect, &r), 0, "%s", r.text);
	config_free(cfg);
}

/* ---- bad values ---- */

Test(settings, a_capture_value_out_of_range_is_named_with_its_line)
{
	cr_assert_str_eq(load_error("capture:\n  snaplen: 63\n"),
	                 "test.yaml:2: capture.snaplen: expected a number from 64 to 262144, got '63'");
	cr_assert_str_eq(load_error("capture:\n  snaplen: 262145\n"),
	                 "test.yaml:2: capture.snaplen: expected a number from 64 to 262144, got '262145'");
	cr_assert_str_eq(load_error("capture:\n\n  promiscuous: maybe\n"),
	                 "test.yaml:3: capture.promiscuous: expected true or false, got 'maybe'");
	cr_assert_str_eq(load_error("capture:\n  buffer_size: 1025mb\n"),
	                 "test.yaml:2: capture.buffer_size: must be at most 1gb");
	cr_assert_str_eq(
	    load_error("capture:\n  buffer_size: big\n"),
	    "test.yaml:2: capture.buffer_size: expected a size such as 65536, 64kb or 32mib, got 'big'");
}

Test(settings, a_bad_port_is_named_at_its_own_line)
{
	cr_assert_str_eq(load_error("smtp:\n  ports:\n    - 25\n    - 70000\n"),
	                 "test.yaml:4: smtp.ports: expected a port from 1 to 65535, got '70000'");
	cr_assert_str_eq(load_error("tls:\n  implicit_ports: 465, 0\n"),
	                 "test.yaml:2: tls.implicit_ports: expected a port from 1 to 65535, got '0'");
	cr_assert_str_eq(load_error("tls:\n  implicit_ports: {a: 1}\n"),
	                 "test.yaml:2: tls.implicit_ports: expected a list of ports, got a map");
}

Test(settings, more_than_64_ports_is_an_error)
{
	char yaml[1024] = "smtp:\n  ports: [";
	for (int i = 1; i <= SETTINGS_MAX_PORTS + 1; i++) {
		size_t used = strlen(yaml);
		snprintf(yaml + used, sizeof yaml - used, "%d%s", 1000 + i,
		         i <= SETTINGS_MAX_PORTS ? ", " : "]\n");
	}
	cr_assert_str_eq(load_error(yaml), "test.yaml:2: smtp.ports: more than 64 ports");
}

Test(settings, a_memcap_too_small_for_the_hash_is_refused)
{
	cr_assert_str_eq(
	    load_error("flow:\n  memcap: lots\n"),
	    "test.yaml:2: flow.memcap: expected a size such as 65536, 64kb or 32mib, got 'lots'");
	cr_assert_str_eq(
	    load_error("flow:\n  memcap: 1023kb\n  hash_size: 1024\n"),
	    "test.yaml:2: flow.memcap: must be at least 1mb and four times flow.hash_size pointers "
	    "(32768 bytes)");
	/* 4 * 262144 buckets * 8 bytes = 8mb: the default hash needs more than a 4mb memcap. */
	cr_assert_str_eq(
	    load_error("flow:\n  memcap: 4mb\n"),
	    "test.yaml:2: flow.memcap: must be at least 1mb and four times flow.hash_size pointers "
	    "(8388608 bytes)");
	struct config *cfg = load("flow:\n  memcap: 8mb\n");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.flow.memcap, 8u << 20);
	config_free(cfg);
}

Test(settings, flow_numbers_out_of_range_are_named)
{
	cr_assert_str_eq(load_error("flow:\n  hash_size: 1023\n"),
	                 "test.yaml:2: flow.hash_size: expected a number from 1024 to 16777216, got '1023'");
	cr_assert_str_eq(
	    load_error("flow:\n  emergency:\n    recovery_percent: 100\n"),
	    "test.yaml:3: flow.emergency.recovery_percent: expected a number from 1 to 99, got '100'");
	cr_assert_str_eq(
	    load_error("flow:\n  emergency:\n    recovery_percent: 0\n"),
	    "test.yaml:3: flow.emergency.recovery_percent: expected a number from 1 to 99, got '0'");
}

Test(settings, defrag_keys_are_read_and_checked)
{
	struct config *cfg = load("defrag:\n  memcap: 4mb\n  timeout: 60s\n  max_fragments: 64\n");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.defrag.memcap, 4u << 20);
	cr_assert_eq(s.defrag.timeout_us, 60 * S);
	cr_assert_eq(s.defrag.max_fragments, 64);
	config_free(cfg);
	cr_assert_str_eq(load_error("defrag:\n  memcap: 512kb\n"),
	                 "test.yaml:2: defrag.memcap: must be at least 1mb");
	cr_assert_str_eq(load_error("defrag:\n  timeout: 0\n"),
	                 "test.yaml:2: defrag.timeout: expected a duration from 1s to 1h");
	cr_assert_str_eq(load_error("defrag:\n  max_fragments: 1\n"),
	                 "test.yaml:2: defrag.max_fragments: expected a number from 2 to 8192, got '1'");
}

Test(settings, timeouts_must_be_durations_from_1s_to_7d)
{
	cr_assert_str_eq(
	    load_error("flow:\n  timeout:\n    new: abc\n"),
	    "test.yaml:3: flow.timeout.new: expected a duration such as 30, 30s, 5m, 2h or 1d, got 'abc'");
	cr_assert_str_eq(load_error("flow:\n  timeout: {established: 0s}\n"),
	                 "test.yaml:2: flow.timeout.established: expected a duration from 1s to 7d");
	cr_assert_str_eq(load_error("flow:\n  timeout:\n    closed: 8d\n"),
	                 "test.yaml:3: flow.timeout.closed: expected a duration from 1s to 7d");
	cr_assert_str_eq(load_error("flow:\n  emergency:\n    timeout:\n      closed: 604801\n"),
	                 "test.yaml:4: flow.emergency.timeout.closed: expected a duration from 1s to 7d");
	cr_assert_str_eq(load_error("flow.emergency.timeout.new: 0\n"),
	                 "test.yaml:1: flow.emergency.timeout.new: expected a duration from 1s to 7d");
}

Test(settings, stream_limits_are_checked)
{
	cr_assert_str_eq(load_error("stream:\n  depth: -1\n"),
	                 "test.yaml:2: stream.depth: expected a size such as 65536, 64kb or 32mib, got '-1'");
	cr_assert_str_eq(load_error("stream:\n  max_ooo_bytes: 1025m\n"),
	                 "test.yaml:2: stream.max_ooo_bytes: must be at most 1gb");
}

Test(settings, a_section_where_a_value_belongs_is_an_error)
{
	cr_assert_str_eq(load_error("flow:\n  memcap:\n    a: 1\n"),
	                 "test.yaml:2: flow.memcap: expected a size, got a map");
	cr_assert_str_eq(load_error("capture:\n  snaplen: [1, 2]\n"),
	                 "test.yaml:2: capture.snaplen: expected a number, got a list");
}

Test(settings, a_bad_set_value_names_set_instead_of_a_line)
{
	struct config *cfg = config_new();
	set_ok(cfg, "flow.timeout.new=abc");
	struct sensor_settings s;
	struct config_error err = {{0}};
	cr_assert_eq(settings_load(cfg, &s, &err), -1);
	cr_assert_str_eq(
	    err.message,
	    "--set: flow.timeout.new: expected a duration such as 30, 30s, 5m, 2h or 1d, got 'abc'");
	config_free(cfg);

	cfg = config_new();
	set_ok(cfg, "flow.timeout.new=0");
	cr_assert_eq(settings_load(cfg, &s, &err), -1);
	cr_assert_str_eq(err.message, "--set: flow.timeout.new: expected a duration from 1s to 7d");
	config_free(cfg);
}

Test(settings, the_first_error_in_reading_order_is_the_one_reported)
{
	cr_assert_str_eq(load_error("flow:\n  memcap: x\ncapture:\n  snaplen: 1\n"),
	                 "test.yaml:4: capture.snaplen: expected a number from 64 to 262144, got '1'");
}

/* ---- unknown keys ---- */

Test(settings, unknown_keys_are_reported_with_their_lines_top_level_and_nested)
{
	static const char yaml[] =
	    "capture:\n"              /* 1 */
	    "  snaplen: 1500\n"       /* 2 */
	    "  snaplenn: 1500\n"      /* 3 */
	    "flows:\n"                /* 4 */
	    "  memcap: 1mb\n"         /* 5 */
	    "flow:\n"                 /* 6 */
	    "  timeout:\n"            /* 7 */
	    "    new: 5s\n"           /* 8 */
	    "    idle: 5s\n"          /* 9 */
	    "  emergency:\n"          /* 10 */
	    "    timeout.fresh: 1s\n" /* 11 */
	    "flow.bogus: 1\n"         /* 12 */
	    "kafka: {brokers: x}\n";  /* 13: brokers come with -o kafka:, not the file */
	cr_assert_str_eq(unknown_in(yaml), "test.yaml:3: capture.snaplenn: unknown setting\n"
	                                   "test.yaml:4: flows: unknown setting\n"
	                                   "test.yaml:9: flow.timeout.idle: unknown setting\n"
	                                   "test.yaml:11: flow.emergency.timeout.fresh: unknown setting\n"
	                                   "test.yaml:12: flow.bogus: unknown setting\n"
	                                   "test.yaml:13: kafka.brokers: unknown setting\n");
}

Test(settings, unknown_keys_from_set_are_named_by_set)
{
	struct config *cfg = config_new();
	set_ok(cfg, "flow.timeout.neww=5s");
	set_ok(cfg, "capture.snaplen=1500");
	set_ok(cfg, "output.kafka=on"); /* "outputs" is a setting (a list); "output" is not */
	struct reports r = {.n = 0};
	cr_assert_eq(settings_check_unknown(cfg, collect, &r), 2);
	cr_assert_str_eq(r.text, "--set: flow.timeout.neww: unknown setting\n"
	                         "--set: output: unknown setting\n");
	config_free(cfg);
}

Test(settings, a_value_where_a_section_belongs_is_reported)
{
	cr_assert_str_eq(unknown_in("flow: 5\nsmtp: [25]\nflow.timeout: 3s\ncapture: ''\n"),
	                 "test.yaml:1: flow: expected a section of settings\n"
	                 "test.yaml:2: smtp: expected a section of settings\n"
	                 "test.yaml:3: flow.timeout: expected a section of settings\n");
}

Test(settings, a_known_key_holding_a_map_is_left_to_settings_load)
{
	/* Not unknown: its name is right, and settings_load names the wrong kind. */
	cr_assert_str_eq(unknown_in("flow:\n  memcap: {a: 1}\n"), "");
}

Test(settings, a_known_key_name_inside_an_unknown_section_is_still_unknown)
{
	cr_assert_str_eq(unknown_in("other:\n  flow:\n    memcap: 1mb\n"),
	                 "test.yaml:1: other: unknown setting\n");
	cr_assert_str_eq(unknown_in("capture:\n  flow.memcap: 1mb\n"),
	                 "test.yaml:2: capture.flow.memcap: unknown setting\n");
}

Test(settings, check_unknown_reports_nothing_for_an_empty_config)
{
	struct config *cfg = config_new();
	struct reports r = {.n = 0};
	cr_assert_eq(settings_check_unknown(cfg, collect, &r), 0);
	config_free(cfg);
	cr_assert_str_eq(unknown_in(""), "");
}

/* ---- internal_networks ---- */

Test(settings, internal_networks_reads_v4_and_v6_and_masks_host_bits)
{
	struct config *cfg = load("internal_networks:\n"
	                          "  - 192.0.2.7/24\n"
	                          "  - \"2001:db8::/32\"\n"
	                          "  - 10.0.0.0/8\n");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.n_internal_networks, 3);
	cr_assert_eq(s.internal_networks[0].addr.family, 4);
	cr_assert_eq(s.internal_networks[0].prefix, 24);
	cr_assert_eq(s.internal_networks[0].addr.bytes[3], 0);
	cr_assert_eq(s.internal_networks[1].addr.family, 6);
	cr_assert_eq(s.internal_networks[1].prefix, 32);
	cr_assert_eq(s.internal_networks[2].prefix, 8);
	cr_assert_str_eq(unknown_in("internal_networks: [192.0.2.0/24]\n"), "");
	config_free(cfg);
}

Test(settings, internal_networks_from_set_is_a_comma_separated_list)
{
	struct config *cfg = load("internal_networks: [10.0.0.0/8]\n");
	set_ok(cfg, "internal_networks=198.51.100.0/24, 2001:db8::/32");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.n_internal_networks, 2);
	cr_assert_eq(s.internal_networks[0].addr.family, 4);
	cr_assert_eq(s.internal_networks[0].addr.bytes[0], 198);
	cr_assert_eq(s.internal_networks[1].addr.family, 6);
	set_ok(cfg, "internal_networks=[192.0.2.0/24]");
	s = settings_of(cfg);
	cr_assert_eq(s.n_internal_networks, 1);
	set_ok(cfg, "internal_networks=");
	s = settings_of(cfg);
	cr_assert_eq(s.n_internal_networks, 0);
	struct reports r = {.n = 0};
	cr_assert_eq(settings_check_unknown(cfg, collect, &r), 0, "%s", r.text);
	config_free(cfg);
}

Test(settings, a_bad_internal_network_is_named_at_its_own_line)
{
	cr_assert_str_eq(load_error("internal_networks:\n  - 192.0.2.0/24\n  - 192.0.2.0/33\n"),
	                 "test.yaml:3: internal_networks: expected a network like 192.0.2.0/24, "
	                 "got '192.0.2.0/33' (bad prefix length)");
	cr_assert_str_eq(load_error("internal_networks: [\"2001:db8::/129\"]\n"),
	                 "test.yaml:1: internal_networks: expected a network like 192.0.2.0/24, "
	                 "got '2001:db8::/129' (bad prefix length)");
	cr_assert_str_eq(load_error("\ninternal_networks: 10.0.0.0/8, 300.0.0.0/8\n"),
	                 "test.yaml:2: internal_networks: expected a network like 192.0.2.0/24, "
	                 "got '300.0.0.0/8' (bad address)");
	cr_assert_str_eq(load_error("internal_networks: [10.0.0.1]\n"),
	                 "test.yaml:1: internal_networks: expected a network like 192.0.2.0/24, "
	                 "got '10.0.0.1' (bad prefix length)");
	cr_assert_str_eq(load_error("internal_networks: {a: 1}\n"),
	                 "test.yaml:1: internal_networks: expected a list of networks, got a map");
	struct config *cfg = load("");
	set_ok(cfg, "internal_networks=10.0.0.0/8,bogus/8");
	struct sensor_settings s;
	struct config_error err = {{0}};
	cr_assert_eq(settings_load(cfg, &s, &err), -1);
	cr_assert_str_eq(err.message, "--set: internal_networks: expected a network like 192.0.2.0/24, "
	                              "got 'bogus/8' (bad address)");
	config_free(cfg);
}

Test(settings, more_than_256_internal_networks_is_an_error)
{
	static char yaml[16384];
	snprintf(yaml, sizeof yaml, "internal_networks: [");
	for (int i = 0; i <= SETTINGS_MAX_NETWORKS; i++) {
		size_t used = strlen(yaml);
		snprintf(yaml + used, sizeof yaml - used, "10.%d.%d.0/24%s", i / 256, i % 256,
		         i < SETTINGS_MAX_NETWORKS ? ", " : "]\n");
	}
	cr_assert_str_eq(load_error(yaml), "test.yaml:1: internal_networks: more than 256 networks");
}

/* ---- policy ---- */

static const char partner_yaml[] =
    "policy:\n"
    "  default_mode: none\n"
    "  partners:\n"
    "    - domain: Bank.Example.\n"
    "      mode: enforced\n"
    "      mx: [\"mx1.bank.example\", \"*.mail.bank.example\"]\n"
    "      networks: [\"198.51.100.0/24\", \"2001:db8::/32\"]\n"
    "      min_tls_version: \"1.2\"\n"
    "      require_valid_certificate: true\n"
    "      pin_spki_sha256: [\"ab00000000000000000000000000000000000000000000000000000000000000\"]\n"
    "      relaxed_until: \"2026-12-24T00:00:00Z\"\n"
    "    - domain: shop.example\n";

Test(settings, policy_partners_are_read_with_every_field)
{
	cr_assert_str_eq(unknown_in(partner_yaml), "");
	struct config *cfg = load(partner_yaml);
	struct sensor_settings s = settings_of(cfg);
	config_free(cfg);
	cr_assert_eq(s.policy.default_mode, POLICY_MODE_NONE);
	cr_assert_eq(s.policy.n_partners, 2);
	const struct partner_policy *p = &s.policy.partners[0];
	cr_assert_str_eq(p->domain, "bank.example");
	cr_assert_eq(p->mode, POLICY_MODE_ENFORCED);
	cr_assert_eq(p->n_mx, 2);
	cr_assert_str_eq(p->mx[1], "*.mail.bank.example");
	cr_assert_eq(p->n_networks, 2);
	cr_assert_eq(p->networks[1].addr.family, 6);
	cr_assert_eq(p->min_tls_version, 0x0303);
	cr_assert(p->require_valid_certificate);
	cr_assert_eq(p->n_pins, 1);
	cr_assert_str_eq(p->pins[0], "AB00000000000000000000000000000000000000000000000000000000000000");
	cr_assert_eq(p->relaxed_until_us, 1798070400ull * 1000000u);
	const struct partner_policy *q = &s.policy.partners[1];
	cr_assert_str_eq(q->domain, "shop.example");
	cr_assert_eq(q->mode, POLICY_MODE_OPPORTUNISTIC, "a partner's mode defaults to opportunistic");
	cr_assert_eq(q->n_mx + q->n_networks + q->n_pins + q->min_tls_version, 0);
	settings_free(&s);
	settings_free(&s); /* twice: nothing left to free */
}

Test(settings, policy_bad_values_name_their_file_line_and_partner)
{
	cr_assert_str_eq(load_error("policy:\n  default_mode: strict\n"),
	                 "test.yaml:2: policy.default_mode: expected enforced, opportunistic or none");
	cr_assert_str_eq(load_error("policy:\n  partners: bank.example\n"),
	                 "test.yaml:2: policy.partners: expected a list of partners");
	cr_assert_str_eq(load_error("policy:\n  partners:\n    - bank.example\n"),
	                 "test.yaml:3: policy.partners[0]: expected a partner: a map with domain, mode, ...");
	cr_assert_str_eq(load_error("policy:\n  partners:\n    - mode: enforced\n"),
	                 "test.yaml:3: policy.partners[0].domain: missing: every partner needs its domain");
	cr_assert_str_eq(load_error("policy:\n  partners:\n    - domain: -bad-.example\n"),
	                 "test.yaml:3: policy.partners[0].domain: expected a domain name like bank.example");
	cr_assert_str_eq(load_error("policy:\n  partners:\n    - domain: a.example\n    - domain: b.example\n"
	                            "      mode: strict\n"),
	                 "test.yaml:5: policy.partners[1].mode: expected enforced, opportunistic or none");
	cr_assert_str_eq(
	    load_error("policy:\n  partners:\n    - domain: a.example\n      mx: [\"*.*.a.example\"]\n"),
	    "test.yaml:4: policy.partners[0].mx: expected a host name or a pattern like *.mail.bank.example");
	cr_assert_str_eq(
	    load_error("policy:\n  partners:\n    - domain: a.example\n      mx: mx.a.example\n"),
	    "test.yaml:4: policy.partners[0].mx: expected a list");
	cr_assert_str_eq(
	    load_error(
	        "policy:\n  partners:\n    - domain: a.example\n      networks: [\"198.51.100.0/33\"]\n"),
	    "test.yaml:4: policy.partners[0].networks: expected a network like 198.51.100.0/24 (bad prefix "
	    "length)");
	cr_assert_str_eq(
	    load_error("policy:\n  partners:\n    - domain: a.example\n      min_tls_version: \"1.4\"\n"),
	    "test.yaml:4: policy.partners[0].min_tls_version: expected 1.0, 1.1, 1.2 or 1.3");
	cr_assert_str_eq(load_error("policy:\n  partners:\n    - domain: a.example\n"
	                            "      require_valid_certificate: maybe\n"),
	                 "test.yaml:4: policy.partners[0].require_valid_certificate: expected true or false");
	cr_assert_str_eq(
	    load_error("policy:\n  partners:\n    - domain: a.example\n      pin_spki_sha256: [\"abc\"]\n"),
	    "test.yaml:4: policy.partners[0].pin_spki_sha256: expected 64 hex digits (SHA-256)");
	cr_assert_str_eq(
	    load_error("policy:\n  partners:\n    - domain: a.example\n"
	               "      relaxed_until: \"2026-12-24\"\n"),
	    "test.yaml:4: policy.partners[0].relaxed_until: expected a UTC time like 2026-12-24T00:00:00Z");
}

Test(settings, policy_caps_partners_at_1024_and_pins_at_16)
{
	size_t cap = 1025 * 40 + 64;
	char *yaml = malloc(cap);
	size_t off = (size_t)snprintf(yaml, cap, "policy:\n  partners:\n");
	for (int i = 0; i < 1025; i++)
		off += (size_t)snprintf(yaml + off, cap - off, "    - domain: p%d.example\n", i);
	cr_assert_str_eq(load_error(yaml), "test.yaml:2: policy.partners: more than 1024 partners");
	off = (size_t)snprintf(yaml, cap,
	                       "policy:\n  partners:\n    - domain: a.example\n      pin_spki_sha256:\n");
	for (int i = 0; i < 17; i++)
		off += (size_t)snprintf(yaml + off, cap - off, "        - %064d\n", i);
	cr_assert_str_eq(load_error(yaml),
	                 "test.yaml:4: policy.partners[0].pin_spki_sha256: more than 16 entries");
	free(yaml);
}

Test(settings, an_unknown_key_inside_a_partner_is_reported_with_its_line)
{
	cr_assert_str_eq(unknown_in("policy:\n  partners:\n    - domain: a.example\n      mode: enforced\n"
	                            "    - domain: b.example\n      moed: enforced\n"),
	                 "test.yaml:6: policy.partners[1].moed: unknown setting\n");
	cr_assert_str_eq(unknown_in("policy:\n  default_mod: none\n"),
	                 "test.yaml:2: policy.default_mod: unknown setting\n");
}

/* A temporary directory holding one MTA-STS policy file "<name>" with text; its path (static). */
static const char *sts_dir_with(const char *name, const char *text)
{
	static char dir[64];
	snprintf(dir, sizeof dir, "/tmp/tlsobs-sts-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return dir;
}

static void sts_dir_remove(const char *dir, const char *name)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	remove(path);
	rmdir(dir);
}

Test(settings, policy_mta_sts_dir_and_tlsa_file_are_loaded)
{
	const char *dir =
	    sts_dir_with("Example.NET.txt", "version: STSv1\nmode: enforce\nmx: mail.other.example\n"
	                                    "max_age: 86400\n");
	char yaml[512];
	snprintf(yaml, sizeof yaml, "policy:\n  mta_sts_dir: %s\n  tlsa_file: %s\n", dir,
	         test_source_path("tests/fixtures/dane/tlsa.zone"));
	struct config *cfg = load(yaml);
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.policy.n_mta_sts, 1);
	cr_expect_str_eq(s.policy.mta_sts[0].domain, "example.net");
	const struct mta_sts_policy *p = policy_mta_sts_find(&s.policy, "example.net.");
	cr_assert_not_null(p);
	cr_expect_eq(p->mode, MTA_STS_MODE_ENFORCE);
	cr_expect(mta_sts_mx_matches(p, "mail.other.example"));
	cr_assert_not_null(s.policy.tlsa);
	cr_expect_gt(tlsa_set_count(s.policy.tlsa), 0);
	settings_free(&s);
	cr_expect_null(s.policy.mta_sts);
	cr_expect_null(s.policy.tlsa);
	config_free(cfg);
	sts_dir_remove(dir, "Example.NET.txt");
}

Test(settings, policy_files_default_to_none)
{
	struct config *cfg = load("policy:\n  default_mode: none\n");
	struct sensor_settings s = settings_of(cfg);
	cr_expect_eq(s.policy.n_mta_sts, 0);
	cr_expect_null(s.policy.tlsa);
	settings_free(&s);
	config_free(cfg);
}

Test(settings, a_bad_mta_sts_policy_names_its_file_and_line)
{
	const char *dir = sts_dir_with("example.net.txt", "version: STSv1\nmode: strict\nmax_age: 86400\n");
	char yaml[256], want[256];
	snprintf(yaml, sizeof yaml, "policy:\n  mta_sts_dir: %s\n", dir);
	snprintf(want, sizeof want, "policy.mta_sts_dir: %s/example.net.txt: line 2: ", dir);
	const char *got = load_error(yaml);
	cr_expect(strncmp(got, want, strlen(want)) == 0, "got %s", got);
	sts_dir_remove(dir, "example.net.txt");
}

Test(settings, a_missing_tlsa_file_is_named)
{
	const char *got = load_error("policy:\n  tlsa_file: /nonexistent/tlsa.zone\n");
	cr_expect_not_null(strstr(got, "policy.tlsa_file: /nonexistent/tlsa.zone"), "got %s", got);
}

/* ---- capture sources, outputs, sensor.name, detection.runbook_base (settings_capture.c) ---- */

Test(settings, capture_sources_and_outputs_are_lists_from_the_file)
{
	struct config *cfg =
	    load("sensor:\n  name: span-a\n"
	         "capture:\n  interfaces: [eth1, eth2]\n  filter: tcp port 25\n"
	         "outputs: [\"json:/var/log/tlsobs/eve.json\", \"kafka:10.0.0.1:9092,10.0.0.2:9092\"]\n"
	         "detection:\n  runbook_base: https://wiki.example/rb/\n");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.sources.n_interfaces, 2);
	cr_assert_str_eq(s.sources.interfaces[1], "eth2");
	cr_assert_eq(s.sources.n_files, 0);
	cr_assert_str_eq(s.sources.filter, "tcp port 25");
	cr_assert_eq(s.sources.n_outputs, 2);
	cr_assert_str_eq(s.sources.outputs[1], "kafka:10.0.0.1:9092,10.0.0.2:9092");
	cr_assert_str_eq(s.sensor_name, "span-a");
	cr_assert_str_eq(s.runbook_base, "https://wiki.example/rb/");
	settings_free(&s);
	config_free(cfg);
}

Test(settings, set_gives_interfaces_comma_separated_and_one_output_or_file_whole)
{
	struct config *cfg = config_new();
	set_ok(cfg, "capture.interfaces=eth1, eth2");
	set_ok(cfg, "outputs=kafka:a:9092,b:9092");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.sources.n_interfaces, 2);
	cr_assert_str_eq(s.sources.interfaces[0], "eth1");
	cr_assert_str_eq(s.sources.interfaces[1], "eth2");
	cr_assert_eq(s.sources.n_outputs, 1);
	cr_assert_str_eq(s.sources.outputs[0], "kafka:a:9092,b:9092");
	settings_free(&s);
	config_free(cfg);
}

Test(settings, sensor_name_defaults_to_the_host_name_and_runbooks_to_the_installed_docs)
{
	struct config *cfg = load("sensor:\n  name: \"\"\n");
	struct sensor_settings s = settings_of(cfg);
	char host[256] = "";
	cr_assert_eq(gethostname(host, sizeof host - 1), 0);
	cr_assert_str_eq(s.sensor_name, host);
	cr_assert(strstr(s.runbook_base, "/runbooks/") != NULL, "%s", s.runbook_base);
	cr_assert_eq(s.sources.n_outputs, 0);
	settings_free(&s);
	config_free(cfg);
}

Test(settings, capture_source_mistakes_are_named_with_their_line)
{
	cr_assert_str_eq(
	    load_error("capture:\n  interfaces: [eth1]\n  files: [a.pcap]\n"),
	    "test.yaml:3: capture.files: capture.interfaces and capture.files cannot be used together");
	cr_assert_str_eq(load_error("outputs:\n  json: x\n"),
	                 "test.yaml:1: outputs: expected a list, got a map");
	cr_assert_str_eq(load_error("capture:\n  interfaces: [eth1, \"\"]\n"),
	                 "test.yaml:2: capture.interfaces: an empty entry");
	cr_assert_str_eq(load_error("capture:\n  interfaces: [[eth1]]\n"),
	                 "test.yaml:2: capture.interfaces: expected a list of values");
}

Test(settings, more_outputs_than_the_cap_are_refused)
{
	char yaml[2048] = "outputs: [";
	for (int i = 0; i <= SETTINGS_MAX_OUTPUTS; i++) {
		size_t used = strlen(yaml);
		snprintf(yaml + used, sizeof yaml - used, "%s\"json:/tmp/o%d\"", i ? ", " : "", i);
	}
	size_t used = strlen(yaml);
	snprintf(yaml + used, sizeof yaml - used, "]\n");
	cr_assert(strstr(load_error(yaml), "outputs: more than 16 entries") != NULL, "%s", load_error(yaml));
}

Test(settings, a_partner_domain_listed_twice_is_refused_at_its_line)
{
	cr_assert_str_eq(
	    load_error("policy:\n  partners:\n    - domain: bank.example\n"
	               "    - domain: BANK.example.\n      mode: none\n"),
	    "test.yaml:4: policy.partners[1].domain: bank.example is already partner [0]: one entry per "
	    "domain");
}

Test(settings, kafka_properties_librdkafka_refuses_are_named_with_their_line)
{
	cr_assert(strstr(load_error("kafka:\n  properties:\n    linger.ms: 5\n    lingr.ms: 5\n"),
	                 "test.yaml:4: kafka.properties.lingr.ms: librdkafka refuses it: ") != NULL);
	cr_assert(strstr(load_error("kafka:\n  properties:\n    message.timeout.ms: soon\n"),
	                 "test.yaml:3: kafka.properties.message.timeout.ms: librdkafka refuses it") != NULL);
}

/* ---- flow.source_budget ---- */

Test(settings, flow_source_budget_defaults_to_five_and_twenty_percent_and_no_exempt_network)
{
	struct config *cfg = load("");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.flow.source_budget.address_percent, 5);
	cr_assert_eq(s.flow.source_budget.prefix_percent, 20);
	cr_assert_eq(s.flow.source_budget.n_exempt, 0);
	config_free(cfg);
}

Test(settings, flow_source_budget_exempt_reads_cidrs_like_internal_networks)
{
	struct config *cfg = load("flow:\n"
	                          "  source_budget:\n"
	                          "    address: 0\n"
	                          "    prefix: 50\n"
	                          "    exempt: [192.0.2.25/32, \"2001:db8::/64\"]\n");
	struct sensor_settings s = settings_of(cfg);
	cr_assert_eq(s.flow.source_budget.address_percent, 0);
	cr_assert_eq(s.flow.source_budget.prefix_percent, 50);
	cr_assert_eq(s.flow.source_budget.n_exempt, 2);
	cr_assert_eq(s.flow.source_budget.exempt[0].prefix, 32);
	cr_assert_eq(s.flow.source_budget.exempt[1].addr.family, 6);
	set_ok(cfg, "flow.source_budget.exempt=198.51.100.0/24");
	s = settings_of(cfg);
	cr_assert_eq(s.flow.source_budget.n_exempt, 1);
	cr_assert_eq(s.flow.source_budget.exempt[0].addr.bytes[0], 198);
	cr_assert_eq(s.n_internal_networks, 0, "the exempt list is its own");
	config_free(cfg);
	cr_assert_str_eq(load_error("flow:\n  source_budget:\n    exempt: [192.0.2.0/33]\n"),
	                 "test.yaml:3: flow.source_budget.exempt: expected a network like 192.0.2.0/24, "
	                 "got '192.0.2.0/33' (bad prefix length)");
	cr_assert_str_eq(
	    load_error("flow:\n  source_budget:\n    address: 101\n"),
	    "test.yaml:3: flow.source_budget.address: expected a number from 0 to 100, got '101'");
}
