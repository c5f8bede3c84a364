/*
 * tls_inspect.c: fingerprints, certificate parsing and chain validation of a finished handshake
 * (tls_inspect.h). Owns the validator (the CA store).
 */
#include "sensor/app/tls_inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/digest.h"
#include "parsers/smtp.h"

struct tls_inspector {
	struct x509_validator *validator;
};

struct tls_inspector *tls_inspector_new(const char *ca_file, char *err, size_t errlen)
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
	return ti;
}

void tls_inspector_free(struct tls_inspector *ti)
{
	if (!ti)
		return;
	x509_validator_free(ti->validator);
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
		tls_ja3_string(t, fp->ja3_string);
		tls_ja3(t, fp->ja3);
		tls_ja4(t, fp->ja4);
	}
	if (t->server_hello_seen) {
		tls_ja3s_string(t, fp->ja3s_string);
		tls_ja3s(t, fp->ja3s);
#ifdef TLSOBS_JA4_FOXIO
		tls_ja4s(t, fp->ja4s);
		if (t->certificate_visible && t->cert_count > 0)
			x509_ja4x(t->cert_der[0], t->cert_len[0], fp->ja4x);
#endif
	}
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
	c->parsed = x509_parse(t->cert_der[0], t->cert_len[0], &c->leaf) == 0;
	/* A parsed leaf carries its DER's SHA-256 already; one that does not parse is still hashed. */
	_Static_assert(sizeof c->leaf.sha256 == sizeof c->chain_sha256[0], "one hex SHA-256 size");
	for (unsigned i = 0; i < c->chain_count; i++) {
		if (i == 0 && c->parsed)
			memcpy(c->chain_sha256[0], c->leaf.sha256, sizeof c->chain_sha256[0]);
		else
			digest_sha256_hex(t->cert_der[i], t->cert_len[i], c->chain_sha256[i], true);
	}
	int64_t at = (int64_t)(s->start_us / 1000000u);
	c->status = x509_validate(ti->validator, t->cert_der, t->cert_len, c->chain_count, c->name, at);
	c->validated = true;
}
