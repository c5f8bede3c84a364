/*
 * test_x509_store.c: the system store (x509_validator_new(NULL)) read from the
 * hashed directory on demand (issue 15) when it holds the bundle's CAs, and from
 * the bundle otherwise, with the same verdicts either way.
 *
 * Each test builds a store in a temporary directory the way update-ca-certificates
 * does (a bundle file and a "<subject hash>.0" link per CA) from the fixtures of
 * tests/fixtures/x509, and points SSL_CERT_FILE and SSL_CERT_DIR at it (each
 * Criterion test runs in its own process).
 */
#include "parsers/x509.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

static const int64_t T_2030 = 1893456000;

struct store {
	char dir[64], bundle[128], link[128];
};

static char *fixture_path(const char *name)
{
	static char rel[8][256];
	static unsigned next;
	char *r = rel[next++ % 8];
	snprintf(r, 256, "tests/fixtures/x509/%s", name);
	return (char *)test_source_path(r);
}

static void append_file(FILE *out, const char *name)
{
	size_t len = 0;
	uint8_t *pem = test_read_file(fixture_path(name), &len);
	cr_assert_not_null(pem);
	cr_assert_eq(fwrite(pem, 1, len, out), len);
	free(pem);
}

/* A bundle of `in_bundle` PEM fixtures, and a hashed link to the first one only. */
static void store_make(struct store *s, const char *const *in_bundle, unsigned n)
{
	snprintf(s->dir, sizeof s->dir, "/tmp/tlsobs-x509store-XXXXXX");
	cr_assert_not_null(mkdtemp(s->dir));
	snprintf(s->bundle, sizeof s->bundle, "%s/ca-certificates.crt", s->dir);
	FILE *f = fopen(s->bundle, "w");
	cr_assert_not_null(f);
	for (unsigned i = 0; i < n; i++)
		append_file(f, in_bundle[i]);
	fclose(f);
	FILE *pem = fopen(fixture_path(in_bundle[0]), "r");
	cr_assert_not_null(pem);
	X509 *x = PEM_read_X509(pem, NULL, NULL, NULL);
	fclose(pem);
	cr_assert_not_null(x);
	snprintf(s->link, sizeof s->link, "%s/%08lx.0", s->dir, X509_subject_name_hash(x));
	X509_free(x);
	cr_assert_eq(symlink(fixture_path(in_bundle[0]), s->link), 0);
	setenv("SSL_CERT_FILE", s->bundle, 1);
	setenv("SSL_CERT_DIR", s->dir, 1);
}

static void store_remove(struct store *s)
{
	unlink(s->link);
	unlink(s->bundle);
	rmdir(s->dir);
}

static enum x509_status validate(struct x509_validator *v, const char *leaf, const char *inter,
                                 const char *host)
{
	size_t len[2] = {0, 0};
	uint8_t *der[2] = {test_read_file(fixture_path(leaf), &len[0]),
	                   inter ? test_read_file(fixture_path(inter), &len[1]) : NULL};
	cr_assert_not_null(der[0]);
	const uint8_t *chain[2] = {der[0], der[1]};
	enum x509_status st = x509_validate(v, chain, len, inter ? 2 : 1, host, T_2030);
	free(der[0]);
	free(der[1]);
	return st;
}

static struct x509_validator *system_store(void)
{
	char err[256] = "";
	struct x509_validator *v = x509_validator_new(NULL, err, sizeof err);
	cr_assert_not_null(v, "%s", err);
	return v;
}

Test(x509_store, the_hashed_directory_gives_the_verdicts_of_the_bundle)
{
	struct store s;
	store_make(&s, (const char *const[]){"root.pem"}, 1);
	char err[256] = "";
	struct x509_validator *dir = system_store(), *file = x509_validator_new(s.bundle, err, sizeof err);
	cr_assert_not_null(file, "%s", err);
	const struct {
		const char *leaf, *inter, *host;
		enum x509_status want;
	} cases[] = {
	    {"leaf-rsa.der", "intermediate.der", "mx1.example.net", X509_STATUS_OK},
	    {"leaf-ec.der", "intermediate.der", "mx2.example.net", X509_STATUS_OK},
	    {"leaf-rsa.der", "intermediate.der", "other.example.net", X509_STATUS_HOST_MISMATCH},
	    {"expired.der", "intermediate.der", "mx1.example.net", X509_STATUS_EXPIRED},
	    {"wronghost.der", "intermediate.der", "mx1.example.net", X509_STATUS_HOST_MISMATCH},
	    {"selfsigned.der", NULL, "mx1.example.net", X509_STATUS_SELF_SIGNED},
	    {"leaf-rsa.der", NULL, "mx1.example.net", X509_STATUS_UNTRUSTED},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum x509_status a = validate(dir, cases[i].leaf, cases[i].inter, cases[i].host);
		enum x509_status b = validate(file, cases[i].leaf, cases[i].inter, cases[i].host);
		cr_expect_eq(a, b, "%s: directory %s, bundle %s", cases[i].leaf, x509_status_str(a),
		             x509_status_str(b));
		cr_expect_eq(b, cases[i].want, "%s: %s", cases[i].leaf, x509_status_str(b));
	}
	x509_validator_free(dir);
	x509_validator_free(file);
	store_remove(&s);
}

Test(x509_store, a_ca_is_read_from_the_directory_when_a_chain_first_needs_it)
{
	struct store s;
	store_make(&s, (const char *const[]){"root.pem"}, 1);
	struct x509_validator *v = system_store();
	/* Nothing was read at start: without its link the root is unknown, although the bundle holds it. */
	cr_assert_eq(unlink(s.link), 0);
	cr_expect_eq(validate(v, "leaf-rsa.der", "intermediate.der", "mx1.example.net"),
	             X509_STATUS_UNTRUSTED);
	x509_validator_free(v);
	store_remove(&s);
}

Test(x509_store, once_read_a_ca_stays_in_the_store)
{
	struct store s;
	store_make(&s, (const char *const[]){"root.pem"}, 1);
	struct x509_validator *v = system_store();
	cr_expect_eq(validate(v, "leaf-rsa.der", "intermediate.der", "mx1.example.net"), X509_STATUS_OK);
	cr_assert_eq(unlink(s.link), 0);
	cr_expect_eq(validate(v, "leaf-ec.der", "intermediate.der", "mx2.example.net"), X509_STATUS_OK);
	x509_validator_free(v);
	store_remove(&s);
}

Test(x509_store, a_directory_that_does_not_hold_the_bundles_cas_is_not_used)
{
	struct store s;
	/* Two CAs in the bundle, one link: not the same list, so the bundle is read whole at start. */
	store_make(&s, (const char *const[]){"root.pem", "other-root.pem"}, 2);
	struct x509_validator *v = system_store();
	cr_assert_eq(unlink(s.link), 0);
	cr_expect_eq(validate(v, "leaf-rsa.der", "intermediate.der", "mx1.example.net"), X509_STATUS_OK);
	x509_validator_free(v);
	store_remove(&s);
}

Test(x509_store, a_bundle_outside_the_directory_is_read_whole)
{
	struct store s;
	store_make(&s, (const char *const[]){"root.pem"}, 1);
	char elsewhere[128];
	snprintf(elsewhere, sizeof elsewhere, "%s.bundle", s.dir);
	cr_assert_eq(rename(s.bundle, elsewhere), 0);
	setenv("SSL_CERT_FILE", elsewhere, 1);
	struct x509_validator *v = system_store();
	cr_assert_eq(unlink(s.link), 0);
	cr_expect_eq(validate(v, "leaf-rsa.der", "intermediate.der", "mx1.example.net"), X509_STATUS_OK);
	x509_validator_free(v);
	unlink(elsewhere);
	store_remove(&s);
}
