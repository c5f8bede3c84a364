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
 *
 * It also keeps what the hellos offered and chose (for JA3/JA4, see
 * tls_fingerprint.h), the key exchange group and the server's certificate
 * chain when it travels in clear.
 */
#ifndef TLSOBS_TLS_H
#define TLSOBS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_dir { TLS_FROM_CLIENT = 0, TLS_FROM_SERVER = 1 };

/* Protocol versions as on the wire (RFC 8446 appendix B.1 of ProtocolVersion, RFC 6101 for SSL 3.0). */
enum tls_version {
	TLS_VERSION_SSL3 = 0x0300,
	TLS_VERSION_1_0 = 0x0301,
	TLS_VERSION_1_1 = 0x0302,
	TLS_VERSION_1_2 = 0x0303,
	TLS_VERSION_1_3 = 0x0304,
};
/* TLS 1.3, or one of its drafts (0x7fXX) that some old captures negotiate. */
bool tls_version_is_13(uint16_t v);

enum tls_outcome {
	TLS_OUTCOME_NONE,        /* no byte yet */
	TLS_OUTCOME_IN_PROGRESS, /* handshake under way */
	TLS_OUTCOME_ESTABLISHED, /* both sides finished the handshake (as far as a passive observer can tell)
	                          */
	TLS_OUTCOME_ALERT,       /* a fatal alert before the handshake completed */
	TLS_OUTCOME_NOT_TLS,     /* bytes that are not a TLS record */
	TLS_OUTCOME_CLOSED,      /* the connection was reset or closed before completion */
	TLS_OUTCOME_GAP,         /* a capture gap before the decision: unknown */
};
const char *tls_outcome_str(enum tls_outcome o); /* "established", "alert", "not_tls", ... */

enum {
	TLS_EVIDENCE_MAX = 64,
	TLS_SESSION_ID_MAX = 32,  /* RFC 5246 7.4.1.2: opaque SessionID<0..32> */
	TLS_MAX_CIPHERS = 128,    /* cipher suites kept for events (all are counted and fingerprinted) */
	TLS_MAX_EXTENSIONS = 64,  /* extension types kept per hello, in wire order */
	TLS_MAX_COMPRESSION = 8,  /* compression methods kept */
	TLS_MAX_VALUES = 32,      /* supported_versions, groups, point formats, signature algorithms kept */
	TLS_MAX_KEY_SHARES = 8,   /* key_share groups kept */
	TLS_MAX_ALPN = 4,         /* ALPN protocols kept from a ClientHello */
	TLS_ALPN_MAX = 32,        /* bytes kept of one ALPN protocol (longer ones are cut) */
	TLS_SNI_MAX = 255,        /* a DNS host name (RFC 6066 3) */
	TLS_MAX_CERTS = 10,       /* certificates kept from the server's chain */
	TLS_MAX_CERT_LEN = 65536, /* bytes of one DER certificate; a longer one is dropped */
};

/* Malformed or over-cap input, counted by kind (hostile input is data). */
enum tls_anomaly {
	TLS_ANOMALY_NOT_TLS,            /* bytes that are no TLS record */
	TLS_ANOMALY_HANDSHAKE_TOO_LONG, /* a handshake message over 64 KiB, skipped */
	TLS_ANOMALY_BAD_CLIENT_HELLO,   /* a ClientHello that does not parse */
	TLS_ANOMALY_BAD_SERVER_HELLO,   /* a ServerHello that does not parse */
	TLS_ANOMALY_BAD_EXTENSION,      /* an extension body that does not parse */
	TLS_ANOMALY_BAD_SNI,            /* server_name not a printable host name (or > 255 bytes) */
	TLS_ANOMALY_BAD_CERTIFICATE,    /* a Certificate message whose lengths do not add up */
	TLS_ANOMALY_BAD_KEY_EXCHANGE,   /* a ServerKeyExchange that does not parse */
	TLS_ANOMALY_OUT_OF_MEMORY,      /* a buffer or certificate copy could not be allocated */
	TLS_ANOMALY_RECORD_TOO_LONG, /* an alert or change_cipher_spec record in clear over 64 bytes: the rest
	                                was not kept */
	TLS_ANOMALY_COUNT
};
const char *tls_anomaly_str(enum tls_anomaly a); /* "bad_client_hello", ...; NULL when out of range */

/*
 * RFC 8701: GREASE values 0x0a0a, 0x1a1a ... 0xfafa. They are kept in the
 * lists below as sent (flagged in has_grease) and left out of fingerprints.
 */
bool tls_is_grease(uint16_t v);

/*
 * The first ClientHello of the connection (after a HelloRetryRequest the
 * second one is not recorded here). Every list keeps at most its cap, in wire
 * order, GREASE included; *_count is how many were kept (never above the cap),
 * *_total how many the client sent, and truncated says some list was cut.
 */
struct tls_client_hello {
	uint16_t version; /* legacy_version (client_version for SSLv2-format hellos) */
	uint8_t session_id[TLS_SESSION_ID_MAX];
	uint8_t session_id_len;
	uint16_t ciphers[TLS_MAX_CIPHERS]; /* SSLv2 hellos: the specs with a 0x00 high byte, as TLS codes */
	unsigned cipher_count, ciphers_total;
	uint8_t compression[TLS_MAX_COMPRESSION];
	unsigned compression_count;
	uint16_t extensions[TLS_MAX_EXTENSIONS]; /* extension types in order (JA3/JA4) */
	unsigned extension_count, extensions_total;
	bool sni_present;          /* a server_name extension was sent (JA4 'd') */
	char sni[TLS_SNI_MAX + 1]; /* its host_name, NUL-terminated; "" when absent or not printable */
	char alpn[TLS_MAX_ALPN]
	         [TLS_ALPN_MAX + 1];    /* protocols offered, NUL-terminated, cut at TLS_ALPN_MAX */
	uint8_t alpn_len[TLS_MAX_ALPN]; /* their wire lengths (up to 255) */
	uint8_t alpn_first_last[2];     /* first and last byte of the first protocol (JA4), if alpn_count */
	unsigned alpn_count, alpn_total;
	uint16_t supported_versions[TLS_MAX_VALUES];
	unsigned supported_version_count;
	uint16_t groups[TLS_MAX_VALUES]; /* supported_groups (elliptic_curves) */
	unsigned group_count;
	uint8_t point_formats[TLS_MAX_VALUES];
	unsigned point_format_count;
	uint16_t signature_algorithms[TLS_MAX_VALUES];
	unsigned signature_algorithm_count;
	uint16_t key_share_groups[TLS_MAX_KEY_SHARES];
	unsigned key_share_count;
	bool session_ticket, pre_shared_key, extended_master_secret, encrypt_then_mac, renegotiation_info;
	bool has_grease; /* any GREASE cipher, extension, group, version, signature algorithm or key share */
	bool truncated;  /* some list held more than its cap */
	/* SSLv2-format hello (RFC 6101 E.1): its 3-byte cipher specs, kept up to the cap */
	uint32_t sslv2_specs[TLS_MAX_CIPHERS];
	unsigned sslv2_spec_count;
};

/* The ServerHello that was accepted (not a HelloRetryRequest). */
struct tls_server_hello {
	uint16_t version; /* legacy_version */
	uint8_t session_id[TLS_SESSION_ID_MAX];
	uint8_t session_id_len;
	uint8_t compression;
	uint16_t extensions[TLS_MAX_EXTENSIONS]; /* in order (JA3S) */
	unsigned extension_count, extensions_total;
	uint16_t supported_version;  /* the supported_versions extension, 0 if absent */
	uint16_t key_share_group;    /* TLS 1.3 key_share: the group the server chose, 0 if absent */
	bool pre_shared_key;         /* TLS 1.3: the server accepted a PSK */
	char alpn[TLS_ALPN_MAX + 1]; /* the protocol the server selected, "" when none */
};

/*
 * Every value the fingerprints read, uncapped: JA3, JA3S and JA4 are defined
 * over the whole hello, so only the lists above (the ones written into events)
 * have caps. Heap arrays owned by the parser, each bounded by the handshake
 * message it came from (64 KiB, so at most 32768 values), valid until
 * tls_parser_free; GREASE kept as sent.
 */
struct tls_value_list {
	uint16_t *v;
	unsigned count, cap;
};
struct tls_fingerprint_input {
	/* the first ClientHello (not filled for SSLv2-format hellos, which have no fingerprint) */
	struct tls_value_list ciphers, extensions, groups, point_formats, signature_algorithms,
	    supported_versions;
	struct tls_value_list server_extensions; /* the accepted ServerHello */
	bool incomplete; /* a list could not grow (out of memory): no fingerprint is computed */
};

struct tls_observation {
	enum tls_outcome outcome;
	bool client_hello_seen, server_hello_seen;
	bool sslv2_client_hello;
	uint16_t client_version; /* legacy_version of the ClientHello */
	uint16_t version;        /* negotiated (supported_versions for TLS 1.3), 0 until ServerHello */
	uint16_t cipher;         /* chosen by the server */
	bool hello_retry_request;
	bool change_cipher_spec[2]; /* per direction */
	bool alert_seen;
	uint8_t alert_level, alert_description; /* the first alert in clear */
	enum tls_dir alert_from;
	/* the first bytes of a direction that were not TLS (no_tls_after_starttls evidence), and which
	 * direction */
	uint8_t not_tls_bytes[TLS_EVIDENCE_MAX];
	size_t not_tls_len;
	enum tls_dir not_tls_from;
	uint64_t records[2]; /* records seen per direction */
	uint64_t anomalies;  /* malformed records or handshake messages: the sum of anomaly[] */
	uint64_t anomaly[TLS_ANOMALY_COUNT];

	struct tls_client_hello ch; /* valid when client_hello_seen */
	struct tls_server_hello sh; /* valid when server_hello_seen */
	struct tls_fingerprint_input fp;
	/*
	 * Resumption: TLS <= 1.2 when the server echoes the client's non-empty
	 * session id (RFC 5246 7.4.1.3); TLS 1.3 when it accepts a PSK (RFC 8446 4.2.11).
	 */
	bool resumed;
	/*
	 * Key exchange: the named group (ServerKeyExchange ECDHE for TLS <= 1.2,
	 * the ServerHello key_share for TLS 1.3), 0 when unknown; for DHE the
	 * prime's size in bits (0 when not DHE).
	 */
	uint16_t curve;
	unsigned dh_prime_bits;
	/*
	 * The server's certificate chain as sent in clear (TLS <= 1.2 only: TLS 1.3
	 * encrypts it, and nothing is guessed). DER copies owned by the parser,
	 * valid until tls_parser_free; at most TLS_MAX_CERTS of at most
	 * TLS_MAX_CERT_LEN bytes each; the others are counted in certificates_dropped.
	 */
	bool certificate_visible; /* a server Certificate message was seen in clear */
	unsigned cert_count;
	const uint8_t *cert_der[TLS_MAX_CERTS];
	size_t cert_len[TLS_MAX_CERTS];
	unsigned certificates_dropped;
};

enum tls_status { TLS_IN_PROGRESS, TLS_DECIDED };

struct tls_parser;

struct tls_parser *tls_parser_new(void);
void tls_parser_free(struct tls_parser *p);
/* Heap bytes the parser holds now (itself, handshake assembly, certificate copies), for the caller's memcap.
 */
size_t tls_parser_memory(const struct tls_parser *p);
enum tls_status tls_parser_feed(struct tls_parser *p, enum tls_dir dir, const uint8_t *data, size_t len);
/* A capture gap before the decision makes the outcome unknown (TLS_OUTCOME_GAP). */
void tls_parser_gap(struct tls_parser *p, enum tls_dir dir, uint64_t n);
/* The flow ended (reset: rst true) before a decision: the outcome becomes TLS_OUTCOME_CLOSED. */
void tls_parser_end(struct tls_parser *p, bool rst);
const struct tls_observation *tls_parser_observation(const struct tls_parser *p);
/*
 * Frees the parser but keeps what it observed: *out takes the observation and
 * what it points to (certificate copies, fingerprint lists), to be freed with
 * tls_observation_free. For a caller that will feed no more bytes (a decided,
 * closed session): the assembly buffers go, the evidence stays.
 */
void tls_parser_release(struct tls_parser *p, struct tls_observation *out);
/* Heap bytes a released observation points to (certificate copies, fingerprint lists). */
size_t tls_observation_memory(const struct tls_observation *o);
/* Frees what a released observation points to (tls_parser_release); the struct itself is the caller's. */
void tls_observation_free(struct tls_observation *o);

/* "1.2", "1.3", "1.0", "1.1", "3.0" (SSLv3), "2.0"; NULL for unknown values. */
const char *tls_version_str(uint16_t version);

#endif
