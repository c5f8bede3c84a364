/*
 * test_history_handover.c: the shared history's hand-over queue (sensor/history_handover.h): documents come
 * out in order, byte for byte, with their catching-up flag; take never waits and takes at most what it is
 * asked; a full queue (by count or by bytes) makes the producer wait until the consumer takes, never drop;
 * a document larger than the byte bound goes alone; close releases a waiting producer; wait returns on a
 * document, on a kick, and after its timeout.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sensor/history_handover.h"

struct got {
	char docs[16][32];
	bool catching_up[16];
	size_t n;
};

static void collect(void *ctx, const uint8_t *doc, size_t len, bool catching_up)
{
	struct got *g = ctx;
	cr_assert_lt(g->n, 16);
	cr_assert_lt(len, sizeof g->docs[0]);
	memcpy(g->docs[g->n], doc, len);
	g->docs[g->n][len] = '\0';
	g->catching_up[g->n++] = catching_up;
}

Test(history_handover, documents_come_out_in_order_with_their_flag)
{
	struct history_handover *h = history_handover_new(8, 1024);
	cr_assert_not_null(h);
	cr_assert_eq(history_handover_push(h, "one", 3, true), 0);
	cr_assert_eq(history_handover_push(h, "two", 3, false), 0);
	cr_assert_eq(history_handover_push(h, "", 0, true), 0);
	struct got g = {0};
	cr_assert_eq(history_handover_take(h, 2, collect, &g), 2);
	cr_assert_str_eq(g.docs[0], "one");
	cr_assert_str_eq(g.docs[1], "two");
	cr_assert(g.catching_up[0]);
	cr_assert_not(g.catching_up[1]);
	cr_assert_eq(history_handover_take(h, 10, collect, &g), 1);
	cr_assert_str_eq(g.docs[2], "");
	cr_assert_eq(history_handover_take(h, 10, collect, &g), 0, "an empty queue: nothing, at once");
	struct history_handover_stats st;
	history_handover_get_stats(h, &st);
	cr_assert_eq(st.pushed, 3);
	cr_assert_eq(st.taken, 3);
	cr_assert_eq(st.queued, 0);
	cr_assert_eq(st.queued_bytes, 0);
	cr_assert_eq(st.full_waits, 0);
	history_handover_free(h);
}

struct producer {
	struct history_handover *h;
	int n, rc;
	size_t len;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	char doc[64];
	for (int i = 0; i < p->n && p->rc == 0; i++) {
		memset(doc, 'a' + i % 26, sizeof doc);
		p->rc = history_handover_push(p->h, doc, p->len, false);
	}
	return NULL;
}

static size_t queued(struct history_handover *h)
{
	struct history_handover_stats st;
	history_handover_get_stats(h, &st);
	return st.queued;
}

static void wait_until_full_wait(struct history_handover *h)
{
	struct history_handover_stats st;
	for (int i = 0; i < 2000; i++) {
		history_handover_get_stats(h, &st);
		if (st.full_waits)
			return;
		usleep(1000);
	}
	cr_assert_fail("the producer never waited");
}

static void discard(void *ctx, const uint8_t *doc, size_t len, bool catching_up)
{
	(void)doc, (void)catching_up;
	*(size_t *)ctx += len;
}

Test(history_handover, a_full_queue_makes_the_producer_wait_and_nothing_is_lost)
{
	struct history_handover *h = history_handover_new(3, 1 << 20);
	struct producer p = {.h = h, .n = 10, .len = 10};
	pthread_t t;
	pthread_create(&t, NULL, produce, &p);
	wait_until_full_wait(h);
	cr_assert_eq(queued(h), 3, "the bound by count holds while the producer waits");
	size_t bytes = 0, n = 0;
	while (n < 10) {
		n += history_handover_take(h, 2, discard, &bytes);
		usleep(100);
	}
	pthread_join(t, NULL);
	cr_assert_eq(p.rc, 0);
	cr_assert_eq(bytes, 100, "every byte of the ten documents came out");
	history_handover_free(h);
}

Test(history_handover, the_byte_bound_holds_and_a_large_document_goes_alone)
{
	struct history_handover *h = history_handover_new(100, 25);
	struct producer p = {.h = h, .n = 3, .len = 10};
	pthread_t t;
	pthread_create(&t, NULL, produce, &p);
	wait_until_full_wait(h);
	cr_assert_eq(queued(h), 2, "two of ten bytes fit in 25, the third waits");
	size_t bytes = 0;
	cr_assert_eq(history_handover_take(h, 100, discard, &bytes), 2);
	pthread_join(t, NULL);
	cr_assert_eq(history_handover_take(h, 100, discard, &bytes), 1);
	char big[64] = {0};
	cr_assert_eq(history_handover_push(h, big, sizeof big, false), 0,
	             "over the bound, into an empty queue");
	cr_assert_eq(history_handover_take(h, 100, discard, &bytes), 1);
	cr_assert_eq(bytes, 30 + sizeof big);
	history_handover_free(h);
}

Test(history_handover, close_releases_a_waiting_producer_and_refuses_later_pushes)
{
	struct history_handover *h = history_handover_new(1, 1024);
	struct producer p = {.h = h, .n = 5, .len = 4};
	pthread_t t;
	pthread_create(&t, NULL, produce, &p);
	wait_until_full_wait(h);
	history_handover_close(h);
	pthread_join(t, NULL);
	cr_assert_eq(p.rc, -1, "the waiting push returned -1");
	cr_assert_eq(history_handover_push(h, "x", 1, false), -1);
	size_t bytes = 0;
	cr_assert_eq(history_handover_take(h, 10, discard, &bytes), 1, "what was queued can still be taken");
	history_handover_free(h);
}

static double elapsed_ms(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static void *kick_later(void *arg)
{
	usleep(50000);
	history_handover_kick(arg);
	return NULL;
}

Test(history_handover, wait_returns_on_a_document_a_kick_or_its_timeout)
{
	struct history_handover *h = history_handover_new(4, 1024);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_not(history_handover_wait(h, 30));
	cr_assert_geq(elapsed_ms(&t0), 25.0, "waited its timeout");
	pthread_t t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&t, NULL, kick_later, h);
	cr_assert_not(history_handover_wait(h, 5000), "a kick, no document");
	pthread_join(t, NULL);
	cr_assert_lt(elapsed_ms(&t0), 4000.0, "the kick ended the wait");
	history_handover_push(h, "d", 1, false);
	cr_assert(history_handover_wait(h, 5000), "a queued document: at once");
	history_handover_free(h);
}
