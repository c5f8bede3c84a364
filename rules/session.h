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
	const char *name_source;   /* "sni", "banner", "ehlo_greeting"; NULL when none */
};

struct partner_policy; /* rules/policy.h */

struct session {
	char id[SESSION_ID_LEN];
	struct session_endpoint client, server;
	uint64_t start_us, end_us; /* packet times */
	const char *close_reason;  /* static string: "fin", "rst", "timeout", ... */
	const char *role_source;   /* how client and server were told apart */
	const char
	    *direction; /* network.direction: "inbound", "outbound", "internal", "external"; NULL: none */
	struct decode_encap
	    encap; /* how the flow came: network.vlan.id, network.inner.vlan.id, tlsobs.tunnel */
	struct session_geo client_geo,
	    server_geo; /* the remote side's (both when unknown), filled by the sensor */
	struct session_stream_counters to_server, to_client;

	/* Application layer. smtp and tls are borrowed from the flow's parsers (NULL when absent). */
	const char *
	    protocol; /* network.protocol: "smtp", "tls" (implicit TLS), or nDPI's name (capture.all_flows) */
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
	/* The partner the session belongs to (borrowed from the policy, NULL: none), how it was found
	 * ("rcpt_domain", ..., "none") and the mode that applies ("enforced", "opportunistic", "none"). */
	const struct partner_policy *partner;
	const char *partner_match;
	const char *partner_mode;
	/* tlsobs.dane.status: "match", "mismatch", "not_usable" or "not_verifiable" when policy.tlsa_file has
	 * records for the MX; NULL when it has none. */
	const char *dane_status;
	struct alert_list alerts;
};

#endif
