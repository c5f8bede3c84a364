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

#endif
