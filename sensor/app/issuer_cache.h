/*
 * issuer_cache.h: decoded intermediate certificates, kept for the next chain that presents them.
 *
 * A new mail server nearly always comes with an intermediate already seen (a
 * public CA's), and in OpenSSL 3.0 each d2i_X509 costs a public-key decoder
 * context (issue 15). With this cache a new leaf costs one d2i_X509: the
 * chain's other certificates come decoded from here (x509_chain_set_decoded).
 * Keyed by the SHA-256 of the DER (uppercase hex, as the session's
 * chain_sha256), so a certificate is only ever replaced by the same bytes and
 * no verdict can change. Bounded by an entry count (ISSUER_CACHE_ENTRIES, or
 * tls.certificate_cache.entries when smaller; 0: off): public CAs issue from a
 * few dozen intermediates, and a capture of unique chains must not grow it
 * past what the bundle no longer loaded at start saved. Least recently used
 * out first; memory charged per entry (x509_cert_bytes() and the entry).
 * Every call takes the cache's mutex; a lookup hands out a new reference, so
 * an eviction never frees a certificate a worker still uses.
 */
#ifndef TLSOBS_ISSUER_CACHE_H
#define TLSOBS_ISSUER_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/x509.h"

enum { ISSUER_CACHE_ENTRIES = 128 };

struct issuer_cache_stats {
	uint64_t entries, bytes; /* now: certificates held, bytes they and the index take */
	uint64_t hits, misses, evictions;
};

struct issuer_cache;

/* NULL when out of memory; max_entries 0 gives a cache that holds nothing. */
struct issuer_cache *issuer_cache_new(unsigned max_entries);
void issuer_cache_free(struct issuer_cache *c);
/* The certificate whose DER has this SHA-256 (64 hex digits): a new reference, or NULL. */
struct x509_cert *issuer_cache_get(struct issuer_cache *c, const char *sha256);
/* Keeps cert (its own reference) under sha256, evicting the least recently used when full. */
void issuer_cache_put(struct issuer_cache *c, const char *sha256, struct x509_cert *cert, size_t der_len);
/* Drops every entry; the counters stay. */
void issuer_cache_clear(struct issuer_cache *c);
void issuer_cache_get_stats(struct issuer_cache *c, struct issuer_cache_stats *out);

#endif
