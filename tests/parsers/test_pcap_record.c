/*
 * test_pcap_record.c: classic pcap headers as libpcap reads them: both byte
 * orders, micro- and nanosecond magics, the snapshot length libpcap takes,
 * records cut to it, and what is left to libpcap (old versions, other magics).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "parsers/pcap_record.h"

static void put32(uint8_t *p, uint32_t v, bool little)
{
	for (int i = 0; i < 4; i++)
		p[little ? i : 3 - i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *p, uint16_t v, bool little)
{
	p[little ? 0 : 1] = (uint8_t)v;
	p[little ? 1 : 0] = (uint8_t)(v >> 8);
}

static void file_header(uint8_t h[PCAP_FILE_HEADER_LEN], uint32_t magic, bool little, uint16_t major,
                        uint16_t minor, uint32_t snaplen, uint32_t linktype)
{
	memset(h, 0, PCAP_FILE_HEADER_LEN);
	put32(h, magic, little);
	put16(h + 4, major, little);
	put16(h + 6, minor, little);
	put32(h + 16, snaplen, little);
	put32(h + 20, linktype, little);
}

static void record_header(uint8_t r[PCAP_RECORD_HEADER_LEN], uint32_t sec, uint32_t frac, uint32_t caplen,
                          uint32_t len, bool little)
{
	put32(r, sec, little);
	put32(r + 4, frac, little);
	put32(r + 8, caplen, little);
	put32(r + 12, len, little);
}

Test(pcap_record, either_byte_order_and_either_time_unit)
{
	for (int little = 0; little < 2; little++) {
		for (int nano = 0; nano < 2; nano++) {
			uint8_t h[PCAP_FILE_HEADER_LEN], r[PCAP_RECORD_HEADER_LEN];
			file_header(h, nano ? 0xa1b23c4d : 0xa1b2c3d4, little, 2, 4, 65535, 1);
			struct pcap_format f;
			cr_assert(pcap_record_format(h, sizeof h, &f));
			cr_assert_eq(f.little_endian, (bool)little);
			cr_assert_eq(f.nanoseconds, (bool)nano);
			cr_assert_eq(f.snaplen, 65535);
			cr_assert_eq(f.linktype_field, 1);
			record_header(r, 1700000000, nano ? 123456789 : 123456, 60, 1514, little);
			struct pcap_record rec;
			cr_assert(pcap_record_header(&f, r, &rec));
			cr_assert_eq(rec.ts_us, 1700000000ull * 1000000 + 123456,
			             "nanoseconds are cut to microseconds");
			cr_assert_eq(rec.caplen, 60);
			cr_assert_eq(rec.stored, 60);
			cr_assert_eq(rec.len, 1514);
		}
	}
}

Test(pcap_record, the_snapshot_length_as_libpcap_takes_it_and_records_cut_to_it)
{
	uint8_t h[PCAP_FILE_HEADER_LEN], r[PCAP_RECORD_HEADER_LEN];
	struct pcap_format f;
	struct pcap_record rec;
	file_header(h, 0xa1b2c3d4, true, 2, 4, 0, 1);
	cr_assert(pcap_record_format(h, sizeof h, &f));
	cr_assert_eq(f.snaplen, PCAP_RECORD_MAX_CAPLEN, "0: the most");
	file_header(h, 0xa1b2c3d4, true, 2, 4, 1u << 30, 1);
	cr_assert(pcap_record_format(h, sizeof h, &f));
	cr_assert_eq(f.snaplen, PCAP_RECORD_MAX_CAPLEN, "absurd: the most");
	file_header(h, 0xa1b2c3d4, true, 2, 4, 100, 1);
	cr_assert(pcap_record_format(h, sizeof h, &f));
	record_header(r, 1, 2, 200, 300, true);
	cr_assert(pcap_record_header(&f, r, &rec));
	cr_assert_eq(rec.caplen, 100, "above the snapshot length: its first snaplen bytes");
	cr_assert_eq(rec.stored, 200);
	cr_assert_eq(rec.len, 300);
	record_header(r, 1, 2, PCAP_RECORD_MAX_CAPLEN, 300, true);
	cr_assert(pcap_record_header(&f, r, &rec));
	record_header(r, 1, 2, PCAP_RECORD_MAX_CAPLEN + 1, 300, true);
	cr_assert_not(pcap_record_header(&f, r, &rec), "above the most: refused, as libpcap does");
	cr_assert_eq(rec.stored, PCAP_RECORD_MAX_CAPLEN + 1);
	record_header(r, 1, 2, 0xffffffffu, 300, true);
	cr_assert_not(pcap_record_header(&f, r, &rec));
}

Test(pcap_record, what_is_left_to_libpcap)
{
	uint8_t h[PCAP_FILE_HEADER_LEN];
	struct pcap_format f;
	file_header(h, 0xa1b2c3d4, true, 2, 2, 65535, 1);
	cr_assert_not(pcap_record_format(h, sizeof h, &f), "before 2.3 caplen and len may be swapped");
	file_header(h, 0xa1b2c3d4, true, 1, 4, 65535, 1);
	cr_assert_not(pcap_record_format(h, sizeof h, &f));
	file_header(h, 0xa1b2c3d4, true, 2, 3, 65535, 1);
	cr_assert(pcap_record_format(h, sizeof h, &f), "2.3 is read as 2.4");
	file_header(h, 0xa1b2cd34, true, 2, 4, 65535, 1); /* Kuznetsov's modified format */
	cr_assert_not(pcap_record_format(h, sizeof h, &f));
	file_header(h, 0x0a0d0d0a, true, 1, 0, 0, 0); /* a pcapng section header */
	cr_assert_not(pcap_record_format(h, sizeof h, &f));
	file_header(h, 0xa1b2c3d4, true, 2, 4, 65535, 1);
	cr_assert_not(pcap_record_format(h, PCAP_FILE_HEADER_LEN - 1, &f), "too short to be a header");
}
