/*
 * packet_queue.h: packets from the reader thread to one worker, in batches.
 *
 * The reader adds each packet (time, lengths, link type, interface name, and
 * its bytes: a pointer into its capture block, which the batch retains, or a
 * copy when the packet has no block) to the batch it is filling for the
 * packet's worker, and pushes the
 * batch (one lock for up to PACKET_BATCH_PACKETS packets) when it is full or
 * when the worker's clock must move (packet_batch.clock_us: the reader's
 * latest packet time; an empty batch is a clock message). The queue holds at
 * most `depth` batches: a full queue blocks the reader until the worker has
 * taken one (back-pressure, never loss: files are read as fast as the slowest
 * worker goes). Spent batches come back through a free list, so the queue
 * allocates at most depth + 2 batches (one filling, one being worked on).
 *
 * One producer (the reader) and one consumer (the worker) per queue; the
 * queue's mutex guards its list, free list and counters.
 */
#ifndef TLSOBS_PACKET_QUEUE_H
#define TLSOBS_PACKET_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/capture/capture.h"

enum {
	PACKET_BATCH_PACKETS = 512,
	PACKET_BATCH_BYTES = 512 * 1024, /* twice the largest snap length: any packet fits an empty batch */
	PACKET_IFACE_MAX = 256,          /* an interface name as events keep it */
	PACKET_BATCH_BLOCKS = 8,         /* capture blocks a batch holds (a batch spans a few MB of a file) */
};

struct packet_slot {
	uint64_t ts_us;
	uint64_t clock_us; /* the reader's clock at this packet: the latest packet time so far */
	uint64_t seq;      /* the packet's number in the capture, from 1 */
	uint32_t caplen, len;
	int linktype;
	const uint8_t *data; /* in one of the batch's blocks, or in its bytes */
	int32_t iface_at;    /* offset of the NUL-terminated interface name in bytes, -1: unknown */
};

struct packet_batch {
	struct packet_batch *next;
	uint64_t clock_us; /* the reader's latest packet time when it pushed: the worker's clock after it */
	bool last;         /* the reader is done: the worker ends its flows (finish_reason) and stops */
	int finish_reason; /* enum flow_close_reason, with last */
	unsigned count;
	uint32_t used;
	const char *iface_src; /* the last interface copied (the reader's pointer), and where */
	int32_t iface_at;
	unsigned nblocks;
	struct capture_block *blocks[PACKET_BATCH_BLOCKS]; /* retained while the batch holds their packets */
	struct packet_slot slot[PACKET_BATCH_PACKETS];
	uint8_t bytes[PACKET_BATCH_BYTES];
};

/* Empties a batch for reuse (its blocks released first: packet_batch_release). */
void packet_batch_reset(struct packet_batch *b);
/* Lets go of the capture blocks the batch's packets lie in (on the worker's thread, once they are done). */
void packet_batch_release(struct packet_batch *b);
/* Adds cp, with the reader's clock and the packet's number; false when the batch has no room left (push
 * it, then add to a fresh one). A packet with a capture block stays in it (the block retained, once per
 * batch); one without is copied in, cut to PACKET_BATCH_BYTES if larger (its wire length stays).
 */
bool packet_batch_add(struct packet_batch *b, const struct capture_packet *cp, uint64_t clock_us,
                      uint64_t seq);
/* Packet i of the batch (its data and interface point into the batch); *clock_us: the reader's clock then;
 * *seq: its number in the capture. */
void packet_batch_get(const struct packet_batch *b, unsigned i, struct capture_packet *out,
                      uint64_t *clock_us, uint64_t *seq);

struct packet_queue_stats {
	uint64_t batches, packets;
	uint64_t full_waits; /* times the reader waited for room (back-pressure) */
	unsigned peak;       /* most batches queued at once */
};

struct packet_queue;

/* At most depth (>= 1) batches queued. NULL when out of memory. */
struct packet_queue *packet_queue_new(unsigned depth);
/* Frees the queue, the batches in it and its free list. NULL is a no-op. */
void packet_queue_free(struct packet_queue *q);
/* An empty batch for the producer: from the free list, else a new one. NULL when out of memory. */
struct packet_batch *packet_queue_batch(struct packet_queue *q);
/* Queues b (owned by the queue from here); blocks while depth batches are queued. */
void packet_queue_push(struct packet_queue *q, struct packet_batch *b);
/* Queues b only if there is room at once; false: b stays the caller's. */
bool packet_queue_try_push(struct packet_queue *q, struct packet_batch *b);
/* The oldest queued batch; blocks until there is one. The consumer owns it until it recycles it. */
struct packet_batch *packet_queue_pop(struct packet_queue *q);
/* A spent batch back to the free list, its blocks released. */
void packet_queue_recycle(struct packet_queue *q, struct packet_batch *b);
void packet_queue_get_stats(struct packet_queue *q, struct packet_queue_stats *out);

#endif
