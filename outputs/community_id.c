/*
 * community_id.c: Community ID v1 (corelight/community-id-spec).
 *
 * The hashed bytes, all in network byte order (4-byte aligned as the spec says):
 *
 *    0      2                 2+A               2+2A  +1  +2     +4     +6
 *   +------+-----------------+-----------------+-----+---+------+------+
 *   | seed | smaller address | larger address  |proto| 0 | port | port |
 *   +------+-----------------+-----------------+-----+---+------+------+
 *
 * A is 4 (IPv4) or 16 (IPv6). "Smaller" orders (address, port) pairs: the
 * addresses compare as big-endian bytes, and when they are equal the ports
 * decide. Each port travels with its address. The 20-byte SHA-1 of that is
 * base64-encoded (RFC 4648 section 4, with padding) and prefixed with "1:".
 */
#include "outputs/community_id.h"

#include <stdbool.h>
#include <string.h>

#include "parsers/digest.h"

enum { SHA1_LEN = 20, HASH_INPUT_MAX = 2 + 16 + 16 + 2 + 2 + 2 };

/* RFC 4648 section 4 base64 with '=' padding; out holds 4 * ceil(len / 3) + 1 bytes. */
static void base64_encode(const uint8_t *in, size_t len, char *out)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = alphabet[(v >> 18) & 0x3F];
		out[o++] = alphabet[(v >> 12) & 0x3F];
		out[o++] = i + 1 < len ? alphabet[(v >> 6) & 0x3F] : '=';
		out[o++] = i + 2 < len ? alphabet[v & 0x3F] : '=';
	}
	out[o] = '\0';
}

static size_t put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

/* Whether (a, a_port) sorts strictly after (b, b_port). */
static bool endpoint_after(const uint8_t *a, uint16_t a_port, const uint8_t *b, uint16_t b_port,
                           size_t addr_len)
{
	int c = memcmp(a, b, addr_len);
	return c > 0 || (c == 0 && a_port > b_port);
}

int community_id_v1(const struct ip_addr *a, uint16_t a_port, const struct ip_addr *b, uint16_t b_port,
                    uint8_t proto, uint16_t seed, char out[COMMUNITY_ID_LEN])
{
	out[0] = '\0';
	if (a->family != b->family || (a->family != 4 && a->family != 6))
		return -1;
	size_t addr_len = a->family == 4 ? 4 : 16;
	if (endpoint_after(a->bytes, a_port, b->bytes, b_port, addr_len)) {
		const struct ip_addr *t = a;
		a = b;
		b = t;
		uint16_t tp = a_port;
		a_port = b_port;
		b_port = tp;
	}
	uint8_t input[HASH_INPUT_MAX];
	size_t n = put_u16(input, seed);
	memcpy(input + n, a->bytes, addr_len);
	n += addr_len;
	memcpy(input + n, b->bytes, addr_len);
	n += addr_len;
	input[n++] = proto;
	input[n++] = 0; /* padding */
	n += put_u16(input + n, a_port);
	n += put_u16(input + n, b_port);

	uint8_t hash[SHA1_LEN];
	if (digest_sha1_raw(input, n, hash) != 0)
		return -1;
	memcpy(out, "1:", 2);
	base64_encode(hash, sizeof hash, out + 2);
	return 0;
}
