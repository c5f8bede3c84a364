/*
 * session_order.c: a binary min-heap of sealed sessions by their ordering key,
 * released below the lowest watermark (see session_order.h). Owns the heap and
 * the sessions in it.
 */
#include "sensor/workers/session_order.h"

#include <stdbool.h>
#include <stdlib.h>

struct session_order {
	struct sealed_session **heap;
	size_t count, cap, peak;
	uint64_t lost;
	unsigned nsources;
	uint64_t *watermark;
	bool *finished;
};

struct session_order *session_order_new(unsigned nsources)
{
	struct session_order *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->nsources = nsources;
	o->watermark = calloc(nsources ? nsources : 1, sizeof *o->watermark);
	o->finished = calloc(nsources ? nsources : 1, sizeof *o->finished);
	if (!o->watermark || !o->finished) {
		session_order_free(o);
		return NULL;
	}
	return o;
}

void session_order_free(struct session_order *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->count; i++)
		sealed_session_free(o->heap[i]);
	free(o->heap);
	free(o->watermark);
	free(o->finished);
	free(o);
}

static bool before(struct sealed_session *a, struct sealed_session *b)
{
	return sealed_session_compare(a, b) < 0;
}

static void sift_up(struct session_order *o, size_t i)
{
	struct sealed_session **h = o->heap;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(h[i], h[parent]))
			break;
		struct sealed_session *t = h[i];
		h[i] = h[parent];
		h[parent] = t;
		i = parent;
	}
}

static void sift_down(struct session_order *o, size_t i)
{
	struct sealed_session **h = o->heap;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < o->count && before(h[l], h[m]))
			m = l;
		if (r < o->count && before(h[r], h[m]))
			m = r;
		if (m == i)
			return;
		struct sealed_session *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

int session_order_push(struct session_order *o, struct sealed_session *ss)
{
	if (o->count == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		struct sealed_session **h = realloc(o->heap, cap * sizeof *h);
		if (!h) {
			sealed_session_free(ss);
			o->lost++;
			return -1;
		}
		o->heap = h;
		o->cap = cap;
	}
	o->heap[o->count++] = ss;
	sift_up(o, o->count - 1);
	if (o->count > o->peak)
		o->peak = o->count;
	return 0;
}

void session_order_watermark(struct session_order *o, unsigned source, uint64_t us)
{
	if (source < o->nsources && us > o->watermark[source])
		o->watermark[source] = us;
}

void session_order_finished(struct session_order *o, unsigned source)
{
	if (source < o->nsources)
		o->finished[source] = true;
}

uint64_t session_order_clock(const struct session_order *o)
{
	uint64_t low = UINT64_MAX;
	for (unsigned i = 0; i < o->nsources; i++)
		if (!o->finished[i] && o->watermark[i] < low)
			low = o->watermark[i];
	return low;
}

struct sealed_session *session_order_pop(struct session_order *o)
{
	if (o->count == 0)
		return NULL;
	uint64_t clock = session_order_clock(o);
	struct sealed_session *top = o->heap[0];
	/* Strictly below: a source at watermark w may still emit a session ending at w. */
	if (clock != UINT64_MAX && sealed_session_order_us(top) >= clock)
		return NULL;
	o->heap[0] = o->heap[--o->count];
	if (o->count)
		sift_down(o, 0);
	return top;
}

size_t session_order_pending(const struct session_order *o)
{
	return o->count;
}

size_t session_order_peak(const struct session_order *o)
{
	return o->peak;
}

uint64_t session_order_lost(const struct session_order *o)
{
	return o->lost;
}
