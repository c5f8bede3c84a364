/*
 * tcp_tracker.c: per-segment TCP bookkeeping (RFC 9293) on top of tcp_stream.
 *
 * Owns what a segment does to its flow: the sides' counters and flags, the
 * flow's state (for the table's timeouts), each direction's sink into the
 * consumer, and the role swap primitive. Which side is the server is told by
 * the flags or the ports; what the first payload says belongs to the
 * application layer, which calls tcp_tracker_swap_roles.
 */
#include "sensor/flow/tcp_tracker.h"

/* A sink's context, built per call: a flow keeps no sink of its own (idle flows stay small). */
struct side_ref {
	struct flow *f;
	enum flow_dir dir;
};

static enum stream_verdict sink_data(void *ctx, const uint8_t *p, size_t n)
{
	const struct side_ref *r = ctx;
	struct flow *f = r->f;
	if (f->consumer->data(f->consumer_state, f, r->dir, p, n) == STREAM_DONE)
		f->consumer_done = true;
	return f->consumer_done ? STREAM_DONE : STREAM_CONTINUE;
}

static enum stream_verdict sink_gap(void *ctx, uint64_t n)
{
	const struct side_ref *r = ctx;
	struct flow *f = r->f;
	if (f->consumer->gap(f->consumer_state, f, r->dir, n) == STREAM_DONE)
		f->consumer_done = true;
	return f->consumer_done ? STREAM_DONE : STREAM_CONTINUE;
}

#define SIDE_SINK(ref) ((struct stream_sink){sink_data, sink_gap, (ref)})

void tcp_tracker_attach(struct flow *f, const struct flow_consumer *c)
{
	f->consumer = c;
	f->consumer_state = c->open(c->ctx, f);
}

bool tcp_tracker_roles_open(const struct flow *f)
{
	return !f->payload_seen && f->role_source == FLOW_ROLE_GUESS;
}

void tcp_tracker_swap_roles(struct flow *f, enum flow_dir *dir)
{
	struct flow_endpoint e = f->client;
	f->client = f->server;
	f->server = e;
	struct flow_side s = f->side[0];
	f->side[0] = f->side[1];
	f->side[1] = s;
	f->source_stale = true; /* charged to the client it had: the table moves it at the next touch */
	*dir = (enum flow_dir) !*dir;
}

static enum flow_state next_state(const struct flow *f)
{
	const struct flow_side *c = &f->side[FLOW_TO_SERVER], *s = &f->side[FLOW_TO_CLIENT];
	if (c->rst || s->rst || (c->fin && s->fin))
		return FLOW_STATE_CLOSED;
	/* Established once the client answered the SYN-ACK: a SYN the server answered (a flood's, or a
	 * scan's) is still half-open, cheap to evict and quick to time out. */
	if (f->payload_seen || (c->syn && s->syn && c->packets >= 2))
		return FLOW_STATE_ESTABLISHED;
	return FLOW_STATE_NEW;
}

void tcp_tracker_segment(struct flow_table *t, struct flow *f, enum flow_dir dir,
                         const struct decoded_packet *p, uint32_t wire_len, uint64_t now_us)
{
	struct flow_side *side = &f->side[dir], *peer = &f->side[!dir];
	if (side->packets < UINT32_MAX)
		side->packets++;
	side->bytes += wire_len;
	bool syn = p->tcp_flags & TCP_SYN, fin = p->tcp_flags & TCP_FIN, rst = p->tcp_flags & TCP_RST;
	side->syn |= syn;
	side->fin |= fin;
	side->rst |= rst;
	if (p->payload_wire_len > 0) {
		f->payload_seen = true;
		/* What the flow showed, for eviction: a banner alone is worth less than a client that spoke.
		 */
		flow_set_value(f, dir == FLOW_TO_SERVER ? FLOW_VALUE_CLIENT : FLOW_VALUE_SERVER_ONLY);
	}
	struct side_ref ref = {f, dir}, peer_ref = {f, (enum flow_dir) !dir};
	struct stream_sink sink = SIDE_SINK(&ref), peer_sink = SIDE_SINK(&peer_ref);

	/* RFC 9293 3.5.3: data on a RST is not delivered to the application. */
	if (!f->consumer_done && !rst) {
		tcp_stream_segment(&side->stream, p->seq, syn, fin, p->payload, p->payload_len,
		                   p->payload_wire_len, &sink);
		if ((p->tcp_flags & TCP_ACK) && !f->consumer_done)
			tcp_stream_ack(&peer->stream, p->ack, &peer_sink);
	}
	if (f->consumer_done) {
		tcp_stream_stop(&side->stream);
		tcp_stream_stop(&peer->stream);
	}
	flow_table_touch(t, f, next_state(f), now_us);
}

void tcp_tracker_flush(struct flow *f)
{
	for (int d = 0; d < 2 && !f->consumer_done; d++) {
		struct side_ref ref = {f, (enum flow_dir)d};
		struct stream_sink sink = SIDE_SINK(&ref);
		tcp_stream_flush(&f->side[d].stream, &sink);
	}
}

enum flow_close_reason tcp_tracker_close_reason(const struct flow *f, enum flow_close_reason table_reason)
{
	if (f->side[0].rst || f->side[1].rst)
		return FLOW_CLOSE_RST;
	if (f->side[0].fin && f->side[1].fin)
		return FLOW_CLOSE_FIN;
	return table_reason;
}

bool tcp_tracker_answered(const struct flow *f)
{
	const struct flow_side *c = &f->side[FLOW_TO_SERVER], *s = &f->side[FLOW_TO_CLIENT];
	return f->payload_seen || s->rst || (s->syn && c->packets > 1) ||
	       (c->packets > 0 && s->packets > 0 && !c->syn);
}
