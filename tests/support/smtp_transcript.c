/*
 * smtp_transcript.c: feeds SMTP transcripts to the parser and checks the
 * outcome, for the tests/parsers/test_smtp*.c tests; see the header.
 */
#include "smtp_transcript.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

void feed_chunk(struct outcome *o, enum smtp_dir dir, const uint8_t *b, size_t n)
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
		feed_chunk(o, s->dir, b + off, n);
		off += n;
	}
}

/* Feeds the first `limit` bytes of a transcript (SIZE_MAX: all of it). Free with done(). */
struct outcome *run_prefix(const struct step *steps, size_t n, const struct smtp_options *opt, enum cut cut,
                           uint64_t seed, size_t limit)
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

struct outcome *run(const struct step *steps, size_t n, const struct smtp_options *opt)
{
	return run_prefix(steps, n, opt, CUT_WHOLE, 0, SIZE_MAX);
}

void done(struct outcome *o)
{
	smtp_parser_free(o->p);
	free(o);
}

size_t transcript_bytes(const struct step *steps, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += steps[i].len;
	return total;
}

/* True when `needle` occurs anywhere in the observation's bytes, padding and all. */
bool observation_holds(const struct smtp_observation *obs, const char *needle)
{
	return memmem(obs, sizeof *obs, needle, strlen(needle)) != NULL;
}

/* Every text field ends with a NUL inside its array. */
void assert_strings_terminated(const struct smtp_observation *o)
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

void assert_same_outcome(const struct outcome *a, const struct outcome *b, const char *what)
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

void assert_no_anomalies(const struct smtp_observation *obs)
{
	for (int a = 0; a < SMTP_ANOMALY_COUNT; a++)
		cr_assert_eq(obs->anomalies[a], 0, "anomaly %s counted %llu times", smtp_anomaly_str(a),
		             (unsigned long long)obs->anomalies[a]);
}
