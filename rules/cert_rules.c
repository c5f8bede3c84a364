/*
 * cert_rules.c: certificate_expiring and certificate_expired (cert_rules.h).
 *
 * Choices:
 *  - Time is the session's start in packet time, as for the inventory, so a
 *    replayed capture judges the certificate as it was on the wire.
 *  - Thresholds are kept sorted from the largest down; bit i of
 *    cert_sighting.expiry_alerted stands for the i-th of that order. A
 *    certificate first seen with 5 days left raises the 7-day threshold only:
 *    the larger ones would say less and arrive at the same moment.
 *  - An expired certificate raises certificate_expired alone and marks every
 *    threshold done: "expiring" after "expired" would be noise.
 */
#include "rules/cert_rules.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/civil_time.h"
#include "rules/alert.h"

#define US_PER_S 1000000
#define SECONDS_PER_DAY 86400.0

enum { ENDPOINT_MAX = 64, SERVERS_TEXT_MAX = 256, DATE_MAX = 32 };

struct cert_rules {
	struct cert_inventory *inv;
	unsigned thresholds[CERT_RULES_MAX_THRESHOLDS]; /* days, largest first */
	size_t n_thresholds;
	const struct cert_sighting *last;
	bool last_first;
};

static int descending(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x < y) - (x > y);
}

struct cert_rules *cert_rules_new(size_t max_certificates, uint64_t ttl_us, const unsigned *thresholds,
                                  size_t n)
{
	struct cert_rules *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->inv = cert_inventory_new(max_certificates, ttl_us);
	if (!r->inv) {
		free(r);
		return NULL;
	}
	if (n > CERT_RULES_MAX_THRESHOLDS)
		n = CERT_RULES_MAX_THRESHOLDS;
	if (n)
		memcpy(r->thresholds, thresholds, n * sizeof *thresholds);
	r->n_thresholds = n;
	qsort(r->thresholds, n, sizeof r->thresholds[0], descending);
	return r;
}

void cert_rules_free(struct cert_rules *r)
{
	if (!r)
		return;
	cert_inventory_free(r->inv);
	free(r);
}

const struct cert_sighting *cert_rules_last_sighting(const struct cert_rules *r, bool *first)
{
	*first = r->last_first;
	return r->last;
}

struct history *cert_rules_history(struct cert_rules *r)
{
	return cert_inventory_history(r->inv);
}

size_t cert_rules_certificates(const struct cert_rules *r)
{
	return cert_inventory_size(r->inv);
}

static void format_date(char out[DATE_MAX], int64_t t)
{
	if (civil_time_rfc3339(out, DATE_MAX, t) == 0)
		snprintf(out, DATE_MAX, "%" PRId64, t);
}

/* "198.51.100.25:25, [2001:db8::25]:25": the servers that presented the certificate, most recent last. */
static void format_servers(char out[SERVERS_TEXT_MAX], const struct cert_sighting *c)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < c->server_count && used < SERVERS_TEXT_MAX; i++) {
		char ip[48];
		ip_addr_format(&c->servers[i].ip, ip, sizeof ip);
		int n = snprintf(out + used, SERVERS_TEXT_MAX - used,
		                 c->servers[i].ip.family == 6 ? "%s[%s]:%u" : "%s%s:%u", i ? ", " : "", ip,
		                 (unsigned)c->servers[i].port);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void add_evidence(struct alert *a, const char *key, const char *value)
{
	char line[ALERT_EVIDENCE_MAX];
	int n = snprintf(line, sizeof line, "%s: %s", key, value);
	if (n >= 0)
		alert_add_evidence(a, line, strlen(line));
}

static void raise_alert(struct session *s, const struct cert_sighting *c, enum rule_code code,
                        double days_left, unsigned threshold)
{
	struct alert *a = alert_list_add(&s->alerts, code);
	if (!a)
		return;
	const struct x509_info *leaf = &s->certificate.leaf;
	char date[DATE_MAX], servers[SERVERS_TEXT_MAX];
	format_date(date, leaf->not_after);
	format_servers(servers, c);
	if (code == RULE_CERTIFICATE_EXPIRED)
		alert_set_reason(a,
		                 "The certificate %s expired %.1f days ago (not_after %s), presented by %s.",
		                 leaf->subject, -days_left, date, servers);
	else
		alert_set_reason(a,
		                 "The certificate %s expires in %.1f days (not_after %s, threshold %u days), "
		                 "presented by %s.",
		                 leaf->subject, days_left, date, threshold, servers);
	add_evidence(a, "subject", leaf->subject);
	add_evidence(a, "issuer", leaf->issuer);
	add_evidence(a, "sha256", leaf->sha256);
	add_evidence(a, "not_after", date);
}

/* The index of the smallest threshold at or above days_left; -1 when none is crossed. */
static int smallest_crossed(const struct cert_rules *r, double days_left)
{
	int found = -1;
	for (size_t i = 0; i < r->n_thresholds; i++)
		if (days_left <= (double)r->thresholds[i])
			found = (int)i;
	return found;
}

void cert_rules_evaluate(struct cert_rules *r, struct session *s)
{
	bool first = false;
	struct cert_sighting *c = cert_inventory_record(r->inv, s, &first);
	r->last = c;
	r->last_first = first;
	if (!c || !s->certificate.parsed)
		return;
	int64_t now_s = (int64_t)(s->start_us / US_PER_S);
	double days_left = (double)(s->certificate.leaf.not_after - now_s) / SECONDS_PER_DAY;
	uint32_t all = r->n_thresholds ? (uint32_t)((1ull << r->n_thresholds) - 1) : 0;
	if (s->certificate.leaf.not_after < now_s) {
		if (!c->expired_alerted)
			raise_alert(s, c, RULE_CERTIFICATE_EXPIRED, days_left, 0);
		c->expired_alerted = true;
		c->expiry_alerted = all;
		return;
	}
	int i = smallest_crossed(r, days_left);
	if (i < 0 || (c->expiry_alerted & (1u << i)))
		return;
	raise_alert(s, c, RULE_CERTIFICATE_EXPIRING, days_left, r->thresholds[i]);
	c->expiry_alerted |= (uint32_t)((2ull << i) - 1); /* this threshold and every larger one */
}
