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
 */
#include "parsers/tls.h"

#include <stdlib.h>
#include <string.h>

#include "parsers/reader.h"

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
	TLS_SSLV2_RECORD = 256, /* ours: the body of an SSLv2-format ClientHello */
};

enum { TLS_HS_CLIENT_HELLO = 1, TLS_HS_SERVER_HELLO = 2 };
enum { TLS_EXT_SUPPORTED_VERSIONS = 43 };

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
	bool skipping_handshake; /* an oversized message is being skipped */
	size_t skip_left;
};

struct tls_parser {
	struct tls_observation obs;
	struct tls_direction dir[2];
	bool decided;
};

/* RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t hello_retry_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

const char *tls_outcome_str(enum tls_outcome o)
{
	switch (o) {
	case TLS_OUTCOME_NONE: return "none";
	case TLS_OUTCOME_IN_PROGRESS: return "in_progress";
	case TLS_OUTCOME_ESTABLISHED: return "established";
	case TLS_OUTCOME_ALERT: return "alert";
	case TLS_OUTCOME_NOT_TLS: return "not_tls";
	case TLS_OUTCOME_CLOSED: return "closed";
	case TLS_OUTCOME_GAP: return "gap";
	}
	return "unknown";
}

const char *tls_version_str(uint16_t version)
{
	switch (version) {
	case 0x0002: return "2.0";
	case 0x0300: return "3.0";
	case 0x0301: return "1.0";
	case 0x0302: return "1.1";
	case 0x0303: return "1.2";
	case 0x0304: return "1.3";
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
	free(p);
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
}

static void not_tls(struct tls_parser *p, enum tls_dir dir, const uint8_t *data, size_t len)
{
	size_t n = len < TLS_EVIDENCE_MAX ? len : TLS_EVIDENCE_MAX;
	memcpy(p->obs.not_tls_bytes, data, n);
	p->obs.not_tls_len = n;
	p->obs.not_tls_from = dir;
	decide(p, TLS_OUTCOME_NOT_TLS);
}

/* Reads the extensions block of a ServerHello for supported_versions (RFC 8446 4.2.1). */
static void server_hello_extensions(struct tls_parser *p, struct reader *exts)
{
	while (reader_left(exts) >= 4) {
		uint16_t type = reader_u16(exts);
		struct reader body = reader_sub(exts, reader_u16(exts));
		if (type == TLS_EXT_SUPPORTED_VERSIONS) {
			uint16_t v = reader_u16(&body);
			if (!reader_failed(&body))
				p->obs.version = v;
		}
	}
}

static void parse_server_hello(struct tls_parser *p, struct reader *r)
{
	uint16_t legacy = reader_u16(r);
	const uint8_t *random = reader_bytes(r, 32);
	reader_skip(r, reader_u8(r)); /* session id */
	uint16_t cipher = reader_u16(r);
	reader_skip(r, 1); /* compression */
	if (reader_failed(r) || !random) {
		p->obs.anomalies++;
		return;
	}
	p->obs.server_hello_seen = true;
	p->obs.version = legacy;
	p->obs.cipher = cipher;
	if (reader_left(r) >= 2) {
		struct reader exts = reader_sub(r, reader_u16(r));
		server_hello_extensions(p, &exts);
	}
	if (memcmp(random, hello_retry_random, 32) == 0) {
		p->obs.hello_retry_request = true; /* not a real ServerHello: another ClientHello follows */
		p->obs.server_hello_seen = false;
		return;
	}
	if (p->obs.version == 0x0304)
		p->dir[TLS_FROM_SERVER].encrypted = true; /* everything after is under handshake keys */
}

static void parse_handshake_message(struct tls_parser *p, enum tls_dir dir, uint8_t type, struct reader *body)
{
	if (type == TLS_HS_CLIENT_HELLO && dir == TLS_FROM_CLIENT) {
		p->obs.client_hello_seen = true;
		p->obs.client_version = reader_u16(body);
	} else if (type == TLS_HS_SERVER_HELLO && dir == TLS_FROM_SERVER) {
		parse_server_hello(p, body);
	}
}

/* Parses every complete message in the direction's handshake buffer, keeps the partial rest. */
static void drain_handshake(struct tls_parser *p, enum tls_dir dir)
{
	struct tls_direction *d = &p->dir[dir];
	size_t used = 0;
	while (d->handshake_len - used >= 4) {
		struct reader r = reader_make(d->handshake + used, d->handshake_len - used);
		uint8_t type = reader_u8(&r);
		uint32_t len = reader_u24(&r);
		if (len > TLS_MAX_HANDSHAKE) { /* skip it without buffering */
			p->obs.anomalies++;
			d->skipping_handshake = true;
			d->skip_left = len;
			used += 4;
			size_t have = d->handshake_len - used;
			size_t skip = have < d->skip_left ? have : d->skip_left;
			used += skip;
			d->skip_left -= skip;
			d->skipping_handshake = d->skip_left > 0;
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
	if (d->skipping_handshake) {
		size_t skip = len < d->skip_left ? len : d->skip_left;
		d->skip_left -= skip;
		d->skipping_handshake = d->skip_left > 0;
		data += skip;
		len -= skip;
	}
	if (len == 0)
		return;
	if (!grow_handshake_buffer(d, len)) {
		p->obs.anomalies++;
		return;
	}
	while (len > 0) {
		size_t room = d->handshake_cap - d->handshake_len;
		size_t take = len < room ? len : room;
		memcpy(d->handshake + d->handshake_len, data, take);
		d->handshake_len += take;
		data += take;
		len -= take;
		drain_handshake(p, dir);
		if (take == 0) { /* cannot happen: drain always frees a full buffer; guard the loop anyway */
			p->obs.anomalies++;
			return;
		}
	}
}

static void record_complete_small(struct tls_parser *p, enum tls_dir dir, unsigned type)
{
	struct tls_direction *d = &p->dir[dir];
	if (type == TLS_CHANGE_CIPHER_SPEC) {
		p->obs.change_cipher_spec[dir] = true;
		if (p->obs.version != 0x0304)
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
	if (p->obs.version == 0x0304) {
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
	default: /* application data, heartbeat, the SSLv2 hello body: counted only */
		break;
	}
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
		p->obs.client_version = (uint16_t)(d->header[3] << 8 | d->header[4]);
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
	return true;
}

/* Decides on the first byte already, so that "250 ok" is not TLS even if the flow ends right after. */
static bool first_byte_plausible(const struct tls_parser *p, enum tls_dir dir)
{
	uint8_t b = p->dir[dir].header[0];
	bool sslv2 = dir == TLS_FROM_CLIENT && p->obs.records[dir] == 0 && (b & 0x80);
	return sslv2 || (b >= TLS_CHANGE_CIPHER_SPEC && b <= TLS_HEARTBEAT);
}

static void end_record(struct tls_parser *p, enum tls_dir dir)
{
	struct tls_direction *d = &p->dir[dir];
	p->obs.records[dir]++;
	if (d->record_type == TLS_ALERT || d->record_type == TLS_CHANGE_CIPHER_SPEC)
		record_complete_small(p, dir, d->record_type);
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
			if (!first_byte_plausible(p, dir) || (d->header_len == TLS_RECORD_HEADER && !start_record(p, dir))) {
				uint8_t evidence[TLS_EVIDENCE_MAX];
				size_t n = d->header_len, more = len < sizeof evidence - n ? len : sizeof evidence - n;
				memcpy(evidence, d->header, n);
				memcpy(evidence + n, data, more);
				p->obs.anomalies++;
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
