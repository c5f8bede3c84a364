/*
 * mail_session.h: the application layer of one mail flow.
 *
 * Feeds the client and server byte streams to the SMTP parser and, from the
 * STARTTLS hand-off on (or from the first byte on an implicit-TLS port), to the
 * TLS parser. Watches the hand-off itself: server bytes after the 220 that come
 * before the client's first TLS byte are an injected response (H8) and are kept
 * as evidence instead of being parsed as TLS. Once the TLS handshake is decided
 * the flow needs no more bytes (unless stream dumping wants them).
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
#include "sensor/flow.h"

struct mail_session;

/* implicit_tls: TLS from the first byte. NULL on allocation failure. */
struct mail_session *mail_session_new(bool implicit_tls, const struct smtp_options *smtp);
void mail_session_free(struct mail_session *m);
/* Heap bytes the session and its parsers hold now: charged to the flow memcap by the sensor. */
size_t mail_session_memory(const struct mail_session *m);

/* In-order bytes of one direction. STREAM_DONE once nothing more is worth parsing. */
enum stream_verdict mail_session_data(struct mail_session *m, enum flow_dir dir, const uint8_t *p, size_t n);
void mail_session_gap(struct mail_session *m, enum flow_dir dir, uint64_t n);
/* What follows is unseen in both directions (parsing stopped, flow evicted): undecided, never a failure. */
void mail_session_cut(struct mail_session *m);
/* The flow ended (rst: by a reset) before or after the handshake. */
void mail_session_end(struct mail_session *m, bool rst);
/* Lends the observations to s (protocol, smtp, tls, gaps, H8 evidence). */
void mail_session_fill(const struct mail_session *m, struct session *s);

#endif
