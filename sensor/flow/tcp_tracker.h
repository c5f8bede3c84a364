/*
 * tcp_tracker.h: what one TCP segment does to its flow: counters, flags, roles,
 * state (for timeouts), and reassembly of each direction into the consumer.
 *
 * Flows are not ended on FIN or RST: they move to the closed state and expire
 * after the (short) closed timeout, so the last ACKs still find their flow
 * instead of starting a new one. tcp_tracker_close_reason() tells how the flow
 * really ended.
 */
#ifndef TLSOBS_TCP_TRACKER_H
#define TLSOBS_TCP_TRACKER_H

#include <stdbool.h>

#include "sensor/flow/flow_consumer.h"
#include "sensor/flow/flow_table.h"

/* Points both directions' sinks at the consumer and opens it. Call once after flow_table_create. */
void tcp_tracker_attach(struct flow *f, const struct flow_consumer *c);
/* Roles may still be swapped: they were guessed and no payload has crossed yet. */
bool tcp_tracker_roles_open(const struct flow *f);
/* Swaps client and server, with each side's counters and stream; *dir (a packet's direction) follows. */
void tcp_tracker_swap_roles(struct flow *f, enum flow_dir *dir);
void tcp_tracker_segment(struct flow_table *t, struct flow *f, enum flow_dir dir,
                         const struct decoded_packet *p, uint32_t wire_len, uint64_t now_us);
/* Delivers what both directions still buffer (end of the flow). */
void tcp_tracker_flush(struct flow *f);
/* FIN or RST when the TCP exchange says so, else `table_reason` (timeout, eviction, end of capture...). */
enum flow_close_reason tcp_tracker_close_reason(const struct flow *f, enum flow_close_reason table_reason);
/* True when the handshake completed, the server answered with a reset, or data crossed:
 * worth a session event. A SYN answered only by a SYN-ACK (a half-open flood) is not. */
bool tcp_tracker_answered(const struct flow *f);

#endif
