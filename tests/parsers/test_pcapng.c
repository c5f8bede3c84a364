/*
 * test_pcapng.c: pcapng blocks (parsers/pcapng.h), built by hand in either
 * byte order: sections, interface descriptions with their options, the three
 * packet blocks, and every way a block can be malformed or cut.
 */
#include "parsers/pcapng.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

struct blk {
	uint8_t b[4096];
	size_t len;
	bool be;
};

static void put(struct blk *k, const void *p, size_t n)
{
	if (n == 0) /* an empty option value may be NULL */
		return;
	cr_assert_leq(k->len + n, sizeof k->b);
	memcpy(k->b + k->len, p, n);
	k->len += n;
}

static void put16(struct blk *k, uint16_t v)
{
	uint8_t b[2] = {k->be ? v >> 8 : v & 0xff, k->be ? v & 0xff : v >> 8};
	put(k, b, 2);
}

static void put32(struct blk *k, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(k->be ? v >> (24 - 8 * i) : v >> (8 * i));
	put(k, b, 4);
}

static void pad(struct blk *k)
{
	static const uint8_t zero[4] = {0};
	put(k, zero, (4 - k->len % 4) % 4);
}

static void option(struct blk *k, uint16_t code, const void *v, uint16_t len)
{
	put16(k, code);
	put16(k, len);
	put(k, v, len);
	pad(k);
}

/* Starts a block of `type`; finish() writes both lengths. */
static struct blk start(uint32_t type, bool be)
{
	struct blk k = {.len = 0, .be = be};
	put32(&k, type);
	put32(&k, 0);
	return k;
}

static struct blk *finish(struct blk *k)
{
	uint32_t total = (uint32_t)k->len + 4;
	size_t at = k->len;
	put32(k, total);
	k->len = 4;
	put32(k, total);
	k->len = at + 4;
	return k;
}

static struct blk shb(bool be)
{
	struct blk k = start(PCAPNG_SHB_TYPE, be);
	put32(&k, 0x1a2b3c4d);
	put16(&k, 1);
	put16(&k, 0);
	put32(&k, 0xffffffff); /* section length -1: not given */
	put32(&k, 0xffffffff);
	finish(&k);
	return k;
}

static struct blk idb(bool be, uint16_t linktype, uint32_t snaplen, const char *name, int tsresol)
{
	struct blk k = start(1, be);
	put16(&k, linktype);
	put16(&k, 0);
	put32(&k, snaplen);
	if (name)
		option(&k, 2, name, (uint16_t)strlen(name));
	if (tsresol >= 0) {
		uint8_t r = (uint8_t)tsresol;
		option(&k, 9, &r, 1);
	}
	option(&k, 0, NULL, 0);
	finish(&k);
	return k;
}

static struct blk epb(bool be, uint32_t iface, uint64_t ts, const char *data, uint32_t origlen)
{
	struct blk k = start(6, be);
	uint32_t n = (uint32_t)strlen(data);
	put32(&k, iface);
	put32(&k, (uint32_t)(ts >> 32));
	put32(&k, (uint32_t)ts);
	put32(&k, n);
	put32(&k, origlen ? origlen : n);
	put(&k, data, n);
	pad(&k);
	finish(&k);
	return k;
}

static enum pcapng_result feed(struct pcapng_reader *r, const struct blk *k, struct pcapng_packet *p)
{
	uint32_t total = 0;
	enum pcapng_result res = pcapng_block_length(r, k->b, &total);
	if (res != PCAPNG_OK)
		return res;
	cr_assert_eq(total, k->len, "block length %u, built %zu", total, k->len);
	/* An exact-size copy, so ASan catches a read past the block. */
	uint8_t *copy = malloc(k->len);
	memcpy(copy, k->b, k->len);
	res = pcapng_block(r, copy, k->len, p);
	if (res == PCAPNG_PACKET) { /* keep the data readable for the caller: point into k */
		p->data = k->b + (p->data - copy);
	}
	free(copy);
	return res;
}

static void section_with_two_interfaces(struct pcapng_reader *r, bool be)
{
	pcapng_reader_init(r);
	struct pcapng_packet p;
	struct blk k = shb(be);
	cr_assert_eq(feed(r, &k, &p), PCAPNG_OK);
	k = idb(be, 1, 65535, "eth0", -1);
	cr_assert_eq(feed(r, &k, &p), PCAPNG_OK);
	k = idb(be, 113, 9000, "span1", 9);
	cr_assert_eq(feed(r, &k, &p), PCAPNG_OK);
}

Test(pcapng, reads_interfaces_and_packets_of_a_little_endian_section)
{
	struct pcapng_reader r;
	section_with_two_interfaces(&r, false);
	cr_assert_eq(r.ninterfaces, 2);
	cr_assert_eq(r.interfaces[0].linktype, 1);
	cr_assert_eq(r.interfaces[0].snaplen, 65535);
	cr_assert_str_eq(r.interfaces[0].name, "eth0");
	cr_assert_eq(r.interfaces[1].linktype, 113);
	cr_assert_str_eq(r.interfaces[1].name, "span1");
	cr_assert_eq(r.interfaces[1].units_per_second, 1000000000u);
	struct pcapng_packet p;
	struct blk k = epb(false, 1, 1700000000123456789ull, "hello", 60);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_PACKET);
	cr_assert_eq(p.interface, 1);
	cr_assert_eq(p.ts_us, 1700000000123456ull, "nanoseconds to microseconds");
	cr_assert_eq(p.caplen, 5);
	cr_assert_eq(p.len, 60);
	cr_assert_arr_eq(p.data, "hello", 5);
	k = epb(false, 0, 1700000000123456ull, "abcd", 0);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_PACKET);
	cr_assert_eq(p.interface, 0);
	cr_assert_eq(p.ts_us, 1700000000123456ull, "microseconds by default");
}

Test(pcapng, reads_a_big_endian_section_alike)
{
	struct pcapng_reader r;
	section_with_two_interfaces(&r, true);
	cr_assert_str_eq(r.interfaces[1].name, "span1");
	struct pcapng_packet p;
	struct blk k = epb(true, 1, 5000000001ull, "xyz", 0);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_PACKET);
	cr_assert_eq(p.ts_us, 5000000, "5 s and 1 ns");
	cr_assert_arr_eq(p.data, "xyz", 3);
}

Test(pcapng, converts_binary_resolutions_and_applies_the_offset)
{
	struct pcapng_reader r;
	pcapng_reader_init(&r);
	struct pcapng_packet p;
	struct blk k = shb(false);
	feed(&r, &k, &p);
	k = start(1, false);
	put16(&k, 1);
	put16(&k, 0);
	put32(&k, 0);
	uint8_t res = 0x80 | 20; /* 2^-20 s */
	option(&k, 9, &res, 1);
	uint8_t off[8] = {100}; /* +100 s, little-endian */
	option(&k, 14, off, 8);
	finish(&k);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_OK);
	k = epb(false, 0, (3ull << 20) | (1u << 19), "a", 0); /* 3.5 s */
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_PACKET);
	cr_assert_eq(p.ts_us, 103500000);
}

Test(pcapng, a_new_section_describes_its_interfaces_anew)
{
	struct pcapng_reader r;
	section_with_two_interfaces(&r, false);
	struct pcapng_packet p;
	struct blk k = shb(true);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_OK);
	cr_assert_eq(r.ninterfaces, 0);
	k = epb(true, 0, 0, "a", 0);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_UNKNOWN_INTERFACE);
}

Test(pcapng, reads_simple_and_obsolete_packet_blocks)
{
	struct pcapng_reader r;
	section_with_two_interfaces(&r, false);
	struct pcapng_packet p;
	struct blk k = start(3, false); /* SPB: interface 0, cut to the snap length and the block */
	put32(&k, 100);
	put(&k, "0123456789", 10);
	pad(&k);
	finish(&k);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_PACKET);
	cr_assert_eq(p.interface, 0);
	cr_assert_eq(p.len, 100);
	cr_assert_eq(p.caplen, 12, "what the block holds, padding included");
	k = start(2, false); /* PB: 16-bit interface id, drops */
	put16(&k, 1);
	put16(&k, 0);
	put32(&k, 0);
	put32(&k, 2000000000u);
	put32(&k, 3);
	put32(&k, 3);
	put(&k, "abc", 3);
	pad(&k);
	finish(&k);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_PACKET);
	cr_assert_eq(p.interface, 1);
	cr_assert_eq(p.ts_us, 2000000, "2 s in nanoseconds");
}

Test(pcapng, skips_blocks_it_has_no_use_for)
{
	struct pcapng_reader r;
	section_with_two_interfaces(&r, false);
	struct pcapng_packet p;
	struct blk k = start(5, false); /* interface statistics */
	put32(&k, 0);
	finish(&k);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_OK);
}

Test(pcapng, refuses_a_file_that_does_not_start_with_a_section)
{
	struct pcapng_reader r;
	pcapng_reader_init(&r);
	struct pcapng_packet p;
	struct blk k = idb(false, 1, 0, NULL, -1);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_NOT_PCAPNG);
	uint8_t pcap[12] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
	uint32_t total;
	cr_assert_eq(pcapng_block_length(&r, pcap, &total), PCAPNG_NOT_PCAPNG, "a classic pcap header");
}

Test(pcapng, names_every_malformed_length)
{
	struct pcapng_reader r;
	pcapng_reader_init(&r);
	struct pcapng_packet p;
	struct blk k = shb(false);
	feed(&r, &k, &p);
	uint32_t total;
	k = epb(false, 0, 0, "a", 0);
	k.b[4] = 14; /* not a multiple of 4 */
	cr_assert_eq(pcapng_block_length(&r, k.b, &total), PCAPNG_BAD_BLOCK_LENGTH);
	k.b[4] = 8;
	cr_assert_eq(pcapng_block_length(&r, k.b, &total), PCAPNG_BAD_BLOCK_LENGTH);
	k.b[4] = 0, k.b[5] = 0, k.b[6] = 0, k.b[7] = 2; /* 32 MiB */
	cr_assert_eq(pcapng_block_length(&r, k.b, &total), PCAPNG_BLOCK_TOO_LARGE);
	k = epb(false, 0, 0, "a", 0);
	k.b[k.len - 4] ^= 4; /* the trailing copy differs */
	cr_assert_eq(pcapng_block(&r, k.b, k.len, &p), PCAPNG_BAD_BLOCK_LENGTH);
	k = shb(false);
	k.b[8] = 0x11; /* byte-order magic */
	cr_assert_eq(pcapng_block_length(&r, k.b, &total), PCAPNG_BAD_BYTE_ORDER);
	k = shb(false);
	k.b[12] = 2; /* major version 2 */
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_BAD_VERSION);
}

Test(pcapng, a_captured_length_past_the_block_is_truncated)
{
	struct pcapng_reader r;
	section_with_two_interfaces(&r, false);
	struct pcapng_packet p;
	struct blk k = epb(false, 0, 0, "abcd", 0);
	k.b[20] = 200; /* captured length */
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_BLOCK_TRUNCATED);
}

Test(pcapng, an_option_past_the_block_is_truncated)
{
	struct pcapng_reader r;
	pcapng_reader_init(&r);
	struct pcapng_packet p;
	struct blk k = shb(false);
	feed(&r, &k, &p);
	k = idb(false, 1, 0, "eth0", -1);
	k.b[18] = 200; /* if_name length */
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_BLOCK_TRUNCATED);
	k = start(1, false);
	put16(&k, 1);
	put16(&k, 0);
	put32(&k, 0);
	uint8_t bad = 20; /* 10^-20: more units than 64 bits hold */
	option(&k, 9, &bad, 1);
	finish(&k);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_BAD_TIMESTAMP_RESOLUTION);
}

Test(pcapng, keeps_names_printable_and_cut_to_fit)
{
	struct pcapng_reader r;
	pcapng_reader_init(&r);
	struct pcapng_packet p;
	struct blk k = shb(false);
	feed(&r, &k, &p);
	char name[100];
	memset(name, 'x', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	name[2] = '\n';
	k = idb(false, 1, 0, name, -1);
	cr_assert_eq(feed(&r, &k, &p), PCAPNG_OK);
	cr_assert_eq(strlen(r.interfaces[0].name), PCAPNG_NAME_MAX - 1);
	cr_assert_eq(r.interfaces[0].name[2], '?');
}

Test(pcapng, caps_the_interfaces_of_a_section)
{
	struct pcapng_reader *r = malloc(sizeof *r);
	pcapng_reader_init(r);
	struct pcapng_packet p;
	struct blk k = shb(false);
	feed(r, &k, &p);
	k = idb(false, 1, 0, NULL, -1);
	for (int i = 0; i < PCAPNG_MAX_INTERFACES; i++)
		cr_assert_eq(feed(r, &k, &p), PCAPNG_OK);
	cr_assert_eq(feed(r, &k, &p), PCAPNG_TOO_MANY_INTERFACES);
	free(r);
}

Test(pcapng, every_prefix_of_a_block_is_refused_without_reading_past_it)
{
	struct pcapng_reader r;
	section_with_two_interfaces(&r, false);
	const struct blk blocks[] = {epb(false, 1, 123, "some packet data", 0), idb(false, 1, 0, "eth9", 9)};
	for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
		for (size_t n = 0; n < blocks[b].len; n++) {
			uint8_t *copy = malloc(n ? n : 1);
			memcpy(copy, blocks[b].b, n);
			struct pcapng_packet p;
			enum pcapng_result res = pcapng_block(&r, copy, n, &p);
			cr_assert(res != PCAPNG_OK && res != PCAPNG_PACKET, "block %zu cut at %zu: %s", b, n,
			          pcapng_result_str(res));
			free(copy);
		}
	}
	cr_assert_eq(r.ninterfaces, 2, "no cut block described an interface");
}
