/* test_policy_diff.c: partner-by-partner policy differences, overlapping networks, and rule.ruleset. */
#include "rules/policy_diff.h"
#include "rules/rule_meta.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static struct partner_policy partner(const char *domain, enum policy_mode mode)
{
	struct partner_policy p;
	memset(&p, 0, sizeof p);
	snprintf(p.domain, sizeof p.domain, "%s", domain);
	p.mode = mode;
	return p;
}

static void add_network(struct partner_policy *p, const char *cidr)
{
	cr_assert_eq(ip_network_parse(cidr, &p->networks[p->n_networks]), IP_NETWORK_OK, "%s", cidr);
	p->n_networks++;
}

struct seen {
	char text[1024];
	size_t n;
};

static void record(enum policy_change c, const struct partner_policy *old, const struct partner_policy *next,
                   void *ctx)
{
	struct seen *s = ctx;
	size_t used = strlen(s->text);
	snprintf(s->text + used, sizeof s->text - used, "%s %s%s%s;", policy_change_str(c),
	         next ? next->domain : old->domain, old ? " old" : "", next ? " new" : "");
	s->n++;
}

Test(policy_diff, at_start_every_partner_is_added_in_order)
{
	struct partner_policy ps[] = {partner("a.example", POLICY_MODE_ENFORCED),
	                              partner("b.example", POLICY_MODE_NONE)};
	struct policy next = {.partners = ps, .n_partners = 2};
	struct seen s = {"", 0};
	cr_assert_eq(policy_diff(NULL, &next, record, &s), 2);
	cr_assert_str_eq(s.text, "added a.example new;added b.example new;");
}

Test(policy_diff, added_changed_and_removed_partners_are_told_apart_and_unchanged_ones_skipped)
{
	struct partner_policy before[] = {partner("keep.example", POLICY_MODE_ENFORCED),
	                                  partner("change.example", POLICY_MODE_OPPORTUNISTIC),
	                                  partner("gone.example", POLICY_MODE_ENFORCED)};
	struct partner_policy after[] = {partner("new.example", POLICY_MODE_NONE),
	                                 partner("change.example", POLICY_MODE_ENFORCED),
	                                 partner("keep.example", POLICY_MODE_ENFORCED)};
	struct policy old = {.partners = before, .n_partners = 3},
	              next = {.partners = after, .n_partners = 3};
	struct seen s = {"", 0};
	cr_assert_eq(policy_diff(&old, &next, record, &s), 3);
	cr_assert_str_eq(s.text,
	                 "added new.example new;changed change.example old new;removed gone.example old;");
	s = (struct seen){"", 0};
	cr_assert_eq(policy_diff(&next, &next, record, &s), 0, "%s", s.text);
}

Test(policy_diff, every_setting_the_rules_read_makes_a_partner_changed)
{
	struct partner_policy base = partner("bank.example", POLICY_MODE_ENFORCED);
	add_network(&base, "198.51.100.0/24");
	snprintf(base.mx[base.n_mx++], sizeof base.mx[0], "mx1.bank.example");
	for (int field = 0; field < 7; field++) {
		struct partner_policy p = base;
		switch (field) {
		case 0:
			p.mode = POLICY_MODE_NONE;
			break;
		case 1:
			p.min_tls_version = 0x0303;
			break;
		case 2:
			p.require_valid_certificate = true;
			break;
		case 3:
			snprintf(p.pins[p.n_pins++], sizeof p.pins[0], "%064d", 0);
			break;
		case 4:
			p.relaxed_until_us = 1;
			break;
		case 5:
			snprintf(p.mx[0], sizeof p.mx[0], "mx2.bank.example");
			break;
		case 6:
			p.networks[0].prefix = 25;
			break;
		}
		cr_assert_not(policy_partner_same(&base, &p), "field %d", field);
	}
	struct partner_policy copy = base;
	cr_assert(policy_partner_same(&base, &copy));
}

struct overlaps {
	char text[1024];
};

static void overlap(const struct partner_policy *a, const struct ip_network *na,
                    const struct partner_policy *b, const struct ip_network *nb, void *ctx)
{
	struct overlaps *o = ctx;
	size_t used = strlen(o->text);
	snprintf(o->text + used, sizeof o->text - used, "%s/%u %s/%u;", a->domain, (unsigned)na->prefix,
	         b->domain, (unsigned)nb->prefix);
}

Test(policy_diff, overlapping_networks_are_found_across_and_within_partners_each_pair_once)
{
	struct partner_policy ps[3] = {partner("a.example", POLICY_MODE_ENFORCED),
	                               partner("b.example", POLICY_MODE_ENFORCED),
	                               partner("c.example", POLICY_MODE_ENFORCED)};
	add_network(&ps[0], "198.51.100.0/24");
	add_network(&ps[0], "203.0.113.0/24");
	add_network(&ps[1], "198.51.100.128/25"); /* inside a's first */
	add_network(&ps[1], "192.0.2.0/24");      /* overlaps nothing */
	add_network(&ps[2], "2001:db8::/32");
	add_network(&ps[2], "2001:db8:1::/48"); /* inside c's first */
	add_network(&ps[2], "0.0.0.0/0");       /* IPv4: every IPv4 network of a and b, not the IPv6 ones */
	struct policy p = {.partners = ps, .n_partners = 3};
	struct overlaps o = {""};
	cr_assert_eq(policy_network_overlaps(&p, overlap, &o), 6, "%s", o.text);
	cr_assert_str_eq(o.text,
	                 "a.example/24 b.example/25;a.example/24 c.example/0;a.example/24 c.example/0;"
	                 "b.example/25 c.example/0;b.example/24 c.example/0;c.example/32 c.example/48;");
	struct policy none = {0};
	cr_assert_eq(policy_network_overlaps(&none, overlap, &o), 0);
}

Test(rule_meta, every_rule_of_the_table_has_a_ruleset_from_its_id_range)
{
	static const char *const known[] = {"starttls_downgrade", "cleartext_exposure", "tls_quality",
	                                    "partner_policy", "certificate_lifetime"};
	for (int c = 0; c < RULE_COUNT; c++) {
		const char *r = rule_ruleset(rule_info((enum rule_code)c));
		bool ok = false;
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			ok = ok || strcmp(r, known[i]) == 0;
		cr_assert(ok, "%s: ruleset %s", rule_info((enum rule_code)c)->name, r);
	}
	cr_assert_str_eq(rule_ruleset(rule_info(RULE_STARTTLS_REFUSED)), "starttls_downgrade");
	cr_assert_str_eq(rule_ruleset(rule_info(RULE_TLS_INTERCEPTION_SUSPECTED)), "starttls_downgrade");
	cr_assert_str_eq(rule_ruleset(rule_info(RULE_AUTH_IN_CLEAR)), "cleartext_exposure");
	cr_assert_str_eq(rule_ruleset(rule_info(RULE_TLS_CIPHER_WEAK)), "tls_quality");
	cr_assert_str_eq(rule_ruleset(rule_info(RULE_DANE_MISMATCH)), "partner_policy");
	cr_assert_str_eq(rule_ruleset(rule_info(RULE_CERTIFICATE_EXPIRED)), "certificate_lifetime");
	struct rule_info odd = {.id = "tlsobs-9999"}, bad = {.id = "x-1001"};
	cr_assert_str_eq(rule_ruleset(&odd), "tlsobs");
	cr_assert_str_eq(rule_ruleset(&bad), "tlsobs");
	cr_assert_str_eq(rule_ruleset(NULL), "tlsobs");
}
