/*
 * pcap_record.c: classic pcap file and record headers (see pcap_record.h).
 * Owns nothing.
 */
#include "parsers/pcap_record.h"

enum {
	MAGIC_MICRO = 0xa1b2c3d4u,
	MAGIC_NANO = 0xa1b23c4du,
};

static uint32_t get32(const uint8_t *p, bool little)
{
	return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
	              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint16_t get16(const uint8_t *p, bool little)
{
	return little ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]);
}

bool pcap_record_format(const uint8_t *hdr, size_t len, struct pcap_format *out)
{
	if (len < PCAP_FILE_HEADER_LEN)
		return false;
	/* The magic is in the writer's byte order: whichever order reads it right is the file's. */
	uint32_t le = get32(hdr, true), be = get32(hdr, false);
	if (le == MAGIC_MICRO || le == MAGIC_NANO)
		*out = (struct pcap_format){.little_endian = true, .nanoseconds = le == MAGIC_NANO};
	else if (be == MAGIC_MICRO || be == MAGIC_NANO)
		*out = (struct pcap_format){.little_endian = false, .nanoseconds = be == MAGIC_NANO};
	else
		return false;
	/* Before 2.3 a record's caplen and len could be swapped (libpcap puts them right): left to it. */
	if (get16(hdr + 4, out->little_endian) != 2 || get16(hdr + 6, out->little_endian) < 3)
		return false;
	out->snaplen = get32(hdr + 16, out->little_endian);
	if (out->snaplen == 0 || out->snaplen > PCAP_RECORD_MAX_CAPLEN)
		out->snaplen = PCAP_RECORD_MAX_CAPLEN;
	out->linktype_field = get32(hdr + 20, out->little_endian);
	return true;
}

bool pcap_record_header(const struct pcap_format *f, const uint8_t *hdr, struct pcap_record *out)
{
	uint64_t sec = get32(hdr, f->little_endian), frac = get32(hdr + 4, f->little_endian);
	out->ts_us = sec * 1000000u + (f->nanoseconds ? frac / 1000u : frac);
	out->stored = get32(hdr + 8, f->little_endian);
	out->len = get32(hdr + 12, f->little_endian);
	/* More than the snapshot length but not absurd: libpcap keeps the first snaplen bytes. */
	out->caplen = out->stored < f->snaplen ? out->stored : f->snaplen;
	return out->stored <= PCAP_RECORD_MAX_CAPLEN;
}
