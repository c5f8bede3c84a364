/* event_common.h: the parts every event shares (observer, endpoints). */
#ifndef TLSOBS_EVENT_COMMON_H
#define TLSOBS_EVENT_COMMON_H

#include <stdbool.h>

#include "outputs/event_context.h"
#include "outputs/json_writer.h"
#include "rules/session.h"

void event_write_observer(struct json_writer *w, const struct event_context *ctx);
/* source.* (the client) and destination.* (the server); with_counters adds bytes and packets. */
void event_write_endpoints(struct json_writer *w, const struct session *s, bool with_counters);
/* network.* */
void event_write_network(struct json_writer *w, const struct session *s);

#endif
