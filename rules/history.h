/*
 * history.h: bounded memory of earlier sessions, for the cross-session rules.
 *
 * A hash table of fixed-size records (the caller's struct, opaque here), keyed
 * by a short byte string: one address, or a (client, server) pair. Bounded:
 * at max_entries the least recently touched entry is dropped to make room
 * (counted as evicted); an entry not touched for ttl_us of packet time is
 * dropped (counted as expired). Lookups and updates are O(1) expected;
 * expiry is amortised (each entry expires once, oldest first). Packet time
 * may step back a little between sessions: ages then count as zero.
 *
 * Tables may also share a byte budget (struct history_memcap, issue 16): every
 * table attached to it is charged for its bucket array and its entries, and
 * when a new entry would not fit, the least recently seen entry of all the
 * attached tables (by packet time) is dropped first (counted as
 * memcap_evicted). Threads: a table and the memcap it is attached to are
 * touched by one owner only (today the rules engine, on the packet thread); a
 * sharded version must hold the memcap's lock as well as the shard's.
 */
#ifndef TLSOBS_HISTORY_H
#define TLSOBS_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/packet_decode.h"

enum { HISTORY_KEY_MAX = 2 * (1 + 16) }; /* two addresses, family byte included */

struct history_key {
	uint8_t len;
	uint8_t bytes[HISTORY_KEY_MAX];
};

struct history_key history_key_ip(const struct ip_addr *ip);
/* Ordered: (client, server) is not (server, client). */
struct history_key history_key_pair(const struct ip_addr *client, const struct ip_addr *server);

struct history_stats {
	uint64_t entries;        /* held now */
	uint64_t inserted;       /* entries ever created */
	uint64_t evicted;        /* dropped at the cap, least recently touched first */
	uint64_t expired;        /* dropped after ttl_us without a touch */
	uint64_t no_memory;      /* touches that failed to allocate, or found no room under the memcap */
	uint64_t bytes;          /* held now: the bucket array and the entries (allocator headers included) */
	uint64_t memcap_evicted; /* dropped to make room under the shared memcap, least recently seen first */
};

struct history;

/* max_entries >= 1 (else NULL); ttl_us 0 keeps entries until evicted; value_size bytes per record, zeroed on
 * creation. */
struct history *history_new(size_t max_entries, uint64_t ttl_us, size_t value_size);
void history_free(struct history *h);

/* The record for k, or NULL when absent or expired at now_us. Does not refresh it. Borrowed until the next
 * call. */
void *history_find(struct history *h, const struct history_key *k, uint64_t now_us);
/*
 * The record for k, created zeroed when absent (dropping the least recently
 * touched entry at the cap), and marked touched at now_us. NULL only when
 * allocation fails (counted). Borrowed until the next call.
 */
void *history_touch(struct history *h, const struct history_key *k, uint64_t now_us);

const struct history_stats *history_stats(const struct history *h);

/* ---- a byte budget shared by several tables ---- */

enum { HISTORY_MEMCAP_TABLES = 8 };

struct history_memcap_stats {
	uint64_t cap;     /* bytes allowed */
	uint64_t used;    /* bytes held now by the attached tables */
	uint64_t peak;    /* highest `used` seen */
	uint64_t evicted; /* entries dropped to make room, in any table */
	uint64_t refused; /* new entries that found no room (nothing left to evict) */
};

struct history_memcap;

struct history_memcap *history_memcap_new(uint64_t cap_bytes);
/* Free the attached tables first (history_free detaches a table). */
void history_memcap_free(struct history_memcap *m);
/*
 * Charges h (its bucket array and entries, even beyond the cap: they exist
 * already) to m from now on. false when h is attached already or m holds
 * HISTORY_MEMCAP_TABLES tables.
 */
bool history_memcap_attach(struct history_memcap *m, struct history *h);
const struct history_memcap_stats *history_memcap_stats(const struct history_memcap *m);

/*
 * Persistence. Every touch stamps its entry with the next value of a counter
 * (history_seq). history_export hands over, newest first, every live entry
 * touched after `after_seq` (so a caller that remembers the seq it last saved
 * writes only what changed) and stops early when fn returns non-zero, returning
 * that value; 0 when all were handed over. Records are borrowed for the call.
 */
typedef int (*history_export_fn)(void *ctx, const struct history_key *k, uint64_t seen_us, const void *value);
int history_export(struct history *h, uint64_t after_seq, history_export_fn fn, void *ctx);
uint64_t history_seq(const struct history *h);
/*
 * Puts a saved record back as touched at seen_us (restore the oldest first:
 * the recency order is the order of the calls). false when allocation fails.
 */
bool history_restore(struct history *h, const struct history_key *k, uint64_t seen_us, const void *value);
size_t history_value_size(const struct history *h);

#endif
