/*
 * issuer_cache.c: decoded intermediates by the SHA-256 of their DER (issuer_cache.h).
 *
 * A hash table of chained entries (buckets: a power of two, at least twice the
 * cap) and a TAILQ in recency order, most recent first. Owns its entries and
 * one reference to each certificate.
 */
#include "sensor/app/issuer_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

enum { ISSUER_CACHE_KEY_LEN = 64 };

struct issuer_entry {
	char key[ISSUER_CACHE_KEY_LEN];
	struct x509_cert *cert;
	size_t bytes;
	struct issuer_entry *next; /* in its bucket */
	TAILQ_ENTRY(issuer_entry) lru;
};

TAILQ_HEAD(issuer_lru, issuer_entry);

struct issuer_cache {
	pthread_mutex_t lock;
	unsigned max_entries;
	size_t nbuckets; /* a power of two */
	struct issuer_entry **buckets;
	struct issuer_lru lru;
	struct issuer_cache_stats st;
};

struct issuer_cache *issuer_cache_new(unsigned max_entries)
{
	struct issuer_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->max_entries = max_entries;
	c->nbuckets = 1;
	while (c->nbuckets < 2 * (size_t)max_entries)
		c->nbuckets *= 2;
	c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
	if (c->buckets == NULL) {
		free(c);
		return NULL;
	}
	TAILQ_INIT(&c->lru);
	pthread_mutex_init(&c->lock, NULL);
	c->st.bytes = sizeof *c + c->nbuckets * sizeof *c->buckets;
	return c;
}

/* FNV-1a over the hex key: SHA-256 digits are uniform, so any mix will do. */
static size_t bucket_of(const struct issuer_cache *c, const char *key)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < ISSUER_CACHE_KEY_LEN; i++)
		h = (h ^ (uint8_t)key[i]) * 1099511628211u;
	return (size_t)h & (c->nbuckets - 1);
}

static struct issuer_entry **find(struct issuer_cache *c, const char *key)
{
	struct issuer_entry **p = &c->buckets[bucket_of(c, key)];
	while (*p && memcmp((*p)->key, key, ISSUER_CACHE_KEY_LEN) != 0)
		p = &(*p)->next;
	return p;
}

static void drop(struct issuer_cache *c, struct issuer_entry **at)
{
	struct issuer_entry *e = *at;
	*at = e->next;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->st.entries--;
	c->st.bytes -= e->bytes;
	x509_cert_free(e->cert);
	free(e);
}

static bool valid_key(const char *sha256)
{
	return sha256 != NULL && strnlen(sha256, ISSUER_CACHE_KEY_LEN + 1) == ISSUER_CACHE_KEY_LEN;
}

struct x509_cert *issuer_cache_get(struct issuer_cache *c, const char *sha256)
{
	if (c->max_entries == 0 || !valid_key(sha256))
		return NULL;
	struct x509_cert *cert = NULL;
	pthread_mutex_lock(&c->lock);
	struct issuer_entry *e = *find(c, sha256);
	if (e) {
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_HEAD(&c->lru, e, lru);
		cert = x509_cert_dup(e->cert);
	}
	if (cert)
		c->st.hits++;
	else
		c->st.misses++;
	pthread_mutex_unlock(&c->lock);
	return cert;
}

void issuer_cache_put(struct issuer_cache *c, const char *sha256, struct x509_cert *cert, size_t der_len)
{
	if (c->max_entries == 0 || !valid_key(sha256) || cert == NULL)
		return;
	struct issuer_entry *e = malloc(sizeof *e);
	struct x509_cert *ref = e ? x509_cert_dup(cert) : NULL;
	if (ref == NULL) {
		free(e);
		return;
	}
	memcpy(e->key, sha256, ISSUER_CACHE_KEY_LEN);
	e->cert = ref;
	e->bytes = sizeof *e + x509_cert_bytes(der_len);
	pthread_mutex_lock(&c->lock);
	if (*find(c, sha256)) { /* another worker put the same bytes first */
		pthread_mutex_unlock(&c->lock);
		x509_cert_free(ref);
		free(e);
		return;
	}
	if (c->st.entries == c->max_entries) {
		drop(c, find(c, TAILQ_LAST(&c->lru, issuer_lru)->key));
		c->st.evictions++;
	}
	struct issuer_entry **at = &c->buckets[bucket_of(c, sha256)];
	e->next = *at;
	*at = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->st.entries++;
	c->st.bytes += e->bytes;
	pthread_mutex_unlock(&c->lock);
}

void issuer_cache_clear(struct issuer_cache *c)
{
	pthread_mutex_lock(&c->lock);
	while (!TAILQ_EMPTY(&c->lru))
		drop(c, find(c, TAILQ_FIRST(&c->lru)->key));
	pthread_mutex_unlock(&c->lock);
}

void issuer_cache_free(struct issuer_cache *c)
{
	if (c == NULL)
		return;
	issuer_cache_clear(c);
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}

void issuer_cache_get_stats(struct issuer_cache *c, struct issuer_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	pthread_mutex_unlock(&c->lock);
}
