/*
 * test_smtp_data.c: the SMTP parser around message content: DATA up to the
 * lone dot, BDAT chunks, and that no content ever reaches the observation
 * (feeder in tests/support/smtp_transcript.h, sessions in smtp_sessions.h).
 */
#include "parsers/smtp.h"
#include "smtp_sessions.h"
#include "smtp_transcript.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
