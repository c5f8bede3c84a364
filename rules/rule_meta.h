/*
 * rule_meta.h: what the rule table implies about a rule without a column of
 * its own: the ruleset it belongs to (ECS rule.ruleset), from its id range
 * (rule_table.c: tlsobs-1001.. STARTTLS downgrade, 1020.. clear-text exposure,
 * 1030.. TLS quality, 1040.. partner policy, 1050.. certificate lifetime).
 */
#ifndef TLSOBS_RULE_META_H
#define TLSOBS_RULE_META_H

#include "rules/alert.h"

/* "starttls_downgrade", "cleartext_exposure", "tls_quality", "partner_policy", "certificate_lifetime";
 * "tlsobs" for an id outside those ranges. */
const char *rule_ruleset(const struct rule_info *r);

#endif
