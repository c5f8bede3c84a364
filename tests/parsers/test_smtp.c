/*
 * test_smtp.c: the SMTP conversation parser, driven by transcripts: greeting
 * and replies, EHLO, the envelope, AUTH, commands, line limits and gaps, the
 * real captures and the split-feed and every-prefix tests over every session.
 * Message content is in test_smtp_data.c, STARTTLS in test_smtp_starttls.c.
 *
 * A transcript is the list of chunks each side sent, in the order a span port
 * saw them ({C, ...} from the client, {S, ...} from the server); run() in
 * tests/support/smtp_transcript.h feeds one to a fresh parser, whole, byte by
 * byte or cut at random places, and the tests check the observation. The
 * shared sessions (captured and hand-written) are in
 * tests/support/smtp_sessions.h. The every-prefix test feeds heap copies of
 * exactly the bytes given, so ASan (TLSOBS_SANITIZE=ON) catches any read past them.
 */
#include "parsers/smtp.h"
#include "smtp_sessions.h"
#include "smtp_transcript.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		feed_chunk(o, C, (const uint8_t *)"NOOP\r\n", 6);
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

Test(smtp_mail, the_line_hides_the_auth_identity_and_envelope_id_even_with_kept_local_parts)
{
	static const struct step t[] = {
	    GREETING, EHLO,
	    STEP(C,
	         "MAIL FROM:<u@example.org> AUTH=<login.name@example.net> ENVID=QQ314159 BODY=8BITMIME\r\n"),
	    STEP(S, "250 2.1.0 Ok\r\n")};
	struct smtp_options opt = {.keep_local_parts = true};
	struct outcome *o = run(t, N_STEPS(t), &opt);
	cr_assert_str_eq(o->obs->mail_from_line,
	                 "MAIL FROM:<u@example.org> AUTH=\xE2\x80\xA6 ENVID=\xE2\x80\xA6 BODY=8BITMIME");
	cr_assert(!observation_holds(o->obs, "login.name"));
	cr_assert(!observation_holds(o->obs, "QQ314159"));
	done(o);
}

Test(smtp_mail, the_first_mail_from_line_is_kept_without_its_local_part)
{
	static const struct step t[] = {GREETING, EHLO, STEP(C, "MAIL FROM:<alice@example.org>\r\n"),
	                                STEP(S, "250 2.1.0 Ok\r\n"),
	                                STEP(C, "MAIL FROM:<bob@example.com>\r\n")};
	struct outcome *o = RUN(t);
	cr_assert_str_eq(o->obs->mail_from_line, "MAIL FROM:<\xE2\x80\xA6@example.org>");
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

/* ---- commands ---- */

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

Test(smtp_text, a_banner_longer_than_its_buffer_is_cut_between_characters_and_counted)
{
	char server[1400] = "220 ";
	for (size_t i = 4; i < 4 + 2 * 600; i += 2)
		memcpy(server + i, "\xC3\xA9", 2); /* é, two bytes: 511 bytes of room end inside one */
	snprintf(server + 4 + 2 * 600, sizeof server - 4 - 2 * 600, "\r\n");
	struct step t[] = {{S, strlen(server), server}, STEP(C, "QUIT\r\n"), STEP(S, "221 bye\r\n")};
	struct outcome *o = run(t, N_STEPS(t), NULL);
	cr_assert_eq(strlen(o->obs->banner), 510, "4 + 253 whole characters");
	cr_assert_eq(memcmp(o->obs->banner + 506, "\xC3\xA9\xC3\xA9", 4), 0);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_TEXT_TRUNCATED], 1);
	for (int a = 0; a < SMTP_ANOMALY_COUNT; a++)
		if (a != SMTP_ANOMALY_TEXT_TRUNCATED)
			cr_assert_eq(o->obs->anomalies[a], 0, "%s", smtp_anomaly_str(a));
	done(o);
}

Test(smtp_text, injected_bytes_beyond_the_evidence_buffer_are_counted)
{
	char client[600] = "STARTTLS\r\n";
	memset(client + 10, 'x', 400); /* escaped one for one, then cut at SMTP_EVIDENCE_MAX - 1 */
	struct step t[] = {GREETING, {C, 410, client}, STEP(S, "220 go ahead\r\n")};
	struct outcome *o = run(t, N_STEPS(t), NULL);
	cr_assert(o->obs->command_injection);
	cr_assert_eq(strlen(o->obs->injected_command), SMTP_EVIDENCE_MAX - 1);
	cr_assert_eq(o->obs->anomalies[SMTP_ANOMALY_TEXT_TRUNCATED], 1);
	done(o);
}

Test(smtp_gap, stops_parsing_that_direction_and_reports_lost_sync)
{
	struct outcome *o = calloc(1, sizeof *o);
	o->p = smtp_parser_new(NULL);
	feed_chunk(o, S, (const uint8_t *)"220 mx\r\n", 8);
	cr_assert(!smtp_parser_lost_sync(o->p));
	smtp_parser_gap(o->p, C, 100);
	cr_assert(smtp_parser_lost_sync(o->p));
	feed_chunk(o, C, (const uint8_t *)"MAIL FROM:<a@b.example>\r\n", 25);
	cr_assert_eq(smtp_parser_observation(o->p)->transactions, 0);
	feed_chunk(o, S, (const uint8_t *)"250 ok\r\n", 8);
	cr_assert_eq(smtp_parser_observation(o->p)->last_reply_code, 250);
	smtp_parser_gap(o->p, S, 1);
	feed_chunk(o, S, (const uint8_t *)"421 bye\r\n", 9);
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
