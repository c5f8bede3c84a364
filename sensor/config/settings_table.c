/*
 * settings_table.c: the settings table itself (settings_table.h), one row per configuration key in the
 * order of docs/tlsobs.example.yaml, which is also the order they load in. A new key is one row here, a
 * field in struct sensor_settings and a line in the example; `tlsobs --list-settings` regenerates
 * docs/settings.md and integration/settings_docs checks both.
 *
 * Defaults come from the module that owns them where it has one (SMTP_DEFAULT_MAX_LINE,
 * RULES_DEFAULT_*, KAFKA_DEFAULT_*, DECODE_*_PORT), so that a module used without the sensor behaves the
 * same.
 */
#include "sensor/config/settings_table.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/config/settings.h"
#include "sensor/config/settings_custom.h"
#include "sensor/config/settings_policy.h"
#include "version.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FIELD(f) sizeof(((struct sensor_settings *)0)->f)
/* The field a row fills: where it is and how big. */
#define AT(f) .offset = offsetof(struct sensor_settings, f), .size = FIELD(f)
/* Ports and lists: the array, its count, and how many entries it holds. */
#define PORTS_AT(arr, count, defaults)                                                                       \
	AT(arr), .count_offset = offsetof(struct sensor_settings, count),                                    \
	         .cap = FIELD(arr) / sizeof(uint16_t), .def_ports = defaults,                                \
	         .n_def_ports = ARRAY_LEN(defaults)
#define LIST_AT(table, count)                                                                                \
	AT(table), .count_offset = offsetof(struct sensor_settings, count), .width = FIELD(table[0]),        \
	           .cap = FIELD(table) / FIELD(table[0])
/* CIDR lists: the ip_network array and its count. */
#define NETWORKS_AT(table, count)                                                                            \
	AT(table), .count_offset = offsetof(struct sensor_settings, count),                                  \
	           .cap = FIELD(table) / FIELD(table[0])
#define CUSTOM(loader, printer) .type = SETTING_CUSTOM, .load = loader, .print = printer

#define MB (1ull << 20)
#define GB (1ull << 30)
#define DAY 86400ull

static const uint16_t default_smtp_ports[] = {25, 587, 2525};
static const uint16_t default_implicit_tls_ports[] = {SETTINGS_SMTPS_PORT};
static const uint16_t default_vxlan_ports[] = {DECODE_VXLAN_PORT};
static const uint16_t default_geneve_ports[] = {DECODE_GENEVE_PORT};

/* In enum order: the index is the value (enum logger_level, enum logger_target, enum policy_mode). */
static const char *const log_levels[] = {"error", "warning", "notice", "info", "debug", NULL};
static const char *const log_targets[] = {"stderr", "syslog", NULL};
static const char *const policy_modes[] = {"enforced", "opportunistic", "none", NULL};
static const char *const client_ciphers[] = {"names", "codes", "none", NULL}; /* enum event_client_ciphers */

/* flow.timeout.* and flow.emergency.timeout.*: idle times by flow state, 1s to 7d. */
#define FLOW_TIMEOUT(name, f, secs)                                                                          \
	{                                                                                                    \
		.key = name, .type = SETTING_DURATION, AT(f), .def = secs, .min = 1, .max = 7 * DAY          \
	}
/* geoip.paths.*: a record path, "" for the GeoLite2 one. */
#define GEOIP_PATH(name, i)                                                                                  \
	{                                                                                                    \
		.key = "geoip.paths." name, .type = SETTING_STRING, AT(geoip.paths[i])                       \
	}

const struct setting settings_table[] = {
    {.key = "sensor.name",
     .type = SETTING_STRING,
     .flags = SETTING_RELOAD | SETTING_HOST_DEFAULT,
     AT(sensor_name),
     .doc_default = "the host name"},
    {.key = "outputs", .type = SETTING_LIST, LIST_AT(sources.outputs, sources.n_outputs)},
    {.key = "events.client_ciphers",
     .type = SETTING_ENUM,
     .flags = SETTING_RELOAD,
     AT(client_ciphers),
     .names = client_ciphers,
     .def_text = "names"},
    {.key = "capture.interfaces",
     .type = SETTING_LIST,
     .flags = SETTING_SPLIT,
     LIST_AT(sources.interfaces, sources.n_interfaces)},
    {.key = "capture.files",
     .type = SETTING_LIST,
     LIST_AT(sources.files, sources.n_files),
     .check = settings_check_sources},
    {.key = "capture.filter", .type = SETTING_STRING, AT(sources.filter)},
    {.key = "capture.snaplen", .type = SETTING_UINT, AT(snaplen), .def = 65535, .min = 64, .max = 262144},
    {.key = "capture.promiscuous", .type = SETTING_BOOL, AT(promiscuous), .def = true},
    {.key = "capture.buffer_size", .type = SETTING_SIZE, AT(buffer_size), .def = 32 * MB, .max = GB},
    {.key = "capture.any_port", .type = SETTING_BOOL, AT(any_port)},
    {.key = "capture.all_flows", .type = SETTING_BOOL, AT(all_flows)},
    {.key = "capture.vxlan_ports",
     .type = SETTING_PORTS,
     PORTS_AT(decode.vxlan_ports, decode.n_vxlan_ports, default_vxlan_ports)},
    {.key = "capture.geneve_ports",
     .type = SETTING_PORTS,
     PORTS_AT(decode.geneve_ports, decode.n_geneve_ports, default_geneve_ports)},
    {.key = "capture.workers",
     .type = SETTING_STRING,
     AT(workers),
     .def_text = "1",
     .check = settings_check_workers},
    {.key = "capture.cpu_affinity",
     .type = SETTING_LIST,
     .flags = SETTING_SPLIT,
     LIST_AT(cpu_affinity, n_cpu_affinity),
     .check = settings_check_cpu_affinity},
    {.key = "smtp.ports", .type = SETTING_PORTS, PORTS_AT(smtp_ports, n_smtp_ports, default_smtp_ports)},
    {.key = "smtp.max_line",
     .type = SETTING_UINT,
     AT(smtp.max_line),
     .def = SMTP_DEFAULT_MAX_LINE,
     .min = 512,
     .max = 65536},
    {.key = "smtp.keep_local_parts", .type = SETTING_BOOL, AT(smtp.keep_local_parts)},
    {.key = "internal_networks",
     .flags = SETTING_RELOAD,
     CUSTOM(settings_load_networks, settings_print_networks),
     .doc_type = "list of CIDRs",
     NETWORKS_AT(internal_networks, n_internal_networks)},
    {.key = "tls.implicit_ports",
     .type = SETTING_PORTS,
     PORTS_AT(implicit_tls_ports, n_implicit_tls_ports, default_implicit_tls_ports)},
    {.key = "tls.ca_file", .type = SETTING_STRING, .flags = SETTING_RELOAD, AT(ca_file)},
    {.key = "tls.certificate_cache.entries",
     .type = SETTING_UINT,
     AT(certificate_cache_entries),
     .def = 1024, /* CERT_CACHE_DEFAULT_ENTRIES (sensor/app/cert_cache.h) */
     .min = 0,
     .max = 1000000},
    {.key = "detection.runbook_base",
     .type = SETTING_STRING,
     .flags = SETTING_RELOAD,
     AT(runbook_base),
     .def_text = TLSOBS_RUNBOOK_BASE,
     .doc_default = "PREFIX/share/doc/tlsobs/runbooks/"},
    {.key = "detection.fallback_window",
     .type = SETTING_DURATION,
     AT(rules.fallback_window_us),
     .def = RULES_DEFAULT_FALLBACK_WINDOW_S},
    {.key = "detection.history.ttl",
     .type = SETTING_DURATION,
     AT(rules.history_ttl_us),
     .def = RULES_DEFAULT_HISTORY_TTL_S},
    {.key = "detection.history.max_servers",
     .type = SETTING_UINT,
     AT(rules.history_max_servers),
     .def = RULES_DEFAULT_HISTORY_MAX,
     .min = 16,
     .max = 10000000},
    {.key = "detection.history.max_pairs",
     .type = SETTING_UINT,
     AT(rules.history_max_pairs),
     .def = RULES_DEFAULT_HISTORY_MAX,
     .min = 16,
     .max = 10000000},
    /* detection.history.memcap: the four history tables (servers, pairs, TLS servers, certificates)
     * together, bucket arrays included (8 bytes a slot, 4 MiB at the default count caps), least recently seen
     * dropped first when full. 64 MiB keeps the process within flow.memcap + this + 64 MiB (code, libraries,
     * nDPI, buffers): at the default count caps the tables could reach about 215 MiB (an entry costs 144
     * bytes a server, 184 a pair, 1,424 a TLS server, 472 a certificate), so under a flood of new addresses
     * the memcap, not the count, bounds them; 60 MiB of entries still hold some 28,000 servers with all their
     * facts, a pair and a certificate each, the partners a gateway really talks to. */
    {.key = "detection.history.memcap",
     .type = SETTING_SIZE,
     AT(rules.history_memcap),
     .def = RULES_DEFAULT_HISTORY_MEMCAP,
     .min = MB,
     .max = UINT64_MAX},
    /* detection.history.shared (issue 20): the history shared by a fleet through the compacted topic
     * <kafka.topic_prefix>history (sensor/state/history_share.h); needs a kafka: output. */
    {.key = "detection.history.shared", .type = SETTING_BOOL, AT(history_share.shared)},
    {.key = "detection.history.max_clock_skew",
     .type = SETTING_DURATION,
     AT(history_share.max_clock_skew_us),
     .def = 300,
     .min = 1,
     .max = DAY},
    {.key = "detection.history.topic_partitions",
     .type = SETTING_UINT,
     AT(history_share.topic_partitions),
     .def = 6,
     .min = 1,
     .max = 1000},
    /* 0: compacted only (every key's last record kept); else compact,delete with this retention.ms */
    {.key = "detection.history.retention",
     .type = SETTING_DURATION,
     AT(history_share.retention_us),
     .def = 0,
     .min = 0,
     .max = 3650 * DAY},
    {.key = "detection.history.startup_timeout",
     .type = SETTING_DURATION,
     AT(history_share.startup_timeout_us),
     .def = 30,
     .min = 0,
     .max = 3600},
    {.key = "certificates.expiry_alert_days",
     CUSTOM(settings_load_expiry_days, settings_print_expiry_days),
     .doc_type = "list of days",
     AT(rules.expiry_alert_days),
     .min = 1,
     .max = 3650},
    {.key = "kafka.topic_prefix",
     .type = SETTING_STRING,
     AT(kafka.topic_prefix),
     .def_text = KAFKA_DEFAULT_TOPIC_PREFIX},
    {.key = "kafka.spool.dir",
     .type = SETTING_STRING,
     AT(kafka.spool_dir),
     .def_text = KAFKA_DEFAULT_SPOOL_DIR},
    {.key = "kafka.spool.max_bytes",
     .type = SETTING_SIZE,
     AT(kafka.spool_max_bytes),
     .def = KAFKA_DEFAULT_SPOOL_MAX_BYTES},
    {.key = "kafka.shutdown_timeout_ms",
     .type = SETTING_UINT,
     AT(kafka.shutdown_timeout_ms),
     .def = KAFKA_DEFAULT_SHUTDOWN_TIMEOUT_MS,
     .min = 0,
     .max = 3600000},
    {.key = "kafka.cloudevents", .type = SETTING_BOOL, AT(kafka.cloudevents)},
    {.key = "kafka.properties",
     .flags = SETTING_FREEFORM,
     CUSTOM(settings_load_kafka_properties, settings_print_kafka_properties),
     .doc_type = "map (librdkafka)",
     AT(kafka.properties)},
    {.key = "stats.interval",
     .type = SETTING_DURATION,
     .flags = SETTING_RELOAD,
     AT(stats_interval_us),
     .def = 60},
    {.key = "log.level",
     .type = SETTING_ENUM,
     .flags = SETTING_RELOAD,
     AT(runtime.log_level),
     .names = log_levels,
     .def_text = "notice"},
    {.key = "log.target",
     .type = SETTING_ENUM,
     .flags = SETTING_RELOAD,
     AT(runtime.log_target),
     .names = log_targets,
     .def_text = "stderr"},
    {.key = "metrics.listen",
     CUSTOM(settings_load_metrics_listen, settings_print_metrics_listen),
     .doc_type = "HOST:PORT",
     AT(runtime)},
    {.key = "flow.memcap", .type = SETTING_SIZE, AT(flow.memcap), .def = 128 * MB},
    {.key = "flow.hash_size",
     .type = SETTING_UINT,
     AT(flow.hash_size),
     .def = 262144,
     .min = 1024,
     .max = 1u << 24,
     .check = settings_check_flow_memcap},
    FLOW_TIMEOUT("flow.timeout.new", flow.timeout_us[FLOW_STATE_NEW], 30),
    FLOW_TIMEOUT("flow.timeout.established", flow.timeout_us[FLOW_STATE_ESTABLISHED], 600),
    FLOW_TIMEOUT("flow.timeout.closed", flow.timeout_us[FLOW_STATE_CLOSED], 10),
    FLOW_TIMEOUT("flow.emergency.timeout.new", flow.emergency_timeout_us[FLOW_STATE_NEW], 5),
    FLOW_TIMEOUT("flow.emergency.timeout.established", flow.emergency_timeout_us[FLOW_STATE_ESTABLISHED], 60),
    FLOW_TIMEOUT("flow.emergency.timeout.closed", flow.emergency_timeout_us[FLOW_STATE_CLOSED], 2),
    {.key = "flow.emergency.recovery_percent",
     .type = SETTING_UINT,
     AT(flow.recovery_percent),
     .def = 70,
     .min = 1,
     .max = 99},
    /* Per-source budget (flow_table.h): shares of flow.memcap one client address, and one client /24 or
     * /64, may hold once memory is short; 0 and 0 turn the accounting off. */
    {.key = "flow.source_budget.address",
     .type = SETTING_UINT,
     AT(flow.source_budget.address_percent),
     .def = 5,
     .min = 0,
     .max = 100},
    {.key = "flow.source_budget.prefix",
     .type = SETTING_UINT,
     AT(flow.source_budget.prefix_percent),
     .def = 20,
     .min = 0,
     .max = 100},
    {.key = "flow.source_budget.exempt",
     CUSTOM(settings_load_networks, settings_print_networks),
     .doc_type = "list of CIDRs",
     NETWORKS_AT(flow.source_budget.exempt, flow.source_budget.n_exempt)},
    /* defrag: its own memcap (a fragment flood must not evict flows), Linux's 30 s timeout (ipfrag_time:
     * what the receiving mail server itself waits), and at most 256 fragments a datagram (a 64 KB datagram
     * over a 576-byte path needs 120). */
    {.key = "defrag.memcap",
     .type = SETTING_SIZE,
     AT(defrag.memcap),
     .def = 32 * MB,
     .min = MB,
     .max = UINT64_MAX},
    {.key = "defrag.timeout",
     .type = SETTING_DURATION,
     AT(defrag.timeout_us),
     .def = 30,
     .min = 1,
     .max = 3600},
    {.key = "defrag.max_fragments",
     .type = SETTING_UINT,
     AT(defrag.max_fragments),
     .def = 256,
     .min = 2,
     .max = 8192},
    {.key = "stream.depth", .type = SETTING_SIZE, AT(flow.stream.depth), .def = 64 * MB},
    {.key = "stream.max_ooo_bytes",
     .type = SETTING_SIZE,
     AT(flow.stream.max_ooo_bytes),
     .def = MB,
     .max = GB},
    {.key = "policy.default_mode",
     .type = SETTING_ENUM,
     .flags = SETTING_RELOAD,
     AT(policy.default_mode),
     .names = policy_modes,
     .def_text = "opportunistic"},
    {.key = "policy.mta_sts_dir", .type = SETTING_STRING, .flags = SETTING_RELOAD, AT(policy_mta_sts_dir)},
    {.key = "policy.tlsa_file", .type = SETTING_STRING, .flags = SETTING_RELOAD, AT(policy_tlsa_file)},
    {.key = "policy.partners",
     .flags = SETTING_RELOAD,
     CUSTOM(settings_load_partners, settings_print_partners),
     .doc_type = "list of partners",
     AT(policy),
     .check_keys = settings_check_partners},
    {.key = "state_db", .type = SETTING_STRING, AT(state_db)},
    {.key = "security.seccomp", .type = SETTING_BOOL, AT(seccomp)},
    {.key = "coverage.max_domains_per_day",
     .type = SETTING_UINT,
     AT(coverage_max_domains_per_day),
     .def = 10000,
     .min = 16,
     .max = 10000000},
    {.key = "geoip.location_db", .type = SETTING_STRING, AT(geoip.location_db)},
    {.key = "geoip.asn_db", .type = SETTING_STRING, AT(geoip.asn_db)},
    GEOIP_PATH("country_iso_code", 0),
    GEOIP_PATH("country_name", 1),
    GEOIP_PATH("city_name", 2),
    GEOIP_PATH("latitude", 3),
    GEOIP_PATH("longitude", 4),
    GEOIP_PATH("as_number", 5),
    GEOIP_PATH("as_organization", 6),
};

const size_t settings_table_count = ARRAY_LEN(settings_table);

const struct setting *settings_table_find(const char *key)
{
	for (size_t i = 0; i < settings_table_count; i++)
		if (strcmp(settings_table[i].key, key) == 0)
			return &settings_table[i];
	return NULL;
}

size_t settings_restart_needed(const struct sensor_settings *running, const struct sensor_settings *next,
                               void (*changed)(const char *key, void *ctx), void *ctx)
{
	char a[16384], b[16384];
	size_t n = 0;
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		if ((st->flags & SETTING_RELOAD) || strcmp(st->key, "kafka.properties") == 0)
			continue;
		setting_format(st, running, a, sizeof a);
		setting_format(st, next, b, sizeof b);
		if (strcmp(a, b) != 0) {
			changed(st->key, ctx);
			n++;
		}
	}
	return n;
}

void settings_print(const struct sensor_settings *s, FILE *out)
{
	char value[8192];
	for (size_t i = 0; i < settings_table_count; i++) {
		setting_format(&settings_table[i], s, value, sizeof value);
		fprintf(out, "%s: %s\n", settings_table[i].key, value);
	}
}

/* A Markdown table cell: '|' would end it early. */
static void cell(FILE *out, const char *text)
{
	fputs("| ", out);
	for (; *text; text++)
		fputs(*text == '|' ? "\\|" : (char[]){*text, '\0'}, out);
	fputc(' ', out);
}

int settings_list(FILE *out)
{
	struct sensor_settings *defaults = calloc(1, sizeof *defaults);
	struct config *empty = config_new();
	struct config_error err;
	int rc = -1;
	if (!defaults || !empty || settings_load(empty, defaults, &err) != 0)
		goto done;
	fprintf(
	    out,
	    "<!-- Generated by `tlsobs --list-settings` from sensor/config/settings_table.c: do not edit. "
	    "-->\n"
	    "# Configuration keys\n\n"
	    "Every key of the configuration file, its type, default and bounds; reload: a SIGHUP applies it "
	    "(the others are read at start). docs/tlsobs.example.yaml explains each one.\n\n"
	    "| key | type | default | bounds | reload |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		char value[8192], bounds[256];
		setting_format(st, defaults, value, sizeof value);
		setting_bounds(st, bounds, sizeof bounds);
		cell(out, st->key);
		cell(out, st->doc_type ? st->doc_type : setting_type_str(st->type));
		cell(out, st->doc_default ? st->doc_default : value);
		cell(out, bounds);
		cell(out, st->flags & SETTING_RELOAD ? "yes" : "no");
		fputs("|\n", out);
	}
	rc = 0;
	settings_free(defaults);
done:
	config_free(empty);
	free(defaults);
	return rc;
}
