/*
 * test_flow_evict.c: eviction by value and the per-source budget of the flow
 * table (sensor/flow/flow_table.h): which flow goes when memory is short (the
 * lowest class first, oldest idle first within it, the application's value
 * raising a flow), the address and prefix budgets (IPv4 /24, IPv6 /64, the
 * exempt list), the accounting that comes back to zero once every flow has
 * ended, and the evictions counted by reason.
 *
 * The end hook records the order flows leave in, as test_flow_table.c does.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/flow/flow_table.h"
#include "sensor/flow/tcp_tracker.h"
#include "ip_text.h"

#define SEC 1000000ull
#define MSEC 1000ull
#define T0 (1700000000ull * SEC)

enum { LOG_CAP = 512 };

struct end_log {
	size_t calls;
	uint64_t ids[LOG_CAP];
	enum flow_close_reason reasons[LOG_CAP];
};

static void on_end(void *ctx, struct flow *f, enum flow_close_reason reason)
{
	struct end_log *log = ctx;
	if (log->calls < LOG_CAP) {
		log->ids[log->calls] = f->id;
		log->reasons[log->calls] = reason;
	}
	log->calls++;
}

struct fixture {
	struct flow_table *t;
	struct flow_table_settings s;
	struct end_log log;
	uint64_t empty_used; /* the memcap right after creation: buckets only */
};

static struct flow_table_settings settings(uint64_t memcap, unsigned address_pct, unsigned prefix_pct)
{
	return (struct flow_table_settings){
	    .memcap = memcap,
	    .hash_size = 64,
	    .timeout_us = {[FLOW_STATE_NEW] = 30 * SEC,
	                   [FLOW_STATE_ESTABLISHED] = 600 * SEC,
	                   [FLOW_STATE_CLOSED] = 10 * SEC},
	    /* As long as the others: eviction, not expiry, is under test. */
	    .emergency_timeout_us = {[FLOW_STATE_NEW] = 30 * SEC,
	                             [FLOW_STATE_ESTABLISHED] = 600 * SEC,
	                             [FLOW_STATE_CLOSED] = 10 * SEC},
	    .recovery_percent = 50,
	    .stream = {.depth = 0, .max_ooo_bytes = 1 << 16},
	    .source_budget = {.address_percent = address_pct, .prefix_percent = prefix_pct},
	};
}

static struct fixture *fixture_with(const struct flow_table_settings *s)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	cr_assert_not_null(fx);
	fx->s = *s;
	fx->t = flow_table_new(&fx->s, on_end, &fx->log);
	cr_assert_not_null(fx->t, "flow_table_new failed");
	fx->empty_used = flow_table_memcap(fx->t)->used;
	return fx;
}

/* Ends what is left and checks the accounting came back to where it started. */
static void fixture_free(struct fixture *fx)
{
	flow_table_end_all(fx->t, FLOW_CLOSE_SHUTDOWN);
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_eq(st->active, 0);
	cr_assert_eq(st->sources, 0, "%llu address entries outlived their flows",
	             (unsigned long long)st->sources);
	cr_assert_eq(st->prefixes, 0, "%llu prefix entries outlived their flows",
	             (unsigned long long)st->prefixes);
	cr_assert_eq(flow_table_memcap(fx->t)->used, fx->empty_used,
	             "the memcap holds %llu bytes, %llu at start",
	             (unsigned long long)flow_table_memcap(fx->t)->used, (unsigned long long)fx->empty_used);
	flow_table_free(fx->t, FLOW_CLOSE_SHUTDOWN);
	free(fx);
}

/* A SYN from client:port to the mail server (same family as the client). */
static struct flow *open_from(struct fixture *fx, const char *client, uint16_t port, uint64_t now_us)
{
	struct decoded_packet p;
	memset(&p, 0, sizeof p);
	p.src = addr(client);
	p.dst = addr(p.src.family == 4 ? "198.51.100.1" : "2001:db8:ffff::1");
	p.sport = port;
	p.dport = 25;
	p.tcp_flags = TCP_SYN;
	enum flow_dir dir;
	struct flow *f = flow_table_create(fx->t, &p, flow_table_hash(fx->t, &p), true, false, now_us, &dir);
	cr_assert_not_null(f, "flow_table_create refused a flow from %s", client);
	flow_table_end_queued(fx->t); /* what the worker does after each packet */
	return f;
}

/* A connection from client whose handshake completed (silent): counted to its client's budget. */
static struct flow *established_from(struct fixture *fx, const char *client, uint16_t port, uint64_t now_us)
{
	struct flow *f = open_from(fx, client, port, now_us);
	flow_table_touch(fx->t, f, FLOW_STATE_ESTABLISHED, now_us);
	flow_table_end_queued(fx->t);
	return f;
}

/* Brings f to a class, as the tracker and the application would. */
static void make(struct fixture *fx, struct flow *f, enum flow_class c, uint64_t now_us)
{
	static const enum flow_value value[] = {[FLOW_CLASS_SILENT] = FLOW_VALUE_NONE,
	                                        [FLOW_CLASS_SERVER_ONLY] = FLOW_VALUE_SERVER_ONLY,
	                                        [FLOW_CLASS_CLIENT] = FLOW_VALUE_CLIENT,
	                                        [FLOW_CLASS_SESSION] = FLOW_VALUE_SESSION};
	enum flow_state state = FLOW_STATE_ESTABLISHED;
	if (c == FLOW_CLASS_CLOSED)
		state = FLOW_STATE_CLOSED;
	else if (c == FLOW_CLASS_HALF_OPEN)
		state = FLOW_STATE_NEW;
	else
		flow_set_value(f, value[c]);
	flow_table_touch(fx->t, f, state, now_us);
	cr_assert_eq(f->class, c);
}

static bool ended(const struct fixture *fx, uint64_t id)
{
	for (size_t i = 0; i < fx->log.calls && i < LOG_CAP; i++)
		if (fx->log.ids[i] == id)
			return true;
	return false;
}

/* ---- classes ---- */

Test(classes, every_class_has_the_name_stats_give_it)
{
	static const char *const names[] = {"closed",      "half_open",    "silent",
	                                    "server_only", "client_spoke", "session"};
	for (int c = 0; c < FLOW_CLASS_COUNT; c++)
		cr_assert_str_eq(flow_class_str((enum flow_class)c), names[c]);
	cr_assert_str_eq(flow_class_str(FLOW_CLASS_COUNT), "unknown");
}

Test(classes, a_flow_value_only_rises)
{
	struct flow f = {0};
	flow_set_value(&f, FLOW_VALUE_SESSION);
	flow_set_value(&f, FLOW_VALUE_SERVER_ONLY);
	cr_assert_eq(f.value, FLOW_VALUE_SESSION, "a banner after the session does not lower its value");
}

/* One flow of each class, the most valuable the oldest: they go lowest class first, each counted. */
Test(order, a_full_table_evicts_the_lowest_class_first_whatever_the_age)
{
	struct flow_table_settings s = settings(64 * sizeof(struct flow *) + 6 * sizeof(struct flow), 0, 0);
	struct fixture *fx = fixture_with(&s);
	uint64_t ids[FLOW_CLASS_COUNT];
	for (int c = FLOW_CLASS_COUNT - 1; c >= 0; c--) { /* session first: the oldest */
		uint64_t at = T0 + (uint64_t)(FLOW_CLASS_COUNT - c) * MSEC;
		struct flow *f = open_from(fx, "192.0.2.1", (uint16_t)(40000 + c), at);
		make(fx, f, (enum flow_class)c, at);
		ids[c] = f->id;
	}
	cr_assert_eq(fx->log.calls, 0);
	for (int i = 0; i < FLOW_CLASS_COUNT; i++) {
		/* Past the grace: the half-open and silent flows had their chance. */
		struct flow *f = open_from(fx, "203.0.113.9", (uint16_t)(50000 + i), T0 + 6 * SEC);
		make(fx, f, FLOW_CLASS_SESSION, T0 + 6 * SEC);
	}
	cr_assert_eq(fx->log.calls, FLOW_CLASS_COUNT);
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	for (int c = 0; c < FLOW_CLASS_COUNT; c++) {
		cr_assert_eq(fx->log.ids[c], ids[c], "eviction #%d took flow %llu, not the %s one", c,
		             (unsigned long long)fx->log.ids[c], flow_class_str((enum flow_class)c));
		cr_assert_eq(fx->log.reasons[c], FLOW_CLOSE_EVICTED);
		cr_assert_eq(st->evicted_by[c], 1, "evicted_by.%s", flow_class_str((enum flow_class)c));
	}
	cr_assert_eq(st->evicted, FLOW_CLASS_COUNT);
	cr_assert_eq(st->evicted_source_budget, 0);
	fixture_free(fx);
}

Test(order, a_young_connection_ranks_with_banner_flows_and_the_longer_idle_banners_go_first)
{
	struct flow_table_settings s = settings(64 * sizeof(struct flow *) + 3 * sizeof(struct flow), 0, 0);
	struct fixture *fx = fixture_with(&s);
	struct flow *b1 = open_from(fx, "192.0.2.1", 40001, T0);
	make(fx, b1, FLOW_CLASS_SERVER_ONLY, T0 + 1 * MSEC);
	struct flow *b2 = open_from(fx, "192.0.2.2", 40002, T0 + 2 * MSEC);
	make(fx, b2, FLOW_CLASS_SERVER_ONLY, T0 + 3 * MSEC);
	uint64_t b1_id = b1->id, b2_id = b2->id;
	struct flow *real = open_from(fx, "203.0.113.9", 40003, T0 + 3 * SEC); /* SYN: half-open */
	struct flow *f = open_from(fx, "192.0.2.3", 40004, T0 + 3 * SEC + 10 * MSEC);
	make(fx, f, FLOW_CLASS_SERVER_ONLY, T0 + 3 * SEC + 10 * MSEC);
	make(fx, real, FLOW_CLASS_SILENT, T0 + 3 * SEC + 20 * MSEC); /* the handshake completes */
	open_from(fx, "192.0.2.4", 40005, T0 + 3 * SEC + 30 * MSEC);
	cr_assert_eq(fx->log.calls, 2);
	cr_assert_eq(fx->log.ids[0], b1_id, "the longest idle banner goes first");
	cr_assert_eq(fx->log.ids[1], b2_id);
	cr_assert_eq(flow_table_stats(fx->t)->evicted_by[FLOW_CLASS_SERVER_ONLY], 2);
	fixture_free(fx);
}

Test(order, a_session_closed_just_now_waits_for_its_last_acks_behind_older_banner_flows)
{
	struct flow_table_settings s = settings(64 * sizeof(struct flow *) + 2 * sizeof(struct flow), 0, 0);
	struct fixture *fx = fixture_with(&s);
	struct flow *banner = open_from(fx, "192.0.2.1", 40001, T0);
	make(fx, banner, FLOW_CLASS_SERVER_ONLY, T0);
	struct flow *done = open_from(fx, "203.0.113.9", 40002, T0 + 1 * SEC);
	make(fx, done, FLOW_CLASS_SESSION, T0 + 2 * SEC);
	flow_table_touch(fx->t, done, FLOW_STATE_CLOSED, T0 + 3 * SEC);
	uint64_t banner_id = banner->id, done_id = done->id;
	open_from(fx, "192.0.2.2", 40003, T0 + 3100 * MSEC);
	cr_assert_eq(fx->log.calls, 1);
	cr_assert_eq(fx->log.ids[0], banner_id);
	cr_assert_not(ended(fx, done_id));
	cr_assert_eq(flow_table_stats(fx->t)->evicted_by[FLOW_CLASS_SERVER_ONLY], 1);
	fixture_free(fx);
}

Test(order, a_half_open_or_silent_flow_past_the_grace_goes_before_banner_flows_idle_longer)
{
	struct flow_table_settings s = settings(64 * sizeof(struct flow *) + 3 * sizeof(struct flow), 0, 0);
	struct fixture *fx = fixture_with(&s);
	struct flow *banner = open_from(fx, "192.0.2.1", 40001, T0);
	make(fx, banner, FLOW_CLASS_SERVER_ONLY, T0);
	struct flow *silent = open_from(fx, "192.0.2.2", 40002, T0 + 1 * MSEC);
	make(fx, silent, FLOW_CLASS_SILENT, T0 + 1 * SEC);
	struct flow *half = open_from(fx, "192.0.2.3", 40003, T0 + 2 * SEC);
	uint64_t silent_id = silent->id, half_id = half->id, banner_id = banner->id;
	open_from(fx, "192.0.2.4", 40004, T0 + 6500 * MSEC);
	cr_assert_eq(fx->log.calls, 1);
	cr_assert_eq(fx->log.ids[0], silent_id, "silent for 5.5 s: past the grace, before the older banner");
	open_from(fx, "192.0.2.5", 40005, T0 + 7500 * MSEC);
	cr_assert_eq(fx->log.ids[1], half_id, "half-open for 5.5 s: past the grace");
	cr_assert_not(ended(fx, banner_id));
	fixture_free(fx);
}

Test(order, within_a_class_the_longest_idle_goes_first_and_activity_renews_a_flow)
{
	struct flow_table_settings s = settings(64 * sizeof(struct flow *) + 3 * sizeof(struct flow), 0, 0);
	struct fixture *fx = fixture_with(&s);
	struct flow *a = open_from(fx, "192.0.2.1", 40001, T0);
	struct flow *b = open_from(fx, "192.0.2.1", 40002, T0 + 1 * MSEC);
	struct flow *c = open_from(fx, "192.0.2.1", 40003, T0 + 2 * MSEC);
	make(fx, a, FLOW_CLASS_SERVER_ONLY, T0 + 3 * MSEC);
	make(fx, b, FLOW_CLASS_SERVER_ONLY, T0 + 4 * MSEC);
	make(fx, c, FLOW_CLASS_CLIENT, T0 + 5 * MSEC);
	make(fx, a, FLOW_CLASS_SERVER_ONLY, T0 + 6 * MSEC); /* a spoke again: b is now the idlest banner */
	uint64_t b_id = b->id, a_id = a->id;
	struct flow *d = open_from(fx, "192.0.2.2", 40004, T0 + 7 * MSEC);
	make(fx, d, FLOW_CLASS_CLIENT, T0 + 7 * MSEC);
	cr_assert_eq(fx->log.calls, 1);
	cr_assert_eq(fx->log.ids[0], b_id);
	open_from(fx, "192.0.2.3", 40005, T0 + 8 * MSEC);
	cr_assert_eq(fx->log.calls, 2);
	cr_assert_eq(fx->log.ids[1], a_id, "the other banner flow goes before any flow whose client spoke");
	cr_assert_eq(flow_table_stats(fx->t)->evicted_by[FLOW_CLASS_SERVER_ONLY], 2);
	fixture_free(fx);
}

Test(order, the_application_raising_a_flow_to_session_keeps_it_past_older_and_younger_flows)
{
	struct flow_table_settings s = settings(64 * sizeof(struct flow *) + 2 * sizeof(struct flow), 0, 0);
	struct fixture *fx = fixture_with(&s);
	struct flow *old = open_from(fx, "192.0.2.1", 40001, T0);
	make(fx, old, FLOW_CLASS_CLIENT, T0);
	struct flow *sess = open_from(fx, "192.0.2.1", 40002, T0 + 1 * MSEC);
	make(fx, sess, FLOW_CLASS_CLIENT, T0 + 1 * MSEC);
	/* The app saw EHLO on the younger one: as the consumer does from inside the delivery, then the
	 * tracker's touch. */
	flow_set_value(sess, FLOW_VALUE_SESSION);
	flow_table_touch(fx->t, sess, FLOW_STATE_ESTABLISHED, T0 + 2 * MSEC);
	cr_assert_eq(sess->class, FLOW_CLASS_SESSION);
	make(fx, old, FLOW_CLASS_CLIENT, T0 + 3 * MSEC); /* the other is the most recently active */
	uint64_t old_id = old->id, sess_id = sess->id;
	open_from(fx, "192.0.2.2", 40003, T0 + 4 * MSEC);
	cr_assert_eq(fx->log.calls, 1);
	cr_assert_eq(fx->log.ids[0], old_id);
	cr_assert_not(ended(fx, sess_id));
	fixture_free(fx);
}

Test(order, a_closed_session_is_done_and_goes_before_a_half_open_flow)
{
	struct flow_table_settings s = settings(64 * sizeof(struct flow *) + 2 * sizeof(struct flow), 0, 0);
	struct fixture *fx = fixture_with(&s);
	struct flow *done = open_from(fx, "192.0.2.1", 40002, T0);
	make(fx, done, FLOW_CLASS_SESSION, T0 + 1 * MSEC);
	flow_table_touch(fx->t, done, FLOW_STATE_CLOSED, T0 + 2 * MSEC);
	cr_assert_eq(done->class, FLOW_CLASS_CLOSED, "a closed flow's value no longer protects it");
	struct flow *half = open_from(fx, "192.0.2.1", 40001, T0 + 1 * SEC);
	uint64_t done_id = done->id, half_id = half->id;
	open_from(fx, "192.0.2.2", 40003, T0 + 6 * SEC); /* done closed 6 s ago, past the grace */
	cr_assert_eq(fx->log.ids[0], done_id);
	cr_assert_not(ended(fx, half_id));
	fixture_free(fx);
}

/* ---- per-source accounting ---- */

Test(sources, a_source_holds_exactly_what_its_flows_hold_and_its_prefix_the_sum)
{
	struct flow_table_settings s = settings(1 << 20, 5, 20);
	struct fixture *fx = fixture_with(&s);
	struct ip_addr a = addr("192.0.2.7"), b = addr("192.0.2.8"), other = addr("192.0.3.7");
	struct flow *f1 = established_from(fx, "192.0.2.7", 40001, T0);
	established_from(fx, "192.0.2.7", 40002, T0);
	established_from(fx, "192.0.2.8", 40003, T0);
	cr_assert_eq(flow_table_source_bytes(fx->t, &a, false), 2 * sizeof(struct flow));
	cr_assert_eq(flow_table_source_bytes(fx->t, &b, false), sizeof(struct flow));
	cr_assert_eq(flow_table_source_bytes(fx->t, &a, true), 3 * sizeof(struct flow),
	             "the /24 holds all three");
	cr_assert_eq(flow_table_source_bytes(fx->t, &other, true), 0);
	cr_assert(flow_table_charge(fx->t, f1, 5000, T0));
	cr_assert_eq(flow_table_source_bytes(fx->t, &a, false), 2 * sizeof(struct flow) + 5000);
	cr_assert_eq(flow_table_source_bytes(fx->t, &b, true), 3 * sizeof(struct flow) + 5000);
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_eq(st->sources, 2);
	cr_assert_eq(st->prefixes, 1);
	flow_table_end(fx->t, f1, FLOW_CLOSE_FIN);
	cr_assert_eq(flow_table_source_bytes(fx->t, &a, false), sizeof(struct flow));
	fixture_free(fx); /* and back to zero */
}

Test(sources, an_ipv6_client_is_counted_by_its_slash_64)
{
	struct flow_table_settings s = settings(1 << 20, 5, 20);
	struct fixture *fx = fixture_with(&s);
	established_from(fx, "2001:db8:1:2::7", 40001, T0);
	established_from(fx, "2001:db8:1:2:ffff::8", 40002, T0);
	established_from(fx, "2001:db8:1:3::7", 40003, T0);
	struct ip_addr in = addr("2001:db8:1:2:abcd::1"), out = addr("2001:db8:1:3::1");
	cr_assert_eq(flow_table_source_bytes(fx->t, &in, true), 2 * sizeof(struct flow));
	cr_assert_eq(flow_table_source_bytes(fx->t, &out, true), sizeof(struct flow));
	cr_assert_eq(flow_table_stats(fx->t)->sources, 3);
	cr_assert_eq(flow_table_stats(fx->t)->prefixes, 2);
	fixture_free(fx);
}

Test(sources, a_flow_whose_roles_swap_is_charged_to_its_new_client)
{
	struct flow_table_settings s = settings(1 << 20, 5, 20);
	struct fixture *fx = fixture_with(&s);
	struct decoded_packet p;
	memset(&p, 0, sizeof p);
	p.src = addr("192.0.2.7"); /* midstream, no hints: the lower port (this one) is guessed the server */
	p.dst = addr("203.0.113.5");
	p.sport = 2000;
	p.dport = 3000;
	p.tcp_flags = TCP_ACK;
	enum flow_dir dir;
	struct flow *f = flow_table_create(fx->t, &p, flow_table_hash(fx->t, &p), false, false, T0, &dir);
	cr_assert_not_null(f);
	struct ip_addr guessed = addr("203.0.113.5"), real = addr("192.0.2.7");
	cr_assert_eq(flow_table_source_bytes(fx->t, &guessed, false), 0, "half-open: not counted yet");
	flow_table_touch(fx->t, f, FLOW_STATE_ESTABLISHED, T0);
	cr_assert_eq(flow_table_source_bytes(fx->t, &guessed, false), sizeof(struct flow));
	tcp_tracker_swap_roles(f, &dir);
	flow_table_touch(fx->t, f, FLOW_STATE_ESTABLISHED, T0 + 1 * MSEC);
	cr_assert_eq(flow_table_source_bytes(fx->t, &guessed, false), 0);
	cr_assert_eq(flow_table_source_bytes(fx->t, &real, false), sizeof(struct flow));
	cr_assert_eq(flow_table_stats(fx->t)->sources, 1,
	             "the guessed client's entry went with its last flow");
	fixture_free(fx);
}

Test(sources, budgets_off_keep_no_entries_and_an_exempt_client_is_not_counted)
{
	struct flow_table_settings off = settings(1 << 20, 0, 0);
	struct fixture *fx = fixture_with(&off);
	established_from(fx, "192.0.2.7", 40001, T0);
	cr_assert_eq(flow_table_stats(fx->t)->sources, 0);
	cr_assert_eq(flow_table_memcap(fx->t)->used, fx->empty_used + sizeof(struct flow));
	fixture_free(fx);

	struct flow_table_settings s = settings(1 << 20, 5, 20);
	s.source_budget.n_exempt = 1;
	s.source_budget.exempt[0] = (struct ip_network){.addr = addr("192.0.2.0"), .prefix = 28};
	fx = fixture_with(&s);
	struct ip_addr mta = addr("192.0.2.7"), outside = addr("192.0.2.17");
	established_from(fx, "192.0.2.7", 40001, T0);
	established_from(fx, "192.0.2.17", 40002, T0);
	cr_assert_eq(flow_table_source_bytes(fx->t, &mta, false), 0);
	cr_assert_eq(flow_table_source_bytes(fx->t, &outside, false), sizeof(struct flow));
	cr_assert_eq(flow_table_source_bytes(fx->t, &outside, true), sizeof(struct flow),
	             "the exempt client's flow is not counted to its /24 either");
	fixture_free(fx);
}

Test(sources, a_flow_with_encapsulation_is_charged_for_it_and_gives_it_back)
{
	struct flow_table_settings s = settings(1 << 20, 5, 20);
	struct fixture *fx = fixture_with(&s);
	struct decoded_packet p;
	memset(&p, 0, sizeof p);
	p.src = addr("192.0.2.7");
	p.dst = addr("198.51.100.1");
	p.sport = 40001;
	p.dport = 25;
	p.tcp_flags = TCP_SYN;
	p.encap.vlan_count = 1;
	p.encap.vlan[0] = 42;
	enum flow_dir dir;
	struct flow *f = flow_table_create(fx->t, &p, flow_table_hash(fx->t, &p), true, false, T0, &dir);
	cr_assert_not_null(f);
	cr_assert_not_null(f->encap);
	cr_assert_eq(flow_encap(f)->vlan[0], 42);
	flow_table_touch(fx->t, f, FLOW_STATE_ESTABLISHED, T0);
	cr_assert_eq(flow_table_source_bytes(fx->t, &p.src, false),
	             sizeof(struct flow) + sizeof(struct decode_encap));
	struct flow *plain = established_from(fx, "192.0.2.8", 40002, T0);
	cr_assert_eq(flow_encap(plain)->vlan_count, 0, "no encapsulation reads as all zero");
	fixture_free(fx);
}

/* ---- budgets ---- */

/* Bytes one flow from a new address in a new prefix costs, with its two source entries: measured. */
static uint64_t cost_of_first_flow(void)
{
	struct flow_table_settings s = settings(1 << 20, 5, 20);
	struct fixture *fx = fixture_with(&s);
	established_from(fx, "192.0.2.1", 40000, T0);
	uint64_t cost = flow_table_memcap(fx->t)->used - fx->empty_used;
	fixture_free(fx);
	return cost;
}

/*
 * `good` older flows from distinct /24s, half-open (the cheapest class), then
 * one source floods with flows that reach the session class. Returns the
 * fixture; the good flows' ids are 1..good.
 */
static struct fixture *flood(unsigned address_pct, unsigned prefix_pct, unsigned good, unsigned flood_flows,
                             bool same_address, bool ipv6, const struct ip_network *exempt)
{
	uint64_t first = cost_of_first_flow();
	/* Room for the good flows (each in its own prefix) and about as many again of the flood. */
	struct flow_table_settings s =
	    settings(64 * sizeof(struct flow *) + 16 * sizeof(struct flow *) + good * first * 2, address_pct,
	             prefix_pct);
	if (exempt) {
		s.source_budget.exempt[0] = *exempt;
		s.source_budget.n_exempt = 1;
	}
	struct fixture *fx = fixture_with(&s);
	char client[64];
	for (unsigned i = 0; i < good; i++) {
		if (ipv6)
			snprintf(client, sizeof client, "2001:db8:%x::9", i + 1);
		else
			snprintf(client, sizeof client, "10.%u.%u.9", i / 200 + 1, i % 200 + 1);
		open_from(fx, client, 40000, T0 + i * MSEC);
	}
	for (unsigned i = 0; i < flood_flows; i++) {
		uint64_t at = T0 + 1 * SEC + i * MSEC; /* within the emergency timeouts: no expiry */
		if (same_address)
			snprintf(client, sizeof client, ipv6 ? "2001:db8:ffff:1::66" : "192.0.2.66");
		else
			snprintf(client, sizeof client, ipv6 ? "2001:db8:ffff:1::%x" : "192.0.2.%u",
			         i % 250 + 1);
		struct flow *f = open_from(fx, client, (uint16_t)(1024 + i), at);
		make(fx, f, FLOW_CLASS_SESSION, at);
	}
	return fx;
}

static void expect_good_flows_kept(const struct fixture *fx, unsigned good)
{
	for (uint64_t id = 1; id <= good; id++)
		cr_assert_not(ended(fx, id), "good flow %llu was evicted", (unsigned long long)id);
}

Test(budget, one_address_over_its_budget_pays_with_its_own_flows_first)
{
	struct fixture *fx = flood(10, 0, 20, 60, true, false, NULL);
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_gt(st->evicted, 0, "the table never ran short: the test proves nothing");
	cr_assert_eq(st->evicted_source_budget, st->evicted,
	             "an eviction did not come from the flooding source");
	for (int c = 0; c < FLOW_CLASS_COUNT; c++)
		cr_assert_eq(st->evicted_by[c], 0);
	expect_good_flows_kept(fx, 20);
	fixture_free(fx);
}

Test(budget, without_a_budget_the_same_flood_takes_the_cheaper_good_flows)
{
	struct fixture *fx = flood(0, 0, 20, 60, true, false, NULL);
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_gt(st->evicted_by[FLOW_CLASS_HALF_OPEN], 0);
	cr_assert_eq(st->evicted_source_budget, 0);
	cr_assert(ended(fx, 1), "the oldest good (half-open) flow should have gone first");
	fixture_free(fx);
}

Test(budget, below_the_memcap_a_source_over_its_budget_is_refused_nothing)
{
	struct fixture *fx = flood(1, 0, 20, 10, true, false, NULL);
	struct ip_addr a = addr("192.0.2.66");
	cr_assert_gt(flow_table_source_bytes(fx->t, &a, false), flow_table_memcap(fx->t)->cap / 100);
	cr_assert_eq(flow_table_stats(fx->t)->evicted, 0);
	cr_assert_eq(flow_table_stats(fx->t)->refused, 0);
	fixture_free(fx);
}

Test(budget, a_slash_24_spread_over_many_addresses_pays_as_one_prefix)
{
	/* Each flooding address holds little (under 10%), their /24 much (over 20%). */
	struct fixture *fx = flood(10, 20, 20, 60, false, false, NULL);
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_gt(st->evicted, 0);
	cr_assert_eq(st->evicted_source_budget, st->evicted);
	expect_good_flows_kept(fx, 20);
	fixture_free(fx);
}

Test(budget, an_ipv6_address_and_its_slash_64_are_budgeted_like_ipv4)
{
	struct fixture *fx = flood(10, 0, 20, 60, true, true, NULL);
	cr_assert_gt(flow_table_stats(fx->t)->evicted_source_budget, 0);
	cr_assert_eq(flow_table_stats(fx->t)->evicted_source_budget, flow_table_stats(fx->t)->evicted);
	expect_good_flows_kept(fx, 20);
	fixture_free(fx);

	fx = flood(10, 20, 20, 60, false, true, NULL);
	cr_assert_gt(flow_table_stats(fx->t)->evicted_source_budget, 0);
	cr_assert_eq(flow_table_stats(fx->t)->evicted_source_budget, flow_table_stats(fx->t)->evicted);
	expect_good_flows_kept(fx, 20);
	fixture_free(fx);
}

Test(budget, an_exempt_source_is_never_over_budget_and_eviction_goes_by_class)
{
	struct ip_network mtas = {.addr = addr("192.0.2.0"), .prefix = 24};
	struct fixture *fx = flood(10, 20, 20, 60, true, false, &mtas);
	const struct flow_table_stats *st = flow_table_stats(fx->t);
	cr_assert_eq(st->evicted_source_budget, 0);
	cr_assert_gt(st->evicted_by[FLOW_CLASS_HALF_OPEN], 0,
	             "the exempt MTA's sessions outrank half-open flows");
	fixture_free(fx);
}

Test(budget, the_flooding_source_loses_its_cheapest_flows_first)
{
	struct flow_table_settings s = settings(1 << 20, 5, 0);
	uint64_t first = cost_of_first_flow();
	s.memcap = 64 * sizeof(struct flow *) + 16 * sizeof(struct flow *) + 12 * first;
	struct fixture *fx = fixture_with(&s);
	/* The flooding source's oldest flow is a session, its next one a banner: the banner goes. */
	struct flow *sess = open_from(fx, "192.0.2.66", 1000, T0);
	make(fx, sess, FLOW_CLASS_SESSION, T0);
	struct flow *banner = open_from(fx, "192.0.2.66", 1001, T0 + 1 * MSEC);
	make(fx, banner, FLOW_CLASS_SERVER_ONLY, T0 + 1 * MSEC);
	uint64_t sess_id = sess->id, banner_id = banner->id;
	for (uint16_t i = 0; fx->log.calls == 0 && i < 2000; i++) {
		struct flow *f = open_from(fx, "192.0.2.66", (uint16_t)(2000 + i), T0 + 2 * MSEC);
		make(fx, f, FLOW_CLASS_SESSION, T0 + 2 * MSEC + i);
	}
	cr_assert_eq(fx->log.calls, 1);
	cr_assert_eq(fx->log.ids[0], banner_id);
	cr_assert_not(ended(fx, sess_id));
	cr_assert_eq(flow_table_stats(fx->t)->evicted_source_budget, 1);
	fixture_free(fx);
}
