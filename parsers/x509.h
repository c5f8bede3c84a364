/*
 * x509.h: server certificates, through OpenSSL (RFC 5280; RFC 6125 for names).
 *
 * The only file that uses OpenSSL's X.509 code: no ASN.1 is parsed by hand.
 * x509_parse() turns one DER certificate into the plain fields our events
 * carry; x509_validate() checks a chain as the server presented it against a
 * CA bundle at a given time (packet time, so replays give the same answer)
 * and the leaf against the expected mail server name.
 */
#ifndef TLSOBS_X509_H
#define TLSOBS_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	X509_NAME_MAX = 512,
	X509_FIELD_MAX = 256,
	X509_MAX_SANS = 32,
	X509_MAX_CHAIN = 10,
};

struct x509_info {
	char sha256[65], sha1[41]; /* uppercase hex of the DER */
	char spki_sha256[65];      /* uppercase hex, SHA-256 of SubjectPublicKeyInfo (DANE selector 1) */
	char subject[X509_NAME_MAX],
	    issuer[X509_NAME_MAX]; /* RFC 4514 strings, e.g. "CN=mx1.example.net,O=Example" */
	char subject_cn[X509_FIELD_MAX], subject_org[X509_FIELD_MAX];
	char issuer_cn[X509_FIELD_MAX], issuer_org[X509_FIELD_MAX];
	char san_dns[X509_MAX_SANS][X509_FIELD_MAX]; /* DNS subjectAltNames, in order */
	unsigned san_count;
	bool san_truncated;
	char serial[X509_FIELD_MAX];   /* uppercase hex, no separators */
	char signature_algorithm[64];  /* e.g. "sha256WithRSAEncryption" */
	char public_key_algorithm[32]; /* "RSA", "EC", "ED25519", ... */
	unsigned public_key_size;      /* bits */
	char public_key_curve[32];     /* "prime256v1", ... ; "" when not EC */
	int version_number;            /* 3 for X.509v3 */
	int64_t not_before, not_after; /* seconds since the epoch */
	bool self_issued;              /* subject == issuer */
};

/* 0, or -1 when the DER is not a certificate OpenSSL can read. */
int x509_parse(const uint8_t *der, size_t len, struct x509_info *out);

/*
 * The DER of the certificate's SubjectPublicKeyInfo (RFC 5280 4.1; DANE
 * selector 1, RFC 6698 2.1.2) into out[0..cap): 0 with *outlen its length.
 * -1 with *outlen 0 when the DER is not a certificate; -1 with *outlen the
 * length needed when cap is too small (out may be NULL with cap 0 to ask).
 */
int x509_spki_der(const uint8_t *der, size_t len, uint8_t *out, size_t cap, size_t *outlen);

#ifdef TLSOBS_JA4_FOXIO
/*
 * JA4X (FoxIO License 1.1, technical_details/JA4X.md; built only with
 * -DTLSOBS_JA4_FOXIO=ON): sha256/12 of the issuer's attribute type OIDs, of the
 * subject's, and of the extension OIDs, each list in certificate order as the
 * hex of the OIDs' content octets joined by ','; twelve zeros for an empty
 * list; the three joined by '_'. false (and "") when the DER is no certificate.
 */
enum { X509_JA4X_LEN = 38 }; /* 7d5dbb3783b4_ba7ce0880c07_7bf9a7bf7029 */
bool x509_ja4x(const uint8_t *der, size_t len, char out[X509_JA4X_LEN + 1]);
#endif

enum x509_status {
	X509_STATUS_OK,
	X509_STATUS_EXPIRED,
	X509_STATUS_NOT_YET_VALID,
	X509_STATUS_SELF_SIGNED,
	X509_STATUS_UNTRUSTED,
	X509_STATUS_HOST_MISMATCH,
	X509_STATUS_NOT_VISIBLE, /* TLS 1.3 or resumed: no certificate in clear */
};
const char *x509_status_str(enum x509_status s); /* "ok", "expired", ... */

struct x509_validator;

/* ca_file NULL: the system store. NULL with a message in err when the bundle cannot be loaded. */
struct x509_validator *x509_validator_new(const char *ca_file, char *err, size_t errlen);
void x509_validator_free(struct x509_validator *v);

/*
 * Validates chain[0] (the leaf) with the others as untrusted intermediates, at
 * time `at` (seconds since the epoch), and the leaf against `hostname` (RFC 6125
 * DNS-ID with a left-most wildcard; NULL or "" skips the name check). Chain
 * problems win over a name mismatch: an expired certificate is "expired".
 */
enum x509_status x509_validate(struct x509_validator *v, const uint8_t *const *chain, const size_t *lens,
                               unsigned n, const char *hostname, int64_t at);

/*
 * A chain as presented, each DER decoded at most once (issue 15: OpenSSL 3.0
 * builds a public-key decoder for every d2i_X509), so that parsing the leaf and
 * validating the chain share the same X509 objects. Borrows the DER, which must
 * outlive it. x509_parse() and x509_validate() are this, for one call.
 */
struct x509_chain;
/* NULL only when out of memory; n is cut to X509_MAX_CHAIN. */
struct x509_chain *x509_chain_new(const uint8_t *const *chain, const size_t *lens, unsigned n);
void x509_chain_free(struct x509_chain *c);
/* x509_parse() of the leaf. */
int x509_chain_parse_leaf(struct x509_chain *c, struct x509_info *out);

/*
 * A decoded certificate that may outlive its chain, so that an intermediate
 * seen again is not decoded again (issue 15). Reference-counted; read-only
 * once decoded, so threads may share it.
 */
struct x509_cert;
/* Certificate i as decoded so far: a new reference (x509_cert_free), NULL when not decoded (or no
 * certificate). */
struct x509_cert *x509_chain_decoded(struct x509_chain *c, unsigned i);
/* Gives certificate i a decoded copy of the same DER (matched by its SHA-256), so it is not decoded; the
 * chain takes its own reference. */
void x509_chain_set_decoded(struct x509_chain *c, unsigned i, struct x509_cert *cert);
/* A new reference to the same certificate (NULL only if cert is NULL). */
struct x509_cert *x509_cert_dup(struct x509_cert *cert);
void x509_cert_free(struct x509_cert *cert);
/* About the heap bytes a certificate of der_len bytes takes once decoded (OpenSSL 3.0, measured). */
size_t x509_cert_bytes(size_t der_len);

/*
 * The span of packet times around the validation time over which no
 * certificate of the chain OpenSSL built (the presented certificates it used
 * and the trust anchor) passes one of its notBefore or notAfter: every time
 * check of RFC 5280 6.1.3 (a)(2) gives the same answer inside it, so the status
 * found at one time inside it holds at any other time inside it. When the whole
 * chain was valid, it is the chain's validity window (the latest notBefore to
 * the earliest notAfter); after a notAfter it runs to the next one. known is
 * false when no chain was built (a certificate that does not decode).
 */
struct x509_window {
	bool known;
	int64_t from, until; /* seconds since the epoch */
};
/* x509_validate() of the chain; *window (may be NULL) gets the span its status holds for. */
enum x509_status x509_chain_validate(struct x509_validator *v, struct x509_chain *c, const char *hostname,
                                     int64_t at, struct x509_window *window);
/* True when `at` lies strictly inside the window (its ends are left to OpenSSL). */
bool x509_window_contains(const struct x509_window *w, int64_t at);

#endif
