/*
 * tsan_packet_queue.c: one reader and three workers over sensor/workers/packet_queue.h, as the worker pool
 * of issue 17 runs them (tlsobs-reader fills a batch per worker and pushes it; each tlsobs-wN pops, reads
 * the packets, recycles the batch), with a small depth so that the reader waits for room, one slow worker,
 * clock-only batches, a packet too large for a batch, and a thread reading the counters meanwhile (as the
 * finisher does for tlsobs.stats). Run under ThreadSanitizer by the TSan leg; it checks the results too:
 *   - every packet reaches the worker its hash names, once, in the order it was read, with its bytes,
 *     times, lengths, link type and interface name intact (the oversized one cut, its wire length kept);
 *   - each worker's clock (the batch's and every packet's) never goes back, and the last batch ends it;
 *   - the counters add up: packets and batches queued = those sent, peak <= depth, the reader waited.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/workers/packet_queue.h"

enum {
	QUEUES = 3,
	DEPTH = 2,
	PACKETS = 60000,
	CLOCK_EVERY = 4999, /* a clock-only batch to every worker */
	BIG_AT = 31337,     /* this packet is larger than a batch */
	BIG_LEN = PACKET_BATCH_BYTES + 4096,
	MAX_LEN = 1600,
};

static const char *const IFACES[] = {"span0", "span1", NULL};

struct lane {
	pthread_t thread;
	unsigned id;
	struct packet_queue *q;
	uint64_t sent, batches_sent; /* by the reader, read after the join */
	uint64_t received, failures;
};

static atomic_bool reading = true;

static unsigned lane_of(uint64_t k)
{
	uint64_t h = (k + 1) * 0x9e3779b97f4a7c15u;
	return (unsigned)((h >> 32) % QUEUES);
}

static uint32_t length_of(uint64_t k)
{
	return k == BIG_AT ? BIG_LEN : 40 + (uint32_t)(k * 7919 % (MAX_LEN - 40));
}

static uint8_t byte_of(uint64_t k, uint32_t i)
{
	return (uint8_t)(k * 31 + i * 7 + (i >> 8));
}

static int check_packet(struct lane *l, const struct capture_packet *cp, uint64_t clock, uint64_t *last_k,
                        uint64_t *last_clock)
{
	uint64_t k = cp->ts_us / 10;
	uint32_t len = length_of(k);
	uint32_t caplen =
	    len < PACKET_BATCH_BYTES - PACKET_IFACE_MAX ? len : PACKET_BATCH_BYTES - PACKET_IFACE_MAX;
	const char *iface = IFACES[k / 1000 % 3];
	if (cp->ts_us != k * 10 || lane_of(k) != l->id || (*last_k != UINT64_MAX && k <= *last_k)) {
		fprintf(stderr,
		        "FAIL worker %u: packet %" PRIu64
		        " out of order or on the wrong worker (after %" PRIu64 ")\n",
		        l->id, k, *last_k);
		return 1;
	}
	*last_k = k;
	if (cp->len != len || cp->caplen != caplen || cp->linktype != (int)(k % 3) || clock < *last_clock ||
	    clock != k * 10 ||
	    (iface ? !cp->interface || strcmp(cp->interface, iface) : cp->interface != NULL)) {
		fprintf(stderr,
		        "FAIL worker %u: packet %" PRIu64
		        " came with other lengths, link type, clock or interface\n",
		        l->id, k);
		return 1;
	}
	*last_clock = clock;
	for (uint32_t i = 0; i < caplen; i++)
		if (cp->data[i] != byte_of(k, i)) {
			fprintf(stderr, "FAIL worker %u: packet %" PRIu64 " byte %u differs\n", l->id, k, i);
			return 1;
		}
	return 0;
}

static void *work(void *arg)
{
	struct lane *l = arg;
	uint64_t last_k = UINT64_MAX, last_clock = 0, batch_clock = 0;
	unsigned naps = 0;
	for (;;) {
		struct packet_batch *b = packet_queue_pop(l->q);
		if (b->clock_us < batch_clock) {
			fprintf(stderr, "FAIL worker %u: the clock went back\n", l->id);
			l->failures++;
		}
		batch_clock = b->clock_us;
		for (unsigned i = 0; i < b->count; i++) {
			struct capture_packet cp;
			uint64_t clock, seq;
			packet_batch_get(b, i, &cp, &clock, &seq);
			if (seq != cp.ts_us / 10) { /* the packet's number travels with it */
				fprintf(stderr,
				        "FAIL worker %u: packet number %" PRIu64 " for time %" PRIu64 "\n",
				        l->id, seq, cp.ts_us);
				l->failures++;
			}
			l->failures += (uint64_t)check_packet(l, &cp, clock, &last_k, &last_clock);
			l->received++;
		}
		bool last = b->last;
		packet_queue_recycle(l->q, b);
		if (last)
			break;
		/* A slow worker: its first batches take long enough that the reader fills its queue (batches
		 * of up to PACKET_BATCH_PACKETS packets are few), then short naps keep it behind. */
		if (l->id == 0)
			usleep(++naps <= 3 ? 300000 : 200);
	}
	return NULL;
}

/* The finisher's view: counters read while the queues run, never going back. */
static void *watch(void *arg)
{
	struct lane *lanes = arg;
	uint64_t seen[QUEUES] = {0};
	uint64_t *failures = calloc(1, sizeof *failures);
	while (failures && atomic_load(&reading)) {
		for (unsigned q = 0; q < QUEUES; q++) {
			struct packet_queue_stats st;
			packet_queue_get_stats(lanes[q].q, &st);
			if (st.packets < seen[q] || st.peak > DEPTH) {
				fprintf(stderr, "FAIL queue %u: counters went back or past the depth\n", q);
				(*failures)++;
			}
			seen[q] = st.packets;
		}
		usleep(100);
	}
	return failures;
}

static void push(struct lane *l, struct packet_batch **b, uint64_t clock, bool last)
{
	(*b)->clock_us = clock;
	(*b)->last = last;
	packet_queue_push(l->q, *b);
	l->batches_sent++;
	*b = last ? NULL : packet_queue_batch(l->q);
	if (*b)
		packet_batch_reset(*b);
}

static int read_all(struct lane *lanes)
{
	struct packet_batch *fill[QUEUES];
	uint8_t *data = malloc(BIG_LEN);
	for (unsigned q = 0; q < QUEUES; q++)
		if ((fill[q] = packet_queue_batch(lanes[q].q)) != NULL)
			packet_batch_reset(fill[q]);
	for (uint64_t k = 0; data && k < PACKETS; k++) {
		struct lane *l = &lanes[lane_of(k)];
		uint32_t len = length_of(k);
		for (uint32_t i = 0; i < len; i++)
			data[i] = byte_of(k, i);
		struct capture_packet cp = {k * 10, len, len, (int)(k % 3), data, IFACES[k / 1000 % 3], NULL};
		if (fill[l->id] == NULL)
			return fprintf(stderr, "FAIL packet_queue_batch\n"), 1;
		if (!packet_batch_add(fill[l->id], &cp, k * 10, k)) {
			push(l, &fill[l->id], k * 10, false);
			if (fill[l->id] == NULL || !packet_batch_add(fill[l->id], &cp, k * 10, k))
				return fprintf(stderr,
				               "FAIL packet %" PRIu64 " does not fit an empty batch\n", k),
				       1;
		}
		l->sent++;
		if (k % CLOCK_EVERY == CLOCK_EVERY - 1)
			for (unsigned q = 0; q < QUEUES; q++)
				push(&lanes[q], &fill[q], k * 10, false);
	}
	for (unsigned q = 0; q < QUEUES; q++)
		if (fill[q])
			push(&lanes[q], &fill[q], PACKETS * 10, true);
	free(data);
	return data ? 0 : 1;
}

int main(void)
{
	struct lane lanes[QUEUES];
	for (unsigned q = 0; q < QUEUES; q++) {
		lanes[q] = (struct lane){.id = q, .q = packet_queue_new(DEPTH)};
		if (lanes[q].q == NULL || pthread_create(&lanes[q].thread, NULL, work, &lanes[q]) != 0)
			return fprintf(stderr, "FAIL packet_queue_new or pthread_create\n"), 1;
	}
	pthread_t watcher;
	if (pthread_create(&watcher, NULL, watch, lanes) != 0)
		return fprintf(stderr, "FAIL pthread_create\n"), 1;
	uint64_t failures = (uint64_t)read_all(lanes);
	for (unsigned q = 0; q < QUEUES; q++)
		pthread_join(lanes[q].thread, NULL);
	atomic_store(&reading, false);
	void *watched;
	pthread_join(watcher, &watched);
	failures += watched ? *(uint64_t *)watched : 1;
	free(watched);

	uint64_t waits = 0;
	for (unsigned q = 0; q < QUEUES; q++) {
		struct lane *l = &lanes[q];
		struct packet_queue_stats st;
		packet_queue_get_stats(l->q, &st);
		printf("queue %u: %" PRIu64 " packets sent, %" PRIu64 " received; %" PRIu64
		       " batches, peak %u, %" PRIu64 " full waits\n",
		       q, l->sent, l->received, st.batches, st.peak, st.full_waits);
		if (l->received != l->sent || st.packets != l->sent || st.batches != l->batches_sent ||
		    st.peak > DEPTH) {
			fprintf(stderr,
			        "FAIL queue %u: %" PRIu64 " packets received, %" PRIu64 " counted, %" PRIu64
			        " sent; %" PRIu64 " batches counted, %" PRIu64 " pushed\n",
			        q, l->received, st.packets, l->sent, st.batches, l->batches_sent);
			failures++;
		}
		failures += l->failures;
		waits += st.full_waits;
		packet_queue_free(l->q);
	}
	if (waits == 0) {
		fprintf(stderr,
		        "FAIL the reader never waited for a full queue: back-pressure not exercised\n");
		failures++;
	}
	printf(failures ? "FAIL: %" PRIu64 " failure(s)\n" : "ok\n", failures);
	return failures ? 1 : 0;
}
