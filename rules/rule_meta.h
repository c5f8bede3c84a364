/*
 * rule_meta.h: the ruleset a rule belongs to (ECS rule.ruleset), the
 * ruleset column of the rule table (rule_table.c: one per id range,
 * tlsobs-1001.. STARTTLS downgrade, 1020.. clear-text exposure, 1030.. TLS
 * quality, 1040.. partner policy, 1050.. certificate lifetime).
 */
#ifndef TLSOBS_RULE_META_H
#define TLSOBS_RULE_META_H

#include "rules/alert.h"

/* "starttls_downgrade", "cleartext_exposure", "tls_quality", "partner_policy", "certificate_lifetime";
 * "tlsobs" for a rule without one (NULL included). */
const char *rule_ruleset(const struct rule_info *r);

#endif
