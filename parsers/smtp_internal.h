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

/*
 * Memory (issue 16): a parser that has only seen the banner holds little more
 * than this struct and the banner's bytes. What a later phase needs is made on
 * demand, grows up to the same caps as before, and is given back when that
 * phase is over: a line cut by a chunk boundary (line_buffer.h, freed once the
 * line is used), commands queued past SMTP_PENDING_INLINE (freed when the
 * queue empties), message content state (at DATA/BDAT, freed once the message is over), the STARTTLS hold
 * (grows with what the client sends, freed once handed over), the anomaly counters (at the first one). The
 * observation's texts live in one store of the bytes they use (smtp_store.c) and the public struct
 * smtp_observation is only built when asked for.
 */

/* Texts of the observation, by slot (smtp_store.c); each cut as its array in struct smtp_observation. */
#define SMTP_SLOTS(X)                                                                                        \
	X(BANNER, banner)                                                                                    \
	X(HELO_VERB, helo_verb)                                                                              \
	X(HELO, helo)                                                                                        \
	X(AUTH_MECHANISMS, caps.auth_mechanisms)                                                             \
	X(MASKED_KEYWORD, caps.masked_keyword)                                                               \
	X(EHLO_RAW, caps.raw)                                                                                \
	X(MAIL_FROM_DOMAIN, mail_from_domain)                                                                \
	X(AUTH_MECHANISM, auth_mechanism)                                                                    \
	X(MAIL_FROM_LINE, mail_from_line)                                                                    \
	X(STARTTLS_COMMAND, starttls_command)                                                                \
	X(MASKED_COMMAND, masked_command)                                                                    \
	X(STARTTLS_REPLY, starttls_reply)                                                                    \
	X(INJECTED_COMMAND, injected_command)

enum smtp_slot {
#define SMTP_SLOT_ENUM(name, field) SMTP_SLOT_##name,
	SMTP_SLOTS(SMTP_SLOT_ENUM)
#undef SMTP_SLOT_ENUM
	    SMTP_SLOT_CAP_LINE,                                             /* + i: caps.lines[i] */
	SMTP_SLOT_RCPT_DOMAIN = SMTP_SLOT_CAP_LINE + SMTP_MAX_CAPABILITIES, /* + i: rcpt_domains[i] */
	SMTP_SLOT_COUNT = SMTP_SLOT_RCPT_DOMAIN + SMTP_MAX_RCPT_DOMAINS
};

/* The EHLO keywords' facts, as in struct smtp_capabilities without its texts. */
struct smtp_cap_facts {
	bool seen, starttls, x_anonymoustls, pipelining, size, eightbitmime, smtputf8, chunking, requiretls,
	    dsn, enhancedstatuscodes, auth, binarymime;
	uint8_t count; /* caps.lines stored */
	uint64_t size_limit;
};

/* The observation's facts that are not texts (same names as in struct smtp_observation). */
struct smtp_facts {
	uint64_t data_bytes_in_clear;
	uint32_t transactions, recipients;
	uint16_t banner_code, ehlo_reply_code, last_reply_code, masked_command_reply, starttls_reply_code;
	uint8_t rcpt_domain_count;
	bool ehlo_refused, data_in_clear, auth_in_clear, requiretls_in_clear, starttls_attempted,
	    starttls_command_masked, tls_started, command_injection, commands_after_starttls_reply;
	struct smtp_cap_facts caps;
};

/* Counters, made at the first anomaly or message. */
struct smtp_tally {
	uint64_t anomalies[SMTP_ANOMALY_COUNT];
	struct smtp_content_protection content_protection;
};

/* Message content after DATA or BDAT: made at the first of them, given back once the message is over
 * (smtp_message_idle) and when TLS starts. */
struct smtp_message {
	enum smtp_content_state content;
	bool content_cr;         /* the last content byte seen was CR */
	bool content_bare_lf;    /* the line before this one ended with LF alone */
	bool data_confirmed;     /* the last DATA got its 354 */
	bool bdat_last;          /* the BDAT chunk under way is the message's LAST */
	bool bdat_in_message;    /* a BDAT message has begun and has not had its LAST chunk */
	bool message_pending;    /* a DATA message ended before its 354: counted when the 354 comes */
	uint64_t content_unsure; /* content bytes seen before their 354 */
	uint64_t bdat_left;
	/* the message's top-level Content-Type (mime_header.h), from DATA or the first BDAT chunk on */
	struct mime_header_scan mime;
};

/* Client bytes after STARTTLS: grows with them up to SMTP_HELD_MAX. */
struct smtp_hold {
	uint32_t cap, len, tls_at;
	uint8_t bytes[];
};

enum { SMTP_PENDING_INLINE = 12 }; /* commands awaiting a reply kept in the parser itself */

/* Ordered so that a banner-only parser has no padding to carry. */
struct smtp_parser {
	uint32_t max_line;   /* as smtp_options, 0 replaced */
	uint16_t reply_code; /* of the reply being received */
	uint8_t client;      /* enum smtp_client_state */
	uint8_t server;      /* enum smtp_server_state */
	bool keep_local_parts;
	bool sasl;             /* after AUTH, until a reply other than 334 (RFC 4954 4) */
	bool starttls_refused; /* a STARTTLS got a reply other than 220 */
	bool held_overflow, held_taken;
	bool lost_sync;
	bool in_reply;     /* a reply is being received */
	bool reply_more;   /* a line of it was seen */
	uint8_t reply_cmd; /* enum smtp_cmd it answers */

	/* commands awaiting their reply: a ring in pending_inline, or on the heap up to SMTP_PIPELINE_MAX */
	uint8_t pending_head, pending_count, pending_cap;
	uint8_t pending_inline[SMTP_PENDING_INLINE];
	uint8_t *pending;

	struct line_buffer line[2]; /* by enum smtp_dir */
	struct smtp_facts obs;
	struct smtp_tally *tally;
	struct smtp_message *msg;
	struct smtp_hold *held;

	/* the observation's texts (smtp_store.c): records of slot, length, bytes, NUL */
	uint8_t *texts;
	uint32_t texts_len, texts_cap;

	struct smtp_observation *view; /* built by smtp_parser_observation, then kept up to date */
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
/* The message content state, made at the first DATA/BDAT; NULL when out of memory (then the client
 * direction is lost, as after a gap). */
struct smtp_message *smtp_message(struct smtp_parser *p);
/* Gives the message content state back when nothing of it is still needed (no message under way, no
 * content awaiting its 354): the next DATA or BDAT makes it afresh. */
void smtp_message_idle(struct smtp_parser *p);
/* The reply to STARTTLS completed; true when TLS starts after it. */
bool smtp_starttls_reply(struct smtp_parser *p, uint16_t code);

/*
 * Bounded text into a char array: always NUL-terminated, control bytes shown as '?'. What does not fit
 * is cut (never inside a UTF-8 character) and counted as the parser's text_truncated.
 */
struct smtp_text {
	char *s;
	size_t cap; /* sizeof the array */
	struct smtp_parser *p;
};
#define SMTP_TEXT(p, array) ((struct smtp_text){(array), sizeof(array), (p)})
void smtp_text_set(struct smtp_text t, const char *src, size_t n);
void smtp_text_add(struct smtp_text t, const char *src, size_t n);
void smtp_text_add_lower(struct smtp_text t, const char *src, size_t n);
/* Appends a line, after a '\n' unless the text is empty. */
void smtp_text_add_line(struct smtp_text t, const char *src, size_t n);
/* Appends bytes as printable ASCII, others as \r, \n, \xHH; never cuts an escape. */
void smtp_text_add_escaped(struct smtp_text t, const uint8_t *src, size_t n);
bool smtp_word_is(const char *s, size_t n, const char *word); /* ASCII case-insensitive, whole word */

/* smtp_store.c: the observation's texts by slot, and the observation built from the parser */
enum { SMTP_SLOT_BUF = SMTP_EHLO_RAW_MAX }; /* the largest slot, NUL included */
size_t smtp_slot_cap(enum smtp_slot s);     /* sizeof its array in struct smtp_observation */
/* The slot's text, NUL-terminated ("" when empty); borrowed until a slot is changed. */
const char *smtp_slot(const struct smtp_parser *p, enum smtp_slot s);
/* A slot's text copied into buf (SMTP_SLOT_BUF bytes), to change with the smtp_text_* functions. */
struct smtp_text smtp_slot_open(struct smtp_parser *p, enum smtp_slot s, char *buf);
/* Stores the text changed in buf (NUL-terminated, shorter than the slot's cap); "" empties the slot. */
void smtp_slot_close(struct smtp_parser *p, enum smtp_slot s, const char *buf);
void smtp_slot_set(struct smtp_parser *p, enum smtp_slot s, const char *src, size_t n);
void smtp_slot_add(struct smtp_parser *p, enum smtp_slot s, const char *src, size_t n);
void smtp_slot_add_line(struct smtp_parser *p, enum smtp_slot s, const char *src, size_t n);
void smtp_slot_add_escaped(struct smtp_parser *p, enum smtp_slot s, const uint8_t *src, size_t n);
/* Uppercases the slot's ASCII letters in place. */
void smtp_slot_upper(struct smtp_parser *p, enum smtp_slot s);
/* Empties the slots first..last (inclusive). */
void smtp_slot_clear(struct smtp_parser *p, enum smtp_slot first, enum smtp_slot last);
size_t smtp_store_memory(const struct smtp_parser *p);
void smtp_store_free(struct smtp_parser *p);
/* Writes the observation the parser holds into o (every byte: zeros after each text). */
void smtp_store_observation(const struct smtp_parser *p, struct smtp_observation *o);

/* smtp_command.c: one command line from the client, in command state */
void smtp_command_line(struct smtp_parser *p, const struct line *l);

/* smtp_reply.c: one reply line; true when the session goes to TLS after it */
bool smtp_reply_line(struct smtp_parser *p, const struct line *l);

#endif
