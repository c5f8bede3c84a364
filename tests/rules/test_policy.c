/*
 * test_policy.c: partner attribution and the partner policy rules.
 *
 * Each test starts from a clean upgraded session (EHLO, STARTTLS, 220, TLS 1.3
 * established) between 203.0.113.7 and 198.51.100.25:25 whose names point at
 * no partner, then sets only the signal or the failure it is about. Two
 * partners: bank.example (enforced) and shop.example (opportunistic).
 */
#include "rules/policy.h"
#include "rules/policy_rules.h"
#include "rules/rules_engine.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(sec) ((uint64_t)(sec)*1000000ull)

struct scenario {
	struct session s;
	struct smtp_observation m;
	struct tls_observation t;
};

static struct partner_policy partners[2];
static struct policy policy;
static struct scenario *sc;

static void setup(void)
{
	memset(partners, 0, sizeof partners);
	struct partner_policy *bank = &partners[0], *shop = &partners[1];
	snprintf(bank->domain, sizeof bank->domain, "bank.example");
	bank->mode = POLICY_MODE_ENFORCED;
	snprintf(bank->mx[bank->n_mx++], sizeof bank->mx[0], "mx1.bank.example");
	snprintf(bank->mx[bank->n_mx++], sizeof bank->mx[0], "*.mail.bank.example");
	cr_assert_eq(ip_network_parse("192.0.2.0/24", &bank->networks[bank->n_networks++]), IP_NETWORK_OK);
	snprintf(shop->domain, sizeof shop->domain, "shop.example");
	shop->mode = POLICY_MODE_OPPORTUNISTIC;
	snprintf(shop->mx[shop->n_mx++], sizeof shop->mx[0], "mx.shop.example");
	cr_assert_eq(ip_network_parse("198.51.100.0/24", &shop->networks[shop->n_networks++]), IP_NETWORK_OK);
	policy = (struct policy){.default_mode = POLICY_MODE_NONE, .partners = partners, .n_partners = 2};

	sc = calloc(1, sizeof *sc);
	cr_assert_not_null(sc);
	struct session *s = &sc->s;
	snprintf(s->id, sizeof s->id, "policy-test");
	s->client.ip = (struct ip_addr){.family = 4, .bytes = {203, 0, 113, 7}};
	s->server.ip = (struct ip_addr){.family = 4, .bytes = {203, 0, 113, 25}};
	s->server.port = 25;
	s->start_us = S(1000);
	s->end_us = S(1002);
	s->close_reason = SESSION_CLOSE_FIN;
	s->protocol = SESSION_PROTOCOL_SMTP;
	s->smtp = &sc->m;
	s->tls = &sc->t;
	struct smtp_observation *m = &sc->m;
	m->banner_code = 220;
	snprintf(m->banner, sizeof m->banner, "220 mx.other.example ESMTP");
	snprintf(m->helo_verb, sizeof m->helo_verb, "EHLO");
	snprintf(m->helo, sizeof m->helo, "client.example");
	m->ehlo_reply_code = 250;
	m->caps.seen = m->caps.starttls = true;
	snprintf(m->caps.raw, sizeof m->caps.raw, "250-mx.other.example Hello\n250 STARTTLS");
	m->starttls_attempted = true;
	m->starttls_reply_code = 220;
	snprintf(m->starttls_reply, sizeof m->starttls_reply, "220 2.0.0 Ready to start TLS");
	m->tls_started = true;
	m->last_reply_code = 220;
	struct tls_observation *t = &sc->t;
	t->outcome = TLS_OUTCOME_ESTABLISHED;
	t->client_hello_seen = t->server_hello_seen = true;
	t->client_version = 0x0303;
	t->version = 0x0304;
	t->cipher = 0x1301;
}

static void teardown(void)
{
	free(sc);
}

TestSuite(policy, .init = setup, .fini = teardown);

static const char *match_of(void)
{
	enum session_partner_match match = SESSION_MATCH_NETWORK + 1; /* "unknown" unless written */
	const struct partner_policy *p = policy_attribute(&policy, &sc->s, &match);
	static char out[320];
	snprintf(out, sizeof out, "%s:%s", p ? p->domain : "-", session_partner_match_str(match));
	return out;
}

static void add_rcpt(const char *domain)
{
	snprintf(sc->m.rcpt_domains[sc->m.rcpt_domain_count++], SMTP_NAME_MAX, "%s", domain);
}

/* ---- attribution ---- */

Test(policy, an_unattributed_session_takes_the_default_mode_and_matches_none)
{
	cr_assert_str_eq(match_of(), "-:none");
	policy_attribute_session(&policy, &sc->s);
	cr_assert_null(sc->s.partner);
	cr_assert(sc->s.partner_attributed);
	cr_assert_eq(sc->s.partner_match, SESSION_MATCH_NONE);
	cr_assert_eq(sc->s.partner_mode, POLICY_MODE_NONE);
	policy_attribute_session(NULL, &sc->s);
	cr_assert_eq(sc->s.partner_mode, POLICY_MODE_OPPORTUNISTIC);
}

Test(policy, each_signal_alone_finds_its_partner_by_its_match_kind)
{
	add_rcpt("bank.example");
	cr_assert_str_eq(match_of(), "bank.example:rcpt_domain");
	sc->m.rcpt_domain_count = 0;
	snprintf(sc->m.mail_from_domain, SMTP_NAME_MAX, "shop.example");
	cr_assert_str_eq(match_of(), "shop.example:mail_from_domain");
	sc->m.mail_from_domain[0] = '\0';
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mx1.bank.example ESMTP Postfix");
	cr_assert_str_eq(match_of(), "bank.example:banner");
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 ready");
	snprintf(sc->m.caps.raw, sizeof sc->m.caps.raw, "250-MX.SHOP.EXAMPLE Hello\n250 STARTTLS");
	cr_assert_str_eq(match_of(), "shop.example:ehlo_greeting");
	snprintf(sc->m.caps.raw, sizeof sc->m.caps.raw, "250 ok");
	snprintf(sc->t.ch.sni, sizeof sc->t.ch.sni, "mx1.bank.example");
	cr_assert_str_eq(match_of(), "bank.example:sni");
	sc->t.ch.sni[0] = '\0';
	sc->s.certificate.parsed = true;
	snprintf(sc->s.certificate.leaf.san_dns[0], X509_FIELD_MAX, "mx.shop.example");
	sc->s.certificate.leaf.san_count = 1;
	cr_assert_str_eq(match_of(), "shop.example:certificate");
	sc->s.certificate.parsed = false;
	sc->s.server.ip = (struct ip_addr){.family = 4, .bytes = {192, 0, 2, 9}};
	cr_assert_str_eq(match_of(), "bank.example:network");
}

Test(policy, attribution_takes_the_first_signal_in_the_documented_order)
{
	/* Every signal at once, alternating partners, so each step shows which one won. */
	add_rcpt("other.example");
	add_rcpt("bank.example");
	snprintf(sc->m.mail_from_domain, SMTP_NAME_MAX, "shop.example");
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mx1.bank.example ESMTP");
	snprintf(sc->m.caps.raw, sizeof sc->m.caps.raw, "250-mx.shop.example Hello");
	snprintf(sc->t.ch.sni, sizeof sc->t.ch.sni, "mx1.bank.example");
	sc->s.certificate.parsed = true;
	snprintf(sc->s.certificate.leaf.subject_cn, X509_FIELD_MAX, "mx.shop.example");
	sc->s.server.ip = (struct ip_addr){.family = 4, .bytes = {192, 0, 2, 9}};
	cr_assert_str_eq(match_of(), "bank.example:rcpt_domain");
	sc->m.rcpt_domain_count = 0;
	cr_assert_str_eq(match_of(), "shop.example:mail_from_domain");
	sc->m.mail_from_domain[0] = '\0';
	cr_assert_str_eq(match_of(), "bank.example:banner");
	sc->m.banner[0] = '\0';
	cr_assert_str_eq(match_of(), "shop.example:ehlo_greeting");
	sc->m.caps.raw[0] = '\0';
	cr_assert_str_eq(match_of(), "bank.example:sni");
	sc->t.ch.sni[0] = '\0';
	cr_assert_str_eq(match_of(), "shop.example:certificate");
	sc->s.certificate.parsed = false;
	cr_assert_str_eq(match_of(), "bank.example:network");
}

Test(policy, a_recipient_below_the_partner_domain_matches_but_a_lookalike_does_not)
{
	add_rcpt("notbank.example");
	cr_assert_str_eq(match_of(), "-:none");
	add_rcpt("EU.Bank.Example.");
	cr_assert_str_eq(match_of(), "bank.example:rcpt_domain");
	sc->m.rcpt_domain_count = 0;
	snprintf(sc->m.mail_from_domain, SMTP_NAME_MAX, "alice@shop.example"); /* keep_local_parts */
	cr_assert_str_eq(match_of(), "shop.example:mail_from_domain");
}

Test(policy, an_mx_wildcard_stands_for_exactly_one_label)
{
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 in-3.mail.bank.example ESMTP");
	cr_assert_str_eq(match_of(), "bank.example:banner");
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 a.b.mail.bank.example ESMTP");
	cr_assert_str_eq(match_of(), "-:none");
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mail.bank.example ESMTP");
	cr_assert_str_eq(match_of(), "-:none");
}

Test(policy, a_server_address_matches_the_partner_networks_of_its_family_only)
{
	sc->s.server.ip = (struct ip_addr){.family = 4, .bytes = {198, 51, 100, 25}};
	cr_assert_str_eq(match_of(), "shop.example:network");
	sc->s.server.ip = (struct ip_addr){.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8}};
	cr_assert_str_eq(match_of(), "-:none");
}

Test(policy, certificate_cn_counts_only_without_dns_sans)
{
	sc->s.certificate.parsed = true;
	snprintf(sc->s.certificate.leaf.subject_cn, X509_FIELD_MAX, "mx1.bank.example");
	cr_assert_str_eq(match_of(), "bank.example:certificate");
	snprintf(sc->s.certificate.leaf.san_dns[0], X509_FIELD_MAX, "mx.other.example");
	sc->s.certificate.leaf.san_count = 1;
	cr_assert_str_eq(match_of(), "-:none");
}

/* ---- rules ---- */

static unsigned count_of(enum rule_code code)
{
	unsigned n = 0;
	for (unsigned i = 0; i < sc->s.alerts.count; i++)
		n += sc->s.alerts.items[i].rule->code == code;
	return n;
}

static const struct alert *find(enum rule_code code)
{
	for (unsigned i = 0; i < sc->s.alerts.count; i++)
		if (sc->s.alerts.items[i].rule->code == code)
			return &sc->s.alerts.items[i];
	return NULL;
}

/* Runs a fresh engine with the policy over the session. */
static void evaluate(void)
{
	struct rules_settings set = {.policy = &policy};
	struct rules_engine *e = rules_engine_new(&set);
	cr_assert_not_null(e);
	memset(&sc->s.alerts, 0, sizeof sc->s.alerts);
	rules_engine_evaluate(e, &sc->s);
	rules_engine_free(e);
}

static void mail_in_clear(void)
{
	sc->m.starttls_attempted = sc->m.tls_started = false;
	sc->m.starttls_reply_code = 0;
	sc->m.transactions = 1;
	sc->m.data_in_clear = true;
	sc->m.last_reply_code = 250;
	sc->s.tls = NULL;
}

Test(policy, tls_required_fires_for_an_enforced_partner_s_mail_in_clear)
{
	mail_in_clear();
	add_rcpt("bank.example");
	evaluate();
	cr_assert_eq(count_of(RULE_POLICY_TLS_REQUIRED), 1);
	cr_assert_eq(sc->s.partner_mode, POLICY_MODE_ENFORCED);
	cr_assert_eq(sc->s.partner_match, SESSION_MATCH_RCPT_DOMAIN);
	const struct alert *a = find(RULE_POLICY_TLS_REQUIRED);
	cr_assert_eq(a->severity, 7);
	cr_assert(strstr(a->reason, "bank.example"), "%s", a->reason);
}

Test(policy, tls_required_does_not_fire_for_an_opportunistic_partner_or_clean_tls)
{
	mail_in_clear();
	add_rcpt("shop.example");
	evaluate();
	cr_assert_eq(count_of(RULE_POLICY_TLS_REQUIRED), 0);
	teardown();
	setup();
	add_rcpt("bank.example");
	evaluate();
	cr_assert_eq(sc->s.alerts.count, 0, "clean TLS with an enforced partner raises nothing");
}

Test(policy, tls_required_fires_when_tls_failed_with_an_enforced_partner)
{
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mx1.bank.example ESMTP");
	sc->t.outcome = TLS_OUTCOME_ALERT;
	sc->t.alert_seen = true;
	sc->t.alert_level = 2;
	sc->t.alert_description = 40;
	sc->t.alert_from = TLS_FROM_SERVER;
	evaluate();
	cr_assert_eq(count_of(RULE_TLS_HANDSHAKE_FAILED), 1);
	cr_assert_eq(count_of(RULE_POLICY_TLS_REQUIRED), 1);
	cr_assert_eq(sc->s.partner_match, SESSION_MATCH_BANNER);
}

Test(policy, tls_version_fires_below_the_minimum_and_not_at_it)
{
	partners[1].min_tls_version = 0x0304;
	snprintf(sc->m.mail_from_domain, SMTP_NAME_MAX, "shop.example");
	evaluate();
	cr_assert_eq(count_of(RULE_POLICY_TLS_VERSION), 0);
	sc->t.version = 0x0303;
	evaluate();
	cr_assert_eq(count_of(RULE_POLICY_TLS_VERSION), 1);
	cr_assert(strstr(find(RULE_POLICY_TLS_VERSION)->reason, "version 1.2"), "%s",
	          find(RULE_POLICY_TLS_VERSION)->reason);
}

Test(policy, certificate_fires_when_a_required_valid_certificate_does_not_validate)
{
	partners[1].require_valid_certificate = true;
	snprintf(sc->m.mail_from_domain, SMTP_NAME_MAX, "shop.example");
	sc->s.certificate.validated = true;
	sc->s.certificate.status = X509_STATUS_NOT_VISIBLE;
	evaluate();
	cr_assert_eq(count_of(RULE_POLICY_CERTIFICATE), 0, "TLS 1.3 hides it: nothing to judge");
	sc->s.certificate.status = X509_STATUS_OK;
	evaluate();
	cr_assert_eq(count_of(RULE_POLICY_CERTIFICATE), 0);
	sc->s.certificate.status = X509_STATUS_EXPIRED;
	evaluate();
	cr_assert_eq(count_of(RULE_POLICY_CERTIFICATE), 1);
	cr_assert(strstr(find(RULE_POLICY_CERTIFICATE)->reason, "expired"));
}

Test(policy, certificate_fires_when_the_leaf_key_is_not_pinned)
{
	static const char pin[] = "AB00000000000000000000000000000000000000000000000000000000000000";
	snprintf(partners[1].pins[partners[1].n_pins++], 65, "%s", pin);
	snprintf(sc->m.mail_from_domain, SMTP_NAME_MAX, "shop.example");
	sc->s.certificate.parsed = sc->s.certificate.validated = true;
	snprintf(sc->s.certificate.leaf.spki_sha256, 65, "%s", pin);
	evaluate();
	cr_assert_eq(count_of(RULE_POLICY_CERTIFICATE), 0);
	sc->s.certificate.leaf.spki_sha256[0] = 'C';
	evaluate();
	cr_assert_eq(count_of(RULE_POLICY_CERTIFICATE), 1);
}

Test(policy, a_relaxed_partner_gets_informational_alerts_until_its_time_passes_in_packet_time)
{
	cr_assert_eq(policy_time_parse("1970-01-01T00:20:00Z", &partners[0].relaxed_until_us), 0);
	cr_assert_eq(partners[0].relaxed_until_us, S(1200));
	mail_in_clear();
	add_rcpt("bank.example");
	evaluate(); /* ends at 1002 s */
	const struct alert *a = find(RULE_POLICY_TLS_REQUIRED);
	cr_assert_not_null(a);
	cr_assert_eq(a->severity, 1);
	cr_assert(strstr(a->reason, "relaxed until 1970-01-01T00:20:00Z"), "%s", a->reason);
	sc->s.start_us = S(1300);
	sc->s.end_us = S(1301);
	evaluate();
	a = find(RULE_POLICY_TLS_REQUIRED);
	cr_assert_eq(a->severity, 7);
	cr_assert_null(strstr(a->reason, "relaxed"), "%s", a->reason);
}

Test(policy, an_enforced_partner_raises_h1_to_h12_by_one_and_leaves_other_rules_alone)
{
	sc->m.starttls_reply_code = 454;
	snprintf(sc->m.starttls_reply, sizeof sc->m.starttls_reply, "454 4.7.0 TLS not available");
	sc->m.tls_started = false;
	sc->m.auth_in_clear = true;
	snprintf(sc->m.auth_mechanism, sizeof sc->m.auth_mechanism, "PLAIN");
	sc->s.tls = NULL;
	evaluate();
	cr_assert_eq(find(RULE_STARTTLS_REFUSED)->severity, 6, "no partner: base severity");
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mx1.bank.example ESMTP");
	evaluate();
	cr_assert_eq(find(RULE_STARTTLS_REFUSED)->severity, 7);
	cr_assert_eq(find(RULE_AUTH_IN_CLEAR)->severity, 7, "not an H-rule: unchanged");
	cr_assert_eq(count_of(RULE_POLICY_TLS_REQUIRED), 1);
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mx.shop.example ESMTP");
	evaluate();
	cr_assert_eq(find(RULE_STARTTLS_REFUSED)->severity, 6, "opportunistic: unchanged");
}

Test(policy, severity_raise_is_capped_at_ten)
{
	struct alert_list *l = &sc->s.alerts;
	struct alert *a = alert_list_add(l, RULE_STARTTLS_CAPABILITY_GARBLED);
	a->severity = 10;
	sc->s.partner = &partners[0];
	policy_rules_raise_severity(&sc->s);
	cr_assert_eq(a->severity, 10);
}

/* ---- parsing helpers ---- */

Test(policy, versions_modes_and_times_parse_strictly)
{
	uint16_t v;
	cr_assert_eq(policy_tls_version_parse("1.2", &v), 0);
	cr_assert_eq(v, 0x0303);
	cr_assert_neq(policy_tls_version_parse("1.4", &v), 0);
	enum policy_mode m;
	cr_assert_eq(policy_mode_parse("enforced", &m), 0);
	cr_assert_eq(m, POLICY_MODE_ENFORCED);
	cr_assert_neq(policy_mode_parse("Enforced", &m), 0);
	uint64_t us;
	cr_assert_eq(policy_time_parse("2026-12-24T00:00:00Z", &us), 0);
	cr_assert_eq(us, 1798070400ull * 1000000u);
	cr_assert_neq(policy_time_parse("2026-02-29T00:00:00Z", &us), 0);
	cr_assert_neq(policy_time_parse("2026-12-24 00:00:00Z", &us), 0);
	cr_assert_neq(policy_time_parse("2026-12-24T00:00:0xZ", &us), 0);
	cr_assert_neq(policy_time_parse("2026-12-24T00:00:00", &us), 0);
}
