/*
 * test_smtp.c: the SMTP conversation parser, driven by transcripts.
 *
 * A transcript is the list of chunks each side sent, in the order a span port
 * saw them ({C, ...} from the client, {S, ...} from the server). run() feeds one
 * to a fresh parser, whole, byte by byte or cut at random places, stops feeding
 * a direction at SMTP_TLS_STARTS and takes the held client bytes then; the
 * tests check the observation. The cap_* transcripts are copied from the
 * sessions in the tests/fixtures pcaps (tshark -z follow,tcp,raw), TLS records cut
 * after their first bytes. The every-prefix test feeds heap copies of exactly
 * the bytes given, so ASan (TLSOBS_SANITIZE=ON) catches any read past them.
 */
#include "parsers/smtp.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct step {
	enum smtp_dir dir;
	size_t len;
	const char *bytes;
};
#define C SMTP_FROM_CLIENT
#define S SMTP_FROM_SERVER
/* A step from a string literal, its length counted by the compiler (NULs allowed). */
#define STEP(d, lit)                                                                                         \
	{                                                                                                    \
		(d), sizeof(lit) - 1, (lit)                                                                  \
	}
#define N_STEPS(a) (sizeof(a) / sizeof((a)[0]))

enum cut { CUT_WHOLE, CUT_BYTES, CUT_RANDOM };

struct outcome {
	struct smtp_parser *p;
	const struct smtp_observation *obs;
	bool tls[2];      /* that direction returned SMTP_TLS_STARTS */
	size_t tls_at[2]; /* where TLS starts in that direction's stream */
	size_t fed[2];    /* bytes offered per direction */
	uint8_t held[SMTP_HELD_MAX];
	size_t held_len;
};

static void feed_piece(struct outcome *o, enum smtp_dir dir, const uint8_t *b, size_t n)
{
	if (o->tls[dir])
		return;
	/* an exact-size heap copy: ASan sees any read past what was given */
	uint8_t *copy = malloc(n ? n : 1);
	cr_assert_not_null(copy);
	memcpy(copy, b, n);
	size_t consumed = 12345;
	enum smtp_status st = smtp_parser_feed(o->p, dir, copy, n, &consumed);
	free(copy);
	cr_assert_leq(consumed, n);
	if (st == SMTP_TLS_STARTS) {
		o->tls[dir] = true;
		o->tls_at[dir] = o->fed[dir] + consumed;
		if (dir == S) {
			const uint8_t *h;
			smtp_parser_take_held(o->p, &h, &o->held_len);
			cr_assert_leq(o->held_len, SMTP_HELD_MAX);
			if (o->held_len)
				memcpy(o->held, h, o->held_len);
		}
	} else {
		cr_assert_eq(consumed, n, "SMTP_CONTINUE must take the whole chunk");
	}
	o->fed[dir] += n;
}

static void feed_step(struct outcome *o, const struct step *s, size_t len, enum cut cut, uint64_t *rng)
{
	const uint8_t *b = (const uint8_t *)s->bytes;
	size_t off = 0;
	while (off < len) {
		size_t n = len - off;
		if (cut == CUT_BYTES)
			n = 1;
		else if (cut == CUT_RANDOM)
			n = 1 + (size_t)(test_rand(rng) % (n < 40 ? n : 40));
		feed_piece(o, s->dir, b + off, n);
		off += n;
	}
}

/* Feeds the first `limit` bytes of a transcript (SIZE_MAX: all of it). Free with done(). */
static struct outcome *run_prefix(const struct step *steps, size_t n, const struct smtp_options *opt,
                                  enum cut cut, uint64_t seed, size_t limit)
{
	struct outcome *o = calloc(1, sizeof *o);
	cr_assert_not_null(o);
	o->p = smtp_parser_new(opt);
	cr_assert_not_null(o->p);
	uint64_t rng = seed;
	for (size_t i = 0; i < n && limit > 0; i++) {
		size_t len = steps[i].len < limit ? steps[i].len : limit;
		feed_step(o, &steps[i], len, cut, &rng);
		limit -= len;
	}
	o->obs = smtp_parser_observation(o->p);
	return o;
}

static struct outcome *run(const struct step *steps, size_t n, const struct smtp_options *opt)
{
	return run_prefix(steps, n, opt, CUT_WHOLE, 0, SIZE_MAX);
}
#define RUN(steps) run((steps), N_STEPS(steps), NULL)

static void done(struct outcome *o)
{
	smtp_parser_free(o->p);
	free(o);
}

static size_t transcript_bytes(const struct step *steps, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += steps[i].len;
	return total;
}

/* True when `needle` occurs anywhere in the observation's bytes, padding and all. */
static bool observation_holds(const struct smtp_observation *obs, const char *needle)
{
	return memmem(obs, sizeof *obs, needle, strlen(needle)) != NULL;
}

/* Every text field ends with a NUL inside its array. */
static void assert_strings_terminated(const struct smtp_observation *o)
{
#define TERMINATED(f) cr_assert_not_null(memchr((f), '\0', sizeof(f)), #f " is not terminated")
	TERMINATED(o->banner);
	TERMINATED(o->helo_verb);
	TERMINATED(o->helo);
	TERMINATED(o->caps.auth_mechanisms);
	for (int i = 0; i < SMTP_MAX_CAPABILITIES; i++)
		TERMINATED(o->caps.lines[i]);
	TERMINATED(o->caps.masked_keyword);
	TERMINATED(o->caps.raw);
	TERMINATED(o->mail_from_domain);
	for (int i = 0; i < SMTP_MAX_RCPT_DOMAINS; i++)
		TERMINATED(o->rcpt_domains[i]);
	TERMINATED(o->auth_mechanism);
	TERMINATED(o->mail_from_line);
	TERMINATED(o->starttls_command);
	TERMINATED(o->masked_command);
	TERMINATED(o->starttls_reply);
	TERMINATED(o->injected_command);
#undef TERMINATED
}

static void assert_same_outcome(const struct outcome *a, const struct outcome *b, const char *what)
{
	cr_assert(memcmp(a->obs, b->obs, sizeof *a->obs) == 0, "%s: observations differ", what);
	for (int d = 0; d < 2; d++) {
		cr_assert_eq(a->tls[d], b->tls[d], "%s: TLS start differs (dir %d)", what, d);
		cr_assert_eq(a->tls_at[d], b->tls_at[d], "%s: TLS offset differs (dir %d)", what, d);
	}
	cr_assert_eq(a->held_len, b->held_len, "%s: held bytes differ", what);
	cr_assert(memcmp(a->held, b->held, a->held_len) == 0, "%s: held bytes differ", what);
	cr_assert_eq(smtp_parser_lost_sync(a->p), smtp_parser_lost_sync(b->p), "%s", what);
}

static const char POSTFIX_EHLO[] = "250-mx1.example.net\r\n"
                                   "250-PIPELINING\r\n"
                                   "250-SIZE 10240000\r\n"
                                   "250-VRFY\r\n"
                                   "250-ETRN\r\n"
                                   "250-STARTTLS\r\n"
                                   "250-ENHANCEDSTATUSCODES\r\n"
                                   "250-8BITMIME\r\n"
                                   "250-DSN\r\n"
                                   "250-SMTPUTF8\r\n"
                                   "250 CHUNKING\r\n";
#define GREETING STEP(S, "220 mx1.example.net ESMTP Postfix\r\n")
#define EHLO STEP(C, "EHLO client.example.org\r\n"), STEP(S, POSTFIX_EHLO)

/* ---- transcripts copied from the fixture captures ---- */

static const struct step cap_mitm_mask[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-XXXXXXXA\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 32, "MAIL FROM:<sender@example.org>\r\n"},
    {S, 14, "250 2.1.0 Ok\r\n"},
    {C, 27, "RCPT TO:<bob@example.net>\r\n"},
    {S, 14, "250 2.1.5 Ok\r\n"},
    {C, 6, "DATA\r\n"},
    {S, 37, "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 300,
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "To: bob@example.net\r\n"
     "From: sender@example.org\r\n"
     "Subject: tlsobs fixture mitm-mask\r\n"
     "Message-Id: <mitm-mask@client.example.org>\r\n"
     "X-Mailer: swaks v20201014.0 jetmore.org/john/code/swaks/\r\n"
     "\r\n"
     "Hello from tlsobs fixture mitm-mask (through a man in the middle).\r\n"
     "\r\n"
     "\r\n"
     ".\r\n"},
    {S, 37, "250 2.0.0 Ok: queued as 1996DA725D2\r\n"},
    {C, 6, "QUIT\r\n"},
    {S, 15, "221 2.0.0 Bye\r\n"},
};
static const struct step cap_pipelining[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 65,
     "MAIL FROM:<sender@example.org>\r\n"
     "RCPT TO:<bob@example.net>\r\n"
     "DATA\r\n"},
    {S, 65,
     "250 2.1.0 Ok\r\n"
     "250 2.1.5 Ok\r\n"
     "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 330,
     "From: <sender@example.org>\r\n"
     "To: <bob@example.net>\r\n"
     "Subject: tlsobs fixture pipelining-multi 1\r\n"
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "Message-Id: <pipelining-multi-1@client.example.org>\r\n"
     "\r\n"
     "Message 1 of 3 in one pipelined session.\r\n"
     "..leading dot is stuffed\r\n"
     "bye\r\n"
     ".\r\n"
     "MAIL FROM:<sender@example.org>\r\n"
     "RCPT TO:<bob@example.net>\r\n"
     "DATA\r\n"},
    {S, 102,
     "250 2.0.0 Ok: queued as D1D42A7274D\r\n"
     "250 2.1.0 Ok\r\n"
     "250 2.1.5 Ok\r\n"
     "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 330,
     "From: <sender@example.org>\r\n"
     "To: <bob@example.net>\r\n"
     "Subject: tlsobs fixture pipelining-multi 2\r\n"
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "Message-Id: <pipelining-multi-2@client.example.org>\r\n"
     "\r\n"
     "Message 2 of 3 in one pipelined session.\r\n"
     "..leading dot is stuffed\r\n"
     "bye\r\n"
     ".\r\n"
     "MAIL FROM:<sender@example.org>\r\n"
     "RCPT TO:<bob@example.net>\r\n"
     "DATA\r\n"},
    {S, 102,
     "250 2.0.0 Ok: queued as D23D2A7274E\r\n"
     "250 2.1.0 Ok\r\n"
     "250 2.1.5 Ok\r\n"
     "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 271,
     "From: <sender@example.org>\r\n"
     "To: <bob@example.net>\r\n"
     "Subject: tlsobs fixture pipelining-multi 3\r\n"
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "Message-Id: <pipelining-multi-3@client.example.org>\r\n"
     "\r\n"
     "Message 3 of 3 in one pipelined session.\r\n"
     "..leading dot is stuffed\r\n"
     "bye\r\n"
     ".\r\n"
     "QUIT\r\n"},
    {S, 52,
     "250 2.0.0 Ok: queued as D2E60A7274F\r\n"
     "221 2.0.0 Bye\r\n"},
};
static const struct step cap_bdat[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 59,
     "MAIL FROM:<sender@example.org>\r\n"
     "RCPT TO:<bob@example.net>\r\n"},
    {S, 28,
     "250 2.1.0 Ok\r\n"
     "250 2.1.5 Ok\r\n"},
    {C, 168,
     "BDAT 158\r\n"
     "From: <sender@example.org>\r\n"
     "To: <bob@example.net>\r\n"
     "Subject: tlsobs fixture bdat 1\r\n"
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "Message-Id: <bdat-1@client.example.o"},
    {S, 25, "250 2.0.0 Ok: 158 bytes\r\n"},
    {C, 173,
     "BDAT 158 LAST\r\n"
     "rg>\r\n"
     "\r\n"
     "This message is sent with BDAT (RFC 3030).\r\n"
     ".a line starting with a dot is NOT stuffed in BDAT\r\n"
     "BDAT 999 LAST (this line is data, not a command)\r\n"
     "bye\r\n"},
    {S, 47, "250 2.0.0 Ok: 316 bytes queued as D39AEA726E3\r\n"},
    {C, 6, "QUIT\r\n"},
    {S, 15, "221 2.0.0 Bye\r\n"},
};
static const struct step cap_auth_cleartext[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 188,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-AUTH PLAIN LOGIN\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 61, "AUTH PLAIN AGFsaWNlQGV4YW1wbGUubmV0AGZpeHR1cmUtcGFzc3dvcmQ=\r\n"},
    {S, 37, "235 2.7.0 Authentication successful\r\n"},
    {C, 31, "MAIL FROM:<alice@example.net>\r\n"},
    {S, 14, "250 2.1.0 Ok\r\n"},
    {C, 27, "RCPT TO:<bob@example.net>\r\n"},
    {S, 14, "250 2.1.5 Ok\r\n"},
    {C, 6, "DATA\r\n"},
    {S, 37, "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 301,
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "To: bob@example.net\r\n"
     "From: alice@example.net\r\n"
     "Subject: tlsobs fixture auth-cleartext\r\n"
     "Message-Id: <auth-cleartext@client.example.org>\r\n"
     "X-Mailer: swaks v20201014.0 jetmore.org/john/code/swaks/\r\n"
     "\r\n"
     "Hello from tlsobs fixture auth-cleartext (AUTH in clear!).\r\n"
     "\r\n"
     "\r\n"
     ".\r\n"},
    {S, 37, "250 2.0.0 Ok: queued as CDE4DA72756\r\n"},
    {C, 6, "QUIT\r\n"},
    {S, 15, "221 2.0.0 Bye\r\n"},
};
static const struct step cap_starttls_tls13[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 10, "STARTTLS\r\n"},
    {S, 30, "220 2.0.0 Ready to start TLS\r\n"},
    {C, 24, "\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03\x8d\xf5\xe9q\xae&\x16\xa4~\xa1\x09\xae\x06"},
};
static const struct step cap_inject_command[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 16,
     "STARTTLS\r\n"
     "RSET\r\n"},
    {S, 30, "220 2.0.0 Ready to start TLS\r\n"},
    {C, 24,
     "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03L\xe6\xa5\xff\xe8\xcd\xf9"
     "4\xaf\xf5\xed\xf9#"},
};
static const struct step cap_rewrite_command[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 10, "XXXXXXXX\r\n"},
    {S, 41, "500 5.5.2 Error: command not recognized\r\n"},
    {C, 32, "MAIL FROM:<sender@example.org>\r\n"},
    {S, 14, "250 2.1.0 Ok\r\n"},
    {C, 27, "RCPT TO:<bob@example.net>\r\n"},
    {S, 14, "250 2.1.5 Ok\r\n"},
    {C, 6, "DATA\r\n"},
    {S, 37, "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 333,
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "To: bob@example.net\r\n"
     "From: sender@example.org\r\n"
     "Subject: tlsobs fixture mitm-rewrite-command\r\n"
     "Message-Id: <mitm-rewrite-command@client.example.org>\r\n"
     "X-Mailer: swaks v20201014.0 jetmore.org/john/code/swaks/\r\n"
     "\r\n"
     "Hello from tlsobs fixture mitm-rewrite-command (through a man in the middle).\r\n"
     "\r\n"
     "\r\n"
     ".\r\n"},
    {S, 37, "250 2.0.0 Ok: queued as 1D881A72763\r\n"},
    {C, 6, "QUIT\r\n"},
    {S, 15, "221 2.0.0 Bye\r\n"},
};
static const struct step cap_refused_454[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 10, "STARTTLS\r\n"},
    {S, 50, "454 4.7.0 TLS not available due to local problem\r\n"},
    {C, 32, "MAIL FROM:<sender@example.org>\r\n"},
    {S, 14, "250 2.1.0 Ok\r\n"},
    {C, 27, "RCPT TO:<bob@example.net>\r\n"},
    {S, 14, "250 2.1.5 Ok\r\n"},
    {C, 6, "DATA\r\n"},
    {S, 37, "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 337,
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "To: bob@example.net\r\n"
     "From: sender@example.org\r\n"
     "Subject: tlsobs fixture starttls-refused-454\r\n"
     "Message-Id: <starttls-refused-454@client.example.org>\r\n"
     "X-Mailer: swaks v20201014.0 jetmore.org/john/code/swaks/\r\n"
     "\r\n"
     "Hello from tlsobs fixture starttls-refused-454 (STARTTLS refused, sent in clear).\r\n"
     "\r\n"
     "\r\n"
     ".\r\n"},
    {S, 37, "250 2.0.0 Ok: queued as BB213A721FD\r\n"},
    {C, 6, "QUIT\r\n"},
    {S, 15, "221 2.0.0 Bye\r\n"},
};

/* ---- hand-written transcripts ---- */

static const char BODY_SENTINEL[] = "BODY-SENTINEL-7f3a9c";
static const char DATA_CONTENT[] = "Subject: x\r\n\r\n..stuffed line\r\n.x\r\nBODY-SENTINEL-7f3a9c\r\n.\r\n";

static const struct step t_data[] = {
    GREETING,
    EHLO,
    STEP(C, "mail from:<Alice@Example.ORG> SIZE=300 BODY=8BITMIME\r\n"),
    STEP(S, "250 2.1.0 Ok\r\n"),
    STEP(C, "RCPT TO:<bob@Example.net>\r\n"),
    STEP(S, "250 2.1.5 Ok\r\n"),
    STEP(C, "DATA\r\n"),
    STEP(S, "354 End data with <CR><LF>.<CR><LF>\r\n"),
    STEP(C, "Subject: x\r\n\r\n..stuffed line\r\n.x\r\nBODY-SENTINEL-7f3a9c\r\n.\r\n"),
    STEP(S, "250 2.0.0 Ok: queued as 1996DA725D2\r\n"),
    STEP(C, "QUIT\r\n"),
    STEP(S, "221 2.0.0 Bye\r\n"),
};

static const struct step t_auth_login[] = {
    GREETING,
    STEP(C, "ehlo client.example.org\r\n"),
    STEP(S, "250-mx1.example.net\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN\r\n250 8BITMIME\r\n"),
    STEP(C, "AUTH login\r\n"),
    STEP(S, "334 VXNlcm5hbWU6\r\n"),
    STEP(C, "YWxpY2VAZXhhbXBsZS5uZXQ=\r\n"),
    STEP(S, "334 UGFzc3dvcmQ6\r\n"),
    STEP(C, "c2VjcmV0LXBhc3N3b3Jk\r\n"),
    STEP(S, "235 2.7.0 Authentication successful\r\n"),
    STEP(C, "MAIL FROM:<alice@example.net>\r\n"),
    STEP(S, "250 2.1.0 Ok\r\n"),
};

static const struct step t_starttls[] = {
    GREETING,
    EHLO,
    STEP(C, "STARTTLS\r\n"),
    STEP(S, "220 2.0.0 Ready to start TLS\r\n\x16\x03\x03\x00\x7a\x02\x00"),
    STEP(C, "\x16\x03\x01\x00\xf4\x01\x00\x00\xf0"),
    STEP(S, "\x14\x03\x03\x00\x01\x01"),
};

static const struct step t_inject_held_tls[] = {
    GREETING,
    EHLO,
    STEP(C, "STARTTLS\r\nRSET\r\n\x16\x03\x01\x00\x05hello"),
    STEP(S, "220 2.0.0 Ready to start TLS\r\n"),
    STEP(C, "\x17\x03\x03"),
};

static const struct step t_early_client_hello[] = {
    GREETING,
    EHLO,
    STEP(C, "STARTTLS\r\n\x16\x03\x01\x00\x02"
            "ab"),
    STEP(S, "220 2.0.0 Ready to start TLS\r\n"),
};

static const struct step t_refused_then_clear[] = {
    GREETING,
    EHLO,
    STEP(C, "STARTTLS\r\nMAIL FROM:<sender@example.org>\r\n"),
    STEP(S, "454 4.7.0 TLS not available due to local problem\r\n250 2.1.0 Ok\r\n"),
    STEP(C, "RCPT TO:<bob@example.net>\r\n"),
    STEP(S, "250 2.1.5 Ok\r\n"),
};

static const struct step t_masked_command[] = {
    GREETING,
    EHLO,
    STEP(C, "XXXXXXXX\r\n"),
    STEP(S, "502 5.5.2 Error: command not recognized\r\n"),
    STEP(C, "MAIL FROM:<>\r\n"),
    STEP(S, "250 2.1.0 Ok\r\n"),
};

static const struct step t_pipelined_bdat[] = {
    GREETING,
    EHLO,
    STEP(C, "MAIL FROM:<a@one.example>\r\nRCPT TO:<x@dest.example>\r\nBDAT 5 LAST\r\nm1\r\n."
            "MAIL FROM:<a@one.example>\r\nRCPT TO:<y@other.example>\r\nBDAT 3 LAST\r\nm2."
            "MAIL FROM:<a@one.example>\r\nRCPT TO:<z@dest.example>\r\nBDAT 0 LAST\r\nQUIT\r\n"),
    STEP(S, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 5 bytes queued as A\r\n"
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 3 bytes queued as B\r\n"
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 0 bytes queued as C\r\n221 2.0.0 Bye\r\n"),
};

static const char BDAT_BINARY[] = "x\r\n.\r\nSTARTTLS\r\n\0\xff\x16\x03\x01QUIT\r\n";

static const struct step t_bdat_binary[] = {
    GREETING,
    EHLO,
    STEP(C, "MAIL FROM:<a@one.example>\r\nRCPT TO:<x@dest.example>\r\n"),
    STEP(S, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
    STEP(C, "BDAT 27 LAST\r\nx\r\n.\r\nSTARTTLS\r\n\0\xff\x16\x03\x01QUIT\r\n"),
    STEP(S, "250 2.0.0 Ok: 27 bytes queued\r\n"),
    STEP(C, "QUIT\r\n"),
    STEP(S, "221 2.0.0 Bye\r\n"),
};

static const struct step t_odd_lines[] = {
    STEP(S, "220-mx1.example.net ESMTP\n220-second\r\n221 mismatched\r\n"),
    STEP(C, "EH\0LO x\r\n"),
    STEP(S, "garbage\r\n500 5.5.2 Error: bad syntax\r\n"),
    STEP(C, "NOOP\n"),
    STEP(S, "250 2.0.0 Ok\r\n250 unasked\r\n"),
};

/* Every transcript above and the captures: split-feed and every-prefix run over all. */
static const struct transcript {
	const char *name;
	const struct step *steps;
	size_t n;
} transcripts[] = {
#define T(a)                                                                                                 \
	{                                                                                                    \
#a, a, N_STEPS(a)                                                                            \
	}
    T(t_data),
    T(t_auth_login),
    T(t_starttls),
    T(t_inject_held_tls),
    T(t_early_client_hello),
    T(t_refused_then_clear),
    T(t_masked_command),
    T(t_pipelined_bdat),
    T(t_bdat_binary),
    T(t_odd_lines),
    T(cap_mitm_mask),
    T(cap_pipelining),
    T(cap_bdat),
    T(cap_auth_cleartext),
    T(cap_starttls_tls13),
    T(cap_inject_command),
    T(cap_rewrite_command),
    T(cap_refused_454),
#undef T
};

static void assert_no_anomalies(const struct smtp_observation *obs)
{
	for (int a = 0; a < SMTP_ANOMALY_COUNT; a++)
		cr_assert_eq(obs->anomalies[a], 0, "anomaly %s counted %llu times", smtp_anomaly_str(a),
		             (unsigned long long)obs->anomalies[a]);
}

/* ---- server greeting and replies ---- */

Test(smtp_greeting, is_kept_as_the_banner_without_its_line_ending)
{
	struct outcome *o = RUN(t_data);
	cr_assert_eq(o->obs->banner_code, 220);
	cr_assert_str_eq(o->obs->banner, "220 mx1.example.net ESMTP Postfix");
	done(o);
}

Test(smtp_greeting, keeps_only_the_first_line_of_a_multiline_greeting)
{
	static const struct step t[] = {STEP(S, "220-mx.example ESMTP\r\n220-more text\r\n220 last\r\n"),
	                                STEP(C, "QUIT\r\n"), STEP(S, "221 bye\r\n")};
	struct outcome *o = RUN(t);
	cr_assert_str_eq(o->obs->banner, "220-mx.example ESMTP");
	cr_assert_eq(o->obs->last_reply_code, 221);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_reply, with_mismatched_codes_counts_a_multiline_mismatch)
{
	struct outcome *o = RUN(t_odd_lines);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_MULTILINE_MISMATCH], 1);
	cr_assert_eq(o->obs->banner_code, 220);
	done(o);
}

Test(smtp_reply, that_is_not_a_reply_line_counts_bad_reply)
{
	struct outcome *o = RUN(t_odd_lines);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_BAD_REPLY], 1);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_REPLY_WITHOUT_COMMAND], 1);
	cr_assert_eq(o->obs->last_reply_code, 250);
	done(o);
}

Test(smtp_reply, with_bare_lf_and_nul_is_accepted_and_counted)
{
	struct outcome *o = RUN(t_odd_lines);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_BARE_LF], 2);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_NUL_BYTE], 1);
	done(o);
}

Test(smtp_reply, of_three_digits_alone_completes)
{
	static const struct step t[] = {STEP(S, "220\r\n"), STEP(C, "NOOP\r\n"), STEP(S, "250\r\n")};
	struct outcome *o = RUN(t);
	cr_assert_eq(o->obs->banner_code, 220);
	cr_assert_eq(o->obs->last_reply_code, 250);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_reply, pairs_with_commands_in_order_under_pipelining)
{
	struct outcome *o = RUN(t_pipelined_bdat);
	cr_assert_eq(o->obs->transactions, 3);
	cr_assert_eq(o->obs->recipients, 3);
	cr_assert_eq(o->obs->rcpt_domain_count, 2);
	cr_assert_str_eq(o->obs->rcpt_domains[0], "dest.example");
	cr_assert_str_eq(o->obs->rcpt_domains[1], "other.example");
	cr_assert_eq(o->obs->data_bytes_in_clear, 8);
	cr_assert(o->obs->data_in_clear);
	cr_assert_eq(o->obs->last_reply_code, 221);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_reply, beyond_the_pipeline_limit_counts_an_overflow)
{
	struct outcome *o = calloc(1, sizeof *o);
	o->p = smtp_parser_new(NULL);
	for (int i = 0; i < SMTP_PIPELINE_MAX + 5; i++)
		feed_piece(o, C, (const uint8_t *)"NOOP\r\n", 6);
	const struct smtp_observation *obs = smtp_parser_observation(o->p);
	/* the greeting holds one place */
	cr_assert_eq(obs->anomalies[SMTP_ANOMALY_PIPELINE_OVERFLOW], 6);
	done(o);
}

/* ---- EHLO and capabilities ---- */

Test(smtp_ehlo, reply_fills_the_capabilities_after_the_first_line)
{
	struct outcome *o = RUN(t_data);
	const struct smtp_capabilities *c = &o->obs->caps;
	cr_assert(c->seen);
	cr_assert(c->pipelining && c->size && c->starttls && c->enhancedstatuscodes && c->eightbitmime &&
	          c->dsn && c->smtputf8 && c->chunking);
	cr_assert(!c->auth && !c->requiretls && !c->binarymime && !c->x_anonymoustls);
	cr_assert_eq(c->size_limit, 10240000);
	cr_assert_eq(c->count, 10);
	cr_assert_str_eq(c->lines[0], "PIPELINING");
	cr_assert_str_eq(c->lines[1], "SIZE 10240000");
	cr_assert_str_eq(c->lines[9], "CHUNKING");
	cr_assert_str_eq(c->masked_keyword, "");
	cr_assert_str_eq(c->raw,
	                 "250-mx1.example.net\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n250-ETRN\n"
	                 "250-STARTTLS\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250-SMTPUTF8\n"
	                 "250 CHUNKING");
	cr_assert_str_eq(o->obs->helo_verb, "EHLO");
	cr_assert_str_eq(o->obs->helo, "client.example.org");
	cr_assert_eq(o->obs->ehlo_reply_code, 250);
	cr_assert(!o->obs->ehlo_refused);
	done(o);
}

Test(smtp_ehlo, keywords_are_case_insensitive_and_auth_lists_each_mechanism_once)
{
	struct outcome *o = RUN(t_auth_login);
	const struct smtp_capabilities *c = &o->obs->caps;
	cr_assert(c->auth && c->eightbitmime);
	cr_assert_str_eq(c->auth_mechanisms, "PLAIN LOGIN");
	cr_assert_str_eq(c->lines[1], "AUTH=LOGIN");
	cr_assert_str_eq(o->obs->helo_verb, "EHLO");
	done(o);
}

Test(smtp_ehlo, reply_with_other_keywords_sets_their_flags)
{
	static const struct step t[] = {
	    GREETING, STEP(C, "LHLO lmtp.example\r\n"),
	    STEP(S, "250-mx\r\n250-starttls\r\n250-X-ANONYMOUSTLS\r\n250-REQUIRETLS\r\n250-BINARYMIME\r\n"
	            "250-XFORWARD NAME ADDR\r\n250-SIZE\r\n250 AUTH GSSAPI\r\n")};
	struct outcome *o = RUN(t);
	const struct smtp_capabilities *c = &o->obs->caps;
	cr_assert(c->starttls && c->x_anonymoustls && c->requiretls && c->binarymime && c->size && c->auth);
	cr_assert_eq(c->size_limit, 0);
	cr_assert_str_eq(c->auth_mechanisms, "GSSAPI");
	cr_assert_str_eq(c->masked_keyword, "", "XFORWARD is a real keyword");
	cr_assert_str_eq(o->obs->helo_verb, "LHLO");
	cr_assert_str_eq(o->obs->helo, "lmtp.example");
	done(o);
}

Test(smtp_ehlo, records_an_unknown_keyword_of_starttls_length_as_masked)
{
	struct outcome *o = RUN(cap_mitm_mask);
	cr_assert_str_eq(o->obs->caps.masked_keyword, "XXXXXXXA");
	cr_assert(!o->obs->caps.starttls);
	cr_assert_str_eq(o->obs->caps.lines[4], "XXXXXXXA");
	done(o);
}

Test(smtp_ehlo, in_clear_again_replaces_the_capabilities)
{
	static const struct step t[] = {GREETING, EHLO, STEP(C, "RSET\r\nEHLO again.example\r\n"),
	                                STEP(S, "250 2.0.0 Ok\r\n250-mx1.example.net\r\n250 8BITMIME\r\n")};
	struct outcome *o = RUN(t);
	cr_assert_eq(o->obs->caps.count, 1);
	cr_assert(!o->obs->caps.starttls);
	cr_assert(o->obs->caps.eightbitmime);
	cr_assert_str_eq(o->obs->caps.raw, "250-mx1.example.net\n250 8BITMIME");
	cr_assert_str_eq(o->obs->helo, "again.example");
	done(o);
}

Test(smtp_ehlo, refused_with_5xx_then_helo_is_recorded)
{
	static const struct step t[] = {GREETING, STEP(C, "EHLO client.example.org\r\n"),
	                                STEP(S, "502 5.5.2 Error: command not recognized\r\n"),
	                                STEP(C, "HELO client.example.org\r\n"),
	                                STEP(S, "250 mx1.example.net\r\n")};
	struct outcome *o = RUN(t);
	cr_assert(o->obs->ehlo_refused);
	cr_assert_eq(o->obs->ehlo_reply_code, 502);
	cr_assert_str_eq(o->obs->helo_verb, "HELO");
	cr_assert(!o->obs->caps.seen);
	done(o);
}

Test(smtp_ehlo, with_more_capabilities_than_kept_counts_an_anomaly)
{
	char reply[4096] = "250-mx\r\n";
	for (int i = 0; i < SMTP_MAX_CAPABILITIES + 3; i++)
		snprintf(reply + strlen(reply), sizeof reply - strlen(reply), "250-X-CAP-%d\r\n", i);
	snprintf(reply + strlen(reply), sizeof reply - strlen(reply), "250 STARTTLS\r\n");
	struct step t[] = {GREETING, STEP(C, "EHLO c\r\n"), {S, strlen(reply), reply}};
	struct outcome *o = run(t, N_STEPS(t), NULL);
	cr_assert_eq(o->obs->caps.count, SMTP_MAX_CAPABILITIES);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_TOO_MANY_CAPABILITIES], 4);
	cr_assert(o->obs->caps.starttls, "keywords past the cap are still understood");
	cr_assert_lt(strlen(o->obs->caps.raw), SMTP_EHLO_RAW_MAX);
	done(o);
}

/* ---- envelope ---- */

Test(smtp_mail, keeps_only_the_lowercased_domain_of_the_sender)
{
	struct outcome *o = RUN(t_data);
	cr_assert_str_eq(o->obs->mail_from_domain, "example.org");
	cr_assert_eq(o->obs->transactions, 1);
	cr_assert_eq(o->obs->recipients, 1);
	cr_assert_str_eq(o->obs->rcpt_domains[0], "example.net");
	cr_assert(!observation_holds(o->obs, "Alice"));
	cr_assert(!observation_holds(o->obs, "bob"));
	cr_assert(!o->obs->requiretls_in_clear);
	done(o);
}

Test(smtp_mail, from_the_null_sender_has_an_empty_domain)
{
	struct outcome *o = RUN(t_masked_command);
	cr_assert_eq(o->obs->transactions, 1);
	cr_assert_str_eq(o->obs->mail_from_domain, "");
	done(o);
}

Test(smtp_mail, keeps_local_parts_when_asked)
{
	struct smtp_options opt = {.keep_local_parts = true};
	struct outcome *o = run(t_data, N_STEPS(t_data), &opt);
	cr_assert_str_eq(o->obs->mail_from_domain, "Alice@example.org");
	cr_assert_str_eq(o->obs->rcpt_domains[0], "bob@example.net");
	done(o);
}

Test(smtp_mail, with_requiretls_keeps_the_line_without_its_local_part)
{
	static const struct step t[] = {
	    GREETING, EHLO, STEP(C, "MAIL FROM:<secret.user@Example.org> SIZE=100 requiretls SMTPUTF8\r\n"),
	    STEP(S, "250 2.1.0 Ok\r\n")};
	struct outcome *o = RUN(t);
	cr_assert(o->obs->requiretls_in_clear);
	cr_assert_str_eq(o->obs->mail_from_line,
	                 "MAIL FROM:<\xE2\x80\xA6@Example.org> SIZE=100 requiretls SMTPUTF8");
	cr_assert(!observation_holds(o->obs, "secret.user"));
	done(o);
}

Test(smtp_mail, with_requiretls_and_kept_local_parts_keeps_the_whole_line)
{
	static const struct step t[] = {GREETING, STEP(C, "MAIL FROM:<u@example.org> REQUIRETLS\r\n")};
	struct smtp_options opt = {.keep_local_parts = true};
	struct outcome *o = run(t, N_STEPS(t), &opt);
	cr_assert_str_eq(o->obs->mail_from_line, "MAIL FROM:<u@example.org> REQUIRETLS");
	done(o);
}

Test(smtp_mail, with_a_requiretls_address_but_no_parameter_is_not_requiretls)
{
	static const struct step t[] = {GREETING, STEP(C, "MAIL FROM:<REQUIRETLS@example.org> SIZE=1\r\n")};
	struct outcome *o = RUN(t);
	cr_assert(!o->obs->requiretls_in_clear);
	done(o);
}

Test(smtp_mail, with_source_route_and_spaces_still_finds_the_domain)
{
	static const struct step t[] = {GREETING,
	                                STEP(C, "MAIL FROM: <@relay.example:user@Far.Example>\r\n")};
	struct outcome *o = RUN(t);
	cr_assert_str_eq(o->obs->mail_from_domain, "far.example");
	done(o);
}

Test(smtp_rcpt, keeps_distinct_domains_up_to_the_cap_then_counts_an_anomaly)
{
	char client[8192] = "";
	for (int i = 0; i < SMTP_MAX_RCPT_DOMAINS + 2; i++)
		snprintf(client + strlen(client), sizeof client - strlen(client),
		         "RCPT TO:<u@d%d.example>\r\nRCPT TO:<v@D%d.EXAMPLE>\r\n", i, i);
	struct step t[] = {GREETING, {C, strlen(client), client}};
	struct outcome *o = run(t, N_STEPS(t), NULL);
	cr_assert_eq(o->obs->recipients, 2 * (SMTP_MAX_RCPT_DOMAINS + 2));
	cr_assert_eq(o->obs->rcpt_domain_count, SMTP_MAX_RCPT_DOMAINS);
	cr_assert_str_eq(o->obs->rcpt_domains[3], "d3.example");
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_TOO_MANY_DOMAINS], 4);
	done(o);
}

/* ---- message content ---- */

Test(smtp_data, content_is_skipped_up_to_the_lone_dot_line)
{
	struct outcome *o = RUN(t_data);
	cr_assert(o->obs->data_in_clear);
	cr_assert_eq(o->obs->data_bytes_in_clear, strlen(DATA_CONTENT) - 3);
	cr_assert_eq(o->obs->last_reply_code, 221, "QUIT after the dot is a command again");
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_data, content_never_appears_in_the_observation)
{
	for (size_t i = 0; i < N_STEPS(transcripts); i++) {
		struct outcome *o = run(transcripts[i].steps, transcripts[i].n, NULL);
		cr_assert(!observation_holds(o->obs, BODY_SENTINEL), "%s", transcripts[i].name);
		cr_assert(!observation_holds(o->obs, "Hello from tlsobs"), "%s", transcripts[i].name);
		cr_assert(!observation_holds(o->obs, "stuffed"), "%s", transcripts[i].name);
		done(o);
	}
}

Test(smtp_data, end_line_split_across_chunks_is_found)
{
	static const struct step t[] = {
	    GREETING,       STEP(C, "DATA\r\n"),   STEP(S, "354 go\r\n"),
	    STEP(C, "a\r"), STEP(C, "\n"),         STEP(C, "."),
	    STEP(C, "\r"),  STEP(C, "\nQUIT\r\n"), STEP(S, "250 queued\r\n221 bye\r\n")};
	struct outcome *o = RUN(t);
	cr_assert_eq(o->obs->data_bytes_in_clear, 3);
	cr_assert_eq(o->obs->last_reply_code, 221);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_data, refused_leaves_the_following_lines_as_commands)
{
	static const struct step t[] = {GREETING, STEP(C, "DATA\r\n"),
	                                STEP(S, "554 5.5.1 Error: no valid recipients\r\n"),
	                                STEP(C, "MAIL FROM:<a@b.example>\r\n"), STEP(S, "250 2.1.0 Ok\r\n")};
	struct outcome *o = RUN(t);
	cr_assert(!o->obs->data_in_clear);
	cr_assert_eq(o->obs->transactions, 1);
	cr_assert_eq(o->obs->last_reply_code, 250);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_data, content_sent_before_a_refusal_is_skipped_and_counted_as_an_anomaly)
{
	static const struct step t[] = {GREETING, STEP(C, "DATA\r\nSubject: too early\r\n"),
	                                STEP(S, "554 5.5.1 Error: no valid recipients\r\n"),
	                                STEP(C, "RSET\r\n"), STEP(S, "250 2.0.0 Ok\r\n")};
	struct outcome *o = RUN(t);
	cr_assert(!o->obs->data_in_clear);
	cr_assert_eq(o->obs->data_bytes_in_clear, 0);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_CONTENT_BEFORE_354], 1);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_REPLY_WITHOUT_COMMAND], 0);
	done(o);
}

Test(smtp_data, pipelined_before_the_354_is_counted_once_it_arrives)
{
	static const struct step t[] = {
	    GREETING,
	    STEP(C, "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nm1\r\n.\r\n"
	            "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nm2\r\n.\r\n"
	            "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nm3\r\n.\r\nQUIT\r\n"),
	    STEP(S, "250 Ok\r\n250 Ok\r\n354 go\r\n250 queued\r\n250 Ok\r\n250 Ok\r\n354 go\r\n250 queued\r\n"
	            "250 Ok\r\n250 Ok\r\n354 go\r\n250 queued\r\n221 Bye\r\n")};
	struct outcome *o = RUN(t);
	cr_assert_eq(o->obs->transactions, 3);
	cr_assert(o->obs->data_in_clear);
	cr_assert_eq(o->obs->data_bytes_in_clear, 12);
	cr_assert_eq(o->obs->last_reply_code, 221);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_data, dot_line_after_a_bare_lf_ends_the_message_and_is_counted)
{
	static const struct step t[] = {GREETING, STEP(C, "DATA\r\n"), STEP(S, "354 go\r\n"),
	                                STEP(C, "smuggled\n.\r\nQUIT\r\n")};
	struct outcome *o = RUN(t);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_BARE_LF], 1);
	cr_assert_eq(o->obs->data_bytes_in_clear, 9);
	done(o);
}

Test(smtp_data, of_one_megabyte_is_linear_fed_by_byte_or_by_64k)
{
	static const char head[] = "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n";
	size_t lines = 13400, body_len = lines * 78;
	size_t total = strlen(head) + body_len + 3;
	uint8_t *client = malloc(total);
	memcpy(client, head, strlen(head));
	uint8_t *body = client + strlen(head);
	for (size_t i = 0; i < lines; i++) {
		memset(body + i * 78, 'a' + (int)(i % 26), 76);
		if (i % 100 == 0)
			body[i * 78] = '.'; /* stuffed dots along the way */
		memcpy(body + i * 78 + 76, "\r\n", 2);
	}
	memcpy(body + body_len, ".\r\n", 3);
	size_t chunks[] = {1, 65536};
	double seconds[2];
	for (int k = 0; k < 2; k++) {
		struct smtp_parser *p = smtp_parser_new(NULL);
		size_t used;
		smtp_parser_feed(p, S, (const uint8_t *)"220 mx\r\n", 8, &used);
		smtp_parser_feed(p, C, client, strlen(head), &used);
		smtp_parser_feed(p, S, (const uint8_t *)"250 ok\r\n250 ok\r\n354 go\r\n", 24, &used);
		clock_t t0 = clock();
		for (size_t off = strlen(head); off < total; off += chunks[k]) {
			size_t n = total - off < chunks[k] ? total - off : chunks[k];
			cr_assert_eq(smtp_parser_feed(p, C, client + off, n, &used), SMTP_CONTINUE);
		}
		seconds[k] = (double)(clock() - t0) / CLOCKS_PER_SEC;
		smtp_parser_feed(p, S, (const uint8_t *)"250 queued\r\n", 12, &used);
		const struct smtp_observation *obs = smtp_parser_observation(p);
		cr_assert_eq(obs->data_bytes_in_clear, body_len);
		cr_assert_eq(obs->last_reply_code, 250);
		assert_no_anomalies(obs);
		smtp_parser_free(p);
	}
	cr_assert_lt(seconds[0], 5.0, "1 MB by single bytes took %.2f s", seconds[0]);
	free(client);
}

Test(smtp_bdat, skips_exactly_the_chunk_even_when_it_looks_like_commands)
{
	struct outcome *o = RUN(t_bdat_binary);
	cr_assert_eq(sizeof BDAT_BINARY - 1, 27);
	cr_assert(o->obs->data_in_clear);
	cr_assert_eq(o->obs->data_bytes_in_clear, 27);
	cr_assert(!o->obs->starttls_attempted, "STARTTLS inside a chunk is data");
	cr_assert_eq(o->obs->last_reply_code, 221);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_bdat, without_a_valid_size_counts_an_anomaly)
{
	static const struct step t[] = {GREETING,
	                                STEP(C, "BDAT\r\nBDAT x12 LAST\r\nBDAT 99999999999999999999\r\n"),
	                                STEP(S, "501 a\r\n501 b\r\n501 c\r\n")};
	struct outcome *o = RUN(t);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_BAD_BDAT], 3);
	cr_assert(!o->obs->data_in_clear);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_REPLY_WITHOUT_COMMAND], 0);
	done(o);
}

/* ---- AUTH ---- */

Test(smtp_auth, keeps_only_the_mechanism_of_a_plain_initial_response)
{
	struct outcome *o = RUN(cap_auth_cleartext);
	cr_assert(o->obs->auth_in_clear);
	cr_assert_str_eq(o->obs->auth_mechanism, "PLAIN");
	cr_assert(!observation_holds(o->obs, "AGFsaWNlQGV4YW1wbGUubmV0AGZpeHR1cmUtcGFzc3dvcmQ="));
	cr_assert(!observation_holds(o->obs, "AGFsaWNl"));
	cr_assert(!observation_holds(o->obs, "fixture-password"));
	cr_assert_eq(o->obs->transactions, 1);
	done(o);
}

Test(smtp_auth, skips_sasl_responses_while_the_server_answers_334)
{
	struct outcome *o = RUN(t_auth_login);
	cr_assert_str_eq(o->obs->auth_mechanism, "LOGIN");
	cr_assert(o->obs->auth_in_clear);
	cr_assert(!observation_holds(o->obs, "YWxpY2VAZXhhbXBsZS5uZXQ="));
	cr_assert(!observation_holds(o->obs, "c2VjcmV0LXBhc3N3b3Jk"));
	cr_assert_eq(o->obs->transactions, 1, "MAIL after 235 is a command again");
	cr_assert_eq(o->obs->last_reply_code, 250);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_auth, with_an_eight_character_response_is_not_a_masked_command)
{
	static const struct step t[] = {GREETING,
	                                STEP(C, "AUTH LOGIN\r\n"),
	                                STEP(S, "334 VXNlcm5hbWU6\r\n"),
	                                STEP(C, "dXNlcg==\r\n"),
	                                STEP(S, "334 UGFzc3dvcmQ6\r\n"),
	                                STEP(C, "*\r\n"),
	                                STEP(S, "501 5.7.0 Authentication aborted\r\n")};
	struct outcome *o = RUN(t);
	cr_assert(!o->obs->starttls_command_masked);
	cr_assert(!observation_holds(o->obs, "dXNlcg=="));
	done(o);
}

Test(smtp_auth, external_is_not_auth_in_clear)
{
	static const struct step t[] = {GREETING, STEP(C, "AUTH EXTERNAL =\r\n"), STEP(S, "235 ok\r\n")};
	struct outcome *o = RUN(t);
	cr_assert(!o->obs->auth_in_clear);
	cr_assert_str_eq(o->obs->auth_mechanism, "EXTERNAL");
	done(o);
}

/* ---- STARTTLS ---- */

Test(smtp_starttls, hands_off_at_the_byte_after_the_220_line)
{
	struct outcome *o = RUN(t_starttls);
	size_t server_clear = 35 + strlen(POSTFIX_EHLO) + strlen("220 2.0.0 Ready to start TLS\r\n");
	cr_assert(o->obs->starttls_attempted);
	cr_assert(o->obs->tls_started);
	cr_assert_str_eq(o->obs->starttls_command, "STARTTLS");
	cr_assert_eq(o->obs->starttls_reply_code, 220);
	cr_assert_str_eq(o->obs->starttls_reply, "220 2.0.0 Ready to start TLS");
	cr_assert(o->tls[S] && o->tls[C]);
	cr_assert_eq(o->tls_at[S], server_clear);
	cr_assert_eq(o->tls_at[C], strlen("EHLO client.example.org\r\nSTARTTLS\r\n"));
	cr_assert_eq(o->held_len, 0);
	cr_assert(!o->obs->command_injection);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_starttls, refuses_both_directions_once_tls_started)
{
	struct outcome *o = RUN(t_starttls);
	size_t used = 99;
	cr_assert_eq(smtp_parser_feed(o->p, C, (const uint8_t *)"QUIT\r\n", 6, &used), SMTP_TLS_STARTS);
	cr_assert_eq(used, 0);
	cr_assert_eq(smtp_parser_feed(o->p, S, (const uint8_t *)"221 x\r\n", 7, &used), SMTP_TLS_STARTS);
	cr_assert_eq(used, 0);
	cr_assert(!smtp_parser_lost_sync(o->p));
	smtp_parser_gap(o->p, C, 10);
	cr_assert(!smtp_parser_lost_sync(o->p), "a gap inside TLS is not the SMTP parser's");
	done(o);
}

Test(smtp_starttls, of_a_real_session_hands_over_the_client_hello)
{
	struct outcome *o = RUN(cap_starttls_tls13);
	cr_assert(o->obs->tls_started);
	cr_assert_eq(o->tls_at[C], 25 + 10);
	cr_assert_eq(o->tls_at[S], 35 + 166 + 30);
	cr_assert_eq(o->held_len, 0);
	cr_assert_eq(o->obs->transactions, 0, "the message went inside TLS");
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_starttls, with_a_pipelined_command_reports_the_injection)
{
	struct outcome *o = RUN(cap_inject_command);
	cr_assert(o->obs->tls_started);
	cr_assert(o->obs->command_injection);
	cr_assert_str_eq(o->obs->injected_command, "RSET\\r\\n");
	cr_assert_eq(o->held_len, 0);
	cr_assert(o->tls[C]);
	cr_assert_eq(o->tls_at[C], 25 + 16, "the ClientHello after the 220 is TLS");
	done(o);
}

Test(smtp_starttls, with_injection_and_tls_held_hands_over_only_the_tls_part)
{
	struct outcome *o = RUN(t_inject_held_tls);
	cr_assert(o->obs->command_injection);
	cr_assert(strstr(o->obs->injected_command, "RSET") != NULL);
	cr_assert_str_eq(o->obs->injected_command, "RSET\\r\\n");
	cr_assert_eq(o->held_len, 10);
	cr_assert(memcmp(o->held, "\x16\x03\x01\x00\x05hello", 10) == 0);
	cr_assert_eq(o->obs->transactions, 0);
	done(o);
}

Test(smtp_starttls, with_a_client_hello_sent_early_hands_it_all_over)
{
	struct outcome *o = RUN(t_early_client_hello);
	cr_assert(!o->obs->command_injection);
	cr_assert_eq(o->held_len, 7);
	cr_assert(memcmp(o->held,
	                 "\x16\x03\x01\x00\x02"
	                 "ab",
	                 7) == 0);
	const uint8_t *again;
	size_t again_len = 1;
	smtp_parser_take_held(o->p, &again, &again_len);
	cr_assert_eq(again_len, 0, "held bytes are handed over once");
	done(o);
}

Test(smtp_starttls, injection_evidence_is_escaped_and_bounded)
{
	char client[2048] = "STARTTLS\r\n";
	for (int i = 0; i < 100; i++)
		snprintf(client + strlen(client), sizeof client - strlen(client), "NOOP\t\x01\r\n");
	struct step t[] = {GREETING, {C, strlen(client), client}, STEP(S, "220 go\r\n")};
	struct outcome *o = run(t, N_STEPS(t), NULL);
	cr_assert(o->obs->command_injection);
	cr_assert_lt(strlen(o->obs->injected_command), SMTP_EVIDENCE_MAX);
	cr_assert_eq(strncmp(o->obs->injected_command, "NOOP\\x09\\x01\\r\\n", 16), 0);
	cr_assert_eq(o->held_len, 0);
	done(o);
}

Test(smtp_starttls, refused_parses_the_held_bytes_as_commands)
{
	struct outcome *o = RUN(t_refused_then_clear);
	cr_assert(o->obs->starttls_attempted);
	cr_assert(!o->obs->tls_started);
	cr_assert_eq(o->obs->starttls_reply_code, 454);
	cr_assert_str_eq(o->obs->starttls_reply, "454 4.7.0 TLS not available due to local problem");
	cr_assert(o->obs->commands_after_starttls_reply);
	cr_assert_eq(o->obs->transactions, 1);
	cr_assert_eq(o->obs->recipients, 1);
	cr_assert_eq(o->obs->last_reply_code, 250);
	cr_assert(!o->tls[C] && !o->tls[S]);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_starttls, refused_in_a_real_session_lets_the_client_go_on_in_clear)
{
	struct outcome *o = RUN(cap_refused_454);
	cr_assert_eq(o->obs->starttls_reply_code, 454);
	cr_assert(o->obs->commands_after_starttls_reply);
	cr_assert(o->obs->data_in_clear);
	cr_assert_eq(o->obs->data_bytes_in_clear, 337 - 3);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_starttls, x_anonymoustls_is_starttls_too)
{
	static const struct step t[] = {GREETING, STEP(C, "X-ANONYMOUSTLS\r\n"), STEP(S, "220 go ahead\r\n")};
	struct outcome *o = RUN(t);
	cr_assert(o->obs->starttls_attempted && o->obs->tls_started);
	cr_assert_str_eq(o->obs->starttls_command, "X-ANONYMOUSTLS");
	done(o);
}

Test(smtp_starttls, held_bytes_past_the_cap_count_an_overflow)
{
	size_t n = SMTP_HELD_MAX + 100;
	char *big = malloc(n);
	memset(big, 'A', n);
	struct step t[] = {GREETING, STEP(C, "STARTTLS\r\n"), {C, n, big}, STEP(S, "220 go\r\n")};
	struct outcome *o = run(t, N_STEPS(t), NULL);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_HELD_OVERFLOW], 1);
	cr_assert(o->obs->command_injection);
	cr_assert_lt(strlen(o->obs->injected_command), SMTP_EVIDENCE_MAX);
	done(o);
	free(big);
}

Test(smtp_starttls, masked_verb_answered_502_is_recorded)
{
	struct outcome *o = RUN(t_masked_command);
	cr_assert(o->obs->starttls_command_masked);
	cr_assert_str_eq(o->obs->masked_command, "XXXXXXXX");
	cr_assert_eq(o->obs->masked_command_reply, 502);
	cr_assert(!o->obs->starttls_attempted);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_starttls, masked_verb_in_a_real_session_is_recorded)
{
	struct outcome *o = RUN(cap_rewrite_command);
	cr_assert(o->obs->caps.starttls);
	cr_assert(o->obs->starttls_command_masked);
	cr_assert_str_eq(o->obs->masked_command, "XXXXXXXX");
	cr_assert_eq(o->obs->masked_command_reply, 500);
	cr_assert(o->obs->data_in_clear);
	done(o);
}

Test(smtp_command, verbs_are_case_insensitive_and_unknown_verbs_are_answered)
{
	static const struct step t[] = {
	    GREETING,
	    STEP(C, "hElO c.example\r\nNoOp\r\nvrfy x\r\nEXPN y\r\nHELP\r\nXUNKNOWNVERB\r\n"
	            "rset\r\nstarttls\r\n"),
	    STEP(S, "250 a\r\n250 b\r\n252 c\r\n502 d\r\n214 e\r\n500 f\r\n250 g\r\n454 h\r\n")};
	struct outcome *o = RUN(t);
	cr_assert_str_eq(o->obs->helo_verb, "HELO");
	cr_assert(!o->obs->starttls_command_masked);
	cr_assert(o->obs->starttls_attempted);
	cr_assert_str_eq(o->obs->starttls_command, "starttls");
	cr_assert_eq(o->obs->starttls_reply_code, 454);
	assert_no_anomalies(o->obs);
	done(o);
}

/* ---- line limits, gaps ---- */

Test(smtp_line, over_long_is_counted_and_the_next_line_parsed)
{
	char client[512] = "NOOP ";
	memset(client + 5, 'a', 200);
	snprintf(client + 205, sizeof client - 205, "\r\nMAIL FROM:<a@b.example>\r\n");
	char server[512] = "250 ";
	memset(server + 4, 'b', 200);
	snprintf(server + 204, sizeof server - 204, "\r\n250 ok\r\n");
	struct step t[] = {GREETING, {C, strlen(client), client}, {S, strlen(server), server}};
	struct smtp_options opt = {.max_line = 64};
	struct outcome *o = run(t, N_STEPS(t), &opt);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_LINE_TOO_LONG], 2);
	cr_assert_eq(o->obs->transactions, 1);
	cr_assert_eq(o->obs->last_reply_code, 250);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_REPLY_WITHOUT_COMMAND], 0);
	done(o);
}

Test(smtp_gap, stops_parsing_that_direction_and_reports_lost_sync)
{
	struct outcome *o = calloc(1, sizeof *o);
	o->p = smtp_parser_new(NULL);
	feed_piece(o, S, (const uint8_t *)"220 mx\r\n", 8);
	cr_assert(!smtp_parser_lost_sync(o->p));
	smtp_parser_gap(o->p, C, 100);
	cr_assert(smtp_parser_lost_sync(o->p));
	feed_piece(o, C, (const uint8_t *)"MAIL FROM:<a@b.example>\r\n", 25);
	cr_assert_eq(smtp_parser_observation(o->p)->transactions, 0);
	feed_piece(o, S, (const uint8_t *)"250 ok\r\n", 8);
	cr_assert_eq(smtp_parser_observation(o->p)->last_reply_code, 250);
	smtp_parser_gap(o->p, S, 1);
	feed_piece(o, S, (const uint8_t *)"421 bye\r\n", 9);
	cr_assert_eq(smtp_parser_observation(o->p)->last_reply_code, 250);
	done(o);
}

Test(smtp_anomaly, every_kind_has_a_name)
{
	for (int a = 0; a < SMTP_ANOMALY_COUNT; a++)
		cr_assert_str_neq(smtp_anomaly_str(a), "unknown");
	cr_assert_str_eq(smtp_anomaly_str(SMTP_ANOMALY_COUNT), "unknown");
	cr_assert_str_eq(smtp_anomaly_str(SMTP_ANOMALY_BARE_LF), "bare_lf");
}

/* ---- real captures ---- */

Test(smtp_capture, of_a_pipelined_session_sees_three_messages)
{
	struct outcome *o = RUN(cap_pipelining);
	cr_assert_eq(o->obs->transactions, 3);
	cr_assert_eq(o->obs->recipients, 3);
	cr_assert(o->obs->data_in_clear);
	cr_assert_eq(o->obs->last_reply_code, 221);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_capture, of_a_bdat_session_counts_both_chunks)
{
	struct outcome *o = RUN(cap_bdat);
	cr_assert_eq(o->obs->data_bytes_in_clear, 316);
	cr_assert(o->obs->caps.chunking);
	cr_assert_eq(o->obs->last_reply_code, 221);
	assert_no_anomalies(o->obs);
	done(o);
}

Test(smtp_capture, of_a_masked_session_sees_the_message_in_clear)
{
	struct outcome *o = RUN(cap_mitm_mask);
	cr_assert(o->obs->data_in_clear);
	cr_assert_eq(o->obs->data_bytes_in_clear, 300 - 3);
	cr_assert_str_eq(o->obs->mail_from_domain, "example.org");
	assert_no_anomalies(o->obs);
	done(o);
}

/* ---- incremental parsing ---- */

Test(smtp_split_feed, gives_the_same_observation_whole_by_byte_and_at_random_cuts)
{
	struct smtp_options opts[] = {{0}, {.keep_local_parts = true, .max_line = 40}};
	for (size_t k = 0; k < N_STEPS(opts); k++) {
		for (size_t i = 0; i < N_STEPS(transcripts); i++) {
			const struct transcript *t = &transcripts[i];
			struct outcome *whole = run_prefix(t->steps, t->n, &opts[k], CUT_WHOLE, 0, SIZE_MAX);
			struct outcome *bytes = run_prefix(t->steps, t->n, &opts[k], CUT_BYTES, 0, SIZE_MAX);
			assert_same_outcome(whole, bytes, t->name);
			done(bytes);
			for (uint64_t seed = 1; seed <= 20; seed++) {
				struct outcome *r =
				    run_prefix(t->steps, t->n, &opts[k], CUT_RANDOM, seed, SIZE_MAX);
				assert_same_outcome(whole, r, t->name);
				done(r);
			}
			done(whole);
		}
	}
}

Test(smtp_every_prefix, of_every_transcript_is_handled)
{
	for (size_t i = 0; i < N_STEPS(transcripts); i++) {
		const struct transcript *t = &transcripts[i];
		size_t total = transcript_bytes(t->steps, t->n);
		for (size_t k = 0; k <= total; k++) {
			struct outcome *o = run_prefix(t->steps, t->n, NULL, CUT_WHOLE, 0, k);
			assert_strings_terminated(o->obs);
			cr_assert_leq(o->obs->rcpt_domain_count, SMTP_MAX_RCPT_DOMAINS);
			cr_assert_leq(o->obs->caps.count, SMTP_MAX_CAPABILITIES);
			done(o);
		}
	}
}
