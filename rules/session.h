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
#include "parsers/smtp.h"
#include "parsers/tls.h"
#include "rules/alert.h"
#include "rules/session_id.h"

/* tlsobs.smtp.starttls.result: exactly one per session. */
enum starttls_result {
	STARTTLS_UPGRADED,         /* 220, and TLS followed */
	STARTTLS_IMPLICIT_TLS,     /* TLS from the first byte (port 465) */
	STARTTLS_NOT_OFFERED,      /* the EHLO reply has no STARTTLS */
	STARTTLS_GARBLED,          /* a masked STARTTLS capability (H1) */
	STARTTLS_NOT_ATTEMPTED,    /* offered, the client went on in clear */
	STARTTLS_REFUSED,          /* STARTTLS answered with anything but 220 */
	STARTTLS_NO_TLS_AFTER_220, /* 220, then no TLS handshake */
	STARTTLS_INCOMPLETE,       /* a capture gap or the end of the flow came before the decision */
};
const char *starttls_result_str(enum starttls_result r);

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

	/* Application layer. smtp and tls are borrowed from the flow's parsers (NULL when absent). */
	const char *protocol; /* network.protocol: "smtp" or "tls" (implicit TLS) */
	bool implicit_tls;    /* TLS from the first byte (tls.implicit_ports) */
	const struct smtp_observation *smtp;
	const struct tls_observation *tls;
	bool clear_text_gap; /* a capture gap hit the clear-text part: STARTTLS decisions are incomplete */
	/* Server bytes after its 220 to STARTTLS and before the client's TLS hello (H8), filled by the sensor. */
	bool response_injection;
	char injected_response[SMTP_EVIDENCE_MAX];

	/* Decided by the rules. */
	enum starttls_result starttls_result;
	struct alert_list alerts;
};

#endif
