/*
 * tls_fingerprint.c: JA3, JA3S and JA4 from the kept hello fields.
 *
 * Strings are built in a bounded buffer (struct text) that never writes past
 * its cap and remembers whether something did not fit; the observation's caps
 * keep every list well inside TLS_JA3_STRING_MAX, so that only guards our own
 * arithmetic.
 */
#include "parsers/tls_fingerprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/digest.h"

struct text {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static struct text text_make(char *buf, size_t cap)
{
	struct text t = {buf, cap, 0, false};
	buf[0] = '\0';
	return t;
}

static void text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);
	if (n >= t->cap - t->len) {
		t->overflow = true;
		return;
	}
	memcpy(t->buf + t->len, s, n + 1);
	t->len += n;
}

static void text_dec(struct text *t, unsigned v)
{
	char num[16];
	snprintf(num, sizeof num, "%u", v);
	text_add(t, num);
}

/* Lowercase hex of a u16 in at least `width` digits. */
static void text_hex(struct text *t, unsigned v, int width)
{
	char num[16];
	snprintf(num, sizeof num, "%0*x", width, v);
	text_add(t, num);
}

/* Decimal values joined by '-', GREASE left out (JA3). */
static void dec_list16(struct text *t, const uint16_t *v, unsigned n)
{
	bool first = true;
	for (unsigned i = 0; i < n; i++) {
		if (tls_is_grease(v[i]))
			continue;
		if (!first)
			text_add(t, "-");
		text_dec(t, v[i]);
		first = false;
	}
}

static bool usable_client_hello(const struct tls_observation *o)
{
	return o->client_hello_seen && !o->sslv2_client_hello;
}

bool tls_ja3_string(const struct tls_observation *o, char out[TLS_JA3_STRING_MAX])
{
	struct text t = text_make(out, TLS_JA3_STRING_MAX);
	if (!usable_client_hello(o))
		return false;
	const struct tls_client_hello *ch = &o->ch;
	text_dec(&t, ch->version);
	text_add(&t, ",");
	dec_list16(&t, ch->ciphers, ch->cipher_count);
	text_add(&t, ",");
	dec_list16(&t, ch->extensions, ch->extension_count);
	text_add(&t, ",");
	dec_list16(&t, ch->groups, ch->group_count);
	text_add(&t, ",");
	for (unsigned i = 0; i < ch->point_format_count; i++) {
		if (i)
			text_add(&t, "-");
		text_dec(&t, ch->point_formats[i]);
	}
	return !t.overflow;
}

/* JA3 and JA3S are the MD5 of their strings. */
static bool md5_of(bool (*make)(const struct tls_observation *, char *), const struct tls_observation *o,
		   char out[TLS_JA3_HASH_LEN + 1])
{
	char s[TLS_JA3_STRING_MAX];
	out[0] = '\0';
	if (!make(o, s))
		return false;
	digest_md5_hex(s, strlen(s), out);
	return true;
}

bool tls_ja3(const struct tls_observation *o, char out[TLS_JA3_HASH_LEN + 1])
{
	return md5_of(tls_ja3_string, o, out);
}

/* An SSLv2 SERVER-HELLO (RFC 6101 E.1) has no extensions and chooses no suite: no fingerprint. */
static bool usable_server_hello(const struct tls_observation *o)
{
	return o->server_hello_seen && o->sh.version != 0x0002;
}

bool tls_ja3s_string(const struct tls_observation *o, char out[TLS_JA3_STRING_MAX])
{
	struct text t = text_make(out, TLS_JA3_STRING_MAX);
	if (!usable_server_hello(o))
		return false;
	text_dec(&t, o->sh.version);
	text_add(&t, ",");
	text_dec(&t, o->cipher);
	text_add(&t, ",");
	dec_list16(&t, o->sh.extensions, o->sh.extension_count);
	return !t.overflow;
}

bool tls_ja3s(const struct tls_observation *o, char out[TLS_JA3_HASH_LEN + 1])
{
	return md5_of(tls_ja3s_string, o, out);
}

static const char *ja4_version_code(uint16_t v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	}
	return "00";
}

/* JA4 "TLS and DTLS Version": the highest supported_versions entry, else legacy_version. */
static const char *ja4_version(const struct tls_client_hello *ch)
{
	uint16_t v = 0;
	for (unsigned i = 0; i < ch->supported_version_count; i++)
		if (!tls_is_grease(ch->supported_versions[i]) && ch->supported_versions[i] > v)
			v = ch->supported_versions[i];
	if (ch->supported_version_count == 0)
		v = ch->version;
	return ja4_version_code(v);
}

static bool ascii_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* JA4 "ALPN Extension Value": first and last character, or of their hex when not alphanumeric. */
static void ja4_alpn_chars(bool present, uint8_t first, uint8_t last, char out[3])
{
	static const char hex[] = "0123456789abcdef";
	if (!present) {
		memcpy(out, "00", 3);
		return;
	}
	if (ascii_alnum(first) && ascii_alnum(last)) {
		out[0] = (char)first;
		out[1] = (char)last;
	} else {
		out[0] = hex[first >> 4];
		out[1] = hex[last & 0x0f];
	}
	out[2] = '\0';
}

static void ja4_alpn(const struct tls_client_hello *ch, char out[3])
{
	bool present = ch->alpn_total > 0 && ch->alpn_len[0] > 0;
	ja4_alpn_chars(present, ch->alpn_first_last[0], ch->alpn_first_last[1], out);
}

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

/* Copies the values that count for JA4 (no GREASE, none of `skip`), sorted when asked. */
static unsigned ja4_values(const uint16_t *v, unsigned n, uint16_t *out, bool sorted, bool skip_sni_alpn)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (tls_is_grease(v[i]) || (skip_sni_alpn && (v[i] == 0x0000 || v[i] == 0x0010)))
			continue;
		out[k++] = v[i];
	}
	if (sorted)
		qsort(out, k, sizeof *out, cmp_u16);
	return k;
}

static void hex_list(struct text *t, const uint16_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (i)
			text_add(t, ",");
		text_hex(t, v[i], 4);
	}
}

/* Two digits, 99 at most (JA4 counts). */
static unsigned two_digits(unsigned n)
{
	return n > 99 ? 99 : n;
}

/* "t13d1516h2": the readable part, shared by JA4 and JA4_r. */
static void ja4_a(const struct tls_client_hello *ch, struct text *t)
{
	uint16_t tmp[TLS_MAX_CIPHERS];
	unsigned ciphers = ja4_values(ch->ciphers, ch->cipher_count, tmp, false, false);
	unsigned exts = ja4_values(ch->extensions, ch->extension_count, tmp, false, false);
	ciphers += ch->ciphers_total - ch->cipher_count; /* values past the cap: counted, not kept */
	exts += ch->extensions_total - ch->extension_count;
	char alpn[3];
	ja4_alpn(ch, alpn);
	text_add(t, "t");
	text_add(t, ja4_version(ch));
	text_add(t, ch->sni_present ? "d" : "i");
	char counts[8];
	snprintf(counts, sizeof counts, "%02u%02u", two_digits(ciphers), two_digits(exts));
	text_add(t, counts);
	text_add(t, alpn);
}

/* The two lists JA4 hashes: "c1,c2,..." and "e1,e2,..._s1,s2,...". */
static void ja4_lists(const struct tls_client_hello *ch, struct text *ciphers, struct text *exts)
{
	uint16_t tmp[TLS_MAX_CIPHERS];
	unsigned n = ja4_values(ch->ciphers, ch->cipher_count, tmp, true, false);
	hex_list(ciphers, tmp, n);
	n = ja4_values(ch->extensions, ch->extension_count, tmp, true, true);
	hex_list(exts, tmp, n);
	n = ja4_values(ch->signature_algorithms, ch->signature_algorithm_count, tmp, false, false);
	if (n > 0 && exts->len > 0) { /* no algorithms: the string ends without '_' */
		text_add(exts, "_");
		hex_list(exts, tmp, n);
	}
}

/* sha256 of the list, first 12 hex digits; twelve zeros for an empty list. */
static void ja4_hash12(const struct text *list, struct text *t)
{
	char hash[65];
	if (list->len == 0) {
		text_add(t, "000000000000");
		return;
	}
	digest_sha256_hex(list->buf, list->len, hash, false);
	hash[12] = '\0';
	text_add(t, hash);
}

bool tls_ja4(const struct tls_observation *o, char out[TLS_JA4_LEN + 1])
{
	struct text t = text_make(out, TLS_JA4_LEN + 1);
	if (!usable_client_hello(o))
		return false;
	char cbuf[TLS_JA4_R_MAX], ebuf[TLS_JA4_R_MAX];
	struct text c = text_make(cbuf, sizeof cbuf), e = text_make(ebuf, sizeof ebuf);
	ja4_a(&o->ch, &t);
	ja4_lists(&o->ch, &c, &e);
	text_add(&t, "_");
	ja4_hash12(&c, &t);
	text_add(&t, "_");
	ja4_hash12(&e, &t);
	return !t.overflow && !c.overflow && !e.overflow;
}

bool tls_ja4_r(const struct tls_observation *o, char out[TLS_JA4_R_MAX])
{
	struct text t = text_make(out, TLS_JA4_R_MAX);
	if (!usable_client_hello(o))
		return false;
	char cbuf[TLS_JA4_R_MAX], ebuf[TLS_JA4_R_MAX];
	struct text c = text_make(cbuf, sizeof cbuf), e = text_make(ebuf, sizeof ebuf);
	ja4_a(&o->ch, &t);
	ja4_lists(&o->ch, &c, &e);
	text_add(&t, "_");
	text_add(&t, cbuf);
	text_add(&t, "_");
	text_add(&t, ebuf);
	return !t.overflow && !c.overflow && !e.overflow;
}

#ifdef TLSOBS_JA4_FOXIO
/*
 * JA4S (FoxIO License 1.1). The version is supported_versions when the server
 * sent it, else legacy_version; the count is of every extension sent (at most
 * 99), the hash of the kept ones in wire order. The ALPN characters come from
 * the kept protocol name (cut at TLS_ALPN_MAX bytes, see tls.h).
 */
bool tls_ja4s(const struct tls_observation *o, char out[TLS_JA4S_LEN + 1])
{
	struct text t = text_make(out, TLS_JA4S_LEN + 1);
	if (!usable_server_hello(o))
		return false;
	const struct tls_server_hello *sh = &o->sh;
	size_t alpn_len = strlen(sh->alpn);
	char alpn[3], head[16];
	ja4_alpn_chars(alpn_len > 0, (uint8_t)sh->alpn[0], alpn_len ? (uint8_t)sh->alpn[alpn_len - 1] : 0, alpn);
	uint16_t version = sh->supported_version ? sh->supported_version : sh->version;
	snprintf(head, sizeof head, "t%s%02u%s_", ja4_version_code(version), two_digits(sh->extensions_total), alpn);
	text_add(&t, head);
	text_hex(&t, o->cipher, 4);
	text_add(&t, "_");
	char ebuf[TLS_JA4_R_MAX];
	struct text e = text_make(ebuf, sizeof ebuf);
	hex_list(&e, sh->extensions, sh->extension_count);
	ja4_hash12(&e, &t);
	return !t.overflow && !e.overflow;
}
#endif
