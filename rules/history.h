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
	uint64_t entries;   /* held now */
	uint64_t inserted;  /* entries ever created */
	uint64_t evicted;   /* dropped at the cap, least recently touched first */
	uint64_t expired;   /* dropped after ttl_us without a touch */
	uint64_t no_memory; /* touches that failed to allocate */
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
