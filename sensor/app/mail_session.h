/*
 * mail_session.h: the application layer of one mail flow.
 *
 * Decides the protocol by the first bytes (an SMTP greeting from the server, or
 * a ClientHello from the client; the port when they tell nothing), then feeds
 * the client and server byte streams to the SMTP parser and, from the STARTTLS
 * hand-off on (or from the first byte for implicit TLS), to the TLS parser.
 * A server that greets in clear on an implicit-TLS port is flagged
 * (cleartext_on_tls_port) and parsed as SMTP. Watches the hand-off itself: server bytes after the 220 that
 * come before the client's first TLS byte are an injected response (starttls_response_injection) and are kept
 * as evidence instead of being parsed as TLS. Once the TLS handshake is decided the flow needs no more bytes
 * (unless stream dumping wants them).
 *
 * Owns its parsers; mail_session_fill lends their observations to a session
 * record that must not outlive this object.
 */
#ifndef TLSOBS_MAIL_SESSION_H
#define TLSOBS_MAIL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/smtp.h"
#include "rules/session.h"
#include "sensor/flow/flow.h"

struct mail_session;

/* implicit_tls: the port (or nDPI) says TLS from the first byte, unless the bytes say otherwise. NULL on
 * allocation failure. smtp is borrowed and must outlive the session. */
struct mail_session *mail_session_new(bool implicit_tls, const struct smtp_options *smtp);
void mail_session_free(struct mail_session *m);
/* Heap bytes the session and its parsers hold now: charged to the flow memcap by the sensor. */
size_t mail_session_memory(const struct mail_session *m);

/* In-order bytes of one direction. STREAM_DONE once nothing more is worth parsing. */
enum stream_verdict mail_session_data(struct mail_session *m, enum flow_dir dir, const uint8_t *p, size_t n);
void mail_session_gap(struct mail_session *m, enum flow_dir dir, uint64_t n);
/* What follows is unseen in both directions (parsing stopped, flow evicted): undecided, never a failure. */
void mail_session_cut(struct mail_session *m);
/* The peers ended the flow (a FIN or RST; rst: by a reset) before or after the handshake: a handshake
 * not finished by then failed. */
void mail_session_end(struct mail_session *m, bool rst);
/* The view ended, not the flow (end of the capture, flow timeout): a handshake not finished yet stays
 * undecided, so nothing is called a failure that was not seen to fail. */
void mail_session_stop(struct mail_session *m);
/* Lends the observations to s (implicit_tls, smtp, tls, gaps, starttls_response_injection and
 * cleartext_on_tls_port evidence), valid until mail_session_free. */
void mail_session_fill(struct mail_session *m, struct session *s);
/* Nothing later (a gap, a cut, the end) can change the observations: the handshake is decided with both
 * directions handed to TLS. */
bool mail_session_settled(const struct mail_session *m);
/*
 * The session needs no more bytes (decided, or closed by its peers with nothing left to deliver): ends it as
 * mail_session_end would (rst: by a reset), then frees the parsers and keeps only their observations,
 * packed, for mail_session_fill. Later data, gaps, cuts and ends are ignored. false when out of memory
 * (nothing changed but the end).
 */
bool mail_session_release(struct mail_session *m, bool rst);

#endif
