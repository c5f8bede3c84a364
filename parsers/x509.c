/*
 * x509.c: server certificates through OpenSSL 3 (RFC 5280; RFC 6125 for names).
 *
 *   Certificate  ::=  SEQUENCE  {
 *        tbsCertificate       TBSCertificate,   -- version, serial, signature, issuer,
 *                                               -- validity, subject, subjectPublicKeyInfo,
 *                                               -- extensions (subjectAltName ...)
 *        signatureAlgorithm   AlgorithmIdentifier,
 *        signatureValue       BIT STRING  }
 *
 * OpenSSL does all the ASN.1; this file copies what it decoded into bounded,
 * NUL-terminated fields. Every string that comes from the certificate goes
 * through copy_text(), which keeps valid UTF-8, turns control characters and
 * stray bytes into '?', and never cuts a character in two, so a hostile name
 * cannot smuggle terminal escapes or broken UTF-8 into logs. OpenSSL's error
 * queue is cleared before returning: hostile input is data, not an error.
 */
#include "parsers/x509.h"
#include "parsers/civil_time.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "parsers/digest.h"
#include "parsers/digest_evp.h"
#include "parsers/utf8.h"

struct x509_validator {
	X509_STORE *store;
};

const char *x509_status_str(enum x509_status s)
{
	switch (s) {
	case X509_STATUS_OK:
		return "ok";
	case X509_STATUS_EXPIRED:
		return "expired";
	case X509_STATUS_NOT_YET_VALID:
		return "not_yet_valid";
	case X509_STATUS_SELF_SIGNED:
		return "self_signed";
	case X509_STATUS_UNTRUSTED:
		return "untrusted";
	case X509_STATUS_HOST_MISMATCH:
		return "host_mismatch";
	case X509_STATUS_NOT_VISIBLE:
		return "not_visible";
	}
	return "unknown";
}

/*
 * Length of the well-formed UTF-8 character at s (utf8.h), 1..4, or 0 when s[0]
 * starts none; *printable is false for the C0 and C1 controls and DEL.
 */
static size_t text_char(const unsigned char *s, size_t left, bool *printable)
{
	uint32_t cp = 0;
	size_t n = utf8_decode(s, left, &cp);
	*printable = cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f);
	return n;
}

/* Copies wire text into dst[cap] (cap >= 1): whole characters only, one '?' per control or stray byte. */
static void copy_text(char *dst, size_t cap, const void *src, size_t len)
{
	const unsigned char *s = src;
	size_t in = 0, out = 0;
	while (in < len) {
		bool printable;
		size_t n = text_char(s + in, len - in, &printable);
		bool keep = n > 0 && printable;
		size_t w = keep ? n : 1;
		if (out + w > cap - 1)
			break;
		if (keep)
			memcpy(dst + out, s + in, n);
		else
			dst[out] = '?';
		out += w;
		in += n > 0 ? n : 1;
	}
	dst[out] = '\0';
}

/* How many leading bytes of an RFC 4514 string fit in cap - 1 without cutting an escape or a character. */
static size_t dn_cut(const char *s, size_t len, size_t cap)
{
	size_t i = 0;
	while (i < len) {
		size_t n = 1;
		if (s[i] == '\\') {
			bool hex = len - i >= 3 && isxdigit((unsigned char)s[i + 1]) &&
			           isxdigit((unsigned char)s[i + 2]);
			n = hex ? 3 : 2;
		} else {
			bool printable;
			size_t c = text_char((const unsigned char *)s + i, len - i, &printable);
			n = c > 0 ? c : 1;
		}
		if (n > len - i || i + n > cap - 1)
			break;
		i += n;
	}
	return i;
}

/*
 * A name as an RFC 4514 string: XN_FLAG_RFC2253 (reversed RDNs, "," and "+",
 * specials and controls escaped, every string type converted to UTF-8) but
 * without ASN1_STRFLGS_ESC_MSB, so "O=Ünïcödé" stays readable rather than
 * "O=\C3\9Cn..."; RFC 4514 2.4 strings are UTF-8, and copy_text() replaces
 * whatever is not valid UTF-8.
 */
static void name_string(const X509_NAME *name, char *dst, size_t cap)
{
	/* A value OpenSSL cannot print as text (an odd-length BMPString...) fails the first try; the
	 * second prints every value as #hex, which RFC 4514 2.4 also allows. */
	static const unsigned long flags[] = {
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB,
	    (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_DUMP_ALL,
	};
	dst[0] = '\0';
	for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
		BIO *bio = BIO_new(BIO_s_mem());
		if (bio == NULL)
			return;
		if (X509_NAME_print_ex(bio, name, 0, flags[f]) >= 0) {
			char *text = NULL;
			long len = BIO_get_mem_data(bio, &text);
			if (len > 0 && text != NULL)
				copy_text(dst, cap, text, dn_cut(text, (size_t)len, cap));
			BIO_free(bio);
			return;
		}
		BIO_free(bio);
	}
}

/* The last (most specific, RFC 6125 6.4.4) attribute `nid` of a name, as UTF-8 text. */
static void name_attribute(const X509_NAME *name, int nid, char *dst, size_t cap)
{
	int last = -1;
	for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
	     i = X509_NAME_get_index_by_NID(name, nid, i))
		last = i;
	dst[0] = '\0';
	if (last < 0)
		return;
	const ASN1_STRING *value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
	if (value == NULL)
		return;
	unsigned char *utf8 = NULL;
	int len = ASN1_STRING_to_UTF8(&utf8, value);
	if (len >= 0) {
		copy_text(dst, cap, utf8, (size_t)len);
		OPENSSL_free(utf8);
	} else { /* not convertible (a broken BMPString...): its bytes, made safe */
		copy_text(dst, cap, ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value));
	}
}

/* The DNS names of the subjectAltName extension, in order (RFC 5280 4.2.1.6). */
static void san_dns_names(X509 *cert, struct x509_info *out)
{
	/* NULL when absent, undecodable or repeated: then there are none to report. */
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (names == NULL)
		return;
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type != GEN_DNS)
			continue;
		if (out->san_count == X509_MAX_SANS) {
			out->san_truncated = true;
			break;
		}
		const ASN1_IA5STRING *dns = gn->d.dNSName;
		copy_text(out->san_dns[out->san_count++], X509_FIELD_MAX, ASN1_STRING_get0_data(dns),
		          (size_t)ASN1_STRING_length(dns));
	}
	GENERAL_NAMES_free(names);
}

/* Uppercase hex of the serial's magnitude, "-" first when negative, as `openssl x509 -serial`. */
static void serial_hex(const X509 *cert, char *dst, size_t cap)
{
	static const char digits[] = "0123456789ABCDEF";
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
	const unsigned char *bytes = ASN1_STRING_get0_data(serial);
	int n = ASN1_STRING_length(serial);
	size_t out = 0;
	if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER)
		dst[out++] = '-';
	if (n <= 0) {
		dst[out++] = '0';
		dst[out++] = '0';
	}
	/* A serial over (cap - 2) / 2 bytes (RFC 5280 4.1.2.2 allows 20) is cut. */
	for (int i = 0; i < n && out + 2 < cap; i++) {
		dst[out++] = digits[bytes[i] >> 4];
		dst[out++] = digits[bytes[i] & 0x0f];
	}
	dst[out] = '\0';
}

/* An ASN1_TIME (UTCTime or GeneralizedTime, RFC 5280 4.1.2.5) as seconds since the epoch; 0 if unreadable. */
static int64_t asn1_time_seconds(const ASN1_TIME *t)
{
	struct tm tm;
	/* ASN1_TIME_to_tm(NULL, ...) means "now": never pass it NULL. */
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	int64_t days =
	    civil_days_from_date((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
	return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

static void public_key(X509 *cert, struct x509_info *out)
{
	EVP_PKEY *key = X509_get0_pubkey(cert); /* borrowed; NULL for an unknown or broken key */
	if (key == NULL) {
		/* Name the algorithm by its OID so the event still says what it was. */
		ASN1_OBJECT *alg = NULL;
		if (X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, X509_get_X509_PUBKEY(cert)) == 1 && alg)
			OBJ_obj2txt(out->public_key_algorithm, sizeof out->public_key_algorithm, alg, 0);
		return;
	}
	const char *type = EVP_PKEY_get0_type_name(key);
	if (type != NULL)
		copy_text(out->public_key_algorithm, sizeof out->public_key_algorithm, type, strlen(type));
	int bits = EVP_PKEY_get_bits(key);
	out->public_key_size = bits > 0 ? (unsigned)bits : 0;
	if (EVP_PKEY_is_a(key, "EC")) {
		char group[80];
		size_t len = 0;
		if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 && len < sizeof group)
			copy_text(out->public_key_curve, sizeof out->public_key_curve, group, len);
	}
}

/* The certificate in exactly `len` bytes of DER: trailing bytes make it not one. */
static X509 *decode(const uint8_t *der, size_t len)
{
	if (der == NULL || len == 0 || len > LONG_MAX)
		return NULL;
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, (long)len);
	if (cert != NULL && p != der + len) {
		X509_free(cert);
		cert = NULL;
	}
	return cert;
}

/* The fields of `cert`, whose DER is der[0..len). */
static void parse_cert(X509 *cert, const uint8_t *der, size_t len, struct x509_info *out)
{
	digest_sha256_hex(der, len, out->sha256, true);
	digest_sha1_hex(der, len, out->sha1, true);

	unsigned char *spki = NULL;
	int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
	if (spki_len > 0)
		digest_sha256_hex(spki, (size_t)spki_len, out->spki_sha256, true);
	OPENSSL_free(spki);

	const X509_NAME *subject = X509_get_subject_name(cert), *issuer = X509_get_issuer_name(cert);
	name_string(subject, out->subject, sizeof out->subject);
	name_string(issuer, out->issuer, sizeof out->issuer);
	name_attribute(subject, NID_commonName, out->subject_cn, sizeof out->subject_cn);
	name_attribute(subject, NID_organizationName, out->subject_org, sizeof out->subject_org);
	name_attribute(issuer, NID_commonName, out->issuer_cn, sizeof out->issuer_cn);
	name_attribute(issuer, NID_organizationName, out->issuer_org, sizeof out->issuer_org);
	out->self_issued = X509_NAME_cmp(subject, issuer) == 0;

	san_dns_names(cert, out);
	serial_hex(cert, out->serial, sizeof out->serial);

	/* The outer signatureAlgorithm; its long name, or the dotted OID when OpenSSL has no name. */
	const X509_ALGOR *sig_alg = NULL;
	X509_get0_signature(NULL, &sig_alg, cert);
	const ASN1_OBJECT *sig_oid = NULL;
	if (sig_alg != NULL)
		X509_ALGOR_get0(&sig_oid, NULL, NULL, sig_alg);
	if (sig_oid != NULL)
		OBJ_obj2txt(out->signature_algorithm, sizeof out->signature_algorithm, sig_oid, 0);

	public_key(cert, out);
	out->version_number = (int)X509_get_version(cert) + 1;
	out->not_before = asn1_time_seconds(X509_get0_notBefore(cert));
	out->not_after = asn1_time_seconds(X509_get0_notAfter(cert));
}

int x509_parse(const uint8_t *der, size_t len, struct x509_info *out)
{
	struct x509_chain *c = x509_chain_new(&der, &len, 1);
	int rc = c ? x509_chain_parse_leaf(c, out) : -1;
	if (!c)
		memset(out, 0, sizeof *out);
	x509_chain_free(c);
	return rc;
}

int x509_spki_der(const uint8_t *der, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	*outlen = 0;
	X509 *cert = decode(der, len);
	unsigned char *spki = NULL;
	int spki_len = cert ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki) : -1;
	int rc = -1;
	if (spki_len > 0) {
		*outlen = (size_t)spki_len;
		if (out != NULL && *outlen <= cap) {
			memcpy(out, spki, *outlen);
			rc = 0;
		}
	}
	OPENSSL_free(spki);
	X509_free(cert);
	ERR_clear_error();
	return rc;
}

#ifdef TLSOBS_JA4_FOXIO
/* One JA4X list, hashed as it is written so that no list needs a cap. */
struct oid_list {
	EVP_MD_CTX *ctx;
	unsigned count;
	bool failed;
};

static void oid_list_add(struct oid_list *l, const ASN1_OBJECT *obj)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *data = OBJ_get0_data(obj);
	size_t n = OBJ_length(obj);
	if (l->count++ > 0)
		l->failed |= EVP_DigestUpdate(l->ctx, ",", 1) != 1;
	for (size_t i = 0; i < n; i++) {
		char pair[2] = {hex[data[i] >> 4], hex[data[i] & 0x0f]};
		l->failed |= EVP_DigestUpdate(l->ctx, pair, 2) != 1;
	}
}

/* Appends the list's sha256/12 (twelve zeros when empty) at out; false when hashing failed. */
static bool oid_list_end(struct oid_list *l, char out[13])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	l->failed |= EVP_DigestFinal_ex(l->ctx, md, &md_len) != 1 || md_len < 6;
	for (int i = 0; i < 6; i++) {
		out[2 * i] = l->count && !l->failed ? hex[md[i] >> 4] : '0';
		out[2 * i + 1] = l->count && !l->failed ? hex[md[i] & 0x0f] : '0';
	}
	out[12] = '\0';
	return !l->failed;
}

static bool ja4x_name(EVP_MD_CTX *ctx, const X509_NAME *name, char out[13])
{
	struct oid_list l = {ctx, 0, EVP_DigestInit_ex(ctx, digest_evp_sha256(), NULL) != 1};
	for (int i = 0; i < X509_NAME_entry_count(name); i++)
		oid_list_add(&l, X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, i)));
	return oid_list_end(&l, out);
}

static bool ja4x_extensions(EVP_MD_CTX *ctx, const X509 *cert, char out[13])
{
	struct oid_list l = {ctx, 0, EVP_DigestInit_ex(ctx, digest_evp_sha256(), NULL) != 1};
	for (int i = 0; i < X509_get_ext_count(cert); i++)
		oid_list_add(&l, X509_EXTENSION_get_object(X509_get_ext(cert, i)));
	return oid_list_end(&l, out);
}

bool x509_ja4x(const uint8_t *der, size_t len, char out[X509_JA4X_LEN + 1])
{
	out[0] = '\0';
	X509 *cert = decode(der, len);
	EVP_MD_CTX *ctx = cert ? EVP_MD_CTX_new() : NULL;
	bool ok = ctx != NULL && ja4x_name(ctx, X509_get_issuer_name(cert), out) &&
	          ja4x_name(ctx, X509_get_subject_name(cert), out + 13) &&
	          ja4x_extensions(ctx, cert, out + 26);
	if (ok)
		out[12] = out[25] = '_';
	else
		out[0] = '\0';
	EVP_MD_CTX_free(ctx);
	X509_free(cert);
	ERR_clear_error();
	return ok;
}
#endif

/* Certificates in a PEM bundle, -1 when it holds anything else (a CRL, a TRUSTED CERTIFICATE) or is
 * unreadable. */
static long bundle_cert_count(const char *file)
{
	FILE *f = fopen(file, "r");
	if (f == NULL)
		return -1;
	static const char begin[] = "-----BEGIN ", cert[] = "-----BEGIN CERTIFICATE-----";
	char line[256];
	long n = 0;
	bool at_line_start = true;
	while (n >= 0 && fgets(line, sizeof line, f) != NULL) {
		if (at_line_start && strncmp(line, begin, sizeof begin - 1) == 0)
			n = strncmp(line, cert, sizeof cert - 1) == 0 ? n + 1 : -1;
		at_line_start = strchr(line, '\n') != NULL;
	}
	if (ferror(f))
		n = -1;
	fclose(f);
	return n;
}

/* Certificate links in a c_rehash directory ("5ad8a5d6.0": subject hash, '.', a number), -1 if unreadable. */
static long hashed_link_count(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	long n = 0;
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		const char *s = e->d_name;
		size_t i = 0;
		while (i < 8 && isxdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i]))
			i++;
		if (i != 8 || s[i] != '.' || !isdigit((unsigned char)s[i + 1]))
			continue;
		for (i++; isdigit((unsigned char)s[i]);)
			i++;
		n += s[i] == '\0';
	}
	closedir(d);
	return n;
}

/*
 * True when the hashed directory holds the bundle's CAs: the bundle lies in it and has exactly one
 * certificate per hash link, as update-ca-certificates (Debian) writes both from the same list.
 */
static bool dir_matches_bundle(const char *dir, const char *file)
{
	char rdir[PATH_MAX], rfile[PATH_MAX];
	if (realpath(dir, rdir) == NULL || realpath(file, rfile) == NULL)
		return false;
	size_t dlen = strlen(rdir);
	if (strncmp(rfile, rdir, dlen) != 0 || rfile[dlen] != '/' || strchr(rfile + dlen + 1, '/') != NULL)
		return false;
	long certs = bundle_cert_count(rfile);
	return certs > 0 && certs == hashed_link_count(rdir);
}

/*
 * The system store: the bundle file (SSL_CERT_FILE, or OpenSSL's default,
 * /etc/ssl/certs/ca-certificates.crt on Debian). When the hashed directory
 * next to it (SSL_CERT_DIR, or /etc/ssl/certs) holds the same CAs, only that
 * directory is registered (X509_LOOKUP_hash_dir): a CA is read from its
 * "<subject hash>.N" link the first time a chain names it as issuer and kept
 * in the store, instead of decoding the whole bundle (144 d2i_X509) at start
 * (issue 15). The answers are the same: the lookup by subject finds every CA
 * of that name, as the bundle would. Only when there is no bundle, OpenSSL's
 * default paths, whose directory lookups (OpenSSL 3's store loader scanning
 * the directory) run again for every certificate whose issuer is unknown.
 */
static int load_system_store(X509_STORE *store)
{
	const char *file = getenv(X509_get_default_cert_file_env());
	if (file == NULL || *file == '\0')
		file = X509_get_default_cert_file();
	const char *dir = getenv(X509_get_default_cert_dir_env());
	if (dir == NULL || *dir == '\0' ||
	    strchr(dir, ':') != NULL) /* a list of directories: not ours to check */
		dir = X509_get_default_cert_dir();
	if (dir_matches_bundle(dir, file)) {
		X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
		if (lookup != NULL && X509_LOOKUP_add_dir(lookup, dir, X509_FILETYPE_PEM) == 1)
			return 1;
	}
	ERR_clear_error();
	if (X509_STORE_load_file(store, file) == 1)
		return 1;
	ERR_clear_error();
	return X509_STORE_set_default_paths(store);
}

struct x509_validator *x509_validator_new(const char *ca_file, char *err, size_t errlen)
{
	struct x509_validator *v = OPENSSL_zalloc(sizeof *v);
	if (v == NULL || (v->store = X509_STORE_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	int loaded = ca_file ? X509_STORE_load_file(v->store, ca_file) : load_system_store(v->store);
	if (loaded != 1) {
		char reason[256] = "no certificate in it";
		unsigned long e = ERR_peek_last_error();
		if (e != 0)
			ERR_error_string_n(e, reason, sizeof reason);
		snprintf(err, errlen, "cannot load CA %s: %s", ca_file ? ca_file : "system store", reason);
		goto fail;
	}
	ERR_clear_error();
	return v;
fail:
	ERR_clear_error();
	x509_validator_free(v);
	return NULL;
}

void x509_validator_free(struct x509_validator *v)
{
	if (v == NULL)
		return;
	X509_STORE_free(v->store);
	OPENSSL_free(v);
}

static enum x509_status status_of_verify_error(int error)
{
	switch (error) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return X509_STATUS_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return X509_STATUS_NOT_YET_VALID;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return X509_STATUS_SELF_SIGNED;
	default:
		return X509_STATUS_UNTRUSTED;
	}
}

struct x509_chain {
	unsigned n;
	const uint8_t *der[X509_MAX_CHAIN];
	size_t len[X509_MAX_CHAIN];
	X509 *cert[X509_MAX_CHAIN]; /* NULL until decoded */
	bool tried[X509_MAX_CHAIN]; /* decoded once, even when it failed */
};

struct x509_chain *x509_chain_new(const uint8_t *const *chain, const size_t *lens, unsigned n)
{
	struct x509_chain *c = OPENSSL_zalloc(sizeof *c);
	if (c == NULL)
		return NULL;
	c->n = n > X509_MAX_CHAIN ? X509_MAX_CHAIN : n;
	for (unsigned i = 0; i < c->n; i++) {
		c->der[i] = chain[i];
		c->len[i] = lens[i];
	}
	return c;
}

void x509_chain_free(struct x509_chain *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n; i++)
		X509_free(c->cert[i]);
	OPENSSL_free(c);
}

/* Certificate i, decoded on first use only; NULL when it is no certificate. */
static X509 *chain_cert(struct x509_chain *c, unsigned i)
{
	if (!c->tried[i]) {
		c->tried[i] = true;
		c->cert[i] = decode(c->der[i], c->len[i]);
		ERR_clear_error();
	}
	return c->cert[i];
}

/* struct x509_cert is never defined: it is an X509 seen from outside this file. */
struct x509_cert *x509_chain_decoded(struct x509_chain *c, unsigned i)
{
	if (i >= c->n || c->cert[i] == NULL || X509_up_ref(c->cert[i]) != 1)
		return NULL;
	return (struct x509_cert *)c->cert[i];
}

void x509_chain_set_decoded(struct x509_chain *c, unsigned i, struct x509_cert *cert)
{
	X509 *x = (X509 *)cert;
	if (i >= c->n || c->tried[i] || x == NULL || X509_up_ref(x) != 1)
		return;
	c->cert[i] = x;
	c->tried[i] = true;
}

struct x509_cert *x509_cert_dup(struct x509_cert *cert)
{
	return cert != NULL && X509_up_ref((X509 *)cert) == 1 ? cert : NULL;
}

void x509_cert_free(struct x509_cert *cert)
{
	X509_free((X509 *)cert);
}

size_t x509_cert_bytes(size_t der_len)
{
	/* Measured (mallinfo2 around d2i_X509, OpenSSL 3.0): 4.9 KiB for the fixtures' 856-byte RSA CA,
	 * 5.3 KiB for a 902-byte RSA leaf, 6.1 KiB for a 699-byte ECDSA one: the fields copied out of the
	 * DER, the decoded public key, the cached extensions. */
	return 4096 + 2 * der_len;
}

int x509_chain_parse_leaf(struct x509_chain *c, struct x509_info *out)
{
	memset(out, 0, sizeof *out);
	X509 *cert = c->n > 0 ? chain_cert(c, 0) : NULL;
	if (cert == NULL)
		return -1;
	parse_cert(cert, c->der[0], c->len[0], out);
	ERR_clear_error();
	return 0;
}

bool x509_window_contains(const struct x509_window *w, int64_t at)
{
	/* OpenSSL (x509_check_cert_time) fails notBefore > at and notAfter <= at. The seconds drop any
	 * fraction a GeneralizedTime carried, so at == notBefore is left outside too: validated again. */
	return w->known && w->from < at && at < w->until;
}

/* Narrows w to the side of boundary b that `at` is on (a certificate turns valid or expired at b). */
static void window_cut(struct x509_window *w, int64_t b, int64_t at)
{
	if (b <= at && b > w->from)
		w->from = b;
	if (b > at && b < w->until)
		w->until = b;
}

/* The span around `at` over which the chain ctx built keeps its time checks; unknown when a time is
 * unreadable. */
static void built_window(X509_STORE_CTX *ctx, int64_t at, struct x509_window *w)
{
	STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
	*w = (struct x509_window){
	    .known = built != NULL && sk_X509_num(built) > 0, .from = INT64_MIN, .until = INT64_MAX};
	for (int i = 0; w->known && i < sk_X509_num(built); i++) {
		X509 *cert = sk_X509_value(built, i);
		int64_t nb = asn1_time_seconds(X509_get0_notBefore(cert));
		int64_t na = asn1_time_seconds(X509_get0_notAfter(cert));
		if (nb == 0 || na == 0)
			w->known = false;
		window_cut(w, nb, at);
		window_cut(w, na, at);
	}
}

/* The chain as a TLS client checks a server's (verify param "ssl_server"), at `at`, no partial chains. */
static enum x509_status verify_chain(X509_STORE *store, X509 *leaf, STACK_OF(X509) * untrusted, int64_t at,
                                     struct x509_window *window)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1 ||
	    X509_STORE_CTX_set_default(ctx, "ssl_server") != 1) {
		X509_STORE_CTX_free(ctx);
		return X509_STATUS_UNTRUSTED;
	}
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)at); /* also sets X509_V_FLAG_USE_CHECK_TIME */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_USE_CHECK_TIME);
	X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	enum x509_status status = X509_STATUS_OK;
	if (X509_verify_cert(ctx) != 1)
		status = status_of_verify_error(X509_STORE_CTX_get_error(ctx));
	built_window(ctx, at, window);
	X509_STORE_CTX_free(ctx);
	return status;
}

/* RFC 6125 6.4: DNS-IDs (subject CN only without any), "*" only as a whole left-most label. */
static bool host_matches(X509 *leaf, const char *hostname)
{
	size_t len = strlen(hostname);
	if (len > 1 && hostname[len - 1] == '.') /* an absolute name, as MX records give it */
		len--;
	return X509_check_host(leaf, hostname, len, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

enum x509_status x509_chain_validate(struct x509_validator *v, struct x509_chain *c, const char *hostname,
                                     int64_t at, struct x509_window *window)
{
	struct x509_window unused;
	if (window == NULL)
		window = &unused;
	*window = (struct x509_window){0};
	if (c == NULL || c->n == 0)
		return X509_STATUS_NOT_VISIBLE;
	enum x509_status status = X509_STATUS_UNTRUSTED;
	X509 *leaf = chain_cert(c, 0);
	/* The stack borrows the chain's certificates: X509_verify_cert does not keep it. */
	STACK_OF(X509) *untrusted = leaf ? sk_X509_new_reserve(NULL, (int)c->n) : NULL;
	if (untrusted == NULL)
		goto done;
	/* A certificate no TLS client could decode fails the handshake: the chain is untrusted. */
	for (unsigned i = 1; i < c->n; i++) {
		X509 *cert = chain_cert(c, i);
		if (cert == NULL || sk_X509_push(untrusted, cert) <= 0)
			goto done;
	}
	status = verify_chain(v->store, leaf, untrusted, at, window);
	if (status == X509_STATUS_OK && hostname != NULL && hostname[0] != '\0' &&
	    !host_matches(leaf, hostname))
		status = X509_STATUS_HOST_MISMATCH;
done:
	sk_X509_free(untrusted);
	ERR_clear_error();
	return status;
}

enum x509_status x509_validate(struct x509_validator *v, const uint8_t *const *chain, const size_t *lens,
                               unsigned n, const char *hostname, int64_t at)
{
	if (n == 0 || chain == NULL || lens == NULL)
		return X509_STATUS_NOT_VISIBLE;
	struct x509_chain *c = x509_chain_new(chain, lens, n);
	enum x509_status status = c ? x509_chain_validate(v, c, hostname, at, NULL) : X509_STATUS_UNTRUSTED;
	x509_chain_free(c);
	return status;
}
