/*
 * test_cert_cache.c: the certificate cache alone (cert_cache.h): hits and misses by
 * the whole key (every hash of the chain and the expected name), the entry bound
 * with least-recently-used eviction, clear, the counters, and a cache of 0 entries.
 * What a cached status means at another packet time is tested through the inspector
 * (test_tls_inspect.c); here the window is only carried.
 */
#include "sensor/app/cert_cache.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* A chain of n made-up hex SHA-256s, the i-th starting with the digits of seed + i. */
struct chain {
	char sha[X509_MAX_CHAIN][65];
	struct cert_cache_key key;
};

static void chain(struct chain *c, unsigned n, unsigned seed, const char *name)
{
	memset(c, 0, sizeof *c);
	for (unsigned i = 0; i < n; i++) {
		snprintf(c->sha[i], sizeof c->sha[i], "%08X", seed + i);
		memset(c->sha[i] + 8, 'A', 56);
		c->sha[i][64] = '\0';
	}
	c->key = (struct cert_cache_key){n, (const char(*)[65])c->sha, name};
}

static struct cert_cache_value value(enum x509_status st, const char *cn)
{
	struct cert_cache_value v = {.parsed = true, .status = st, .window = {true, 100, 200}};
	snprintf(v.leaf.subject_cn, sizeof v.leaf.subject_cn, "%s", cn);
	return v;
}

static struct cert_cache_stats stats(struct cert_cache *c)
{
	struct cert_cache_stats s;
	cert_cache_get_stats(c, &s);
	return s;
}

Test(cert_cache, a_miss_then_a_hit_gives_back_what_was_stored)
{
	struct cert_cache *c = cert_cache_new(4);
	cr_assert_not_null(c);
	struct chain a;
	chain(&a, 2, 1, "mx1.example.net");
	struct cert_cache_value out;
	cr_expect_not(cert_cache_lookup(c, &a.key, &out));
	struct cert_cache_value v = value(X509_STATUS_HOST_MISMATCH, "mx1");
	cert_cache_insert(c, &a.key, &v);
	memset(&out, 0, sizeof out);
	cr_assert(cert_cache_lookup(c, &a.key, &out));
	cr_expect(out.parsed);
	cr_expect_eq(out.status, X509_STATUS_HOST_MISMATCH);
	cr_expect_str_eq(out.leaf.subject_cn, "mx1");
	cr_expect(out.window.known);
	cr_expect_eq(out.window.from, 100);
	cr_expect_eq(out.window.until, 200);
	struct cert_cache_stats s = stats(c);
	cr_expect_eq(s.hits, 1);
	cr_expect_eq(s.misses, 1);
	cr_expect_eq(s.entries, 1);
	cr_expect_gt(s.bytes, sizeof(struct cert_cache_value));
	cert_cache_free(c);
}

Test(cert_cache, the_key_is_every_hash_of_the_chain_and_the_name)
{
	struct cert_cache *c = cert_cache_new(8);
	cr_assert_not_null(c);
	struct chain a, b;
	chain(&a, 2, 1, "mx1.example.net");
	struct cert_cache_value v = value(X509_STATUS_OK, "a"), out;
	cert_cache_insert(c, &a.key, &v);

	chain(&b, 2, 1, "mx2.example.net"); /* another name */
	cr_expect_not(cert_cache_lookup(c, &b.key, &out));
	chain(&b, 2, 1, ""); /* no name */
	cr_expect_not(cert_cache_lookup(c, &b.key, &out));
	chain(&b, 1, 1, "mx1.example.net"); /* the leaf without its intermediate */
	cr_expect_not(cert_cache_lookup(c, &b.key, &out));
	chain(&b, 3, 1, "mx1.example.net"); /* one more */
	cr_expect_not(cert_cache_lookup(c, &b.key, &out));
	chain(&b, 2, 1, "mx1.example.net");
	b.sha[1][63] = 'B'; /* the intermediate differs in its last digit */
	cr_expect_not(cert_cache_lookup(c, &b.key, &out));
	chain(&b, 2, 1, "mx1.example.net"); /* equal, from other memory */
	cr_expect(cert_cache_lookup(c, &b.key, &out));
	cr_expect_eq(stats(c).misses, 5);
	cert_cache_free(c);
}

Test(cert_cache, inserting_a_known_key_replaces_its_entry)
{
	struct cert_cache *c = cert_cache_new(2);
	cr_assert_not_null(c);
	struct chain a;
	chain(&a, 1, 7, "x");
	struct cert_cache_value v = value(X509_STATUS_OK, "old"), out;
	cert_cache_insert(c, &a.key, &v);
	v = value(X509_STATUS_EXPIRED, "new");
	cert_cache_insert(c, &a.key, &v);
	cr_assert(cert_cache_lookup(c, &a.key, &out));
	cr_expect_eq(out.status, X509_STATUS_EXPIRED);
	cr_expect_str_eq(out.leaf.subject_cn, "new");
	cr_expect_eq(stats(c).entries, 1);
	cert_cache_free(c);
}

Test(cert_cache, it_holds_at_most_its_bound_and_evicts_the_least_recently_used)
{
	enum { BOUND = 3 };
	struct cert_cache *c = cert_cache_new(BOUND);
	cr_assert_not_null(c);
	struct chain k[5];
	struct cert_cache_value v = value(X509_STATUS_OK, "x"), out;
	for (unsigned i = 0; i < BOUND; i++) {
		chain(&k[i], 1, 100 * (i + 1), "n");
		cert_cache_insert(c, &k[i].key, &v);
	}
	cr_expect(cert_cache_lookup(c, &k[0].key, &out)); /* 0 used: 1 is now the oldest */
	chain(&k[3], 1, 400, "n");
	cert_cache_insert(c, &k[3].key, &v);
	cr_expect_not(cert_cache_lookup(c, &k[1].key, &out));
	cr_expect(cert_cache_lookup(c, &k[0].key, &out));
	cr_expect(cert_cache_lookup(c, &k[2].key, &out)); /* order now, oldest first: 3, 0, 2 */
	chain(&k[4], 1, 500, "n");
	cert_cache_insert(c, &k[4].key, &v);
	cr_expect_not(cert_cache_lookup(c, &k[3].key, &out));
	cr_expect(cert_cache_lookup(c, &k[0].key, &out));
	cr_expect(cert_cache_lookup(c, &k[2].key, &out));
	cr_expect(cert_cache_lookup(c, &k[4].key, &out));
	struct cert_cache_stats s = stats(c);
	cr_expect_eq(s.entries, BOUND);
	cr_expect_eq(s.evictions, 2);
	cert_cache_free(c);
}

Test(cert_cache, many_more_chains_than_entries_keep_it_at_its_bound)
{
	struct cert_cache *c = cert_cache_new(64);
	cr_assert_not_null(c);
	struct cert_cache_value v = value(X509_STATUS_UNTRUSTED, "x"), out;
	uint64_t bytes_full = 0;
	for (unsigned i = 0; i < 5000; i++) {
		struct chain a;
		chain(&a, 1 + i % 3, i * 7, i % 2 ? "a" : "b");
		cert_cache_insert(c, &a.key, &v);
		struct cert_cache_stats s = stats(c);
		cr_assert_leq(s.entries, 64);
		if (i == 63)
			bytes_full = s.bytes;
		if (i >= 63)
			cr_assert_eq(s.bytes, bytes_full, "memory grows past the bound at %u", i);
	}
	struct chain last;
	chain(&last, 1 + 4999 % 3, 4999 * 7, "a");
	cr_expect(cert_cache_lookup(c, &last.key, &out));
	cr_expect_eq(stats(c).evictions, 5000 - 64);
	cert_cache_free(c);
}

Test(cert_cache, clear_forgets_every_entry_and_keeps_the_counters)
{
	struct cert_cache *c = cert_cache_new(8);
	cr_assert_not_null(c);
	struct chain a, b;
	chain(&a, 1, 1, "a");
	chain(&b, 2, 9, "b");
	struct cert_cache_value v = value(X509_STATUS_OK, "x"), out;
	cert_cache_insert(c, &a.key, &v);
	cert_cache_insert(c, &b.key, &v);
	cr_expect(cert_cache_lookup(c, &a.key, &out));
	cert_cache_clear(c);
	cr_expect_eq(stats(c).entries, 0);
	cr_expect_not(cert_cache_lookup(c, &a.key, &out));
	cr_expect_not(cert_cache_lookup(c, &b.key, &out));
	cert_cache_insert(c, &a.key, &v); /* usable again */
	cr_expect(cert_cache_lookup(c, &a.key, &out));
	struct cert_cache_stats s = stats(c);
	cr_expect_eq(s.hits, 2);
	cr_expect_eq(s.misses, 2);
	cr_expect_eq(s.evictions, 0);
	cert_cache_free(c);
}

Test(cert_cache, zero_entries_is_off)
{
	struct cert_cache *c = cert_cache_new(0);
	cr_assert_not_null(c);
	struct chain a;
	chain(&a, 1, 1, "a");
	struct cert_cache_value v = value(X509_STATUS_OK, "x"), out;
	cert_cache_insert(c, &a.key, &v);
	cr_expect_not(cert_cache_lookup(c, &a.key, &out));
	struct cert_cache_stats s = stats(c);
	cr_expect_eq(s.entries, 0);
	cr_expect_eq(s.misses, 1);
	cert_cache_free(c);
}

Test(cert_cache, a_key_it_cannot_hold_is_never_stored)
{
	struct cert_cache *c = cert_cache_new(4);
	cr_assert_not_null(c);
	struct chain a;
	chain(&a, 1, 1, "a");
	a.sha[0][10] = '\0'; /* not a SHA-256 */
	struct cert_cache_value v = value(X509_STATUS_OK, "x"), out;
	cert_cache_insert(c, &a.key, &v);
	cr_expect_not(cert_cache_lookup(c, &a.key, &out));
	chain(&a, 0, 1, "a"); /* no certificate */
	cert_cache_insert(c, &a.key, &v);
	cr_expect_not(cert_cache_lookup(c, &a.key, &out));
	cr_expect_eq(stats(c).entries, 0);
	cert_cache_free(c);
}

Test(cert_cache, the_window_leaves_both_its_ends_to_openssl)
{
	struct x509_window w = {true, 100, 200};
	cr_expect_not(x509_window_contains(&w, 99));
	cr_expect_not(x509_window_contains(&w, 100));
	cr_expect(x509_window_contains(&w, 101));
	cr_expect(x509_window_contains(&w, 199));
	cr_expect_not(x509_window_contains(&w, 200));
	w.known = false;
	cr_expect_not(x509_window_contains(&w, 150));
}

/* Four threads share one cache, as workers will: each inserts and looks up its own chains and the others'.
 * Every hit must give back the entry stored for that key, whole; the counters must add up. Run under
 * ThreadSanitizer too (the cache's mutex is the only synchronisation). */
enum { SHARED_THREADS = 4, SHARED_ROUNDS = 2000, SHARED_KEYS = 24 };

static void *share_cache(void *arg)
{
	struct cert_cache *c = arg;
	for (unsigned i = 0; i < SHARED_ROUNDS; i++) {
		unsigned k =
		    (i / 4 * 7u) % SHARED_KEYS; /* each key four times in a row: hits, and evictions */
		struct chain ch;
		char cn[16];
		chain(&ch, 1 + k % 3, k * 10, "mx.example.net");
		snprintf(cn, sizeof cn, "mx%u", k);
		struct cert_cache_value out;
		if (cert_cache_lookup(c, &ch.key, &out)) {
			if (strcmp(out.leaf.subject_cn, cn) != 0 || out.status != X509_STATUS_OK)
				return (void *)1;
		} else {
			struct cert_cache_value v = value(X509_STATUS_OK, cn);
			cert_cache_insert(c, &ch.key, &v);
		}
		if (i % 500 == 499)
			cert_cache_clear(c);
	}
	return NULL;
}

Test(cert_cache, threads_sharing_one_cache_each_get_back_whole_entries)
{
	struct cert_cache *c = cert_cache_new(16);
	cr_assert_not_null(c);
	pthread_t t[SHARED_THREADS];
	for (int i = 0; i < SHARED_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, share_cache, c), 0);
	for (int i = 0; i < SHARED_THREADS; i++) {
		void *bad = NULL;
		pthread_join(t[i], &bad);
		cr_expect_null(bad, "thread %d saw an entry that was not the one stored for its key", i);
	}
	struct cert_cache_stats s = stats(c);
	cr_expect_eq(s.hits + s.misses, (uint64_t)SHARED_THREADS * SHARED_ROUNDS);
	cr_expect_leq(s.entries, 16);
	cr_expect_gt(s.hits, 0);
	cr_expect_gt(s.evictions, 0);
	cert_cache_free(c);
}
