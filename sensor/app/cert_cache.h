/*
 * cert_cache.h: what a server's certificate chain gave, kept for the next session that shows it.
 *
 * Mail servers present the same few chains all day, and decoding and validating
 * one costs hundreds of microseconds of OpenSSL, most of it d2i_X509 (issue 15).
 * The cache is keyed by the chain as presented (the SHA-256 of every
 * certificate, leaf first) and the name the leaf was checked against, and holds
 * the parsed leaf, the validation status and the span of packet times that status
 * holds for (x509.h: the validity window of the chain OpenSSL built, or after a
 * notAfter the time to the next one). The caller re-checks the span on every hit
 * (x509_window_contains) and validates again outside it, so a cached "ok" never
 * hides a later "expired" and no verdict depends on the order of sessions.
 *
 * Bounded by an entry count (tls.certificate_cache.entries, 0: off), least
 * recently used out first. Every call takes the cache's mutex, so one cache can be
 * shared by several workers; lookups copy the entry out and keep no pointer.
 */
#ifndef TLSOBS_CERT_CACHE_H
#define TLSOBS_CERT_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "parsers/x509.h"

enum { CERT_CACHE_DEFAULT_ENTRIES = 1024, CERT_CACHE_MAX_ENTRIES = 1000000 };

struct cert_cache_key {
	unsigned n;               /* certificates in the chain, at most X509_MAX_CHAIN */
	const char (*sha256)[65]; /* n hex SHA-256s, leaf first (borrowed) */
	const char *name;         /* the expected name, "" for none (borrowed) */
};

struct cert_cache_value {
	bool parsed;               /* the leaf decoded; leaf is valid only then */
	struct x509_info leaf;     /* x509_parse() of the leaf */
	enum x509_status status;   /* x509_chain_validate(), true for any time inside window */
	struct x509_window window; /* the times the status holds for; unknown: it must be found again */
};

struct cert_cache_stats {
	uint64_t entries, bytes; /* now: entries held, bytes they and the index take */
	uint64_t hits, misses, evictions;
};

struct cert_cache;

/* NULL when out of memory; max_entries 0 gives a cache that holds nothing (every lookup a miss). */
struct cert_cache *cert_cache_new(unsigned max_entries);
void cert_cache_free(struct cert_cache *c);
/* Copies the entry of key into *out and makes it the most recently used: true on a hit. */
bool cert_cache_lookup(struct cert_cache *c, const struct cert_cache_key *key, struct cert_cache_value *out);
/* Adds or replaces the entry of key, evicting the least recently used one when full. */
void cert_cache_insert(struct cert_cache *c, const struct cert_cache_key *key,
                       const struct cert_cache_value *v);
/* Drops every entry (the CA store or the policy was reloaded); the counters stay. */
void cert_cache_clear(struct cert_cache *c);
void cert_cache_get_stats(struct cert_cache *c, struct cert_cache_stats *out);

#endif
