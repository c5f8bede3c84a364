/*
 * smtp_internal.h: what smtp.c (feeding, states, STARTTLS hand-off),
 * smtp_command.c (client lines) and smtp_reply.c (server lines) share.
 * Not for use outside parsers/smtp*.c.
 */
#ifndef TLSOBS_SMTP_INTERNAL_H
#define TLSOBS_SMTP_INTERNAL_H

#include "parsers/line_buffer.h"
#include "parsers/mime_header.h"
#include "parsers/smtp.h"

/* What a reply answers: one entry per client command, in order (RFC 2920 3). */
enum smtp_cmd {
	SMTP_CMD_NONE, /* a reply nothing asked for */
	SMTP_CMD_GREETING,
	SMTP_CMD_HELO,
	SMTP_CMD_EHLO, /* EHLO or LHLO */
	SMTP_CMD_MAIL,
	SMTP_CMD_RCPT,
	SMTP_CMD_DATA,
	SMTP_CMD_DATA_END, /* the "." line after message content */
	SMTP_CMD_BDAT,
	SMTP_CMD_AUTH,
	SMTP_CMD_SASL, /* a SASL response line (RFC 4954 4), never looked at */
	SMTP_CMD_STARTTLS,
	SMTP_CMD_MASKED, /* the first unknown eight-character verb */
	SMTP_CMD_OTHER,
};

enum smtp_client_state {
	SMTP_CLIENT_COMMAND, /* command lines */
	SMTP_CLIENT_CONTENT, /* after DATA: message content up to the "." line */
	SMTP_CLIENT_BDAT,    /* after BDAT n: n bytes of chunk data */
	SMTP_CLIENT_HELD,    /* after STARTTLS: bytes held until the reply */
	SMTP_CLIENT_TLS,
	SMTP_CLIENT_LOST, /* after a gap */
};

enum smtp_server_state {
	SMTP_SERVER_REPLY,
	SMTP_SERVER_TLS,
	SMTP_SERVER_LOST,
};

/* Where message content is relative to the "." line that ends it (RFC 5321 4.1.1.4). */
enum smtp_content_state {
	SMTP_CONTENT_BOL,    /* at the start of a line */
	SMTP_CONTENT_MID,    /* inside a line */
	SMTP_CONTENT_DOT,    /* a line so far is "." */
	SMTP_CONTENT_DOT_CR, /* a line so far is ".\r" */
};

struct smtp_parser {
	struct smtp_options opt;
	struct smtp_observation obs;
	struct line_buffer line[2]; /* by enum smtp_dir */
	enum smtp_client_state client;
	enum smtp_server_state server;

	/* commands awaiting their reply: a ring of SMTP_PIPELINE_MAX */
	uint8_t pending[SMTP_PIPELINE_MAX];
	unsigned pending_head, pending_count;

	/* the reply being received */
	bool in_reply;
	uint16_t reply_code;
	uint8_t reply_cmd; /* enum smtp_cmd it answers */
	unsigned reply_lines;

	/* message content after DATA */
	enum smtp_content_state content;
	bool content_cr;         /* the last content byte seen was CR */
	bool content_bare_lf;    /* the line before this one ended with LF alone */
	bool data_confirmed;     /* the last DATA got its 354 */
	uint64_t content_unsure; /* content bytes seen before their 354 */
	uint64_t bdat_left;

	/* the message's top-level Content-Type (mime_header.h), from DATA or the first BDAT chunk on */
	struct mime_header_scan mime;
	bool bdat_last;       /* the BDAT chunk under way is the message's LAST */
	bool bdat_in_message; /* a BDAT message has begun and has not had its LAST chunk */
	bool message_pending; /* a DATA message ended before its 354: counted when the 354 comes */

	bool sasl;             /* after AUTH, until a reply other than 334 (RFC 4954 4) */
	bool starttls_refused; /* a STARTTLS got a reply other than 220 */

	/* client bytes after STARTTLS: allocated on first use, SMTP_HELD_MAX */
	uint8_t *held;
	size_t held_len, held_tls_at;
	bool held_overflow, held_taken;

	uint64_t gap_bytes; /* lost to gaps while in clear (for debugging; not an observation) */
	bool lost_sync;
};

/* smtp.c */
void smtp_anomaly(struct smtp_parser *p, enum smtp_anomaly a);
void smtp_line_anomalies(struct smtp_parser *p, const struct line *l);
void smtp_pending_push(struct smtp_parser *p, enum smtp_cmd cmd);
enum smtp_cmd smtp_pending_peek(const struct smtp_parser *p); /* SMTP_CMD_NONE when empty */
void smtp_pending_pop(struct smtp_parser *p);
void smtp_client_enter(struct smtp_parser *p, enum smtp_client_state s);
void smtp_data_reply(struct smtp_parser *p, uint16_t code);
/* A message whose content crossed in clear ended: counted by its Content-Type's protection. */
void smtp_message_done(struct smtp_parser *p);
/* The reply to STARTTLS completed; true when TLS starts after it. */
bool smtp_starttls_reply(struct smtp_parser *p, uint16_t code);

/*
 * Bounded text into a char array of the observation: always NUL-terminated, control bytes shown as '?'.
 * What does not fit is cut (never inside a UTF-8 character) and counted as the parser's text_truncated.
 */
struct smtp_text {
	char *s;
	size_t cap;          /* sizeof the array */
	uint64_t *truncated; /* the parser's SMTP_ANOMALY_TEXT_TRUNCATED counter */
};
#define SMTP_TEXT(p, array)                                                                                  \
	((struct smtp_text){(array), sizeof(array), &(p)->obs.anomalies[SMTP_ANOMALY_TEXT_TRUNCATED]})
void smtp_text_set(struct smtp_text t, const char *src, size_t n);
void smtp_text_add(struct smtp_text t, const char *src, size_t n);
void smtp_text_add_lower(struct smtp_text t, const char *src, size_t n);
/* Appends a line, after a '\n' unless the text is empty. */
void smtp_text_add_line(struct smtp_text t, const char *src, size_t n);
/* Appends bytes as printable ASCII, others as \r, \n, \xHH; never cuts an escape. */
void smtp_text_add_escaped(struct smtp_text t, const uint8_t *src, size_t n);
bool smtp_word_is(const char *s, size_t n, const char *word); /* ASCII case-insensitive, whole word */

/* smtp_command.c: one command line from the client, in command state */
void smtp_command_line(struct smtp_parser *p, const struct line *l);

/* smtp_reply.c: one reply line; true when the session goes to TLS after it */
bool smtp_reply_line(struct smtp_parser *p, const struct line *l);

#endif
