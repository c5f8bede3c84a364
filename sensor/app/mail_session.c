/*
 * mail_session.c: one mail flow's application layer (see mail_session.h).
 *
 * The protocol is decided by the first bytes, the port only breaks ties: the
 * server speaks first in SMTP (RFC 5321 3.1), the client first in TLS
 * (RFC 8446 4.1.2). Until the bytes decide, each direction's first few bytes
 * are held here (PROTOCOL_SNIFF_MAX at most) and replayed to the chosen parser:
 *  - the server's first bytes are an SMTP reply line: SMTP, on any port; on an
 *    implicit-TLS port that is cleartext_on_tls_port, and the conversation is
 *    parsed as SMTP so the STARTTLS rules see what the client does next;
 *  - the client speaks first with a ClientHello record: implicit TLS, on any
 *    port (a wrapper-mode server on 587). The server's first bytes are still
 *    looked at: a server that greets in clear after all turns it into SMTP (the
 *    client's hello is then evidence, not a command);
 *  - anything else: the port's protocol.
 * A gap or the end of the flow before the bytes decide settles on the port's
 * protocol.
 */
#include "sensor/app/mail_session.h"

#include <stdlib.h>
#include <string.h>

#include "parsers/protocol_sniff.h"
#include "parsers/tls.h"
#include "sensor/app/zero_pack.h"

enum mail_mode { MAIL_SNIFF, MAIL_SMTP, MAIL_TLS };

/* Laid out small (under 100 bytes): a flow that got its banner and went idle costs this and its SMTP
 * parser; the evidence buffers come only when there is evidence to keep, the released state at the
 * release. */
struct mail_session {
	struct smtp_parser *smtp;                /* NULL until SMTP is chosen */
	struct tls_parser *tls;                  /* from the hand-off (or the choice of implicit TLS) on */
	const struct smtp_options *smtp_options; /* borrowed, outlives the session */
	/* The client's first bytes (cleartext_on_tls_port evidence), SMTP_EVIDENCE_MAX at most: only on an
	 * implicit-TLS port, until the protocol is decided without that finding (keep_client_first). */
	uint8_t *client_first;
	char *injected_response;   /* SMTP_EVIDENCE_MAX - 1 bytes from the first injected byte, NULL before */
	struct mail_released *rel; /* made by mail_session_release */
	uint16_t client_first_len;
	uint16_t injected_len;
	uint8_t head[2][PROTOCOL_SNIFF_MAX]; /* per flow direction, held while undecided */
	uint8_t head_len[2];
	uint8_t mode;        /* enum mail_mode */
	uint8_t first;       /* enum flow_dir: the side whose byte came first (valid once a byte came) */
	bool tls_port;       /* the port (or nDPI) suggests TLS from the first byte */
	bool server_pending; /* TLS chosen, the server's first bytes not yet seen: they may still say SMTP */
	bool implicit_tls;
	bool cleartext_on_tls_port;
	bool in_tls[2];       /* per flow direction */
	bool client_tls_seen; /* the client sent its first TLS byte */
	bool clear_text_gap;
	bool response_injection;
	bool injected_cut; /* bytes past injected_response were left out (counted once, as text_truncated) */
	bool released;
	bool had_smtp, had_tls;
};

/*
 * Released (mail_session_release): the parsers are gone, their observations
 * kept packed until the event; unpacked into `view` by mail_session_fill. The
 * TLS observation's certificate copies and fingerprint lists stay on the heap,
 * their pointers kept in tls_kept. Apart from the session, which a live flow
 * keeps small.
 */
struct mail_released {
	uint8_t *smtp_packed, *tls_packed; /* zero_pack's: smtp of smtp_parser_freeze's bytes, tls of the
	                                    * observation */
	struct tls_kept *tls_kept;         /* the TLS observation's pointers, packed apart */
	struct mail_view {
		struct smtp_observation smtp;
		struct tls_observation tls;
	} * view;
	uint32_t smtp_packed_len, tls_packed_len;
};

_Static_assert(SMTP_EVIDENCE_MAX <= UINT16_MAX && PROTOCOL_SNIFF_MAX <= UINT8_MAX, "lengths fit");

/*
 * What a released TLS observation points to: packed apart from the rest, so
 * that the packed length (charged to the memcap) depends on what was observed,
 * never on where the heap put it.
 */
struct tls_kept {
	const uint8_t *cert_der[TLS_MAX_CERTS]; /* owned: the certificate copies */
	struct tls_fingerprint_input fp;        /* owned: the fingerprint lists */
	size_t owned;                           /* heap bytes those hold */
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
	m->tls_port = implicit_tls;
	m->smtp_options = smtp;
	return m;
}

/* A released TLS observation, whole again: its packed bytes and its pointers. false: out of shape. */
static bool unpack_tls(const struct mail_session *m, struct tls_observation *o)
{
	if (!zero_unpack(m->rel->tls_packed, m->rel->tls_packed_len, o, sizeof *o))
		return false;
	memcpy(o->cert_der, m->rel->tls_kept->cert_der, sizeof o->cert_der);
	o->fp = m->rel->tls_kept->fp;
	return true;
}

/* What the released TLS observation points to goes with it. */
static void free_released_tls(struct mail_session *m)
{
	if (!m->rel)
		return;
	if (m->rel->tls_kept) {
		struct tls_observation o;
		if (unpack_tls(m, &o))
			tls_observation_free(&o);
	}
	free(m->rel->tls_packed);
	free(m->rel->tls_kept);
	m->rel->tls_packed = NULL;
	m->rel->tls_kept = NULL;
}

void mail_session_free(struct mail_session *m)
{
	if (!m)
		return;
	smtp_parser_free(m->smtp);
	tls_parser_free(m->tls);
	if (m->rel) {
		free(m->rel->smtp_packed);
		free_released_tls(m);
		free(m->rel->view);
		free(m->rel);
	}
	free(m->client_first);
	free(m->injected_response);
	free(m);
}

size_t mail_session_memory(const struct mail_session *m)
{
	if (!m)
		return 0;
	size_t evidence =
	    (m->client_first ? SMTP_EVIDENCE_MAX : 0) + (m->injected_response ? SMTP_EVIDENCE_MAX - 1 : 0);
	if (m->released) /* the view is made for the event only, just before the session is freed */
		return sizeof *m + evidence + sizeof *m->rel + m->rel->smtp_packed_len +
		       m->rel->tls_packed_len +
		       (m->rel->tls_kept ? sizeof *m->rel->tls_kept + m->rel->tls_kept->owned : 0);
	return sizeof *m + evidence + smtp_parser_memory(m->smtp) + tls_parser_memory(m->tls);
}

static void keep_injected_response(struct mail_session *m, const uint8_t *p, size_t n)
{
	m->response_injection = true;
	if (!m->injected_response && !(m->injected_response = malloc(SMTP_EVIDENCE_MAX - 1)))
		return; /* out of memory: the finding without its evidence */
	size_t room = SMTP_EVIDENCE_MAX - 1 - m->injected_len;
	size_t take = n < room ? n : room;
	memcpy(m->injected_response + m->injected_len, p, take);
	m->injected_len = (uint16_t)(m->injected_len + take);
	if (take < n && !m->injected_cut && m->smtp) {
		m->injected_cut = true;
		smtp_parser_count_truncated(m->smtp);
	}
}

/* TLS bytes of one direction; server bytes before the client's hello are an injected response
 * (starttls_response_injection). */
static enum stream_verdict feed_tls(struct mail_session *m, enum flow_dir dir, const uint8_t *p, size_t n)
{
	if (n == 0)
		return STREAM_CONTINUE;
	if (!m->tls)
		return STREAM_DONE; /* its parser could not be made */
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

/* Bytes of a decided session: SMTP until the STARTTLS hand-off, TLS after it. */
static enum stream_verdict route(struct mail_session *m, enum flow_dir dir, const uint8_t *p, size_t n)
{
	if (n == 0)
		return STREAM_CONTINUE;
	if (m->in_tls[dir])
		return feed_tls(m, dir, p, n);
	if (!m->smtp)
		return STREAM_DONE; /* its parser could not be made */
	size_t consumed = 0;
	if (smtp_parser_feed(m->smtp, smtp_dir_of(dir), p, n, &consumed) != SMTP_TLS_STARTS)
		return STREAM_CONTINUE;
	enum stream_verdict v = m->in_tls[!dir] ? STREAM_CONTINUE : start_tls(m);
	m->in_tls[dir] = true;
	if (v == STREAM_DONE)
		return v;
	return feed_tls(m, dir, p + consumed, n - consumed);
}

/* Makes the parser of the chosen protocol; the held bytes are replayed by the caller. */
static void choose(struct mail_session *m, enum mail_mode mode)
{
	m->mode = (uint8_t)mode;
	if (mode == MAIL_TLS) {
		m->implicit_tls = true;
		m->in_tls[0] = m->in_tls[1] = true;
		m->server_pending = m->head_len[FLOW_TO_CLIENT] == 0;
		m->tls = tls_parser_new();
	} else {
		m->smtp = smtp_parser_new(m->smtp_options);
	}
}

/* The server greeted in clear after all: what was taken for implicit TLS is SMTP. */
static void switch_to_smtp(struct mail_session *m)
{
	tls_parser_free(m->tls);
	m->tls = NULL;
	m->implicit_tls = false;
	m->in_tls[0] = m->in_tls[1] = false;
	m->client_tls_seen = false;
	m->mode = (uint8_t)MAIL_SMTP;
	m->smtp = smtp_parser_new(m->smtp_options);
}

static size_t hold(struct mail_session *m, enum flow_dir dir, const uint8_t *p, size_t n)
{
	size_t room = PROTOCOL_SNIFF_MAX - m->head_len[dir];
	size_t take = n < room ? n : room;
	memcpy(m->head[dir] + m->head_len[dir], p, take);
	m->head_len[dir] = (uint8_t)(m->head_len[dir] + take);
	return take;
}

/* Hands one direction's held bytes to the chosen parser. */
static enum stream_verdict replay_head(struct mail_session *m, enum flow_dir dir)
{
	size_t n = m->head_len[dir];
	m->head_len[dir] = 0;
	return route(m, dir, m->head[dir], n);
}

/* Chooses, replays the held bytes (the side that spoke first first), then the rest of the current chunk. */
static enum stream_verdict settle(struct mail_session *m, enum mail_mode mode, enum flow_dir first,
                                  enum flow_dir dir, const uint8_t *rest, size_t n)
{
	choose(m, mode);
	enum stream_verdict v = replay_head(m, first);
	if (v != STREAM_DONE)
		v = replay_head(m, (enum flow_dir) !first);
	if (v != STREAM_DONE)
		v = route(m, dir, rest, n);
	return v;
}

static enum mail_mode port_mode(const struct mail_session *m)
{
	return m->tls_port ? MAIL_TLS : MAIL_SMTP;
}

/* The server's first bytes: an SMTP reply decides SMTP, anything else the port's protocol. */
static enum stream_verdict sniff_server(struct mail_session *m, const uint8_t *p, size_t n)
{
	size_t take = hold(m, FLOW_TO_CLIENT, p, n);
	enum protocol_sniff v =
	    protocol_sniff_smtp_reply(m->head[FLOW_TO_CLIENT], m->head_len[FLOW_TO_CLIENT]);
	if (v == PROTOCOL_SNIFF_NEED_MORE)
		return STREAM_CONTINUE; /* all taken: a reply is decided within PROTOCOL_SNIFF_MAX bytes */
	if (v == PROTOCOL_SNIFF_YES)
		m->cleartext_on_tls_port = m->tls_port;
	return settle(m, v == PROTOCOL_SNIFF_YES ? MAIL_SMTP : port_mode(m), (enum flow_dir)m->first,
	              FLOW_TO_CLIENT, p + take, n - take);
}

/* The client's first bytes, before any server byte: a ClientHello decides implicit TLS. */
static enum stream_verdict sniff_client(struct mail_session *m, const uint8_t *p, size_t n)
{
	size_t take = hold(m, FLOW_TO_SERVER, p, n);
	if (m->head_len[FLOW_TO_CLIENT] > 0) { /* the server began a line the client did not wait for */
		if (take == n)
			return STREAM_CONTINUE;
		return settle(m, port_mode(m), FLOW_TO_CLIENT, FLOW_TO_SERVER, p + take, n - take);
	}
	enum protocol_sniff v =
	    protocol_sniff_client_hello(m->head[FLOW_TO_SERVER], m->head_len[FLOW_TO_SERVER]);
	if (v == PROTOCOL_SNIFF_NEED_MORE)
		return STREAM_CONTINUE;
	return settle(m, v == PROTOCOL_SNIFF_YES ? MAIL_TLS : port_mode(m), FLOW_TO_SERVER, FLOW_TO_SERVER,
	              p + take, n - take);
}

/* TLS was chosen before the server said anything: its first bytes may still be an SMTP greeting. */
static enum stream_verdict judge_server(struct mail_session *m, const uint8_t *p, size_t n)
{
	size_t take = hold(m, FLOW_TO_CLIENT, p, n);
	enum protocol_sniff v =
	    protocol_sniff_smtp_reply(m->head[FLOW_TO_CLIENT], m->head_len[FLOW_TO_CLIENT]);
	if (v == PROTOCOL_SNIFF_NEED_MORE)
		return STREAM_CONTINUE;
	m->server_pending = false;
	if (v == PROTOCOL_SNIFF_YES) {
		m->cleartext_on_tls_port = m->tls_port;
		switch_to_smtp(m);
	}
	enum stream_verdict verdict = replay_head(m, FLOW_TO_CLIENT);
	return verdict == STREAM_DONE ? verdict : route(m, FLOW_TO_CLIENT, p + take, n - take);
}

/*
 * Nothing more will decide (a gap, the end): the port's protocol, or the TLS
 * already chosen. server_side: the server's first bytes will not come either
 * (a gap in its direction, or the end).
 */
static void settle_now(struct mail_session *m, bool server_side)
{
	if (m->mode == MAIL_SNIFF)
		settle(m, port_mode(m), (enum flow_dir)m->first, (enum flow_dir)m->first, NULL, 0);
	if (m->server_pending && server_side) {
		m->server_pending = false;
		replay_head(m, FLOW_TO_CLIENT);
	}
}

/* Whether the client's first bytes may still be cleartext_on_tls_port evidence: only on an implicit-TLS
 * port, while undecided or once that was found (it is found at the decision, never later). */
static bool client_first_wanted(const struct mail_session *m)
{
	return m->tls_port && (m->mode == MAIL_SNIFF || m->server_pending || m->cleartext_on_tls_port);
}

static void keep_client_first(struct mail_session *m, enum flow_dir dir, const uint8_t *p, size_t n)
{
	if (dir != FLOW_TO_SERVER || !client_first_wanted(m))
		return;
	size_t room = SMTP_EVIDENCE_MAX - m->client_first_len;
	if (room == 0 || (!m->client_first && !(m->client_first = malloc(SMTP_EVIDENCE_MAX))))
		return;
	size_t take = n < room ? n : room;
	memcpy(m->client_first + m->client_first_len, p, take);
	m->client_first_len = (uint16_t)(m->client_first_len + take);
}

/* Decided without the finding: the evidence goes (the event reads it only with the finding). */
static void drop_client_first(struct mail_session *m)
{
	if (!m->client_first || client_first_wanted(m))
		return;
	free(m->client_first);
	m->client_first = NULL;
	m->client_first_len = 0;
}

enum stream_verdict mail_session_data(struct mail_session *m, enum flow_dir dir, const uint8_t *p, size_t n)
{
	/* Late bytes of a released session: the stream counts them, no parser reads them. */
	if (m->released)
		return STREAM_CONTINUE;
	if (n == 0)
		return STREAM_CONTINUE;
	keep_client_first(m, dir, p, n);
	if (m->mode == MAIL_SNIFF && m->head_len[0] == 0 && m->head_len[1] == 0)
		m->first = (uint8_t)dir;
	enum stream_verdict v;
	if (m->mode == MAIL_SNIFF)
		v = dir == FLOW_TO_CLIENT ? sniff_server(m, p, n) : sniff_client(m, p, n);
	else if (m->server_pending && dir == FLOW_TO_CLIENT)
		v = judge_server(m, p, n);
	else
		v = route(m, dir, p, n);
	drop_client_first(m);
	/* A handshake decided on the client's bytes alone still waits for the server's first bytes. */
	return m->server_pending ? STREAM_CONTINUE : v;
}

void mail_session_gap(struct mail_session *m, enum flow_dir dir, uint64_t n)
{
	if (m->released)
		return;
	settle_now(m, dir == FLOW_TO_CLIENT);
	if (m->in_tls[dir]) {
		if (m->tls)
			tls_parser_gap(m->tls, tls_dir_of(dir), n);
		return;
	}
	m->clear_text_gap = true;
	if (m->smtp)
		smtp_parser_gap(m->smtp, smtp_dir_of(dir), n);
}

void mail_session_cut(struct mail_session *m)
{
	mail_session_gap(m, FLOW_TO_SERVER, 1);
	mail_session_gap(m, FLOW_TO_CLIENT, 1);
}

void mail_session_end(struct mail_session *m, bool rst)
{
	if (m->released)
		return;
	settle_now(m, true);
	if (m->tls)
		tls_parser_end(m->tls, rst);
}

void mail_session_stop(struct mail_session *m)
{
	if (m->released)
		return;
	settle_now(m, true); /* the TLS parser is left undecided: its outcome says how far it got */
}

/* The SMTP observation of a released session, from the parser's frozen bytes. */
static bool unpack_smtp(const struct mail_session *m, struct smtp_observation *o)
{
	size_t size = zero_packed_size(m->rel->smtp_packed, m->rel->smtp_packed_len);
	uint8_t *frozen = size ? malloc(size) : NULL;
	bool ok = frozen && zero_unpack(m->rel->smtp_packed, m->rel->smtp_packed_len, frozen, size) &&
	          smtp_frozen_observation(frozen, size, o);
	free(frozen);
	return ok;
}

/* A released session's observations, as the parsers held them, for the event. */
static void fill_released(struct mail_session *m, struct session *s)
{
	if (!m->rel->view && !(m->rel->view = malloc(sizeof *m->rel->view)))
		return; /* out of memory: the event says no SMTP/TLS was observed */
	if (m->had_smtp && unpack_smtp(m, &m->rel->view->smtp))
		s->smtp = &m->rel->view->smtp;
	if (m->had_tls && unpack_tls(m, &m->rel->view->tls))
		s->tls = &m->rel->view->tls;
}

void mail_session_fill(struct mail_session *m, struct session *s)
{
	s->implicit_tls = m->mode == MAIL_SNIFF ? m->tls_port : m->implicit_tls;
	s->smtp = m->smtp ? smtp_parser_observation(m->smtp) : NULL;
	s->tls = m->tls ? tls_parser_observation(m->tls) : NULL;
	if (m->released)
		fill_released(m, s);
	s->clear_text_gap = m->clear_text_gap;
	s->response_injection = m->response_injection;
	size_t n = m->injected_len < sizeof s->injected_response - 1 ? m->injected_len
	                                                             : sizeof s->injected_response - 1;
	if (n > 0)
		memcpy(s->injected_response, m->injected_response, n);
	s->injected_response[n] = '\0';
	s->cleartext_on_tls_port = m->cleartext_on_tls_port;
	_Static_assert(sizeof s->client_first_bytes >= SMTP_EVIDENCE_MAX, "client evidence size");
	if (m->client_first_len > 0)
		memcpy(s->client_first_bytes, m->client_first, m->client_first_len);
	s->client_first_len = m->client_first_len;
}

bool mail_session_settled(const struct mail_session *m)
{
	if (m->released)
		return true;
	if (m->mode == MAIL_SNIFF || m->server_pending || !m->in_tls[0] || !m->in_tls[1] || !m->tls)
		return false;
	enum tls_outcome o = tls_parser_observation(m->tls)->outcome;
	return o != TLS_OUTCOME_NONE && o != TLS_OUTCOME_IN_PROGRESS;
}

/* The TLS observation packed, its pointers kept apart (tls_kept). false when out of memory. */
static bool pack_tls(struct mail_session *m)
{
	struct tls_observation o = *tls_parser_observation(m->tls);
	if (!(m->rel->tls_kept = calloc(1, sizeof *m->rel->tls_kept)))
		return false;
	memcpy(m->rel->tls_kept->cert_der, o.cert_der, sizeof o.cert_der);
	m->rel->tls_kept->fp = o.fp;
	memset(o.cert_der, 0, sizeof o.cert_der);
	memset(&o.fp, 0, sizeof o.fp);
	size_t len = 0;
	if ((m->rel->tls_packed = zero_pack(&o, sizeof o, &len))) {
		m->rel->tls_packed_len = (uint32_t)len; /* at most the observation's size */
		return true;
	}
	free(m->rel->tls_kept);
	m->rel->tls_kept = NULL;
	return false;
}

/* Packs the parsers' observations; false when out of memory (the session then stays as it was). */
static bool pack_observations(struct mail_session *m)
{
	size_t len = 0;
	/* The SMTP parser's own compact form, packed (its counters are mostly zeros): building the 12 KiB
	 * observation to pack it cost 4% of a bench run (issue 15). */
	if (m->smtp) {
		size_t frozen_len = 0;
		uint8_t *frozen = smtp_parser_freeze(m->smtp, &frozen_len);
		m->rel->smtp_packed = frozen ? zero_pack(frozen, frozen_len, &len) : NULL;
		free(frozen);
		if (!m->rel->smtp_packed)
			return false;
	}
	m->rel->smtp_packed_len = (uint32_t)len; /* at most the frozen bytes' size and a few */
	if (m->tls && !pack_tls(m)) {
		free(m->rel->smtp_packed);
		m->rel->smtp_packed = NULL;
		return false;
	}
	return true;
}

bool mail_session_release(struct mail_session *m, bool rst)
{
	if (m->released)
		return true;
	mail_session_end(m, rst);
	if (!(m->rel = calloc(1, sizeof *m->rel)))
		return false;
	if (!pack_observations(m)) {
		free(m->rel);
		m->rel = NULL;
		return false;
	}
	m->had_smtp = m->smtp != NULL;
	m->had_tls = m->tls != NULL;
	smtp_parser_free(m->smtp);
	m->smtp = NULL;
	if (m->tls) {
		struct tls_observation o;
		tls_parser_release(m->tls, &o); /* tls_kept now owns what o points to */
		m->rel->tls_kept->owned = tls_observation_memory(&o);
		m->tls = NULL;
	}
	m->released = true;
	return true;
}
