/*
 * test_session_order.c: sessions from several workers come out in packet-time
 * order: held until every unfinished worker's watermark has passed their key,
 * ties broken by start time and endpoints, and all released once every worker
 * has finished; the same order whatever order they were pushed in.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/workers/session_order.h"
#include "ip_text.h"
#include "test_support.h"

static struct sealed_session *make(uint64_t key, uint64_t start, const char *client, uint16_t port,
                                   unsigned worker)
{
	static struct session s; /* 129 KB: not on the stack */
	memset(&s, 0, sizeof s);
	s.start_us = start;
	s.client.ip = addr(client);
	s.client.port = port;
	s.server.ip = addr("198.51.100.25");
	s.server.port = 25;
	struct sealed_session *ss = sealed_session_new(&s, true, NULL, key, worker);
	cr_assert_not_null(ss);
	return ss;
}

static uint64_t pop_key(struct session_order *o)
{
	struct sealed_session *ss = session_order_pop(o);
	if (!ss)
		return 0;
	uint64_t k = sealed_session_order_us(ss);
	sealed_session_free(ss);
	return k;
}

Test(session_order, holds_a_session_until_every_watermark_has_passed_it)
{
	struct session_order *o = session_order_new(2);
	session_order_push(o, make(100, 10, "192.0.2.1", 1000, 0));
	session_order_push(o, make(50, 10, "192.0.2.2", 1000, 1));
	cr_assert_null(session_order_pop(o), "no watermark yet");
	session_order_watermark(o, 0, 200);
	cr_assert_null(session_order_pop(o), "worker 1 is still at 0");
	session_order_watermark(o, 1, 50);
	cr_assert_null(session_order_pop(o), "a key equal to a watermark may still get company");
	session_order_watermark(o, 1, 51);
	cr_assert_eq(pop_key(o), 50);
	cr_assert_null(session_order_pop(o));
	session_order_watermark(o, 1, 40); /* never back */
	cr_assert_eq(session_order_clock(o), 51);
	session_order_watermark(o, 1, 150);
	cr_assert_eq(pop_key(o), 100);
	cr_assert_eq(session_order_pending(o), 0);
	session_order_free(o);
}

Test(session_order, a_finished_worker_holds_nobody_back_and_the_end_releases_all)
{
	struct session_order *o = session_order_new(3);
	session_order_push(o, make(300, 1, "192.0.2.1", 1, 2));
	session_order_push(o, make(100, 1, "192.0.2.1", 2, 0));
	session_order_watermark(o, 0, 500);
	session_order_watermark(o, 1, 500);
	cr_assert_null(session_order_pop(o), "worker 2 still at 0");
	session_order_finished(o, 2);
	cr_assert_eq(session_order_clock(o), 500);
	cr_assert_eq(pop_key(o), 100);
	cr_assert_eq(pop_key(o), 300);
	session_order_push(o, make(900, 1, "192.0.2.1", 3, 0));
	cr_assert_null(session_order_pop(o));
	session_order_finished(o, 0);
	session_order_finished(o, 1);
	cr_assert_eq(session_order_clock(o), UINT64_MAX);
	cr_assert_eq(pop_key(o), 900);
	/* freed with the order: what is left in it */
	session_order_push(o, make(1000, 1, "192.0.2.1", 4, 0));
	session_order_free(o);
}

Test(session_order, ties_go_by_start_then_client_then_server_whatever_the_push_order)
{
	uint64_t seed = 7;
	for (int round = 0; round < 20; round++) {
		struct session_order *o = session_order_new(1);
		struct sealed_session *ss[6] = {
		    make(100, 5, "192.0.2.9", 9, 0), make(100, 5, "192.0.2.1", 9, 0),
		    make(100, 5, "192.0.2.1", 2, 0), make(100, 3, "192.0.2.200", 1, 0),
		    make(99, 7, "192.0.2.1", 1, 0),  make(101, 1, "192.0.2.1", 1, 0)};
		for (int i = 5; i > 0; i--) { /* a shuffled push order */
			int j = (int)(test_rand(&seed) % (uint64_t)(i + 1));
			struct sealed_session *t = ss[i];
			ss[i] = ss[j];
			ss[j] = t;
		}
		for (int i = 0; i < 6; i++)
			session_order_push(o, ss[i]);
		session_order_finished(o, 0);
		struct sealed_session *prev = NULL, *got;
		int n = 0;
		while ((got = session_order_pop(o)) != NULL) {
			if (prev) {
				cr_assert_lt(sealed_session_compare(prev, got), 0, "round %d, position %d",
				             round, n);
				sealed_session_free(prev);
			}
			prev = got;
			n++;
		}
		cr_assert_eq(n, 6);
		cr_assert_eq(sealed_session_order_us(prev), 101);
		sealed_session_free(prev);
		cr_assert_eq(session_order_peak(o), 6);
		session_order_free(o);
	}
}
