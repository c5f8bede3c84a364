/*
 * test_flow_table.c: the per-worker flow table against the contract in
 * sensor/flow/flow_table.h: lookup by 5-tuple in both directions, roles, per-state
 * timeouts in packet time, the end hook, and the memcap with its emergency mode.
 *
 * The end hook records every flow that leaves (id and reason, in order) and
 * fails the test if one flow is ended twice, so "which flows went, why, and in
 * what order" can be asserted exactly. Flows the table evicts are ended after
 * the packet (flow_table_end_queued), which the helpers call as the worker does.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/flow/flow_table.h"
#include "ip_text.h"

#define SEC 1000000ull
#define MSEC 1000ull
/* Packet time starts somewhere realistic, not at zero. */
#define T0 (1700000000ull * SEC)

enum { LOG_CAP = 256, MAX_ID = 131072 };

struct end_log {
	size_t calls;
	uint64_t ids[LOG_CAP]; /* the first LOG_CAP flows ended, in order */
	enum flow_close_reason reasons[LOG_CAP];
	uint8_t times_ended[MAX_ID]; /* by flow id */
	uint64_t by_reason[FLOW_CLOSE_SHUTDOWN + 1];
};

static void on_end(void *ctx, struct flow *f, enum flow_close_reason reason)
{
	struct end_log *log = ctx;
	cr_assert_lt(f->id, (uint64_t)MAX_ID, "flow id %llu beyond what the log tracks",
	             (unsigned long long)f->id);
	cr_assert_eq(log->times_ended[f->id], 0, "flow %llu ended twice", (unsigned long long)f->id);
	log->times_ended[f->id]++;
	if (log->calls < LOG_CAP) {
		log->ids[log->calls] = f->id;
		log->reasons[log->calls] = reason;
	}
	log->calls++;
	log->by_reason[reason]++;
}

struct fixture {
	struct flow_table *t;
	struct flow_table_settings s;
	struct end_log log;
};

static struct flow_table_settings default_settings(uint64_t memcap, uint32_t hash_size)
{
	return (struct flow_table_settings){
	    .memcap = memcap,
	    .hash_size = hash_size,
	    .timeout_us = {[FLOW_STATE_NEW] = 30 * SEC,
	                   [FLOW_STATE_ESTABLISHED] = 600 * SEC,
	                   [FLOW_STATE_CLOSED] = 10 * SEC},
	    .emergency_timeout_us = {[FLOW_STATE_NEW] = 5 * SEC,
	                             [FLOW_STATE_ESTABLISHED] = 60 * SEC,
	                             [FLOW_STATE_CLOSED] = 1 * SEC},
	    .recovery_percent = 50,
	    .stream = {.depth = 0, .max_ooo_bytes = 1 << 16},
	};
}

static struct fixture *fixture_with(const struct flow_table_settings *s)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	cr_assert_not_null(fx);
	fx->s = *s;
	fx->t = flow_table_new(&fx->s, on_end, &fx->log);
	cr_assert_not_null(fx->t, "flow_table_new failed");
	return fx;
}

static struct fixture *fixture_new(uint64_t memcap, uint32_t hash_size)
{
	struct flow_table_settings s = default_settings(memcap, hash_size);
	return fixture_with(&s);
}

static void fixture_free(struct fixture *fx)
{
	flow_table_free(fx->t, FLOW_CLOSE_SHUTDOWN);
	free(fx);
}

static uint64_t bucket_bytes(uint64_t nbuckets)
{
	return nbuckets * sizeof(struct flow *);
}

static struct decoded_packet packet(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                                    uint8_t flags)
{
	struct decoded_packet p;
	memset(&p, 0, sizeof p);
	p.src = addr(src);
	p.dst = addr(dst);
	p.sport = sport;
	p.dport = dport;
	p.tcp_flags = flags;
	return p;
}

static struct decoded_packet reversed(const struct decoded_packet *p)
{
	struct decoded_packet r = *p;
	r.src = p->dst;
	r.dst = p->src;
	r.sport = p->dport;
	r.dport = p->sport;
	return r;
}

/* A client SYN from 192.0.2.1:port to the mail server 198.51.100.1:25. */
static struct decoded_packet syn_from(uint16_t client_port)
{
	return packet("192.0.2.1", client_port, "198.51.100.1", 25, TCP_SYN);
}

static struct flow *create(struct fixture *fx, const struct decoded_packet *p, uint64_t now_us)
{
	enum flow_dir dir;
	struct flow *f = flow_table_create(fx->t, p, flow_table_hash(fx->t, p), false, false, now_us, &dir);
	cr_assert_not_null(f, "flow_table_create refused a flow");
	flow_table_end_queued(fx->t); /* what the worker does after each packet */
	return f;
}

static struct flow *open_flow(struct fixture *fx, uint16_t client_port, uint64_t now_us)
{
	struct decoded_packet p = syn_from(client_port);
	return create(fx, &p, now_us);
}

static struct flow *find(struct fixture *fx, const struct decoded_packet *p, enum flow_dir *dir)
{
	enum flow_dir ignored;
	return flow_table_find(fx->t, p, flow_table_hash(fx->t, p), dir ? dir : &ignored);
}

static struct flow *find_client(struct fixture *fx, uint16_t client_port)
{
	struct decoded_packet p = syn_from(client_port);
	return find(fx, &p, NULL);
}

static void expect_ended(const struct fixture *fx, const uint64_t *ids, const enum flow_close_reason *reasons,
                         size_t n)
{
	cr_assert_eq(fx->log.calls, n, "%zu flows ended, expected %zu", fx->log.calls, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(fx->log.ids[i], ids[i], "end #%zu was flow %llu, expected flow %llu", i,
		             (unsigned long long)fx->log.ids[i], (unsigned long long)ids[i]);
		cr_assert_eq(fx->log.reasons[i], reasons[i],
		             "flow %llu ended with close reason %d, expected %d", (unsigned long long)ids[i],
		             (int)fx->log.reasons[i], (int)reasons[i]);
	}
}

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

static enum stream_verdict accept_data(void *ctx, const uint8_t *p, size_t n)
{
	return STREAM_CONTINUE;
}

static enum stream_verdict accept_gap(void *ctx, uint64_t n)
{
	return STREAM_CONTINUE;
}

/* Buffers `len` out-of-order bytes in the flow's client-to-server stream (a hole of 100 before them). */
static void buffer_segment(struct flow *f, uint32_t len)
{
	static uint8_t data[8192];
	cr_assert_leq(len, sizeof data);
	struct stream_sink sink = {accept_data, accept_gap, NULL};
	struct tcp_stream *s = &f->side[FLOW_TO_SERVER].stream;
	tcp_stream_segment(s, 1000, true, false, NULL, 0, 0, &sink);
	tcp_stream_segment(s, 1101, false, false, data, len, len, &sink);
	cr_assert_eq(s->ooo_bytes, len, "the segment was not buffered");
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
