/*
 * tsan_issuer_cache.c: four threads share one cache of decoded intermediates (sensor/app/issuer_cache.h),
 * as the workers of issue 17 do: gets, puts of the same certificate by several threads at once, evictions
 * (more keys than entries), clears, and each certificate a get handed out used afterwards, while other
 * threads evict it, through a chain of its own DER (x509_chain_set_decoded, x509_chain_parse_leaf). Run
 * under ThreadSanitizer by the TSan leg; it checks the results too:
 *   - a get hands out the very certificate put under that key, or nothing;
 *   - that certificate is alive and decodes to its own SHA-256 after any eviction (the reference counting);
 *   - hits + misses = gets made, hits = hits seen, entries <= the cap, evictions happened.
 * The certificates are the fixture CA, intermediates and leaves of tests/fixtures/x509/.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/app/issuer_cache.h"

enum {
	THREADS = 4,
	KEYS = 300, /* more than CAP: puts evict */
	CAP = 64,
	ITERATIONS = 20000,
	CLEAR_EVERY = 4999, /* thread 0 clears the cache now and then */
};

static const char *const FILES[] = {"root.der",      "intermediate.der", "leaf-rsa.der",
                                    "leaf-ec.der",   "expired.der",      "notyet.der",
                                    "wronghost.der", "selfsigned.der",   "other-root.der"};
enum { NCERTS = sizeof FILES / sizeof FILES[0] };

struct der {
	uint8_t *bytes;
	size_t len;
	char sha256[65]; /* as x509_parse() gives it */
	struct x509_cert *cert;
};

struct shared {
	struct issuer_cache *cache;
	struct der der[NCERTS];
	char key[KEYS][65];
};

struct worker {
	pthread_t thread;
	unsigned id;
	struct shared *s;
	uint64_t gets, hits, puts, failures;
};

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717u;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	uint8_t *buf = malloc(1 << 16);
	*len = buf ? fread(buf, 1, 1 << 16, f) : 0;
	fclose(f);
	if (buf && (*len == 0 || *len == 1 << 16)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Decodes d's DER through a chain of one and keeps a reference to the certificate. */
static int load(struct der *d, const char *file)
{
	const char *src = getenv("TLSOBS_SOURCE_DIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/fixtures/x509/%s", src ? src : ".", file);
	d->bytes = read_file(path, &d->len);
	if (d->bytes == NULL)
		return fprintf(stderr, "FAIL cannot read %s (set TLSOBS_SOURCE_DIR)\n", path), -1;
	const uint8_t *chain[] = {d->bytes};
	struct x509_chain *c = x509_chain_new(chain, &d->len, 1);
	struct x509_info *info = malloc(sizeof *info);
	int rc = c && info ? x509_chain_parse_leaf(c, info) : -1;
	if (rc == 0) {
		memcpy(d->sha256, info->sha256, sizeof d->sha256);
		d->cert = x509_chain_decoded(c, 0);
	}
	x509_chain_free(c);
	free(info);
	return rc == 0 && d->cert ? 0 : (fprintf(stderr, "FAIL cannot decode %s\n", path), -1);
}

/* Uses a certificate the cache handed out: a chain of its DER takes it as decoded, and parsing the leaf
 * reads the certificate object itself (not the DER) while other threads may evict it from the cache. */
static int use(const struct der *d, struct x509_cert *cert, struct x509_info *info)
{
	const uint8_t *chain[] = {d->bytes};
	size_t len = d->len;
	struct x509_chain *c = x509_chain_new(chain, &len, 1);
	if (c == NULL)
		return 1;
	x509_chain_set_decoded(c, 0, cert);
	int bad = x509_chain_parse_leaf(c, info) != 0 || strcmp(info->sha256, d->sha256) != 0;
	x509_chain_free(c);
	if (bad)
		fprintf(stderr, "FAIL a certificate from the cache does not decode to its own SHA-256 (%s)\n",
		        d->sha256);
	return bad;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct shared *s = w->s;
	uint64_t x = 0x2545f4914f6cdd1du * (w->id + 1);
	struct x509_info *info = malloc(sizeof *info);
	for (unsigned n = 0; info && n < ITERATIONS; n++) {
		uint64_t r = next_rand(&x);
		unsigned i = (unsigned)(r % KEYS), op = (unsigned)(r >> 32) % 100;
		const struct der *d = &s->der[i % NCERTS];
		if (op < 60) {
			w->gets++;
			struct x509_cert *cert = issuer_cache_get(s->cache, s->key[i]);
			if (cert) {
				w->hits++;
				if (cert != d->cert) {
					fprintf(stderr,
					        "FAIL key %u gave another certificate than the one put under "
					        "it\n",
					        i);
					w->failures++;
				} else if (op < 10) {
					w->failures += (uint64_t)use(d, cert, info);
				}
				x509_cert_free(cert);
			}
		} else if (op < 98) {
			issuer_cache_put(s->cache, s->key[i], d->cert, d->len);
			w->puts++;
		} else {
			struct issuer_cache_stats st;
			issuer_cache_get_stats(s->cache, &st);
			if (st.entries > CAP) {
				fprintf(stderr, "FAIL %" PRIu64 " entries in a cache of %d\n", st.entries,
				        CAP);
				w->failures++;
			}
		}
		if (w->id == 0 && n % CLEAR_EVERY == CLEAR_EVERY - 1)
			issuer_cache_clear(s->cache);
	}
	if (info == NULL)
		w->failures++;
	free(info);
	return NULL;
}

static uint64_t check_totals(struct issuer_cache *cache, uint64_t gets, uint64_t hits)
{
	struct issuer_cache_stats st;
	issuer_cache_get_stats(cache, &st);
	printf("issuer_cache: %d threads, %" PRIu64 " gets (%" PRIu64 " hits); cache: %" PRIu64
	       " entries, %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64 " evictions, %" PRIu64 " bytes\n",
	       THREADS, gets, hits, st.entries, st.hits, st.misses, st.evictions, st.bytes);
	uint64_t failures = 0;
	if (st.hits != hits || st.hits + st.misses != gets) {
		fprintf(stderr,
		        "FAIL the counters do not add up: %" PRIu64 " + %" PRIu64 " for %" PRIu64
		        " gets, %" PRIu64 " hits seen\n",
		        st.hits, st.misses, gets, hits);
		failures++;
	}
	if (st.entries > CAP || st.evictions == 0 || hits == 0 || hits == gets) {
		fprintf(stderr,
		        "FAIL %" PRIu64 " entries (cap %d), %" PRIu64 " evictions, %" PRIu64
		        " hits: the run did not"
		        " fill, evict and hit\n",
		        st.entries, CAP, st.evictions, hits);
		failures++;
	}
	return failures;
}

int main(void)
{
	static struct shared s;
	for (unsigned i = 0; i < NCERTS; i++)
		if (load(&s.der[i], FILES[i]) != 0)
			return 1;
	for (unsigned i = 0; i < KEYS;
	     i++) /* key i names certificate i % NCERTS: only its bytes may be put there */
		snprintf(s.key[i], sizeof s.key[i], "%.56s%08X", s.der[i % NCERTS].sha256, i);
	s.cache = issuer_cache_new(CAP);
	if (s.cache == NULL)
		return fprintf(stderr, "FAIL issuer_cache_new\n"), 1;

	struct worker w[THREADS];
	for (unsigned t = 0; t < THREADS; t++) {
		w[t] = (struct worker){.id = t, .s = &s};
		if (pthread_create(&w[t].thread, NULL, run, &w[t]) != 0)
			return fprintf(stderr, "FAIL pthread_create\n"), 1;
	}
	uint64_t gets = 0, hits = 0, failures = 0;
	for (unsigned t = 0; t < THREADS; t++) {
		pthread_join(w[t].thread, NULL);
		gets += w[t].gets, hits += w[t].hits, failures += w[t].failures;
	}
	failures += check_totals(s.cache, gets, hits);
	/* The cache's references go with it; ours stay usable after (a certificate outlives the cache). */
	issuer_cache_free(s.cache);
	struct x509_info *info = malloc(sizeof *info);
	for (unsigned i = 0; i < NCERTS; i++) {
		failures += info ? (uint64_t)use(&s.der[i], s.der[i].cert, info) : 1;
		x509_cert_free(s.der[i].cert);
		free(s.der[i].bytes);
	}
	free(info);
	if (failures)
		printf("FAIL: %" PRIu64 " failure(s)\n", failures);
	else
		printf("ok\n");
	return failures ? 1 : 0;
}
