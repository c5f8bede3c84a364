/*
 * pcap_file.h: classic pcap files read in blocks, each packet handed out in place.
 *
 * libpcap reads a file record by record through stdio into one buffer it
 * reuses: a packet's bytes are copied twice to get there, and once more by a
 * reader thread that hands them to a worker (issue 17: a third of the reader's
 * time). This reader takes the file in large blocks (read(2) straight into
 * them) and hands out each packet as a slice of its block. A consumer that
 * keeps a packet past its callback retains the block (capture_block_retain)
 * and releases it when done, from any thread; a block goes back for reuse when
 * the last holder lets go.
 *
 * Memory stays bounded: at most shared_max blocks are out at once. Past that
 * the reader goes on in a private block, reused in place, whose packets come
 * with no block (the consumer copies them, as it would libpcap's), until
 * blocks come back.
 *
 * It takes the files libpcap reads the same way (parsers/pcap_record.h:
 * version 2.3 and up, micro- or nanosecond magic, either byte order); for any
 * other, pcap_file_open says so and the caller uses libpcap. A damaged file
 * ends with libpcap's words ("truncated dump file; ...").
 */
#ifndef TLSOBS_PCAP_FILE_H
#define TLSOBS_PCAP_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/pcap_record.h"
#include "sensor/capture/capture.h"

enum {
	PCAP_FILE_BLOCK = 512 * 1024, /* above the largest record (PCAP_RECORD_MAX_CAPLEN and its header) */
	PCAP_FILE_SHARED_MAX = 64,    /* blocks out at once (32 MiB) before the private block takes over */
};

struct pcap_file_packet {
	struct pcap_record rec;
	const uint8_t *data;         /* rec.caplen bytes */
	struct capture_block *block; /* where data lies; NULL: valid only until the next pcap_file_next */
};

struct pcap_file;

/*
 * Takes fd (closed by pcap_file_close, or here on failure). block_size 0: PCAP_FILE_BLOCK (smaller ones are
 * for tests: a record larger than a block gets a block of its own size); shared_max 0: PCAP_FILE_SHARED_MAX.
 * NULL with err "" when the file is not one this reader takes; NULL with err set on a read error.
 */
struct pcap_file *pcap_file_from_fd(int fd, size_t block_size, unsigned shared_max, char *err, size_t errlen);
/* 1: *out is the next packet; 0: the end of the file; -1: err says why the file ends early. */
int pcap_file_next(struct pcap_file *f, struct pcap_file_packet *out, char *err, size_t errlen);
/* Lets go of the file; blocks still held elsewhere stay valid until released. NULL is a no-op. */
void pcap_file_close(struct pcap_file *f);

#endif
