#include "outputs/policy_event.h"

#include <stdio.h>

#include "outputs/event_common.h"

void policy_event_write_relaxation_ended(struct json_writer *w, const struct partner_policy *p, const char *run_id,
                                         uint64_t seq, const struct event_context *ctx, uint64_t created_us)
{
	static const char *const category[] = {"configuration", NULL}, *const type[] = {"change", NULL};
	char id[EVENT_ID_LEN];
	event_id_make(id, run_id, 'p', seq);
	/* @timestamp is the moment the relaxation ended, not the packet that revealed it. */
	event_begin(w, ctx,
	            &(struct event_header){"tlsobs.policy", "event", category, type, id, p->relaxed_until_us, created_us});
	json_field_cstring(w, "action", "relaxation_ended");
	json_object_end(w);
	event_tlsobs_begin(w);
	json_key(w, "partner");
	json_object_begin(w);
	json_field_cstring(w, "domain", p->domain);
	json_field_cstring(w, "mode", policy_mode_str(p->mode));
	json_object_end(w);
	json_key(w, "policy");
	json_object_begin(w);
	json_field_cstring(w, "change", "relaxation_ended");
	json_key(w, "relaxed_until");
	json_time_us(w, p->relaxed_until_us);
	char reason[512];
	snprintf(reason, sizeof reason,
	         "the relaxation of %s ended: its %s policy applies again, and its policy alerts keep their severity",
	         p->domain, policy_mode_str(p->mode));
	json_field_cstring(w, "reason", reason);
	json_object_end(w);
	event_end(w);
}
