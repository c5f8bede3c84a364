/*
 * tls_inspect.c: fingerprints, certificate parsing and chain validation of a finished handshake
 * (tls_inspect.h). Owns the validator (the CA store, built once) and the certificate cache
 * (cert_cache.h) whose answers hold only for that store: a new store comes with a new inspector; and the
 * decoded intermediates (issuer_cache.h), which hold for any store.
 */
#include "sensor/app/tls_inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/digest.h"
#include "parsers/smtp.h"
#include "sensor/app/cert_cache.h"
#include "sensor/app/issuer_cache.h"

struct tls_inspector {
	struct x509_validator *validator;
	struct cert_cache *cache;
	struct issuer_cache *issuers;
};

struct tls_inspector *tls_inspector_new(const char *ca_file, unsigned cache_entries, char *err, size_t errlen)
{
	struct tls_inspector *ti = calloc(1, sizeof *ti);
	if (!ti) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ti->validator = x509_validator_new(ca_file, err, errlen);
	if (!ti->validator) {
		free(ti);
		return NULL;
	}
	ti->cache = cert_cache_new(cache_entries);
	ti->issuers =
	    issuer_cache_new(cache_entries < ISSUER_CACHE_ENTRIES ? cache_entries : ISSUER_CACHE_ENTRIES);
	if (!ti->cache || !ti->issuers) {
		snprintf(err, errlen, "out of memory");
		tls_inspector_free(ti);
		return NULL;
	}
	return ti;
}

void tls_inspector_clear_cache(struct tls_inspector *ti)
{
	cert_cache_clear(ti->cache);
}

void tls_inspector_cache_stats(struct tls_inspector *ti, struct cert_cache_stats *out)
{
	cert_cache_get_stats(ti->cache, out);
}

void tls_inspector_issuer_stats(struct tls_inspector *ti, struct issuer_cache_stats *out)
{
	issuer_cache_get_stats(ti->issuers, out);
}

void tls_inspector_free(struct tls_inspector *ti)
{
	if (!ti)
		return;
	x509_validator_free(ti->validator);
	cert_cache_free(ti->cache);
	issuer_cache_free(ti->issuers);
	free(ti);
}

/* The name the certificate must match, and where it came from. */
static void expected_name(const struct session *s, struct session_certificate *c)
{
	const struct tls_observation *t = s->tls;
	if (t->client_hello_seen && t->ch.sni[0] && strlen(t->ch.sni) < sizeof c->name) {
		snprintf(c->name, sizeof c->name, "%s", t->ch.sni);
		c->name_source = SESSION_NAME_SNI;
	} else if (s->smtp && smtp_greeting_host(s->smtp->banner, c->name, sizeof c->name) == 0) {
		c->name_source = SESSION_NAME_BANNER;
	} else if (s->smtp && smtp_greeting_host(s->smtp->caps.raw, c->name, sizeof c->name) == 0) {
		c->name_source = SESSION_NAME_EHLO_GREETING;
	}
}

static void fingerprints(const struct tls_observation *t, struct session_fingerprints *fp)
{
	if (t->client_hello_seen) {
		tls_ja3_both(t, fp->ja3_string, fp->ja3);
		tls_ja4(t, fp->ja4);
	}
	if (t->server_hello_seen) {
		tls_ja3s_both(t, fp->ja3s_string, fp->ja3s);
#ifdef TLSOBS_JA4_FOXIO
		tls_ja4s(t, fp->ja4s);
		if (t->certificate_visible && t->cert_count > 0)
			x509_ja4x(t->cert_der[0], t->cert_len[0], fp->ja4x);
#endif
	}
}

/* The chain's intermediates from the issuer cache, decoded ones not found there after the validation. */
static void issuers_in(struct tls_inspector *ti, struct x509_chain *chain,
                       const struct session_certificate *c)
{
	for (unsigned i = 1; i < c->chain_count; i++) {
		struct x509_cert *cert = issuer_cache_get(ti->issuers, c->chain_sha256[i]);
		x509_chain_set_decoded(chain, i, cert);
		x509_cert_free(cert);
	}
}

static void issuers_out(struct tls_inspector *ti, const struct tls_observation *t, struct x509_chain *chain,
                        const struct session_certificate *c)
{
	for (unsigned i = 1; i < c->chain_count; i++) {
		struct x509_cert *cert = x509_chain_decoded(chain, i);
		if (cert)
			issuer_cache_put(ti->issuers, c->chain_sha256[i], cert, t->cert_len[i]);
		x509_cert_free(cert);
	}
}

/*
 * The leaf's fields and the chain's status at `at`: from the cache when it holds the chain and `at` lies
 * inside the span its status holds for; else each DER decoded once, for the parse and the validation.
 */
static void check_chain(struct tls_inspector *ti, const struct tls_observation *t,
                        struct session_certificate *c, int64_t at)
{
	const struct cert_cache_key key = {c->chain_count, (const char(*)[65])c->chain_sha256, c->name};
	struct cert_cache_value v;
	bool hit = cert_cache_lookup(ti->cache, &key, &v);
	if (hit && x509_window_contains(&v.window, at)) {
		c->parsed = v.parsed;
		c->leaf = v.leaf; /* all zero when it did not parse, as x509_parse leaves it */
		c->status = v.status;
		return;
	}
	struct x509_chain *chain = x509_chain_new(t->cert_der, t->cert_len, c->chain_count);
	if (chain)
		issuers_in(ti, chain, c);
	if (hit) { /* the leaf is known; only the status at this time is not */
		c->parsed = v.parsed;
		c->leaf = v.leaf;
	} else if (chain) {
		c->parsed = x509_chain_parse_leaf(chain, &c->leaf) == 0;
	} else { /* out of memory */
		c->parsed = false;
		memset(&c->leaf, 0, sizeof c->leaf);
	}
	struct x509_window window;
	c->status =
	    chain ? x509_chain_validate(ti->validator, chain, c->name, at, &window) : X509_STATUS_UNTRUSTED;
	if (chain)
		issuers_out(ti, t, chain, c);
	x509_chain_free(chain);
	if (!chain)
		return;
	/* Kept with its span; after a hit outside the old span, replaced only by a status that has one. */
	v = (struct cert_cache_value){
	    .parsed = c->parsed, .leaf = c->leaf, .status = c->status, .window = window};
	if (!x509_window_contains(&window, at))
		v.window.known = false;
	if (!hit || v.window.known)
		cert_cache_insert(ti->cache, &key, &v);
}

void tls_inspect_session(struct tls_inspector *ti, struct session *s)
{
	const struct tls_observation *t = s->tls;
	struct session_certificate *c = &s->certificate;
	if (!t)
		return;
	fingerprints(t, &s->fingerprints);
	if (!t->server_hello_seen)
		return;
	expected_name(s, c);
	if (!t->certificate_visible || t->cert_count == 0) {
		/* TLS 1.3 encrypts the certificate and a resumed session sends none: say so, never guess. */
		if (tls_version_is_13(t->version) || t->resumed) {
			c->validated = true;
			c->status = X509_STATUS_NOT_VISIBLE;
		}
		return;
	}
	c->chain_count = t->cert_count < X509_MAX_CHAIN ? t->cert_count : X509_MAX_CHAIN;
	for (unsigned i = 0; i < c->chain_count; i++)
		digest_sha256_hex(t->cert_der[i], t->cert_len[i], c->chain_sha256[i], true);
	int64_t at = (int64_t)(s->start_us / 1000000u);
	check_chain(ti, t, c, at);
	c->validated = true;
}
