/*
 * protocol_sniff.h: what the first bytes of a mail flow say about its protocol.
 *
 * The port only suggests a protocol; the bytes decide it. In SMTP the server
 * speaks first, with a reply line (RFC 5321 4.2 and 3.1: "220 " or "220-" as a
 * rule, "421"/"554" from a server that refuses the connection); in TLS the
 * client speaks first, with a ClientHello (RFC 8446 5.1 and 4.1.2; RFC 6101
 * E.1 for the SSLv2-format hello old clients still send). Each test looks only
 * at the first bytes of one direction and answers yes, no, or that it needs
 * more of them (never more than PROTOCOL_SNIFF_MAX). Pure functions over a
 * borrowed buffer: nothing is kept.
 */
#ifndef TLSOBS_PROTOCOL_SNIFF_H
#define TLSOBS_PROTOCOL_SNIFF_H

#include <stddef.h>
#include <stdint.h>

enum { PROTOCOL_SNIFF_MAX = 6 }; /* bytes either test needs at most */

enum protocol_sniff { PROTOCOL_SNIFF_NO, PROTOCOL_SNIFF_YES, PROTOCOL_SNIFF_NEED_MORE };
const char *protocol_sniff_str(enum protocol_sniff v); /* "no", "yes", "need_more" */

/* A TLS handshake record holding a ClientHello (TLS 1.0-1.3 record versions), or an SSLv2 CLIENT-HELLO. */
enum protocol_sniff protocol_sniff_client_hello(const uint8_t *p, size_t n);
/* An SMTP reply line: three digits (first 2-5) then SP, '-' or the end of the line. */
enum protocol_sniff protocol_sniff_smtp_reply(const uint8_t *p, size_t n);

#endif
