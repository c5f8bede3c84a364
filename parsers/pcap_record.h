/*
 * pcap_record.h: the headers of a classic pcap capture file (not pcapng).
 *
 * The file's 24-byte header says the byte order and the timestamp unit
 * (micro- or nanoseconds); each record is a 16-byte header (time, captured
 * and wire lengths) then the captured bytes. This decoder reads headers from
 * a buffer the caller holds; it never reads the packet bytes, and it takes
 * only what libpcap reads the same way (version 2.3 and up, the four standard
 * magics): anything else is left to libpcap. Nothing is copied.
 */
#ifndef TLSOBS_PCAP_RECORD_H
#define TLSOBS_PCAP_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	PCAP_FILE_HEADER_LEN = 24,
	PCAP_RECORD_HEADER_LEN = 16,
	PCAP_RECORD_MAX_CAPLEN = 262144, /* libpcap's most for the link types we read: longer is damage */
};

struct pcap_format {
	bool little_endian;      /* the writer's byte order, which every field is in */
	bool nanoseconds;        /* record times in nanoseconds (magic 0xa1b23c4d) */
	uint32_t linktype_field; /* the header's link type as written (LINKTYPE_*, FCS bits included) */
	uint32_t snaplen;        /* as libpcap takes it: 0 or above PCAP_RECORD_MAX_CAPLEN is the most */
};

struct pcap_record {
	uint64_t
	    ts_us; /* microseconds since the epoch (nanoseconds cut, as libpcap's micro precision does) */
	uint32_t caplen; /* bytes handed out: the record's, cut to the snapshot length as libpcap cuts them */
	uint32_t len;    /* bytes on the wire */
	uint32_t stored; /* bytes the record holds after its header (caplen unless cut) */
};

/* The file header (len bytes, at least PCAP_FILE_HEADER_LEN to be one): false when it is not a classic pcap
 * header this decoder takes. */
bool pcap_record_format(const uint8_t *hdr, size_t len, struct pcap_format *out);
/* A record header (PCAP_RECORD_HEADER_LEN bytes). false: it holds more than PCAP_RECORD_MAX_CAPLEN bytes,
 * which libpcap refuses ("invalid packet capture length"; out->stored says how many). */
bool pcap_record_header(const struct pcap_format *f, const uint8_t *hdr, struct pcap_record *out);

#endif
