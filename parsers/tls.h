/*
 * tls.h: a TLS handshake as a passive observer sees it (RFC 8446, RFC 5246,
 * RFC 6101 for SSLv3, SSLv2-format ClientHello from RFC 6101 appendix E).
 *
 * Push parser over the two reassembled directions, resumable at any byte:
 * records split across segments and handshake messages split across records
 * are joined in bounded buffers. It reports how the handshake went: whether
 * TLS bytes came at all, which version and cipher the server chose, alerts in
 * clear, and the point where the handshake was decided (established, failed
 * on an alert, reset or close before completion, or bytes that are not TLS).
 * Once decided, tls_parser_feed returns TLS_DECIDED and the caller stops
 * feeding: encrypted traffic costs nothing more.
 */
#ifndef TLSOBS_TLS_H
#define TLSOBS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_dir { TLS_FROM_CLIENT = 0, TLS_FROM_SERVER = 1 };

enum tls_outcome {
	TLS_OUTCOME_NONE,        /* no byte yet */
	TLS_OUTCOME_IN_PROGRESS, /* handshake under way */
	TLS_OUTCOME_ESTABLISHED, /* both sides finished the handshake (as far as a passive observer can tell) */
	TLS_OUTCOME_ALERT,       /* a fatal alert before the handshake completed */
	TLS_OUTCOME_NOT_TLS,     /* bytes that are not a TLS record */
	TLS_OUTCOME_CLOSED,      /* the connection was reset or closed before completion */
	TLS_OUTCOME_GAP,         /* a capture gap before the decision: unknown */
};
const char *tls_outcome_str(enum tls_outcome o); /* "established", "alert", "not_tls", ... */

enum { TLS_EVIDENCE_MAX = 64 };

struct tls_observation {
	enum tls_outcome outcome;
	bool client_hello_seen, server_hello_seen;
	bool sslv2_client_hello;
	uint16_t client_version;  /* legacy_version of the ClientHello */
	uint16_t version;         /* negotiated (supported_versions for TLS 1.3), 0 until ServerHello */
	uint16_t cipher;          /* chosen by the server */
	bool hello_retry_request;
	bool change_cipher_spec[2]; /* per direction */
	bool alert_seen;
	uint8_t alert_level, alert_description; /* the first alert in clear */
	enum tls_dir alert_from;
	/* the first bytes of a direction that were not TLS (H6 evidence), and which direction */
	uint8_t not_tls_bytes[TLS_EVIDENCE_MAX];
	size_t not_tls_len;
	enum tls_dir not_tls_from;
	uint64_t records[2]; /* records seen per direction */
	uint64_t anomalies;  /* malformed records or handshake messages */
};

enum tls_status { TLS_IN_PROGRESS, TLS_DECIDED };

struct tls_parser;

struct tls_parser *tls_parser_new(void);
void tls_parser_free(struct tls_parser *p);
enum tls_status tls_parser_feed(struct tls_parser *p, enum tls_dir dir, const uint8_t *data, size_t len);
/* A capture gap before the decision makes the outcome unknown (TLS_OUTCOME_GAP). */
void tls_parser_gap(struct tls_parser *p, enum tls_dir dir, uint64_t n);
/* The flow ended (reset: rst true) before a decision: the outcome becomes TLS_OUTCOME_CLOSED. */
void tls_parser_end(struct tls_parser *p, bool rst);
const struct tls_observation *tls_parser_observation(const struct tls_parser *p);

/* "1.2", "1.3", "1.0", "1.1", "3.0" (SSLv3), "2.0"; NULL for unknown values. */
const char *tls_version_str(uint16_t version);

#endif
