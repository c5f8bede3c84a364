#include "sensor/mail_session.h"

#include <stdlib.h>
#include <string.h>

#include "parsers/tls.h"

struct mail_session {
	bool implicit_tls;
	struct smtp_parser *smtp; /* NULL on implicit-TLS ports */
	struct tls_parser *tls;   /* from the hand-off on */
	bool in_tls[2];           /* per flow direction */
	bool client_tls_seen;     /* the client sent its first TLS byte */
	bool clear_text_gap;
	bool response_injection;
	uint8_t injected_response[SMTP_EVIDENCE_MAX];
	size_t injected_len;
};

/* Flow directions and parser directions name the sender the same way: 0 = client. */
static enum smtp_dir smtp_dir_of(enum flow_dir d)
{
	return d == FLOW_TO_SERVER ? SMTP_FROM_CLIENT : SMTP_FROM_SERVER;
}

static enum tls_dir tls_dir_of(enum flow_dir d)
{
	return d == FLOW_TO_SERVER ? TLS_FROM_CLIENT : TLS_FROM_SERVER;
}

struct mail_session *mail_session_new(bool implicit_tls, const struct smtp_options *smtp)
{
	struct mail_session *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->implicit_tls = implicit_tls;
	if (implicit_tls) {
		m->tls = tls_parser_new();
		m->in_tls[0] = m->in_tls[1] = true;
	} else {
		m->smtp = smtp_parser_new(smtp);
	}
	if (!m->tls && !m->smtp) {
		free(m);
		return NULL;
	}
	return m;
}

void mail_session_free(struct mail_session *m)
{
	if (!m)
		return;
	smtp_parser_free(m->smtp);
	tls_parser_free(m->tls);
	free(m);
}

size_t mail_session_memory(const struct mail_session *m)
{
	return m ? sizeof *m + smtp_parser_memory(m->smtp) + tls_parser_memory(m->tls) : 0;
}

static void keep_injected_response(struct mail_session *m, const uint8_t *p, size_t n)
{
	m->response_injection = true;
	size_t room = sizeof m->injected_response - m->injected_len;
	size_t take = n < room ? n : room;
	memcpy(m->injected_response + m->injected_len, p, take);
	m->injected_len += take;
}

/* TLS bytes of one direction; server bytes before the client's hello are an injected response (H8). */
static enum stream_verdict feed_tls(struct mail_session *m, enum flow_dir dir, const uint8_t *p, size_t n)
{
	if (n == 0 || !m->tls)
		return STREAM_CONTINUE;
	if (dir == FLOW_TO_SERVER) {
		m->client_tls_seen = true;
	} else if (!m->client_tls_seen && !m->implicit_tls) {
		keep_injected_response(m, p, n);
		return STREAM_CONTINUE;
	}
	return tls_parser_feed(m->tls, tls_dir_of(dir), p, n) == TLS_DECIDED ? STREAM_DONE : STREAM_CONTINUE;
}

/* The server's 220 switched both directions: the client bytes held since STARTTLS go first. */
static enum stream_verdict start_tls(struct mail_session *m)
{
	m->in_tls[0] = m->in_tls[1] = true;
	if (!m->tls && !(m->tls = tls_parser_new()))
		return STREAM_DONE;
	const uint8_t *held;
	size_t held_len;
	smtp_parser_take_held(m->smtp, &held, &held_len);
	return feed_tls(m, FLOW_TO_SERVER, held, held_len);
}

enum stream_verdict mail_session_data(struct mail_session *m, enum flow_dir dir, const uint8_t *p, size_t n)
{
	if (m->in_tls[dir])
		return feed_tls(m, dir, p, n);
	size_t consumed = 0;
	if (smtp_parser_feed(m->smtp, smtp_dir_of(dir), p, n, &consumed) != SMTP_TLS_STARTS)
		return STREAM_CONTINUE;
	enum stream_verdict v = m->in_tls[!dir] ? STREAM_CONTINUE : start_tls(m);
	m->in_tls[dir] = true;
	if (v == STREAM_DONE)
		return v;
	return feed_tls(m, dir, p + consumed, n - consumed);
}

void mail_session_gap(struct mail_session *m, enum flow_dir dir, uint64_t n)
{
	if (m->in_tls[dir]) {
		if (m->tls)
			tls_parser_gap(m->tls, tls_dir_of(dir), n);
		return;
	}
	m->clear_text_gap = true;
	smtp_parser_gap(m->smtp, smtp_dir_of(dir), n);
}

void mail_session_cut(struct mail_session *m)
{
	mail_session_gap(m, FLOW_TO_SERVER, 1);
	mail_session_gap(m, FLOW_TO_CLIENT, 1);
}

void mail_session_end(struct mail_session *m, bool rst)
{
	if (m->tls)
		tls_parser_end(m->tls, rst);
}

void mail_session_fill(const struct mail_session *m, struct session *s)
{
	s->implicit_tls = m->implicit_tls;
	s->smtp = m->smtp ? smtp_parser_observation(m->smtp) : NULL;
	s->tls = m->tls ? tls_parser_observation(m->tls) : NULL;
	s->clear_text_gap = m->clear_text_gap;
	s->response_injection = m->response_injection;
	size_t n = m->injected_len < sizeof s->injected_response - 1 ? m->injected_len : sizeof s->injected_response - 1;
	memcpy(s->injected_response, m->injected_response, n);
	s->injected_response[n] = '\0';
}
