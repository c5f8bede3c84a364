/*
 * session.h: what the sensor observed of one TCP session on a mail port.
 *
 * The single record every rule reads and the session event serialises. The
 * sensor fills it as the flow goes; nothing here points into packet buffers.
 */
#ifndef TLSOBS_SESSION_H
#define TLSOBS_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "parsers/packet_decode.h"
#include "parsers/smtp.h"
#include "parsers/tls.h"
#include "parsers/tls_fingerprint.h"
#include "parsers/x509.h"
#include "rules/alert.h"
#include "rules/policy_mode.h"
#include "rules/session_id.h"

/* tlsobs.smtp.starttls.result: exactly one per session. */
enum starttls_result {
	STARTTLS_UPGRADED,              /* 220, and TLS followed */
	STARTTLS_IMPLICIT_TLS,          /* TLS from the first byte (the client's ClientHello, on any port) */
	STARTTLS_NOT_OFFERED,           /* the EHLO reply has no STARTTLS */
	STARTTLS_GARBLED,               /* a masked STARTTLS capability (starttls_capability_garbled) */
	STARTTLS_NOT_ATTEMPTED,         /* offered, the client went on in clear */
	STARTTLS_REFUSED,               /* STARTTLS answered with anything but 220 */
	STARTTLS_NO_TLS_AFTER_220,      /* 220, then no TLS handshake */
	STARTTLS_INCOMPLETE,            /* a capture gap or the end of the flow came before the decision */
	STARTTLS_CLEARTEXT_ON_TLS_PORT, /* an SMTP greeting in clear on an implicit-TLS port */
};
const char *starttls_result_str(enum starttls_result r);

/* network.protocol: what the flow carries. */
enum session_protocol {
	SESSION_PROTOCOL_NONE,  /* not known: no network.protocol */
	SESSION_PROTOCOL_SMTP,  /* the SMTP ports, 465, and SMTP that nDPI found on any port */
	SESSION_PROTOCOL_TLS,   /* other implicit-TLS ports */
	SESSION_PROTOCOL_OTHER, /* not mail (capture.all_flows): nDPI's name, in session.other_protocol */
};
const char *session_protocol_str(enum session_protocol p); /* NULL for NONE and OTHER */

/* tlsobs.flow.close_reason: how the TCP flow ended, as the sensor's flow table and TCP tracker saw it. */
enum session_close_reason {
	SESSION_CLOSE_FIN,
	SESSION_CLOSE_RST,
	SESSION_CLOSE_TIMEOUT,
	SESSION_CLOSE_EVICTED, /* the flow table needed the room */
	SESSION_CLOSE_END_OF_CAPTURE,
	SESSION_CLOSE_SHUTDOWN, /* the sensor stopped */
};
const char *session_close_reason_str(enum session_close_reason r);

/* tlsobs.flow.role_source: how client and server were told apart, strongest first. */
enum session_role_source { SESSION_ROLE_SYN, SESSION_ROLE_SYN_ACK, SESSION_ROLE_PORT, SESSION_ROLE_GUESS };
const char *session_role_source_str(enum session_role_source s);

/* network.direction (ECS values) from where client and server sit in internal_networks. */
enum session_direction {
	SESSION_DIRECTION_NONE, /* no internal_networks set: no network.direction */
	SESSION_DIRECTION_INBOUND,
	SESSION_DIRECTION_OUTBOUND,
	SESSION_DIRECTION_INTERNAL,
	SESSION_DIRECTION_EXTERNAL,
};
const char *session_direction_str(enum session_direction d); /* NULL for SESSION_DIRECTION_NONE */

/* validation.name_source: where the name the leaf was checked against came from. */
enum session_name_source {
	SESSION_NAME_NONE, /* no name was known */
	SESSION_NAME_SNI,
	SESSION_NAME_BANNER,
	SESSION_NAME_EHLO_GREETING,
};
const char *session_name_source_str(enum session_name_source n); /* NULL for SESSION_NAME_NONE */

/* tlsobs.partner.match: what attributed the session to its partner (rules/policy.h), in the order tried. */
enum session_partner_match {
	SESSION_MATCH_NONE, /* no partner */
	SESSION_MATCH_RCPT_DOMAIN,
	SESSION_MATCH_MAIL_FROM_DOMAIN,
	SESSION_MATCH_BANNER,
	SESSION_MATCH_EHLO_GREETING,
	SESSION_MATCH_SNI,
	SESSION_MATCH_CERTIFICATE,
	SESSION_MATCH_NETWORK,
};
const char *session_partner_match_str(enum session_partner_match m);

/* tlsobs.dane.status: the server's certificate against policy.tlsa_file's records for the MX. */
enum session_dane_status {
	SESSION_DANE_NONE, /* no records for the MX: no tlsobs.dane */
	SESSION_DANE_MATCH,
	SESSION_DANE_MISMATCH,
	SESSION_DANE_NOT_USABLE,
	SESSION_DANE_NOT_VERIFIABLE, /* no chain in clear (TLS 1.3, a resumed session) */
};
const char *session_dane_status_str(enum session_dane_status d); /* NULL for SESSION_DANE_NONE */

struct session_endpoint {
	struct ip_addr ip;
	uint16_t port;
	uint64_t bytes;   /* frame bytes sent by this side */
	uint64_t packets; /* packets sent by this side */
};

/* ECS <side>.geo.* and <side>.as.* from the GeoIP databases; present false: not looked up, or not found. */
enum { SESSION_GEO_NAME_MAX = 128 };
struct session_geo {
	bool present;
	char country_iso_code[8];
	char country_name[SESSION_GEO_NAME_MAX];
	char city_name[SESSION_GEO_NAME_MAX];
	bool has_location;
	double latitude, longitude;
	bool has_as;
	uint32_t as_number;
	char as_organization[SESSION_GEO_NAME_MAX];
};

struct session_stream_counters {
	uint64_t gaps, gap_bytes;
	uint64_t retransmitted_bytes, overlap_conflicts;
	uint64_t out_of_window, ooo_cap_hits, memcap_drops;
	uint64_t delivered;
	bool depth_reached;
};

/* Fingerprints of the handshake ("" when the hello was not seen). */
struct session_fingerprints {
	char ja3[TLS_JA3_HASH_LEN + 1], ja3s[TLS_JA3_HASH_LEN + 1];
	char ja3_string[TLS_JA3_STRING_MAX], ja3s_string[TLS_JA3_STRING_MAX];
	char ja4[TLS_JA4_LEN + 1];
#ifdef TLSOBS_JA4_FOXIO
	char ja4s[TLS_JA4S_LEN + 1];  /* "" without a usable ServerHello */
	char ja4x[X509_JA4X_LEN + 1]; /* of the leaf certificate; "" when none crossed in clear */
#endif
};

/* The server certificate and its validation, as the sensor found them at the session's packet time. */
struct session_certificate {
	bool parsed; /* the leaf was visible and readable */
	struct x509_info leaf;
	char chain_sha256[X509_MAX_CHAIN][65]; /* every certificate of the chain, leaf first */
	unsigned chain_count;
	bool validated;
	enum x509_status status;
	char name[X509_FIELD_MAX]; /* the name the leaf was checked against, "" when none was known */
	enum session_name_source name_source;
};

struct partner_policy; /* rules/policy.h */

struct session {
	char id[SESSION_ID_LEN];
	struct session_endpoint client, server;
	uint64_t start_us, end_us; /* packet times */
	enum session_close_reason close_reason;
	enum session_role_source role_source;
	enum session_direction direction;
	struct decode_encap
	    encap; /* how the flow came: network.vlan.id, network.inner.vlan.id, tlsobs.tunnel */
	struct session_geo client_geo,
	    server_geo; /* the remote side's (both when unknown), filled by the sensor */
	struct session_stream_counters to_server, to_client;

	/* Application layer. smtp and tls are borrowed from the flow's parsers (NULL when absent). */
	enum session_protocol protocol;
	const char
	    *other_protocol; /* SESSION_PROTOCOL_OTHER: nDPI's name (borrowed), "unknown" when it had none */
	/* nDPI's classification (borrowed): network.application and tlsobs.ndpi; NULL when not classified */
	const char *application;
	const char *const *application_risks;
	size_t n_application_risks;
	bool implicit_tls; /* TLS from the first byte (the client's first bytes were a ClientHello) */
	/* The server greeted in clear on an implicit-TLS port; with the client's first bytes as evidence. */
	bool cleartext_on_tls_port;
	uint8_t client_first_bytes[SMTP_EVIDENCE_MAX];
	size_t client_first_len;
	const struct smtp_observation *smtp;
	const struct tls_observation *tls;
	bool clear_text_gap; /* a capture gap hit the clear-text part: STARTTLS decisions are incomplete */
	bool parser_memcap_stopped; /* the flow memcap had no room for the parsers: parsing stopped early */
	/* Server bytes after its 220 to STARTTLS and before the client's TLS hello
	 * (starttls_response_injection), filled by the sensor. */
	bool response_injection;
	char injected_response[SMTP_EVIDENCE_MAX];
	struct session_fingerprints fingerprints;
	struct session_certificate certificate;

	/* Decided by the rules. */
	enum starttls_result starttls_result;
	/* The partner the session belongs to (borrowed from the policy, NULL: none), how it was found and the
	 * mode that applies; partner_attributed is false until the rules ran (no tlsobs.partner then). */
	bool partner_attributed;
	const struct partner_policy *partner;
	enum session_partner_match partner_match;
	enum policy_mode partner_mode;
	enum session_dane_status dane_status;
	struct alert_list alerts;
};

#endif
