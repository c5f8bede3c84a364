/*
 * tls_inspect.h: what a finished TLS handshake says about the server.
 *
 * Computes the session's fingerprints (JA3, JA3S, JA4) and parses and
 * validates the server's certificate chain as presented, at the session's
 * packet time, against the CA bundle (the system store unless tls.ca_file /
 * --ca-file names one). The leaf is checked against the name the server is
 * expected to have: the client's SNI, else the host name in the SMTP banner,
 * else the one in the EHLO greeting. Owns the validator.
 */
#ifndef TLSOBS_TLS_INSPECT_H
#define TLSOBS_TLS_INSPECT_H

#include <stddef.h>

#include "rules/session.h"

struct tls_inspector;

struct cert_cache_stats;
struct issuer_cache_stats;

/*
 * NULL with a message in err when the CA bundle cannot be loaded. cache_entries bounds the certificate
 * cache (tls.certificate_cache.entries; 0: none).
 */
struct tls_inspector *tls_inspector_new(const char *ca_file, unsigned cache_entries, char *err,
                                        size_t errlen);
/* Forgets every cached chain (the policy was reloaded; a new CA store comes with a new inspector). */
void tls_inspector_clear_cache(struct tls_inspector *ti);
void tls_inspector_cache_stats(struct tls_inspector *ti, struct cert_cache_stats *out);
/* The decoded intermediates (issuer_cache.h); a policy reload keeps them: the same bytes decode the same. */
void tls_inspector_issuer_stats(struct tls_inspector *ti, struct issuer_cache_stats *out);
void tls_inspector_free(struct tls_inspector *ti);
/* Fills s->fingerprints and s->certificate from s->tls and s->smtp (nothing when s->tls is NULL). */
void tls_inspect_session(struct tls_inspector *ti, struct session *s);

#endif
