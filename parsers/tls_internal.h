/*
 * tls_internal.h: what tls.c shares with the handshake message parsers in
 * tls_hello.c. Not for use outside parsers/tls*.c.
 *
 * The message parsers decode one complete handshake message body (a reader
 * over exactly its bytes) into the observation; they never see the record
 * layer and keep no state of their own.
 */
#ifndef TLSOBS_TLS_INTERNAL_H
#define TLSOBS_TLS_INTERNAL_H

#include "parsers/reader.h"
#include "parsers/tls.h"

enum {
	TLS_HS_CLIENT_HELLO = 1,
	TLS_HS_SERVER_HELLO = 2,
	TLS_HS_CERTIFICATE = 11,
	TLS_HS_SERVER_KEY_EXCHANGE = 12,
};

/* Extension types (IANA TLS ExtensionType Values). */
enum {
	TLS_EXT_SERVER_NAME = 0,
	TLS_EXT_SUPPORTED_GROUPS = 10,
	TLS_EXT_EC_POINT_FORMATS = 11,
	TLS_EXT_SIGNATURE_ALGORITHMS = 13,
	TLS_EXT_ALPN = 16,
	TLS_EXT_ENCRYPT_THEN_MAC = 22,
	TLS_EXT_EXTENDED_MASTER_SECRET = 23,
	TLS_EXT_SESSION_TICKET = 35,
	TLS_EXT_PRE_SHARED_KEY = 41,
	TLS_EXT_SUPPORTED_VERSIONS = 43,
	TLS_EXT_KEY_SHARE = 51,
	TLS_EXT_RENEGOTIATION_INFO = 0xff01,
};

void tls_anomaly(struct tls_observation *o, enum tls_anomaly a);

/* The uncapped fingerprint lists (tls_hello.c): their heap bytes, and freeing them. */
size_t tls_fingerprint_input_memory(const struct tls_fingerprint_input *fp);
void tls_fingerprint_input_free(struct tls_fingerprint_input *fp);

/* RFC 8446 4.1.2 / RFC 5246 7.4.1.2. Records only the first ClientHello. */
void tls_parse_client_hello(struct tls_observation *o, struct reader *body);

/* RFC 6101 E.1: the body of an SSLv2 CLIENT-HELLO after msg_type and version. */
void tls_parse_sslv2_client_hello(struct tls_observation *o, struct reader *body);

/*
 * RFC 6101 E.1: an SSLv2 SERVER-HELLO body after msg_type, session_id_hit and
 * certificate_type. Sets the version; *cert is a reader over the certificate.
 * False (counted) when it does not parse.
 */
bool tls_parse_sslv2_server_hello(struct tls_observation *o, struct reader *body, struct reader *cert);

enum tls_server_hello_kind { TLS_SH_BAD, TLS_SH_RETRY, TLS_SH_ACCEPTED };
/* RFC 8446 4.1.3: a ServerHello or HelloRetryRequest; sets version and cipher either way. */
enum tls_server_hello_kind tls_parse_server_hello(struct tls_observation *o, struct reader *body);

/* RFC 8422 5.4 (ECDHE) and RFC 5246 7.4.3 (DHE): the group or the prime size. */
void tls_parse_server_key_exchange(struct tls_observation *o, struct reader *body);

#endif
