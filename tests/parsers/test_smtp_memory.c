/*
 * test_smtp_memory.c: what the SMTP parser holds as a session goes (issue 16,
 * "small idle flows"): a parser that only saw the banner is small; line
 * buffers, the queue of pipelined commands, the capabilities and the STARTTLS
 * hold grow on demand, never past their caps (the same anomalies counted as
 * before), and are given back when their phase is over. smtp_parser_memory()
 * is what the flow memcap is charged, so these tests read it.
 */
#include "parsers/smtp.h"
#include "smtp_sessions.h"
#include "smtp_transcript.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bound the issue asks of a banner-only parser (about 1 KiB for the whole flow). */
enum { BANNER_ONLY_MAX = 256 };

static void feed(struct smtp_parser *p, enum smtp_dir dir, const void *bytes, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any read past it */
	cr_assert_not_null(copy);
	memcpy(copy, bytes, n);
	size_t consumed;
	smtp_parser_feed(p, dir, copy, n, &consumed);
	free(copy);
}

static void feed_str(struct smtp_parser *p, enum smtp_dir dir, const char *s)
{
	feed(p, dir, s, strlen(s));
}

/* Feeds s one byte at a time: every line is cut by chunk boundaries and must be buffered. */
static void feed_bytes(struct smtp_parser *p, enum smtp_dir dir, const char *s)
{
	for (; *s; s++)
		feed(p, dir, s, 1);
}

static const char banner[] = "220 mx1.example.net ESMTP Postfix\r\n";

static struct smtp_parser *after_banner(void)
{
	struct smtp_parser *p = smtp_parser_new(NULL);
	cr_assert_not_null(p);
	feed_str(p, SMTP_FROM_SERVER, banner);
	return p;
}

Test(smtp_memory, of_a_parser_that_only_saw_the_banner_is_at_most_256_bytes)
{
	struct smtp_parser *p = smtp_parser_new(NULL);
	cr_assert_not_null(p);
	size_t fresh = smtp_parser_memory(p);
	feed_str(p, SMTP_FROM_SERVER, banner);
	size_t idle = smtp_parser_memory(p);
	cr_log_info("smtp parser: %zu bytes new, %zu after the banner", fresh, idle);
	cr_assert_leq(idle, BANNER_ONLY_MAX, "banner-only parser: %zu bytes", idle);
	cr_assert_gt(idle, fresh, "the banner's text is kept");
	cr_assert_str_eq(smtp_parser_observation(p)->banner, "220 mx1.example.net ESMTP Postfix");
	smtp_parser_free(p);
}

Test(smtp_memory, of_a_banner_cut_by_chunks_is_the_same_once_the_line_ended)
{
	struct smtp_parser *whole = after_banner();
	struct smtp_parser *cut = smtp_parser_new(NULL);
	cr_assert_not_null(cut);
	feed(cut, SMTP_FROM_SERVER, banner, 10);
	cr_assert_gt(smtp_parser_memory(cut), smtp_parser_memory(whole) - 30, "the partial line is buffered");
	feed_str(cut, SMTP_FROM_SERVER, banner + 10);
	cr_assert_eq(smtp_parser_memory(cut), smtp_parser_memory(whole), "the line buffer was given back");
	smtp_parser_free(whole);
	smtp_parser_free(cut);
}

Test(smtp_memory, of_a_long_line_grows_up_to_max_line_and_is_given_back_at_its_end)
{
	struct smtp_options opt = {.max_line = 1000};
	struct smtp_parser *p = smtp_parser_new(&opt);
	cr_assert_not_null(p);
	feed_str(p, SMTP_FROM_SERVER, banner);
	size_t idle = smtp_parser_memory(p);
	char chunk[100];
	memset(chunk, 'x', sizeof chunk);
	feed_str(p, SMTP_FROM_CLIENT, "NOOP ");
	for (int i = 0; i < 5; i++)
		feed(p, SMTP_FROM_CLIENT, chunk, sizeof chunk);
	size_t mid = smtp_parser_memory(p);
	cr_assert_geq(mid, idle + 505, "the partial line is held: %zu -> %zu", idle, mid);
	for (int i = 0; i < 200; i++) /* 20 kB more on the same line */
		feed(p, SMTP_FROM_CLIENT, chunk, sizeof chunk);
	size_t peak = smtp_parser_memory(p);
	cr_assert_leq(peak, idle + opt.max_line + 2, "never past max_line + 2: %zu", peak - idle);
	feed_str(p, SMTP_FROM_CLIENT, "\r\n");
	cr_assert_eq(smtp_parser_observation(p)->anomalies[SMTP_ANOMALY_LINE_TOO_LONG], 1);
	feed_str(p, SMTP_FROM_SERVER, "250 ok\r\n");
	/* On top of the idle parser: the observation built above and the anomaly counters, no line buffer. */
	cr_assert_leq(smtp_parser_memory(p) - sizeof(struct smtp_observation), idle + 256, "%zu vs %zu",
	              smtp_parser_memory(p) - sizeof(struct smtp_observation), idle);
	smtp_parser_free(p);
}

/* An EHLO reply of n capability lines after the server's name. */
static void ehlo_reply(struct smtp_parser *p, int n, bool bytewise)
{
	char reply[8192] = "250-mx1.example.net\r\n";
	for (int i = 0; i < n; i++) {
		size_t len = strlen(reply);
		snprintf(reply + len, sizeof reply - len, "250%cX-CAPABILITY-NUMBER-%02d\r\n",
		         i + 1 < n ? '-' : ' ', i);
	}
	feed_str(p, SMTP_FROM_CLIENT, "EHLO client.example.org\r\n");
	if (bytewise)
		feed_bytes(p, SMTP_FROM_SERVER, reply);
	else
		feed_str(p, SMTP_FROM_SERVER, reply);
}

Test(smtp_memory, of_capabilities_grows_with_them_and_stops_at_their_cap)
{
	struct smtp_parser *few = after_banner(), *many = after_banner(), *too_many = after_banner();
	size_t idle = smtp_parser_memory(few);
	ehlo_reply(few, 5, false);
	ehlo_reply(many, SMTP_MAX_CAPABILITIES, false);
	ehlo_reply(too_many, SMTP_MAX_CAPABILITIES + 30, false);
	size_t m_few = smtp_parser_memory(few), m_many = smtp_parser_memory(many),
	       m_too_many = smtp_parser_memory(too_many);
	cr_log_info("smtp parser after EHLO: %zu bytes (5 capabilities), %zu (40), %zu (70)", m_few, m_many,
	            m_too_many);
	cr_assert_gt(m_few, idle);
	cr_assert_gt(m_many, m_few + 30 * 20, "each capability line is kept");
	/* Past the cap only the raw reply may still grow (up to SMTP_EHLO_RAW_MAX), and lines are counted. */
	cr_assert_leq(m_too_many, m_many + SMTP_EHLO_RAW_MAX, "%zu vs %zu", m_too_many, m_many);
	const struct smtp_observation *o = smtp_parser_observation(too_many);
	cr_assert_eq(o->caps.count, SMTP_MAX_CAPABILITIES);
	cr_assert_eq(o->anomalies[SMTP_ANOMALY_TOO_MANY_CAPABILITIES], 30);
	cr_assert_str_eq(o->caps.lines[SMTP_MAX_CAPABILITIES - 1], "X-CAPABILITY-NUMBER-39");
	smtp_parser_free(few);
	smtp_parser_free(many);
	smtp_parser_free(too_many);
}

Test(smtp_memory, after_the_ehlo_phase_holds_no_buffer_however_the_lines_were_cut)
{
	struct smtp_parser *whole = after_banner(), *bytes = after_banner();
	ehlo_reply(whole, 10, false);
	ehlo_reply(bytes, 10, true);
	cr_assert_eq(smtp_parser_memory(bytes), smtp_parser_memory(whole));
	cr_assert_lt(smtp_parser_memory(whole), 1024, "what the EHLO phase recorded: %zu bytes",
	             smtp_parser_memory(whole));
	smtp_parser_free(whole);
	smtp_parser_free(bytes);
}

Test(smtp_memory, of_pipelined_commands_grows_to_the_pipeline_cap_and_is_given_back_once_answered)
{
	struct smtp_parser *p = after_banner();
	feed_str(p, SMTP_FROM_CLIENT, "EHLO client.example.org\r\n");
	feed_str(p, SMTP_FROM_SERVER, "250 mx1.example.net\r\n");
	size_t idle = smtp_parser_memory(p);
	for (int i = 0; i < SMTP_PIPELINE_MAX + 40; i++)
		feed_str(p, SMTP_FROM_CLIENT, "NOOP\r\n");
	size_t peak = smtp_parser_memory(p);
	cr_assert_gt(peak, idle, "the queue grew");
	/* the queue stops at SMTP_PIPELINE_MAX (and the overflow is counted: the anomaly counters) */
	cr_assert_leq(peak, idle + SMTP_PIPELINE_MAX + 256, "%zu vs %zu", peak, idle);
	for (int i = 0; i < SMTP_PIPELINE_MAX + 40; i++)
		feed_str(p, SMTP_FROM_SERVER, "250 2.0.0 Ok\r\n");
	const struct smtp_observation *o = smtp_parser_observation(p);
	cr_assert_eq(o->anomalies[SMTP_ANOMALY_PIPELINE_OVERFLOW], 40);
	cr_assert_eq(o->anomalies[SMTP_ANOMALY_REPLY_WITHOUT_COMMAND], 40);
	/* On top of the idle parser: the observation and the anomaly counters; the queue was given back. */
	cr_assert_leq(smtp_parser_memory(p) - sizeof *o, idle + 256, "%zu vs %zu",
	              smtp_parser_memory(p) - sizeof *o, idle);
	smtp_parser_free(p);
}

/* Banner, EHLO, STARTTLS; then n bytes of a TLS record from the client before the server's reply. */
static struct smtp_parser *starttls_held(size_t n)
{
	struct smtp_parser *p = after_banner();
	feed_str(p, SMTP_FROM_CLIENT, "EHLO client.example.org\r\n");
	feed_str(p, SMTP_FROM_SERVER, "250-mx1.example.net\r\n250 STARTTLS\r\n");
	feed_str(p, SMTP_FROM_CLIENT, "STARTTLS\r\n");
	uint8_t *tls = malloc(n);
	cr_assert_not_null(tls);
	memset(tls, 0x42, n);
	tls[0] = 0x16, tls[1] = 0x03;
	for (size_t off = 0; off < n; off += 1000)
		feed(p, SMTP_FROM_CLIENT, tls + off, n - off < 1000 ? n - off : 1000);
	free(tls);
	return p;
}

Test(smtp_memory, of_the_starttls_hold_follows_the_client_bytes_and_is_given_back_once_handed_over)
{
	struct smtp_parser *p = starttls_held(5000);
	size_t held = smtp_parser_memory(p);
	cr_assert_geq(held, 5000);
	cr_assert_lt(held, 5000 + 4096, "grown with the bytes, not at SMTP_HELD_MAX at once: %zu", held);
	size_t consumed;
	const uint8_t reply[] = "220 2.0.0 Ready to start TLS\r\n";
	cr_assert_eq(smtp_parser_feed(p, SMTP_FROM_SERVER, reply, sizeof reply - 1, &consumed),
	             SMTP_TLS_STARTS);
	const uint8_t *h;
	size_t len;
	smtp_parser_take_held(p, &h, &len);
	cr_assert_eq(len, 5000);
	/* borrowed until the next call: then given back */
	cr_assert_eq(smtp_parser_feed(p, SMTP_FROM_CLIENT, reply, 1, &consumed), SMTP_TLS_STARTS);
	size_t in_tls = smtp_parser_memory(p);
	cr_log_info("smtp parser: %zu bytes holding 5000 client bytes after STARTTLS, %zu once TLS started",
	            held, in_tls);
	cr_assert_lt(in_tls, 512, "after STARTTLS only what was recorded is left: %zu", in_tls);
	smtp_parser_free(p);
}

Test(smtp_memory, of_the_starttls_hold_stops_at_its_cap_and_counts_the_overflow)
{
	struct smtp_parser *p = starttls_held(SMTP_HELD_MAX + 5000);
	size_t held = smtp_parser_memory(p);
	cr_assert_geq(held, SMTP_HELD_MAX);
	cr_assert_lt(held, SMTP_HELD_MAX + 1024);
	cr_assert_eq(smtp_parser_observation(p)->anomalies[SMTP_ANOMALY_HELD_OVERFLOW], 1);
	smtp_parser_free(p);
}

Test(smtp_memory, is_the_same_whole_byte_by_byte_or_cut_at_random_for_every_session)
{
	for (size_t i = 0; i < sizeof transcripts / sizeof transcripts[0]; i++) {
		const struct transcript *t = &transcripts[i];
		struct outcome *whole = run_prefix(t->steps, t->n, NULL, CUT_WHOLE, 0, SIZE_MAX);
		struct outcome *bytes = run_prefix(t->steps, t->n, NULL, CUT_BYTES, 0, SIZE_MAX);
		struct outcome *random = run_prefix(t->steps, t->n, NULL, CUT_RANDOM, i + 1, SIZE_MAX);
		size_t m = smtp_parser_memory(whole->p);
		cr_assert_eq(smtp_parser_memory(bytes->p), m, "%s: byte by byte", t->name);
		cr_assert_eq(smtp_parser_memory(random->p), m, "%s: random cuts", t->name);
		/* Built once asked for: the observation and the state that goes with the session's phase. */
		cr_assert_lt(m, sizeof(struct smtp_observation) + SMTP_HELD_MAX + 4096, "%s: %zu bytes",
		             t->name, m);
		done(whole);
		done(bytes);
		done(random);
	}
}

Test(smtp_memory, counts_the_observation_once_it_is_built)
{
	struct smtp_parser *p = after_banner();
	size_t idle = smtp_parser_memory(p);
	const struct smtp_observation *o = smtp_parser_observation(p);
	cr_assert_eq(smtp_parser_memory(p), idle + sizeof *o);
	cr_assert_eq(smtp_parser_observation(p), o, "built once, then kept up to date");
	feed_str(p, SMTP_FROM_CLIENT, "EHLO client.example.org\r\n");
	cr_assert_str_eq(o->helo, "client.example.org", "a pointer kept across feeds sees later facts");
	smtp_parser_free(p); /* everything, the observation too (LeakSanitizer checks under ASan) */
}

Test(smtp_memory, a_frozen_parser_gives_back_its_observation_byte_for_byte_in_few_bytes)
{
	static struct smtp_observation back;
	for (size_t i = 0; i < sizeof transcripts / sizeof transcripts[0]; i++) {
		const struct transcript *t = &transcripts[i];
		struct outcome *o = run_prefix(t->steps, t->n, NULL, CUT_RANDOM, i + 7, SIZE_MAX);
		size_t len = 0;
		uint8_t *frozen = smtp_parser_freeze(o->p, &len);
		cr_assert_not_null(frozen);
		cr_assert_lt(len, smtp_parser_memory(o->p) + 256, "%s: %zu bytes frozen", t->name, len);
		memset(&back, 0xa5, sizeof back);
		cr_assert(smtp_frozen_observation(frozen, len, &back), "%s", t->name);
		cr_assert_eq(memcmp(&back, smtp_parser_observation(o->p), sizeof back), 0, "%s: differs",
		             t->name);
		/* Cut anywhere, the bytes give at most what they hold, never a read past them (ASan): a cut
		 * inside the facts is refused, one inside a text record too. */
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *part = malloc(cut ? cut : 1);
			cr_assert_not_null(part);
			memcpy(part, frozen, cut);
			bool taken = smtp_frozen_observation(part, cut, &back);
			if (cut < 32)
				cr_assert_not(taken, "%s: a cut at %zu was taken", t->name, cut);
			free(part);
		}
		free(frozen);
		done(o);
	}
}
