/*
 * tsan_cert_cache.c: four threads share one certificate cache (sensor/app/cert_cache.h), as the workers of
 * issue 17 do, and hammer it with lookups, inserts, replacements, evictions (more keys than entries), clears
 * and statistics reads. Run under ThreadSanitizer by the TSan leg (tests/tsan/CMakeLists.txt); it also
 * checks what the cache returns, so it fails without TSan too:
 *   - a hit is always a whole value written for that key (no torn or foreign entry): the status, the
 *     window and the leaf's name all belong to the key, and the window's two ends to one insert;
 *   - the counters add up: hits + misses = lookups made, hits = hits seen, entries <= the cap, evictions
 *     happened, and a cache of 0 entries never hits.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/app/cert_cache.h"

enum {
	THREADS = 4,
	KEYS = 600,      /* more than CAP: inserts evict */
	CAP = 256,       /* entries */
	GENERATIONS = 8, /* values a key may be replaced with */
	ITERATIONS = 40000,
	CLEAR_EVERY = 9973, /* thread 0 clears the cache now and then */
};

struct shared {
	struct cert_cache *cache, *off;
	char sha[KEYS][X509_MAX_CHAIN][65];
	char name[KEYS][32];
};

struct worker {
	pthread_t thread;
	unsigned id;
	struct shared *s;
	uint64_t lookups, hits, inserts, failures;
};

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717u;
}

static struct cert_cache_key key_of(const struct shared *s, unsigned i)
{
	return (struct cert_cache_key){1 + i % 3, (const char(*)[65])s->sha[i], s->name[i]};
}

/* Generation g of key i's value: every field derived from (i, g), so a reader can tell whose it is. */
static void value_of(unsigned i, unsigned g, struct cert_cache_value *v)
{
	memset(v, 0, sizeof *v);
	v->parsed = i % 2 == 0;
	snprintf(v->leaf.subject_cn, sizeof v->leaf.subject_cn, "mx%u.example.net", i);
	v->leaf.not_before = (int64_t)i * 1000 + g;
	v->status = (enum x509_status)(i % (X509_STATUS_NOT_VISIBLE + 1));
	v->window = (struct x509_window){true, (int64_t)i * 1000 + g, (int64_t)i * 1000 + g + 999};
}

static int check_hit(unsigned i, const struct cert_cache_value *v)
{
	char cn[32];
	snprintf(cn, sizeof cn, "mx%u.example.net", i);
	int64_t g = v->window.from - (int64_t)i * 1000;
	if (v->parsed != (i % 2 == 0) || strcmp(v->leaf.subject_cn, cn) != 0 || g < 0 || g >= GENERATIONS ||
	    v->window.until != v->window.from + 999 || !v->window.known ||
	    v->leaf.not_before != v->window.from ||
	    v->status != (enum x509_status)(i % (X509_STATUS_NOT_VISIBLE + 1))) {
		fprintf(stderr,
		        "FAIL key %u: a hit gave a value not written for it (cn %s, window %" PRId64
		        "..%" PRId64 ", status %d)\n",
		        i, v->leaf.subject_cn, v->window.from, v->window.until, (int)v->status);
		return 1;
	}
	return 0;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	uint64_t x = 0x9e3779b97f4a7c15u * (w->id + 1);
	struct cert_cache_value v;
	for (unsigned n = 0; n < ITERATIONS; n++) {
		uint64_t r = next_rand(&x);
		unsigned i = (unsigned)(r % KEYS), op = (unsigned)(r >> 32) % 100;
		struct cert_cache_key k = key_of(w->s, i);
		if (op < 60) {
			w->lookups++;
			if (cert_cache_lookup(w->s->cache, &k, &v)) {
				w->hits++;
				w->failures += check_hit(i, &v);
			}
		} else if (op < 97) {
			value_of(i, (unsigned)(r >> 48) % GENERATIONS, &v);
			cert_cache_insert(w->s->cache, &k, &v);
			w->inserts++;
		} else {
			struct cert_cache_stats st;
			cert_cache_get_stats(w->s->cache, &st);
			if (st.entries > CAP) {
				fprintf(stderr, "FAIL %" PRIu64 " entries in a cache of %d\n", st.entries,
				        CAP);
				w->failures++;
			}
		}
		/* The cache that is off, from every thread: nothing is kept, every lookup a miss. */
		value_of(i, 0, &v);
		cert_cache_insert(w->s->off, &k, &v);
		if (cert_cache_lookup(w->s->off, &k, &v)) {
			fprintf(stderr, "FAIL a hit in a cache of 0 entries\n");
			w->failures++;
		}
		if (w->id == 0 && n % CLEAR_EVERY == CLEAR_EVERY - 1)
			cert_cache_clear(w->s->cache);
	}
	return NULL;
}

int main(void)
{
	static struct shared s;
	for (unsigned i = 0; i < KEYS; i++) {
		for (unsigned j = 0; j < X509_MAX_CHAIN; j++)
			snprintf(s.sha[i][j], sizeof s.sha[i][j], "%016X%016X%016X%016X", i, j, i * 7919u,
			         j * 104729u);
		snprintf(s.name[i], sizeof s.name[i], i % 5 ? "mx%u.example.net" : "", i);
	}
	s.cache = cert_cache_new(CAP);
	s.off = cert_cache_new(0);
	if (s.cache == NULL || s.off == NULL)
		return fprintf(stderr, "FAIL cert_cache_new\n"), 1;

	struct worker w[THREADS];
	for (unsigned t = 0; t < THREADS; t++) {
		w[t] = (struct worker){.id = t, .s = &s};
		if (pthread_create(&w[t].thread, NULL, run, &w[t]) != 0)
			return fprintf(stderr, "FAIL pthread_create\n"), 1;
	}
	uint64_t lookups = 0, hits = 0, inserts = 0, failures = 0;
	for (unsigned t = 0; t < THREADS; t++) {
		pthread_join(w[t].thread, NULL);
		lookups += w[t].lookups, hits += w[t].hits, inserts += w[t].inserts,
		    failures += w[t].failures;
	}

	struct cert_cache_stats st, off;
	cert_cache_get_stats(s.cache, &st);
	cert_cache_get_stats(s.off, &off);
	printf("cert_cache: %d threads, %" PRIu64 " lookups (%" PRIu64 " hits), %" PRIu64
	       " inserts; cache: %" PRIu64 " entries, %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64
	       " evictions\n",
	       THREADS, lookups, hits, inserts, st.entries, st.hits, st.misses, st.evictions);
	if (st.hits != hits || st.hits + st.misses != lookups) {
		fprintf(stderr,
		        "FAIL the counters do not add up: %" PRIu64 " + %" PRIu64 " for %" PRIu64
		        " lookups, %" PRIu64 " hits seen\n",
		        st.hits, st.misses, lookups, hits);
		failures++;
	}
	if (st.entries > CAP || st.evictions == 0 || hits == 0 || hits == lookups) {
		fprintf(stderr,
		        "FAIL %" PRIu64 " entries (cap %d), %" PRIu64 " evictions, %" PRIu64
		        " hits: the run did not"
		        " fill, evict and hit\n",
		        st.entries, CAP, st.evictions, hits);
		failures++;
	}
	if (off.hits != 0 || off.entries != 0 || off.misses != (uint64_t)THREADS * ITERATIONS) {
		fprintf(stderr,
		        "FAIL the cache of 0 entries: %" PRIu64 " hits, %" PRIu64 " entries, %" PRIu64
		        " misses\n",
		        off.hits, off.entries, off.misses);
		failures++;
	}
	cert_cache_free(s.cache);
	cert_cache_free(s.off);
	if (failures)
		printf("FAIL: %" PRIu64 " failure(s)\n", failures);
	else
		printf("ok\n");
	return failures ? 1 : 0;
}
