/*
 * policy.h: what the operator expects of its mail partners, and which partner a session belongs to.
 *
 * A partner is a mail domain with a mode (enforced: TLS is required; opportunistic: TLS is welcome;
 * none: no expectation), the names and networks its MX hosts have, and what its TLS must offer.
 * Sessions are attributed to a partner by the first of, in this order: a recipient domain seen in
 * clear (equal to the partner's domain or below it), the sender's domain, the host named in the
 * banner, in the EHLO greeting, the SNI, a certificate name (SAN, else CN) matched against the
 * partner's mx patterns (RFC 8461 wildcards), then the server address in the partner's networks.
 * A partner without mx patterns owns the server names under its own domain and those its MTA-STS
 * policy's mx patterns allow (when policy.mta_sts_dir has one for it).
 * An unattributed session takes the policy's default mode.
 *
 * Ownership: a struct policy owns its partners array (policy_clear frees it); policy_attribute
 * returns a partner borrowed from the policy.
 */
#ifndef TLSOBS_POLICY_H
#define TLSOBS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/domain_pattern.h"
#include "parsers/mta_sts.h"
#include "parsers/tlsa.h"
#include "rules/ip_network.h"
#include "rules/session.h"

enum {
	POLICY_MAX_PARTNERS = 1024,
	POLICY_MAX_MX = 16,        /* mx patterns per partner */
	POLICY_MAX_NETWORKS = 16,  /* networks per partner */
	POLICY_MAX_PINS = 16,      /* SPKI SHA-256 pins per partner */
	POLICY_MAX_MTA_STS = 1024, /* MTA-STS policies (policy.mta_sts_dir) */
};

/* enum policy_mode: policy_mode.h. */
const char *policy_mode_str(enum policy_mode m); /* "enforced", "opportunistic", "none" */
/* Parses a mode name: 0, or -1 when it is none of the three. */
int policy_mode_parse(const char *text, enum policy_mode *out);

struct partner_policy {
	char domain[DOMAIN_NAME_MAX + 2]; /* lowercase, no trailing dot */
	enum policy_mode mode;
	char mx[POLICY_MAX_MX][DOMAIN_NAME_MAX + 4]; /* "mx1.bank.example" or "*.mail.bank.example" */
	size_t n_mx;
	struct ip_network networks[POLICY_MAX_NETWORKS];
	size_t n_networks;
	uint16_t min_tls_version; /* 0x0303 for "1.2"; 0: no minimum */
	bool require_valid_certificate;
	char pins[POLICY_MAX_PINS][65]; /* uppercase hex SHA-256 of the SubjectPublicKeyInfo */
	size_t n_pins;
	uint64_t relaxed_until_us; /* Unix time in microseconds; 0: never relaxed */
};

/* One MTA-STS policy (RFC 8461 3.2) of policy.mta_sts_dir, read from "<domain>.txt". */
struct policy_mta_sts {
	char domain[DOMAIN_NAME_MAX + 2]; /* lowercase, no trailing dot */
	struct mta_sts_policy sts;
};

struct policy {
	enum policy_mode default_mode;
	struct partner_policy *partners; /* owned, n_partners of them */
	size_t n_partners;
	struct policy_mta_sts *mta_sts; /* owned, n_mta_sts of them (at most POLICY_MAX_MTA_STS) */
	size_t n_mta_sts;
	struct tlsa_set *tlsa; /* owned; NULL: no policy.tlsa_file */
};

/* The MTA-STS policy of exactly `domain` (no case, trailing dot ignored), borrowed; NULL when none. */
const struct mta_sts_policy *policy_mta_sts_find(const struct policy *p, const char *domain);

/* Frees the partners, MTA-STS policies and TLSA records, and leaves an empty policy with its default mode.
 * NULL is a no-op. */
void policy_clear(struct policy *p);

/*
 * The partner the session belongs to, or NULL; *match (when match is not NULL) says how it was
 * found (SESSION_MATCH_NONE when it was not). p NULL: NULL and SESSION_MATCH_NONE.
 */
const struct partner_policy *policy_attribute(const struct policy *p, const struct session *s,
                                              enum session_partner_match *match);

/* Fills s->partner, s->partner_match and s->partner_mode (the partner's mode, else the default), and sets
 * s->partner_attributed. */
void policy_attribute_session(const struct policy *p, struct session *s);

/* Parses "1.0" .. "1.3" into a TLS version (0x0301 .. 0x0304): 0, or -1. */
int policy_tls_version_parse(const char *text, uint16_t *out);
/* Parses "YYYY-MM-DDTHH:MM:SSZ" (UTC) into Unix microseconds: 0, or -1. */
int policy_time_parse(const char *text, uint64_t *out_us);

#endif
