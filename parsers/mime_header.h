/*
 * mime_header.h: the end-to-end protection a message declares in its top-level Content-Type
 * (RFC 2045 5.1), read from the start of its content as SMTP carries it in clear.
 *
 *   Received: ...\r\n             header fields (RFC 5322 2.2), folded lines (2.2.3) joined;
 *   Content-Type: multipart/signed;\r\n      only the first Content-Type field is kept, in a
 *    protocol="application/pgp-signature"\r\n   bounded buffer; every other field is skipped
 *   \r\n                          the empty line ends the header: nothing after it is looked at
 *
 * What counts (S/MIME: RFC 8551 3.2 and 3.5; OpenPGP/MIME: RFC 3156 4 and 5):
 *   application/pkcs7-mime (or x-pkcs7-mime)  smime-type=signed-data: smime_signed; certs-only or
 *                                             compressed-data: unprotected; else smime_encrypted
 *   multipart/signed                          protocol application/pkcs7-signature (or x-):
 *                                             smime_signed; application/pgp-signature: pgp_signed
 *   multipart/encrypted                       protocol application/pgp-encrypted: pgp_encrypted
 * Anything else, or no Content-Type, is unprotected (inline PGP in a text body is not seen: the
 * body is never read).
 *
 * Push scanner, resumable at any byte. At most MIME_HEADER_SCAN_MAX header bytes are looked at,
 * then the scan stops with what it has; a Content-Type longer than MIME_CONTENT_TYPE_MAX is cut.
 * Privacy: nothing but the Content-Type value is held, and only until the next reset.
 */
#ifndef TLSOBS_MIME_HEADER_H
#define TLSOBS_MIME_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { MIME_HEADER_SCAN_MAX = 65536, MIME_CONTENT_TYPE_MAX = 1024, MIME_FIELD_NAME_MAX = 16 };

enum mime_protection {
	MIME_UNPROTECTED,
	MIME_SMIME_ENCRYPTED,
	MIME_SMIME_SIGNED,
	MIME_PGP_ENCRYPTED,
	MIME_PGP_SIGNED,
};
const char *mime_protection_str(enum mime_protection p); /* "unprotected", "smime_encrypted", ... */

enum mime_scan_state {
	MIME_LINE_START,
	MIME_LINE_CR,
	MIME_FIELD_NAME,
	MIME_CT_VALUE,
	MIME_SKIP_LINE,
	MIME_DONE
};

struct mime_header_scan {
	enum mime_scan_state state;
	uint32_t scanned; /* header bytes looked at */
	char name[MIME_FIELD_NAME_MAX];
	size_t name_len;
	bool in_ct;   /* the field being read (and its folded lines) is the first Content-Type */
	bool have_ct; /* a Content-Type was read */
	char value[MIME_CONTENT_TYPE_MAX];
	size_t value_len;
	bool cut;    /* the Content-Type did not fit */
	bool capped; /* MIME_HEADER_SCAN_MAX reached before the end of the header */
};

/* Ready for a new message (and forgets the last one's Content-Type). */
void mime_header_scan_reset(struct mime_header_scan *s);
/* Message content bytes, in order, with SMTP's dot-stuffing already undone. */
void mime_header_scan_feed(struct mime_header_scan *s, const uint8_t *data, size_t len);
/* What the Content-Type read so far declares (the header may still be incomplete). */
enum mime_protection mime_header_scan_result(const struct mime_header_scan *s);
/* The same, from one Content-Type field value ("multipart/signed; protocol=..."). */
enum mime_protection mime_content_type_protection(const char *value, size_t len);

#endif
