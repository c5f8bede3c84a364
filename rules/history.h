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

#endif
