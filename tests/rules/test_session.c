/*
 * test_session.c: the words the session record's fixed-value fields take in events (rules/session.h).
 *
 * Each enum is walked value by value against the event vocabulary of docs/events.md, so that a value added
 * without a name, or a name changed, shows here before it changes an event.
 */
#include <criterion/criterion.h>
#include <stddef.h>

#include "rules/session.h"

Test(session, smtp_and_tls_have_their_protocol_names_and_others_name_themselves)
{
	cr_expect_null(session_protocol_str(SESSION_PROTOCOL_NONE));
	cr_expect_str_eq(session_protocol_str(SESSION_PROTOCOL_SMTP), "smtp");
	cr_expect_str_eq(session_protocol_str(SESSION_PROTOCOL_TLS), "tls");
	cr_expect_null(session_protocol_str(SESSION_PROTOCOL_OTHER), "nDPI's name, in other_protocol");
}

Test(session, every_close_reason_has_its_event_name)
{
	static const char *const want[] = {"fin", "rst", "timeout", "evicted", "end_of_capture", "shutdown"};
	for (int r = SESSION_CLOSE_FIN; r <= SESSION_CLOSE_SHUTDOWN; r++)
		cr_expect_str_eq(session_close_reason_str((enum session_close_reason)r), want[r],
		                 "close reason %d", r);
}

Test(session, every_role_source_has_its_event_name)
{
	static const char *const want[] = {"syn", "syn_ack", "port", "guess"};
	for (int s = SESSION_ROLE_SYN; s <= SESSION_ROLE_GUESS; s++)
		cr_expect_str_eq(session_role_source_str((enum session_role_source)s), want[s],
		                 "role source %d", s);
}

Test(session, every_direction_has_its_ecs_name_and_none_has_no_name)
{
	cr_expect_null(session_direction_str(SESSION_DIRECTION_NONE));
	cr_expect_str_eq(session_direction_str(SESSION_DIRECTION_INBOUND), "inbound");
	cr_expect_str_eq(session_direction_str(SESSION_DIRECTION_OUTBOUND), "outbound");
	cr_expect_str_eq(session_direction_str(SESSION_DIRECTION_INTERNAL), "internal");
	cr_expect_str_eq(session_direction_str(SESSION_DIRECTION_EXTERNAL), "external");
}

Test(session, every_name_source_has_its_event_name_and_none_has_no_name)
{
	cr_expect_null(session_name_source_str(SESSION_NAME_NONE));
	cr_expect_str_eq(session_name_source_str(SESSION_NAME_SNI), "sni");
	cr_expect_str_eq(session_name_source_str(SESSION_NAME_BANNER), "banner");
	cr_expect_str_eq(session_name_source_str(SESSION_NAME_EHLO_GREETING), "ehlo_greeting");
}

Test(session, every_partner_match_has_its_event_name_and_no_partner_is_none)
{
	static const char *const want[] = {"none",          "rcpt_domain", "mail_from_domain", "banner",
	                                   "ehlo_greeting", "sni",         "certificate",      "network"};
	for (int m = SESSION_MATCH_NONE; m <= SESSION_MATCH_NETWORK; m++)
		cr_expect_str_eq(session_partner_match_str((enum session_partner_match)m), want[m],
		                 "match %d", m);
}

Test(session, every_dane_status_has_its_event_name_and_none_has_no_name)
{
	cr_expect_null(session_dane_status_str(SESSION_DANE_NONE));
	cr_expect_str_eq(session_dane_status_str(SESSION_DANE_MATCH), "match");
	cr_expect_str_eq(session_dane_status_str(SESSION_DANE_MISMATCH), "mismatch");
	cr_expect_str_eq(session_dane_status_str(SESSION_DANE_NOT_USABLE), "not_usable");
	cr_expect_str_eq(session_dane_status_str(SESSION_DANE_NOT_VERIFIABLE), "not_verifiable");
}

Test(session, a_zeroed_session_has_no_protocol_direction_name_source_partner_or_dane_status)
{
	struct session s = {0};
	cr_expect_eq(s.protocol, SESSION_PROTOCOL_NONE);
	cr_expect_eq(s.direction, SESSION_DIRECTION_NONE);
	cr_expect_eq(s.certificate.name_source, SESSION_NAME_NONE);
	cr_expect_not(s.partner_attributed);
	cr_expect_eq(s.partner_match, SESSION_MATCH_NONE);
	cr_expect_eq(s.dane_status, SESSION_DANE_NONE);
}
