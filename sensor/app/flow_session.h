/*
 * flow_session.h: a flow's own facts in the session record's words.
 *
 * The flow room (sensor/flow/) names how a flow ended and how its roles were told apart for itself, as it
 * knows nothing of sessions; the session record (rules/session.h) has the same facts as its own enums,
 * which the rules and the events read. These map one onto the other, value for value.
 */
#ifndef TLSOBS_FLOW_SESSION_H
#define TLSOBS_FLOW_SESSION_H

#include "rules/session.h"
#include "sensor/flow/flow.h"

enum session_close_reason flow_session_close_reason(enum flow_close_reason r);
enum session_role_source flow_session_role_source(enum flow_role_source s);

#endif
