/*
 * smtp.h: one SMTP conversation, decoded from both directions (RFC 5321).
 *
 * Extensions: ESMTP capabilities (RFC 5321 4.1.1.1), PIPELINING (RFC 2920),
 * SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), CHUNKING/BDAT
 * (RFC 3030), DSN (RFC 3461), ENHANCEDSTATUSCODES (RFC 2034/3463), AUTH
 * (RFC 4954), STARTTLS (RFC 3207), REQUIRETLS (RFC 8689), LHLO (RFC 2033).
 *
 * Push parser, resumable at any byte: feed each direction's reassembled bytes
 * as they come; state and one bounded line buffer per direction live in the
 * parser. Its memory follows what the session needs (issue 16): a parser that
 * has only seen a banner holds a few hundred bytes; buffers are made on demand
 * up to the caps below and given back when their phase is over. It decodes grammar and pairs replies with the
 * commands they answer (in order, as pipelining requires); it does not judge. What it saw is in struct
 * smtp_observation, plain bounded data the rules read.
 *
 * Privacy (a contract): message content is skipped, never stored; AUTH keeps
 * the mechanism name only, never the initial response or any later exchange
 * line; MAIL FROM / RCPT TO keep the domain, and the local part only when
 * smtp_options.keep_local_parts is set. No line that could hold a credential
 * is copied into the observation.
 *
 * STARTTLS hand-off: after the client's STARTTLS (or X-ANONYMOUSTLS) line,
 * client bytes are held (bounded) until the server answers. On a 220 both
 * directions belong to TLS from the next byte on: smtp_parser_feed returns
 * SMTP_TLS_STARTS with *consumed at the first TLS byte of that chunk, and the
 * held client bytes are handed over with smtp_parser_take_held(). On any other
 * reply the held bytes are parsed as SMTP after all (the client goes on in clear).
 *
 * Message content: client bytes after DATA are skipped as content at once and
 * counted as data in clear when the 354 arrives; if another reply comes, the
 * client is back to commands and what it sent meanwhile stays skipped
 * (SMTP_ANOMALY_CONTENT_BEFORE_354; RFC 2920 3.1 says to wait for the 354).
 */
#ifndef TLSOBS_SMTP_H
#define TLSOBS_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum smtp_dir { SMTP_FROM_CLIENT = 0, SMTP_FROM_SERVER = 1 };

enum {
	SMTP_TEXT_MAX = 512,      /* banner, single reply texts */
	SMTP_NAME_MAX = 256,      /* HELO argument, domains */
	SMTP_EHLO_RAW_MAX = 2048, /* the EHLO reply, raw lines joined with "\n" */
	SMTP_MAX_CAPABILITIES = 40,
	SMTP_CAPABILITY_MAX = 64, /* one capability line's text */
	SMTP_MAX_RCPT_DOMAINS = 16,
	SMTP_HELD_MAX = 16384,   /* client bytes held after STARTTLS awaiting the reply */
	SMTP_EVIDENCE_MAX = 256, /* injected bytes kept as evidence */
	SMTP_PIPELINE_MAX = 128, /* commands awaiting their reply */
	SMTP_DEFAULT_MAX_LINE = 4096,
};

enum smtp_anomaly {
	SMTP_ANOMALY_LINE_TOO_LONG,      /* longer than max_line: the rest up to LF was skipped */
	SMTP_ANOMALY_BAD_REPLY,          /* a server line that is not "DDD", "DDD " or "DDD-" */
	SMTP_ANOMALY_MULTILINE_MISMATCH, /* a continuation line with another code */
	SMTP_ANOMALY_REPLY_WITHOUT_COMMAND,
	SMTP_ANOMALY_PIPELINE_OVERFLOW, /* more than SMTP_PIPELINE_MAX commands unanswered */
	SMTP_ANOMALY_BAD_BDAT,          /* BDAT without a valid size */
	SMTP_ANOMALY_HELD_OVERFLOW,     /* more than SMTP_HELD_MAX client bytes after STARTTLS */
	SMTP_ANOMALY_BARE_LF,           /* a line ended by LF alone (accepted, counted) */
	SMTP_ANOMALY_NUL_BYTE,          /* a NUL in a command or reply line */
	SMTP_ANOMALY_TOO_MANY_CAPABILITIES,
	SMTP_ANOMALY_TOO_MANY_DOMAINS,
	SMTP_ANOMALY_CONTENT_BEFORE_354, /* client bytes after DATA, then a reply other than 354: skipped, not
	                                    parsed */
	SMTP_ANOMALY_TEXT_TRUNCATED, /* a text kept from the conversation (banner, EHLO reply, MAIL line...)
	                                cut at its size */
	SMTP_ANOMALY_COUNT
};
const char *smtp_anomaly_str(enum smtp_anomaly a); /* "line_too_long", ... */

struct smtp_options {
	size_t max_line;       /* 0: SMTP_DEFAULT_MAX_LINE */
	bool keep_local_parts; /* keep "user@domain" instead of "domain" */
};

/* The EHLO reply as advertised in clear text. */
struct smtp_capabilities {
	bool seen; /* an EHLO/LHLO got a 250 reply */
	bool starttls, x_anonymoustls, pipelining, size, eightbitmime, smtputf8, chunking, requiretls, dsn,
	    enhancedstatuscodes, auth, binarymime;
	uint64_t size_limit;                 /* SIZE parameter, 0 when absent */
	char auth_mechanisms[SMTP_NAME_MAX]; /* as advertised, space separated */
	/* Every capability keyword line (the text after "250-"/"250 "), in order, as advertised. */
	char lines[SMTP_MAX_CAPABILITIES][SMTP_CAPABILITY_MAX];
	unsigned count;
	/*
	 * The first keyword the parser does not know that has exactly eight
	 * characters, STARTTLS's length (e.g. "XXXXXXXA", as a Cisco ASA masks it),
	 * as advertised. Whether it is a masking is the rules' decision.
	 */
	char masked_keyword[SMTP_CAPABILITY_MAX];
	char raw[SMTP_EHLO_RAW_MAX]; /* the reply lines as received, joined with '\n' (evidence) */
};

struct smtp_observation {
	/* server greeting */
	uint16_t banner_code;
	char banner[SMTP_TEXT_MAX]; /* first greeting line, without CRLF: "220 mx.example ESMTP" */
	/* client greeting: the last EHLO/HELO/LHLO sent in clear text */
	char helo_verb[8]; /* "EHLO", "HELO", "LHLO" or "" */
	char helo[SMTP_NAME_MAX];
	bool ehlo_refused; /* an EHLO/LHLO was answered 5xx (sticky; then HELO, if helo_verb says so) */
	uint16_t ehlo_reply_code; /* reply to the last EHLO/LHLO in clear */
	struct smtp_capabilities caps;
	/* transactions, in clear text only (after STARTTLS nothing is visible) */
	unsigned transactions; /* MAIL FROM commands sent */
	unsigned recipients;   /* RCPT TO commands sent */
	/* Domains are lowercased; with keep_local_parts they read "user@domain". */
	char mail_from_domain[SMTP_NAME_MAX]; /* of the first MAIL FROM; "" for the null sender */
	char rcpt_domains[SMTP_MAX_RCPT_DOMAINS]
	                 [SMTP_NAME_MAX]; /* distinct, in order; then TOO_MANY_DOMAINS */
	unsigned rcpt_domain_count;
	bool data_in_clear; /* DATA answered 354, or BDAT, then content crossed in clear */
	uint64_t data_bytes_in_clear;
	bool auth_in_clear;                 /* an AUTH command other than EXTERNAL was sent in clear */
	char auth_mechanism[32];            /* of the first AUTH in clear */
	bool requiretls_in_clear;           /* a MAIL FROM in clear carried REQUIRETLS */
	char mail_from_line[SMTP_TEXT_MAX]; /* the first MAIL FROM line, or the one with REQUIRETLS; local
	                                       part "…" unless kept */
	uint16_t last_reply_code;
	/* STARTTLS */
	bool starttls_attempted;                    /* the client sent STARTTLS or X-ANONYMOUSTLS */
	char starttls_command[SMTP_CAPABILITY_MAX]; /* the line as sent ("STARTTLS") */
	/*
	 * The client sent an unknown verb of exactly eight characters (STARTTLS's
	 * length) with no argument, e.g. "XXXXXXXX"; masked_command is the first
	 * such verb, masked_command_reply the code of its reply (0: none yet).
	 * Whether it is a masked STARTTLS is the rules' decision.
	 */
	bool starttls_command_masked;
	char masked_command[SMTP_CAPABILITY_MAX];
	uint16_t masked_command_reply;
	uint16_t starttls_reply_code;       /* 0: no reply seen */
	char starttls_reply[SMTP_TEXT_MAX]; /* the reply line(s), raw */
	bool tls_started;                   /* 220 seen: both directions handed to TLS */
	/* client bytes after the STARTTLS line, received before the 220 and not a TLS record (CVE-2011-0411)
	 */
	bool command_injection;
	char injected_command[SMTP_EVIDENCE_MAX]; /* those bytes, escaped: printable ASCII, \r \n \\ \xHH */
	bool
	    commands_after_starttls_reply; /* SMTP commands after a non-220 reply (client went on in clear) */
	uint64_t anomalies[SMTP_ANOMALY_COUNT];
	/* Messages whose content crossed in clear, by the end-to-end protection of their top-level
	 * Content-Type (mime_header.h); only these counts are kept, nothing of the message. */
	struct smtp_content_protection {
		uint32_t messages; /* messages sent in clear (content ended, DATA confirmed or BDAT LAST) */
		uint32_t unprotected;     /* no S/MIME or OpenPGP content type, or no Content-Type */
		uint32_t smime_encrypted; /* application/pkcs7-mime (enveloped-data, authEnveloped-data, or no
		                             smime-type) */
		uint32_t smime_signed;  /* application/pkcs7-mime; smime-type=signed-data, or multipart/signed
		                           PKCS#7 */
		uint32_t pgp_encrypted; /* multipart/encrypted; protocol="application/pgp-encrypted" (RFC 3156
		                           4) */
		uint32_t pgp_signed; /* multipart/signed; protocol="application/pgp-signature" (RFC 3156 5) */
	} content_protection;
};

enum smtp_status {
	SMTP_CONTINUE,   /* all bytes consumed as SMTP (or held) */
	SMTP_TLS_STARTS, /* this direction is TLS from *consumed on */
};

struct smtp_parser;

/* A parser for a new session that starts in clear text. NULL on allocation failure. */
struct smtp_parser *smtp_parser_new(const struct smtp_options *opt);
void smtp_parser_free(struct smtp_parser *p);
/* Heap bytes the parser holds now (itself, its texts, line buffers, queue, STARTTLS hold, and the observation
 * once built), for the caller's memcap: it rises and falls as the session goes. */
size_t smtp_parser_memory(const struct smtp_parser *p);

/*
 * Feeds bytes sent by `dir`. *consumed is set to the bytes taken as SMTP; on
 * SMTP_TLS_STARTS the rest of the chunk, and all later bytes of that direction,
 * are TLS and must not be fed again. Once a direction is TLS, feeding it is a
 * no-op returning SMTP_TLS_STARTS with *consumed = 0.
 */
enum smtp_status smtp_parser_feed(struct smtp_parser *p, enum smtp_dir dir, const uint8_t *data, size_t len,
                                  size_t *consumed);

/*
 * After SMTP_TLS_STARTS on the server side: the client bytes that were held
 * after STARTTLS and belong to TLS (injected clear-text commands already
 * removed, see command_injection). Borrowed until the next call or
 * smtp_parser_free; handed out once (later calls give len 0); len 0 if none.
 */
void smtp_parser_take_held(struct smtp_parser *p, const uint8_t **data, size_t *len);

/* A reassembly gap in `dir`: the conversation can no longer be followed there (counted; decisions become
 * incomplete). */
void smtp_parser_gap(struct smtp_parser *p, enum smtp_dir dir, uint64_t n);
/* True once a gap hit either direction while still in clear text. */
bool smtp_parser_lost_sync(const struct smtp_parser *p);
/* Evidence of this conversation that the caller keeps (the server's bytes before the client's TLS hello) was
 * cut at its size: counted as the conversation's text_truncated, beside the parser's own texts. */
void smtp_parser_count_truncated(struct smtp_parser *p);

/*
 * What the parser observed. Built from the parser on the first call (some 12 KiB, counted in
 * smtp_parser_memory from then on) and kept up to date by later calls; borrowed until smtp_parser_free.
 * Ask for it when it is needed (the event, the release of the session), not while the session runs.
 */
const struct smtp_observation *smtp_parser_observation(const struct smtp_parser *p);

/*
 * For a session whose parser is released: what the parser observed, in the bytes it holds (its facts,
 * counters and texts: a few hundred bytes where the observation takes 12 KiB); the caller frees them. NULL
 * when out of memory. smtp_frozen_observation writes from them the observation smtp_parser_observation gave
 * (false: not bytes smtp_parser_freeze made).
 */
uint8_t *smtp_parser_freeze(const struct smtp_parser *p, size_t *len);
bool smtp_frozen_observation(const uint8_t *frozen, size_t len, struct smtp_observation *o);

/*
 * The host name in an SMTP greeting line ("220 mx1.example.net ESMTP", "250-mx1.example.net"), RFC 5321 4.2:
 * letters, digits, '-' and '.' with at least one dot, no address literal. 0, or -1 when there is none
 * or it does not fit in outlen.
 */
int smtp_greeting_host(const char *line, char *out, size_t outlen);

#endif
