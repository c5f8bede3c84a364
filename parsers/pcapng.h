/*
 * pcapng.h: the blocks of a pcapng capture file, for files libpcap will not read.
 *
 * libpcap's reader stops at an interface whose link type or snapshot length
 * differs from the first one's, and never says which interface a packet came
 * from; dumpcap with several -i, and mergecap, write such files. This decoder
 * takes one whole block at a time (the caller reads the file: first
 * pcapng_block_length() on the block's first 12 bytes, then pcapng_block() on
 * all of it) and keeps what the section says about its interfaces: link
 * type, snapshot length, timestamp resolution and offset, name. Blocks other
 * than section headers, interface descriptions and packets are skipped.
 * Nothing is copied: a packet's data is a slice of the block.
 */
#ifndef TLSOBS_PCAPNG_H
#define TLSOBS_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	PCAPNG_MAX_INTERFACES = 256, /* per section */
	PCAPNG_MAX_BLOCK = 16 << 20, /* libpcap's own cap on a block */
	PCAPNG_NAME_MAX = 64,        /* if_name kept, NUL included */
	PCAPNG_SHB_TYPE = 0x0a0d0d0a,
};

/* Keep pcapng_result_str() in step. */
enum pcapng_result {
	PCAPNG_OK = 0,           /* a block taken in, nothing to hand out */
	PCAPNG_PACKET,           /* *out holds a packet */
	PCAPNG_NOT_PCAPNG,       /* the file does not start with a section header */
	PCAPNG_BAD_BYTE_ORDER,   /* byte-order magic neither 0x1a2b3c4d nor swapped */
	PCAPNG_BAD_VERSION,      /* major version other than 1 */
	PCAPNG_BAD_BLOCK_LENGTH, /* below 12, not a multiple of 4, or the trailing copy differs */
	PCAPNG_BLOCK_TOO_LARGE,  /* above PCAPNG_MAX_BLOCK */
	PCAPNG_BLOCK_TRUNCATED,  /* a field runs past the block */
	PCAPNG_TOO_MANY_INTERFACES,
	PCAPNG_UNKNOWN_INTERFACE, /* a packet names an interface the section did not describe */
	PCAPNG_BAD_TIMESTAMP_RESOLUTION,
	PCAPNG_RESULT_COUNT
};

const char *pcapng_result_str(enum pcapng_result r);

struct pcapng_interface {
	int linktype;
	uint32_t snaplen;
	uint64_t units_per_second;  /* if_tsresol: 10^6 unless told */
	int64_t offset_seconds;     /* if_tsoffset */
	char name[PCAPNG_NAME_MAX]; /* if_name, "" when absent; cut to fit */
};

struct pcapng_packet {
	unsigned interface;
	uint64_t ts_us; /* microseconds since the epoch */
	uint32_t caplen, len;
	const uint8_t *data; /* a slice of the block */
};

struct pcapng_reader {
	bool in_section;
	bool big_endian;
	unsigned ninterfaces;
	struct pcapng_interface interfaces[PCAPNG_MAX_INTERFACES];
};

void pcapng_reader_init(struct pcapng_reader *r);
/*
 * The total length of the block starting at hdr (12 bytes: type, length and,
 * for a section header, its byte-order magic), checked against the caps.
 */
enum pcapng_result pcapng_block_length(struct pcapng_reader *r, const uint8_t hdr[12], uint32_t *total);
/* One whole block of pcapng_block_length() bytes. */
enum pcapng_result pcapng_block(struct pcapng_reader *r, const uint8_t *block, size_t len,
                                struct pcapng_packet *out);

#endif
