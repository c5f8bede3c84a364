/*
 * certificate_event.c: writes the `tlsobs.certificate` event of a certificate's first sighting
 * (certificate_event.h). Owns nothing: the sighting and the writer are the caller's.
 */
#include "outputs/certificate_event.h"

#include "outputs/certificate_json.h"
#include "outputs/event_common.h"
#include "outputs/event_related.h"

static void write_servers(struct json_writer *w, const struct cert_sighting *c)
{
	json_key(w, "servers");
	json_array_begin(w);
	for (unsigned i = 0; i < c->server_count; i++) {
		json_object_begin(w);
		json_key(w, "ip");
		json_ip(w, &c->servers[i].ip);
		json_field_uint(w, "port", c->servers[i].port);
		json_object_end(w);
	}
	json_array_end(w);
}

void certificate_event_write(struct json_writer *w, const struct session *s, const struct cert_sighting *c,
                             const struct event_context *ctx, uint64_t created_us)
{
	const struct session_certificate *cert = &s->certificate;
	static const char *const category[] = {"network", NULL}, *const type[] = {"info", NULL};
	char id[EVENT_ID_LEN];
	event_id_make(id, s->id, 'c', 0);
	event_begin(w, ctx,
	            &(struct event_header){EVENT_TYPE_CERTIFICATE, "event", category, type, id,
	                                   c->first_seen_us, created_us});
	json_object_end(w);
	json_key(w, "tls");
	json_object_begin(w);
	json_key(w, "server");
	json_object_begin(w);
	certificate_json_write(w, cert);
	json_object_end(w);
	json_object_end(w);
	event_write_related(w, s);
	event_tlsobs_begin(w);
	json_field_cstring(w, "session_id", s->id);
	json_key(w, "certificate");
	json_object_begin(w);
	json_key(w, "first_seen");
	json_time_us(w, c->first_seen_us);
	write_servers(w, c);
	if (cert->parsed)
		json_field_cstring(w, "spki_sha256", cert->leaf.spki_sha256);
	json_key(w, "chain_sha256");
	json_array_begin(w);
	for (unsigned i = 0; i < cert->chain_count && i < X509_MAX_CHAIN; i++)
		json_cstring(w, cert->chain_sha256[i]);
	json_array_end(w);
	certificate_json_write_validation(w, cert);
	json_object_end(w);
	event_end(w);
}
