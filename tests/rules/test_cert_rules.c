/*
 * test_cert_rules.c: certificate_expiring and certificate_expired, through the
 * rules engine that owns the certificate inventory.
 *
 * Sessions are built by hand with only what the rules read: a parsed leaf
 * (SHA-256, not_after), the server endpoint and the start time in packet time.
 */
#include "rules/rules_engine.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400ll
#define NOT_AFTER 1800000000ll /* 2027-01-15 */

static struct session sess; /* large: static, one per test process */

/* A session whose server presented the certificate `cert`, `days_left` days before its not_after. */
static struct session *shown(unsigned cert, double days_left)
{
	memset(&sess, 0, sizeof sess);
	snprintf(sess.id, sizeof sess.id, "S%018u", cert);
	sess.client.ip = (struct ip_addr){.family = 4, .bytes = {203, 0, 113, 7}};
	sess.client.port = 40000;
	sess.server.ip = (struct ip_addr){.family = 4, .bytes = {198, 51, 100, 25}};
	sess.server.port = 25;
	int64_t start_s = NOT_AFTER - (int64_t)(days_left * DAY);
	sess.start_us = (uint64_t)start_s * 1000000ull;
	sess.end_us = sess.start_us + 5000000ull;
	for (int i = 0; i < 8; i++)
		snprintf(sess.certificate.chain_sha256[0] + 8 * i, 9, "%08X",
		         cert * 2654435761u + (unsigned)i);
	sess.certificate.chain_count = 1;
	sess.certificate.parsed = true;
	memcpy(sess.certificate.leaf.sha256, sess.certificate.chain_sha256[0], 65);
	snprintf(sess.certificate.leaf.subject, sizeof sess.certificate.leaf.subject, "CN=mx%u.example.net",
	         cert);
	snprintf(sess.certificate.leaf.issuer, sizeof sess.certificate.leaf.issuer, "CN=Example CA");
	sess.certificate.leaf.not_after = NOT_AFTER;
	return &sess;
}

/* The alert of `code` on the session, NULL when none. */
static const struct alert *alert_of(const struct session *s, enum rule_code code)
{
	for (unsigned i = 0; i < s->alerts.count; i++)
		if (s->alerts.items[i].rule->code == code)
			return &s->alerts.items[i];
	return NULL;
}

static unsigned count_of(const struct session *s, enum rule_code code)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->alerts.count; i++)
		n += s->alerts.items[i].rule->code == code;
	return n;
}

/* Evaluates certificate `cert` at `days_left`: the threshold certificate_expiring named, 0: none. */
static unsigned expiring_threshold(struct rules_engine *e, unsigned cert, double days_left)
{
	struct session *s = shown(cert, days_left);
	rules_engine_evaluate(e, s);
	cr_assert_leq(count_of(s, RULE_CERTIFICATE_EXPIRING), 1);
	const struct alert *a = alert_of(s, RULE_CERTIFICATE_EXPIRING);
	if (!a)
		return 0;
	const char *t = strstr(a->reason, "threshold ");
	cr_assert_not_null(t, "%s", a->reason);
	unsigned days = 0;
	cr_assert_eq(sscanf(t, "threshold %u days", &days), 1);
	return days;
}

Test(cert_rules, each_threshold_is_raised_once_as_the_days_left_fall)
{
	struct rules_engine *e = rules_engine_new(NULL);
	static const double days[] = {40, 29, 20, 13, 13, 6, 0.5, -1};
	static const unsigned want[] = {0, 30, 0, 14, 0, 7, 1, 0};
	for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
		unsigned got = expiring_threshold(e, 1, days[i]);
		cr_assert_eq(got, want[i], "at %.1f days left: threshold %u, expected %u", days[i], got,
		             want[i]);
		cr_assert_eq(count_of(&sess, RULE_CERTIFICATE_EXPIRED), days[i] < 0 ? 1u : 0u,
		             "certificate_expired at %.1f days left", days[i]);
	}
	const struct rules_stats *st = rules_engine_stats(e);
	cr_assert_eq(st->alerts[RULE_CERTIFICATE_EXPIRING], 4);
	cr_assert_eq(st->alerts[RULE_CERTIFICATE_EXPIRED], 1);
	cr_assert_eq(st->certificates_known, 1);
	rules_engine_free(e);
}

Test(cert_rules, a_certificate_first_seen_close_to_expiry_raises_only_the_smallest_threshold_crossed)
{
	struct rules_engine *e = rules_engine_new(NULL);
	cr_assert_eq(expiring_threshold(e, 2, 5), 7);
	cr_assert_eq(expiring_threshold(e, 2, 4), 0, "30 and 14 were marked done with 7");
	cr_assert_eq(expiring_threshold(e, 2, 0.9), 1);
	rules_engine_free(e);
}

Test(cert_rules, an_expired_certificate_is_raised_once_with_its_evidence)
{
	struct rules_engine *e = rules_engine_new(NULL);
	struct session *s = shown(3, -2);
	rules_engine_evaluate(e, s);
	const struct alert *a = alert_of(s, RULE_CERTIFICATE_EXPIRED);
	cr_assert_not_null(a);
	cr_assert_eq(a->severity, 6);
	cr_assert_null(alert_of(s, RULE_CERTIFICATE_EXPIRING), "expired, not expiring");
	cr_assert_not_null(strstr(a->reason, "expired 2.0 days ago"), "%s", a->reason);
	cr_assert_not_null(strstr(a->reason, "2027-01-15T08:00:00Z"), "%s", a->reason);
	cr_assert_not_null(strstr(a->reason, "198.51.100.25:25"), "%s", a->reason);
	cr_assert_eq(a->evidence_count, 4);
	cr_assert_str_eq(a->evidence[0], "subject: CN=mx3.example.net");
	cr_assert_str_eq(a->evidence[1], "issuer: CN=Example CA");
	cr_assert_eq(strncmp(a->evidence[2], "sha256: ", 8), 0);
	cr_assert_str_eq(a->evidence[3], "not_after: 2027-01-15T08:00:00Z");
	rules_engine_evaluate(e, shown(3, -3));
	cr_assert_null(alert_of(&sess, RULE_CERTIFICATE_EXPIRED), "once per certificate");
	rules_engine_free(e);
}

Test(cert_rules, thresholds_come_from_the_settings)
{
	struct rules_settings set = {.expiry_alert_days = {3, 60}, .n_expiry_alert_days = 2};
	struct rules_engine *e = rules_engine_new(&set);
	cr_assert_eq(expiring_threshold(e, 4, 45), 60);
	cr_assert_eq(expiring_threshold(e, 4, 20), 0, "30 and 14 are not thresholds here");
	cr_assert_eq(expiring_threshold(e, 4, 2.5), 3);
	cr_assert_eq(expiring_threshold(e, 4, 1), 0);
	rules_engine_free(e);
}

Test(cert_rules, no_alert_without_a_parsed_leaf)
{
	struct rules_engine *e = rules_engine_new(NULL);
	struct session *s = shown(5, 5);
	s->certificate.parsed = false;
	rules_engine_evaluate(e, s);
	cr_assert_null(alert_of(s, RULE_CERTIFICATE_EXPIRING));
	s = shown(6, -5);
	s->certificate.parsed = false;
	rules_engine_evaluate(e, s);
	cr_assert_null(alert_of(s, RULE_CERTIFICATE_EXPIRED));
	rules_engine_free(e);
}

Test(cert_rules, the_engine_reports_the_first_sighting_for_the_certificate_event)
{
	struct rules_engine *e = rules_engine_new(NULL);
	bool first = false;
	rules_engine_evaluate(e, shown(7, 100));
	cr_assert_not_null(rules_engine_cert_sighting(e, &first));
	cr_assert(first);
	rules_engine_evaluate(e, shown(7, 99));
	cr_assert_not_null(rules_engine_cert_sighting(e, &first));
	cr_assert_not(first);
	shown(8, 99);
	sess.certificate.chain_count = 0;
	sess.certificate.parsed = false;
	rules_engine_evaluate(e, &sess);
	cr_assert_null(rules_engine_cert_sighting(e, &first));
	cr_assert_not(first);
	rules_engine_free(e);
}
