/*
 * certificate_event.h: the `tlsobs.certificate` event, written at the first
 * sighting of a server certificate: its tls.server.* fields, its validation,
 * and the servers it was seen on.
 */
#ifndef TLSOBS_CERTIFICATE_EVENT_H
#define TLSOBS_CERTIFICATE_EVENT_H

#include <stdint.h>

#include "outputs/event_context.h"
#include "outputs/json_writer.h"
#include "rules/cert_inventory.h"
#include "rules/session.h"

void certificate_event_write(struct json_writer *w, const struct session *s, const struct cert_sighting *c,
                             const struct event_context *ctx, uint64_t created_us);

#endif
