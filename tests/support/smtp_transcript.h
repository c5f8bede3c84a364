/*
 * smtp_transcript.h: SMTP transcripts fed to parsers/smtp.h (parsers layer).
 *
 * A transcript is the list of chunks each side sent, in the order a span port
 * saw them ({C, ...} from the client, {S, ...} from the server). run() feeds one
 * to a fresh parser, whole, byte by byte or cut at random places, stops feeding
 * a direction at SMTP_TLS_STARTS and takes the held client bytes then. Every
 * chunk is fed as an exact-size heap copy, so ASan catches any read past it.
 */
#ifndef TLSOBS_SMTP_TRANSCRIPT_H
#define TLSOBS_SMTP_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/smtp.h"

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

/* A named transcript, for tests that run over many. */
struct transcript {
	const char *name;
	const struct step *steps;
	size_t n;
};

/* The greeting and EHLO exchange of the Postfix in the fixture captures. */
#define POSTFIX_EHLO                                                                                         \
	"250-mx1.example.net\r\n"                                                                            \
	"250-PIPELINING\r\n"                                                                                 \
	"250-SIZE 10240000\r\n"                                                                              \
	"250-VRFY\r\n"                                                                                       \
	"250-ETRN\r\n"                                                                                       \
	"250-STARTTLS\r\n"                                                                                   \
	"250-ENHANCEDSTATUSCODES\r\n"                                                                        \
	"250-8BITMIME\r\n"                                                                                   \
	"250-DSN\r\n"                                                                                        \
	"250-SMTPUTF8\r\n"                                                                                   \
	"250 CHUNKING\r\n"
#define GREETING STEP(S, "220 mx1.example.net ESMTP Postfix\r\n")
#define EHLO STEP(C, "EHLO client.example.org\r\n"), STEP(S, POSTFIX_EHLO)

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

/* Offers one chunk to one direction of o->p, unless that direction went over to TLS. */
void feed_chunk(struct outcome *o, enum smtp_dir dir, const uint8_t *b, size_t n);
/* Feeds the first `limit` bytes of a transcript (SIZE_MAX: all of it). Free with done(). */
struct outcome *run_prefix(const struct step *steps, size_t n, const struct smtp_options *opt, enum cut cut,
                           uint64_t seed, size_t limit);
struct outcome *run(const struct step *steps, size_t n, const struct smtp_options *opt);
#define RUN(steps) run((steps), N_STEPS(steps), NULL)
void done(struct outcome *o);

size_t transcript_bytes(const struct step *steps, size_t n);
/* True when `needle` occurs anywhere in the observation's bytes, padding and all. */
bool observation_holds(const struct smtp_observation *obs, const char *needle);
/* Every text field ends with a NUL inside its array. */
void assert_strings_terminated(const struct smtp_observation *o);
void assert_same_outcome(const struct outcome *a, const struct outcome *b, const char *what);
void assert_no_anomalies(const struct smtp_observation *obs);

#endif
