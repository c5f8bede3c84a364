/*
 * history.c: a chained hash table threaded on a recency list.
 *
 * Each entry sits in one bucket chain (lookup) and on one doubly linked list
 * ordered by last touch (newest first): eviction takes the oldest end, and so
 * does expiry, which stops at the first entry still young. The bucket count is
 * the power of two at or above the cap, so chains stay short. Keys come from
 * observed addresses, which an attacker on the path can choose: the hash is
 * seeded per table so collisions cannot be planned offline.
 *
 * A shared memcap keeps the list of its tables; making room under it takes the
 * oldest end of whichever table's oldest entry was seen longest ago (a handful
 * of tables: a linear scan). The newest entry of each other table is spared, since a
 * caller may still hold the record it touched last there (history_touch's borrow).
 */
#include "rules/history.h"

#include "parsers/zeroed_array.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>

struct history_entry {
	struct history_entry *chain;        /* next in the bucket */
	TAILQ_ENTRY(history_entry) recency; /* head: the newest */
	uint64_t seen_us;
	uint64_t touch_seq; /* history.seq at the last touch: what changed since a save */
	uint64_t hash;
	struct history_key key;
	/* the caller's record follows at VALUE_OFFSET */
};

#define VALUE_OFFSET                                                                                         \
	((sizeof(struct history_entry) + alignof(max_align_t) - 1) / alignof(max_align_t) *                  \
	 alignof(max_align_t))

enum { MAX_BUCKETS_LOG2 = 24 }; /* beyond 16M buckets, longer chains instead of a larger array */
/* What malloc adds to each entry (glibc's chunk header, rounded): charged so that the memcap tracks RSS. */
enum { ALLOC_OVERHEAD = 16 };

struct history_memcap {
	struct history_memcap_stats stats;
	struct history *tables[HISTORY_MEMCAP_TABLES];
	unsigned n_tables;
};

struct history {
	struct history_entry **buckets;
	size_t mask;
	TAILQ_HEAD(history_recency, history_entry) recency;
	size_t max_entries, value_size;
	uint64_t ttl_us, seed;
	uint64_t seq; /* touches so far */
	struct history_stats stats;
	struct history_memcap *memcap; /* NULL: bounded by count only */
	uint64_t entry_bytes;          /* one entry as charged */
};

static void memcap_detach(struct history_memcap *m, struct history *h);

static void *value_of(struct history_entry *e)
{
	return (char *)e + VALUE_OFFSET;
}

struct history_key history_key_ip(const struct ip_addr *ip)
{
	struct history_key k = {.len = 17};
	k.bytes[0] = ip->family;
	memcpy(k.bytes + 1, ip->bytes, 16);
	return k;
}

struct history_key history_key_pair(const struct ip_addr *client, const struct ip_addr *server)
{
	struct history_key k = {.len = HISTORY_KEY_MAX};
	k.bytes[0] = client->family;
	memcpy(k.bytes + 1, client->bytes, 16);
	k.bytes[17] = server->family;
	memcpy(k.bytes + 18, server->bytes, 16);
	return k;
}

struct history *history_new(size_t max_entries, uint64_t ttl_us, size_t value_size)
{
	if (max_entries == 0)
		return NULL;
	struct history *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	size_t n = 16;
	while (n < max_entries && n < ((size_t)1 << MAX_BUCKETS_LOG2))
		n <<= 1;
	h->buckets = zeroed_array(n, sizeof *h->buckets);
	if (!h->buckets) {
		free(h);
		return NULL;
	}
	h->mask = n - 1;
	TAILQ_INIT(&h->recency);
	h->stats.bytes = n * sizeof *h->buckets;
	h->entry_bytes = VALUE_OFFSET + value_size + ALLOC_OVERHEAD;
	h->max_entries = max_entries;
	h->value_size = value_size;
	h->ttl_us = ttl_us;
	if (getrandom(&h->seed, sizeof h->seed, GRND_NONBLOCK) != (ssize_t)sizeof h->seed)
		h->seed = (uint64_t)(uintptr_t)h ^ 0x9E3779B97F4A7C15ull;
	return h;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	if (h->memcap)
		memcap_detach(h->memcap, h);
	struct history_entry *e;
	while ((e = TAILQ_FIRST(&h->recency))) {
		TAILQ_REMOVE(&h->recency, e, recency);
		free(e);
	}
	free(h->buckets);
	free(h);
}

/* FNV-1a over the key from a seeded basis, then the splitmix64 finaliser to spread the low bits. */
static uint64_t key_hash(const struct history *h, const struct history_key *k)
{
	uint64_t x = 0xcbf29ce484222325ull ^ h->seed;
	for (unsigned i = 0; i < k->len; i++)
		x = (x ^ k->bytes[i]) * 0x100000001b3ull;
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static bool is_expired(const struct history *h, const struct history_entry *e, uint64_t now_us)
{
	return h->ttl_us != 0 && now_us > e->seen_us && now_us - e->seen_us > h->ttl_us;
}

static struct history_entry *oldest(const struct history *h)
{
	return TAILQ_LAST(&h->recency, history_recency);
}

/* Takes e out of the table without freeing it. */
static void detach(struct history *h, struct history_entry *e)
{
	struct history_entry **pp = &h->buckets[e->hash & h->mask];
	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	e->chain = NULL;
	TAILQ_REMOVE(&h->recency, e, recency);
	h->stats.entries--;
}

/* Frees a detached entry and gives its bytes back. */
static void entry_free(struct history *h, struct history_entry *e)
{
	free(e);
	h->stats.bytes -= h->entry_bytes;
	if (h->memcap)
		h->memcap->stats.used -= h->entry_bytes;
}

static void drop_expired(struct history *h, struct history_entry *e)
{
	detach(h, e);
	entry_free(h, e);
	h->stats.expired++;
}

/* Drops expired entries from the old end; stops at the first young one. */
static void sweep(struct history *h, uint64_t now_us)
{
	struct history_entry *e;
	while ((e = oldest(h)) && is_expired(h, e, now_us))
		drop_expired(h, e);
}

/* The live entry for k, dropping it when it is found expired (touch order need not be time order). */
static struct history_entry *lookup(struct history *h, const struct history_key *k, uint64_t hash,
                                    uint64_t now_us)
{
	sweep(h, now_us);
	for (struct history_entry *e = h->buckets[hash & h->mask]; e; e = e->chain) {
		if (e->hash != hash || e->key.len != k->len || memcmp(e->key.bytes, k->bytes, k->len) != 0)
			continue;
		if (is_expired(h, e, now_us)) {
			drop_expired(h, e);
			return NULL;
		}
		return e;
	}
	return NULL;
}

void *history_find(struct history *h, const struct history_key *k, uint64_t now_us)
{
	struct history_entry *e = lookup(h, k, key_hash(h, k), now_us);
	return e ? value_of(e) : NULL;
}

/*
 * The attached table whose oldest entry was seen longest ago, NULL: none. The newest entry of every table
 * but `self` (the one making room, whose records are borrowed only until this call) is spared.
 */
static struct history *memcap_victim(const struct history_memcap *m, const struct history *self)
{
	struct history *best = NULL;
	for (unsigned i = 0; i < m->n_tables; i++) {
		struct history *t = m->tables[i];
		struct history_entry *e = oldest(t);
		if (!e || (t != self && e == TAILQ_FIRST(&t->recency)))
			continue;
		if (!best || e->seen_us < oldest(best)->seen_us)
			best = t;
	}
	return best;
}

/* Reserves one entry of h under its memcap, evicting least recently seen entries first; false: no room. */
static bool memcap_charge(struct history *h)
{
	struct history_memcap *m = h->memcap;
	if (!m)
		return true;
	while (m->stats.used > m->stats.cap || m->stats.cap - m->stats.used < h->entry_bytes) {
		struct history *t = memcap_victim(m, h);
		if (!t) {
			m->stats.refused++;
			return false;
		}
		struct history_entry *e = oldest(t);
		detach(t, e);
		entry_free(t, e);
		t->stats.memcap_evicted++;
		m->stats.evicted++;
	}
	m->stats.used += h->entry_bytes;
	if (m->stats.used > m->stats.peak)
		m->stats.peak = m->stats.used;
	return true;
}

/* A blank entry: a new allocation below the cap, else the least recently touched one, reused. */
static struct history_entry *make_room(struct history *h)
{
	if (h->stats.entries < h->max_entries) {
		if (!memcap_charge(h)) {
			h->stats.no_memory++;
			return NULL;
		}
		struct history_entry *e = malloc(VALUE_OFFSET + h->value_size);
		if (!e) {
			h->stats.no_memory++;
			if (h->memcap)
				h->memcap->stats.used -= h->entry_bytes;
			return NULL;
		}
		h->stats.bytes += h->entry_bytes;
		return e;
	}
	struct history_entry *e = oldest(h);
	detach(h, e);
	h->stats.evicted++;
	return e;
}

void *history_touch(struct history *h, const struct history_key *k, uint64_t now_us)
{
	uint64_t hash = key_hash(h, k);
	struct history_entry *e = lookup(h, k, hash, now_us);
	if (e) {
		TAILQ_REMOVE(&h->recency, e, recency);
	} else {
		e = make_room(h);
		if (!e)
			return NULL;
		memset(e, 0, VALUE_OFFSET + h->value_size);
		e->hash = hash;
		e->key = *k;
		struct history_entry **bucket = &h->buckets[hash & h->mask];
		e->chain = *bucket;
		*bucket = e;
		h->stats.entries++;
		h->stats.inserted++;
	}
	/* Never move a touch time backwards: recency order stays time order for the sweep. */
	if (now_us > e->seen_us)
		e->seen_us = now_us;
	e->touch_seq = ++h->seq;
	TAILQ_INSERT_HEAD(&h->recency, e, recency);
	return value_of(e);
}

/* Touch order is recency order, so what changed since after_seq is a prefix of the list from the newest end.
 */
int history_export(struct history *h, uint64_t after_seq, history_export_fn fn, void *ctx)
{
	for (struct history_entry *e = TAILQ_FIRST(&h->recency); e && e->touch_seq > after_seq;
	     e = TAILQ_NEXT(e, recency)) {
		int rc = fn(ctx, &e->key, e->seen_us, value_of(e));
		if (rc)
			return rc;
	}
	return 0;
}

uint64_t history_seq(const struct history *h)
{
	return h->seq;
}

bool history_restore(struct history *h, const struct history_key *k, uint64_t seen_us, const void *value)
{
	void *v = history_touch(h, k, seen_us);
	if (!v)
		return false;
	memcpy(v, value, h->value_size);
	return true;
}

size_t history_value_size(const struct history *h)
{
	return h->value_size;
}

const struct history_stats *history_stats(const struct history *h)
{
	return &h->stats;
}

/* ---- the shared memcap ---- */

struct history_memcap *history_memcap_new(uint64_t cap_bytes)
{
	struct history_memcap *m = calloc(1, sizeof *m);
	if (m)
		m->stats.cap = cap_bytes;
	return m;
}

void history_memcap_free(struct history_memcap *m)
{
	for (unsigned i = 0; m && i < m->n_tables; i++)
		m->tables[i]->memcap = NULL;
	free(m);
}

bool history_memcap_attach(struct history_memcap *m, struct history *h)
{
	if (h->memcap || m->n_tables == HISTORY_MEMCAP_TABLES)
		return false;
	m->tables[m->n_tables++] = h;
	h->memcap = m;
	m->stats.used += h->stats.bytes;
	if (m->stats.used > m->stats.peak)
		m->stats.peak = m->stats.used;
	return true;
}

static void memcap_detach(struct history_memcap *m, struct history *h)
{
	for (unsigned i = 0; i < m->n_tables; i++) {
		if (m->tables[i] != h)
			continue;
		m->tables[i] = m->tables[--m->n_tables];
		break;
	}
	m->stats.used = h->stats.bytes > m->stats.used ? 0 : m->stats.used - h->stats.bytes;
	h->memcap = NULL;
}

const struct history_memcap_stats *history_memcap_stats(const struct history_memcap *m)
{
	return &m->stats;
}
