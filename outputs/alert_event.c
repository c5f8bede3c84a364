#include "outputs/alert_event.h"

#include <string.h>

#include "outputs/event_common.h"

void alert_event_write(struct json_writer *w, const struct session *s, const struct alert *a,
		       const struct event_context *ctx, uint64_t created_us)
{
	json_writer_reset(w);
	json_object_begin(w);
	json_key(w, "@timestamp");
	json_time_us(w, s->end_us);
	json_key(w, "event");
	json_object_begin(w);
	json_field_cstring(w, "kind", "alert");
	json_key(w, "category");
	json_array_begin(w);
	json_cstring(w, "network");
	json_cstring(w, "intrusion_detection");
	json_array_end(w);
	json_key(w, "type");
	json_array_begin(w);
	json_cstring(w, "info");
	json_array_end(w);
	json_field_cstring(w, "dataset", "tlsobs.alert");
	json_field_uint(w, "severity", (uint64_t)a->severity);
	json_field_cstring(w, "reason", a->reason);
	json_key(w, "start");
	json_time_us(w, s->start_us);
	json_key(w, "end");
	json_time_us(w, s->end_us);
	json_key(w, "created");
	json_time_us(w, created_us);
	json_object_end(w);
	json_key(w, "rule");
	json_object_begin(w);
	json_field_cstring(w, "name", a->rule->name);
	json_field_cstring(w, "id", a->rule->id);
	json_field_cstring(w, "description", a->rule->description);
	json_field_cstring(w, "category", "mail_tls_downgrade");
	json_object_end(w);
	event_write_observer(w, ctx);
	event_write_endpoints(w, s, false);
	event_write_network(w, s);
	json_key(w, "tlsobs");
	json_object_begin(w);
	json_field_cstring(w, "session_id", s->id);
	json_key(w, "evidence");
	json_array_begin(w);
	for (unsigned i = 0; i < a->evidence_count; i++)
		json_cstring(w, a->evidence[i]);
	json_array_end(w);
	if (a->evidence_truncated)
		json_field_bool(w, "evidence_truncated", true);
	if (a->related_session_id[0])
		json_field_cstring(w, "related_session_id", a->related_session_id);
	json_object_end(w);
	json_object_end(w);
}
