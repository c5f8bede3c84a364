#include "outputs/session_event.h"

#include <stdio.h>
#include <string.h>

#include "outputs/event_common.h"

static void write_stream_counters(struct json_writer *w, const char *name, const struct session_stream_counters *c)
{
	json_key(w, name);
	json_object_begin(w);
	json_field_uint(w, "bytes", c->delivered);
	json_field_uint(w, "gaps", c->gaps);
	json_field_uint(w, "gap_bytes", c->gap_bytes);
	json_field_uint(w, "retransmitted_bytes", c->retransmitted_bytes);
	json_field_uint(w, "overlap_conflicts", c->overlap_conflicts);
	json_field_uint(w, "out_of_window", c->out_of_window);
	json_field_uint(w, "ooo_cap_hits", c->ooo_cap_hits);
	json_field_uint(w, "memcap_drops", c->memcap_drops);
	json_field_bool(w, "depth_reached", c->depth_reached);
	json_object_end(w);
}

static void write_event_meta(struct json_writer *w, const struct session *s, uint64_t created_us)
{
	json_key(w, "event");
	json_object_begin(w);
	json_field_cstring(w, "kind", "event");
	json_key(w, "category");
	json_array_begin(w);
	json_cstring(w, "network");
	json_array_end(w);
	json_key(w, "type");
	json_array_begin(w);
	json_cstring(w, "connection");
	json_cstring(w, "end");
	json_array_end(w);
	json_field_cstring(w, "dataset", "tlsobs.session");
	json_key(w, "start");
	json_time_us(w, s->start_us);
	json_key(w, "end");
	json_time_us(w, s->end_us);
	json_key(w, "created");
	json_time_us(w, created_us);
	json_field_uint(w, "duration", (s->end_us - s->start_us) * 1000); /* ECS: nanoseconds */
	json_object_end(w);
}

static void write_flow(struct json_writer *w, const struct session *s)
{
	json_key(w, "flow");
	json_object_begin(w);
	json_field_cstring(w, "close_reason", s->close_reason);
	json_field_cstring(w, "role_source", s->role_source);
	json_field_uint(w, "gaps", s->to_server.gaps + s->to_client.gaps);
	json_field_uint(w, "gap_bytes", s->to_server.gap_bytes + s->to_client.gap_bytes);
	write_stream_counters(w, "to_server", &s->to_server);
	write_stream_counters(w, "to_client", &s->to_client);
	json_object_end(w);
}

static void write_starttls(struct json_writer *w, const struct session *s, const struct smtp_observation *o)
{
	json_key(w, "starttls");
	json_object_begin(w);
	json_field_bool(w, "offered", o && (o->caps.starttls || o->caps.x_anonymoustls));
	json_field_bool(w, "attempted", o && o->starttls_attempted);
	if (o && o->starttls_reply_code) {
		json_field_uint(w, "reply_code", o->starttls_reply_code);
		json_field_cstring(w, "reply_text", o->starttls_reply);
	}
	json_field_cstring(w, "result", starttls_result_str(s->starttls_result));
	json_object_end(w);
}

static void write_smtp(struct json_writer *w, const struct session *s)
{
	const struct smtp_observation *o = s->smtp;
	json_key(w, "smtp");
	json_object_begin(w);
	if (o) {
		if (o->banner[0])
			json_field_cstring(w, "banner", o->banner);
		if (o->helo_verb[0]) {
			json_field_cstring(w, "helo_verb", o->helo_verb);
			json_field_cstring(w, "helo", o->helo);
		}
		json_key(w, "ehlo_capabilities");
		json_array_begin(w);
		for (unsigned i = 0; i < o->caps.count && i < SMTP_MAX_CAPABILITIES; i++)
			json_cstring(w, o->caps.lines[i]);
		json_array_end(w);
		if (o->transactions)
			json_field_cstring(w, "mail_from_domain", o->mail_from_domain);
		json_key(w, "rcpt_to_domains");
		json_array_begin(w);
		for (unsigned i = 0; i < o->rcpt_domain_count && i < SMTP_MAX_RCPT_DOMAINS; i++)
			json_cstring(w, o->rcpt_domains[i]);
		json_array_end(w);
		json_field_uint(w, "transactions", o->transactions);
		json_field_bool(w, "data_in_clear", o->data_in_clear);
		json_field_bool(w, "auth_in_clear", o->auth_in_clear);
		json_field_bool(w, "requiretls", o->requiretls_in_clear);
		if (o->last_reply_code)
			json_field_uint(w, "last_reply_code", o->last_reply_code);
		json_key(w, "anomalies");
		json_object_begin(w);
		for (int a = 0; a < SMTP_ANOMALY_COUNT; a++)
			if (o->anomalies[a])
				json_field_uint(w, smtp_anomaly_str((enum smtp_anomaly)a), o->anomalies[a]);
		json_object_end(w);
	}
	write_starttls(w, s, o);
	json_object_end(w);
}

/* ECS tls.* and what ECS has no name for under tlsobs.tls (written by write_tlsobs_tls). */
static void write_tls(struct json_writer *w, const struct session *s)
{
	const struct tls_observation *t = s->tls;
	if (!t || t->outcome == TLS_OUTCOME_NONE)
		return;
	json_key(w, "tls");
	json_object_begin(w);
	json_field_bool(w, "established", t->outcome == TLS_OUTCOME_ESTABLISHED);
	const char *version = t->server_hello_seen ? tls_version_str(t->version) : NULL;
	if (version) {
		json_field_cstring(w, "version", version);
		json_field_cstring(w, "version_protocol", t->version >= 0x0301 ? "tls" : "ssl");
	}
	json_object_end(w);
}

static void write_tlsobs_tls(struct json_writer *w, const struct session *s)
{
	const struct tls_observation *t = s->tls;
	if (!t || t->outcome == TLS_OUTCOME_NONE)
		return;
	json_key(w, "tls");
	json_object_begin(w);
	json_field_cstring(w, "outcome", tls_outcome_str(t->outcome));
	if (t->alert_seen) {
		json_key(w, "alert");
		json_object_begin(w);
		json_field_uint(w, "level", t->alert_level);
		json_field_uint(w, "description", t->alert_description);
		json_field_cstring(w, "from", t->alert_from == TLS_FROM_CLIENT ? "client" : "server");
		json_object_end(w);
	}
	json_object_end(w);
}

void session_event_write(struct json_writer *w, const struct session *s, const struct event_context *ctx,
			 uint64_t created_us)
{
	json_writer_reset(w);
	json_object_begin(w);
	json_key(w, "@timestamp");
	json_time_us(w, s->start_us);
	write_event_meta(w, s, created_us);
	event_write_observer(w, ctx);
	event_write_endpoints(w, s, true);
	event_write_network(w, s);
	write_tls(w, s);
	json_key(w, "tlsobs");
	json_object_begin(w);
	json_field_cstring(w, "session_id", s->id);
	write_flow(w, s);
	if (s->smtp || (s->protocol && strcmp(s->protocol, "smtp") == 0))
		write_smtp(w, s);
	write_tlsobs_tls(w, s);
	json_key(w, "alerts");
	json_array_begin(w);
	for (unsigned i = 0; i < s->alerts.count; i++)
		json_cstring(w, s->alerts.items[i].rule->name);
	json_array_end(w);
	json_object_end(w);
	json_object_end(w);
}
