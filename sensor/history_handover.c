/*
 * history_handover.c: the shared history's documents from the reader thread to the merging thread
 * (history_handover.h). Owns the queued copies; one mutex, two conditions (room for the producer, news for
 * the consumer).
 */
#include "sensor/history_handover.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sensor/timed_wait.h"

struct item {
	struct item *next;
	size_t len;
	bool catching_up;
	uint8_t doc[];
};

struct history_handover {
	pthread_mutex_t lock;
	pthread_cond_t room, news;
	struct item *head, **tail;
	size_t max_docs, max_bytes, queued, queued_bytes;
	uint64_t pushed, taken, full_waits, kicks;
	bool closed;
};

struct history_handover *history_handover_new(size_t max_docs, size_t max_bytes)
{
	struct history_handover *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	timed_wait_cond_init(&h->room); /* the waits' deadlines ignore wall-clock steps */
	timed_wait_cond_init(&h->news);
	h->tail = &h->head;
	h->max_docs = max_docs ? max_docs : 1;
	h->max_bytes = max_bytes ? max_bytes : 1;
	return h;
}

void history_handover_free(struct history_handover *h)
{
	if (!h)
		return;
	for (struct item *it = h->head, *next; it; it = next) {
		next = it->next;
		free(it);
	}
	pthread_cond_destroy(&h->room);
	pthread_cond_destroy(&h->news);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Room for len more bytes: under the bounds, or an empty queue (a document over max_bytes goes alone). */
static bool has_room(const struct history_handover *h, size_t len)
{
	return h->queued == 0 || (h->queued < h->max_docs && h->queued_bytes + len <= h->max_bytes);
}

int history_handover_push(struct history_handover *h, const void *doc, size_t len, bool catching_up)
{
	struct item *it = malloc(sizeof *it + len);
	if (!it)
		return -1;
	it->next = NULL;
	it->len = len;
	it->catching_up = catching_up;
	if (len)
		memcpy(it->doc, doc, len);
	pthread_mutex_lock(&h->lock);
	if (!h->closed && !has_room(h, len)) {
		h->full_waits++;
		while (!h->closed && !has_room(h, len))
			pthread_cond_wait(&h->room, &h->lock);
	}
	if (h->closed) {
		pthread_mutex_unlock(&h->lock);
		free(it);
		return -1;
	}
	*h->tail = it;
	h->tail = &it->next;
	h->queued++;
	h->queued_bytes += len;
	h->pushed++;
	pthread_cond_signal(&h->news);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

size_t history_handover_take(struct history_handover *h, size_t max, history_handover_fn fn, void *ctx)
{
	pthread_mutex_lock(&h->lock);
	struct item *first = h->head, *last = NULL;
	size_t n = 0, bytes = 0;
	for (struct item *it = first; it && n < max; it = it->next) {
		last = it;
		bytes += it->len;
		n++;
	}
	if (last) {
		h->head = last->next;
		if (!h->head)
			h->tail = &h->head;
		last->next = NULL;
		h->queued -= n;
		h->queued_bytes -= bytes;
		h->taken += n;
		pthread_cond_signal(&h->room);
	}
	pthread_mutex_unlock(&h->lock);
	for (struct item *it = last ? first : NULL, *next; it; it = next) {
		next = it->next;
		fn(ctx, it->doc, it->len, it->catching_up);
		free(it);
	}
	return n;
}

bool history_handover_wait(struct history_handover *h, unsigned timeout_ms)
{
	struct timespec until = timed_wait_deadline(timeout_ms);
	pthread_mutex_lock(&h->lock);
	uint64_t kicks = h->kicks;
	int rc = 0;
	while (!h->queued && h->kicks == kicks && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&h->news, &h->lock, &until);
	bool queued = h->queued > 0;
	pthread_mutex_unlock(&h->lock);
	return queued;
}

void history_handover_kick(struct history_handover *h)
{
	pthread_mutex_lock(&h->lock);
	h->kicks++;
	pthread_cond_signal(&h->news);
	pthread_mutex_unlock(&h->lock);
}

void history_handover_close(struct history_handover *h)
{
	pthread_mutex_lock(&h->lock);
	h->closed = true;
	pthread_cond_broadcast(&h->room);
	pthread_cond_broadcast(&h->news);
	pthread_mutex_unlock(&h->lock);
}

void history_handover_get_stats(struct history_handover *h, struct history_handover_stats *out)
{
	pthread_mutex_lock(&h->lock);
	*out = (struct history_handover_stats){.pushed = h->pushed,
	                                       .taken = h->taken,
	                                       .full_waits = h->full_waits,
	                                       .queued = h->queued,
	                                       .queued_bytes = h->queued_bytes};
	pthread_mutex_unlock(&h->lock);
}
