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
#include <sys/queue.h>

#include "parsers/packet_decode.h"
#include "sensor/flow/tcp_stream.h"

enum flow_dir { FLOW_TO_SERVER = 0, FLOW_TO_CLIENT = 1 };

/* Which timeout applies; with the flow's value, its eviction class (flow_table.h). */
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

/*
 * What a flow has shown, raised (never lowered) as it goes: the table derives
 * the TCP-level ones from the payload each side sent (tcp_tracker.c), the
 * application raises FLOW_VALUE_SESSION through flow_set_value once the
 * client speaks to its SMTP or TLS session (sensor/app/flow_record.c: an SMTP
 * command, a TLS record). With the state it gives the
 * flow's eviction class (flow_table.h): the less it showed, the sooner it goes.
 */
enum flow_value {
	FLOW_VALUE_NONE,        /* no payload yet */
	FLOW_VALUE_SERVER_ONLY, /* the server spoke (a banner), the client never did */
	FLOW_VALUE_CLIENT,      /* the client spoke, no session progress (yet) */
	FLOW_VALUE_SESSION,     /* the application says a session is under way: the last to go */
};

/* One direction: what the client sent is side[FLOW_TO_SERVER]. Only what an idle flow needs is inline. */
struct flow_side {
	uint64_t bytes; /* captured frame lengths on the wire (pcap "len") */
	struct tcp_stream stream;
	uint32_t packets; /* stops at UINT32_MAX */
	bool syn, fin, rst;
};

struct flow_source; /* flow_table.c: the client address a flow is charged to (per-source budget) */

struct flow {
	/* flow_table's links: bucket chain, the list of its eviction class, and its source's lists */
	struct flow *hash_next;
	TAILQ_ENTRY(flow) lru;      /* its class's list (or the table's leaving queue), oldest first */
	TAILQ_ENTRY(flow) src_lru;  /* its client address's list of the same class */
	TAILQ_ENTRY(flow) pfx_lru;  /* its client prefix's list of the same class */
	struct flow_source *source; /* NULL: budgets off, or the client is exempt */
	uint64_t id;                /* per worker, in order of creation */
	uint64_t first_us, last_us; /* packet times, microseconds since the epoch */
	struct decode_encap *encap; /* VLANs, MPLS labels and tunnel of the packet that created the flow;
	                               NULL: none (see flow_encap) */
	const struct flow_consumer *consumer; /* set by tcp_tracker_attach (borrowed) */
	void *consumer_state;                 /* owned by the consumer, see flow_consumer.h */
	uint32_t charged;                     /* bytes its consumer holds in the memcap (flow_table_charge) */
	uint32_t accounted;                   /* bytes last counted to its source (flow_table.c) */
	uint32_t hash; /* flow_table_hash, its low 32 bits (buckets are fewer than 2^32) */
	struct flow_endpoint client, server;
	uint8_t state;       /* enum flow_state */
	uint8_t value;       /* enum flow_value */
	uint8_t class;       /* enum flow_class (flow_table.h): the list it is on */
	uint8_t role_source; /* enum flow_role_source */
	uint8_t end_reason;  /* why it leaves: enum flow_close_reason */
	bool leaving;        /* unlinked: only its end hook is still to run */
	bool queued;         /* ... from the queue: its memory was handed back already */
	bool payload_seen;   /* roles may be swapped only before any payload */
	bool consumer_done;  /* the consumer wants no more bytes of this flow */
	bool source_stale; /* roles were swapped: the table charges it to its new client at the next touch */
	bool source_due;   /* left half-open: the table charges it to its client's budget at the next touch */
	struct flow_side side[2]; /* indexed by enum flow_dir */
};

/* Raises what f has shown (a lower value is ignored); its class follows at the flow's next touch. */
static inline void flow_set_value(struct flow *f, enum flow_value v)
{
	if (v > f->value)
		f->value = (uint8_t)v;
}

/* The flow's encapsulation; all zero when it came without any. */
static inline const struct decode_encap *flow_encap(const struct flow *f)
{
	static const struct decode_encap none;
	return f->encap ? f->encap : &none;
}

/* The close reason and role source are named in events as the session's (sensor/app/flow_session.h). */
const char *flow_state_str(enum flow_state s);

#endif
