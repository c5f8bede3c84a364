/*
 * settings_policy.c: policy.partners, the custom row of the settings table that reads the partner list (a
 * sequence of maps, walked node by node), refuses a domain listed twice, then loads the MTA-STS and TLSA
 * files named by policy.mta_sts_dir and policy.tlsa_file into the policy it owns until settings_free.
 */
#include "sensor/config/settings_policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/config/policy_files.h"
#include "sensor/config/settings.h"
#include "sensor/config/settings_custom.h"

static const char *const partner_keys[] = {
    "domain",          "mode",          "mx", "networks", "min_tls_version", "require_valid_certificate",
    "pin_spki_sha256", "relaxed_until",
};

static bool partner_key_known(const char *key)
{
	for (size_t i = 0; i < sizeof partner_keys / sizeof partner_keys[0]; i++)
		if (strcmp(key, partner_keys[i]) == 0)
			return true;
	return false;
}

size_t settings_check_partners(const struct config_node *partners,
                               void (*report)(const char *message, void *ctx), void *ctx)
{
	size_t unknown = 0;
	if (config_node_kind(partners) != CONFIG_SEQUENCE)
		return 0; /* settings_load names the wrong shape */
	for (size_t i = 0; i < config_node_count(partners); i++) {
		const struct config_node *entry = config_node_child(partners, i);
		if (config_node_kind(entry) != CONFIG_MAP)
			continue;
		for (size_t k = 0; k < config_node_count(entry); k++) {
			const struct config_node *child = config_node_child(entry, k);
			if (partner_key_known(config_node_key(child)))
				continue;
			char path[512];
			struct config_error e;
			snprintf(path, sizeof path, "policy.partners[%zu].%s", i, config_node_key(child));
			config_error_at(&e, child, path, "unknown setting");
			report(e.message, ctx);
			unknown++;
		}
	}
	return unknown;
}

/* One partner being read: where errors point. */
struct reading {
	size_t index;
	char path[128];
	struct config_error *err;
};

static int fail(struct reading *r, const struct config_node *n, const char *key, const char *what)
{
	snprintf(r->path, sizeof r->path, "policy.partners[%zu]%s%s", r->index, key ? "." : "",
	         key ? key : "");
	config_error_at(r->err, n, r->path, "%s", what);
	return -1;
}

/* A list value: a sequence of at most cap scalars ([] and an empty value allowed). 0, or -1 with the error.
 */
static int list_items(struct reading *r, const struct config_node *v, const char *key, size_t cap)
{
	if (config_node_kind(v) == CONFIG_SCALAR && *config_node_scalar(v) == '\0')
		return 0; /* "pin_spki_sha256:" with nothing: an empty list */
	if (config_node_kind(v) != CONFIG_SEQUENCE)
		return fail(r, v, key, "expected a list");
	for (size_t i = 0; i < config_node_count(v); i++)
		if (!config_node_scalar(config_node_child(v, i)))
			return fail(r, config_node_child(v, i), key, "expected a list of values");
	if (config_node_count(v) > cap) {
		char what[64];
		snprintf(what, sizeof what, "more than %zu entries", cap);
		return fail(r, v, key, what);
	}
	return 0;
}

static int read_domain(struct reading *r, const struct config_node *v, struct partner_policy *p)
{
	const char *s = config_node_scalar(v);
	if (!s || !domain_name_valid(s))
		return fail(r, v, "domain", "expected a domain name like bank.example");
	size_t n = strlen(s);
	if (s[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n; i++)
		p->domain[i] = (char)tolower((unsigned char)s[i]);
	p->domain[n] = '\0';
	return 0;
}

static int read_mx(struct reading *r, const struct config_node *v, struct partner_policy *p)
{
	if (list_items(r, v, "mx", POLICY_MAX_MX) != 0)
		return -1;
	for (size_t i = 0; i < config_node_count(v); i++) {
		const char *s = config_node_scalar(config_node_child(v, i));
		bool ok = strncmp(s, "*.", 2) == 0 ? domain_name_valid(s + 2) : domain_name_valid(s);
		if (!ok || strlen(s) >= sizeof p->mx[0])
			return fail(r, config_node_child(v, i), "mx",
			            "expected a host name or a pattern like *.mail.bank.example");
		snprintf(p->mx[p->n_mx++], sizeof p->mx[0], "%s", s);
	}
	return 0;
}

static int read_networks(struct reading *r, const struct config_node *v, struct partner_policy *p)
{
	if (list_items(r, v, "networks", POLICY_MAX_NETWORKS) != 0)
		return -1;
	for (size_t i = 0; i < config_node_count(v); i++) {
		const struct config_node *item = config_node_child(v, i);
		int res = ip_network_parse(config_node_scalar(item), &p->networks[p->n_networks]);
		if (res != IP_NETWORK_OK) {
			char what[128];
			snprintf(what, sizeof what, "expected a network like 198.51.100.0/24 (%s)",
			         ip_network_parse_result_str(res));
			return fail(r, item, "networks", what);
		}
		p->n_networks++;
	}
	return 0;
}

static bool hex_sha256(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int read_pins(struct reading *r, const struct config_node *v, struct partner_policy *p)
{
	if (list_items(r, v, "pin_spki_sha256", POLICY_MAX_PINS) != 0)
		return -1;
	for (size_t i = 0; i < config_node_count(v); i++) {
		const char *s = config_node_scalar(config_node_child(v, i));
		if (!hex_sha256(s))
			return fail(r, config_node_child(v, i), "pin_spki_sha256",
			            "expected 64 hex digits (SHA-256)");
		char *pin = p->pins[p->n_pins++];
		for (size_t k = 0; k <= 64; k++)
			pin[k] = (char)toupper((unsigned char)s[k]);
	}
	return 0;
}

static int read_bool(struct reading *r, const struct config_node *v, const char *key, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off",
	                                                                            "0"};
	const char *s = config_node_scalar(v);
	for (size_t i = 0; s && i < 4; i++) {
		if (strcmp(s, yes[i]) == 0)
			return *out = true, 0;
		if (strcmp(s, no[i]) == 0)
			return *out = false, 0;
	}
	return fail(r, v, key, "expected true or false");
}

/* One value of a partner entry. */
static int read_value(struct reading *r, const char *key, const struct config_node *v,
                      struct partner_policy *p)
{
	const char *s = config_node_scalar(v);
	if (strcmp(key, "domain") == 0)
		return read_domain(r, v, p);
	if (strcmp(key, "mode") == 0)
		return s && policy_mode_parse(s, &p->mode) == 0
		           ? 0
		           : fail(r, v, key, "expected enforced, opportunistic or none");
	if (strcmp(key, "mx") == 0)
		return read_mx(r, v, p);
	if (strcmp(key, "networks") == 0)
		return read_networks(r, v, p);
	if (strcmp(key, "min_tls_version") == 0)
		return s && policy_tls_version_parse(s, &p->min_tls_version) == 0
		           ? 0
		           : fail(r, v, key, "expected 1.0, 1.1, 1.2 or 1.3");
	if (strcmp(key, "require_valid_certificate") == 0)
		return read_bool(r, v, key, &p->require_valid_certificate);
	if (strcmp(key, "pin_spki_sha256") == 0)
		return read_pins(r, v, p);
	if (strcmp(key, "relaxed_until") == 0)
		return s && policy_time_parse(s, &p->relaxed_until_us) == 0
		           ? 0
		           : fail(r, v, key, "expected a UTC time like 2026-12-24T00:00:00Z");
	return fail(r, v, key, "unknown setting");
}

static int read_partner(struct reading *r, const struct config_node *entry, struct partner_policy *p)
{
	if (config_node_kind(entry) != CONFIG_MAP)
		return fail(r, entry, NULL, "expected a partner: a map with domain, mode, ...");
	memset(p, 0, sizeof *p);
	p->mode = POLICY_MODE_OPPORTUNISTIC;
	for (size_t k = 0; k < config_node_count(entry); k++) {
		const struct config_node *child = config_node_child(entry, k);
		if (read_value(r, config_node_key(child), child, p) != 0)
			return -1;
	}
	if (!p->domain[0])
		return fail(r, entry, "domain", "missing: every partner needs its domain");
	return 0;
}

/* Two entries for one domain: which one applies would depend on their order, so neither is taken. */
static int check_duplicate(struct reading *r, const struct config_node *entry, const struct policy *p)
{
	const char *domain = p->partners[r->index].domain;
	for (size_t j = 0; j < r->index; j++)
		if (strcmp(p->partners[j].domain, domain) == 0) {
			char what[DOMAIN_NAME_MAX + 96];
			snprintf(what, sizeof what, "%s is already partner [%zu]: one entry per domain",
			         domain, j);
			const struct config_node *at = entry;
			for (size_t k = 0; k < config_node_count(entry); k++)
				if (strcmp(config_node_key(config_node_child(entry, k)), "domain") == 0)
					at = config_node_child(entry, k);
			return fail(r, at, "domain", what);
		}
	return 0;
}

static int load_partners(const struct config_node *n, struct policy *out, struct config_error *err)
{
	if (config_node_kind(n) == CONFIG_SCALAR && *config_node_scalar(n) == '\0')
		return 0; /* "partners:" with every entry commented out */
	if (config_node_kind(n) != CONFIG_SEQUENCE) {
		config_error_at(err, n, "policy.partners", "expected a list of partners");
		return -1;
	}
	size_t count = config_node_count(n);
	if (count > POLICY_MAX_PARTNERS) {
		config_error_at(err, n, "policy.partners", "more than %d partners", POLICY_MAX_PARTNERS);
		return -1;
	}
	if (count == 0)
		return 0;
	out->partners = calloc(count, sizeof *out->partners);
	if (!out->partners) {
		config_error_at(err, n, "policy.partners", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		struct reading r = {.index = i, .err = err};
		if (read_partner(&r, config_node_child(n, i), &out->partners[i]) != 0 ||
		    check_duplicate(&r, config_node_child(n, i), out) != 0) {
			policy_clear(out);
			return -1;
		}
		out->n_partners++;
	}
	return 0;
}

/*
 * policy.partners (its row comes after policy.default_mode, policy.mta_sts_dir and policy.tlsa_file), then
 * the files those two name, which may refer to the partners.
 */
int settings_load_partners(const struct config *cfg, const struct setting *st, struct sensor_settings *s,
                           struct config_error *err)
{
	struct policy *out = &s->policy;
	const struct config_node *n = config_lookup(cfg, st->key);
	if (n && load_partners(n, out, err) != 0)
		return -1;
	if (policy_files_load_mta_sts(out, s->policy_mta_sts_dir, err->message, sizeof err->message) != 0 ||
	    policy_files_load_tlsa(out, s->policy_tlsa_file, err->message, sizeof err->message) != 0) {
		policy_clear(out);
		return -1;
	}
	return 0;
}

/* The partners' domains: their settings are many, and the policy_loaded event lists them in full. */
void settings_print_partners(const struct setting *st, const struct sensor_settings *s, char *buf, size_t cap)
{
	(void)st;
	size_t len = 0;
	settings_print_add(buf, cap, &len, "[");
	for (size_t i = 0; i < s->policy.n_partners; i++)
		settings_print_add(buf, cap, &len, "%s{domain: \"%s\"}", i ? ", " : "",
		                   s->policy.partners[i].domain);
	settings_print_add(buf, cap, &len, "]");
}
