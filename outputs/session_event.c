/*
 * session_event.c: writes the `tlsobs.session` event from a session record (session_event.h,
 * docs/events.md). Owns nothing: the session and the writer are the caller's.
 */
#include "outputs/session_event.h"

#include <string.h>

#include "outputs/certificate_json.h"
#include "outputs/event_common.h"
#include "outputs/event_related.h"
#include "parsers/tls_ciphers.h"

/* Elements a fixed array holds: its count, never past its capacity. */
static size_t kept(unsigned count, size_t capacity)
{
	return count < capacity ? count : capacity;
}

static void write_stream_counters(struct json_writer *w, const char *name,
                                  const struct session_stream_counters *c)
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

/* event.* beyond the common fields (event_begin), then closes event. */
static void write_event_times(struct json_writer *w, const struct session *s)
{
	json_key(w, "start");
	json_time_us(w, s->start_us);
	json_key(w, "end");
	json_time_us(w, s->end_us);
	json_field_uint(w, "duration", (s->end_us - s->start_us) * 1000); /* ECS: nanoseconds */
	json_object_end(w);
}

static void write_flow(struct json_writer *w, const struct session *s)
{
	json_key(w, "flow");
	json_object_begin(w);
	json_field_cstring(w, "close_reason", session_close_reason_str(s->close_reason));
	json_field_cstring(w, "role_source", session_role_source_str(s->role_source));
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
		size_t n = json_array_cap(w, "tlsobs.smtp.ehlo_capabilities",
		                          kept(o->caps.count, SMTP_MAX_CAPABILITIES),
		                          o->anomalies[SMTP_ANOMALY_TOO_MANY_CAPABILITIES]);
		for (size_t i = 0; i < n; i++)
			json_cstring(w, o->caps.lines[i]);
		json_array_end(w);
		/* The name the server gave in the first EHLO reply line (RFC 5321 4.1.1.1): TLS-RPT's
		 * receiving-mx-helo, so that a report rebuilt from the events (report --kafka) has it. */
		char ehlo_host[SMTP_TEXT_MAX];
		if (o->caps.seen && smtp_greeting_host(o->caps.raw, ehlo_host, sizeof ehlo_host) == 0 &&
		    ehlo_host[0])
			json_field_cstring(w, "ehlo_greeting", ehlo_host);
		if (o->transactions)
			json_field_cstring(w, "mail_from_domain", o->mail_from_domain);
		json_key(w, "rcpt_to_domains");
		json_array_begin(w);
		n = json_array_cap(w, "tlsobs.smtp.rcpt_to_domains",
		                   kept(o->rcpt_domain_count, SMTP_MAX_RCPT_DOMAINS),
		                   o->anomalies[SMTP_ANOMALY_TOO_MANY_DOMAINS]);
		for (size_t i = 0; i < n; i++)
			json_cstring(w, o->rcpt_domains[i]);
		json_array_end(w);
		json_field_uint(w, "transactions", o->transactions);
		json_field_bool(w, "data_in_clear", o->data_in_clear);
		if (o->content_protection.messages) {
			const struct smtp_content_protection *cp = &o->content_protection;
			json_key(w, "content_protection");
			json_object_begin(w);
			json_field_uint(w, "messages", cp->messages);
			json_field_uint(w, "unprotected", cp->unprotected);
			json_field_uint(w, "smime_encrypted", cp->smime_encrypted);
			json_field_uint(w, "smime_signed", cp->smime_signed);
			json_field_uint(w, "pgp_encrypted", cp->pgp_encrypted);
			json_field_uint(w, "pgp_signed", cp->pgp_signed);
			json_object_end(w);
		}
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

static void write_cipher(struct json_writer *w, const char *key, uint16_t code)
{
	const char *name = tls_cipher_name(code);
	json_key(w, key);
	if (name) {
		json_cstring(w, name);
		return;
	}
	char hex[JSON_HEX16_TEXT_MAX];
	json_string(w, hex, json_format_hex16(hex, code)); /* unregistered suites keep their code */
}

/* tls.client.supported_ciphers, as events.client_ciphers says: names (hex for unregistered ones) or codes. */
static void write_client_ciphers(struct json_writer *w, const struct tls_observation *t,
                                 enum event_client_ciphers mode)
{
	if (mode == EVENT_CLIENT_CIPHERS_NONE)
		return;
	json_key(w, "supported_ciphers");
	json_array_begin(w);
	size_t kept_ciphers = kept(t->ch.cipher_count, TLS_MAX_CIPHERS);
	uint64_t total = t->ch.ciphers_total > kept_ciphers ? t->ch.ciphers_total : kept_ciphers;
	size_t n = json_array_cap(w, "tls.client.supported_ciphers", kept_ciphers, total - kept_ciphers);
	for (size_t i = 0; i < n; i++) {
		const char *name =
		    mode == EVENT_CLIENT_CIPHERS_NAMES ? tls_cipher_name(t->ch.ciphers[i]) : NULL;
		if (name) {
			json_cstring(w, name);
			continue;
		}
		char hex[JSON_HEX16_TEXT_MAX];
		json_string(w, hex, json_format_hex16(hex, t->ch.ciphers[i]));
	}
	json_array_end(w);
}

static void write_tls_client(struct json_writer *w, const struct session *s, enum event_client_ciphers mode)
{
	const struct tls_observation *t = s->tls;
	if (!t->client_hello_seen)
		return;
	json_key(w, "client");
	json_object_begin(w);
	if (t->ch.sni[0])
		json_field_cstring(w, "server_name", t->ch.sni);
	write_client_ciphers(w, t, mode);
	if (s->fingerprints.ja3[0])
		json_field_cstring(w, "ja3", s->fingerprints.ja3);
	json_object_end(w);
}

static void write_tls_server(struct json_writer *w, const struct session *s)
{
	const struct session_certificate *c = &s->certificate;
	json_key(w, "server");
	json_object_begin(w);
	if (s->fingerprints.ja3s[0])
		json_field_cstring(w, "ja3s", s->fingerprints.ja3s);
	certificate_json_write(w, c);
	json_object_end(w);
}

/* ECS tls.*; what ECS has no name for goes under tlsobs.tls (write_tlsobs_tls). */
static void write_tls(struct json_writer *w, const struct session *s, enum event_client_ciphers mode)
{
	const struct tls_observation *t = s->tls;
	if (!t || t->outcome == TLS_OUTCOME_NONE)
		return;
	json_key(w, "tls");
	json_object_begin(w);
	json_field_bool(w, "established", t->outcome == TLS_OUTCOME_ESTABLISHED);
	json_field_bool(w, "resumed", t->resumed);
	const char *version = t->server_hello_seen ? tls_version_str(t->version) : NULL;
	if (version) {
		json_field_cstring(w, "version", version);
		json_field_cstring(w, "version_protocol", t->version >= TLS_VERSION_1_0 ? "tls" : "ssl");
	}
	/* An SSL 2.0 SERVER-HELLO chooses no suite (the client does, in CLIENT-MASTER-KEY): none to write. */
	if (t->server_hello_seen && t->version != 0x0002)
		write_cipher(w, "cipher", t->cipher);
	const char *curve = t->curve ? tls_group_name(t->curve) : NULL;
	if (curve)
		json_field_cstring(w, "curve", curve);
	if (t->server_hello_seen && t->sh.alpn[0])
		json_field_cstring(w, "next_protocol", t->sh.alpn);
	write_tls_client(w, s, mode);
	if (t->server_hello_seen)
		write_tls_server(w, s);
	json_object_end(w);
}

static void write_tlsobs_tls(struct json_writer *w, const struct session *s)
{
	const struct tls_observation *t = s->tls;
	const struct session_certificate *c = &s->certificate;
	if (!t || t->outcome == TLS_OUTCOME_NONE)
		return;
	json_key(w, "tls");
	json_object_begin(w);
	json_field_cstring(w, "outcome", tls_outcome_str(t->outcome));
	json_field_bool(w, "certificate_visible", t->certificate_visible);
	if (t->alert_seen) {
		json_key(w, "alert");
		json_object_begin(w);
		json_field_cstring(w, "level", t->alert_level == 2 ? "fatal" : "warning");
		const char *name = tls_alert_name(t->alert_description);
		char code[JSON_UINT_TEXT_MAX];
		json_format_uint(code, t->alert_description);
		json_field_cstring(w, "description", name ? name : code);
		json_field_cstring(w, "from", t->alert_from == TLS_FROM_CLIENT ? "client" : "server");
		json_object_end(w);
	}
	json_key(w, "client");
	json_object_begin(w);
	if (s->fingerprints.ja3_string[0])
		json_field_cstring(w, "ja3_string", s->fingerprints.ja3_string);
	if (s->fingerprints.ja4[0])
		json_field_cstring(w, "ja4", s->fingerprints.ja4);
	json_object_end(w);
	json_key(w, "server");
	json_object_begin(w);
	if (s->fingerprints.ja3s_string[0])
		json_field_cstring(w, "ja3s_string", s->fingerprints.ja3s_string);
#ifdef TLSOBS_JA4_FOXIO
	if (s->fingerprints.ja4s[0])
		json_field_cstring(w, "ja4s", s->fingerprints.ja4s);
	if (s->fingerprints.ja4x[0])
		json_field_cstring(w, "ja4x", s->fingerprints.ja4x);
#endif
	if (c->parsed)
		json_field_cstring(w, "spki_sha256", c->leaf.spki_sha256);
	json_key(w, "chain_sha256");
	json_array_begin(w);
	size_t n =
	    json_array_cap(w, "tlsobs.tls.server.chain_sha256", kept(c->chain_count, X509_MAX_CHAIN), 0);
	for (size_t i = 0; i < n; i++)
		json_cstring(w, c->chain_sha256[i]);
	json_array_end(w);
	if (t->certificates_dropped)
		json_field_uint(w, "certificates_dropped", t->certificates_dropped);
	if (t->dh_prime_bits)
		json_field_uint(w, "dh_prime_bits", t->dh_prime_bits);
	json_object_end(w);
	certificate_json_write_validation(w, c);
	if (t->anomalies)
		json_field_uint(w, "anomalies", t->anomalies);
	json_object_end(w);
}

/*
 * tlsobs.limits: every per-flow cap this session hit, with how often, so a
 * reader knows the picture is partial and why. Absent when none was hit.
 */
static void write_limits(struct json_writer *w, const struct session *s)
{
	const struct smtp_observation *m = s->smtp;
	const struct tls_observation *t = s->tls;
	const struct session_stream_counters *c = &s->to_server, *v = &s->to_client;
	const struct {
		const char *name;
		uint64_t hits;
	} caps[] = {
	    {"smtp_line_length", m ? m->anomalies[SMTP_ANOMALY_LINE_TOO_LONG] : 0},
	    {"smtp_capabilities", m ? m->anomalies[SMTP_ANOMALY_TOO_MANY_CAPABILITIES] : 0},
	    {"smtp_rcpt_domains", m ? m->anomalies[SMTP_ANOMALY_TOO_MANY_DOMAINS] : 0},
	    {"smtp_pipeline", m ? m->anomalies[SMTP_ANOMALY_PIPELINE_OVERFLOW] : 0},
	    {"smtp_starttls_hold", m ? m->anomalies[SMTP_ANOMALY_HELD_OVERFLOW] : 0},
	    {"tls_handshake_size", t ? t->anomaly[TLS_ANOMALY_HANDSHAKE_TOO_LONG] : 0},
	    {"tls_chain_certificates", t ? t->certificates_dropped : 0},
	    {"stream_depth", (uint64_t)c->depth_reached + (uint64_t)v->depth_reached},
	    {"stream_ooo_bytes", c->ooo_cap_hits + v->ooo_cap_hits},
	    {"stream_memcap", c->memcap_drops + v->memcap_drops},
	    {"parser_memcap", s->parser_memcap_stopped ? 1 : 0},
	};
	bool any = false;
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		if (!caps[i].hits)
			continue;
		if (!any) {
			json_key(w, "limits");
			json_object_begin(w);
			any = true;
		}
		json_field_uint(w, caps[i].name, caps[i].hits);
	}
	if (any)
		json_object_end(w);
}

/* The id a tunnel carries, by its kind: VXLAN and Geneve a VNI, ERSPAN II/III a session id, GRE a key. */
static const char *tunnel_id_name(enum decode_tunnel_type t)
{
	switch (t) {
	case DECODE_TUNNEL_VXLAN:
	case DECODE_TUNNEL_GENEVE:
		return "vni";
	case DECODE_TUNNEL_ERSPAN_II:
	case DECODE_TUNNEL_ERSPAN_III:
		return "session_id";
	default:
		return "key";
	}
}

/*
 * tlsobs.tunnel: how the flow's first packet reached the sensor: the outermost
 * tunnel with its own addresses and id, and the MPLS labels; absent when the
 * packet was neither tunnelled nor labelled.
 */
static void write_tunnel(struct json_writer *w, const struct decode_encap *e)
{
	if (e->tunnels == 0 && e->mpls_count == 0)
		return;
	json_key(w, "tunnel");
	json_object_begin(w);
	json_field_cstring(w, "type", e->tunnels ? decode_tunnel_type_str(e->tunnel_type) : "mpls");
	if (e->tunnels) {
		json_key(w, "source");
		json_object_begin(w);
		json_key(w, "ip");
		json_ip(w, &e->tunnel_src);
		json_object_end(w);
		json_key(w, "destination");
		json_object_begin(w);
		json_key(w, "ip");
		json_ip(w, &e->tunnel_dst);
		json_object_end(w);
		if (e->tunnel_has_id)
			json_field_uint(w, tunnel_id_name(e->tunnel_type), e->tunnel_id);
		json_field_uint(w, "depth", e->tunnels);
	}
	if (e->mpls_count) {
		json_key(w, "mpls");
		json_object_begin(w);
		json_key(w, "labels");
		json_array_begin(w);
		for (unsigned i = 0; i < e->mpls_count; i++)
			json_uint(w, e->mpls[i]);
		json_array_end(w);
		json_object_end(w);
	}
	json_object_end(w);
}

void session_event_write(struct json_writer *w, const struct session *s, const struct event_context *ctx,
                         uint64_t created_us)
{
	static const char *const category[] = {"network", NULL}, *const type[] = {"connection", "end", NULL};
	char id[EVENT_ID_LEN];
	event_id_make(id, s->id, 's', 0);
	event_begin(
	    w, ctx,
	    &(struct event_header){EVENT_TYPE_SESSION, "event", category, type, id, s->start_us, created_us});
	write_event_times(w, s);
	event_write_endpoints(w, s, true);
	event_write_network(w, s);
	event_write_related(w, s);
	write_tls(w, s, ctx->client_ciphers);
	event_tlsobs_begin(w);
	json_field_cstring(w, "session_id", s->id);
	event_write_partner(w, s);
	write_flow(w, s);
	write_tunnel(w, &s->encap);
	write_limits(w, s);
	if (s->smtp || s->protocol == SESSION_PROTOCOL_SMTP)
		write_smtp(w, s);
	write_tlsobs_tls(w, s);
	if (s->application && s->application[0]) {
		json_key(w, "ndpi");
		json_object_begin(w);
		json_field_cstring(w, "protocol", s->application);
		if (s->n_application_risks) {
			json_key(w, "risks");
			json_array_begin(w);
			for (size_t i = 0; i < s->n_application_risks; i++)
				json_cstring(w, s->application_risks[i]);
			json_array_end(w);
		}
		json_object_end(w);
	}
	if (s->dane_status != SESSION_DANE_NONE) {
		json_key(w, "dane");
		json_object_begin(w);
		json_field_cstring(w, "status", session_dane_status_str(s->dane_status));
		json_object_end(w);
	}
	json_key(w, "alerts");
	json_array_begin(w);
	size_t n =
	    json_array_cap(w, "tlsobs.alerts", kept(s->alerts.count, ALERTS_PER_SESSION), s->alerts.dropped);
	for (size_t i = 0; i < n; i++)
		json_cstring(w, s->alerts.items[i].rule->name);
	json_array_end(w);
	event_end(w);
}
