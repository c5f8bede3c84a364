/*
 * alert_event.c: writes one `tlsobs.alert` event from a session and one of its alerts (alert_event.h).
 * Owns nothing: the session and the writer are the caller's.
 */
#include "outputs/alert_event.h"

#include <stdio.h>
#include <string.h>

#include "outputs/event_common.h"
#include "outputs/event_related.h"
#include "rules/rule_meta.h"

/* The alert's place in its session's list, from 1: with the session id, its event.id. 0 if not in the list.
 */
static unsigned alert_place(const struct session *s, const struct alert *a)
{
	for (unsigned i = 0; i < s->alerts.count && i < ALERTS_PER_SESSION; i++)
		if (&s->alerts.items[i] == a)
			return i + 1;
	return 0;
}

void alert_event_write(struct json_writer *w, const struct session *s, const struct alert *a,
                       const struct event_context *ctx, uint64_t created_us)
{
	static const char *const category[] = {"network", "intrusion_detection", NULL}, *const type[] = {
	                                                                                    "info", NULL};
	char id[EVENT_ID_LEN];
	event_id_make(id, s->id, 'a', alert_place(s, a));
	event_begin(
	    w, ctx,
	    &(struct event_header){EVENT_TYPE_ALERT, "alert", category, type, id, s->end_us, created_us});
	json_field_uint(w, "severity", (uint64_t)a->severity);
	json_field_cstring(w, "reason", a->reason);
	json_key(w, "start");
	json_time_us(w, s->start_us);
	json_key(w, "end");
	json_time_us(w, s->end_us);
	json_object_end(w);
	json_key(w, "rule");
	json_object_begin(w);
	json_field_cstring(w, "name", a->rule->name);
	json_field_cstring(w, "id", a->rule->id);
	json_field_cstring(w, "description", a->rule->description);
	json_field_cstring(w, "category", "mail_tls_downgrade");
	json_field_cstring(w, "ruleset", rule_ruleset(a->rule));
	if (ctx->runbook_base && ctx->runbook_base[0]) {
		char reference[1200];
		snprintf(reference, sizeof reference, "%s%s.md", ctx->runbook_base, a->rule->name);
		json_field_cstring(w, "reference", reference);
	}
	json_object_end(w);
	event_write_endpoints(w, s, false);
	event_write_network(w, s);
	event_write_related(w, s);
	event_tlsobs_begin(w);
	json_field_cstring(w, "session_id", s->id);
	event_write_partner(w, s);
	json_key(w, "evidence");
	json_array_begin(w);
	size_t lines = a->evidence_count < ALERT_MAX_EVIDENCE ? a->evidence_count : ALERT_MAX_EVIDENCE;
	size_t n = json_array_cap(w, "tlsobs.evidence", lines, 0);
	for (size_t i = 0; i < n; i++)
		json_cstring(w, a->evidence[i]);
	json_array_end(w);
	if (a->evidence_truncated)
		json_field_bool(w, "evidence_truncated", true);
	if (a->related_session_id[0])
		json_field_cstring(w, "related_session_id", a->related_session_id);
	if (a->tlsrpt_result_type) {
		json_key(w, "tlsrpt");
		json_object_begin(w);
		json_field_cstring(w, "result_type", a->tlsrpt_result_type);
		json_object_end(w);
	}
	event_end(w);
}
