/*
 * policy_event.h: the `tlsobs.policy` event, written when the sensor's view of
 * a partner's policy changes by itself: today, when a partner's relaxed_until
 * passes in packet time and its enforced policy applies again.
 */
#ifndef TLSOBS_POLICY_EVENT_H
#define TLSOBS_POLICY_EVENT_H

#include <stdint.h>

#include "outputs/event_context.h"
#include "outputs/json_writer.h"
#include "rules/policy.h"

/* run_id: the sensor run's id (session_id_make with flow 0); seq numbers this run's policy events. */
void policy_event_write_relaxation_ended(struct json_writer *w, const struct partner_policy *p, const char *run_id,
                                         uint64_t seq, const struct event_context *ctx, uint64_t created_us);

#endif
