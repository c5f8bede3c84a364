/*
 * flow_table.h: the flows of one worker, found by 5-tuple, expired by packet time.
 *
 * A worker owns its table outright (no locks on the packet path); several
 * workers each own one and packets are spread by the same symmetric hash.
 * Memory: every flow and every buffered segment is charged to one memcap.
 * When a new flow would exceed it, the table enters emergency mode (shorter
 * timeouts), expires what it can, then evicts the oldest flows: half-open
 * first, then closed, then established. It leaves emergency mode once usage
 * falls below recovery_percent of the cap. Every such step is counted.
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
#include "sensor/flow/memcap.h"

struct flow_table_settings {
	uint64_t memcap;    /* bytes for flows, buckets and buffered segments */
	uint32_t hash_size; /* buckets (rounded up to a power of two) */
	uint64_t timeout_us[FLOW_STATE_COUNT];
	uint64_t emergency_timeout_us[FLOW_STATE_COUNT];
	unsigned recovery_percent;
	struct tcp_stream_limits stream;
};

struct flow_table_stats {
	uint64_t created, active, peak_active;
	uint64_t closed;           /* ended by FIN/RST (removed after the closed timeout) */
	uint64_t timed_out;        /* idle: no FIN/RST seen */
	uint64_t evicted, refused; /* refused: no memory even after eviction */
	uint64_t emergency_entered, emergency_left;
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
/* Each side knows its flow and its direction (set at creation, again after a role swap). */
void flow_table_bind_sides(struct flow *f);
/* Marks activity: moves the flow to the young end of its state's list. */
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
const struct flow_table_stats *flow_table_stats(const struct flow_table *t);
bool flow_table_in_emergency(const struct flow_table *t);

#endif
