/*
 * tcp_stream_harness.h: drives one sensor/flow/tcp_stream.h reassembler in a test
 * and records what comes out (sensor layer: only sensor tests may call it).
 *
 * A recording sink keeps three views of what came out: the delivered bytes
 * concatenated, an event log ("d5 g10 d10": 5 bytes of data, a gap of 10, ...)
 * and an image of the stream by position (data written where it belongs, gaps
 * skipped), so a test can say exactly which bytes were delivered where. The sink
 * also fails the test if it is called again after answering STREAM_DONE.
 */
#ifndef TLSOBS_TCP_STREAM_HARNESS_H
#define TLSOBS_TCP_STREAM_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/flow/tcp_stream.h"

enum { REC_CAP = 1 << 16, LOG_CAP = 1024, MAX_PIECES = 16384 };

/* TCP_STREAM_MAX_OOO_SEGMENTS in tcp_stream.c: the buffer holds no more segments than this. */
enum { OOO_SEGMENT_CAP = 4096 };

struct recorder {
	uint8_t bytes[REC_CAP]; /* data events, concatenated */
	size_t len;
	uint8_t image[REC_CAP];   /* the stream by position */
	uint8_t present[REC_CAP]; /* 1 where the image holds a delivered byte */
	uint64_t pos;             /* stream position after the last event */
	char log[LOG_CAP];
	size_t log_len;
	const uint8_t *last_data;
	size_t data_events, gap_events;
	size_t done_at;   /* answer STREAM_DONE once this many bytes were delivered (0: never) */
	bool done_on_gap; /* answer STREAM_DONE to a gap */
	bool said_done;
};

/* The recording sink's callbacks, ctx a struct recorder (a harness wires them up itself). */
enum stream_verdict rec_data(void *ctx, const uint8_t *p, size_t n);
enum stream_verdict rec_gap(void *ctx, uint64_t n);

struct harness {
	struct memcap memcap;
	struct tcp_stream_limits limits; /* the stream borrows them */
	struct tcp_stream s;
	struct stream_sink sink;
	struct recorder *rec;
};

/*
 * One harness at a time per test process (Criterion runs each test in its own):
 * the recorder is static, so a failed assertion, which ends the test at once,
 * leaks nothing. harness_fini releases the stream and checks it gave back all
 * it buffered.
 */
void harness_init(struct harness *h, uint64_t depth, uint32_t max_ooo, uint64_t memcap);
void harness_default(struct harness *h); /* no depth, 1 MiB out of order, 64 MiB memcap */
void harness_fini(struct harness *h);

/* Segments, each checked against the memcap and the out-of-order cap afterwards. */
void seg_flags(struct harness *h, uint32_t seq, bool syn, bool fin, const void *p, uint32_t len,
               uint32_t wire_len);
void seg(struct harness *h, uint32_t seq, const void *p, uint32_t len);
void seg_str(struct harness *h, uint32_t seq, const char *text);
void seg_fin_str(struct harness *h, uint32_t seq, const char *text);
void syn(struct harness *h, uint32_t isn);
void fin_only(struct harness *h, uint32_t seq);
void ack(struct harness *h, uint32_t a);
void flush(struct harness *h);

void expect_log(const struct harness *h, const char *expected);
void expect_bytes(const struct harness *h, const void *expected, size_t n);
void expect_str(const struct harness *h, const char *expected);
/* The stream image: `msg` wherever anything was delivered, delivered exactly where `want` marks. */
void expect_image(const struct harness *h, const uint8_t *msg, const uint8_t *want, uint32_t total);

/* ---- random messages and cuts, from a test_rand() state ---- */

struct piece {
	uint32_t off, len;
};

void fill_random(uint8_t *p, size_t n, uint64_t *rng);
/* An initial sequence number; a third of them so close to 2^32 that the stream wraps. */
uint32_t pick_isn(uint64_t *rng);
/* A number from 1 to n. */
uint32_t rand_upto(uint64_t *rng, uint32_t n);
/* Cuts [0, total) into consecutive pieces of 1..max_len bytes; returns how many. */
size_t cut_at_random(struct piece *out, size_t cap, uint32_t total, uint32_t max_len, uint64_t *rng);
void shuffle(struct piece *p, size_t n, uint64_t *rng);
/* Feeds msg[piece] after a SYN at isn, with the FIN on the piece that ends the message when `fin`. */
void feed_piece(struct harness *h, uint32_t isn, const uint8_t *msg, uint32_t total, struct piece pc,
                bool fin);

#endif
