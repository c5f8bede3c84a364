#include "outputs/event_common.h"

void event_write_observer(struct json_writer *w, const struct event_context *ctx)
{
	json_key(w, "observer");
	json_object_begin(w);
	json_field_cstring(w, "hostname", ctx->hostname);
	json_field_cstring(w, "type", "sensor");
	json_field_cstring(w, "product", "tlsobs");
	json_field_cstring(w, "version", ctx->version);
	json_object_end(w);
}

static void write_endpoint(struct json_writer *w, const char *name, const struct session_endpoint *e,
			   bool with_counters)
{
	json_key(w, name);
	json_object_begin(w);
	json_key(w, "ip");
	json_ip(w, &e->ip);
	json_field_uint(w, "port", e->port);
	if (with_counters) {
		json_field_uint(w, "bytes", e->bytes);
		json_field_uint(w, "packets", e->packets);
	}
	json_object_end(w);
}

void event_write_endpoints(struct json_writer *w, const struct session *s, bool with_counters)
{
	write_endpoint(w, "source", &s->client, with_counters);
	write_endpoint(w, "destination", &s->server, with_counters);
}

void event_write_network(struct json_writer *w, const struct session *s)
{
	json_key(w, "network");
	json_object_begin(w);
	json_field_cstring(w, "transport", "tcp");
	json_field_cstring(w, "type", s->client.ip.family == 6 ? "ipv6" : "ipv4");
	if (s->protocol)
		json_field_cstring(w, "protocol", s->protocol);
	json_field_uint(w, "bytes", s->client.bytes + s->server.bytes);
	json_field_uint(w, "packets", s->client.packets + s->server.packets);
	json_object_end(w);
}
