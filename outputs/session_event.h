/*
 * session_event.h: the `tlsobs.session` event (ECS field names), one JSON object
 * per line. docs/events.md documents every field.
 */
#ifndef TLSOBS_SESSION_EVENT_H
#define TLSOBS_SESSION_EVENT_H

#include <stdint.h>

#include "outputs/event_context.h"
#include "outputs/json_writer.h"
#include "rules/session.h"

/* Writes the event into w (reset first). `created_us` is the wall clock for event.created. */
void session_event_write(struct json_writer *w, const struct session *s, const struct event_context *ctx,
                         uint64_t created_us);

#endif
