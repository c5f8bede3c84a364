/*
 * protocol_sniff.c: the first bytes of a direction, against the two openings a
 * mail port sees (see protocol_sniff.h).
 *
 *   TLS record (RFC 8446 5.1):  type u8 = 22 (handshake) | version u16 = 3.x
 *                               | length u16 | handshake type u8 = 1 (client_hello)
 *   SSLv2 CLIENT-HELLO (RFC 6101 E.1): 1 | length u15 | msg_type u8 = 1 | version u16 (0x0002 or 3.x)
 *   SMTP reply (RFC 5321 4.2):  [2-5] DIGIT DIGIT ( SP / "-" / CRLF )
 *
 * The answer comes from as few bytes as decide it: a first byte that fits
 * neither opening is "no" at once, so a stream is never held up for bytes
 * that cannot change the verdict.
 */
#include "parsers/protocol_sniff.h"

#include "parsers/reader.h"

const char *protocol_sniff_str(enum protocol_sniff v)
{
	switch (v) {
	case PROTOCOL_SNIFF_NO:
		return "no";
	case PROTOCOL_SNIFF_YES:
		return "yes";
	case PROTOCOL_SNIFF_NEED_MORE:
		return "need_more";
	}
	return "unknown";
}

/* RFC 6101 E.1: a two-byte header with the high bit set, then msg_type 1 and the client's version. */
static enum protocol_sniff sslv2_client_hello(struct reader *r)
{
	uint16_t length = reader_u16(r) & 0x7fff;
	uint8_t msg_type = reader_u8(r);
	if (!reader_failed(r) && (msg_type != 1 || length < 9))
		return PROTOCOL_SNIFF_NO;
	uint16_t version = reader_u16(r);
	if (reader_failed(r))
		return PROTOCOL_SNIFF_NEED_MORE;
	return version == 0x0002 || version >> 8 == 3 ? PROTOCOL_SNIFF_YES : PROTOCOL_SNIFF_NO;
}

enum protocol_sniff protocol_sniff_client_hello(const uint8_t *p, size_t n)
{
	struct reader r = reader_make(p, n);
	if (n == 0)
		return PROTOCOL_SNIFF_NEED_MORE;
	if (p[0] & 0x80)
		return sslv2_client_hello(&r);
	if (reader_u8(&r) != 22)
		return PROTOCOL_SNIFF_NO;
	uint8_t major = reader_u8(&r);
	if (!reader_failed(&r) && major != 3)
		return PROTOCOL_SNIFF_NO;
	uint8_t minor = reader_u8(&r);
	if (!reader_failed(&r) && minor > 4)
		return PROTOCOL_SNIFF_NO;
	uint16_t length = reader_u16(&r);
	if (!reader_failed(&r) && length == 0)
		return PROTOCOL_SNIFF_NO;
	uint8_t type = reader_u8(&r);
	if (reader_failed(&r))
		return PROTOCOL_SNIFF_NEED_MORE;
	return type == 1 ? PROTOCOL_SNIFF_YES : PROTOCOL_SNIFF_NO;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

enum protocol_sniff protocol_sniff_smtp_reply(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < 4; i++) {
		if (i >= n)
			return PROTOCOL_SNIFF_NEED_MORE;
		uint8_t c = p[i];
		bool ok = i == 0  ? c >= '2' && c <= '5'
		          : i < 3 ? is_digit(c)
		                  : c == ' ' || c == '-' || c == '\r' || c == '\n';
		if (!ok)
			return PROTOCOL_SNIFF_NO;
	}
	return PROTOCOL_SNIFF_YES;
}
