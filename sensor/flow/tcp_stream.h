/*
 * tcp_stream.h: one direction of a TCP connection, reassembled into in-order bytes.
 *
 * Segments go in as they were captured; payload comes out in sequence order to a
 * sink, exactly once. Policy (documented because IDS evasion lives here):
 *  - bytes already delivered are never replaced: a retransmission over them is
 *    counted in `retransmitted_bytes` and ignored (delivered bytes are not kept,
 *    so they cannot be compared);
 *  - among buffered out-of-order segments the first one to arrive wins; an
 *    overlap that disagrees with what is buffered counts in `overlap_conflicts`;
 *  - a hole is given up on, and reported to the sink as a gap of N bytes, when
 *    the peer acknowledges past it (we missed the bytes, the receiver did not),
 *    when the out-of-order buffer would exceed its cap, or at the end of the flow.
 * Sequence numbers compare modulo 2^32 (RFC 793 serial arithmetic), so wrap is
 * transparent. A segment more than TCP_STREAM_MAX_WINDOW ahead is dropped as
 * out of window (counted).
 *
 * Cost: buffered segments sit in a balanced tree keyed by sequence number
 * (seq_tree.h), so a segment costs O(log n) in the n buffered, plus O(1) for
 * each buffered segment it overlaps; in-order data never touches the tree.
 *
 * The sink may answer STREAM_DONE: the stream then frees its buffers and ignores
 * everything after, so a finished TLS handshake costs no further reassembly.
 */
#ifndef TLSOBS_TCP_STREAM_H
#define TLSOBS_TCP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/flow/memcap.h"
#include "sensor/flow/seq_tree.h"

enum stream_verdict { STREAM_CONTINUE, STREAM_DONE };

struct stream_sink {
	enum stream_verdict (*data)(void *ctx, const uint8_t *p, size_t n);
	enum stream_verdict (*gap)(void *ctx, uint64_t n);
	void *ctx;
};

enum { TCP_STREAM_MAX_WINDOW = 1 << 30 };

struct tcp_segment;

struct tcp_stream_limits {
	uint64_t depth;         /* bytes delivered at most (0: no limit); then the stream is done */
	uint32_t max_ooo_bytes; /* out-of-order bytes buffered at most */
};

/*
 * Kept small, as every idle flow holds two: settings and the memcap are borrowed,
 * counts and rarely large byte counts are 32-bit (they stop at UINT32_MAX).
 */
struct tcp_stream {
	const struct tcp_stream_limits *limits; /* borrowed: the table's settings */
	struct memcap *memcap;                  /* shared budget for buffered segments (borrowed) */
	struct seq_tree ooo;                    /* buffered segments by sequence number, non-overlapping */
	struct tcp_segment *ooo_tail;           /* the last of them: segments after a hole mostly go there */
	/* counters, for the session event and the exit summary */
	uint64_t delivered;
	uint64_t gap_bytes;
	uint64_t retransmitted_bytes;
	uint32_t next_seq; /* sequence number of the next byte to deliver */
	uint32_t fin_seq;  /* sequence number the FIN occupies */
	uint32_t ooo_bytes;
	uint32_t gaps;
	uint32_t out_of_window;
	uint32_t ooo_cap_hits;      /* holes given up because the buffer was full */
	uint32_t memcap_drops;      /* segments not buffered because the worker memcap was hit */
	uint32_t overlap_conflicts; /* overlapping bytes that differed from what was buffered */
	uint16_t ooo_segments;      /* at most 4,096 (tcp_stream.c) */
	bool synced;                /* next_seq is known */
	bool fin_seen;
	bool done; /* the sink wants no more, or depth was reached */
	bool depth_reached;
};

/* limits and memcap are borrowed: they must outlive the stream. */
void tcp_stream_init(struct tcp_stream *s, const struct tcp_stream_limits *limits, struct memcap *memcap);
/* Frees buffered segments; the stream may be re-initialised afterwards. */
void tcp_stream_release(struct tcp_stream *s);
/* Bytes its buffered segments hold in the memcap (what tcp_stream_release gives back). */
uint64_t tcp_stream_memory(const struct tcp_stream *s);

/*
 * Feeds one segment sent in this direction. `syn`/`fin` are the flags; `wire_len`
 * is the payload length on the wire (>= len when the snap length cut the packet:
 * the missing tail becomes a hole).
 */
void tcp_stream_segment(struct tcp_stream *s, uint32_t seq, bool syn, bool fin, const uint8_t *payload,
                        uint32_t len, uint32_t wire_len, const struct stream_sink *sink);

/* The peer acknowledged up to `ack`: bytes before it that we never saw are a gap. */
void tcp_stream_ack(struct tcp_stream *s, uint32_t ack, const struct stream_sink *sink);

/* End of the flow: deliver whatever is buffered, reporting the holes between as gaps. */
void tcp_stream_flush(struct tcp_stream *s, const struct stream_sink *sink);

/* Stops the stream for good (the consumer is done): frees buffers, ignores what follows. */
void tcp_stream_stop(struct tcp_stream *s);

/* True when every byte up to the FIN has been delivered. */
bool tcp_stream_finished(const struct tcp_stream *s);

#endif
