/*
 * test_flow_session.c: a flow's close reason and role source reach the session record value for value
 * (sensor/app/flow_session.h), under the names the events had when the flow named them itself.
 */
#include <criterion/criterion.h>

#include "sensor/app/flow_session.h"

Test(flow_session, every_close_reason_keeps_its_event_name)
{
	static const struct {
		enum flow_close_reason flow;
		enum session_close_reason session;
		const char *name;
	} cases[] = {
	    {FLOW_CLOSE_FIN, SESSION_CLOSE_FIN, "fin"},
	    {FLOW_CLOSE_RST, SESSION_CLOSE_RST, "rst"},
	    {FLOW_CLOSE_TIMEOUT, SESSION_CLOSE_TIMEOUT, "timeout"},
	    {FLOW_CLOSE_EVICTED, SESSION_CLOSE_EVICTED, "evicted"},
	    {FLOW_CLOSE_END_OF_CAPTURE, SESSION_CLOSE_END_OF_CAPTURE, "end_of_capture"},
	    {FLOW_CLOSE_SHUTDOWN, SESSION_CLOSE_SHUTDOWN, "shutdown"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum session_close_reason r = flow_session_close_reason(cases[i].flow);
		cr_expect_eq(r, cases[i].session, "flow close reason %d", (int)cases[i].flow);
		cr_expect_str_eq(session_close_reason_str(r), cases[i].name);
	}
}

Test(flow_session, every_role_source_keeps_its_event_name)
{
	static const struct {
		enum flow_role_source flow;
		enum session_role_source session;
		const char *name;
	} cases[] = {
	    {FLOW_ROLE_SYN, SESSION_ROLE_SYN, "syn"},
	    {FLOW_ROLE_SYN_ACK, SESSION_ROLE_SYN_ACK, "syn_ack"},
	    {FLOW_ROLE_PORT, SESSION_ROLE_PORT, "port"},
	    {FLOW_ROLE_GUESS, SESSION_ROLE_GUESS, "guess"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum session_role_source s = flow_session_role_source(cases[i].flow);
		cr_expect_eq(s, cases[i].session, "flow role source %d", (int)cases[i].flow);
		cr_expect_str_eq(session_role_source_str(s), cases[i].name);
	}
}
