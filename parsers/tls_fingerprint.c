/*
 * tls_fingerprint.c: JA3, JA3S and JA4 from the hello fields.
 *
 * Every fingerprint is taken over the whole hello (the uncapped lists of
 * tls_observation.fp), so a ClientHello with 200 suites gets the JA3 that
 * tshark, Zeek and the JA3 reference give it. Strings are built in bounded
 * buffers (struct text) that never write past their cap and remember whether
 * something did not fit; the buffers the hashes read are sized from the lists
 * first, so only the strings handed out (JA3 string, JA4_r) are ever cut.
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

/* A heap text of cap bytes; buf is NULL when it could not be had. */
static struct text text_alloc(size_t cap)
{
	char *buf = malloc(cap);
	struct text t = {buf, buf ? cap : 0, 0, buf == NULL};
	if (buf)
		buf[0] = '\0';
	return t;
}

/* Room for a list of n values of at most `width` characters each and their separators. */
static size_t list_room(unsigned n, size_t width)
{
	return (size_t)n * (width + 1) + 1;
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

/* Appends n bytes (no NUL among them). */
static void text_put(struct text *t, const char *s, size_t n)
{
	if (n >= t->cap - t->len) {
		t->overflow = true;
		return;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

/* Decimal, as "%u" writes it, without printf (one per list value: issue 15). */
static void text_dec(struct text *t, unsigned v)
{
	char num[16];
	size_t n = sizeof num;
	do {
		num[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	text_put(t, num + n, sizeof num - n);
}

/* Decimal values joined by '-', GREASE left out (JA3). */
static void dec_list16(struct text *t, const uint16_t *v, unsigned n)
{
	bool first = true;
	for (unsigned i = 0; i < n; i++) {
		if (tls_is_grease(v[i]))
			continue;
		if (!first)
			text_put(t, "-", 1);
		text_dec(t, v[i]);
		first = false;
	}
}

static bool usable_client_hello(const struct tls_observation *o)
{
	return o->client_hello_seen && !o->sslv2_client_hello && !o->fp.incomplete;
}

/* The whole JA3 string in a heap text (NULL buf: out of memory). */
static struct text ja3_full(const struct tls_observation *o)
{
	const struct tls_fingerprint_input *fp = &o->fp;
	unsigned values =
	    fp->ciphers.count + fp->extensions.count + fp->groups.count + fp->point_formats.count;
	struct text t = text_alloc(list_room(values, 5) + 16);
	if (!t.buf)
		return t;
	text_dec(&t, o->ch.version);
	text_add(&t, ",");
	dec_list16(&t, fp->ciphers.v, fp->ciphers.count);
	text_add(&t, ",");
	dec_list16(&t, fp->extensions.v, fp->extensions.count);
	text_add(&t, ",");
	dec_list16(&t, fp->groups.v, fp->groups.count);
	text_add(&t, ",");
	for (unsigned i = 0; i < fp->point_formats.count; i++) { /* u8 values: no GREASE */
		if (i)
			text_add(&t, "-");
		text_dec(&t, fp->point_formats.v[i]);
	}
	return t;
}

/* The whole JA3S string in a heap text. */
static struct text ja3s_full(const struct tls_observation *o)
{
	struct text t = text_alloc(list_room(o->fp.server_extensions.count, 5) + 16);
	if (!t.buf)
		return t;
	text_dec(&t, o->sh.version);
	text_add(&t, ",");
	text_dec(&t, o->cipher);
	text_add(&t, ",");
	dec_list16(&t, o->fp.server_extensions.v, o->fp.server_extensions.count);
	return t;
}

/* Copies as much of a full string as fits (the event's copy); the hash is always of the whole. */
static bool hand_out(struct text full, char out[TLS_JA3_STRING_MAX])
{
	bool ok = full.buf && !full.overflow;
	if (ok) {
		size_t n = full.len < TLS_JA3_STRING_MAX - 1 ? full.len : TLS_JA3_STRING_MAX - 1;
		memcpy(out, full.buf, n);
		out[n] = '\0';
	}
	free(full.buf);
	return ok;
}

static bool md5_full(struct text full, char out[TLS_JA3_HASH_LEN + 1])
{
	bool ok = full.buf && !full.overflow;
	if (ok)
		digest_md5_hex(full.buf, full.len, out);
	free(full.buf);
	return ok;
}

bool tls_ja3_string(const struct tls_observation *o, char out[TLS_JA3_STRING_MAX])
{
	out[0] = '\0';
	return usable_client_hello(o) && hand_out(ja3_full(o), out);
}

bool tls_ja3(const struct tls_observation *o, char out[TLS_JA3_HASH_LEN + 1])
{
	out[0] = '\0';
	return usable_client_hello(o) && md5_full(ja3_full(o), out);
}

/* The string and its hash from one build of the string. */
static bool string_and_md5(struct text full, char string[TLS_JA3_STRING_MAX], char hash[TLS_JA3_HASH_LEN + 1])
{
	bool ok = full.buf && !full.overflow;
	if (ok)
		digest_md5_hex(full.buf, full.len, hash);
	return hand_out(full, string) && ok;
}

bool tls_ja3_both(const struct tls_observation *o, char string[TLS_JA3_STRING_MAX],
                  char hash[TLS_JA3_HASH_LEN + 1])
{
	string[0] = hash[0] = '\0';
	return usable_client_hello(o) && string_and_md5(ja3_full(o), string, hash);
}

/* An SSLv2 SERVER-HELLO (RFC 6101 E.1) has no extensions and chooses no suite: no fingerprint. */
static bool usable_server_hello(const struct tls_observation *o)
{
	return o->server_hello_seen && o->sh.version != 0x0002 && !o->fp.incomplete;
}

bool tls_ja3s_string(const struct tls_observation *o, char out[TLS_JA3_STRING_MAX])
{
	out[0] = '\0';
	return usable_server_hello(o) && hand_out(ja3s_full(o), out);
}

bool tls_ja3s(const struct tls_observation *o, char out[TLS_JA3_HASH_LEN + 1])
{
	out[0] = '\0';
	return usable_server_hello(o) && md5_full(ja3s_full(o), out);
}

bool tls_ja3s_both(const struct tls_observation *o, char string[TLS_JA3_STRING_MAX],
                   char hash[TLS_JA3_HASH_LEN + 1])
{
	string[0] = hash[0] = '\0';
	return usable_server_hello(o) && string_and_md5(ja3s_full(o), string, hash);
}

static const char *ja4_version_code(uint16_t v)
{
	switch (v) {
	case TLS_VERSION_1_3:
		return "13";
	case TLS_VERSION_1_2:
		return "12";
	case TLS_VERSION_1_1:
		return "11";
	case TLS_VERSION_1_0:
		return "10";
	case TLS_VERSION_SSL3:
		return "s3";
	case 0x0002:
		return "s2";
	case 0xfeff:
		return "d1";
	case 0xfefd:
		return "d2";
	case 0xfefc:
		return "d3";
	}
	return "00";
}

/* JA4 "TLS and DTLS Version": the highest supported_versions entry, else legacy_version. */
static const char *ja4_version(const struct tls_observation *o)
{
	const struct tls_value_list *sv = &o->fp.supported_versions;
	uint16_t v = 0;
	for (unsigned i = 0; i < sv->count; i++)
		if (!tls_is_grease(sv->v[i]) && sv->v[i] > v)
			v = sv->v[i];
	if (sv->count == 0)
		v = o->ch.version;
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

/* How many values count for JA4 (no GREASE). */
static unsigned ja4_count(const struct tls_value_list *l)
{
	unsigned k = 0;
	for (unsigned i = 0; i < l->count; i++)
		k += !tls_is_grease(l->v[i]);
	return k;
}

/* Ascending. A hello's lists are short: insertion sort without qsort's calls, qsort past 64 values. */
static void sort_u16(uint16_t *v, unsigned n)
{
	if (n > 64) {
		qsort(v, n, sizeof *v, cmp_u16);
		return;
	}
	for (unsigned i = 1; i < n; i++) {
		uint16_t x = v[i];
		unsigned j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Writes the values that count for JA4 (no GREASE, SNI and ALPN left out when asked) as 4-digit hex. */
static void ja4_hex_list(struct text *t, const struct tls_value_list *l, bool sorted, bool skip_sni_alpn)
{
	uint16_t *tmp = l->count ? malloc(l->count * sizeof *tmp) : NULL;
	if (l->count && !tmp) {
		t->overflow = true;
		return;
	}
	unsigned k = 0;
	for (unsigned i = 0; i < l->count; i++) {
		if (tls_is_grease(l->v[i]) || (skip_sni_alpn && (l->v[i] == 0x0000 || l->v[i] == 0x0010)))
			continue;
		tmp[k++] = l->v[i];
	}
	if (sorted && k > 1)
		sort_u16(tmp, k);
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < k; i++) {
		if (i)
			text_put(t, ",", 1);
		char h[4] = {hex[tmp[i] >> 12], hex[(tmp[i] >> 8) & 0xf], hex[(tmp[i] >> 4) & 0xf],
		             hex[tmp[i] & 0xf]};
		text_put(t, h, sizeof h); /* what text_hex(t, v, 4) writes for a 16-bit value */
	}
	free(tmp);
}

/* Two digits, 99 at most (JA4 counts). */
static unsigned two_digits(unsigned n)
{
	return n > 99 ? 99 : n;
}

/* "t13d1516h2": the readable part, shared by JA4 and JA4_r. */
static void ja4_a(const struct tls_observation *o, struct text *t)
{
	char alpn[3];
	ja4_alpn(&o->ch, alpn);
	text_add(t, "t");
	text_add(t, ja4_version(o));
	text_add(t, o->ch.sni_present ? "d" : "i");
	unsigned nc = two_digits(ja4_count(&o->fp.ciphers)), ne = two_digits(ja4_count(&o->fp.extensions));
	char counts[4] = {(char)('0' + nc / 10), (char)('0' + nc % 10), (char)('0' + ne / 10),
	                  (char)('0' + ne % 10)};
	text_put(t, counts, sizeof counts);
	text_add(t, alpn);
}

/* The two lists JA4 hashes, "c1,c2,..." and "e1,e2,..._s1,s2,...", in heap texts sized for them. */
static void ja4_lists(const struct tls_observation *o, struct text *ciphers, struct text *exts)
{
	const struct tls_fingerprint_input *fp = &o->fp;
	*ciphers = text_alloc(list_room(fp->ciphers.count, 4));
	*exts = text_alloc(list_room(fp->extensions.count + fp->signature_algorithms.count, 4) + 1);
	if (!ciphers->buf || !exts->buf)
		return;
	ja4_hex_list(ciphers, &fp->ciphers, true, false);
	ja4_hex_list(exts, &fp->extensions, true, true);
	if (ja4_count(&fp->signature_algorithms) > 0 &&
	    exts->len > 0) { /* none: the string ends without '_' */
		text_add(exts, "_");
		ja4_hex_list(exts, &fp->signature_algorithms, false, false);
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
	struct text c, e;
	ja4_lists(o, &c, &e);
	ja4_a(o, &t);
	text_add(&t, "_");
	ja4_hash12(&c, &t);
	text_add(&t, "_");
	ja4_hash12(&e, &t);
	bool ok = !t.overflow && !c.overflow && !e.overflow;
	free(c.buf);
	free(e.buf);
	if (!ok)
		out[0] = '\0';
	return ok;
}

bool tls_ja4_r(const struct tls_observation *o, char out[TLS_JA4_R_MAX])
{
	struct text t = text_make(out, TLS_JA4_R_MAX);
	if (!usable_client_hello(o))
		return false;
	struct text c, e;
	ja4_lists(o, &c, &e);
	bool ok = !c.overflow && !e.overflow;
	ja4_a(o, &t);
	text_add(&t, "_");
	text_add(&t, ok ? c.buf : "");
	text_add(&t, "_");
	text_add(&t, ok ? e.buf : "");
	free(c.buf);
	free(e.buf);
	return ok && !t.overflow;
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
	ja4_alpn_chars(alpn_len > 0, (uint8_t)sh->alpn[0], alpn_len ? (uint8_t)sh->alpn[alpn_len - 1] : 0,
	               alpn);
	uint16_t version = sh->supported_version ? sh->supported_version : sh->version;
	snprintf(head, sizeof head, "t%s%02u%s_", ja4_version_code(version),
	         two_digits(o->fp.server_extensions.count), alpn);
	text_add(&t, head);
	text_hex(&t, o->cipher, 4);
	text_add(&t, "_");
	const struct tls_value_list *x = &o->fp.server_extensions;
	struct text e = text_alloc(list_room(x->count, 4));
	for (unsigned i = 0; e.buf && i < x->count; i++) {
		if (i)
			text_add(&e, ",");
		text_hex(&e, x->v[i], 4);
	}
	if (e.buf)
		ja4_hash12(&e, &t);
	bool ok = e.buf && !t.overflow && !e.overflow;
	free(e.buf);
	return ok;
}
#endif
