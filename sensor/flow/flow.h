/*
 * flow.h: one bidirectional TCP connection as the sensor tracks it.
 *
 * Sides are named by role: the client is the side that sent the SYN; for flows
 * picked up midstream, the side talking to a mail port, or (when the ports say
 * nothing) the side that does not send the SMTP banner. side[FLOW_TO_SERVER]
 * holds what the client sent. Storage and lifetime belong to flow_table.c;
 * what a packet does to a flow belongs to tcp_tracker.c.
 */
#ifndef TLSOBS_FLOW_H
#define TLSOBS_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "parsers/packet_decode.h"
#include "sensor/flow/tcp_stream.h"

enum flow_dir { FLOW_TO_SERVER = 0, FLOW_TO_CLIENT = 1 };

/* Which timeout applies; also the list the flow is kept on, oldest first. */
enum flow_state { FLOW_STATE_NEW, FLOW_STATE_ESTABLISHED, FLOW_STATE_CLOSED, FLOW_STATE_COUNT };

enum flow_close_reason {
	FLOW_CLOSE_FIN,
	FLOW_CLOSE_RST,
	FLOW_CLOSE_TIMEOUT,
	FLOW_CLOSE_EVICTED,
	FLOW_CLOSE_END_OF_CAPTURE,
	FLOW_CLOSE_SHUTDOWN,
};

/* How the roles were decided, strongest first. */
enum flow_role_source { FLOW_ROLE_SYN, FLOW_ROLE_SYN_ACK, FLOW_ROLE_PORT, FLOW_ROLE_GUESS };

struct flow_endpoint {
	struct ip_addr ip;
	uint16_t port;
};

struct flow_consumer;

struct flow_side {
	uint64_t packets;
	uint64_t bytes; /* captured frame lengths on the wire (pcap "len") */
	bool syn, fin, rst;
	struct tcp_stream stream;
	struct stream_sink sink; /* feeds the flow's consumer; ctx points back at this side */
	struct flow *flow;
	enum flow_dir dir;
};

struct flow {
	/* flow_table's links */
	struct flow *hash_next;
	struct flow *lru_prev, *lru_next;
	uint64_t hash;
	enum flow_state state;
	bool leaving;       /* unlinked: only its end hook is still to run */
	bool queued;        /* ... from the queue: its memory was handed back already */
	uint8_t end_reason; /* why it leaves: enum flow_close_reason */
	uint64_t charged;   /* bytes its consumer holds in the memcap (flow_table_charge) */

	uint64_t id; /* per worker, in order of creation */
	struct flow_endpoint client, server;
	enum flow_role_source role_source;
	bool payload_seen;          /* roles may be swapped only before any payload */
	bool consumer_done;         /* the consumer wants no more bytes of this flow */
	uint64_t first_us, last_us; /* packet times, microseconds since the epoch */
	struct decode_encap encap;  /* VLANs, MPLS labels and tunnel of the packet that created the flow */
	struct flow_side side[2];   /* indexed by enum flow_dir */
	const struct flow_consumer *consumer; /* set by tcp_tracker_attach (borrowed) */
	void *consumer_state;                 /* owned by the consumer, see flow_consumer.h */
};

/* The close reason and role source are named in events as the session's (sensor/app/flow_session.h). */
const char *flow_state_str(enum flow_state s);

#endif
