/*
 * pcapng.c: pcapng blocks (draft-ietf-opsawg-pcapng-02; libpcap's sf-pcapng.c
 * and Wireshark's wiretap/pcapng.c read the same).
 *
 * References:
 *   General block structure      4.1 (length a multiple of 4, repeated at the end)
 *   Section Header Block         4.1 (byte-order magic 0x1a2b3c4d sets the section's byte order)
 *   Interface Description Block  4.2 (if_name 2, if_tsresol 9, if_tsoffset 14)
 *   Enhanced Packet Block        4.3
 *   Simple Packet Block          4.4 (interface 0, no timestamp)
 *   Packet Block (obsolete)      Appendix A (16-bit interface id)
 *   Options                      3.5 (code, length, value padded to 32 bits)
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +---------------------------------------------------------------+
 *   |                          Block Type                           |
 *   +---------------------------------------------------------------+
 *   |                      Block Total Length                       |
 *   +---------------------------------------------------------------+
 *   /                          Block Body                           /
 *   +---------------------------------------------------------------+
 *   |                      Block Total Length                       |
 *   +---------------------------------------------------------------+
 *
 *   SHB body: byte-order magic 4, major 2, minor 2, section length 8, options
 *   IDB body: link type 2, reserved 2, snap length 4, options
 *   EPB body: interface id 4, timestamp high 4, low 4, captured length 4,
 *             original length 4, data (padded to 32 bits), options
 *
 * Every field is read through the byte reader (big-endian); a little-endian
 * section swaps what it read.
 */
#include "parsers/pcapng.h"

#include "parsers/reader.h"

#include <string.h>

enum {
	BLOCK_IDB = 1,
	BLOCK_PB = 2,
	BLOCK_SPB = 3,
	BLOCK_EPB = 6,
	BYTE_ORDER_MAGIC = 0x1a2b3c4d,
	OPT_END = 0,
	OPT_IF_NAME = 2,
	OPT_IF_TSRESOL = 9,
	OPT_IF_TSOFFSET = 14,
};

static const char *const pcapng_result_names[] = {
    [PCAPNG_OK] = "ok",
    [PCAPNG_PACKET] = "packet",
    [PCAPNG_NOT_PCAPNG] = "not_pcapng",
    [PCAPNG_BAD_BYTE_ORDER] = "bad_byte_order",
    [PCAPNG_BAD_VERSION] = "bad_version",
    [PCAPNG_BAD_BLOCK_LENGTH] = "bad_block_length",
    [PCAPNG_BLOCK_TOO_LARGE] = "block_too_large",
    [PCAPNG_BLOCK_TRUNCATED] = "block_truncated",
    [PCAPNG_TOO_MANY_INTERFACES] = "too_many_interfaces",
    [PCAPNG_UNKNOWN_INTERFACE] = "unknown_interface",
    [PCAPNG_BAD_TIMESTAMP_RESOLUTION] = "bad_timestamp_resolution",
};

_Static_assert(sizeof pcapng_result_names / sizeof pcapng_result_names[0] == PCAPNG_RESULT_COUNT,
               "pcapng_result_names must name every enum pcapng_result");

const char *pcapng_result_str(enum pcapng_result r)
{
	if ((unsigned)r >= PCAPNG_RESULT_COUNT)
		return "unknown";
	return pcapng_result_names[r];
}

void pcapng_reader_init(struct pcapng_reader *r)
{
	memset(r, 0, sizeof *r);
}

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)(v >> 8 | v << 8);
}

static uint32_t swap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

static uint16_t rd16(struct reader *rd, bool big_endian)
{
	uint16_t v = reader_u16(rd);
	return big_endian ? v : swap16(v);
}

static uint32_t rd32(struct reader *rd, bool big_endian)
{
	uint32_t v = reader_u32(rd);
	return big_endian ? v : swap32(v);
}

static uint64_t rd64(struct reader *rd, bool big_endian)
{
	uint64_t a = rd32(rd, big_endian), b = rd32(rd, big_endian);
	return big_endian ? a << 32 | b : b << 32 | a;
}

enum pcapng_result pcapng_block_length(struct pcapng_reader *r, const uint8_t hdr[12], uint32_t *total)
{
	struct reader rd = reader_make(hdr, 12);
	uint32_t type = reader_u32(&rd); /* the section header's type reads the same either way */
	uint32_t len = reader_u32(&rd);
	uint32_t magic = reader_u32(&rd);
	if (type == PCAPNG_SHB_TYPE) {
		if (magic == BYTE_ORDER_MAGIC)
			r->big_endian = true;
		else if (magic == swap32(BYTE_ORDER_MAGIC))
			r->big_endian = false;
		else
			return PCAPNG_BAD_BYTE_ORDER;
		r->in_section = true;
	} else if (!r->in_section) {
		return PCAPNG_NOT_PCAPNG;
	}
	*total = r->big_endian ? len : swap32(len);
	if (*total < 12 || *total % 4 != 0)
		return PCAPNG_BAD_BLOCK_LENGTH;
	if (*total > PCAPNG_MAX_BLOCK)
		return PCAPNG_BLOCK_TOO_LARGE;
	return PCAPNG_OK;
}

/* if_tsresol (4.2): bit 7 clear, 10^-v seconds; set, 2^-v. Units must fit 64 bits. */
static bool set_resolution(struct pcapng_interface *i, uint8_t v)
{
	unsigned exp = v & 0x7f;
	uint64_t units = 1;
	if (v & 0x80) {
		if (exp > 63)
			return false;
		units <<= exp;
	} else {
		if (exp > 19)
			return false;
		while (exp--)
			units *= 10;
	}
	i->units_per_second = units;
	return true;
}

static void set_name(struct pcapng_interface *i, const uint8_t *v, size_t len)
{
	size_t n = 0;
	for (size_t k = 0; k < len && n + 1 < sizeof i->name && v[k] != '\0'; k++)
		i->name[n++] =
		    v[k] >= 0x20 && v[k] != 0x7f ? (char)v[k] : '?'; /* control bytes are not a name */
	i->name[n] = '\0';
}

/* The options of an interface description (3.5); the first if_name, if_tsresol, if_tsoffset count. */
static enum pcapng_result read_if_options(struct reader *opts, bool be, struct pcapng_interface *i)
{
	bool named = false, resolved = false, offset = false;
	while (reader_left(opts) >= 4) {
		uint16_t code = rd16(opts, be), len = rd16(opts, be);
		if (code == OPT_END)
			break;
		struct reader v = reader_sub(opts, len);
		reader_skip(opts, (4 - len % 4) % 4);
		if (reader_failed(opts) || reader_failed(&v))
			return PCAPNG_BLOCK_TRUNCATED;
		if (code == OPT_IF_NAME && !named) {
			set_name(i, v.p, len);
			named = true;
		} else if (code == OPT_IF_TSRESOL && len == 1 && !resolved) {
			if (!set_resolution(i, reader_u8(&v)))
				return PCAPNG_BAD_TIMESTAMP_RESOLUTION;
			resolved = true;
		} else if (code == OPT_IF_TSOFFSET && len == 8 && !offset) {
			i->offset_seconds = (int64_t)rd64(&v, be);
			offset = true;
		}
	}
	return PCAPNG_OK;
}

static enum pcapng_result read_idb(struct pcapng_reader *r, struct reader *body)
{
	if (r->ninterfaces == PCAPNG_MAX_INTERFACES)
		return PCAPNG_TOO_MANY_INTERFACES;
	struct pcapng_interface i = {.units_per_second = 1000000u};
	i.linktype = rd16(body, r->big_endian);
	reader_skip(body, 2); /* reserved */
	i.snaplen = rd32(body, r->big_endian);
	if (reader_failed(body))
		return PCAPNG_BLOCK_TRUNCATED;
	enum pcapng_result res = read_if_options(body, r->big_endian, &i);
	if (res != PCAPNG_OK)
		return res;
	r->interfaces[r->ninterfaces++] = i;
	return PCAPNG_OK;
}

/* A timestamp in the interface's units to microseconds since the epoch, saturating. */
static uint64_t to_us(const struct pcapng_interface *i, uint64_t ts)
{
	uint64_t units = i->units_per_second;
	uint64_t secs = ts / units, frac = ts % units;
	/* frac < units: decimal resolutions divide exactly; binary ones go through long double (64-bit
	 * mantissa). */
	uint64_t us;
	if (1000000u % units == 0)
		us = frac * (1000000u / units);
	else if (units % 1000000u == 0)
		us = frac / (units / 1000000u);
	else
		us = (uint64_t)((long double)frac * 1e6L / (long double)units);
	int64_t off = i->offset_seconds;
	if (off < 0 && (uint64_t)-off > secs)
		return 0;
	secs = off < 0 ? secs - (uint64_t)-off : secs + (uint64_t)off;
	if (secs > (UINT64_MAX - us) / 1000000u)
		return UINT64_MAX;
	return secs * 1000000u + us;
}

/* The packet blocks: EPB, SPB and the obsolete PB. Data are cut to what the block holds. */
static enum pcapng_result read_packet(struct pcapng_reader *r, uint32_t type, struct reader *body,
                                      struct pcapng_packet *out)
{
	const bool be = r->big_endian;
	uint32_t iface = 0, caplen, len;
	uint64_t ts = 0;
	if (type == BLOCK_SPB) {
		len = rd32(body, be);
		caplen = len;
	} else {
		iface = type == BLOCK_PB ? rd16(body, be) : rd32(body, be);
		if (type == BLOCK_PB)
			reader_skip(body, 2); /* drops count */
		uint64_t hi = rd32(body, be);
		ts = hi << 32 | rd32(body, be);
		caplen = rd32(body, be);
		len = rd32(body, be);
	}
	if (reader_failed(body))
		return PCAPNG_BLOCK_TRUNCATED;
	if (iface >= r->ninterfaces)
		return PCAPNG_UNKNOWN_INTERFACE;
	const struct pcapng_interface *i = &r->interfaces[iface];
	/* SPB: the data are the original packet cut to the snap length and the block (4.4). */
	if (type == BLOCK_SPB) {
		if (i->snaplen && caplen > i->snaplen)
			caplen = i->snaplen;
		if (caplen > reader_left(body))
			caplen = (uint32_t)reader_left(body);
	}
	out->data = reader_bytes(body, caplen);
	if (out->data == NULL)
		return PCAPNG_BLOCK_TRUNCATED;
	out->interface = iface;
	out->caplen = caplen;
	out->len = len < caplen ? caplen : len;
	out->ts_us = type == BLOCK_SPB ? 0 : to_us(i, ts);
	return PCAPNG_PACKET;
}

static enum pcapng_result read_shb(struct pcapng_reader *r, struct reader *body)
{
	reader_skip(body, 4); /* byte-order magic, read by pcapng_block_length */
	uint16_t major = rd16(body, r->big_endian);
	if (reader_failed(body))
		return PCAPNG_BLOCK_TRUNCATED;
	if (major != 1)
		return PCAPNG_BAD_VERSION;
	r->ninterfaces = 0; /* a new section describes its interfaces anew */
	return PCAPNG_OK;
}

enum pcapng_result pcapng_block(struct pcapng_reader *r, const uint8_t *block, size_t len,
                                struct pcapng_packet *out)
{
	if (len < 12)
		return PCAPNG_BAD_BLOCK_LENGTH;
	uint32_t total;
	enum pcapng_result res = pcapng_block_length(r, block, &total);
	if (res != PCAPNG_OK)
		return res;
	if (total != len)
		return PCAPNG_BAD_BLOCK_LENGTH;
	struct reader rd = reader_make(block, len);
	uint32_t type = rd32(&rd, r->big_endian);
	reader_skip(&rd, 4);
	struct reader body = reader_sub(&rd, len - 12);
	if (rd32(&rd, r->big_endian) != total)
		return PCAPNG_BAD_BLOCK_LENGTH;
	switch (type) {
	case PCAPNG_SHB_TYPE:
		return read_shb(r, &body);
	case BLOCK_IDB:
		return read_idb(r, &body);
	case BLOCK_EPB:
	case BLOCK_SPB:
	case BLOCK_PB:
		return read_packet(r, type, &body, out);
	default: /* name resolution, statistics, decryption secrets, custom: not ours */
		return PCAPNG_OK;
	}
}
