/*
 * event_common.c: the fields every event shares and the flow fields of session and alert events
 * (event_common.h). Owns nothing: the context and the writer are the caller's.
 */
#include "outputs/event_common.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "outputs/community_id.h"
#include "rules/policy.h"

/* Appends src[0..n) to out[*len], keeping room for the NUL of a cap-byte buffer: snprintf's cut. */
static void id_append(char *out, size_t cap, size_t *len, const char *src, size_t n)
{
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(out + *len, src, n);
	*len += n;
}

/* "<base>-<kind>[<seq>]", without printf: one of these per event (issue 15). */
void event_id_make(char out[EVENT_ID_LEN], const char *base, char kind, uint64_t seq)
{
	size_t len = 0;
	char tail[2 + JSON_UINT_TEXT_MAX] = {'-', kind};
	size_t tail_len = 2;
	if (kind != 's' && kind != 'c')
		tail_len += json_format_uint(tail + 2, seq);
	id_append(out, EVENT_ID_LEN, &len, base, strnlen(base, EVENT_ID_LEN));
	id_append(out, EVENT_ID_LEN, &len, tail, tail_len);
	out[len] = '\0';
}

static void write_string_list(struct json_writer *w, const char *key, const char *const *list)
{
	json_key(w, key);
	json_array_begin(w);
	for (; list && *list; list++)
		json_cstring(w, *list);
	json_array_end(w);
}

void event_begin(struct json_writer *w, const struct event_context *ctx, const struct event_header *h)
{
	json_writer_reset(w);
	size_t id_len = strnlen(h->id, sizeof w->doc.id - 1);
	memcpy(w->doc.id, h->id, id_len);
	w->doc.id[id_len] = '\0';
	w->doc.time_us = h->timestamp_us;
	w->doc.type = h->dataset;
	json_object_begin(w);
	json_key(w, "@timestamp");
	json_time_us(w, h->timestamp_us);
	json_key(w, "ecs");
	json_object_begin(w);
	json_field_cstring(w, "version", TLSOBS_ECS_VERSION);
	json_object_end(w);
	event_write_observer(w, ctx);
	json_key(w, "event");
	json_object_begin(w);
	json_field_cstring(w, "kind", h->kind);
	write_string_list(w, "category", h->category);
	write_string_list(w, "type", h->type);
	json_field_cstring(w, "dataset", event_type_dataset(h->dataset));
	json_field_cstring(w, "id", h->id);
	json_key(w, "created");
	json_time_us(w, h->created_us);
}

void event_tlsobs_begin(struct json_writer *w)
{
	json_key(w, "tlsobs");
	json_object_begin(w);
	json_field_cstring(w, "schema_version", TLSOBS_SCHEMA_VERSION);
}

/* tlsobs.truncated: {"strings": n, "arrays": {"<field>": elements left out, ...}} */
static void write_truncated(struct json_writer *w)
{
	const struct json_doc *d = &w->doc;
	if (d->strings_truncated == 0 && d->cut_count == 0)
		return;
	json_key(w, "truncated");
	json_object_begin(w);
	json_field_uint(w, "strings", d->strings_truncated);
	json_key(w, "arrays");
	json_object_begin(w);
	for (unsigned i = 0; i < d->cut_count; i++)
		json_field_uint(w, d->cuts[i].name, d->cuts[i].dropped);
	if (d->cuts_unnamed)
		json_field_uint(w, "other", d->cuts_unnamed);
	json_object_end(w);
	json_object_end(w);
}

void event_end(struct json_writer *w)
{
	write_truncated(w);
	json_object_end(w); /* tlsobs */
	json_object_end(w);
}

void event_write_observer(struct json_writer *w, const struct event_context *ctx)
{
	json_key(w, "observer");
	json_object_begin(w);
	json_field_cstring(w, "hostname", ctx->hostname);
	json_field_cstring(w, "name", ctx->name && ctx->name[0] ? ctx->name : ctx->hostname);
	json_field_cstring(w, "type", "sensor");
	json_field_cstring(w, "vendor", "tlsobs");
	json_field_cstring(w, "product", "tlsobs");
	json_field_cstring(w, "version", ctx->version);
	if (ctx->ingress_interface) {
		json_key(w, "ingress");
		json_object_begin(w);
		json_key(w, "interface");
		json_object_begin(w);
		json_field_cstring(w, "name", ctx->ingress_interface);
		json_object_end(w);
		json_object_end(w);
	}
	json_object_end(w);
}

/* ECS geo and as: only what the database knew. */
static void write_geo(struct json_writer *w, const struct session_geo *g)
{
	if (!g->present)
		return;
	if (g->country_iso_code[0] || g->country_name[0] || g->city_name[0] || g->has_location) {
		json_key(w, "geo");
		json_object_begin(w);
		if (g->country_iso_code[0])
			json_field_cstring(w, "country_iso_code", g->country_iso_code);
		if (g->country_name[0])
			json_field_cstring(w, "country_name", g->country_name);
		if (g->city_name[0])
			json_field_cstring(w, "city_name", g->city_name);
		if (g->has_location) {
			json_key(w, "location");
			json_object_begin(w);
			json_key(w, "lat");
			json_fixed(w, g->latitude, 4);
			json_key(w, "lon");
			json_fixed(w, g->longitude, 4);
			json_object_end(w);
		}
		json_object_end(w);
	}
	if (g->has_as) {
		json_key(w, "as");
		json_object_begin(w);
		json_field_uint(w, "number", g->as_number);
		if (g->as_organization[0]) {
			json_key(w, "organization");
			json_object_begin(w);
			json_field_cstring(w, "name", g->as_organization);
			json_object_end(w);
		}
		json_object_end(w);
	}
}

static void write_endpoint(struct json_writer *w, const char *name, const struct session_endpoint *e,
                           const struct session_geo *g, bool with_counters)
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
	write_geo(w, g);
	json_object_end(w);
}

void event_write_endpoints(struct json_writer *w, const struct session *s, bool with_counters)
{
	write_endpoint(w, "source", &s->client, &s->client_geo, with_counters);
	write_endpoint(w, "destination", &s->server, &s->server_geo, with_counters);
}

/* ECS keeps network.protocol and network.application in lowercase; nDPI names them "SMTP", "TLS", ... */
static void write_lowercase(struct json_writer *w, const char *key, const char *v)
{
	char low[64];
	size_t i = 0;
	for (; v[i] && i + 1 < sizeof low; i++)
		low[i] = (char)tolower((unsigned char)v[i]);
	low[i] = '\0';
	json_field_cstring(w, key, low);
}

/*
 * ECS network.vlan.id (the outermost tag) and network.inner.vlan.id (the
 * innermost, when there are two or more), as ECS keywords (strings).
 */
static void write_vlans(struct json_writer *w, const struct decode_encap *e)
{
	if (e->vlan_count == 0)
		return;
	char id[JSON_UINT_TEXT_MAX];
	json_key(w, "vlan");
	json_object_begin(w);
	json_format_uint(id, e->vlan[0]);
	json_field_cstring(w, "id", id);
	json_object_end(w);
	if (e->vlan_count < 2)
		return;
	json_key(w, "inner");
	json_object_begin(w);
	json_key(w, "vlan");
	json_object_begin(w);
	json_format_uint(id, e->vlan[e->vlan_count - 1]);
	json_field_cstring(w, "id", id);
	json_object_end(w);
	json_object_end(w);
}

void event_write_network(struct json_writer *w, const struct session *s)
{
	char community_id[COMMUNITY_ID_LEN];
	json_key(w, "network");
	json_object_begin(w);
	json_field_cstring(w, "transport", "tcp");
	json_field_cstring(w, "type", s->client.ip.family == 6 ? "ipv6" : "ipv4");
	if (s->protocol == SESSION_PROTOCOL_OTHER)
		write_lowercase(w, "protocol", s->other_protocol);
	else if (s->protocol != SESSION_PROTOCOL_NONE)
		json_field_cstring(w, "protocol", session_protocol_str(s->protocol));
	if (s->application && s->application[0])
		write_lowercase(w, "application", s->application);
	if (s->direction != SESSION_DIRECTION_NONE)
		json_field_cstring(w, "direction", session_direction_str(s->direction));
	write_vlans(w, &s->encap);
	if (community_id_v1(&s->client.ip, s->client.port, &s->server.ip, s->server.port,
	                    COMMUNITY_ID_PROTO_TCP, 0, community_id) == 0)
		json_field_cstring(w, "community_id", community_id);
	json_field_uint(w, "bytes", s->client.bytes + s->server.bytes);
	json_field_uint(w, "packets", s->client.packets + s->server.packets);
	json_object_end(w);
}

void event_write_partner(struct json_writer *w, const struct session *s)
{
	if (!s->partner_attributed)
		return;
	json_key(w, "partner");
	json_object_begin(w);
	if (s->partner)
		json_field_cstring(w, "domain", s->partner->domain);
	json_field_cstring(w, "mode", policy_mode_str(s->partner_mode));
	json_field_cstring(w, "match", session_partner_match_str(s->partner_match));
	json_object_end(w);
}
