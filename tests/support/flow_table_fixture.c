/*
 * flow_table_fixture.c: a flow table under test with an end hook that records
 * every flow that leaves, and packets to feed it (flow_table_fixture.h).
 * Serves the sensor layer's flow table tests. Owns the fixtures it makes.
 */
#include "flow_table_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ip_text.h"

void on_end(void *ctx, struct flow *f, enum flow_close_reason reason)
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

struct flow_table_settings default_settings(uint64_t memcap, uint32_t hash_size)
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

struct fixture *fixture_with(const struct flow_table_settings *s)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	cr_assert_not_null(fx);
	fx->s = *s;
	fx->t = flow_table_new(&fx->s, on_end, &fx->log);
	cr_assert_not_null(fx->t, "flow_table_new failed");
	return fx;
}

struct fixture *fixture_new(uint64_t memcap, uint32_t hash_size)
{
	struct flow_table_settings s = default_settings(memcap, hash_size);
	return fixture_with(&s);
}

void fixture_free(struct fixture *fx)
{
	flow_table_free(fx->t, FLOW_CLOSE_SHUTDOWN);
	free(fx);
}

uint64_t bucket_bytes(uint64_t nbuckets)
{
	return nbuckets * sizeof(struct flow *);
}

struct decoded_packet packet(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags)
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

struct decoded_packet reversed(const struct decoded_packet *p)
{
	struct decoded_packet r = *p;
	r.src = p->dst;
	r.dst = p->src;
	r.sport = p->dport;
	r.dport = p->sport;
	return r;
}

/* A client SYN from 192.0.2.1:port to the mail server 198.51.100.1:25. */
struct decoded_packet syn_from(uint16_t client_port)
{
	return packet("192.0.2.1", client_port, "198.51.100.1", 25, TCP_SYN);
}

struct flow *create(struct fixture *fx, const struct decoded_packet *p, uint64_t now_us)
{
	enum flow_dir dir;
	struct flow *f = flow_table_create(fx->t, p, flow_table_hash(fx->t, p), false, false, now_us, &dir);
	cr_assert_not_null(f, "flow_table_create refused a flow");
	flow_table_end_queued(fx->t); /* what the worker does after each packet */
	return f;
}

struct flow *open_flow(struct fixture *fx, uint16_t client_port, uint64_t now_us)
{
	struct decoded_packet p = syn_from(client_port);
	return create(fx, &p, now_us);
}

struct flow *find(struct fixture *fx, const struct decoded_packet *p, enum flow_dir *dir)
{
	enum flow_dir ignored;
	return flow_table_find(fx->t, p, flow_table_hash(fx->t, p), dir ? dir : &ignored);
}

struct flow *find_client(struct fixture *fx, uint16_t client_port)
{
	struct decoded_packet p = syn_from(client_port);
	return find(fx, &p, NULL);
}

void expect_ended(const struct fixture *fx, const uint64_t *ids, const enum flow_close_reason *reasons,
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

static enum stream_verdict accept_data(void *ctx, const uint8_t *p, size_t n)
{
	return STREAM_CONTINUE;
}

static enum stream_verdict accept_gap(void *ctx, uint64_t n)
{
	return STREAM_CONTINUE;
}

/* Buffers `len` out-of-order bytes in the flow's client-to-server stream (a hole of 100 before them). */
void buffer_segment(struct flow *f, uint32_t len)
{
	static uint8_t data[8192];
	cr_assert_leq(len, sizeof data);
	struct stream_sink sink = {accept_data, accept_gap, NULL};
	struct tcp_stream *s = &f->side[FLOW_TO_SERVER].stream;
	tcp_stream_segment(s, 1000, true, false, NULL, 0, 0, &sink);
	tcp_stream_segment(s, 1101, false, false, data, len, len, &sink);
	cr_assert_eq(s->ooo_bytes, len, "the segment was not buffered");
}
