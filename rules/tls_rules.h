/*
 * tls_rules.h: what the TLS handshake of a session means.
 *
 * Per session: tls_version_obsolete (SSLv3, TLS 1.0, 1.1), tls_cipher_weak
 * (NULL, EXPORT, anonymous, RC4, DES/3DES; CBC without encrypt-then-MAC at a
 * lower severity), tls_certificate_invalid (validation status other than ok
 * or not_visible). Across sessions, tls_interception_suspected: for a
 * server seen before, the certificate or its issuer changed to one that does
 * not validate, or the version fell below what the server negotiated before,
 * or the same client software (JA3) now gets another server answer (JA3S).
 * History is per server address, bounded and aged in packet time.
 */
#ifndef TLSOBS_TLS_RULES_H
#define TLSOBS_TLS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/session.h"

struct history;
struct tls_rules;

struct tls_rules *tls_rules_new(size_t max_servers, uint64_t ttl_us);
/* The per-server memory, for persistence (rules_engine_export/restore). */
struct history *tls_rules_history(struct tls_rules *r);
void tls_rules_free(struct tls_rules *r);
/* Appends alerts to s->alerts, then remembers what the server showed. */
void tls_rules_evaluate(struct tls_rules *r, struct session *s);

/*
 * History sharing between sensors (issue 20, as starttls_rules.h's): what the history holds for a server's
 * TLS, each fact with the packet time of the session that showed it. Merged fact by fact: the highest
 * version (at the same version the later session), the later validated certificate, and per client
 * fingerprint (JA3) its server answer (JA3S): a new fingerprint is taken, the same answer seen later
 * refreshes its session, another answer for a known fingerprint is not taken (that difference is what
 * tls_interception_suspected is about). A merge never raises an alert.
 */
enum { TLS_SHARE_ANSWERS = 8 };
struct tls_answer_share {
	char ja3[TLS_JA3_HASH_LEN + 1], ja3s[TLS_JA3_HASH_LEN + 1];
	char session_id[SESSION_ID_LEN];
	uint64_t us;
};
struct tls_server_share {
	uint16_t best_version; /* 0: none */
	uint64_t version_us;
	char version_session_id[SESSION_ID_LEN];
	bool valid_certificate_seen;
	uint64_t certificate_us;
	char certificate_sha256[65];
	char issuer[X509_NAME_MAX];
	char certificate_session_id[SESSION_ID_LEN];
	struct tls_answer_share answers[TLS_SHARE_ANSWERS];
	unsigned n_answers;
};
/* What the history holds at now_us; false when nothing. */
bool tls_rules_server_share(struct tls_rules *r, const struct ip_addr *server, uint64_t now_us,
                            struct tls_server_share *out);
/* true when a fact was taken. */
bool tls_rules_merge_server(struct tls_rules *r, const struct ip_addr *server,
                            const struct tls_server_share *in);

#endif
