/*
 * test_flow_memcap.c: the flow table's memcap (sensor/flow/flow_table.h): the
 * buckets and flows charged, emergency mode with its shorter timeouts entered
 * and left, eviction when memory is short, refusals, and evictions queued so
 * that the end hook never runs inside a consumer's charge.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "flow_table_fixture.h"
#include "sensor/flow/flow_table.h"

/* ---- memcap and emergency mode ---- */

Test(memcap, the_bucket_array_is_charged_rounded_up_to_a_power_of_two)
{
	struct fixture *fx = fixture_new(1 << 20, 1000);
	cr_assert_eq(flow_table_memcap(fx->t)->used, bucket_bytes(1024));
	open_flow(fx, 40000, T0);
	cr_assert_eq(flow_table_memcap(fx->t)->used, bucket_bytes(1024) + sizeof(struct flow));
	fixture_free(fx);
}

Test(memcap, a_memcap_smaller_than_the_buckets_is_refused_at_creation)
{
	struct flow_table_settings s = default_settings(bucket_bytes(1024) - 1, 1024);
	struct end_log log = {0};
	cr_assert_null(flow_table_new(&s, on_end, &log));
}

/* Room for the buckets (16) and exactly n flows. */
static uint64_t memcap_for(unsigned n)
{
	return bucket_bytes(16) + n * sizeof(struct flow);
}

/* ---- eviction is queued: the end hook never runs inside a consumer's charge ---- */

/*
 * A consumer that charges memory from inside its flow (as the parsers do while
 * bytes are delivered) and a hook that records whether it ran while the charge
 * was in progress.
 */
struct reentry {
	struct flow_table *t;
	bool charging;         /* inside flow_table_charge */
	size_t ends_inside;    /* end hook calls while charging */
	size_t ends;           /* all end hook calls */
	uint64_t ended_ids[8]; /* in order */
	bool hook_saw_leaving; /* f->leaving was set when the hook ran */
	bool hook_saw_unlinked;
};

static void reentry_end(void *ctx, struct flow *f, enum flow_close_reason reason)
{
	struct reentry *r = ctx;
	cr_assert_eq(reason, FLOW_CLOSE_EVICTED);
	if (r->charging)
		r->ends_inside++;
	if (r->ends < 8)
		r->ended_ids[r->ends] = f->id;
	r->ends++;
	r->hook_saw_leaving = f->leaving;
	r->hook_saw_unlinked = !f->hash_next && !f->source;
	/* The hook may still charge (a flush feeding the parsers): a leaving flow takes no more. */
	cr_assert(flow_table_charge(r->t, f, f->charged + 4096, T0 + 3 * SEC));
}

Test(queued_end, eviction_during_a_charge_queues_the_victim_and_ends_it_after_the_packet)
{
	struct flow_table_settings s = default_settings(memcap_for(2) + 1000, 16);
	struct reentry r = {0};
	struct flow_table *t = flow_table_new(&s, reentry_end, &r);
	cr_assert_not_null(t);
	r.t = t;
	enum flow_dir dir;
	struct decoded_packet pa = syn_from(40001), pb = syn_from(40002);
	struct flow *a = flow_table_create(t, &pa, flow_table_hash(t, &pa), true, false, T0, &dir);
	struct flow *b = flow_table_create(t, &pb, flow_table_hash(t, &pb), true, false, T0 + 1 * SEC, &dir);
	cr_assert(a && b);
	struct memcap *m = flow_table_memcap(t);
	uint64_t before = m->used;

	/* b's consumer needs more than is free: a (the oldest half-open flow) is evicted to make room. */
	r.charging = true;
	cr_assert(flow_table_charge(t, b, 1000 + sizeof(struct flow) / 2, T0 + 2 * SEC));
	r.charging = false;
	cr_assert_eq(r.ends, 0, "the victim's end hook ran inside the charge");
	cr_assert_eq(flow_table_stats(t)->evicted, 1);
	cr_assert_eq(flow_table_stats(t)->active, 1);
	cr_assert_null(flow_table_find(t, &pa, flow_table_hash(t, &pa), &dir),
	               "an evicted flow is still found");
	cr_assert_eq(m->used, before - sizeof(struct flow) + 1000 + sizeof(struct flow) / 2,
	             "the victim's memory was not handed back at once");

	flow_table_end_queued(t);
	cr_assert_eq(r.ends, 1);
	cr_assert_eq(r.ends_inside, 0);
	cr_assert_eq(r.ended_ids[0], 1);
	cr_assert(r.hook_saw_leaving);
	cr_assert(r.hook_saw_unlinked);
	cr_assert_eq(m->used, before - sizeof(struct flow) + 1000 + sizeof(struct flow) / 2,
	             "the memcap does not balance after the queued end");
	flow_table_end_queued(t); /* nothing left: a no-op */
	cr_assert_eq(r.ends, 1);
	flow_table_free(t, FLOW_CLOSE_EVICTED);
	cr_assert_eq(r.ends, 2, "freeing the table ends the flow that stayed");
}

Test(queued_end, a_charge_is_given_back_with_its_flow)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct flow *f = open_flow(fx, 40000, T0);
	struct memcap *m = flow_table_memcap(fx->t);
	cr_assert(flow_table_charge(fx->t, f, 5000, T0));
	cr_assert_eq(m->used, bucket_bytes(64) + sizeof(struct flow) + 5000);
	cr_assert(flow_table_charge(fx->t, f, 2000, T0));
	cr_assert_eq(m->used, bucket_bytes(64) + sizeof(struct flow) + 2000);
	flow_table_end(fx->t, f, FLOW_CLOSE_FIN);
	cr_assert_eq(m->used, bucket_bytes(64));
	fixture_free(fx);
}

Test(memcap, a_full_table_evicts_closed_then_half_open_then_established_flows_oldest_first)
{
	/* Closed and half-open flows outlive the grace here (FLOW_TABLE_GRACE_US: younger, they would rank
	 * with established flows by age), so emergency mode must not expire them first. */
	struct flow_table_settings s = default_settings(memcap_for(4), 16);
	s.emergency_timeout_us[FLOW_STATE_NEW] = s.timeout_us[FLOW_STATE_NEW];
	s.emergency_timeout_us[FLOW_STATE_CLOSED] = s.timeout_us[FLOW_STATE_CLOSED];
	struct fixture *fx = fixture_with(&s);
	/* The established and closed flows are the oldest: class, not age, picks the victim (the newcomers
	 * come six seconds later): closed (done) first, then half-open, then established. */
	struct flow *est = open_flow(fx, 40001, T0 + 1 * MSEC); /* id 1 */
	flow_table_touch(fx->t, est, FLOW_STATE_ESTABLISHED, T0 + 1 * MSEC);
	struct flow *closed = open_flow(fx, 40002, T0 + 2 * MSEC);         /* id 2 */
	flow_table_touch(fx->t, closed, FLOW_STATE_CLOSED, T0 + 2 * MSEC); /* within the closed timeout */
	open_flow(fx, 40003, T0 + 3 * MSEC);                               /* id 3, new */
	open_flow(fx, 40004, T0 + 4 * MSEC);                               /* id 4, new */
	cr_assert_not(flow_table_in_emergency(fx->t));
	cr_assert_eq(flow_table_stats(fx->t)->emergency_entered, 0);

	/* Each newcomer is established at once, so the lower classes empty and the next is reached. */
	for (uint16_t port = 40005; port <= 40008; port++) {
		struct flow *f = open_flow(fx, port, T0 + 6 * SEC + (port - 40000) * MSEC);
		flow_table_touch(fx->t, f, FLOW_STATE_ESTABLISHED, T0 + 6 * SEC + (port - 40000) * MSEC);
		cr_assert_leq(flow_table_memcap(fx->t)->used, memcap_for(4));
	}
	expect_ended(fx, (uint64_t[]){2, 3, 4, 1},
	             (enum flow_close_reason[]){FLOW_CLOSE_EVICTED, FLOW_CLOSE_EVICTED, FLOW_CLOSE_EVICTED,
	                                        FLOW_CLOSE_EVICTED},
	             4);
	for (uint16_t port = 40001; port <= 40004; port++)
		cr_assert_null(find_client(fx, port), "evicted flow on port %u still found", port);
	for (uint16_t port = 40005; port <= 40008; port++)
		cr_assert_not_null(find_client(fx, port), "flow on port %u lost", port);

	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert(flow_table_in_emergency(fx->t));
	cr_assert_eq(st->emergency_entered, 1, "entered %llu times",
	             (unsigned long long)st->emergency_entered);
	cr_assert_eq(st->evicted, 4);
	cr_assert_eq(st->timed_out, 0);
	cr_assert_eq(st->refused, 0);
	cr_assert_eq(st->active, 4);
	cr_assert_eq(st->created, 8);
	fixture_free(fx);
}

Test(memcap, eviction_takes_the_oldest_of_the_established_flows)
{
	struct fixture *fx = fixture_new(memcap_for(3), 16);
	struct flow *a = open_flow(fx, 40001, T0 + 1 * MSEC);
	struct flow *b = open_flow(fx, 40002, T0 + 2 * MSEC);
	struct flow *c = open_flow(fx, 40003, T0 + 3 * MSEC);
	flow_table_touch(fx->t, b, FLOW_STATE_ESTABLISHED, T0 + 4 * MSEC);
	flow_table_touch(fx->t, a, FLOW_STATE_ESTABLISHED, T0 + 5 * MSEC); /* a: most recent activity */
	flow_table_touch(fx->t, c, FLOW_STATE_ESTABLISHED, T0 + 6 * MSEC);
	open_flow(fx, 40004, T0 + 7 * MSEC);
	expect_ended(fx, (uint64_t[]){2}, (enum flow_close_reason[]){FLOW_CLOSE_EVICTED}, 1);
	cr_assert_eq(find_client(fx, 40001), a);
	cr_assert_eq(find_client(fx, 40003), c);
	fixture_free(fx);
}

Test(memcap, evicting_a_flow_gives_back_its_buffered_segments_too)
{
	/* Room for two flows and a 3000-byte segment, not for three flows beside it. */
	struct fixture *fx = fixture_new(memcap_for(2) + 3200, 16);
	struct flow *a = open_flow(fx, 40001, T0 + 1 * MSEC);
	flow_table_touch(fx->t, a, FLOW_STATE_ESTABLISHED, T0 + 1 * MSEC);
	buffer_segment(a, 3000);
	struct flow *b = open_flow(fx, 40002, T0 + 2 * MSEC);
	flow_table_touch(fx->t, b, FLOW_STATE_ESTABLISHED, T0 + 2 * MSEC);
	cr_assert_eq(fx->log.calls, 0);
	open_flow(fx, 40003, T0 + 3 * MSEC);
	expect_ended(fx, (uint64_t[]){1}, (enum flow_close_reason[]){FLOW_CLOSE_EVICTED}, 1);
	cr_assert_eq(flow_table_memcap(fx->t)->used, memcap_for(2),
	             "the evicted flow's segment is still charged");
	fixture_free(fx);
}

Test(memcap, emergency_mode_expires_with_the_emergency_timeouts_before_evicting)
{
	struct fixture *fx = fixture_new(memcap_for(4), 16);
	/* 1: new, 2: established, 3: new but younger than the emergency timeout, 4: closed. */
	open_flow(fx, 40001, T0);
	struct flow *e = open_flow(fx, 40002, T0);
	flow_table_touch(fx->t, e, FLOW_STATE_ESTABLISHED, T0);
	open_flow(fx, 40003, T0 + 8 * SEC);
	struct flow *c = open_flow(fx, 40004, T0 + 8 * SEC);
	flow_table_touch(fx->t, c, FLOW_STATE_CLOSED, T0 + 8 * SEC);
	/* At +10 s nothing is past its normal timeout. */
	flow_table_expire(fx->t, T0 + 10 * SEC);
	cr_assert_eq(fx->log.calls, 0);

	open_flow(fx, 40005, T0 + 10 * SEC);
	/* New after 5 s and closed after 1 s are past their emergency timeouts; established (60 s) is not. */
	cr_assert_eq(fx->log.calls, 2);
	cr_assert_eq(fx->log.times_ended[1], 1, "the old new flow survived its emergency timeout");
	cr_assert_eq(fx->log.times_ended[4], 1, "the closed flow survived its emergency timeout");
	cr_assert_eq(fx->log.by_reason[FLOW_CLOSE_TIMEOUT], 2);
	cr_assert_not_null(find_client(fx, 40002));
	cr_assert_not_null(find_client(fx, 40003));
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_eq(st->emergency_entered, 1);
	cr_assert_eq(st->timed_out, 1, "the idle new flow counts as timed out");
	cr_assert_eq(st->closed, 1, "the closed flow counts as closed, not idle");
	cr_assert_eq(st->evicted, 0, "expiry made room, nothing needed evicting");
	fixture_free(fx);
}

Test(memcap, flow_table_expire_uses_the_emergency_timeouts_while_in_emergency)
{
	struct fixture *fx = fixture_new(memcap_for(2), 16);
	struct flow *a = open_flow(fx, 40001, T0);
	struct flow *b = open_flow(fx, 40002, T0);
	flow_table_touch(fx->t, a, FLOW_STATE_ESTABLISHED, T0);
	flow_table_touch(fx->t, b, FLOW_STATE_ESTABLISHED, T0);
	struct flow *c = open_flow(fx, 40003, T0 + 1 * SEC); /* evicts a */
	flow_table_touch(fx->t, c, FLOW_STATE_ESTABLISHED, T0 + 1 * SEC);
	cr_assert(flow_table_in_emergency(fx->t));
	/* The table is full again, so it stays in emergency: b goes after 60 s, not 600. */
	flow_table_expire(fx->t, T0 + 59 * SEC);
	cr_assert_not_null(find_client(fx, 40002));
	cr_assert(flow_table_in_emergency(fx->t));
	flow_table_expire(fx->t, T0 + 60 * SEC + 500 * MSEC);
	cr_assert_null(find_client(fx, 40002), "the established emergency timeout was not applied");
	cr_assert_not_null(find_client(fx, 40003));
	cr_assert_eq(fx->log.by_reason[FLOW_CLOSE_TIMEOUT], 1);
	fixture_free(fx);
}

Test(memcap, emergency_is_left_only_once_usage_falls_below_the_recovery_percent)
{
	/* Recovery at 50% of buckets + 4 flows: 2 flows are above it, 1 flow below. */
	cr_assert_gt(sizeof(struct flow), bucket_bytes(16),
	             "the test's arithmetic assumes flows larger than the buckets");
	struct fixture *fx = fixture_new(memcap_for(4), 16);
	struct flow *f[5];
	for (int i = 0; i < 5; i++) {
		f[i] = open_flow(fx, (uint16_t)(40001 + i), T0 + (uint64_t)i * MSEC);
		flow_table_touch(fx->t, f[i], FLOW_STATE_ESTABLISHED, T0 + (uint64_t)i * MSEC);
	}
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert(flow_table_in_emergency(fx->t));
	cr_assert_eq(st->emergency_entered, 1);
	cr_assert_eq(st->evicted, 1);

	flow_table_expire(fx->t, T0 + 1 * SEC);
	cr_assert(flow_table_in_emergency(fx->t), "left emergency with the table still full");
	flow_table_end(fx->t, f[1], FLOW_CLOSE_FIN);
	flow_table_end(fx->t, f[2], FLOW_CLOSE_FIN);
	flow_table_expire(fx->t, T0 + 1 * SEC);
	cr_assert(flow_table_in_emergency(fx->t), "left emergency with 2 of 4 flows still there");
	cr_assert_eq(st->emergency_left, 0);

	flow_table_end(fx->t, f[3], FLOW_CLOSE_FIN);
	flow_table_expire(fx->t, T0 + 1 * SEC);
	cr_assert_not(flow_table_in_emergency(fx->t));
	cr_assert_eq(st->emergency_left, 1);
	/* Normal timeouts again: an established flow idle 100 s stays. */
	flow_table_expire(fx->t, T0 + 100 * SEC);
	cr_assert_not_null(find_client(fx, 40005));
	flow_table_expire(fx->t, T0 + 100 * SEC);
	cr_assert_eq(st->emergency_left, 1, "leaving is counted once");
	fixture_free(fx);
}

Test(memcap, leaving_and_entering_emergency_are_counted_in_pairs)
{
	struct fixture *fx = fixture_new(memcap_for(4), 16);
	for (uint16_t port = 40001; port <= 40004; port++)
		open_flow(fx, port, T0);
	/* The newcomer finds the table full; emergency expiry (new: 5 s) empties it. */
	open_flow(fx, 40005, T0 + 10 * SEC);
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_eq(st->emergency_entered, 1);
	cr_assert_eq(st->timed_out, 4);
	cr_assert(flow_table_in_emergency(fx->t), "emergency is left at the next check, not inside create");
	cr_assert_eq(st->emergency_left, 0, "counted as left while still in emergency");

	flow_table_expire(fx->t, T0 + 10 * SEC);
	cr_assert_not(flow_table_in_emergency(fx->t));
	cr_assert_eq(st->emergency_left, 1);
	flow_table_expire(fx->t, T0 + 11 * SEC);
	cr_assert_eq(st->emergency_left, st->emergency_entered);
	fixture_free(fx);
}

Test(memcap, a_flow_that_does_not_fit_even_in_an_empty_table_is_refused)
{
	struct fixture *fx = fixture_new(memcap_for(1) - 1, 16);
	struct decoded_packet p = syn_from(40000);
	enum flow_dir dir;
	cr_assert_null(flow_table_create(fx->t, &p, flow_table_hash(fx->t, &p), true, false, T0, &dir));
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_eq(st->refused, 1);
	cr_assert_eq(st->created, 0);
	cr_assert_eq(st->active, 0);
	cr_assert_eq(st->emergency_entered, 1);
	cr_assert_geq(flow_table_memcap(fx->t)->refused, 1);
	cr_assert_eq(flow_table_memcap(fx->t)->used, bucket_bytes(16));
	cr_assert_null(find(fx, &p, NULL));
	cr_assert_eq(fx->log.calls, 0);
	fixture_free(fx);
}

Test(memcap, a_refused_flow_leaves_the_table_able_to_take_the_next_one_once_memory_is_back)
{
	struct fixture *fx = fixture_new(memcap_for(4), 16);
	struct memcap *m = flow_table_memcap(fx->t);
	/* Something else holds all but half a flow. */
	uint64_t held = m->cap - m->used - sizeof(struct flow) / 2;
	cr_assert(memcap_reserve(m, held));
	struct decoded_packet p = syn_from(40001);
	enum flow_dir dir;
	cr_assert_null(flow_table_create(fx->t, &p, flow_table_hash(fx->t, &p), true, false, T0, &dir));
	cr_assert_eq(flow_table_stats(fx->t)->refused, 1);
	cr_assert_eq(m->used, bucket_bytes(16) + held, "a refused flow must not keep its reservation");

	memcap_release(m, held);
	flow_table_expire(fx->t, T0 + 1 * SEC);
	cr_assert_not(flow_table_in_emergency(fx->t));
	cr_assert_not_null(
	    flow_table_create(fx->t, &p, flow_table_hash(fx->t, &p), true, false, T0 + 1 * SEC, &dir));
	cr_assert_eq(flow_table_stats(fx->t)->refused, 1);
	cr_assert_eq(flow_table_stats(fx->t)->created, 1);
	fixture_free(fx);
}
