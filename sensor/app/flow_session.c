/*
 * flow_session.c: a flow's close reason and role source as the session record has them
 * (flow_session.h). A switch per enum, so that -Wswitch flags a value added on one side only.
 */
#include "sensor/app/flow_session.h"

enum session_close_reason flow_session_close_reason(enum flow_close_reason r)
{
	switch (r) {
	case FLOW_CLOSE_FIN:
		return SESSION_CLOSE_FIN;
	case FLOW_CLOSE_RST:
		return SESSION_CLOSE_RST;
	case FLOW_CLOSE_TIMEOUT:
		return SESSION_CLOSE_TIMEOUT;
	case FLOW_CLOSE_EVICTED:
		return SESSION_CLOSE_EVICTED;
	case FLOW_CLOSE_END_OF_CAPTURE:
		return SESSION_CLOSE_END_OF_CAPTURE;
	case FLOW_CLOSE_SHUTDOWN:
		break;
	}
	return SESSION_CLOSE_SHUTDOWN;
}

enum session_role_source flow_session_role_source(enum flow_role_source s)
{
	switch (s) {
	case FLOW_ROLE_SYN:
		return SESSION_ROLE_SYN;
	case FLOW_ROLE_SYN_ACK:
		return SESSION_ROLE_SYN_ACK;
	case FLOW_ROLE_PORT:
		return SESSION_ROLE_PORT;
	case FLOW_ROLE_GUESS:
		break;
	}
	return SESSION_ROLE_GUESS;
}
