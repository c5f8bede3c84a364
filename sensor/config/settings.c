#include "sensor/config/settings.h"

#include "sensor/config/settings_capture.h"
#include "sensor/config/settings_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every setting this version knows, as dotted paths. Sections whose keys are free-form end in ".*". */
static const char *const known_keys[] = {
    "capture.snaplen",
    "capture.promiscuous",
    "capture.buffer_size",
    "capture.any_port",
    "capture.all_flows",
    "capture.vxlan_ports",
    "capture.geneve_ports",
    "capture.interfaces",
    "capture.files",
    "capture.filter",
    "outputs",
    "sensor.name",
    "detection.runbook_base",
    "smtp.ports",
    "smtp.max_line",
    "smtp.keep_local_parts",
    "kafka.topic_prefix",
    "kafka.spool.dir",
    "kafka.spool.max_bytes",
    "kafka.shutdown_timeout_ms",
    "kafka.cloudevents",
    "kafka.properties.*",
    "stats.interval",
    "log.level",
    "log.target",
    "metrics.listen",
    "detection.fallback_window",
    "detection.history.ttl",
    "detection.history.max_servers",
    "detection.history.max_pairs",
    "certificates.expiry_alert_days",
    "tls.implicit_ports",
    "tls.ca_file",
    "flow.memcap",
    "flow.hash_size",
    "flow.timeout.new",
    "flow.timeout.established",
    "flow.timeout.closed",
    "flow.emergency.timeout.new",
    "flow.emergency.timeout.established",
    "flow.emergency.timeout.closed",
    "flow.emergency.recovery_percent",
    "stream.depth",
    "defrag.memcap",
    "defrag.timeout",
    "defrag.max_fragments",
    "stream.max_ooo_bytes",
    "internal_networks",
    "state_db",
    "coverage.max_domains_per_day",
    "security.seccomp",
    "geoip.location_db",
    "geoip.asn_db",
    "geoip.paths.country_iso_code",
    "geoip.paths.country_name",
    "geoip.paths.city_name",
    "geoip.paths.latitude",
    "geoip.paths.longitude",
    "geoip.paths.as_number",
    "geoip.paths.as_organization",
    "policy.default_mode",
    "policy.mta_sts_dir",
    "policy.tlsa_file",
    "policy.partners", /* a list of maps: settings_check_partners checks their keys */
};

static const uint16_t default_smtp_ports[] = {25, 587, 2525};
static const uint16_t default_implicit_tls_ports[] = {SETTINGS_SMTPS_PORT};
static const uint16_t default_vxlan_ports[] = {DECODE_VXLAN_PORT};
static const uint16_t default_geneve_ports[] = {DECODE_GENEVE_PORT};

static int load_timeouts(const struct config *cfg, const char *prefix, const uint64_t def[FLOW_STATE_COUNT],
                         uint64_t out_us[FLOW_STATE_COUNT], struct config_error *err)
{
	static const char *const names[FLOW_STATE_COUNT] = {"new", "established", "closed"};
	for (int s = 0; s < FLOW_STATE_COUNT; s++) {
		char path[128];
		uint64_t secs;
		snprintf(path, sizeof path, "%s.%s", prefix, names[s]);
		if (config_get_seconds(cfg, path, def[s], &secs, err) != 0)
			return -1;
		if (secs == 0 || secs > 7 * 86400) {
			config_error_at(err, config_lookup(cfg, path), path,
			                "expected a duration from 1s to 7d");
			return -1;
		}
		out_us[s] = secs * 1000000u;
	}
	return 0;
}

static int load_flow(const struct config *cfg, struct flow_table_settings *f, struct config_error *err)
{
	static const uint64_t timeouts[FLOW_STATE_COUNT] = {30, 600, 10};
	static const uint64_t emergency[FLOW_STATE_COUNT] = {5, 60, 2};
	uint64_t hash_size, recovery, depth, ooo;
	if (config_get_size(cfg, "flow.memcap", 128ull << 20, &f->memcap, err) != 0 ||
	    config_get_u64(cfg, "flow.hash_size", 262144, 1024, 1u << 24, &hash_size, err) != 0 ||
	    config_get_u64(cfg, "flow.emergency.recovery_percent", 70, 1, 99, &recovery, err) != 0 ||
	    config_get_size(cfg, "stream.depth", 64ull << 20, &depth, err) != 0 ||
	    config_get_size(cfg, "stream.max_ooo_bytes", 1u << 20, &ooo, err) != 0 ||
	    load_timeouts(cfg, "flow.timeout", timeouts, f->timeout_us, err) != 0 ||
	    load_timeouts(cfg, "flow.emergency.timeout", emergency, f->emergency_timeout_us, err) != 0)
		return -1;
	/* The bucket array is charged to the memcap: leave at least half of it for flows. */
	if (f->memcap < 1u << 20 || f->memcap / 2 < hash_size * sizeof(void *) * 2) {
		config_error_at(err, config_lookup(cfg, "flow.memcap"), "flow.memcap",
		                "must be at least 1mb and four times flow.hash_size pointers (%llu bytes)",
		                (unsigned long long)(hash_size * sizeof(void *) * 4));
		return -1;
	}
	if (ooo > (1u << 30)) {
		config_error_at(err, config_lookup(cfg, "stream.max_ooo_bytes"), "stream.max_ooo_bytes",
		                "must be at most 1gb");
		return -1;
	}
	f->hash_size = (uint32_t)hash_size;
	f->recovery_percent = (unsigned)recovery;
	f->stream.depth = depth;
	f->stream.max_ooo_bytes = (uint32_t)ooo;
	return 0;
}

/*
 * defrag: its own memcap (a fragment flood must not evict flows), Linux's 30 s
 * timeout (ipfrag_time: what the receiving mail server itself waits), and at
 * most 256 fragments a datagram (a 64 KB datagram over a 576-byte path needs 120).
 */
static int load_defrag(const struct config *cfg, struct defrag_settings *d, struct config_error *err)
{
	uint64_t secs, frags;
	if (config_get_size(cfg, "defrag.memcap", 32ull << 20, &d->memcap, err) != 0 ||
	    config_get_seconds(cfg, "defrag.timeout", 30, &secs, err) != 0 ||
	    config_get_u64(cfg, "defrag.max_fragments", 256, 2, 8192, &frags, err) != 0)
		return -1;
	if (d->memcap < 1u << 20) {
		config_error_at(err, config_lookup(cfg, "defrag.memcap"), "defrag.memcap",
		                "must be at least 1mb");
		return -1;
	}
	if (secs == 0 || secs > 3600) {
		config_error_at(err, config_lookup(cfg, "defrag.timeout"), "defrag.timeout",
		                "expected a duration from 1s to 1h");
		return -1;
	}
	d->timeout_us = secs * 1000000u;
	d->max_fragments = (uint32_t)frags;
	return 0;
}

static int load_smtp_and_rules(const struct config *cfg, struct sensor_settings *out,
                               struct config_error *err)
{
	uint64_t max_line, window, ttl, servers, pairs;
	if (config_get_u64(cfg, "smtp.max_line", SMTP_DEFAULT_MAX_LINE, 512, 65536, &max_line, err) != 0 ||
	    config_get_bool(cfg, "smtp.keep_local_parts", false, &out->smtp.keep_local_parts, err) != 0 ||
	    config_get_seconds(cfg, "detection.fallback_window", 15 * 60, &window, err) != 0 ||
	    config_get_seconds(cfg, "detection.history.ttl", 30 * 86400, &ttl, err) != 0 ||
	    config_get_u64(cfg, "detection.history.max_servers", 100000, 16, 10000000, &servers, err) != 0 ||
	    config_get_u64(cfg, "detection.history.max_pairs", 100000, 16, 10000000, &pairs, err) != 0)
		return -1;
	out->smtp.max_line = max_line;
	out->rules.fallback_window_us = window * 1000000u;
	out->rules.history_ttl_us = ttl * 1000000u;
	out->rules.history_max_servers = servers;
	out->rules.history_max_pairs = pairs;
	return 0;
}

enum { EXPIRY_DAYS_MAX = 3650 };
static const unsigned default_expiry_alert_days[] = {30, 14, 7, 1};

/* One threshold of certificates.expiry_alert_days: a whole number of days, 1 to EXPIRY_DAYS_MAX. */
static int expiry_day_parse(const struct config_node *item, unsigned *out, struct config_error *err)
{
	const char *path = "certificates.expiry_alert_days";
	if (config_node_kind(item) != CONFIG_SCALAR) {
		config_error_at(err, item, path, "expected a number of days from 1 to %d", EXPIRY_DAYS_MAX);
		return -1;
	}
	const char *text = config_node_scalar(item);
	if (!text)
		text = "";
	char *end = NULL;
	errno = 0;
	unsigned long v = text[0] >= '0' && text[0] <= '9' ? strtoul(text, &end, 10) : 0;
	if (!end || *end || errno || v < 1 || v > EXPIRY_DAYS_MAX) {
		config_error_at(err, item, path, "expected a number of days from 1 to %d, got \"%s\"",
		                EXPIRY_DAYS_MAX, text);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* certificates.expiry_alert_days: a non-empty list of days (a single number counts as a list of one). */
static int load_certificates(const struct config *cfg, struct rules_settings *out, struct config_error *err)
{
	const char *path = "certificates.expiry_alert_days";
	const struct config_node *n = config_lookup(cfg, path);
	if (!n) {
		memcpy(out->expiry_alert_days, default_expiry_alert_days, sizeof default_expiry_alert_days);
		out->n_expiry_alert_days =
		    sizeof default_expiry_alert_days / sizeof default_expiry_alert_days[0];
		return 0;
	}
	if (config_node_kind(n) == CONFIG_SCALAR) {
		out->n_expiry_alert_days = 1;
		return expiry_day_parse(n, &out->expiry_alert_days[0], err);
	}
	size_t count = config_node_kind(n) == CONFIG_SEQUENCE ? config_node_count(n) : 0;
	if (count == 0 || count > CERT_RULES_MAX_THRESHOLDS) {
		config_error_at(err, n, path, "expected a list of 1 to %d numbers of days",
		                CERT_RULES_MAX_THRESHOLDS);
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		if (expiry_day_parse(config_node_child(n, i), &out->expiry_alert_days[i], err) != 0)
			return -1;
	out->n_expiry_alert_days = count;
	return 0;
}

struct property_sink {
	struct kafka_settings *kafka;
	struct sensor_settings *settings; /* its secrets */
	const struct config_node *bad; /* the first property that does not fit, or that librdkafka refuses */
	char bad_key[160];
	char why[512]; /* librdkafka's reason; "" when it does not fit our table */
};

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* <name>_file / <name>_env: only where the value is to be found; secrets_resolve reads it. 0: not one of
 * those, 1: recorded, -1: does not fit. */
static int collect_secret(struct sensor_settings *st, const char *dotted_key, const char *text)
{
	bool file = has_suffix(dotted_key, "_file"), env = has_suffix(dotted_key, "_env");
	if (!file && !env)
		return 0;
	size_t name_len = strlen(dotted_key) - (file ? 5 : 4);
	if (!text || !text[0] || st->nsecrets >= SETTINGS_MAX_SECRETS ||
	    name_len >= sizeof st->secrets[0].property || strlen(text) >= sizeof st->secrets[0].source)
		return -1;
	struct settings_secret *sec = &st->secrets[st->nsecrets++];
	snprintf(sec->property, sizeof sec->property, "%.*s", (int)name_len, dotted_key);
	snprintf(sec->source, sizeof sec->source, "%s", text);
	sec->env = env;
	return 1;
}

static void collect_property(const char *dotted_key, const struct config_node *value, void *ctx)
{
	struct property_sink *sink = ctx;
	struct kafka_settings *k = sink->kafka;
	const char *text = config_node_scalar(value);
	if (sink->bad)
		return;
	int secret = collect_secret(sink->settings, dotted_key, text);
	if (secret > 0)
		return;
	if (secret < 0 || !text || k->nproperties >= KAFKA_MAX_PROPERTIES ||
	    strlen(dotted_key) >= sizeof k->properties[0].name ||
	    strlen(text) >= sizeof k->properties[0].value) {
		sink->bad = value;
		snprintf(sink->bad_key, sizeof sink->bad_key, "kafka.properties.%s", dotted_key);
		return;
	}
	if (kafka_output_check_property(dotted_key, text, sink->why, sizeof sink->why) != 0) {
		sink->bad = value;
		snprintf(sink->bad_key, sizeof sink->bad_key, "kafka.properties.%s", dotted_key);
		return;
	}
	struct kafka_property *p = &k->properties[k->nproperties++];
	snprintf(p->name, sizeof p->name, "%s", dotted_key);
	snprintf(p->value, sizeof p->value, "%s", text);
}

static int load_kafka(const struct config *cfg, struct sensor_settings *st, struct config_error *err)
{
	struct kafka_settings *k = &st->kafka;
	const char *prefix, *dir;
	if (config_get_string(cfg, "kafka.topic_prefix", "tlsobs.", &prefix, err) != 0 ||
	    config_get_string(cfg, "kafka.spool.dir", "/var/lib/tlsobs/spool", &dir, err) != 0 ||
	    config_get_size(cfg, "kafka.spool.max_bytes", 1ull << 30, &k->spool_max_bytes, err) != 0 ||
	    config_get_u64(cfg, "kafka.shutdown_timeout_ms", 10000, 0, 3600000, &k->shutdown_timeout_ms,
	                   err) != 0 ||
	    config_get_bool(cfg, "kafka.cloudevents", false, &k->cloudevents, err) != 0)
		return -1;
	if (strlen(prefix) >= sizeof k->topic_prefix || strlen(dir) >= sizeof k->spool_dir) {
		config_error_at(err, NULL, "kafka", "topic_prefix or spool.dir too long");
		return -1;
	}
	snprintf(k->topic_prefix, sizeof k->topic_prefix, "%s", prefix);
	snprintf(k->spool_dir, sizeof k->spool_dir, "%s", dir);
	const struct config_node *props = config_lookup(cfg, "kafka.properties");
	if (props && config_node_kind(props) == CONFIG_MAP) {
		struct property_sink sink = {k, st, NULL, "", ""};
		config_node_flatten(props, collect_property, &sink);
		if (sink.bad && sink.why[0]) {
			config_error_at(err, sink.bad, sink.bad_key, "librdkafka refuses it: %s", sink.why);
			return -1;
		}
		if (sink.bad) {
			config_error_at(err, sink.bad, sink.bad_key,
			                "must be a single value of at most 511 bytes (at most %d properties; "
			                "_file and _env: a path or variable name, at most %d of them)",
			                KAFKA_MAX_PROPERTIES, SETTINGS_MAX_SECRETS);
			return -1;
		}
	}
	return 0;
}

/* One CIDR of internal_networks, `len` bytes of `text` (a list item or a piece of a comma-separated scalar).
 */
static int add_network(const struct config_node *n, const char *text, size_t len, struct sensor_settings *out,
                       struct config_error *err)
{
	char buf[128];
	while (len > 0 && (*text == ' ' || *text == '\t'))
		text++, len--;
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (out->n_internal_networks >= SETTINGS_MAX_NETWORKS) {
		config_error_at(err, n, "internal_networks", "more than %d networks", SETTINGS_MAX_NETWORKS);
		return -1;
	}
	int r = IP_NETWORK_BAD_ADDRESS; /* longer than any address: no need to parse */
	if (len < sizeof buf) {
		memcpy(buf, text, len);
		buf[len] = '\0';
		r = ip_network_parse(buf, &out->internal_networks[out->n_internal_networks]);
	}
	if (r != IP_NETWORK_OK) {
		config_error_at(err, n, "internal_networks",
		                "expected a network like 192.0.2.0/24, got '%.*s' (%s)",
		                (int)(len < 64 ? len : 64), text, ip_network_parse_result_str(r));
		return -1;
	}
	out->n_internal_networks++;
	return 0;
}

/* internal_networks: a YAML sequence of CIDRs, or a comma-separated scalar (as --set gives it); absent: none.
 */
static int load_internal_networks(const struct config *cfg, struct sensor_settings *out,
                                  struct config_error *err)
{
	const struct config_node *n = config_lookup(cfg, "internal_networks");
	out->n_internal_networks = 0;
	if (!n)
		return 0;
	if (config_node_kind(n) == CONFIG_MAP) {
		config_error_at(err, n, "internal_networks", "expected a list of networks, got a map");
		return -1;
	}
	if (config_node_kind(n) == CONFIG_SCALAR) {
		const char *s = config_node_scalar(n);
		if (strspn(s, " \t") == strlen(s))
			return 0; /* "internal_networks=" from --set: none */
		for (;;) {
			const char *comma = strchr(s, ',');
			size_t len = comma ? (size_t)(comma - s) : strlen(s);
			if (add_network(n, s, len, out, err) != 0)
				return -1;
			if (!comma)
				return 0;
			s = comma + 1;
		}
	}
	for (size_t i = 0; i < config_node_count(n); i++) {
		const struct config_node *item = config_node_child(n, i);
		const char *s = config_node_scalar(item);
		if (!s) {
			config_error_at(err, item, "internal_networks",
			                "expected a network like 192.0.2.0/24");
			return -1;
		}
		if (add_network(item, s, strlen(s), out, err) != 0)
			return -1;
	}
	return 0;
}

/* A string setting copied into a fixed buffer; too long is an error at its line. */
static int copy_string(const struct config *cfg, const char *key, char *dst, size_t cap,
                       struct config_error *err)
{
	const char *v;
	if (config_get_string(cfg, key, "", &v, err) != 0)
		return -1;
	if (strlen(v) >= cap) {
		config_error_at(err, config_lookup(cfg, key), key, "longer than %zu characters", cap - 1);
		return -1;
	}
	snprintf(dst, cap, "%s", v);
	return 0;
}

/* geoip: the files and record paths; the paths are checked when the databases are opened (geoip_open). */
static int load_geoip(const struct config *cfg, struct geoip_config *g, struct config_error *err)
{
	static const char *const path_keys[GEOIP_CONFIG_PATHS] = {
	    "geoip.paths.country_iso_code", "geoip.paths.country_name", "geoip.paths.city_name",
	    "geoip.paths.latitude",         "geoip.paths.longitude",    "geoip.paths.as_number",
	    "geoip.paths.as_organization",
	};
	if (copy_string(cfg, "geoip.location_db", g->location_db, sizeof g->location_db, err) != 0 ||
	    copy_string(cfg, "geoip.asn_db", g->asn_db, sizeof g->asn_db, err) != 0)
		return -1;
	for (int i = 0; i < GEOIP_CONFIG_PATHS; i++)
		if (copy_string(cfg, path_keys[i], g->paths[i], sizeof g->paths[i], err) != 0)
			return -1;
	return 0;
}

int settings_load(const struct config *cfg, struct sensor_settings *out, struct config_error *err)
{
	memset(out, 0, sizeof *out);
	uint64_t buffer_size;
	if (config_get_u64(cfg, "capture.snaplen", 65535, 64, 262144, &out->snaplen, err) != 0 ||
	    config_get_bool(cfg, "capture.promiscuous", true, &out->promiscuous, err) != 0 ||
	    config_get_bool(cfg, "capture.any_port", false, &out->any_port, err) != 0 ||
	    config_get_bool(cfg, "capture.all_flows", false, &out->all_flows, err) != 0 ||
	    config_get_size(cfg, "capture.buffer_size", 32u << 20, &buffer_size, err) != 0 ||
	    config_get_ports(cfg, "smtp.ports", default_smtp_ports, 3, out->smtp_ports, SETTINGS_MAX_PORTS,
	                     &out->n_smtp_ports, err) != 0 ||
	    config_get_ports(cfg, "tls.implicit_ports", default_implicit_tls_ports, 1,
	                     out->implicit_tls_ports, SETTINGS_MAX_PORTS, &out->n_implicit_tls_ports,
	                     err) != 0 ||
	    config_get_ports(cfg, "capture.vxlan_ports", default_vxlan_ports, 1, out->decode.vxlan_ports,
	                     DECODE_MAX_TUNNEL_PORTS, &out->decode.n_vxlan_ports, err) != 0 ||
	    config_get_ports(cfg, "capture.geneve_ports", default_geneve_ports, 1, out->decode.geneve_ports,
	                     DECODE_MAX_TUNNEL_PORTS, &out->decode.n_geneve_ports, err) != 0 ||
	    load_flow(cfg, &out->flow, err) != 0 || load_defrag(cfg, &out->defrag, err) != 0 ||
	    load_smtp_and_rules(cfg, out, err) != 0 || load_certificates(cfg, &out->rules, err) != 0 ||
	    load_kafka(cfg, out, err) != 0)
		return -1;
	uint64_t stats_interval;
	if (config_get_seconds(cfg, "stats.interval", 60, &stats_interval, err) != 0 ||
	    config_get_bool(cfg, "security.seccomp", false, &out->seccomp, err) != 0)
		return -1;
	out->stats_interval_us = stats_interval * 1000000u;
	if (buffer_size > (1u << 30)) {
		config_error_at(err, config_lookup(cfg, "capture.buffer_size"), "capture.buffer_size",
		                "must be at most 1gb");
		return -1;
	}
	out->buffer_size = buffer_size;
	const char *ca_file;
	if (config_get_string(cfg, "tls.ca_file", "", &ca_file, err) != 0)
		return -1;
	if (strlen(ca_file) >= sizeof out->ca_file) {
		config_error_at(err, config_lookup(cfg, "tls.ca_file"), "tls.ca_file", "path too long");
		return -1;
	}
	snprintf(out->ca_file, sizeof out->ca_file, "%s", ca_file);
	const char *state_db;
	if (config_get_string(cfg, "state_db", "", &state_db, err) != 0)
		return -1;
	if (strlen(state_db) >= sizeof out->state_db) {
		config_error_at(err, config_lookup(cfg, "state_db"), "state_db", "path too long");
		return -1;
	}
	snprintf(out->state_db, sizeof out->state_db, "%s", state_db);
	if (config_get_u64(cfg, "coverage.max_domains_per_day", 10000, 16, 10000000,
	                   &out->coverage_max_domains_per_day, err) != 0)
		return -1;
	if (load_geoip(cfg, &out->geoip, err) != 0)
		return -1;
	if (load_internal_networks(cfg, out, err) != 0 || settings_load_sources(cfg, out, err) != 0)
		return -1;
	if (settings_runtime_load(cfg, &out->runtime, err) != 0)
		return -1;
	return settings_load_policy(cfg, &out->policy, err); /* last: it allocates */
}

void settings_free(struct sensor_settings *s)
{
	if (s)
		policy_clear(&s->policy);
}

/* Exact keys, or anything below a free-form section listed as "section.*" (librdkafka properties). */
static bool is_known(const char *path)
{
	for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++) {
		const char *k = known_keys[i];
		size_t n = strlen(k);
		if (strcmp(path, k) == 0)
			return true;
		if (n > 2 && strcmp(k + n - 2, ".*") == 0 && strncmp(path, k, n - 1) == 0 &&
		    path[n - 1] != '\0')
			return true;
	}
	return false;
}

/* True when `path` is a known key or a section above one ("flow", "flow.timeout"). */
static bool is_known_section(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++)
		if (strncmp(known_keys[i], path, n) == 0 && known_keys[i][n] == '.')
			return true;
	return false;
}

static size_t check_node(const struct config_node *n, const char *path, void (*report)(const char *, void *),
                         void *ctx)
{
	size_t unknown = 0;
	for (size_t i = 0; i < config_node_count(n); i++) {
		const struct config_node *child = config_node_child(n, i);
		char sub[512];
		snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", config_node_key(child));
		if (strcmp(sub, "policy.partners") == 0) {
			unknown += settings_check_partners(child, report, ctx);
			continue;
		}
		if (is_known(sub))
			continue;
		bool section = is_known_section(sub);
		if (section && config_node_kind(child) == CONFIG_MAP) {
			unknown += check_node(child, sub, report, ctx);
			continue;
		}
		/* "flow:" with every key below commented out reads as an empty scalar: an empty section. */
		if (section && config_node_kind(child) == CONFIG_SCALAR && *config_node_scalar(child) == '\0')
			continue;
		struct config_error e;
		config_error_at(&e, child, sub,
		                section ? "expected a section of settings" : "unknown setting");
		report(e.message, ctx);
		unknown++;
	}
	return unknown;
}

size_t settings_check_unknown(const struct config *cfg, void (*report)(const char *message, void *ctx),
                              void *ctx)
{
	const struct config_node *root = config_lookup(cfg, "");
	return root && config_node_kind(root) == CONFIG_MAP ? check_node(root, "", report, ctx) : 0;
}
