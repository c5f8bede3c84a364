/* policy_diff.c: partner-by-partner differences and overlapping networks (see policy_diff.h). */
#include "rules/policy_diff.h"

#include <string.h>

const char *policy_change_str(enum policy_change c)
{
	switch (c) {
	case POLICY_CHANGE_ADDED:
		return "added";
	case POLICY_CHANGE_REMOVED:
		return "removed";
	case POLICY_CHANGE_CHANGED:
		return "changed";
	}
	return "unknown";
}

const struct partner_policy *policy_find_partner(const struct policy *p, const char *domain)
{
	for (size_t i = 0; p && i < p->n_partners; i++)
		if (strcmp(p->partners[i].domain, domain) == 0)
			return &p->partners[i];
	return NULL;
}

static bool same_networks(const struct partner_policy *a, const struct partner_policy *b)
{
	if (a->n_networks != b->n_networks)
		return false;
	for (size_t i = 0; i < a->n_networks; i++) {
		const struct ip_network *x = &a->networks[i], *y = &b->networks[i];
		if (x->prefix != y->prefix || x->addr.family != y->addr.family ||
		    memcmp(x->addr.bytes, y->addr.bytes, sizeof x->addr.bytes) != 0)
			return false;
	}
	return true;
}

bool policy_partner_same(const struct partner_policy *a, const struct partner_policy *b)
{
	if (a->mode != b->mode || a->min_tls_version != b->min_tls_version ||
	    a->require_valid_certificate != b->require_valid_certificate ||
	    a->relaxed_until_us != b->relaxed_until_us || a->n_mx != b->n_mx || a->n_pins != b->n_pins ||
	    !same_networks(a, b))
		return false;
	for (size_t i = 0; i < a->n_mx; i++)
		if (strcmp(a->mx[i], b->mx[i]) != 0)
			return false;
	for (size_t i = 0; i < a->n_pins; i++)
		if (strcmp(a->pins[i], b->pins[i]) != 0)
			return false;
	return true;
}

size_t policy_diff(const struct policy *old, const struct policy *new_p, policy_diff_fn fn, void *ctx)
{
	size_t calls = 0;
	for (size_t i = 0; new_p && i < new_p->n_partners; i++) {
		const struct partner_policy *n = &new_p->partners[i],
		                            *o = policy_find_partner(old, n->domain);
		if (o && policy_partner_same(o, n))
			continue;
		fn(o ? POLICY_CHANGE_CHANGED : POLICY_CHANGE_ADDED, o, n, ctx);
		calls++;
	}
	for (size_t i = 0; old && i < old->n_partners; i++) {
		const struct partner_policy *o = &old->partners[i];
		if (policy_find_partner(new_p, o->domain))
			continue;
		fn(POLICY_CHANGE_REMOVED, o, NULL, ctx);
		calls++;
	}
	return calls;
}

static bool overlap(const struct ip_network *a, const struct ip_network *b)
{
	return a->addr.family == b->addr.family &&
	       (ip_network_contains(a, &b->addr) || ip_network_contains(b, &a->addr));
}

size_t policy_network_overlaps(const struct policy *p, policy_overlap_fn fn, void *ctx)
{
	size_t pairs = 0;
	for (size_t i = 0; p && i < p->n_partners; i++) {
		const struct partner_policy *a = &p->partners[i];
		for (size_t k = 0; k < a->n_networks; k++)
			for (size_t j = i; j < p->n_partners; j++) {
				const struct partner_policy *b = &p->partners[j];
				/* within one partner, each pair once: only the networks after k */
				for (size_t m = (j == i ? k + 1 : 0); m < b->n_networks; m++)
					if (overlap(&a->networks[k], &b->networks[m])) {
						fn(a, &a->networks[k], b, &b->networks[m], ctx);
						pairs++;
					}
			}
	}
	return pairs;
}
