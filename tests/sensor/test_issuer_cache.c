/*
 * test_issuer_cache.c: the decoded intermediates alone (issuer_cache.h): a hit hands
 * out a reference that outlives eviction and the cache itself, the entry bound with
 * least-recently-used eviction, the memory charged, clear, 0 entries, and threads
 * sharing one cache. The certificates are the fixture CA and leaves, decoded through
 * x509.h; that the verdicts do not change is tested through the inspector.
 */
#include "sensor/app/issuer_cache.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fixture certificate decoded through a one-certificate chain; *der_len its DER length. */
static struct x509_cert *decoded(const char *name, size_t *der_len)
{
	char rel[256];
	snprintf(rel, sizeof rel, "tests/fixtures/x509/%s", name);
	size_t len = 0;
	uint8_t *der = test_read_file(test_source_path(rel), &len);
	cr_assert_not_null(der, "%s unreadable", rel);
	const uint8_t *chain[] = {der};
	struct x509_chain *c = x509_chain_new(chain, &len, 1);
	cr_assert_not_null(c);
	struct x509_info info;
	cr_assert_eq(x509_chain_parse_leaf(c, &info), 0, "%s", rel);
	struct x509_cert *cert = x509_chain_decoded(c, 0);
	cr_assert_not_null(cert);
	x509_chain_free(c); /* the reference outlives the chain and its DER */
	free(der);
	*der_len = len;
	return cert;
}

static void key(char out[65], unsigned seed)
{
	snprintf(out, 65, "%08X", seed);
	memset(out + 8, 'B', 56);
	out[64] = '\0';
}

static struct issuer_cache_stats stats(struct issuer_cache *c)
{
	struct issuer_cache_stats s;
	issuer_cache_get_stats(c, &s);
	return s;
}

Test(issuer_cache, a_miss_then_a_hit_hands_out_the_same_certificate)
{
	struct issuer_cache *c = issuer_cache_new(4);
	size_t len;
	struct x509_cert *cert = decoded("intermediate.der", &len);
	char k[65];
	key(k, 1);
	cr_expect_null(issuer_cache_get(c, k));
	issuer_cache_put(c, k, cert, len);
	struct x509_cert *got = issuer_cache_get(c, k);
	cr_expect_eq(got, cert);
	struct issuer_cache_stats s = stats(c);
	cr_expect_eq(s.hits, 1);
	cr_expect_eq(s.misses, 1);
	cr_expect_eq(s.entries, 1);
	cr_expect_geq(s.bytes, x509_cert_bytes(len));
	x509_cert_free(got);
	x509_cert_free(cert);
	issuer_cache_free(c);
}

Test(issuer_cache, a_certificate_handed_out_outlives_its_eviction_and_the_cache)
{
	struct issuer_cache *c = issuer_cache_new(1);
	size_t len, len2;
	struct x509_cert *a = decoded("intermediate.der", &len), *b = decoded("root.der", &len2);
	char ka[65], kb[65];
	key(ka, 1);
	key(kb, 2);
	issuer_cache_put(c, ka, a, len);
	x509_cert_free(a);
	struct x509_cert *held = issuer_cache_get(c, ka);
	cr_assert_not_null(held);
	issuer_cache_put(c, kb, b, len2); /* evicts ka */
	x509_cert_free(b);
	cr_expect_null(issuer_cache_get(c, ka));
	cr_expect_eq(stats(c).evictions, 1);
	issuer_cache_free(c);
	/* Still a whole certificate: a chain takes it and parses it (under ASan, a use after free would
	 * show). */
	size_t dummy_len = 1;
	const uint8_t dummy = 0;
	const uint8_t *chain[] = {&dummy};
	struct x509_chain *ch = x509_chain_new(chain, &dummy_len, 1);
	x509_chain_set_decoded(ch, 0, held);
	struct x509_info info;
	cr_expect_eq(x509_chain_parse_leaf(ch, &info), 0);
	cr_expect_str_eq(info.subject_cn, "tlsobs Test Intermediate CA");
	x509_chain_free(ch);
	x509_cert_free(held);
}

Test(issuer_cache, it_holds_at_most_its_bound_and_evicts_the_least_recently_used)
{
	struct issuer_cache *c = issuer_cache_new(3);
	size_t len;
	struct x509_cert *cert = decoded("intermediate.der", &len);
	char k[8][65];
	for (unsigned i = 0; i < 8; i++)
		key(k[i], i);
	for (unsigned i = 0; i < 3; i++)
		issuer_cache_put(c, k[i], cert, len);
	uint64_t full = stats(c).bytes;
	x509_cert_free(issuer_cache_get(c, k[0])); /* k[1] is now the least recently used */
	issuer_cache_put(c, k[3], cert, len);
	struct x509_cert *got;
	cr_expect_null(got = issuer_cache_get(c, k[1]));
	cr_expect_not_null(got = issuer_cache_get(c, k[0]));
	x509_cert_free(got);
	for (unsigned i = 4; i < 8; i++)
		issuer_cache_put(c, k[i], cert, len);
	struct issuer_cache_stats s = stats(c);
	cr_expect_eq(s.entries, 3);
	cr_expect_eq(s.evictions, 5);
	cr_expect_eq(s.bytes, full);
	issuer_cache_clear(c);
	s = stats(c);
	cr_expect_eq(s.entries, 0);
	cr_expect_eq(s.evictions, 5, "clear keeps the counters");
	cr_expect_lt(s.bytes, full);
	x509_cert_free(cert);
	issuer_cache_free(c);
}

Test(issuer_cache, putting_a_key_it_holds_keeps_one_entry)
{
	struct issuer_cache *c = issuer_cache_new(3);
	size_t len;
	struct x509_cert *cert = decoded("intermediate.der", &len);
	char k[65];
	key(k, 7);
	issuer_cache_put(c, k, cert, len);
	issuer_cache_put(c, k, cert, len);
	cr_expect_eq(stats(c).entries, 1);
	x509_cert_free(cert);
	issuer_cache_free(c);
}

Test(issuer_cache, zero_entries_is_off_and_a_bad_key_is_never_stored)
{
	struct issuer_cache *off = issuer_cache_new(0), *c = issuer_cache_new(2);
	size_t len;
	struct x509_cert *cert = decoded("intermediate.der", &len);
	char k[65];
	key(k, 1);
	issuer_cache_put(off, k, cert, len);
	cr_expect_null(issuer_cache_get(off, k));
	cr_expect_eq(stats(off).entries, 0);
	issuer_cache_put(c, "ABC", cert, len); /* not 64 digits */
	issuer_cache_put(c, k, NULL, len);
	cr_expect_eq(stats(c).entries, 0);
	cr_expect_null(issuer_cache_get(c, "ABC"));
	cr_expect_null(issuer_cache_get(c, NULL));
	x509_cert_free(cert);
	issuer_cache_free(off);
	issuer_cache_free(c);
	issuer_cache_free(NULL);
}

struct worker_arg {
	struct issuer_cache *c;
	struct x509_cert *cert;
	size_t len;
	unsigned seed;
	unsigned bad;
};

static void *worker(void *p)
{
	struct worker_arg *a = p;
	char k[65];
	for (unsigned i = 0; i < 2000; i++) {
		key(k, a->seed * 100000 + i % 40);
		struct x509_cert *got = issuer_cache_get(a->c, k);
		if (got == NULL)
			issuer_cache_put(a->c, k, a->cert, a->len);
		else if (got != a->cert)
			a->bad++;
		x509_cert_free(got);
	}
	return NULL;
}

Test(issuer_cache, threads_sharing_one_cache_each_get_back_what_they_put)
{
	struct issuer_cache *c = issuer_cache_new(64);
	struct worker_arg args[4];
	pthread_t th[4];
	for (unsigned t = 0; t < 4; t++) {
		args[t] = (struct worker_arg){c, NULL, 0, t, 0};
		args[t].cert = decoded(t % 2 ? "root.der" : "intermediate.der", &args[t].len);
		cr_assert_eq(pthread_create(&th[t], NULL, worker, &args[t]), 0);
	}
	for (unsigned t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		cr_expect_eq(args[t].bad, 0);
	}
	struct issuer_cache_stats s = stats(c);
	cr_expect_leq(s.entries, 64);
	cr_expect_eq(s.hits + s.misses, 8000);
	issuer_cache_free(c);
	for (unsigned t = 0; t < 4; t++)
		x509_cert_free(args[t].cert);
}
