/*
 * tsan_pcap_blocks.c: the classic pcap block reader (sensor/capture/pcap_file.h) feeding three workers
 * through sensor/workers/packet_queue.h, as tlsobs runs them with --workers 3 on a file (issue 17): the
 * reader hands out packets as slices of refcounted blocks, each worker's batch retains the blocks its packets
 * lie in, and the worker releases them when it recycles the batch, on its own thread, while the reader writes
 * the next blocks. Run under ThreadSanitizer by the TSan leg. It writes a pcap file of PACKETS records of
 * varied sizes (a few larger than a block, some with a wire length above the captured one; each packet's
 * bytes a pattern of its number) and reads it with small blocks and few shared ones, so that the reader also
 * goes on in copy mode while the workers hold every shared block; it closes the file as soon as reading ends,
 * while the workers still hold blocks (the pool then goes with the last block a worker lets go). It checks:
 *   - every packet reaches worker (number % 3) once, in file order, with its time, lengths and bytes intact;
 *   - packets came both as slices of shared blocks and in copy mode, at the reader and at the workers;
 *   - the file ends where it was written to (pcap_file_next says 0 after the last record).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/capture/pcap_file.h"
#include "sensor/workers/packet_queue.h"

enum {
	QUEUES = 3,
	DEPTH = 2,
	PACKETS = 30000,
	BLOCK_SIZE = 64 * 1024,
	SHARED_MAX = 16, /* fewer than one slow worker's batches hold (up to PACKET_BATCH_BLOCKS each) */
	BIG_EVERY = 997, /* this packet is larger than a block: a block of its own */
	BIG_LEN = 70000,
	MAX_LEN = 1200,
};

static const uint64_t T0_US = UINT64_C(1700000000000000);

struct lane {
	pthread_t thread;
	unsigned id;
	struct packet_queue *q;
	uint64_t sent; /* by the reader, read after the join */
	uint64_t received, shared, copied, failures;
};

static uint8_t *seen; /* seen[k]: times packet k arrived; written by worker k % QUEUES only */

static uint32_t length_of(uint64_t k)
{
	return k % BIG_EVERY == BIG_EVERY - 1 ? BIG_LEN + (uint32_t)(k % 1000)
	                                      : 1 + (uint32_t)(k * 7919 % MAX_LEN);
}

static uint32_t wire_of(uint64_t k)
{
	return length_of(k) + (k % 4 == 0 ? 100 : 0);
}

static uint64_t ts_of(uint64_t k)
{
	return T0_US + k * 1000 + k % 7;
}

static uint8_t byte_of(uint64_t k, uint32_t i)
{
	return (uint8_t)(k * 131 + i * 7 + (i >> 8));
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* the file is written in this machine's order; its magic says which */
}

static int write_file(FILE *out)
{
	uint8_t hdr[PCAP_FILE_HEADER_LEN] = {0};
	uint16_t version[2] = {2, 4};
	put32(hdr, 0xa1b2c3d4u);
	memcpy(hdr + 4, version, sizeof version);
	put32(hdr + 16, PCAP_RECORD_MAX_CAPLEN);
	put32(hdr + 20, 1); /* LINKTYPE_ETHERNET */
	uint8_t *data = malloc(BIG_LEN + 1000);
	int rc = data && fwrite(hdr, sizeof hdr, 1, out) == 1 ? 0 : -1;
	for (uint64_t k = 0; rc == 0 && k < PACKETS; k++) {
		uint8_t rec[PCAP_RECORD_HEADER_LEN];
		uint32_t len = length_of(k);
		put32(rec, (uint32_t)(ts_of(k) / 1000000));
		put32(rec + 4, (uint32_t)(ts_of(k) % 1000000));
		put32(rec + 8, len);
		put32(rec + 12, wire_of(k));
		for (uint32_t i = 0; i < len; i++)
			data[i] = byte_of(k, i);
		if (fwrite(rec, sizeof rec, 1, out) != 1 || fwrite(data, len, 1, out) != 1)
			rc = -1;
	}
	free(data);
	return rc;
}

/* A packet as a worker got it: the number it carries says what it must be. */
static int check_packet(struct lane *l, const struct capture_packet *cp, uint64_t k, uint64_t clock,
                        uint64_t *last_k)
{
	if (k >= PACKETS || k % QUEUES != l->id || (*last_k != UINT64_MAX && k <= *last_k)) {
		fprintf(stderr, "FAIL worker %u: packet %" PRIu64 " out of order or on the wrong worker\n",
		        l->id, k);
		return 1;
	}
	*last_k = k;
	if (cp->ts_us != ts_of(k) || clock != ts_of(k) || cp->caplen != length_of(k) ||
	    cp->len != wire_of(k) || cp->linktype != 1 || cp->interface != NULL) {
		fprintf(stderr, "FAIL worker %u: packet %" PRIu64 " came with another time or lengths\n",
		        l->id, k);
		return 1;
	}
	for (uint32_t i = 0; i < cp->caplen; i++)
		if (cp->data[i] != byte_of(k, i)) {
			fprintf(stderr, "FAIL worker %u: packet %" PRIu64 " byte %u differs\n", l->id, k, i);
			return 1;
		}
	seen[k]++;
	return 0;
}

static void *work(void *arg)
{
	struct lane *l = arg;
	uint64_t last_k = UINT64_MAX;
	unsigned batches = 0;
	for (;;) {
		struct packet_batch *b = packet_queue_pop(l->q);
		for (unsigned i = 0; i < b->count; i++) {
			struct capture_packet cp;
			uint64_t clock, k;
			packet_batch_get(b, i, &cp, &clock, &k);
			/* copied into the batch, or still in the reader's block */
			if (cp.data >= b->bytes && cp.data < b->bytes + PACKET_BATCH_BYTES)
				l->copied++;
			else
				l->shared++;
			l->failures += (uint64_t)check_packet(l, &cp, k, clock, &last_k);
			l->received++;
		}
		bool last = b->last;
		packet_queue_recycle(l->q, b);
		if (last)
			break;
		/* A slow worker at first: its batches (and their blocks) pile up, the shared blocks run out
		 * and the reader goes on in copy mode. */
		if (l->id == 0 && ++batches <= 4)
			usleep(200000);
	}
	return NULL;
}

static void push(struct lane *l, struct packet_batch **b, uint64_t clock, bool last)
{
	(*b)->clock_us = clock;
	(*b)->last = last;
	packet_queue_push(l->q, *b);
	*b = last ? NULL : packet_queue_batch(l->q);
	if (*b)
		packet_batch_reset(*b);
}

/* The reader thread's part: every packet of the file into its worker's batch; the file closed as soon as
 * it ends, the last batches pushed after. */
static int read_all(struct lane *lanes, int fd, uint64_t *shared, uint64_t *copied)
{
	struct packet_batch *fill[QUEUES];
	for (unsigned q = 0; q < QUEUES; q++)
		if ((fill[q] = packet_queue_batch(lanes[q].q)) != NULL)
			packet_batch_reset(fill[q]);
	char err[256] = "";
	struct pcap_file *f = pcap_file_from_fd(fd, BLOCK_SIZE, SHARED_MAX, err, sizeof err);
	if (!f)
		return fprintf(stderr, "FAIL pcap_file_from_fd: \"%s\"\n", err), 1;
	struct pcap_file_packet p;
	uint64_t k = 0, clock = 0;
	int rc;
	while ((rc = pcap_file_next(f, &p, err, sizeof err)) == 1) {
		struct lane *l = &lanes[k % QUEUES];
		struct capture_packet cp = {p.rec.ts_us, p.rec.caplen, p.rec.len, 1, p.data, NULL, p.block};
		*(p.block ? shared : copied) += 1;
		clock = p.rec.ts_us;
		if (fill[l->id] == NULL)
			return fprintf(stderr, "FAIL packet_queue_batch\n"), 1;
		if (!packet_batch_add(fill[l->id], &cp, clock, k)) {
			push(l, &fill[l->id], clock, false);
			if (fill[l->id] == NULL || !packet_batch_add(fill[l->id], &cp, clock, k))
				return fprintf(stderr,
				               "FAIL packet %" PRIu64 " does not fit an empty batch\n", k),
				       1;
		}
		l->sent++;
		k++;
	}
	pcap_file_close(f); /* the workers (and the batches being filled) still hold blocks */
	for (unsigned q = 0; q < QUEUES; q++)
		if (fill[q])
			push(&lanes[q], &fill[q], clock, true);
	if (rc != 0 || k != PACKETS)
		return fprintf(stderr, "FAIL the file ended after %" PRIu64 " packets: \"%s\"\n", k, err), 1;
	return 0;
}

/* The test file in a scratch directory, opened for reading (then removed). -1 on failure. */
static int make_file(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], path[4200];
	snprintf(dir, sizeof dir, "%s/tsan_pcap_blocks.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/blocks.pcap", dir);
	FILE *out = fopen(path, "wb");
	int ok = out && write_file(out) == 0;
	if (out && fclose(out) != 0)
		ok = 0;
	FILE *in = ok ? fopen(path, "rb") : NULL;
	int fd = in ? dup(fileno(in)) : -1;
	if (in)
		fclose(in);
	unlink(path);
	rmdir(dir);
	return fd;
}

int main(void)
{
	int fd = make_file();
	seen = calloc(PACKETS, 1);
	if (fd < 0 || !seen)
		return fprintf(stderr, "FAIL writing the test file\n"), 1;
	struct lane lanes[QUEUES];
	for (unsigned q = 0; q < QUEUES; q++) {
		lanes[q] = (struct lane){.id = q, .q = packet_queue_new(DEPTH)};
		if (lanes[q].q == NULL || pthread_create(&lanes[q].thread, NULL, work, &lanes[q]) != 0)
			return fprintf(stderr, "FAIL packet_queue_new or pthread_create\n"), 1;
	}
	uint64_t shared = 0, copied = 0, wshared = 0, wcopied = 0;
	uint64_t failures = (uint64_t)read_all(lanes, fd, &shared, &copied);
	for (unsigned q = 0; q < QUEUES; q++) {
		struct lane *l = &lanes[q];
		pthread_join(l->thread, NULL);
		printf("worker %u: %" PRIu64 " packets sent, %" PRIu64 " received (%" PRIu64
		       " in blocks, %" PRIu64 " copied)\n",
		       q, l->sent, l->received, l->shared, l->copied);
		if (l->received != l->sent) {
			fprintf(stderr, "FAIL worker %u: %" PRIu64 " received, %" PRIu64 " sent\n", q,
			        l->received, l->sent);
			failures++;
		}
		failures += l->failures;
		wshared += l->shared;
		wcopied += l->copied;
		packet_queue_free(l->q);
	}
	for (uint64_t k = 0; k < PACKETS; k++)
		if (seen[k] != 1) {
			fprintf(stderr, "FAIL packet %" PRIu64 " arrived %u times\n", k, seen[k]);
			failures++;
			break;
		}
	printf("reader: %" PRIu64 " packets in shared blocks, %" PRIu64 " in copy mode\n", shared, copied);
	if (shared == 0 || copied == 0 || wshared != shared || wcopied != copied) {
		fprintf(stderr,
		        "FAIL both shared and copy-mode packets must be seen, by the reader and the workers "
		        "alike\n");
		failures++;
	}
	free(seen);
	printf(failures ? "FAIL: %" PRIu64 " failure(s)\n" : "ok\n", failures);
	return failures ? 1 : 0;
}
