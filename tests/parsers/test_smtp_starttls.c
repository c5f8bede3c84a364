/*
 * test_smtp_starttls.c: the SMTP parser at STARTTLS: the hand-off at the byte
 * after the 220 line, held and injected bytes, refusals that go on in clear
 * and masked verbs (feeder in tests/support/smtp_transcript.h, sessions in
 * smtp_sessions.h).
 */
#include "parsers/smtp.h"
#include "smtp_sessions.h"
#include "smtp_transcript.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
