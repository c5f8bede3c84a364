/*
 * tsan_history_handover.c: the shared history's hand-over (sensor/history_handover.h) as history_feed.c runs
 * it: a reader thread (tlsobs-history) pushes documents of varied sizes into a small queue, so that it
 * waits for room again and again, and kicks now and then (its status news); the main thread waits, takes
 * batches and reads the counters meanwhile (as tlsobs.stats does); a second round closes the queue while
 * the reader waits for room (the shutdown). Run under ThreadSanitizer by the TSan leg; it checks the
 * results too: every document arrives once, in order, byte for byte, with its flag; the counters add up;
 * the reader waited; the closed reader's push returned -1 and it ended.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/history_handover.h"

enum { DOCS = 50000, MAX_DOCS = 8, MAX_BYTES = 2048, MAX_LEN = 700, BATCH = 5 };

struct reader {
	struct history_handover *h;
	int n;
	int pushed;
	int rc;
};

static size_t len_of(int i)
{
	return (size_t)(i * 7919 % MAX_LEN);
}

static void fill(uint8_t *doc, int i, size_t len)
{
	for (size_t k = 0; k < len; k++)
		doc[k] = (uint8_t)(i * 31 + k * 7);
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint8_t doc[MAX_LEN];
	for (int i = 0; i < r->n; i++) {
		size_t len = len_of(i);
		fill(doc, i, len);
		if ((r->rc = history_handover_push(r->h, doc, len, i % 3 == 0)) != 0)
			break;
		r->pushed++;
		if (i % 997 == 0)
			history_handover_kick(r->h);
	}
	return NULL;
}

struct main_side {
	int next;
	uint64_t failures;
};

static void check_doc(void *ctx, const uint8_t *doc, size_t len, bool catching_up)
{
	struct main_side *m = ctx;
	int i = m->next++;
	uint8_t want[MAX_LEN];
	fill(want, i, len_of(i));
	if (len != len_of(i) || memcmp(doc, want, len) != 0 || catching_up != (i % 3 == 0)) {
		if (m->failures++ < 5)
			fprintf(stderr, "document %d: wrong (len %zu, want %zu)\n", i, len, len_of(i));
	}
}

static int round_all(void)
{
	struct history_handover *h = history_handover_new(MAX_DOCS, MAX_BYTES);
	struct reader r = {.h = h, .n = DOCS};
	struct main_side m = {0};
	pthread_t t;
	if (!h || pthread_create(&t, NULL, reader_main, &r) != 0)
		return 1;
	while (m.next < DOCS) {
		if (!history_handover_wait(h, 100))
			continue;
		history_handover_take(h, BATCH, check_doc, &m);
		struct history_handover_stats st;
		history_handover_get_stats(h, &st);
		if (st.queued > MAX_DOCS || (st.queued > 1 && st.queued_bytes > MAX_BYTES))
			m.failures++;
	}
	pthread_join(t, NULL);
	struct history_handover_stats st;
	history_handover_get_stats(h, &st);
	int rc = 0;
	if (m.failures || r.rc != 0 || r.pushed != DOCS || st.pushed != DOCS || st.taken != DOCS ||
	    st.queued || st.queued_bytes || !st.full_waits) {
		fprintf(stderr,
		        "round 1: %" PRIu64 " wrong documents, push rc %d, pushed %d/%" PRIu64
		        ", taken %" PRIu64 ", queued %zu, full waits %" PRIu64 "\n",
		        m.failures, r.rc, r.pushed, st.pushed, st.taken, st.queued, st.full_waits);
		rc = 1;
	} else
		printf("round 1: %d documents in order, the reader waited %" PRIu64 " times\n", DOCS,
		       st.full_waits);
	history_handover_free(h);
	return rc;
}

static int round_close(void)
{
	struct history_handover *h = history_handover_new(MAX_DOCS, MAX_BYTES);
	struct reader r = {.h = h, .n = DOCS};
	pthread_t t;
	if (!h || pthread_create(&t, NULL, reader_main, &r) != 0)
		return 1;
	struct history_handover_stats st;
	do
		history_handover_get_stats(h, &st);
	while (!st.full_waits);
	history_handover_close(h);
	pthread_join(t, NULL);
	struct main_side m = {0};
	size_t left = history_handover_take(h, SIZE_MAX, check_doc, &m);
	int rc = r.rc == -1 && r.pushed < DOCS && left == (size_t)r.pushed && !m.failures ? 0 : 1;
	printf("round 2: closed while the reader waited: push %d, %d pushed, %zu taken after: %s\n", r.rc,
	       r.pushed, left, rc ? "FAIL" : "ok");
	history_handover_free(h);
	return rc;
}

int main(void)
{
	return round_all() | round_close();
}
