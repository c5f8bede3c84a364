/*
 * settings.c: the sensor's settings loaded through the settings table (settings_table.h): every row in
 * order, then the checks between keys; and the unknown-key check, also from the table. The loaders of the
 * keys with structure of their own live here too: kafka.properties with its secrets, internal_networks and
 * certificates.expiry_alert_days (settings_custom.h).
 */
#include "sensor/config/settings.h"

#include "sensor/config/settings_custom.h"
#include "sensor/config/settings_policy.h"
#include "sensor/config/settings_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One threshold of certificates.expiry_alert_days: a whole number of days within the row's bounds. */
static int expiry_day_parse(const struct setting *st, const struct config_node *item, unsigned *out,
                            struct config_error *err)
{
	if (config_node_kind(item) != CONFIG_SCALAR) {
		config_error_at(err, item, st->key, "expected a number of days from %llu to %llu",
		                (unsigned long long)st->min, (unsigned long long)st->max);
		return -1;
	}
	const char *text = config_node_scalar(item);
	if (!text)
		text = "";
	char *end = NULL;
	errno = 0;
	unsigned long v = text[0] >= '0' && text[0] <= '9' ? strtoul(text, &end, 10) : 0;
	if (!end || *end || errno || v < st->min || v > st->max) {
		config_error_at(err, item, st->key, "expected a number of days from %llu to %llu, got \"%s\"",
		                (unsigned long long)st->min, (unsigned long long)st->max, text);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* certificates.expiry_alert_days: a non-empty list of days (a single number counts as a list of one). */
int settings_load_expiry_days(const struct config *cfg, const struct setting *st, struct sensor_settings *s,
                              struct config_error *err)
{
	static const unsigned defaults[] = RULES_DEFAULT_EXPIRY_ALERT_DAYS;
	struct rules_settings *out = &s->rules;
	const struct config_node *n = config_lookup(cfg, st->key);
	if (!n) {
		memcpy(out->expiry_alert_days, defaults, sizeof defaults);
		out->n_expiry_alert_days = sizeof defaults / sizeof defaults[0];
		return 0;
	}
	if (config_node_kind(n) == CONFIG_SCALAR) {
		out->n_expiry_alert_days = 1;
		return expiry_day_parse(st, n, &out->expiry_alert_days[0], err);
	}
	size_t count = config_node_kind(n) == CONFIG_SEQUENCE ? config_node_count(n) : 0;
	if (count == 0 || count > CERT_RULES_MAX_THRESHOLDS) {
		config_error_at(err, n, st->key, "expected a list of 1 to %d numbers of days",
		                CERT_RULES_MAX_THRESHOLDS);
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		if (expiry_day_parse(st, config_node_child(n, i), &out->expiry_alert_days[i], err) != 0)
			return -1;
	out->n_expiry_alert_days = count;
	return 0;
}

void settings_print_expiry_days(const struct setting *st, const struct sensor_settings *s, char *buf,
                                size_t cap)
{
	(void)st;
	size_t len = 0;
	settings_print_add(buf, cap, &len, "[");
	for (size_t i = 0; i < s->rules.n_expiry_alert_days; i++)
		settings_print_add(buf, cap, &len, "%s%u", i ? ", " : "", s->rules.expiry_alert_days[i]);
	settings_print_add(buf, cap, &len, "]");
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

/* kafka.properties: every value below it, passed to librdkafka as it is (checked by librdkafka itself). */
int settings_load_kafka_properties(const struct config *cfg, const struct setting *st,
                                   struct sensor_settings *s, struct config_error *err)
{
	const struct config_node *props = config_lookup(cfg, st->key);
	if (!props || config_node_kind(props) != CONFIG_MAP)
		return 0;
	struct property_sink sink = {&s->kafka, s, NULL, "", ""};
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
	return 0;
}

/* The names only: a value may be a secret, and -T -v output ends up in tickets and chat. */
void settings_print_kafka_properties(const struct setting *st, const struct sensor_settings *s, char *buf,
                                     size_t cap)
{
	(void)st;
	size_t len = 0;
	settings_print_add(buf, cap, &len, "{");
	for (unsigned i = 0; i < s->kafka.nproperties; i++)
		settings_print_add(buf, cap, &len, "%s%s: (set)", len > 1 ? ", " : "",
		                   s->kafka.properties[i].name);
	for (unsigned i = 0; i < s->nsecrets; i++)
		settings_print_add(buf, cap, &len, "%s%s_%s: (set)", len > 1 ? ", " : "",
		                   s->secrets[i].property, s->secrets[i].env ? "env" : "file");
	settings_print_add(buf, cap, &len, "}");
}

/* The table and count a CIDR-list row fills (internal_networks, flow.source_budget.exempt). */
static struct ip_network *networks_of(const struct setting *st, struct sensor_settings *s, size_t **count)
{
	*count = (size_t *)((char *)s + st->count_offset);
	return (struct ip_network *)((char *)s + st->offset);
}

/* One CIDR of a CIDR-list row, `len` bytes of `text` (a list item or a piece of a comma-separated scalar).
 */
static int add_network(const struct config_node *n, const struct setting *st, const char *text, size_t len,
                       struct sensor_settings *out, struct config_error *err)
{
	char buf[128];
	size_t *count;
	struct ip_network *table = networks_of(st, out, &count);
	while (len > 0 && (*text == ' ' || *text == '\t'))
		text++, len--;
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (*count >= st->cap) {
		config_error_at(err, n, st->key, "more than %zu networks", st->cap);
		return -1;
	}
	int r = IP_NETWORK_BAD_ADDRESS; /* longer than any address: no need to parse */
	if (len < sizeof buf) {
		memcpy(buf, text, len);
		buf[len] = '\0';
		r = ip_network_parse(buf, &table[*count]);
	}
	if (r != IP_NETWORK_OK) {
		config_error_at(err, n, st->key, "expected a network like 192.0.2.0/24, got '%.*s' (%s)",
		                (int)(len < 64 ? len : 64), text, ip_network_parse_result_str(r));
		return -1;
	}
	(*count)++;
	return 0;
}

/* A CIDR-list row (internal_networks, flow.source_budget.exempt): a YAML sequence of CIDRs, or a
 * comma-separated scalar (as --set gives it); absent: none. */
int settings_load_networks(const struct config *cfg, const struct setting *st, struct sensor_settings *out,
                           struct config_error *err)
{
	const struct config_node *n = config_lookup(cfg, st->key);
	size_t *count;
	networks_of(st, out, &count);
	*count = 0;
	if (!n)
		return 0;
	if (config_node_kind(n) == CONFIG_MAP) {
		config_error_at(err, n, st->key, "expected a list of networks, got a map");
		return -1;
	}
	if (config_node_kind(n) == CONFIG_SCALAR) {
		const char *s = config_node_scalar(n);
		if (strspn(s, " \t") == strlen(s))
			return 0; /* "internal_networks=" from --set: none */
		for (;;) {
			const char *comma = strchr(s, ',');
			size_t len = comma ? (size_t)(comma - s) : strlen(s);
			if (add_network(n, st, s, len, out, err) != 0)
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
			config_error_at(err, item, st->key, "expected a network like 192.0.2.0/24");
			return -1;
		}
		if (add_network(item, st, s, strlen(s), out, err) != 0)
			return -1;
	}
	return 0;
}

void settings_print_networks(const struct setting *st, const struct sensor_settings *s, char *buf, size_t cap)
{
	size_t *count;
	const struct ip_network *table = networks_of(st, (struct sensor_settings *)s, &count);
	size_t len = 0;
	settings_print_add(buf, cap, &len, "[");
	for (size_t i = 0; i < *count; i++) {
		char addr[64];
		ip_addr_format(&table[i].addr, addr, sizeof addr);
		settings_print_add(buf, cap, &len, "%s\"%s/%u\"", i ? ", " : "", addr, table[i].prefix);
	}
	settings_print_add(buf, cap, &len, "]");
}

/* capture.interfaces and capture.files: one or the other, as -i and -r. */
int settings_check_sources(const struct config *cfg, const struct sensor_settings *s,
                           struct config_error *err)
{
	if (s->sources.n_interfaces && s->sources.n_files) {
		config_error_at(err, config_lookup(cfg, "capture.files"), "capture.files",
		                "capture.interfaces and capture.files cannot be used together");
		return -1;
	}
	return 0;
}

/* The bucket array is charged to flow.memcap: leave at least half of it for flows. */
int settings_check_flow_memcap(const struct config *cfg, const struct sensor_settings *s,
                               struct config_error *err)
{
	uint64_t buckets = (uint64_t)s->flow.hash_size * sizeof(void *);
	if (s->flow.memcap < 1u << 20 || s->flow.memcap / 2 < buckets * 2) {
		config_error_at(err, config_lookup(cfg, "flow.memcap"), "flow.memcap",
		                "must be at least 1mb and four times flow.hash_size pointers (%llu bytes)",
		                (unsigned long long)(buckets * 4));
		return -1;
	}
	return 0;
}

int settings_load(const struct config *cfg, struct sensor_settings *out, struct config_error *err)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		if (setting_load(cfg, st, out, err) != 0 || (st->check && st->check(cfg, out, err) != 0)) {
			settings_free(out); /* the policy may hold partners and files already */
			memset(out, 0, sizeof *out);
			return -1;
		}
	}
	return 0;
}

void settings_free(struct sensor_settings *s)
{
	if (s)
		policy_clear(&s->policy);
}

/* A row's key, or anything below a free-form row (kafka.properties.*: librdkafka's own names). */
static bool is_known(const char *path)
{
	for (size_t i = 0; i < settings_table_count; i++) {
		const struct setting *st = &settings_table[i];
		size_t n = strlen(st->key);
		if (strcmp(path, st->key) == 0 && !(st->flags & SETTING_FREEFORM))
			return true;
		if ((st->flags & SETTING_FREEFORM) && strncmp(path, st->key, n) == 0 && path[n] == '.' &&
		    path[n + 1] != '\0')
			return true;
	}
	return false;
}

/* True when `path` is a section above a row ("flow", "flow.timeout") or a free-form row itself. */
static bool is_known_section(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < settings_table_count; i++) {
		const char *key = settings_table[i].key;
		if (strncmp(key, path, n) == 0 &&
		    (key[n] == '.' || (key[n] == '\0' && (settings_table[i].flags & SETTING_FREEFORM))))
			return true;
	}
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
		const struct setting *st = settings_table_find(sub);
		if (st && st->check_keys) {
			unknown += st->check_keys(child, report, ctx);
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
