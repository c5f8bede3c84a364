/*
 * flow_table.h: the flows of one worker, found by 5-tuple, expired by packet time.
 *
 * A worker owns its table outright (no locks on the packet path); several
 * workers each own one and packets are spread by the same symmetric hash.
 *
 * Memory: every flow and every buffered segment is charged to one memcap.
 * When a new flow (or a consumer's charge) would exceed it, the table enters
 * emergency mode (shorter timeouts), expires what it can, then evicts by
 * value, not by age alone. Each flow is in one eviction class (enum
 * flow_class, from its TCP state and what it showed, enum flow_value): closed;
 * half-open; established but silent; the server spoke only (a banner nobody
 * answered); the client spoke; in session (the application said so through
 * flow_set_value: an SMTP command, a TLS record). One LRU list per class, so
 * the victim is the oldest idle flow of the lowest class, in O(1): a session
 * in EHLO, STARTTLS or its TLS handshake is the last to go. One exception, so
 * that a banner flood does not take every real connection the moment it
 * starts: a closed, half-open or silent flow idle for less than
 * FLOW_TABLE_GRACE_US (its last ACKs, its banner may still come) ranks with
 * the banner-only flows, the longest idle of them first.
 *
 * Per-source budget, so one source cannot take the table: the flows of one
 * client address, and of one client /24 (IPv4) or /64 (IPv6), may hold a share
 * of the memcap (source_budget). Below the memcap nothing is refused; once it
 * is short, a source over its budget pays first, with its own lowest-class,
 * oldest flows (counted as evicted by source_budget), before anyone else's
 * flow is looked at. Clients in source_budget.exempt (the gateway's own MTAs,
 * whose sessions share one address) are not counted. The accounting is
 * bounded: one entry per address and per prefix with live flows, freed with
 * their last flow, their memory (and the source hash's buckets) charged to
 * the memcap like the flows'. A flow is counted once it leaves half-open:
 * half-open flows are the first evicted in any case, and a SYN flood from
 * random sources then costs no entries (with them, 1M SYNs took 6x the CPU).
 *
 * The table leaves emergency mode once usage falls below recovery_percent of
 * the cap. Every such step, and every eviction by reason, is counted.
 *
 * Flows the table ends by itself (idle past their timeout, evicted) are
 * unlinked and their memory given back at once, but their end hook runs only
 * from flow_table_end_queued (the worker calls it after each packet): never
 * inside the delivery of another flow's bytes.
 */
#ifndef TLSOBS_FLOW_TABLE_H
#define TLSOBS_FLOW_TABLE_H

#include <stdint.h>

#include "sensor/flow/flow.h"
#include "rules/ip_network.h"
#include "sensor/flow/memcap.h"

/* Eviction classes, the first to go first; FLOW_CLASS_COUNT counts them. */
enum flow_class {
	FLOW_CLASS_CLOSED,      /* FIN or RST seen: done */
	FLOW_CLASS_HALF_OPEN,   /* handshake not completed */
	FLOW_CLASS_SILENT,      /* established, no payload */
	FLOW_CLASS_SERVER_ONLY, /* the server spoke (a banner), the client never did */
	FLOW_CLASS_CLIENT,      /* the client spoke, no session progress */
	FLOW_CLASS_SESSION,     /* the application says a session is under way */
	FLOW_CLASS_COUNT
};
/* The class's name in tlsobs.stats flows.evicted_by. */
const char *flow_class_str(enum flow_class c);

enum { FLOW_TABLE_MAX_EXEMPT = 256 };

/* How long a new connection may stay half-open or silent before that counts against it: the time a
 * server may take to answer and greet (sendmail's greet_pause is up to 5 s). */
#define FLOW_TABLE_GRACE_US (5 * 1000000ull)

/* flow.source_budget.*: shares of memcap in percent; 0 and 0: no per-source accounting at all. */
struct flow_source_budget {
	unsigned address_percent;                        /* one client address (0: no limit of its own) */
	unsigned prefix_percent;                         /* one client /24 or /64 (0: no limit of its own) */
	struct ip_network exempt[FLOW_TABLE_MAX_EXEMPT]; /* clients never counted */
	size_t n_exempt;
};

struct flow_table_settings {
	uint64_t memcap;    /* bytes for flows, buckets and buffered segments */
	uint32_t hash_size; /* buckets (rounded up to a power of two) */
	uint64_t timeout_us[FLOW_STATE_COUNT];
	uint64_t emergency_timeout_us[FLOW_STATE_COUNT];
	unsigned recovery_percent;
	struct tcp_stream_limits stream;
	struct flow_source_budget source_budget;
};

struct flow_table_stats {
	uint64_t created, active, peak_active;
	uint64_t closed;           /* ended by FIN/RST (removed after the closed timeout) */
	uint64_t timed_out;        /* idle: no FIN/RST seen */
	uint64_t evicted, refused; /* refused: no memory even after eviction */
	uint64_t emergency_entered, emergency_left;
	/* Evictions by reason (they add up to `evicted`): the victim's class when the table was short, or
	 * source_budget when its source was over budget. */
	uint64_t evicted_by[FLOW_CLASS_COUNT];
	uint64_t evicted_source_budget;
	uint64_t sources,
	    prefixes; /* client addresses and prefixes with live flows (per-source accounting) */
};

/* Called for every flow leaving the table, before it is freed; f->leaving is set. */
typedef void (*flow_end_fn)(void *ctx, struct flow *f, enum flow_close_reason reason);

struct flow_table;

struct flow_table *flow_table_new(const struct flow_table_settings *s, flow_end_fn on_end, void *ctx);
/* Ends every remaining flow with `reason` (through on_end), then frees the table. NULL is a no-op. */
void flow_table_free(struct flow_table *t, enum flow_close_reason reason);

/* The packet's flow hash (keyed SipHash, the same both ways): computed once, for find then create. */
uint64_t flow_table_hash(const struct flow_table *t, const struct decoded_packet *p);
/* The flow this packet (of flow_table_hash `hash`) belongs to and the packet's direction in it, or NULL. */
struct flow *flow_table_find(struct flow_table *t, const struct decoded_packet *p, uint64_t hash,
                             enum flow_dir *dir);
/*
 * A new flow for this packet, roles decided from its flags, then from which of
 * its ports is a service (mail) port, then by guess (the lower port). NULL when no memory
 * could be found (counted in stats.refused). *dir gets the packet's direction.
 * May evict other flows (queued: see flow_table_end_queued).
 */
struct flow *flow_table_create(struct flow_table *t, const struct decoded_packet *p, uint64_t hash,
                               bool dst_is_service, bool src_is_service, uint64_t now_us, enum flow_dir *dir);
/* Marks activity: the flow takes `state`, its class follows (state and value), and it moves to the young
 * end of its class's list; its source's bytes are brought up to date. */
void flow_table_touch(struct flow_table *t, struct flow *f, enum flow_state state, uint64_t now_us);
/* Removes a flow at once, through on_end (never call it from inside a flow's consumer). */
void flow_table_end(struct flow_table *t, struct flow *f, enum flow_close_reason reason);
/* Ends every flow with `reason` (end of capture, shutdown); the table stays usable. */
void flow_table_end_all(struct flow_table *t, enum flow_close_reason reason);
/* Ends flows idle for their state's timeout or longer at packet time now_us (and what was queued). */
void flow_table_expire(struct flow_table *t, uint64_t now_us);
/* Runs the end hook of every flow the table queued to end (evicted, expired), oldest first. */
void flow_table_end_queued(struct flow_table *t);

/*
 * What the consumer of flow f allocates (parsers, classification) is `total`
 * bytes now: the difference is reserved from (or given back to) the same
 * memcap, making room as for a new flow: emergency mode, then evicting other
 * flows, the cheapest first (queued, never f). false when no room could be made
 * (f's charge stays as it was). A leaving flow is charged no more: true. The
 * table gives f's charge back when f ends.
 */
bool flow_table_charge(struct flow_table *t, struct flow *f, uint64_t total, uint64_t now_us);
struct memcap *flow_table_memcap(struct flow_table *t);
/* Bytes the flows of client address a (prefix: of its /24 or /64) hold, as the budget counts them; 0 when
 * it has none, is exempt, or budgets are off. */
uint64_t flow_table_source_bytes(const struct flow_table *t, const struct ip_addr *a, bool prefix);
const struct flow_table_stats *flow_table_stats(const struct flow_table *t);
bool flow_table_in_emergency(const struct flow_table *t);
/*
 * The packet time at which flow f (on its class's list, or just taken off it by
 * an expiry) times out: its last packet plus its class's timeout (the
 * emergency one while the table is in emergency mode). The workers order the
 * sessions of expired flows by it (sensor/workers/session_order.h).
 */
uint64_t flow_table_deadline(const struct flow_table *t, const struct flow *f);

#endif
