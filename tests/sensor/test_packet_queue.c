/*
 * test_packet_queue.c: the reader's batches to a worker: packets come back
 * byte for byte with their times, lengths, link type, interface and the
 * reader's clock; a batch says when it is full; a full queue makes the
 * producer wait (never drop), and every packet arrives in order. A packet in
 * a capture block stays there (not copied): the batch holds its block, up to
 * PACKET_BATCH_BLOCKS of them, until the worker recycles it.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "sensor/capture/pcap_file.h"
#include "sensor/workers/packet_queue.h"
#include "test_support.h"

static struct capture_packet packet(uint8_t *buf, uint32_t n, uint64_t ts, const char *iface)
{
	for (uint32_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(ts + i);
	return (struct capture_packet){
	    .ts_us = ts, .caplen = n, .len = n + 4, .linktype = 1, .data = buf, .interface = iface};
}

Test(packet_queue, a_batch_gives_back_what_went_in_and_says_when_it_is_full)
{
	static struct packet_batch b;
	static uint8_t buf[70000];
	packet_batch_reset(&b);
	char eth[] = "eth1";
	unsigned added = 0;
	for (uint64_t ts = 1; ts <= PACKET_BATCH_PACKETS; ts++) {
		struct capture_packet cp = packet(buf, (uint32_t)(ts * 7 % 1500), ts, ts % 3 ? eth : NULL);
		cr_assert(packet_batch_add(&b, &cp, 1000 + ts, 50 + ts));
		added++;
	}
	struct capture_packet more = packet(buf, 10, 999, NULL);
	cr_assert_not(packet_batch_add(&b, &more, 0, 0), "a batch holds PACKET_BATCH_PACKETS");
	cr_assert_eq(b.count, added);
	for (unsigned i = 0; i < b.count; i++) {
		struct capture_packet got;
		uint64_t clock, seq;
		packet_batch_get(&b, i, &got, &clock, &seq);
		uint64_t ts = i + 1;
		cr_assert_eq(got.ts_us, ts);
		cr_assert_eq(clock, 1000 + ts);
		cr_assert_eq(seq, 50 + ts);
		cr_assert_eq(got.caplen, ts * 7 % 1500);
		cr_assert_eq(got.len, got.caplen + 4);
		cr_assert_eq(got.linktype, 1);
		for (uint32_t k = 0; k < got.caplen; k++)
			cr_assert_eq(got.data[k], (uint8_t)(ts + k));
		if (ts % 3)
			cr_assert_str_eq(got.interface, "eth1");
		else
			cr_assert_null(got.interface);
	}
	/* By bytes: large packets fill it before the count does, and one larger than a batch is cut. */
	packet_batch_reset(&b);
	struct capture_packet big = packet(buf, 65535, 1, NULL);
	unsigned n = 0;
	while (packet_batch_add(&b, &big, 0, 1))
		n++;
	cr_assert(n >= 7 && n < PACKET_BATCH_PACKETS, "%u packets of 64 KiB", n);
	packet_batch_reset(&b);
	static uint8_t huge[PACKET_BATCH_BYTES + 100];
	struct capture_packet h = {.ts_us = 1, .caplen = sizeof huge, .len = sizeof huge, .data = huge};
	cr_assert(packet_batch_add(&b, &h, 0, 1), "an empty batch takes any packet");
	struct capture_packet got;
	uint64_t clock, seq;
	packet_batch_get(&b, 0, &got, &clock, &seq);
	cr_assert_lt(got.caplen, PACKET_BATCH_BYTES);
	cr_assert_eq(got.len, sizeof huge);
}

struct consumer {
	struct packet_queue *q;
	uint64_t next_ts; /* the packet expected next */
	uint64_t batches;
	bool in_order;
};

static void *consume(void *arg)
{
	struct consumer *c = arg;
	usleep(50000); /* the producer meets a full queue first */
	for (bool last = false; !last;) {
		struct packet_batch *b = packet_queue_pop(c->q);
		for (unsigned i = 0; i < b->count; i++) {
			struct capture_packet cp;
			uint64_t clock, seq;
			packet_batch_get(b, i, &cp, &clock, &seq);
			c->in_order =
			    c->in_order && cp.ts_us == c->next_ts && cp.data[0] == (uint8_t)cp.ts_us;
			c->next_ts++;
		}
		last = b->last;
		c->batches++;
		packet_queue_recycle(c->q, b);
	}
	return NULL;
}

Test(packet_queue, a_full_queue_makes_the_producer_wait_and_nothing_is_lost)
{
	struct packet_queue *q = packet_queue_new(2);
	cr_assert_not_null(q);
	struct consumer c = {.q = q, .next_ts = 1, .in_order = true};
	/* The queue is full before the consumer takes anything: pushes past the depth wait for it. */
	pthread_t t;
	uint8_t buf[64];
	uint64_t ts = 1;
	struct packet_batch *b = packet_queue_batch(q);
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 10; i++, ts++) {
			struct capture_packet cp = packet(buf, 64, ts, NULL);
			cr_assert(packet_batch_add(b, &cp, ts, ts));
		}
		packet_queue_push(q, b);
		b = packet_queue_batch(q);
	}
	cr_assert_eq(pthread_create(&t, NULL, consume, &c), 0);
	enum { BATCHES = 300 };
	for (int k = 0; k < BATCHES; k++) {
		for (int i = 0; i < 1 + k % PACKET_BATCH_PACKETS; i++, ts++) {
			struct capture_packet cp = packet(buf, 64, ts, NULL);
			cr_assert(packet_batch_add(b, &cp, ts, ts));
		}
		b->last = k == BATCHES - 1;
		packet_queue_push(q, b);
		if (k < BATCHES - 1)
			b = packet_queue_batch(q);
	}
	pthread_join(t, NULL);
	cr_assert(c.in_order, "every packet once, in order");
	cr_assert_eq(c.next_ts, ts);
	struct packet_queue_stats st;
	packet_queue_get_stats(q, &st);
	cr_assert_eq(st.batches, BATCHES + 2);
	cr_assert_eq(st.packets, ts - 1);
	cr_assert_leq(st.peak, 2, "never more than the depth queued");
	cr_assert_geq(st.full_waits, 1, "the producer waited for room");
	packet_queue_free(q);
}

Test(packet_queue, packets_in_capture_blocks_stay_there_held_by_the_batch_until_it_is_recycled)
{
	/* Blocks of 256 bytes: nearly every packet of the capture in a block of its own. */
	int fd = open(test_source_path("tests/fixtures/demo.pcap"), O_RDONLY);
	cr_assert_geq(fd, 0);
	char err[256];
	struct pcap_file *f = pcap_file_from_fd(fd, 256, 64, err, sizeof err);
	cr_assert_not_null(f, "%s", err);
	struct packet_queue *q = packet_queue_new(2);
	struct packet_batch *b = packet_queue_batch(q);
	uint8_t copies[PACKET_BATCH_PACKETS][256];
	uint32_t lens[PACKET_BATCH_PACKETS];
	struct pcap_file_packet p;
	unsigned n = 0;
	bool refused = false;
	while (!refused && pcap_file_next(f, &p, err, sizeof err) == 1) {
		cr_assert_not_null(p.block);
		struct capture_packet cp = {p.rec.ts_us, p.rec.caplen, p.rec.len, 1, p.data, NULL, p.block};
		if (!packet_batch_add(b, &cp, 0, n + 1)) {
			refused = true;
			break;
		}
		cr_assert_lt(n, PACKET_BATCH_PACKETS);
		lens[n] = p.rec.caplen < 256 ? p.rec.caplen : 256;
		memcpy(copies[n], p.data, lens[n]);
		n++;
	}
	cr_assert(refused, "a batch holds at most PACKET_BATCH_BLOCKS blocks");
	cr_assert_leq(b->nblocks, PACKET_BATCH_BLOCKS);
	cr_assert_geq(n, PACKET_BATCH_BLOCKS - 1);
	pcap_file_close(
	    f); /* the batch still holds the blocks: its packets are intact (ASan: no use after free) */
	for (unsigned i = 0; i < b->count; i++) {
		struct capture_packet got;
		uint64_t clock, seq;
		packet_batch_get(b, i, &got, &clock, &seq);
		cr_assert_eq(seq, i + 1);
		cr_assert(memcmp(got.data, copies[i], lens[i]) == 0, "packet %u", i);
		cr_assert(got.data < b->bytes || got.data >= b->bytes + PACKET_BATCH_BYTES,
		          "in place, not copied");
	}
	cr_assert_eq(b->used, 0, "nothing copied into the batch");
	packet_queue_push(q, b);
	struct packet_batch *got = packet_queue_pop(q);
	cr_assert_eq(got, b);
	packet_queue_recycle(q, got); /* the blocks go back: the last holder frees them (LSan: no leak) */
	cr_assert_eq(got->nblocks, 0);
	packet_queue_free(q);
}
