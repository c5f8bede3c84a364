/*
 * policy_diff.h: what changed between two policies, partner by partner, for
 * the audit trail (the tlsobs.policy event at start and at every reload) and
 * the configuration checks (partners that overlap).
 *
 * Partners are matched by domain. A partner is "changed" when anything the
 * rules read differs: mode, mx, networks, min_tls_version,
 * require_valid_certificate, pins or relaxed_until.
 */
#ifndef TLSOBS_POLICY_DIFF_H
#define TLSOBS_POLICY_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/policy.h"

enum policy_change { POLICY_CHANGE_ADDED, POLICY_CHANGE_REMOVED, POLICY_CHANGE_CHANGED };
const char *policy_change_str(enum policy_change c); /* "added", "removed", "changed" */

/* The partner of exactly `domain` (as stored: lowercase), borrowed; NULL when none or p is NULL. */
const struct partner_policy *policy_find_partner(const struct policy *p, const char *domain);
bool policy_partner_same(const struct partner_policy *a, const struct partner_policy *b);

/*
 * Calls fn for each partner added (old NULL), changed (both) and removed (new
 * NULL): first the new policy's partners in order, then the removed ones in
 * the old order. `old` NULL: every partner is added. Returns how many calls.
 */
typedef void (*policy_diff_fn)(enum policy_change c, const struct partner_policy *old,
                               const struct partner_policy *new_p, void *ctx);
size_t policy_diff(const struct policy *old, const struct policy *new_p, policy_diff_fn fn, void *ctx);

/*
 * Partner networks that overlap (one contains the other, within one partner or
 * across two): fn for each pair, with the partners and the networks. Returns
 * how many pairs.
 */
typedef void (*policy_overlap_fn)(const struct partner_policy *a, const struct ip_network *na,
                                  const struct partner_policy *b, const struct ip_network *nb, void *ctx);
size_t policy_network_overlaps(const struct policy *p, policy_overlap_fn fn, void *ctx);

#endif
