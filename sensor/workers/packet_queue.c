/*
 * packet_queue.c: the bounded batch queue from the reader to a worker (see
 * packet_queue.h). Owns its batches, queued and free.
 */
#include "sensor/workers/packet_queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct packet_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	struct packet_batch *head, *tail; /* queued, oldest first */
	unsigned queued, depth;
	struct packet_batch *free_list;
	struct packet_queue_stats stats;
};

void packet_batch_reset(struct packet_batch *b)
{
	b->next = NULL;
	b->clock_us = 0;
	b->last = false;
	b->finish_reason = 0;
	b->count = 0;
	b->used = 0;
	b->iface_src = NULL;
	b->iface_at = -1;
	b->nblocks = 0;
}

void packet_batch_release(struct packet_batch *b)
{
	for (unsigned i = 0; i < b->nblocks; i++)
		capture_block_release(b->blocks[i]);
	b->nblocks = 0;
}

/* Holds cp's block for the batch (packets come in file order: a block already held is the last one). */
static bool hold_block(struct packet_batch *b, struct capture_block *block)
{
	if (b->nblocks > 0 && b->blocks[b->nblocks - 1] == block)
		return true;
	if (b->nblocks == PACKET_BATCH_BLOCKS)
		return false;
	capture_block_retain(block);
	b->blocks[b->nblocks++] = block;
	return true;
}

/* The interface name, copied once per batch while it stays the same. -1 when unknown or no room. */
static int32_t add_iface(struct packet_batch *b, const char *name)
{
	if (!name)
		return -1;
	if (b->iface_src == name && b->iface_at >= 0 &&
	    strcmp((const char *)b->bytes + b->iface_at, name) == 0)
		return b->iface_at;
	size_t n = strnlen(name, PACKET_IFACE_MAX - 1);
	if (b->used + n + 1 > PACKET_BATCH_BYTES)
		return -1;
	memcpy(b->bytes + b->used, name, n);
	b->bytes[b->used + n] = '\0';
	b->iface_src = name;
	b->iface_at = (int32_t)b->used;
	b->used += (uint32_t)(n + 1);
	return b->iface_at;
}

bool packet_batch_add(struct packet_batch *b, const struct capture_packet *cp, uint64_t clock_us,
                      uint64_t seq)
{
	uint32_t caplen = cp->block || cp->caplen < PACKET_BATCH_BYTES - PACKET_IFACE_MAX
	                      ? cp->caplen
	                      : PACKET_BATCH_BYTES - PACKET_IFACE_MAX;
	uint32_t copied = cp->block ? 0 : caplen;
	if (b->count == PACKET_BATCH_PACKETS ||
	    b->used + copied + PACKET_IFACE_MAX + 8 > PACKET_BATCH_BYTES ||
	    (cp->block && !hold_block(b, cp->block)))
		if (b->count > 0)
			return false; /* an empty batch always has room, and at least one block free */
	struct packet_slot *s = &b->slot[b->count];
	s->iface_at = add_iface(b, cp->interface);
	s->ts_us = cp->ts_us;
	s->clock_us = clock_us;
	s->seq = seq;
	s->caplen = caplen;
	s->len = cp->len;
	s->linktype = cp->linktype;
	if (cp->block) {
		s->data = cp->data;
	} else {
		b->used = (b->used + 7) & ~7u; /* the decoder reads headers in place: keep them aligned */
		s->data = b->bytes + b->used;
		memcpy(b->bytes + b->used, cp->data, caplen);
		b->used += caplen;
	}
	b->count++;
	return true;
}

void packet_batch_get(const struct packet_batch *b, unsigned i, struct capture_packet *out,
                      uint64_t *clock_us, uint64_t *seq)
{
	const struct packet_slot *s = &b->slot[i];
	*clock_us = s->clock_us;
	*seq = s->seq;
	*out = (struct capture_packet){.ts_us = s->ts_us,
	                               .caplen = s->caplen,
	                               .len = s->len,
	                               .linktype = s->linktype,
	                               .data = s->data,
	                               .interface =
	                                   s->iface_at >= 0 ? (const char *)b->bytes + s->iface_at : NULL};
}

struct packet_queue *packet_queue_new(unsigned depth)
{
	struct packet_queue *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->depth = depth ? depth : 1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	/* depth queued, one filling, one being worked on: the producer never waits for memory. */
	for (unsigned i = 0; i < q->depth + 2; i++) {
		struct packet_batch *b = malloc(sizeof *b);
		if (!b) {
			packet_queue_free(q);
			return NULL;
		}
		packet_batch_reset(b);
		b->next = q->free_list;
		q->free_list = b;
	}
	return q;
}

static void free_list(struct packet_batch *b)
{
	while (b) {
		struct packet_batch *next = b->next;
		packet_batch_release(b);
		free(b);
		b = next;
	}
}

void packet_queue_free(struct packet_queue *q)
{
	if (!q)
		return;
	free_list(q->head);
	free_list(q->free_list);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q);
}

struct packet_batch *packet_queue_batch(struct packet_queue *q)
{
	pthread_mutex_lock(&q->lock);
	struct packet_batch *b = q->free_list;
	if (b)
		q->free_list = b->next;
	pthread_mutex_unlock(&q->lock);
	if (!b)
		b = malloc(sizeof *b);
	if (b)
		packet_batch_reset(b);
	return b;
}

/* Under q's lock: queues b, once there is room (wait) or only if there is (!wait). */
static bool enqueue(struct packet_queue *q, struct packet_batch *b, bool wait)
{
	if (q->queued >= q->depth && !wait)
		return false;
	if (q->queued >= q->depth)
		q->stats.full_waits++;
	while (q->queued >= q->depth)
		pthread_cond_wait(&q->not_full, &q->lock);
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->queued++;
	if (q->queued > q->stats.peak)
		q->stats.peak = q->queued;
	q->stats.batches++;
	q->stats.packets += b->count;
	pthread_cond_signal(&q->not_empty);
	return true;
}

void packet_queue_push(struct packet_queue *q, struct packet_batch *b)
{
	b->next = NULL;
	pthread_mutex_lock(&q->lock);
	enqueue(q, b, true);
	pthread_mutex_unlock(&q->lock);
}

bool packet_queue_try_push(struct packet_queue *q, struct packet_batch *b)
{
	b->next = NULL;
	pthread_mutex_lock(&q->lock);
	bool queued = enqueue(q, b, false);
	pthread_mutex_unlock(&q->lock);
	return queued;
}

struct packet_batch *packet_queue_pop(struct packet_queue *q)
{
	pthread_mutex_lock(&q->lock);
	while (!q->head)
		pthread_cond_wait(&q->not_empty, &q->lock);
	struct packet_batch *b = q->head;
	q->head = b->next;
	if (!q->head)
		q->tail = NULL;
	q->queued--;
	/* A waiting producer is woken once half the queue is free, not for each batch: fewer wake-ups. */
	if (q->queued <= q->depth / 2)
		pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	b->next = NULL;
	return b;
}

void packet_queue_recycle(struct packet_queue *q, struct packet_batch *b)
{
	packet_batch_release(b);
	pthread_mutex_lock(&q->lock);
	b->next = q->free_list;
	q->free_list = b;
	pthread_mutex_unlock(&q->lock);
}

void packet_queue_get_stats(struct packet_queue *q, struct packet_queue_stats *out)
{
	pthread_mutex_lock(&q->lock);
	*out = q->stats;
	pthread_mutex_unlock(&q->lock);
}
