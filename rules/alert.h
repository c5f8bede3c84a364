/*
 * alert.h: a finding about one session, with the evidence that proves it.
 *
 * Rules are described once in a static table (rule_table.c): name, id,
 * description and base severity are a contract SOC teams build on. An alert
 * carries the rule, its severity (the base, possibly raised by policy), one
 * sentence for the analyst, and the raw lines that prove it.
 */
#ifndef TLSOBS_ALERT_H
#define TLSOBS_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/session_id.h"

enum {
	ALERT_REASON_MAX = 512,
	ALERT_MAX_EVIDENCE = 24,  /* lines */
	ALERT_EVIDENCE_MAX = 256, /* bytes per line, cut beyond */
	ALERTS_PER_SESSION = 16,
};

enum rule_code {
	RULE_STARTTLS_CAPABILITY_GARBLED,
	RULE_STARTTLS_COMMAND_GARBLED,
	RULE_STARTTLS_CAPABILITY_REMOVED,
	RULE_STARTTLS_REFUSED,
	RULE_STARTTLS_NOT_USED,
	RULE_NO_TLS_AFTER_STARTTLS,
	RULE_STARTTLS_COMMAND_INJECTION,
	RULE_STARTTLS_RESPONSE_INJECTION,
	RULE_TLS_HANDSHAKE_FAILED,
	RULE_CLEARTEXT_FALLBACK,
	RULE_EHLO_DOWNGRADE,
	RULE_AUTH_IN_CLEAR,
	RULE_REQUIRETLS_IN_CLEAR,
	RULE_TLS_VERSION_OBSOLETE,
	RULE_TLS_CIPHER_WEAK,
	RULE_TLS_CERTIFICATE_INVALID,
	RULE_TLS_INTERCEPTION_SUSPECTED,
	RULE_POLICY_TLS_REQUIRED,
	RULE_POLICY_TLS_VERSION,
	RULE_POLICY_CERTIFICATE,
	RULE_MTA_STS_VIOLATION,
	RULE_DANE_MISMATCH,
	RULE_CERTIFICATE_EXPIRING,
	RULE_CERTIFICATE_EXPIRED,
	RULE_CLEARTEXT_ON_TLS_PORT,
	RULE_COUNT
};

/* Rule properties, a column of the rule table: what other rules and the policy may ask of a rule. */
enum rule_property {
	RULE_HEURISTIC =
	    1 << 0, /* infers interference from what it saw: an enforced partner raises it by one */
	RULE_TLS_FAILURE = 1 << 1, /* says STARTTLS or the TLS handshake failed (policy_tls_required) */
};

struct rule_info {
	enum rule_code code;
	const char *name;        /* rule.name, e.g. "starttls_capability_garbled" */
	const char *id;          /* rule.id, stable: "tlsobs-1001" */
	const char *description; /* rule.description */
	int severity;            /* base event.severity: higher is worse */
	const char *ruleset;     /* rule.ruleset: "starttls_downgrade", "cleartext_exposure", ... */
	unsigned properties;     /* enum rule_property bits */
};

const struct rule_info *rule_info(enum rule_code code);

struct alert {
	const struct rule_info *rule;
	int severity;
	char reason[ALERT_REASON_MAX]; /* event.reason: one sentence */
	char evidence[ALERT_MAX_EVIDENCE][ALERT_EVIDENCE_MAX];
	unsigned evidence_count;
	bool evidence_truncated;                 /* lines were cut or dropped */
	char related_session_id[SESSION_ID_LEN]; /* cleartext_fallback: the failed session; "" otherwise */
	const char
	    *tlsrpt_result_type; /* static: the RFC 8460 4.3 result type (mta_sts_violation); NULL: none */
};

struct alert_list {
	struct alert items[ALERTS_PER_SESSION];
	unsigned count;
	unsigned dropped; /* alerts beyond ALERTS_PER_SESSION */
};

/* Appends an alert for `code` with base severity; NULL (and dropped++) when the list is full. */
struct alert *alert_list_add(struct alert_list *l, enum rule_code code);
/* Adds one evidence line (bytes from the wire: cut at ALERT_EVIDENCE_MAX, NULs dropped). */
void alert_add_evidence(struct alert *a, const char *line, size_t len);
/* Adds bytes that should have been something else (TLS, a command) as one printable line: CR, LF and TAB as
 * \r \n \t, other non-ASCII bytes and the backslash as \xHH. */
void alert_add_printable(struct alert *a, const uint8_t *b, size_t len);
/* Adds a line the sensor composes (a TLS alert, a close), not one copied from the wire. */
void alert_add_evidencef(struct alert *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds each '\n'-separated line of text as evidence. */
void alert_add_evidence_lines(struct alert *a, const char *text);
/* Sets reason with printf formatting. */
void alert_set_reason(struct alert *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool alert_list_has(const struct alert_list *l, enum rule_code code);

#endif
