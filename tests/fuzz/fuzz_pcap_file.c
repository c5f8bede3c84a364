/*
 * fuzz_pcap_file.c: libFuzzer harness for the classic pcap block reader
 * (sensor/capture/pcap_file.h, over parsers/pcap_record.h).
 *
 * Input: CONTROL_LEN control bytes, then a pcap file.
 *   byte 0-1  block size: 24 + (little-endian value % 4073), so 24..4096 bytes
 *             (records larger than a block get a block of their own);
 *   byte 2    shared_max: 1 + (value & 3), so 1..4 shared blocks out at once
 *             (past that the reader goes on in copy mode: packets without block);
 *   byte 3    retain mask: packet i's block is retained when bit i % 8 is set;
 *   byte 4    release mask: before packet i the oldest retained block is
 *             released when bit i % 8 is set.
 * The file is written to a memfd and read with pcap_file_from_fd as tlsobs
 * reads a file. Every packet is checked against the input: its bytes are the
 * record's own (so they lie inside what was read), caplen <= stored,
 * caplen <= PCAP_RECORD_MAX_CAPLEN and the file's snapshot length; every byte
 * is touched (summed into a volatile sink) so ASan sees an overread. A retained
 * packet keeps a checksum of its bytes, checked again when its block is let go
 * (the reader must never write into a block someone holds); half the blocks
 * still held at the end are released before pcap_file_close, the rest after it
 * (blocks outlive the file; the pool goes with its last block, which LSan
 * checks). The end must agree with the input: 0 only at the file's last byte,
 * -1 with a non-empty error before it, NULL from pcap_file_from_fd only for a
 * header pcap_record_format refuses.
 *
 * Seeds (tests/fuzz/corpus/pcap_file/seed-*): the control bytes, then the first
 * 2-4 KB of fixtures (cut at a record boundary, and one mid-record), a
 * big-endian and a nanosecond rewrite of a fixture's records, one with records
 * above the snapshot length, one whose record header says more than 262144.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include "sensor/capture/pcap_file.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum {
	CONTROL_LEN = 5,
	HOLD_MAX = 8, /* blocks the harness holds at once */
};

struct held {
	struct capture_block *block;
	const uint8_t *data;
	uint32_t caplen, sum;
};

static volatile uint32_t fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t sum_bytes(const uint8_t *p, uint32_t n)
{
	uint32_t sum = 0;
	for (uint32_t i = 0; i < n; i++)
		sum = sum * 31 + p[i];
	return sum;
}

static uint32_t get32(const uint8_t *p, bool little)
{
	return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
	              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Lets go of the oldest held block; its packet's bytes must not have changed meanwhile. */
static void release_oldest(struct held *h, unsigned *n)
{
	if (*n == 0)
		return;
	if (sum_bytes(h[0].data, h[0].caplen) != h[0].sum)
		abort();
	capture_block_release(h[0].block);
	memmove(h, h + 1, (*n - 1) * sizeof *h);
	(*n)--;
}

/* An fd holding the file, at offset 0, as pcap_file_from_fd expects. -1 when memfd fails. */
static int file_fd(const uint8_t *file, size_t len)
{
	int fd = memfd_create("fuzz_pcap_file", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t at = 0;
	while (at < len) {
		ssize_t n = write(fd, file + at, len - at);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		at += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A packet as the reader handed it out at file offset *at (its record header's), checked against the file. */
static void check_packet(const uint8_t *file, size_t len, const struct pcap_format *fmt,
                         const struct pcap_file_packet *p, size_t *at)
{
	if (len - *at < PCAP_RECORD_HEADER_LEN)
		abort();
	const uint8_t *hdr = file + *at;
	uint32_t stored = get32(hdr + 8, fmt->little_endian);
	if (p->rec.stored != stored || p->rec.len != get32(hdr + 12, fmt->little_endian) ||
	    p->rec.caplen > p->rec.stored || p->rec.caplen > PCAP_RECORD_MAX_CAPLEN ||
	    p->rec.caplen > fmt->snaplen || (p->rec.caplen < stored && p->rec.caplen != fmt->snaplen))
		abort();
	if (len - *at - PCAP_RECORD_HEADER_LEN < stored)
		abort(); /* handed out a record the file does not hold whole */
	if (p->rec.caplen && memcmp(p->data, hdr + PCAP_RECORD_HEADER_LEN, p->rec.caplen) != 0)
		abort();
	fuzz_sink = sum_bytes(p->data, p->rec.caplen);
	*at += PCAP_RECORD_HEADER_LEN + (size_t)stored;
}

/* Why the file ended (rc 0 or -1 at file offset at) must agree with the bytes left. */
static void check_end(const uint8_t *file, size_t len, const struct pcap_format *fmt, int rc, size_t at,
                      const char *err)
{
	if (rc == 0) {
		if (at != len)
			abort();
		return;
	}
	if (err[0] == '\0' || at >= len)
		abort();
	if (len - at >= PCAP_RECORD_HEADER_LEN) {
		uint32_t stored = get32(file + at + 8, fmt->little_endian);
		/* a header whole: either it says too much, or its bytes are cut short */
		if (stored <= PCAP_RECORD_MAX_CAPLEN && len - at - PCAP_RECORD_HEADER_LEN >= stored)
			abort();
	}
}

static void read_all(struct pcap_file *f, const uint8_t *file, size_t len, const uint8_t *ctl)
{
	struct held held[HOLD_MAX];
	unsigned nheld = 0;
	struct pcap_format fmt;
	if (!pcap_record_format(file, len, &fmt))
		abort(); /* the reader took a header the decoder refuses */
	size_t at = PCAP_FILE_HEADER_LEN;
	char err[256] = "";
	struct pcap_file_packet p;
	int rc;
	for (unsigned i = 0; (rc = pcap_file_next(f, &p, err, sizeof err)) == 1; i++) {
		check_packet(file, len, &fmt, &p, &at);
		if (ctl[4] >> (i % 8) & 1)
			release_oldest(held, &nheld);
		if (p.block && (ctl[3] >> (i % 8) & 1)) {
			if (nheld == HOLD_MAX)
				release_oldest(held, &nheld);
			capture_block_retain(p.block);
			held[nheld++] =
			    (struct held){p.block, p.data, p.rec.caplen, sum_bytes(p.data, p.rec.caplen)};
		}
	}
	check_end(file, len, &fmt, rc, at, err);
	for (unsigned keep = nheld / 2; nheld > keep;)
		release_oldest(held, &nheld);
	pcap_file_close(f);
	while (nheld > 0)
		release_oldest(held, &nheld);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < CONTROL_LEN)
		return 0;
	const uint8_t *ctl = data, *file = data + CONTROL_LEN;
	size_t len = size - CONTROL_LEN;
	size_t block_size = 24 + (size_t)(ctl[0] | ctl[1] << 8) % 4073;
	unsigned shared_max = 1 + (ctl[2] & 3u);
	int fd = file_fd(file, len);
	if (fd < 0)
		return 0;
	char err[256] = "x";
	struct pcap_file *f = pcap_file_from_fd(fd, block_size, shared_max, err, sizeof err);
	struct pcap_format fmt;
	if (!f) {
		/* not ours ("" said so), never a read error on a memfd */
		if (err[0] != '\0' || pcap_record_format(file, len, &fmt))
			abort();
		return 0;
	}
	read_all(f, file, len, ctl);
	return 0;
}
