/*
 * event_related.c: ECS related.{ip,hosts,hash} of a session (see event_related.h).
 * Names come from the wire: they are lowercased, trimmed of a trailing dot,
 * kept only when they read as a domain name, and deduplicated in a bounded set.
 */
#include "outputs/event_related.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "parsers/domain_pattern.h"
#include "parsers/smtp.h"

struct host_set {
	char names[EVENT_RELATED_MAX_HOSTS][DOMAIN_NAME_MAX + 1];
	size_t count;
	uint64_t dropped; /* distinct names beyond the cap */
};

static void host_add(struct host_set *h, const char *name)
{
	char low[DOMAIN_NAME_MAX + 2];
	size_t n = 0;
	for (; name[n] && n < sizeof low - 1; n++)
		low[n] = (char)tolower((unsigned char)name[n]);
	if (name[n])
		return; /* longer than any domain name */
	if (n > 0 && low[n - 1] == '.')
		n--;
	low[n] = '\0';
	if (n == 0 || !domain_name_valid(low))
		return; /* an address literal, a wildcard or junk: not a host name */
	for (size_t i = 0; i < h->count; i++)
		if (strcmp(h->names[i], low) == 0)
			return;
	if (h->count >= EVENT_RELATED_MAX_HOSTS) {
		h->dropped++;
		return;
	}
	memcpy(h->names[h->count++], low, n + 1); /* n <= DOMAIN_NAME_MAX: domain_name_valid */
}

/* The host a greeting line names ("220 mx.example ESMTP", "250-mx.example"), RFC 5321 4.2. */
static void host_add_greeting(struct host_set *h, const char *line)
{
	char host[DOMAIN_NAME_MAX + 2];
	if (line[0] && smtp_greeting_host(line, host, sizeof host) == 0)
		host_add(h, host);
}

static void collect_hosts(struct host_set *h, const struct session *s)
{
	if (s->tls && s->tls->client_hello_seen && s->tls->ch.sni[0])
		host_add(h, s->tls->ch.sni);
	const struct smtp_observation *o = s->smtp;
	if (o) {
		host_add_greeting(h, o->banner);
		if (o->caps.seen)
			host_add_greeting(h, o->caps.raw);
		if (o->helo[0])
			host_add(h, o->helo);
		if (o->mail_from_domain[0])
			host_add(h, o->mail_from_domain);
		for (size_t i = 0; i < o->rcpt_domain_count && i < SMTP_MAX_RCPT_DOMAINS; i++)
			host_add(h, o->rcpt_domains[i]);
	}
	const struct x509_info *x = &s->certificate.leaf;
	if (s->certificate.parsed) {
		for (unsigned i = 0; i < x->san_count && i < X509_MAX_SANS; i++)
			host_add(h, x->san_dns[i][0] == '*' && x->san_dns[i][1] == '.' ? x->san_dns[i] + 2
			                                                               : x->san_dns[i]);
		if (x->san_count == 0 && x->subject_cn[0])
			host_add(h, x->subject_cn);
	}
}

void event_write_related(struct json_writer *w, const struct session *s)
{
	struct host_set hosts;
	hosts.count = 0;
	hosts.dropped = 0;
	collect_hosts(&hosts, s);
	json_key(w, "related");
	json_object_begin(w);
	json_key(w, "ip");
	json_array_begin(w);
	json_ip(w, &s->client.ip);
	if (memcmp(&s->client.ip, &s->server.ip, sizeof s->client.ip) != 0)
		json_ip(w, &s->server.ip);
	json_array_end(w);
	if (hosts.count) {
		json_key(w, "hosts");
		json_array_begin(w);
		size_t n = json_array_cap(w, "related.hosts", hosts.count, hosts.dropped);
		for (size_t i = 0; i < n; i++)
			json_cstring(w, hosts.names[i]);
		json_array_end(w);
	}
	const struct session_certificate *c = &s->certificate;
	if (c->chain_count) {
		json_key(w, "hash");
		json_array_begin(w);
		for (unsigned i = 0; i < c->chain_count && i < X509_MAX_CHAIN; i++)
			if (c->chain_sha256[i][0])
				json_cstring(w, c->chain_sha256[i]);
		json_array_end(w);
	}
	json_object_end(w);
}
