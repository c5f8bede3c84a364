/*
 * cert_cache.c: the certificate cache of cert_cache.h. Owns its entries, a
 * chained hash index over them and the LRU list that orders them (head: most
 * recently used). Entries are allocated as the cache fills and freed on eviction
 * and clear, so an idle or small deployment pays only for what it holds.
 */
#include "sensor/app/cert_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

struct cert_entry {
	struct cert_entry *hnext;    /* next in the bucket */
	TAILQ_ENTRY(cert_entry) lru; /* head: most recently used */
	uint64_t hash;
	unsigned n;
	char sha256[X509_MAX_CHAIN][65];
	char name[X509_FIELD_MAX];
	struct cert_cache_value v;
};

struct cert_cache {
	pthread_mutex_t lock;
	unsigned max, count;
	size_t nbuckets; /* a power of two */
	struct cert_entry **buckets;
	TAILQ_HEAD(cert_lru, cert_entry) lru;
	uint64_t hits, misses, evictions;
};

/* FNV-1a over the chain's hashes and the name: the SHA-256s are already uniform. */
static uint64_t key_hash(const struct cert_cache_key *k)
{
	uint64_t h = 1469598103934665603u;
	for (unsigned i = 0; i < k->n; i++)
		for (const char *p = k->sha256[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211u;
	h = (h ^ 0xff) * 1099511628211u; /* the name can never run into the last hash */
	for (const char *p = k->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	return h;
}

static bool key_usable(const struct cert_cache_key *k)
{
	if (k->n == 0 || k->n > X509_MAX_CHAIN || k->name == NULL || strlen(k->name) >= X509_FIELD_MAX)
		return false;
	for (unsigned i = 0; i < k->n; i++)
		if (strnlen(k->sha256[i], 65) != 64)
			return false;
	return true;
}

static bool key_equal(const struct cert_entry *e, uint64_t hash, const struct cert_cache_key *k)
{
	if (e->hash != hash || e->n != k->n || strcmp(e->name, k->name) != 0)
		return false;
	for (unsigned i = 0; i < k->n; i++)
		if (memcmp(e->sha256[i], k->sha256[i], 64) != 0)
			return false;
	return true;
}

struct cert_cache *cert_cache_new(unsigned max_entries)
{
	struct cert_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->max = max_entries > CERT_CACHE_MAX_ENTRIES ? CERT_CACHE_MAX_ENTRIES : max_entries;
	c->nbuckets = 16;
	while (c->nbuckets < c->max)
		c->nbuckets *= 2;
	c->buckets = c->max ? calloc(c->nbuckets, sizeof *c->buckets) : NULL;
	TAILQ_INIT(&c->lru);
	if ((c->max && c->buckets == NULL) || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->buckets);
		free(c);
		return NULL;
	}
	return c;
}

static struct cert_entry *find(struct cert_cache *c, uint64_t hash, const struct cert_cache_key *k)
{
	for (struct cert_entry *e = c->buckets[hash & (c->nbuckets - 1)]; e; e = e->hnext)
		if (key_equal(e, hash, k))
			return e;
	return NULL;
}

/* Takes e out of the index and the LRU list and frees it. */
static void drop(struct cert_cache *c, struct cert_entry *e)
{
	struct cert_entry **p = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	TAILQ_REMOVE(&c->lru, e, lru);
	free(e);
	c->count--;
}

bool cert_cache_lookup(struct cert_cache *c, const struct cert_cache_key *key, struct cert_cache_value *out)
{
	pthread_mutex_lock(&c->lock);
	struct cert_entry *e = c->max && key_usable(key) ? find(c, key_hash(key), key) : NULL;
	if (e) {
		*out = e->v;
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_HEAD(&c->lru, e, lru);
		c->hits++;
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return e != NULL;
}

void cert_cache_insert(struct cert_cache *c, const struct cert_cache_key *key,
                       const struct cert_cache_value *v)
{
	if (c->max == 0 || !key_usable(key))
		return;
	uint64_t hash = key_hash(key);
	pthread_mutex_lock(&c->lock);
	struct cert_entry *e = find(c, hash, key);
	if (e) {
		TAILQ_REMOVE(&c->lru, e, lru);
	} else {
		if (c->count == c->max) {
			drop(c, TAILQ_LAST(&c->lru, cert_lru));
			c->evictions++;
		}
		e = malloc(sizeof *e);
		if (e == NULL) {
			pthread_mutex_unlock(&c->lock);
			return;
		}
		e->hash = hash;
		e->n = key->n;
		for (unsigned i = 0; i < key->n; i++)
			memcpy(e->sha256[i], key->sha256[i], 65);
		memcpy(e->name, key->name, strlen(key->name) + 1);
		size_t b = hash & (c->nbuckets - 1);
		e->hnext = c->buckets[b];
		c->buckets[b] = e;
		c->count++;
	}
	e->v = *v;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	pthread_mutex_unlock(&c->lock);
}

void cert_cache_clear(struct cert_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	while (!TAILQ_EMPTY(&c->lru))
		drop(c, TAILQ_FIRST(&c->lru));
	pthread_mutex_unlock(&c->lock);
}

void cert_cache_get_stats(struct cert_cache *c, struct cert_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = (struct cert_cache_stats){
	    .entries = c->count,
	    .bytes = (uint64_t)c->count * sizeof(struct cert_entry) +
	             (c->buckets ? c->nbuckets * sizeof *c->buckets : 0) + sizeof *c,
	    .hits = c->hits,
	    .misses = c->misses,
	    .evictions = c->evictions,
	};
	pthread_mutex_unlock(&c->lock);
}

void cert_cache_free(struct cert_cache *c)
{
	if (c == NULL)
		return;
	cert_cache_clear(c);
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}
