/*
 * tls_hello.c: ClientHello, ServerHello and ServerKeyExchange bodies, decoded
 * into the observation (RFC 8446 4.1.2-4.1.4 and 4.2, RFC 5246 7.4.1-7.4.3,
 * RFC 6101 E.1, RFC 8422 5.4, RFC 6066 3, RFC 7301 3.1).
 *
 *   ClientHello:  legacy_version u16 | random [32] | session_id <0..32>
 *                 | cipher_suites <2..2^16-2> | compression_methods <1..2^8-1>
 *                 | extensions <8..2^16-1> (absent in old TLS)
 *   ServerHello:  legacy_version u16 | random [32] | session_id <0..32>
 *                 | cipher_suite u16 | compression_method u8 | extensions <6..2^16-1>
 *   Extension:    type u16 | extension_data <0..2^16-1>
 *
 * Every length-prefixed field is read through reader_sub(), so a field can
 * never spill into its neighbour; a block that fails is counted once as a
 * named anomaly and what parsed before it is kept.
 */
#include <stdlib.h>
#include <string.h>

#include "parsers/tls_ciphers.h"
#include "parsers/tls_internal.h"

/* RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t hello_retry_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

bool tls_version_is_13(uint16_t v)
{
	return v == 0x0304 || (v >> 8) == 0x7f; /* 0x7fXX: draft XX of RFC 8446 */
}

bool tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

enum { FP_LIST_FIRST = 16, FP_LIST_MAX = 32768 }; /* 64 KiB of handshake message holds no more u16 values */

size_t tls_fingerprint_input_memory(const struct tls_fingerprint_input *fp)
{
	const struct tls_value_list *l[] = {
	    &fp->ciphers,          &fp->extensions,           &fp->groups,
	    &fp->point_formats,    &fp->signature_algorithms, &fp->supported_versions,
	    &fp->server_extensions};
	size_t n = 0;
	for (size_t i = 0; i < sizeof l / sizeof l[0]; i++)
		n += l[i]->cap * sizeof(uint16_t);
	return n;
}

void tls_fingerprint_input_free(struct tls_fingerprint_input *fp)
{
	struct tls_value_list *l[] = {
	    &fp->ciphers,          &fp->extensions,           &fp->groups,
	    &fp->point_formats,    &fp->signature_algorithms, &fp->supported_versions,
	    &fp->server_extensions};
	for (size_t i = 0; i < sizeof l / sizeof l[0]; i++) {
		free(l[i]->v);
		*l[i] = (struct tls_value_list){0};
	}
}

/*
 * Appends to an uncapped fingerprint list, doubling it as it fills. It cannot
 * outgrow FP_LIST_MAX (the message bounds it); should memory run out the
 * fingerprints are given up (fp.incomplete), never computed over a part.
 */
static void fp_add(struct tls_observation *o, struct tls_value_list *l, uint16_t v)
{
	if (!l || o->fp.incomplete)
		return;
	if (l->count == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : FP_LIST_FIRST;
		uint16_t *grown = l->count < FP_LIST_MAX ? realloc(l->v, cap * sizeof *grown) : NULL;
		if (!grown) {
			o->fp.incomplete = true;
			tls_anomaly(o, TLS_ANOMALY_OUT_OF_MEMORY);
			return;
		}
		l->v = grown;
		l->cap = cap;
	}
	l->v[l->count++] = v;
}

/* Whether a capped list of the hello (count of cap) has room for one more; if not, the hello (NULL: none)
 * is marked truncated. */
static bool room(struct tls_client_hello *ch, unsigned count, unsigned cap)
{
	if (count < cap)
		return true;
	if (ch)
		ch->truncated = true;
	return false;
}

/* Appends to a capped list; past the cap the value is only noted as truncation. */
static void keep_u16(uint16_t *list, unsigned *count, unsigned cap, uint16_t v, struct tls_client_hello *ch)
{
	if (ch && tls_is_grease(v))
		ch->has_grease = true;
	if (room(ch, *count, cap))
		list[(*count)++] = v;
}

/*
 * A list of u16 values (groups, signature algorithms, versions) behind its length of len_bytes (1 for
 * supported_versions, RFC 8446 4.2.1; 2 for the others); `all` gets every one. A broken list fails body.
 */
static void u16_list(struct tls_observation *o, struct reader *body, unsigned len_bytes, uint16_t *list,
                     unsigned *count, struct tls_value_list *all)
{
	struct reader r = reader_sub(body, len_bytes == 1 ? reader_u8(body) : reader_u16(body));
	while (reader_left(&r) >= 2) {
		uint16_t v = reader_u16(&r);
		keep_u16(list, count, TLS_MAX_VALUES, v, &o->ch);
		fp_add(o, all, v);
	}
	if (reader_left(&r) != 0 || reader_failed(&r)) /* an odd byte, or a length past the body */
		reader_skip(body, reader_left(body) + 1);
}

static void session_id(struct reader *r, uint8_t *out, uint8_t *out_len)
{
	uint8_t len = reader_u8(r);
	const uint8_t *id = reader_bytes(r, len);
	if (!id || len > TLS_SESSION_ID_MAX) {
		reader_skip(r, reader_left(r) + 1); /* RFC 5246 7.4.1.2: at most 32 bytes */
		return;
	}
	memcpy(out, id, len);
	*out_len = len;
}

/* RFC 6066 3: host_name bytes; kept only when every byte is printable ASCII without spaces. */
static bool printable_host(const uint8_t *name, size_t len)
{
	if (len == 0 || len > TLS_SNI_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] <= 0x20 || name[i] >= 0x7f)
			return false;
	return true;
}

static void server_name(struct tls_observation *o, struct reader *body)
{
	struct tls_client_hello *ch = &o->ch;
	ch->sni_present = true;
	struct reader list = reader_sub(body, reader_u16(body));
	while (reader_left(&list) >= 3) {
		uint8_t type = reader_u8(&list);
		uint16_t len = reader_u16(&list);
		const uint8_t *name = reader_bytes(&list, len);
		if (!name || type != 0 || ch->sni[0])
			continue; /* RFC 6066 3: one host_name (type 0) at most */
		if (printable_host(name, len)) {
			memcpy(ch->sni, name, len);
			ch->sni[len] = '\0';
		} else {
			tls_anomaly(o, TLS_ANOMALY_BAD_SNI);
		}
	}
	if (reader_failed(&list) || reader_left(&list) != 0)
		tls_anomaly(o, TLS_ANOMALY_BAD_EXTENSION);
}

/* Copies an ALPN protocol name, cut at TLS_ALPN_MAX, NUL-terminated. */
static void copy_alpn(char out[TLS_ALPN_MAX + 1], const uint8_t *name, size_t len)
{
	size_t n = len < TLS_ALPN_MAX ? len : TLS_ALPN_MAX;
	memcpy(out, name, n);
	out[n] = '\0';
}

static void client_alpn(struct tls_observation *o, struct reader *body)
{
	struct tls_client_hello *ch = &o->ch;
	struct reader list = reader_sub(body, reader_u16(body));
	while (reader_left(&list) >= 1) {
		uint8_t len = reader_u8(&list);
		const uint8_t *name = reader_bytes(&list, len);
		if (!name)
			break;
		if (ch->alpn_total == 0 && len > 0) {
			ch->alpn_first_last[0] = name[0];
			ch->alpn_first_last[1] = name[len - 1];
		}
		if (ch->alpn_count < TLS_MAX_ALPN) {
			copy_alpn(ch->alpn[ch->alpn_count], name, len);
			ch->alpn_len[ch->alpn_count++] = len;
		}
		ch->alpn_total++;
	}
	if (reader_failed(&list))
		tls_anomaly(o, TLS_ANOMALY_BAD_EXTENSION);
}

static void client_key_share(struct tls_client_hello *ch, struct reader *body)
{
	struct reader list = reader_sub(body, reader_u16(body));
	while (reader_left(&list) >= 4) {
		uint16_t group = reader_u16(&list);
		reader_skip(&list, reader_u16(&list)); /* key_exchange */
		if (!reader_failed(&list))
			keep_u16(ch->key_share_groups, &ch->key_share_count, TLS_MAX_KEY_SHARES, group, ch);
	}
	if (reader_left(&list) != 0)
		reader_skip(body, reader_left(body) + 1);
	if (reader_failed(&list))
		reader_skip(body, reader_left(body) + 1);
}

static void client_extension(struct tls_observation *o, uint16_t type, struct reader *body)
{
	struct tls_client_hello *ch = &o->ch;
	switch (type) {
	case TLS_EXT_SERVER_NAME:
		server_name(o, body);
		return;
	case TLS_EXT_ALPN:
		client_alpn(o, body);
		return;
	case TLS_EXT_SUPPORTED_GROUPS:
		u16_list(o, body, 2, ch->groups, &ch->group_count, &o->fp.groups);
		break;
	case TLS_EXT_EC_POINT_FORMATS: {
		struct reader list = reader_sub(body, reader_u8(body));
		while (reader_left(&list) >= 1) {
			uint8_t f = reader_u8(&list);
			fp_add(o, &o->fp.point_formats, f);
			if (room(ch, ch->point_format_count, TLS_MAX_VALUES))
				ch->point_formats[ch->point_format_count++] = f;
		}
		break;
	}
	case TLS_EXT_SIGNATURE_ALGORITHMS:
		u16_list(o, body, 2, ch->signature_algorithms, &ch->signature_algorithm_count,
		         &o->fp.signature_algorithms);
		break;
	case TLS_EXT_SUPPORTED_VERSIONS:
		u16_list(o, body, 1, ch->supported_versions, &ch->supported_version_count,
		         &o->fp.supported_versions);
		break;
	case TLS_EXT_KEY_SHARE:
		client_key_share(ch, body);
		break;
	case TLS_EXT_SESSION_TICKET:
		ch->session_ticket = true;
		return;
	case TLS_EXT_PRE_SHARED_KEY:
		ch->pre_shared_key = true;
		return;
	case TLS_EXT_EXTENDED_MASTER_SECRET:
		ch->extended_master_secret = true;
		return;
	case TLS_EXT_ENCRYPT_THEN_MAC:
		ch->encrypt_then_mac = true;
		return;
	case TLS_EXT_RENEGOTIATION_INFO:
		ch->renegotiation_info = true;
		return;
	default:
		return;
	}
	if (reader_failed(body))
		tls_anomaly(o, TLS_ANOMALY_BAD_EXTENSION);
}

static void server_extension(struct tls_observation *o, uint16_t type, struct reader *body, bool retry);

/* A hello's extensions block: the types in order into the client's or the server's list (and fingerprint),
 * then each body through its own sub-reader to that side's handler. false: not whole extensions. */
static bool extensions(struct tls_observation *o, struct reader *exts, bool client, bool retry)
{
	uint16_t *types = client ? o->ch.extensions : o->sh.extensions;
	unsigned *count = client ? &o->ch.extension_count : &o->sh.extension_count;
	unsigned *total = client ? &o->ch.extensions_total : &o->sh.extensions_total;
	struct tls_value_list *fp = client ? &o->fp.extensions : &o->fp.server_extensions;
	while (reader_left(exts) >= 4) {
		uint16_t type = reader_u16(exts);
		struct reader body = reader_sub(exts, reader_u16(exts));
		if (reader_failed(exts))
			return false;
		keep_u16(types, count, TLS_MAX_EXTENSIONS, type, client ? &o->ch : NULL);
		fp_add(o, fp, type);
		(*total)++;
		if (client)
			client_extension(o, type, &body);
		else
			server_extension(o, type, &body, retry);
	}
	return reader_left(exts) == 0;
}

void tls_parse_client_hello(struct tls_observation *o, struct reader *r)
{
	if (o->client_hello_seen)
		return; /* the second hello after a HelloRetryRequest: the first one is the fingerprint */
	struct tls_client_hello *ch = &o->ch;
	o->client_hello_seen = true;
	o->client_version = ch->version = reader_u16(r);
	reader_skip(r, 32); /* random */
	session_id(r, ch->session_id, &ch->session_id_len);
	struct reader ciphers = reader_sub(r, reader_u16(r));
	struct reader compression = reader_sub(r, reader_u8(r));
	if (reader_failed(r)) {
		tls_anomaly(o, TLS_ANOMALY_BAD_CLIENT_HELLO);
		return;
	}
	while (reader_left(&ciphers) >= 2) {
		uint16_t c = reader_u16(&ciphers);
		keep_u16(ch->ciphers, &ch->cipher_count, TLS_MAX_CIPHERS, c, ch);
		fp_add(o, &o->fp.ciphers, c);
		ch->ciphers_total++;
	}
	while (reader_left(&compression) >= 1) {
		uint8_t m = reader_u8(&compression);
		if (room(ch, ch->compression_count, TLS_MAX_COMPRESSION))
			ch->compression[ch->compression_count++] = m;
	}
	bool ok = reader_left(&ciphers) == 0;
	if (reader_left(r) > 0) { /* RFC 5246 7.4.1.2: extensions may be absent */
		struct reader exts = reader_sub(r, reader_u16(r));
		ok = extensions(o, &exts, true, false) && !reader_failed(r) && ok;
	}
	if (!ok)
		tls_anomaly(o, TLS_ANOMALY_BAD_CLIENT_HELLO);
}

/*
 * RFC 6101 E.1, after msg_type and version (read with the record header):
 *   cipher_specs_length u16 | session_id_length u16 | challenge_length u16
 *   | cipher_specs [3 * n] | session_id | challenge
 */
void tls_parse_sslv2_client_hello(struct tls_observation *o, struct reader *r)
{
	struct tls_client_hello *ch = &o->ch;
	uint16_t specs_len = reader_u16(r);
	uint16_t id_len = reader_u16(r);
	reader_u16(r); /* challenge length */
	struct reader specs = reader_sub(r, specs_len);
	const uint8_t *id = reader_bytes(r, id_len);
	if (reader_failed(r) || specs_len % 3 != 0) {
		tls_anomaly(o, TLS_ANOMALY_BAD_CLIENT_HELLO);
		return;
	}
	while (reader_left(&specs) >= 3) {
		uint32_t spec = reader_u24(&specs);
		if (room(ch, ch->sslv2_spec_count, TLS_MAX_CIPHERS))
			ch->sslv2_specs[ch->sslv2_spec_count++] = spec;
		if (spec <= 0xffff) { /* a TLS suite in SSLv2 clothing (RFC 5246 E.2) */
			keep_u16(ch->ciphers, &ch->cipher_count, TLS_MAX_CIPHERS, (uint16_t)spec, ch);
			ch->ciphers_total++;
		}
	}
	if (id && id_len <= TLS_SESSION_ID_MAX) {
		memcpy(ch->session_id, id, id_len);
		ch->session_id_len = (uint8_t)id_len;
	}
}

/*
 *   server_version u16 | certificate_length u16 | cipher_specs_length u16
 *   | connection_id_length u16 | certificate | cipher_specs | connection_id
 */
bool tls_parse_sslv2_server_hello(struct tls_observation *o, struct reader *r, struct reader *cert)
{
	uint16_t version = reader_u16(r);
	uint16_t cert_len = reader_u16(r);
	uint16_t specs_len = reader_u16(r);
	reader_u16(r); /* connection id length */
	*cert = reader_sub(r, cert_len);
	reader_skip(r, specs_len); /* the server's cipher specs */
	if (reader_failed(r) || specs_len % 3 != 0) {
		tls_anomaly(o, TLS_ANOMALY_BAD_SERVER_HELLO);
		return false;
	}
	o->version = o->sh.version = version;
	return true;
}

static void server_extension(struct tls_observation *o, uint16_t type, struct reader *body, bool retry)
{
	struct tls_server_hello *sh = &o->sh;
	switch (type) {
	case TLS_EXT_SUPPORTED_VERSIONS:
		sh->supported_version = reader_u16(body);
		break;
	case TLS_EXT_KEY_SHARE:
		sh->key_share_group = reader_u16(body);
		break; /* HRR: just the group */
	case TLS_EXT_PRE_SHARED_KEY:
		sh->pre_shared_key = !retry;
		reader_u16(body);
		break;
	case TLS_EXT_ALPN: {
		struct reader list = reader_sub(body, reader_u16(body));
		uint8_t len = reader_u8(&list);
		const uint8_t *name = reader_bytes(&list, len);
		if (name)
			copy_alpn(sh->alpn, name, len);
		else
			reader_skip(body, reader_left(body) + 1);
		break;
	}
	default:
		return;
	}
	if (reader_failed(body))
		tls_anomaly(o, TLS_ANOMALY_BAD_EXTENSION);
}

/* TLS <= 1.2 resumption: the server echoes the session id the client offered (RFC 5246 7.4.1.3). */
static bool echoes_session(const struct tls_observation *o)
{
	const struct tls_client_hello *ch = &o->ch;
	const struct tls_server_hello *sh = &o->sh;
	return o->client_hello_seen && ch->session_id_len > 0 && sh->session_id_len == ch->session_id_len &&
	       memcmp(ch->session_id, sh->session_id, ch->session_id_len) == 0;
}

enum tls_server_hello_kind tls_parse_server_hello(struct tls_observation *o, struct reader *r)
{
	struct tls_server_hello sh = {0};
	sh.version = reader_u16(r);
	const uint8_t *random = reader_bytes(r, 32);
	bool draft = (sh.version >> 8) == 0x7f; /* TLS 1.3 drafts before 22: no session id, no compression */
	if (!draft)
		session_id(r, sh.session_id, &sh.session_id_len);
	uint16_t cipher = reader_u16(r);
	if (!draft)
		sh.compression = reader_u8(r);
	if (reader_failed(r) || !random) {
		tls_anomaly(o, TLS_ANOMALY_BAD_SERVER_HELLO);
		return TLS_SH_BAD;
	}
	bool retry = memcmp(random, hello_retry_random, 32) == 0;
	o->sh = sh;
	o->fp.server_extensions.count = 0; /* after a HelloRetryRequest: the real ServerHello's */
	o->version = sh.version;
	o->cipher = cipher;
	if (reader_left(r) > 0) {
		struct reader exts = reader_sub(r, reader_u16(r));
		if (!extensions(o, &exts, false, retry) || reader_failed(r))
			tls_anomaly(o, TLS_ANOMALY_BAD_SERVER_HELLO);
	}
	if (o->sh.supported_version)
		o->version = o->sh.supported_version;
	if (retry)
		return TLS_SH_RETRY;
	if (tls_version_is_13(o->version)) {
		o->resumed = o->sh.pre_shared_key;
		o->curve = o->sh.key_share_group;
	} else {
		o->resumed = echoes_session(o);
	}
	return TLS_SH_ACCEPTED;
}

/* Bits of a big-endian unsigned number: its length less the leading zero bits. */
static unsigned significant_bits(const uint8_t *n, size_t len)
{
	size_t i = 0;
	while (i < len && n[i] == 0)
		i++;
	if (i == len)
		return 0;
	unsigned bits = (unsigned)(len - i) * 8;
	for (uint8_t top = n[i]; !(top & 0x80); top <<= 1)
		bits--;
	return bits;
}

/*
 * RFC 8422 5.4: ServerECDHParams = curve_type u8 (3: named_curve) | namedcurve u16 | point <1..2^8-1>.
 * RFC 5246 7.4.3: ServerDHParams = dh_p <1..2^16-1> | dh_g | dh_Ys. Which one follows from the suite.
 */
void tls_parse_server_key_exchange(struct tls_observation *o, struct reader *r)
{
	const char *name = tls_cipher_name(o->cipher);
	if (!name)
		return;
	if (strstr(name, "_PSK_")) /* RFC 5489 2, RFC 4279 3: a psk_identity_hint<0..2^16-1> comes first */
		reader_skip(r, reader_u16(r));
	if (strstr(name, "_ECDHE_") || strstr(name, "_ECDH_anon_")) {
		uint8_t curve_type = reader_u8(r);
		uint16_t curve = reader_u16(r);
		if (reader_failed(r))
			tls_anomaly(o, TLS_ANOMALY_BAD_KEY_EXCHANGE);
		else if (curve_type == 3)
			o->curve = curve;
	} else if (strstr(name, "_DHE_") || strstr(name, "_DH_anon_")) {
		uint16_t len = reader_u16(r);
		const uint8_t *p = reader_bytes(r, len);
		if (!p)
			tls_anomaly(o, TLS_ANOMALY_BAD_KEY_EXCHANGE);
		else
			o->dh_prime_bits = significant_bits(p, len);
	}
}
