/*
 * session.h: what the sensor observed of one TCP session on a mail port.
 *
 * The single record every rule reads and the session event serialises. The
 * sensor fills it as the flow goes; nothing here points into packet buffers.
 * Later steps add the SMTP and TLS observations as sub-structs.
 */
#ifndef TLSOBS_SESSION_H
#define TLSOBS_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "parsers/packet_decode.h"

enum { SESSION_ID_LEN = 20 }; /* "S" + 18 base-32 characters + NUL */

struct session_endpoint {
	struct ip_addr ip;
	uint16_t port;
	uint64_t bytes;   /* frame bytes sent by this side */
	uint64_t packets; /* packets sent by this side */
};

struct session_stream_counters {
	uint64_t gaps, gap_bytes;
	uint64_t retransmitted_bytes, overlap_conflicts;
	uint64_t out_of_window, ooo_cap_hits, memcap_drops;
	uint64_t delivered;
	bool depth_reached;
};

struct session {
	char id[SESSION_ID_LEN];
	struct session_endpoint client, server;
	uint64_t start_us, end_us; /* packet times */
	const char *close_reason;  /* static string: "fin", "rst", "timeout", ... */
	const char *role_source;   /* how client and server were told apart */
	struct session_stream_counters to_server, to_client;
};

/* A session id unique across sensor runs: a per-run nonce mixed with the flow number. */
void session_id_make(char out[SESSION_ID_LEN], uint64_t run_nonce, uint64_t flow_id);

#endif
