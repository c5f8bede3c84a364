/*
 * rule_table.c: the rules as SOC teams see them.
 *
 * Names and ids are a contract: dashboards and suppressions key on them, so
 * they never change once shipped. Ids follow the heuristics of the design:
 * the STARTTLS rules and tls_interception_suspected hold tlsobs-1001 to
 * tlsobs-1012; the other clear-text rules start at tlsobs-1020, the TLS quality rules at tlsobs-1030, the
 * partner policy rules at tlsobs-1040, the certificate lifetime rules at
 * tlsobs-1050. A policy rule for a partner that is
 * relaxed (policy.partners[].relaxed_until) is raised at severity 1.
 *
 * Severity scale (event.severity), 1 to 10, higher is worse:
 *   9-10  reserved for confirmed compromise (not raised by these rules)
 *   8     active interference: stripping, masking or injection by a middlebox,
 *         or mail retried in clear after TLS failed
 *   7     a protection removed or a secret or requirement exposed
 *   6     encryption refused or failed, cause unknown (policy, misconfiguration, attack)
 *   5     encryption possible but not used; an obsolete protocol or a broken certificate
 *   4     a certificate about to expire
 *   3     weak but not broken: CBC suites without encrypt-then-MAC
 *   1-2   informational findings (a policy rule for a relaxed partner)
 */
#include "rules/alert.h"

/*
 * One row per rule: code, name, id, severity, ruleset (rule.ruleset, one per
 * id range: 1001.. starttls_downgrade, 1020.. cleartext_exposure, 1030..
 * tls_quality, 1040.. partner_policy, 1050.. certificate_lifetime),
 * properties (enum rule_property), then the description on its own line.
 */
#define RULE(c, n, i, sev, set, props, desc)                                                                 \
	[c] = {.code = c,                                                                                    \
	       .name = n,                                                                                    \
	       .id = i,                                                                                      \
	       .description = desc,                                                                          \
	       .severity = sev,                                                                              \
	       .ruleset = set,                                                                               \
	       .properties = props}
#define STARTTLS "starttls_downgrade"
#define CLEARTEXT "cleartext_exposure"
#define TLS_QUALITY "tls_quality"
#define PARTNER "partner_policy"
#define LIFETIME "certificate_lifetime"

static const struct rule_info rules[RULE_COUNT] = {
    RULE(RULE_STARTTLS_CAPABILITY_GARBLED, "starttls_capability_garbled", "tlsobs-1001", 8, STARTTLS,
         RULE_HEURISTIC,
         "The EHLO reply carries a masked keyword where STARTTLS belongs, as a middlebox that hides the "
         "capability leaves it."),
    RULE(RULE_STARTTLS_COMMAND_GARBLED, "starttls_command_garbled", "tlsobs-1002", 8, STARTTLS,
         RULE_HEURISTIC,
         "The client's STARTTLS command reached the server masked, or was answered as an unknown command."),
    RULE(RULE_STARTTLS_CAPABILITY_REMOVED, "starttls_capability_removed", "tlsobs-1003", 7, STARTTLS,
         RULE_HEURISTIC, "A server that advertised STARTTLS in an earlier session no longer advertises it."),
    RULE(RULE_STARTTLS_REFUSED, "starttls_refused", "tlsobs-1004", 6, STARTTLS,
         RULE_HEURISTIC | RULE_TLS_FAILURE,
         "The STARTTLS command was answered with something other than 220."),
    RULE(RULE_STARTTLS_NOT_USED, "starttls_not_used", "tlsobs-1005", 5, STARTTLS, RULE_HEURISTIC,
         "The server offered STARTTLS but the client sent mail in clear text without trying it."),
    RULE(RULE_NO_TLS_AFTER_STARTTLS, "no_tls_after_starttls", "tlsobs-1006", 8, STARTTLS,
         RULE_HEURISTIC | RULE_TLS_FAILURE,
         "STARTTLS was accepted with 220 but the bytes that followed are not TLS."),
    RULE(RULE_STARTTLS_COMMAND_INJECTION, "starttls_command_injection", "tlsobs-1007", 8, STARTTLS,
         RULE_HEURISTIC,
         "Clear-text commands followed STARTTLS before the server's reply and would be taken as part of the "
         "TLS session."),
    RULE(RULE_STARTTLS_RESPONSE_INJECTION, "starttls_response_injection", "tlsobs-1008", 8, STARTTLS,
         RULE_HEURISTIC,
         "The server's 220 to STARTTLS was followed by clear-text bytes before the client's TLS hello."),
    RULE(RULE_TLS_HANDSHAKE_FAILED, "tls_handshake_failed", "tlsobs-1009", 6, STARTTLS,
         RULE_HEURISTIC | RULE_TLS_FAILURE,
         "The TLS handshake after STARTTLS ended on a fatal alert or a closed connection."),
    RULE(RULE_CLEARTEXT_FALLBACK, "cleartext_fallback", "tlsobs-1010", 8, STARTTLS, RULE_HEURISTIC,
         "Mail crossed in clear text between a client and server shortly after a STARTTLS attempt between "
         "them failed."),
    RULE(RULE_EHLO_DOWNGRADE, "ehlo_downgrade", "tlsobs-1012", 5, STARTTLS, RULE_HEURISTIC,
         "The client greeted with HELO where EHLO was refused or had been used before, so no STARTTLS could "
         "be offered."),
    RULE(RULE_AUTH_IN_CLEAR, "auth_in_clear", "tlsobs-1020", 7, CLEARTEXT, 0,
         "The client authenticated with a credential-bearing SASL mechanism in clear text."),
    RULE(RULE_REQUIRETLS_IN_CLEAR, "requiretls_in_clear", "tlsobs-1021", 7, CLEARTEXT, 0,
         "A message that demanded TLS with REQUIRETLS was sent in clear text."),
    RULE(
        RULE_CLEARTEXT_ON_TLS_PORT, "cleartext_on_tls_port", "tlsobs-1022", 8, CLEARTEXT, 0,
        "A server on an implicit-TLS port greeted in clear text: clients that expect TLS there get none, and "
        "those that go on talk SMTP in clear."),
    RULE(RULE_TLS_VERSION_OBSOLETE, "tls_version_obsolete", "tlsobs-1030", 5, TLS_QUALITY, 0,
         "The session negotiated SSLv3, TLS 1.0 or TLS 1.1, which RFC 8996 deprecates."),
    RULE(RULE_TLS_CIPHER_WEAK, "tls_cipher_weak", "tlsobs-1031", 6, TLS_QUALITY, 0,
         "The session negotiated a weak cipher suite (NULL, EXPORT, anonymous, RC4, DES or 3DES), or a CBC "
         "suite without encrypt-then-MAC."),
    RULE(
        RULE_TLS_CERTIFICATE_INVALID, "tls_certificate_invalid", "tlsobs-1032", 5, TLS_QUALITY, 0,
        "The server's certificate did not validate: expired, not yet valid, self-signed, untrusted or issued "
        "for another name."),
    RULE(RULE_TLS_INTERCEPTION_SUSPECTED, "tls_interception_suspected", "tlsobs-1011", 8, STARTTLS,
         RULE_HEURISTIC,
         "A server seen before now presents a certificate that does not validate, or negotiates less than it "
         "did, as a TLS-intercepting middlebox would."),
    RULE(RULE_POLICY_TLS_REQUIRED, "policy_tls_required", "tlsobs-1040", 7, PARTNER, 0,
         "Mail for a partner whose policy enforces TLS crossed in clear text, or TLS with it failed."),
    RULE(RULE_POLICY_TLS_VERSION, "policy_tls_version", "tlsobs-1041", 6, PARTNER, 0,
         "The session with a partner negotiated a TLS version below the partner's min_tls_version."),
    RULE(RULE_POLICY_CERTIFICATE, "policy_certificate", "tlsobs-1042", 6, PARTNER, 0,
         "The partner's certificate did not validate where its policy requires a valid one, or its public "
         "key is not among the partner's pins."),
    RULE(RULE_MTA_STS_VIOLATION, "mta_sts_violation", "tlsobs-1043", 6, PARTNER, 0,
         "A session for a domain with an MTA-STS policy in enforce or testing mode did not meet it: no TLS, "
         "an MX outside the policy, or a certificate that did not validate (severity 3 in testing mode)."),
    RULE(RULE_DANE_MISMATCH, "dane_mismatch", "tlsobs-1044", 7, PARTNER, 0,
         "The server's certificate chain matches none of the usable TLSA records of its MX host."),
    RULE(RULE_CERTIFICATE_EXPIRING, "certificate_expiring", "tlsobs-1050", 4, LIFETIME, 0,
         "A server's certificate expires within one of certificates.expiry_alert_days; raised once per "
         "certificate and threshold."),
    RULE(RULE_CERTIFICATE_EXPIRED, "certificate_expired", "tlsobs-1051", 6, LIFETIME, 0,
         "A server presented a certificate whose not_after lies before the session; raised once per "
         "certificate."),
};
#undef RULE
#undef STARTTLS
#undef CLEARTEXT
#undef TLS_QUALITY
#undef PARTNER
#undef LIFETIME

const struct rule_info *rule_info(enum rule_code code)
{
	if ((unsigned)code >= RULE_COUNT)
		return NULL;
	return &rules[code];
}
