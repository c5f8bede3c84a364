/*
 * test_flow_table.c: the per-worker flow table against the contract in
 * sensor/flow/flow_table.h: lookup by 5-tuple in both directions, roles, per-state
 * timeouts in packet time, the end hook, and scale. The memcap with its
 * emergency mode and queued ends: test_flow_memcap.c; eviction by value and
 * the per-source budget: test_flow_evict.c.
 *
 * The fixture (tests/support/flow_table_fixture.h) records every flow that
 * leaves, so "which flows went, why, and in what order" can be asserted exactly.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "flow_table_fixture.h"
#include "ip_text.h"
#include "sensor/flow/flow_table.h"

/* ---- lookup ---- */

Test(find, an_ipv4_flow_is_found_from_both_directions_with_the_packets_direction)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct decoded_packet syn = packet("192.0.2.1", 40000, "198.51.100.1", 25, TCP_SYN);
	struct decoded_packet reply = reversed(&syn);
	cr_assert_null(find(fx, &syn, NULL), "an empty table finds nothing");
	enum flow_dir dir = FLOW_TO_CLIENT;
	struct flow *f = flow_table_create(fx->t, &syn, flow_table_hash(fx->t, &syn), true, false, T0, &dir);
	cr_assert_not_null(f);
	cr_assert_eq(dir, FLOW_TO_SERVER);

	enum flow_dir d1 = FLOW_TO_CLIENT, d2 = FLOW_TO_SERVER;
	cr_assert_eq(find(fx, &syn, &d1), f);
	cr_assert_eq(d1, FLOW_TO_SERVER);
	cr_assert_eq(find(fx, &reply, &d2), f);
	cr_assert_eq(d2, FLOW_TO_CLIENT);
	fixture_free(fx);
}

Test(find, an_ipv6_flow_is_found_from_both_directions_with_the_packets_direction)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct decoded_packet syn = packet("2001:db8::1", 40000, "2001:db8:25::25", 587, TCP_SYN);
	struct decoded_packet reply = reversed(&syn);
	struct flow *f = create(fx, &syn, T0);
	cr_assert_eq(f->client.ip.family, 6);
	cr_assert_eq(f->client.port, 40000);
	cr_assert_eq(f->server.port, 587);

	enum flow_dir d1 = FLOW_TO_CLIENT, d2 = FLOW_TO_SERVER;
	cr_assert_eq(find(fx, &syn, &d1), f);
	cr_assert_eq(d1, FLOW_TO_SERVER);
	cr_assert_eq(find(fx, &reply, &d2), f);
	cr_assert_eq(d2, FLOW_TO_CLIENT);
	fixture_free(fx);
}

Test(find, a_tuple_differing_in_any_field_is_another_flow)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct decoded_packet syn = packet("192.0.2.1", 40000, "198.51.100.1", 25, TCP_SYN);
	create(fx, &syn, T0);

	struct decoded_packet other_sport = packet("192.0.2.1", 40001, "198.51.100.1", 25, TCP_SYN);
	struct decoded_packet other_dport = packet("192.0.2.1", 40000, "198.51.100.1", 587, TCP_SYN);
	struct decoded_packet other_src = packet("192.0.2.2", 40000, "198.51.100.1", 25, TCP_SYN);
	struct decoded_packet other_dst = packet("192.0.2.1", 40000, "198.51.100.2", 25, TCP_SYN);
	/* The ports crossed over: same addresses and ports, but not the same connection. */
	struct decoded_packet crossed = packet("192.0.2.1", 25, "198.51.100.1", 40000, TCP_SYN);
	cr_assert_null(find(fx, &other_sport, NULL));
	cr_assert_null(find(fx, &other_dport, NULL));
	cr_assert_null(find(fx, &other_src, NULL));
	cr_assert_null(find(fx, &other_dst, NULL));
	cr_assert_null(find(fx, &crossed, NULL));
	fixture_free(fx);
}

Test(find, an_ipv6_address_with_the_same_leading_bytes_is_not_the_ipv4_one)
{
	/* One bucket: only the comparison can tell them apart. */
	struct fixture *fx = fixture_new(1 << 20, 1);
	struct decoded_packet v4 = packet("192.0.2.1", 40000, "198.51.100.1", 25, TCP_SYN);
	create(fx, &v4, T0);
	struct decoded_packet v6 = v4;
	v6.src.family = 6;
	v6.dst.family = 6;
	cr_assert_null(find(fx, &v6, NULL));
	struct decoded_packet v6_reply = reversed(&v6);
	cr_assert_null(find(fx, &v6_reply, NULL));
	fixture_free(fx);
}

/* ---- roles ---- */

Test(roles, the_sender_of_a_syn_is_the_client_even_from_a_service_port)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct decoded_packet p = packet("192.0.2.1", 25, "198.51.100.1", 40000, TCP_SYN);
	enum flow_dir dir = FLOW_TO_CLIENT;
	struct flow *f = flow_table_create(fx->t, &p, flow_table_hash(fx->t, &p), false, true, T0, &dir);
	cr_assert_not_null(f);
	cr_assert_eq(f->role_source, FLOW_ROLE_SYN);
	cr_assert_eq(f->client.port, 25);
	cr_assert_eq(f->server.port, 40000);
	cr_assert_eq(ip_addr_compare(&f->client.ip, &p.src), 0);
	cr_assert_eq(dir, FLOW_TO_SERVER);
	fixture_free(fx);
}

Test(roles, the_sender_of_a_syn_ack_is_the_server_even_towards_a_service_port)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct decoded_packet p = packet("198.51.100.1", 40000, "192.0.2.1", 25, TCP_SYN | TCP_ACK);
	enum flow_dir dir = FLOW_TO_SERVER;
	struct flow *f = flow_table_create(fx->t, &p, flow_table_hash(fx->t, &p), true, false, T0, &dir);
	cr_assert_not_null(f);
	cr_assert_eq(f->role_source, FLOW_ROLE_SYN_ACK);
	cr_assert_eq(f->server.port, 40000);
	cr_assert_eq(ip_addr_compare(&f->server.ip, &p.src), 0);
	cr_assert_eq(f->client.port, 25);
	cr_assert_eq(dir, FLOW_TO_CLIENT);
	fixture_free(fx);
}

Test(roles, midstream_the_side_talking_to_the_service_port_is_the_client)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	/* Towards the service port: the sender is the client. */
	struct decoded_packet to_service = packet("192.0.2.1", 1024, "198.51.100.1", 60000, TCP_ACK);
	enum flow_dir dir = FLOW_TO_CLIENT;
	struct flow *f =
	    flow_table_create(fx->t, &to_service, flow_table_hash(fx->t, &to_service), true, false, T0, &dir);
	cr_assert_not_null(f);
	cr_assert_eq(f->role_source, FLOW_ROLE_PORT);
	cr_assert_eq(f->client.port, 1024, "the port hint beats the lower-port guess");
	cr_assert_eq(f->server.port, 60000);
	cr_assert_eq(dir, FLOW_TO_SERVER);

	/* From the service port: the sender is the server. */
	struct decoded_packet from_service = packet("198.51.100.2", 60000, "192.0.2.2", 1024, TCP_ACK);
	dir = FLOW_TO_SERVER;
	struct flow *g = flow_table_create(fx->t, &from_service, flow_table_hash(fx->t, &from_service), false,
	                                   true, T0, &dir);
	cr_assert_not_null(g);
	cr_assert_eq(g->role_source, FLOW_ROLE_PORT);
	cr_assert_eq(g->server.port, 60000);
	cr_assert_eq(g->client.port, 1024);
	cr_assert_eq(dir, FLOW_TO_CLIENT);
	fixture_free(fx);
}

Test(roles, without_flags_or_port_hints_the_lower_port_is_guessed_to_be_the_server)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct decoded_packet from_low = packet("198.51.100.1", 2525, "192.0.2.1", 50000, TCP_ACK);
	enum flow_dir dir = FLOW_TO_SERVER;
	struct flow *f =
	    flow_table_create(fx->t, &from_low, flow_table_hash(fx->t, &from_low), false, false, T0, &dir);
	cr_assert_not_null(f);
	cr_assert_eq(f->role_source, FLOW_ROLE_GUESS);
	cr_assert_eq(f->server.port, 2525);
	cr_assert_eq(f->client.port, 50000);
	cr_assert_eq(dir, FLOW_TO_CLIENT);

	struct decoded_packet to_low = packet("192.0.2.2", 50000, "198.51.100.2", 2525, TCP_ACK);
	dir = FLOW_TO_CLIENT;
	struct flow *g =
	    flow_table_create(fx->t, &to_low, flow_table_hash(fx->t, &to_low), false, false, T0, &dir);
	cr_assert_not_null(g);
	cr_assert_eq(g->role_source, FLOW_ROLE_GUESS);
	cr_assert_eq(g->server.port, 2525);
	cr_assert_eq(g->client.port, 50000);
	cr_assert_eq(dir, FLOW_TO_SERVER);
	fixture_free(fx);
}

Test(roles, two_service_ports_say_nothing_so_the_lower_port_is_guessed_to_be_the_server)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct decoded_packet p = packet("192.0.2.1", 25, "198.51.100.1", 587, TCP_ACK);
	enum flow_dir dir = FLOW_TO_CLIENT;
	struct flow *f = flow_table_create(fx->t, &p, flow_table_hash(fx->t, &p), true, true, T0, &dir);
	cr_assert_not_null(f);
	cr_assert_eq(f->role_source, FLOW_ROLE_GUESS);
	cr_assert_eq(f->server.port, 25);
	cr_assert_eq(f->client.port, 587);
	cr_assert_eq(dir, FLOW_TO_CLIENT);
	fixture_free(fx);
}

Test(roles, a_new_flow_starts_in_the_new_state_with_its_creation_time_and_the_next_id)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct flow *a = open_flow(fx, 40000, T0 + 5 * SEC);
	struct flow *b = open_flow(fx, 40001, T0 + 6 * SEC);
	cr_assert_eq(a->state, FLOW_STATE_NEW);
	cr_assert_eq(a->first_us, T0 + 5 * SEC);
	cr_assert_eq(a->last_us, T0 + 5 * SEC);
	cr_assert_eq(b->id, a->id + 1);
	cr_assert_eq(a->value, FLOW_VALUE_NONE);
	cr_assert_null(a->encap, "a flow without encapsulation carries none");
	cr_assert_eq(flow_table_stats(fx->t)->created, 2);
	cr_assert_eq(flow_table_stats(fx->t)->active, 2);
	fixture_free(fx);
}

/* ---- timeouts ---- */

Test(timeouts, a_new_flow_lives_until_the_new_timeout_then_ends_as_timeout)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	open_flow(fx, 40000, T0);
	flow_table_expire(fx->t, T0 + 29 * SEC);
	cr_assert_not_null(find_client(fx, 40000), "expired before the new timeout");
	cr_assert_eq(fx->log.calls, 0);

	flow_table_expire(fx->t, T0 + 31 * SEC);
	cr_assert_null(find_client(fx, 40000), "still there after the new timeout");
	expect_ended(fx, (uint64_t[]){1}, (enum flow_close_reason[]){FLOW_CLOSE_TIMEOUT}, 1);
	cr_assert_eq(flow_table_stats(fx->t)->timed_out, 1);
	cr_assert_eq(flow_table_stats(fx->t)->active, 0);
	fixture_free(fx);
}

Test(timeouts, an_established_flow_outlives_the_new_timeout_until_its_own)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct flow *f = open_flow(fx, 40000, T0);
	flow_table_touch(fx->t, f, FLOW_STATE_ESTABLISHED, T0 + 1 * SEC);
	cr_assert_eq(f->state, FLOW_STATE_ESTABLISHED);
	flow_table_expire(fx->t, T0 + 100 * SEC);
	cr_assert_eq(find_client(fx, 40000), f, "an established flow took the new timeout");
	flow_table_expire(fx->t, T0 + 600 * SEC);
	cr_assert_not_null(find_client(fx, 40000), "idle time counts from the last touch, not creation");
	flow_table_expire(fx->t, T0 + 602 * SEC);
	cr_assert_null(find_client(fx, 40000));
	expect_ended(fx, (uint64_t[]){1}, (enum flow_close_reason[]){FLOW_CLOSE_TIMEOUT}, 1);
	fixture_free(fx);
}

Test(timeouts, a_closed_flow_goes_after_the_short_closed_timeout)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct flow *f = open_flow(fx, 40000, T0);
	flow_table_touch(fx->t, f, FLOW_STATE_ESTABLISHED, T0 + 1 * SEC);
	flow_table_touch(fx->t, f, FLOW_STATE_CLOSED, T0 + 2 * SEC);
	struct flow *g = open_flow(fx, 40001, T0 + 2 * SEC);
	flow_table_touch(fx->t, g, FLOW_STATE_ESTABLISHED, T0 + 2 * SEC);
	flow_table_expire(fx->t, T0 + 11 * SEC);
	cr_assert_not_null(find_client(fx, 40000));
	flow_table_expire(fx->t, T0 + 13 * SEC);
	cr_assert_null(find_client(fx, 40000), "a closed flow outlived the closed timeout");
	cr_assert_eq(find_client(fx, 40001), g, "an established flow of the same age went with it");
	expect_ended(fx, (uint64_t[]){1}, (enum flow_close_reason[]){FLOW_CLOSE_TIMEOUT}, 1);
	fixture_free(fx);
}

Test(timeouts, touching_a_flow_keeps_it_alive_and_never_moves_its_clock_back)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct flow *f = open_flow(fx, 40000, T0);
	flow_table_touch(fx->t, f, FLOW_STATE_NEW, T0 + 20 * SEC);
	cr_assert_eq(f->last_us, T0 + 20 * SEC);
	flow_table_touch(fx->t, f, FLOW_STATE_NEW, T0 + 10 * SEC); /* a packet stamped earlier */
	cr_assert_eq(f->last_us, T0 + 20 * SEC);
	cr_assert_eq(f->first_us, T0);
	flow_table_expire(fx->t, T0 + 45 * SEC);
	cr_assert_not_null(find_client(fx, 40000), "the touch did not refresh the flow");
	flow_table_expire(fx->t, T0 + 51 * SEC);
	cr_assert_null(find_client(fx, 40000));
	fixture_free(fx);
}

Test(timeouts, flows_of_one_state_expire_oldest_activity_first)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct flow *a = open_flow(fx, 40000, T0);
	open_flow(fx, 40001, T0 + 1 * SEC);
	open_flow(fx, 40002, T0 + 2 * SEC);
	flow_table_touch(fx->t, a, FLOW_STATE_NEW, T0 + 3 * SEC); /* a is now the youngest */
	flow_table_expire(fx->t, T0 + 32 * SEC);
	expect_ended(fx, (uint64_t[]){2, 3},
	             (enum flow_close_reason[]){FLOW_CLOSE_TIMEOUT, FLOW_CLOSE_TIMEOUT}, 2);
	cr_assert_not_null(find_client(fx, 40000));
	flow_table_expire(fx->t, T0 + 40 * SEC);
	expect_ended(fx, (uint64_t[]){2, 3, 1},
	             (enum flow_close_reason[]){FLOW_CLOSE_TIMEOUT, FLOW_CLOSE_TIMEOUT, FLOW_CLOSE_TIMEOUT},
	             3);
	cr_assert_eq(flow_table_stats(fx->t)->timed_out, 3);
	fixture_free(fx);
}

Test(timeouts, moving_a_flow_to_another_state_takes_it_off_the_old_states_list)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	/* f would be the first to go on the new list; once established it must not be there. */
	struct flow *f = open_flow(fx, 40000, T0);
	open_flow(fx, 40001, T0 + 1 * SEC);
	flow_table_touch(fx->t, f, FLOW_STATE_ESTABLISHED, T0 + 1 * SEC);
	flow_table_expire(fx->t, T0 + 40 * SEC);
	expect_ended(fx, (uint64_t[]){2}, (enum flow_close_reason[]){FLOW_CLOSE_TIMEOUT}, 1);
	cr_assert_eq(find_client(fx, 40000), f);
	/* And back: closing it puts it under the closed timeout, counted from this touch. */
	flow_table_touch(fx->t, f, FLOW_STATE_CLOSED, T0 + 50 * SEC);
	flow_table_expire(fx->t, T0 + 59 * SEC);
	cr_assert_not_null(find_client(fx, 40000));
	flow_table_expire(fx->t, T0 + 61 * SEC);
	cr_assert_null(find_client(fx, 40000));
	fixture_free(fx);
}

/* ---- ending ---- */

Test(ending, flow_table_end_removes_the_flow_and_calls_the_hook_once_with_the_reason)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct flow *a = open_flow(fx, 40000, T0);
	struct flow *b = open_flow(fx, 40001, T0);
	flow_table_end(fx->t, a, FLOW_CLOSE_FIN);
	flow_table_end(fx->t, b, FLOW_CLOSE_RST);
	cr_assert_null(find_client(fx, 40000));
	cr_assert_null(find_client(fx, 40001));
	expect_ended(fx, (uint64_t[]){1, 2}, (enum flow_close_reason[]){FLOW_CLOSE_FIN, FLOW_CLOSE_RST}, 2);
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_eq(st->active, 0);
	cr_assert_eq(st->timed_out, 0, "a FIN/RST end is not a timeout");
	cr_assert_eq(st->evicted, 0);
	/* Nothing left for expiry or the final free to end again. */
	flow_table_expire(fx->t, T0 + 3600 * SEC);
	flow_table_free(fx->t, FLOW_CLOSE_SHUTDOWN);
	cr_assert_eq(fx->log.calls, 2);
	free(fx);
}

Test(ending, end_all_ends_every_flow_once_with_the_reason_and_the_table_stays_usable)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct flow *e = open_flow(fx, 40000, T0);
	flow_table_touch(fx->t, e, FLOW_STATE_ESTABLISHED, T0 + 5 * SEC);
	struct flow *c = open_flow(fx, 40001, T0 + 1 * SEC);
	flow_table_touch(fx->t, c, FLOW_STATE_CLOSED, T0 + 2 * SEC);
	open_flow(fx, 40002, T0 + 2 * SEC);
	flow_table_end_all(fx->t, FLOW_CLOSE_END_OF_CAPTURE);
	/* Oldest (by creation) first, whatever their state. */
	expect_ended(fx, (uint64_t[]){1, 2, 3},
	             (enum flow_close_reason[]){FLOW_CLOSE_END_OF_CAPTURE, FLOW_CLOSE_END_OF_CAPTURE,
	                                        FLOW_CLOSE_END_OF_CAPTURE},
	             3);
	cr_assert_eq(flow_table_stats(fx->t)->active, 0);
	cr_assert_eq(flow_table_memcap(fx->t)->used, bucket_bytes(64));
	for (uint16_t port = 40000; port <= 40002; port++)
		cr_assert_null(find_client(fx, port));

	struct flow *again = open_flow(fx, 40000, T0 + 10 * SEC);
	cr_assert_eq(find_client(fx, 40000), again);
	cr_assert_eq(again->id, 4);
	fixture_free(fx);
}

Test(ending, freeing_the_table_ends_the_remaining_flows_with_the_given_reason)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	open_flow(fx, 40000, T0);
	open_flow(fx, 40001, T0);
	flow_table_free(fx->t, FLOW_CLOSE_SHUTDOWN);
	cr_assert_eq(fx->log.calls, 2);
	cr_assert_eq(fx->log.by_reason[FLOW_CLOSE_SHUTDOWN], 2);
	flow_table_free(NULL, FLOW_CLOSE_SHUTDOWN); /* a no-op */
	free(fx);
}

Test(ending, ending_a_flow_gives_its_buffered_segments_back_to_the_memcap)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct flow *f = open_flow(fx, 40000, T0);
	buffer_segment(f, 3000);
	struct memcap *m = flow_table_memcap(fx->t);
	cr_assert_gt(m->used, bucket_bytes(64) + sizeof(struct flow) + 3000 - 1);
	flow_table_end(fx->t, f, FLOW_CLOSE_FIN);
	cr_assert_eq(m->used, bucket_bytes(64));
	fixture_free(fx);
}

/* ---- scale ---- */

static struct decoded_packet numbered_packet(uint32_t i)
{
	struct decoded_packet p;
	memset(&p, 0, sizeof p);
	p.src.family = p.dst.family = 4;
	p.src.bytes[0] = 10;
	p.src.bytes[1] = (uint8_t)(i >> 16);
	p.src.bytes[2] = (uint8_t)(i >> 8);
	p.src.bytes[3] = (uint8_t)i;
	p.dst = addr("198.51.100.1");
	p.sport = (uint16_t)(40000 + i % 7);
	p.dport = 25;
	p.tcp_flags = TCP_SYN;
	return p;
}

Test(scale, a_hundred_thousand_flows_are_all_found_again_from_both_sides)
{
	enum { N = 100000 };
	struct fixture *fx = fixture_new(bucket_bytes(1 << 16) + (uint64_t)N * sizeof(struct flow), 1 << 16);
	struct flow **flows = calloc(N, sizeof *flows);
	cr_assert_not_null(flows);
	for (uint32_t i = 0; i < N; i++) {
		struct decoded_packet p = numbered_packet(i);
		flows[i] = create(fx, &p, T0 + i);
	}
	cr_assert_eq(flow_table_stats(fx->t)->active, N);
	cr_assert_eq(flow_table_stats(fx->t)->peak_active, N);
	cr_assert_not(flow_table_in_emergency(fx->t), "exactly N flows fit");
	for (uint32_t i = 0; i < N; i++) {
		struct decoded_packet p = numbered_packet(i), r = reversed(&p);
		enum flow_dir d1 = FLOW_TO_CLIENT, d2 = FLOW_TO_SERVER;
		cr_assert_eq(find(fx, &p, &d1), flows[i], "flow %u not found from the client", i);
		cr_assert_eq(find(fx, &r, &d2), flows[i], "flow %u not found from the server", i);
		cr_assert_eq(d1, FLOW_TO_SERVER);
		cr_assert_eq(d2, FLOW_TO_CLIENT);
	}
	/* End every other one, then the rest must still be found and the ended ones not. */
	for (uint32_t i = 0; i < N; i += 2)
		flow_table_end(fx->t, flows[i], FLOW_CLOSE_FIN);
	for (uint32_t i = 0; i < N; i++) {
		struct decoded_packet p = numbered_packet(i);
		struct flow *got = find(fx, &p, NULL);
		if (i % 2 == 0)
			cr_assert_null(got, "ended flow %u still found", i);
		else
			cr_assert_eq(got, flows[i], "flow %u lost when its neighbours ended", i);
	}
	flow_table_end_all(fx->t, FLOW_CLOSE_END_OF_CAPTURE);
	cr_assert_eq(fx->log.calls, N);
	cr_assert_eq(fx->log.by_reason[FLOW_CLOSE_FIN], N / 2);
	cr_assert_eq(fx->log.by_reason[FLOW_CLOSE_END_OF_CAPTURE], N / 2);
	cr_assert_eq(flow_table_memcap(fx->t)->used, bucket_bytes(1 << 16));
	cr_assert_eq(flow_table_stats(fx->t)->active, 0);
	cr_assert_eq(flow_table_stats(fx->t)->peak_active, N);
	free(flows);
	fixture_free(fx);
}

Test(scale, flows_all_chained_in_one_bucket_are_told_apart_and_unlinked_from_anywhere)
{
	enum { N = 2000 };
	struct fixture *fx = fixture_new(1 << 24, 1);
	struct flow **flows = calloc(N, sizeof *flows);
	cr_assert_not_null(flows);
	for (uint32_t i = 0; i < N; i++) {
		struct decoded_packet p = numbered_packet(i);
		flows[i] = create(fx, &p, T0);
	}
	/* Unlink from the head, the tail and the middle of the chain. */
	for (uint32_t i = 0; i < N; i += 3)
		flow_table_end(fx->t, flows[i], FLOW_CLOSE_RST);
	flow_table_end(fx->t, flows[N - 1], FLOW_CLOSE_RST);
	for (uint32_t i = 0; i < N; i++) {
		struct decoded_packet p = numbered_packet(i), r = reversed(&p);
		bool ended = i % 3 == 0 || i == N - 1;
		struct flow *want = ended ? NULL : flows[i];
		cr_assert_eq(find(fx, &p, NULL), want, "flow %u", i);
		cr_assert_eq(find(fx, &r, NULL), want, "flow %u (reverse)", i);
	}
	free(flows);
	fixture_free(fx);
}

Test(scale, peak_active_remembers_the_most_flows_held_at_once)
{
	struct fixture *fx = fixture_new(1 << 20, 64);
	struct flow *a = open_flow(fx, 40001, T0);
	struct flow *b = open_flow(fx, 40002, T0);
	open_flow(fx, 40003, T0);
	flow_table_end(fx->t, a, FLOW_CLOSE_FIN);
	flow_table_end(fx->t, b, FLOW_CLOSE_FIN);
	open_flow(fx, 40004, T0);
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_eq(st->active, 2);
	cr_assert_eq(st->peak_active, 3);
	cr_assert_eq(st->created, 4);
	open_flow(fx, 40005, T0);
	open_flow(fx, 40006, T0);
	cr_assert_eq(st->peak_active, 4);
	fixture_free(fx);
}

Test(names, every_flow_state_has_a_name)
{
	cr_assert_str_eq(flow_state_str(FLOW_STATE_NEW), "new");
	cr_assert_str_eq(flow_state_str(FLOW_STATE_ESTABLISHED), "established");
	cr_assert_str_eq(flow_state_str(FLOW_STATE_CLOSED), "closed");
}
