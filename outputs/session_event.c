#include "outputs/session_event.h"

static void write_endpoint(struct json_writer *w, const char *name, const struct session_endpoint *e)
{
	json_key(w, name);
	json_object_begin(w);
	json_key(w, "ip");
	json_ip(w, &e->ip);
	json_field_uint(w, "port", e->port);
	json_field_uint(w, "bytes", e->bytes);
	json_field_uint(w, "packets", e->packets);
	json_object_end(w);
}

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

void session_event_write(struct json_writer *w, const struct session *s, const struct event_context *ctx,
			 uint64_t created_us)
{
	json_writer_reset(w);
	json_object_begin(w);
	json_key(w, "@timestamp");
	json_time_us(w, s->start_us);
	write_event_meta(w, s, created_us);
	json_key(w, "observer");
	json_object_begin(w);
	json_field_cstring(w, "hostname", ctx->hostname);
	json_field_cstring(w, "type", "sensor");
	json_field_cstring(w, "product", "tlsobs");
	json_field_cstring(w, "version", ctx->version);
	json_object_end(w);
	write_endpoint(w, "source", &s->client);
	write_endpoint(w, "destination", &s->server);
	json_key(w, "network");
	json_object_begin(w);
	json_field_cstring(w, "transport", "tcp");
	json_field_cstring(w, "type", s->client.ip.family == 6 ? "ipv6" : "ipv4");
	json_field_uint(w, "bytes", s->client.bytes + s->server.bytes);
	json_field_uint(w, "packets", s->client.packets + s->server.packets);
	json_object_end(w);
	json_key(w, "tlsobs");
	json_object_begin(w);
	json_field_cstring(w, "session_id", s->id);
	json_key(w, "flow");
	json_object_begin(w);
	json_field_cstring(w, "close_reason", s->close_reason);
	json_field_cstring(w, "role_source", s->role_source);
	json_field_uint(w, "gaps", s->to_server.gaps + s->to_client.gaps);
	json_field_uint(w, "gap_bytes", s->to_server.gap_bytes + s->to_client.gap_bytes);
	write_stream_counters(w, "to_server", &s->to_server);
	write_stream_counters(w, "to_client", &s->to_client);
	json_object_end(w);
	json_object_end(w);
	json_object_end(w);
}
