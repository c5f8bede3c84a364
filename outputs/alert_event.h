/*
 * alert_event.h: the `tlsobs.alert` event, one per alert of a session (ECS
 * event.kind "alert"), carrying the session's id and endpoints and the evidence.
 */
#ifndef TLSOBS_ALERT_EVENT_H
#define TLSOBS_ALERT_EVENT_H

#include <stdint.h>

#include "outputs/event_context.h"
#include "outputs/json_writer.h"
#include "rules/session.h"

void alert_event_write(struct json_writer *w, const struct session *s, const struct alert *a,
                       const struct event_context *ctx, uint64_t created_us);

#endif
