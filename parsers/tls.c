/*
 * tls.c: TLS handshake tracking for a passive observer.
 *
 * RFC 8446 5.1 (record layer), 4 (handshake), 6 (alerts); RFC 5246 for TLS 1.2
 * and earlier; RFC 6101 appendix E for the SSLv2-format ClientHello.
 *
 *   record:     +------+---------+---------+----------------------+
 *               | type | version | length  | fragment (length)    |
 *               |  u8  |   u16   |   u16   |                      |
 *               +------+---------+---------+----------------------+
 *   handshake:  +------+---------+------------------------------+
 *               | type | length  | body (length)                |
 *               |  u8  |   u24   |                              |
 *               +------+---------+------------------------------+
 *
 * Per direction: the 5-byte record header is assembled first, then the
 * fragment. Handshake fragments are appended to a bounded buffer and complete
 * messages are parsed out of it; alert and change_cipher_spec fragments are
 * tiny and kept in a small buffer; application data is only counted.
 * Established, as far as a passive observer can tell: TLS <= 1.2 when both
 * sides sent ChangeCipherSpec after the ServerHello; TLS 1.3 when the client
 * sends an encrypted record (its Finished) after the ServerHello.
 *
 * Hello and key exchange bodies are decoded in tls_hello.c. The server's
 * Certificate message (TLS <= 1.2, RFC 5246 7.4.2) is not buffered whole: it
 * is streamed, each certificate copied straight into its own allocation, so a
 * chain may be as long as the server likes while we keep at most
 * TLS_MAX_CERTS x TLS_MAX_CERT_LEN bytes.
 *
 *   Certificate:  certificate_list <0..2^24-1> of ASN.1Cert <1..2^24-1>
 */
#include "parsers/tls.h"

#include <stdlib.h>
#include <string.h>

#include "parsers/reader.h"
#include "parsers/tls_internal.h"

enum {
	TLS_RECORD_HEADER = 5,
	TLS_MAX_FRAGMENT = 16384 + 2048, /* RFC 5246 6.2.3: ciphertext may exceed plaintext by 2048 */
	TLS_MAX_HANDSHAKE = 65536,       /* one handshake message; a longer one is counted and skipped */
	TLS_SMALL_RECORD = 64,           /* alerts and change_cipher_spec are a few bytes */
};

enum tls_content {
	TLS_CHANGE_CIPHER_SPEC = 20,
	TLS_ALERT = 21,
	TLS_HANDSHAKE = 22,
	TLS_APPLICATION_DATA = 23,
	TLS_HEARTBEAT = 24,
	TLS_SSLV2_RECORD = 256, /* ours: the body of an SSLv2 CLIENT-HELLO or SERVER-HELLO */
};

/* A handshake message read as it arrives instead of buffered whole. */
enum tls_stream_kind {
	TLS_STREAM_SKIP,        /* an oversized message: bytes are dropped */
	TLS_STREAM_CERTIFICATE, /* the server's chain: certificates are copied out */
};

/* The streamed Certificate message: a u24 list length, then u24-prefixed certificates. */
struct tls_cert_stream {
	uint8_t len_bytes[3]; /* a u24 length being assembled */
	size_t len_have;
	bool list_started; /* the certificate_list length was read */
	bool in_entry;     /* inside a certificate's bytes */
	size_t entry_left; /* bytes of the current certificate still to come */
	size_t entry_len;
	uint8_t *entry; /* its copy being filled; NULL when it is dropped */
};

struct tls_direction {
	uint8_t header[TLS_RECORD_HEADER];
	size_t header_len;
	unsigned record_type; /* enum tls_content of the record being read */
	size_t record_left;   /* fragment bytes still to come */
	bool in_record;
	bool encrypted; /* after our ChangeCipherSpec (TLS <= 1.2) or the 1.3 ServerHello (server) */
	uint8_t small[TLS_SMALL_RECORD];
	size_t small_len;
	uint8_t *handshake; /* assembly of handshake messages, grows to at most TLS_MAX_HANDSHAKE + 4 */
	size_t handshake_len, handshake_cap;
	size_t stream_left; /* bytes of a streamed message still to come (0: none) */
	enum tls_stream_kind stream_kind;
};

struct tls_parser {
	struct tls_observation obs;
	struct tls_direction dir[2];
	struct tls_cert_stream cert;   /* the server's Certificate message */
	uint8_t *certs[TLS_MAX_CERTS]; /* owned copies behind obs.cert_der */
	bool decided;
};

static const char *const tls_anomaly_names[TLS_ANOMALY_COUNT] = {
    [TLS_ANOMALY_NOT_TLS] = "not_tls",
    [TLS_ANOMALY_HANDSHAKE_TOO_LONG] = "handshake_too_long",
    [TLS_ANOMALY_BAD_CLIENT_HELLO] = "bad_client_hello",
    [TLS_ANOMALY_BAD_SERVER_HELLO] = "bad_server_hello",
    [TLS_ANOMALY_BAD_EXTENSION] = "bad_extension",
    [TLS_ANOMALY_BAD_SNI] = "bad_sni",
    [TLS_ANOMALY_BAD_CERTIFICATE] = "bad_certificate",
    [TLS_ANOMALY_BAD_KEY_EXCHANGE] = "bad_key_exchange",
    [TLS_ANOMALY_OUT_OF_MEMORY] = "out_of_memory",
    [TLS_ANOMALY_RECORD_TOO_LONG] = "record_too_long",
};

const char *tls_anomaly_str(enum tls_anomaly a)
{
	if ((unsigned)a >= TLS_ANOMALY_COUNT)
		return NULL;
	return tls_anomaly_names[a];
}

void tls_anomaly(struct tls_observation *o, enum tls_anomaly a)
{
	o->anomaly[a]++;
	o->anomalies++;
}

const char *tls_outcome_str(enum tls_outcome o)
{
	switch (o) {
	case TLS_OUTCOME_NONE:
		return "none";
	case TLS_OUTCOME_IN_PROGRESS:
		return "in_progress";
	case TLS_OUTCOME_ESTABLISHED:
		return "established";
	case TLS_OUTCOME_ALERT:
		return "alert";
	case TLS_OUTCOME_NOT_TLS:
		return "not_tls";
	case TLS_OUTCOME_CLOSED:
		return "closed";
	case TLS_OUTCOME_GAP:
		return "gap";
	}
	return "unknown";
}

const char *tls_version_str(uint16_t version)
{
	switch (version) {
	case 0x0002:
		return "2.0";
	case TLS_VERSION_SSL3:
		return "3.0";
	case TLS_VERSION_1_0:
		return "1.0";
	case TLS_VERSION_1_1:
		return "1.1";
	case TLS_VERSION_1_2:
		return "1.2";
	case TLS_VERSION_1_3:
		return "1.3";
	}
	return NULL;
}

struct tls_parser *tls_parser_new(void)
{
	return calloc(1, sizeof(struct tls_parser));
}

void tls_parser_free(struct tls_parser *p)
{
	if (!p)
		return;
	free(p->dir[0].handshake);
	free(p->dir[1].handshake);
	free(p->cert.entry);
	for (int i = 0; i < TLS_MAX_CERTS; i++)
		free(p->certs[i]);
	tls_fingerprint_input_free(&p->obs.fp);
	free(p);
}

size_t tls_parser_memory(const struct tls_parser *p)
{
	if (!p)
		return 0;
	size_t n = sizeof *p + p->dir[0].handshake_cap + p->dir[1].handshake_cap;
	if (p->cert.entry)
		n += p->cert.entry_len;
	for (int i = 0; i < TLS_MAX_CERTS; i++)
		if (p->certs[i])
			n += p->obs.cert_len[i];
	return n + tls_fingerprint_input_memory(&p->obs.fp);
}

static void decide(struct tls_parser *p, enum tls_outcome outcome)
{
	p->obs.outcome = outcome;
	p->decided = true;
	for (int d = 0; d < 2; d++) { /* nothing more will be parsed */
		free(p->dir[d].handshake);
		p->dir[d].handshake = NULL;
		p->dir[d].handshake_len = p->dir[d].handshake_cap = 0;
	}
	free(p->cert.entry); /* a certificate cut short by the decision */
	p->cert.entry = NULL;
}

static void not_tls(struct tls_parser *p, enum tls_dir dir, const uint8_t *data, size_t len)
{
	size_t n = len < TLS_EVIDENCE_MAX ? len : TLS_EVIDENCE_MAX;
	memcpy(p->obs.not_tls_bytes, data, n);
	p->obs.not_tls_len = n;
	p->obs.not_tls_from = dir;
	decide(p, TLS_OUTCOME_NOT_TLS);
}

static void server_hello(struct tls_parser *p, struct reader *body)
{
	enum tls_server_hello_kind kind = tls_parse_server_hello(&p->obs, body);
	if (kind == TLS_SH_RETRY) {
		p->obs.hello_retry_request = true; /* not a real ServerHello: another ClientHello follows */
		p->obs.server_hello_seen = false;
	} else if (kind == TLS_SH_ACCEPTED) {
		p->obs.server_hello_seen = true;
		if (tls_version_is_13(p->obs.version))
			p->dir[TLS_FROM_SERVER].encrypted =
			    true; /* everything after is under handshake keys */
	}
}

/* Certificates and key exchange travel in clear only before TLS 1.3 (RFC 8446 4.4.2 encrypts them). */
static bool server_flight_in_clear(const struct tls_parser *p, enum tls_dir dir)
{
	return dir == TLS_FROM_SERVER && p->obs.server_hello_seen && !tls_version_is_13(p->obs.version) &&
	       p->obs.version != 0;
}

static void parse_handshake_message(struct tls_parser *p, enum tls_dir dir, uint8_t type, struct reader *body)
{
	if (type == TLS_HS_CLIENT_HELLO && dir == TLS_FROM_CLIENT)
		tls_parse_client_hello(&p->obs, body);
	else if (type == TLS_HS_SERVER_HELLO && dir == TLS_FROM_SERVER)
		server_hello(p, body);
	else if (type == TLS_HS_SERVER_KEY_EXCHANGE && server_flight_in_clear(p, dir))
		tls_parse_server_key_exchange(&p->obs, body);
}

/* Assembles a u24 across calls; true once its three bytes are in. */
static bool cert_length(struct tls_cert_stream *c, struct reader *r, size_t *out)
{
	while (c->len_have < 3 && reader_left(r) > 0)
		c->len_bytes[c->len_have++] = reader_u8(r);
	if (c->len_have < 3)
		return false;
	struct reader len = reader_make(c->len_bytes, 3);
	*out = reader_u24(&len);
	c->len_have = 0;
	return true;
}

/* A certificate's length is known: keep a copy if it fits the caps, else count it dropped. */
static void cert_begin(struct tls_parser *p, size_t len)
{
	struct tls_cert_stream *c = &p->cert;
	c->in_entry = true;
	c->entry_left = c->entry_len = len;
	c->entry = NULL;
	if (len == 0) {
		tls_anomaly(&p->obs, TLS_ANOMALY_BAD_CERTIFICATE); /* ASN.1Cert<1..2^24-1> */
		c->in_entry = false;
	} else if (p->obs.cert_count >= TLS_MAX_CERTS || len > TLS_MAX_CERT_LEN) {
		p->obs.certificates_dropped++;
	} else if (!(c->entry = malloc(len))) {
		tls_anomaly(&p->obs, TLS_ANOMALY_OUT_OF_MEMORY);
		p->obs.certificates_dropped++;
	}
}

static void cert_end(struct tls_parser *p)
{
	struct tls_cert_stream *c = &p->cert;
	if (c->entry) {
		unsigned i = p->obs.cert_count++;
		p->certs[i] = c->entry;
		p->obs.cert_der[i] = c->entry;
		p->obs.cert_len[i] = c->entry_len;
		c->entry = NULL;
	}
	c->in_entry = false;
}

/* The next bytes of the Certificate message body, in order; any cut is resumable. */
static void cert_bytes(struct tls_parser *p, const uint8_t *data, size_t len)
{
	struct tls_cert_stream *c = &p->cert;
	struct reader r = reader_make(data, len);
	while (reader_left(&r) > 0) {
		size_t n;
		if (!c->list_started) {
			if (cert_length(c, &r, &n))
				c->list_started =
				    true; /* the message boundary is what counts; n is checked at the end */
		} else if (!c->in_entry) {
			if (cert_length(c, &r, &n))
				cert_begin(p, n);
		} else {
			size_t take = reader_left(&r) < c->entry_left ? reader_left(&r) : c->entry_left;
			const uint8_t *b = reader_bytes(&r, take);
			if (c->entry)
				memcpy(c->entry + (c->entry_len - c->entry_left), b, take);
			c->entry_left -= take;
			if (c->entry_left == 0)
				cert_end(p);
		}
	}
}

/* The Certificate message ended: a certificate or length cut short by it is malformed. */
static void cert_finish(struct tls_parser *p)
{
	struct tls_cert_stream *c = &p->cert;
	if (c->in_entry || c->len_have > 0 || !c->list_started)
		tls_anomaly(&p->obs, TLS_ANOMALY_BAD_CERTIFICATE);
	free(c->entry);
	memset(c, 0, sizeof *c);
}

/* Bytes of a streamed message; at most d->stream_left of them. */
static void stream_bytes(struct tls_parser *p, enum tls_dir dir, const uint8_t *data, size_t len)
{
	struct tls_direction *d = &p->dir[dir];
	if (d->stream_kind == TLS_STREAM_CERTIFICATE)
		cert_bytes(p, data, len);
	d->stream_left -= len;
	if (d->stream_left == 0 && d->stream_kind == TLS_STREAM_CERTIFICATE)
		cert_finish(p);
}

/* A message header was read: stream the message (oversized, or the server's chain), or buffer it. */
static bool start_stream(struct tls_parser *p, enum tls_dir dir, uint8_t type, uint32_t len)
{
	struct tls_direction *d = &p->dir[dir];
	if (type == TLS_HS_CERTIFICATE && server_flight_in_clear(p, dir) && !p->obs.certificate_visible) {
		p->obs.certificate_visible =
		    true; /* streamed: no size cap on the message, only per certificate */
		d->stream_kind = TLS_STREAM_CERTIFICATE;
		memset(&p->cert, 0, sizeof p->cert);
		if (len == 0) {
			cert_finish(p);
			return true;
		}
	} else if (len > TLS_MAX_HANDSHAKE) {
		tls_anomaly(&p->obs, TLS_ANOMALY_HANDSHAKE_TOO_LONG);
		d->stream_kind = TLS_STREAM_SKIP;
	} else {
		return false;
	}
	d->stream_left = len;
	return true;
}

/*
 * Parses every complete message in the direction's handshake buffer, keeps
 * the partial rest. A message that is streamed takes the buffered bytes it
 * owns; when it goes on past them the buffer is left empty.
 */
static void drain_handshake(struct tls_parser *p, enum tls_dir dir)
{
	struct tls_direction *d = &p->dir[dir];
	size_t used = 0;
	while (d->handshake_len - used >= 4) {
		struct reader r = reader_make(d->handshake + used, d->handshake_len - used);
		uint8_t type = reader_u8(&r);
		uint32_t len = reader_u24(&r);
		if (start_stream(p, dir, type, len)) {
			used += 4;
			size_t have = d->handshake_len - used;
			size_t n = have < d->stream_left ? have : d->stream_left;
			if (n > 0)
				stream_bytes(p, dir, d->handshake + used, n);
			used += n;
			continue;
		}
		if (reader_left(&r) < len)
			break;
		struct reader body = reader_sub(&r, len);
		parse_handshake_message(p, dir, type, &body);
		used += 4 + len;
	}
	memmove(d->handshake, d->handshake + used, d->handshake_len - used);
	d->handshake_len -= used;
}

/* Grows the buffer toward what is needed, never past TLS_MAX_HANDSHAKE + 4: most hellos need 1-2 KiB. */
static bool grow_handshake_buffer(struct tls_direction *d, size_t more)
{
	size_t want = d->handshake_len + more, limit = TLS_MAX_HANDSHAKE + 4;
	if (want <= d->handshake_cap || d->handshake_cap == limit)
		return true;
	size_t cap = d->handshake_cap ? d->handshake_cap : 4096;
	while (cap < want && cap < limit)
		cap *= 2;
	if (cap > limit)
		cap = limit;
	uint8_t *grown = realloc(d->handshake, cap);
	if (!grown)
		return false;
	d->handshake = grown;
	d->handshake_cap = cap;
	return true;
}

static void handshake_fragment(struct tls_parser *p, enum tls_dir dir, const uint8_t *data, size_t len)
{
	struct tls_direction *d = &p->dir[dir];
	while (len > 0) {
		if (d->stream_left > 0) {
			size_t n = len < d->stream_left ? len : d->stream_left;
			stream_bytes(p, dir, data, n);
			data += n;
			len -= n;
			continue;
		}
		if (!grow_handshake_buffer(d, len)) {
			tls_anomaly(&p->obs, TLS_ANOMALY_OUT_OF_MEMORY);
			return;
		}
		size_t room = d->handshake_cap - d->handshake_len;
		size_t take = len < room ? len : room;
		memcpy(d->handshake + d->handshake_len, data, take);
		d->handshake_len += take;
		data += take;
		len -= take;
		drain_handshake(p, dir);
		if (take == 0) { /* cannot happen: drain always frees a full buffer; guard the loop anyway */
			tls_anomaly(&p->obs, TLS_ANOMALY_HANDSHAKE_TOO_LONG);
			return;
		}
	}
}

/* An SSLv2 hello body is buffered whole (at most 32 KiB) and parsed when the record ends. */
static void sslv2_fragment(struct tls_parser *p, enum tls_dir dir, const uint8_t *data, size_t len)
{
	struct tls_direction *d = &p->dir[dir];
	if (!grow_handshake_buffer(d, len) || d->handshake_cap - d->handshake_len < len) {
		tls_anomaly(&p->obs, TLS_ANOMALY_OUT_OF_MEMORY);
		return;
	}
	memcpy(d->handshake + d->handshake_len, data, len);
	d->handshake_len += len;
}

static void record_complete_small(struct tls_parser *p, enum tls_dir dir, unsigned type)
{
	struct tls_direction *d = &p->dir[dir];
	if (type == TLS_CHANGE_CIPHER_SPEC) {
		p->obs.change_cipher_spec[dir] = true;
		if (!tls_version_is_13(p->obs.version))
			d->encrypted = true;
	} else if (type == TLS_ALERT && d->small_len >= 2 && !d->encrypted) {
		if (!p->obs.alert_seen) {
			p->obs.alert_seen = true;
			p->obs.alert_level = d->small[0];
			p->obs.alert_description = d->small[1];
			p->obs.alert_from = dir;
		}
		/* Warnings (close_notify, unrecognized_name from some servers) do not end a handshake. */
		if (d->small[0] == 2)
			decide(p, TLS_OUTCOME_ALERT);
	}
	d->small_len = 0;
}

static void check_established(struct tls_parser *p, enum tls_dir dir, unsigned type)
{
	if (!p->obs.server_hello_seen || p->decided)
		return;
	if (tls_version_is_13(p->obs.version)) {
		if (dir == TLS_FROM_CLIENT && type == TLS_APPLICATION_DATA)
			decide(p, TLS_OUTCOME_ESTABLISHED);
	} else if (p->obs.change_cipher_spec[0] && p->obs.change_cipher_spec[1]) {
		decide(p, TLS_OUTCOME_ESTABLISHED);
	}
}

static void fragment(struct tls_parser *p, enum tls_dir dir, const uint8_t *data, size_t len)
{
	struct tls_direction *d = &p->dir[dir];
	switch (d->record_type) {
	case TLS_HANDSHAKE:
		if (!d->encrypted)
			handshake_fragment(p, dir, data, len);
		break;
	case TLS_ALERT:
	case TLS_CHANGE_CIPHER_SPEC: {
		size_t room = sizeof d->small - d->small_len;
		size_t take = len < room ? len : room;
		memcpy(d->small + d->small_len, data, take);
		d->small_len += take;
		break;
	}
	case TLS_SSLV2_RECORD:
		sslv2_fragment(p, dir, data, len);
		break;
	default: /* application data, heartbeat: counted only */
		break;
	}
}

/* The server's first record after an SSLv2-format hello may be an SSLv2 SERVER-HELLO. */
static bool sslv2_reply_due(const struct tls_parser *p)
{
	return p->obs.sslv2_client_hello && p->obs.records[TLS_FROM_SERVER] == 0;
}

/* Validates a record header; false when these bytes are not TLS. */
static bool start_record(struct tls_parser *p, enum tls_dir dir)
{
	struct tls_direction *d = &p->dir[dir];
	struct reader r = reader_make(d->header, TLS_RECORD_HEADER);
	uint8_t type = reader_u8(&r);
	uint16_t version = reader_u16(&r);
	uint16_t length = reader_u16(&r);
	/* RFC 6101 E.1: an SSLv2 CLIENT-HELLO: 2-byte length with the high bit set, then msg type 1. */
	if (dir == TLS_FROM_CLIENT && p->obs.records[dir] == 0 && (type & 0x80) && d->header[2] == 1) {
		size_t body = ((size_t)(type & 0x7F) << 8) | (version >> 8);
		if (body < 3)
			return false;
		p->obs.sslv2_client_hello = p->obs.client_hello_seen = true;
		p->obs.client_version = p->obs.ch.version = (uint16_t)(d->header[3] << 8 | d->header[4]);
		d->record_type = TLS_SSLV2_RECORD;
		d->record_left = body - 3;
		return true;
	}
	/* The SSLv2 SERVER-HELLO (msg type 4) answering one: msg type, session_id_hit, certificate_type. */
	if (dir == TLS_FROM_SERVER && sslv2_reply_due(p) && (type & 0x80) && d->header[2] == 4) {
		size_t body = ((size_t)(type & 0x7F) << 8) | (version >> 8);
		if (body < 3)
			return false;
		d->record_type = TLS_SSLV2_RECORD;
		d->record_left = body - 3;
		return true;
	}
	if (type < TLS_CHANGE_CIPHER_SPEC || type > TLS_HEARTBEAT || (version >> 8) != 3 || length == 0 ||
	    length > TLS_MAX_FRAGMENT)
		return false;
	d->record_type = type;
	d->record_left = length;
	d->small_len = 0;
	/* In clear an alert is 2 bytes (RFC 8446 6) and a change_cipher_spec 1 (RFC 5246 7.1): one longer
	 * than the small buffer is malformed, and its rest is not kept. Encrypted ones are opaque, only
	 * counted. */
	if ((type == TLS_ALERT || type == TLS_CHANGE_CIPHER_SPEC) && !d->encrypted &&
	    length > TLS_SMALL_RECORD)
		tls_anomaly(&p->obs, TLS_ANOMALY_RECORD_TOO_LONG);
	return true;
}

/* Decides on the first byte already, so that "250 ok" is not TLS even if the flow ends right after. */
static bool first_byte_plausible(const struct tls_parser *p, enum tls_dir dir)
{
	uint8_t b = p->dir[dir].header[0];
	bool sslv2 = (b & 0x80) && (dir == TLS_FROM_CLIENT ? p->obs.records[dir] == 0 : sslv2_reply_due(p));
	return sslv2 || (b >= TLS_CHANGE_CIPHER_SPEC && b <= TLS_HEARTBEAT);
}

/*
 * The server answered in SSLv2 (RFC 6101 E.1 names the message): it chose
 * SSL 2.0, and what follows is encrypted or SSLv2 framing, so the handshake is
 * decided here. Its certificate travels in clear and is kept like a chain of one.
 */
static void sslv2_server_hello(struct tls_parser *p, struct reader *body)
{
	struct reader cert;
	if (!tls_parse_sslv2_server_hello(&p->obs, body, &cert))
		return;
	p->obs.server_hello_seen = true;
	size_t len = reader_left(&cert);
	if (len > 0) {
		p->obs.certificate_visible = true;
		memset(&p->cert, 0, sizeof p->cert);
		cert_begin(p, len);
		if (p->cert.entry)
			memcpy(p->cert.entry, reader_bytes(&cert, len), len);
		cert_end(p);
	}
	decide(p, TLS_OUTCOME_ESTABLISHED);
}

static void end_record(struct tls_parser *p, enum tls_dir dir)
{
	struct tls_direction *d = &p->dir[dir];
	p->obs.records[dir]++;
	if (d->record_type == TLS_ALERT || d->record_type == TLS_CHANGE_CIPHER_SPEC)
		record_complete_small(p, dir, d->record_type);
	if (d->record_type == TLS_SSLV2_RECORD) {
		struct reader body = reader_make(d->handshake, d->handshake_len);
		if (dir == TLS_FROM_CLIENT)
			tls_parse_sslv2_client_hello(&p->obs, &body);
		else
			sslv2_server_hello(p, &body);
		d->handshake_len = 0;
	}
	if (!p->decided)
		check_established(p, dir, d->record_type);
	d->in_record = false;
	d->header_len = 0;
}

enum tls_status tls_parser_feed(struct tls_parser *p, enum tls_dir dir, const uint8_t *data, size_t len)
{
	struct tls_direction *d = &p->dir[dir];
	if (!p->decided && len > 0 && p->obs.outcome == TLS_OUTCOME_NONE)
		p->obs.outcome = TLS_OUTCOME_IN_PROGRESS;
	while (len > 0 && !p->decided) {
		if (!d->in_record) {
			size_t take = TLS_RECORD_HEADER - d->header_len;
			if (take > len)
				take = len;
			memcpy(d->header + d->header_len, data, take);
			d->header_len += take;
			data += take;
			len -= take;
			if (!first_byte_plausible(p, dir) ||
			    (d->header_len == TLS_RECORD_HEADER && !start_record(p, dir))) {
				uint8_t evidence[TLS_EVIDENCE_MAX];
				size_t n = d->header_len,
				       more = len < sizeof evidence - n ? len : sizeof evidence - n;
				memcpy(evidence, d->header, n);
				memcpy(evidence + n, data, more);
				tls_anomaly(&p->obs, TLS_ANOMALY_NOT_TLS);
				not_tls(p, dir, evidence, n + more);
				break;
			}
			if (d->header_len < TLS_RECORD_HEADER)
				break;
			d->in_record = true;
			if (d->record_left == 0)
				end_record(p, dir);
			continue;
		}
		size_t take = len < d->record_left ? len : d->record_left;
		fragment(p, dir, data, take);
		d->record_left -= take;
		data += take;
		len -= take;
		if (d->record_left == 0)
			end_record(p, dir);
	}
	return p->decided ? TLS_DECIDED : TLS_IN_PROGRESS;
}

void tls_parser_gap(struct tls_parser *p, enum tls_dir dir, uint64_t n)
{
	if (!p->decided)
		decide(p, TLS_OUTCOME_GAP);
}

void tls_parser_end(struct tls_parser *p, bool rst)
{
	/* Even with no TLS byte at all: the parser exists because TLS was due (hand-off or implicit port). */
	if (!p->decided)
		decide(p, TLS_OUTCOME_CLOSED);
}

const struct tls_observation *tls_parser_observation(const struct tls_parser *p)
{
	return &p->obs;
}

void tls_parser_release(struct tls_parser *p, struct tls_observation *out)
{
	*out = p->obs;
	/* The certificate copies and fingerprint lists now belong to *out. */
	for (int i = 0; i < TLS_MAX_CERTS; i++)
		p->certs[i] = NULL;
	memset(&p->obs.fp, 0, sizeof p->obs.fp);
	tls_parser_free(p);
}

size_t tls_observation_memory(const struct tls_observation *o)
{
	size_t n = tls_fingerprint_input_memory(&o->fp);
	for (unsigned i = 0; i < o->cert_count && i < TLS_MAX_CERTS; i++)
		n += o->cert_len[i];
	return n;
}

void tls_observation_free(struct tls_observation *o)
{
	for (unsigned i = 0; i < o->cert_count && i < TLS_MAX_CERTS; i++) {
		free((void *)o->cert_der[i]); /* owned since tls_parser_release */
		o->cert_der[i] = NULL;
	}
	o->cert_count = 0;
	tls_fingerprint_input_free(&o->fp);
}
