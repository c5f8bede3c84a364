/*
 * flow_record.c: the per-flow application glue between the TCP tracker and the
 * SMTP/TLS parsers (see flow_record.h). Owns the flow records: their
 * classification state, held first bytes, mail session and stream dump.
 */
#include "sensor/app/flow_record.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/event_common.h"
#include "parsers/pcapng.h"
#include "sensor/app/flow_session.h"
#include "sensor/app/mail_session.h"
#include "sensor/flow/stream_dump.h"
#include "sensor/flow/stream_hold.h"
#include "sensor/flow/tcp_tracker.h"

struct flow_record {
	struct flow_records *rs;
	struct stream_dump *dump;
	struct mail_session *mail; /* created at the first payload byte, so half-open floods cost nothing */
	/* Classification (nDPI). A flow on a configured port is mail by its port and classified only for
	 * network.application and risks; any other flow (capture.any_port) is mail only if nDPI says so,
	 * and its first bytes wait in `held` until it does. */
	struct classify_flow *cls;   /* from the first payload until nDPI is done with the flow */
	struct classify_result kept; /* what the event needs of nDPI's verdict (named at the event) */
	const char *ingress; /* the first packet's interface (interned, or ingress_owned), NULL unknown */
	struct stream_hold held;
	uint8_t verdict; /* enum classify_verdict */
	bool mail_failed;
	bool memcap_stopped; /* parsing stopped: the memcap had no room for the parsers' memory */
	bool released;       /* decided and closed: the parsers are gone, their observations kept */
	bool by_port;
	bool implicit_tls;
	bool cls_started;   /* cls was made (a SYN flood costs no nDPI state) */
	bool ingress_owned; /* ingress is the record's own copy: the interned names were all taken */
};

void mail_ports_add(uint8_t *bitmap, const uint16_t *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bitmap[ports[i] / 8] |= (uint8_t)(1u << (ports[i] % 8));
}

bool mail_ports_has(const uint8_t *bitmap, uint16_t port)
{
	return bitmap[port / 8] & (1u << (port % 8));
}

/*
 * Interface names, interned for the whole process: a live capture names every
 * flow's interface, and a pointer costs a flow 8 bytes where a copy cost 64.
 * Names are written once under the lock and never change; past
 * INGRESS_INTERNED names a flow keeps its own copy (charged).
 */
enum { INGRESS_INTERNED = 32 };
static char ingress_names[INGRESS_INTERNED][PCAPNG_NAME_MAX];
static unsigned ingress_count;
static pthread_mutex_t ingress_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *ingress_intern(const char *name)
{
	const char *found = NULL;
	pthread_mutex_lock(&ingress_lock);
	for (unsigned i = 0; i < ingress_count && !found; i++)
		if (strcmp(ingress_names[i], name) == 0)
			found = ingress_names[i];
	if (!found && ingress_count < INGRESS_INTERNED) {
		snprintf(ingress_names[ingress_count], PCAPNG_NAME_MAX, "%s", name);
		found = ingress_names[ingress_count++];
	}
	pthread_mutex_unlock(&ingress_lock);
	return found;
}

/* The record's ingress: the interface name as an event keeps it (PCAPNG_NAME_MAX - 1 bytes at most). */
static void set_ingress(struct flow_records *rs, struct flow_record *r)
{
	if (!rs->interface || !rs->interface[0])
		return;
	char name[PCAPNG_NAME_MAX];
	snprintf(name, sizeof name, "%s", rs->interface);
	if (!rs->ingress_last || strcmp(rs->ingress_last, name) != 0)
		rs->ingress_last = ingress_intern(name); /* the lock only when the interface changes */
	r->ingress = rs->ingress_last;
	if (!r->ingress)
		r->ingress_owned = (r->ingress = strdup(name)) != NULL;
}

static void drop_ingress(struct flow_record *r)
{
	if (r->ingress_owned)
		free((char *)r->ingress);
	r->ingress = NULL;
	r->ingress_owned = false;
}

/* What the record holds now, itself and everything it allocated: its charge to the memcap. */
static uint64_t record_memory(const struct flow_record *r)
{
	return sizeof *r + mail_session_memory(r->mail) + stream_hold_memory(&r->held) +
	       classify_flow_memory(r->cls) + (r->ingress_owned ? strlen(r->ingress) + 1 : 0);
}

/* Charged to the memcap like the flow itself: a SYN flood's flows cost their records too. */
static void *record_open(void *ctx, struct flow *f)
{
	struct flow_records *rs = ctx;
	if (!flow_table_charge(rs->flows, f, sizeof(struct flow_record), rs->now_us))
		return NULL; /* the flow is still counted; no session can come of it */
	struct flow_record *r = calloc(1, sizeof *r);
	if (!r) {
		flow_table_charge(rs->flows, f, 0, rs->now_us);
		return NULL;
	}
	const struct mail_ports *mp = rs->ports;
	r->rs = rs;
	if (rs->dump_dir)
		r->dump = stream_dump_new(rs->dump_dir);
	r->by_port =
	    mail_ports_has(mp->service, f->server.port) || mail_ports_has(mp->service, f->client.port);
	r->implicit_tls = mail_ports_has(mp->implicit_tls, f->server.port);
	set_ingress(rs, r);
	if (r->ingress_owned && !flow_table_charge(rs->flows, f, record_memory(r), rs->now_us))
		drop_ingress(r); /* no room for the name: the event says the interface is unknown */
	if (!rs->classifier && !r->by_port)
		r->verdict = CLASSIFY_OTHER; /* nothing can tell: not ours */
	return r;
}

bool flow_record_is_mail(const struct flow_record *r)
{
	return !r || r->by_port || classify_verdict_is_mail(r->verdict);
}

static struct mail_session *mail_of(struct flow_record *r)
{
	if (!r->mail && !r->mail_failed) {
		r->mail = mail_session_new(r->implicit_tls, r->rs->smtp);
		r->mail_failed = r->mail == NULL;
	}
	return r->mail;
}

/*
 * The parsers allocate as the flow goes (line buffers, handshake assembly,
 * certificate copies); their bytes are charged to the same memcap as flows and
 * segments, after the fact, making room as a new flow would (emergency mode,
 * then evicting the cheapest other flows: half-open ones first, so a SYN flood
 * does not starve real sessions; the evicted end after the packet). A flow for
 * which no room can be made stops being parsed and takes no more (its session
 * says so in tlsobs.limits.parser_memcap); what it holds is freed when the flow
 * ends.
 */
static bool charge_parsers(struct flow_record *r, struct flow *f)
{
	if (flow_table_charge(r->rs->flows, f, record_memory(r), r->rs->now_us))
		return true;
	r->memcap_stopped = true;
	r->rs->stats.parser_memcap_stops++;
	if (r->mail)
		mail_session_cut(r->mail);
	return false;
}

static enum stream_verdict record_data(void *state, struct flow *f, enum flow_dir dir, const uint8_t *p,
                                       size_t n)
{
	struct flow_record *r = state;
	if (!r)
		return STREAM_DONE;
	if (r->dump && stream_dump_write(r->dump, f, dir, p, n) != 0) {
		/* Count, and stop dumping this flow rather than write a file with holes. */
		r->rs->stats.dump_errors++;
		stream_dump_free(r->dump);
		r->dump = NULL;
	}
	if (r->memcap_stopped)
		return r->dump ? STREAM_CONTINUE : STREAM_DONE;
	if (!flow_record_is_mail(r)) {
		if (r->verdict != CLASSIFY_PENDING)
			return r->dump ? STREAM_CONTINUE : STREAM_DONE; /* not mail: no parser wants it */
		bool overflowed = r->held.overflow;
		if (!stream_hold_add(&r->held, dir, p, n) && !overflowed)
			r->rs->stats.hold_overflows++; /* once per flow */
		return charge_parsers(r, f) ? STREAM_CONTINUE : STREAM_DONE;
	}
	struct mail_session *m = mail_of(r);
	enum stream_verdict v = m ? mail_session_data(m, dir, p, n) : STREAM_DONE;
	if (m && dir == FLOW_TO_SERVER) /* the client speaks to an SMTP or TLS session: evicted last */
		flow_set_value(f, FLOW_VALUE_SESSION);
	if (m && !charge_parsers(r, f))
		v = STREAM_DONE;
	/* Dumping wants every byte; otherwise a decided handshake ends reassembly. */
	return r->dump ? STREAM_CONTINUE : v;
}

static enum stream_verdict record_gap(void *state, struct flow *f, enum flow_dir dir, uint64_t n)
{
	struct flow_record *r = state;
	(void)f;
	if (r && r->mail)
		mail_session_gap(r->mail, dir, n);
	else if (r && !flow_record_is_mail(r) && r->verdict == CLASSIFY_PENDING)
		r->held.overflow = true; /* held bytes with a hole cannot be replayed as a stream */
	return STREAM_CONTINUE;
}

struct flow_consumer flow_record_consumer(struct flow_records *rs)
{
	return (struct flow_consumer){record_open, record_data, record_gap, rs};
}

/* ---- classification ---- */

_Static_assert(CLASSIFY_VERDICT_COUNT ==
                   sizeof(((struct flow_record_stats *)0)->classified) / sizeof(uint64_t),
               "one counter per verdict");

static void replay_held(void *ctx, enum flow_dir dir, const uint8_t *p, size_t n)
{
	struct flow_record *r = ctx;
	struct mail_session *m = mail_of(r);
	if (m)
		mail_session_data(m, dir, p, n);
}

/* Keeps what the session event needs from nDPI (named at the event); the flow's nDPI state may go after
 * this. */
static void keep_classification(struct flow_record *r)
{
	r->kept = classify_flow_result(r->cls);
}

/*
 * nDPI decided. Mail found off the configured ports gets parsers now, fed what
 * was held; a hold that overflowed or had a hole leaves a gap at its start, so
 * the STARTTLS verdict is incomplete rather than wrong. Anything else stops
 * here: no reassembly, no parsers, no event unless capture.all_flows.
 */
static void classification_decided(struct flow *f, struct flow_record *r, enum classify_verdict v)
{
	r->verdict = v;
	keep_classification(r);
	r->rs->stats.classified[v]++;
	if (r->by_port)
		return;
	if (classify_verdict_is_mail(v)) {
		r->implicit_tls = v == CLASSIFY_MAIL_SMTPS;
		if (r->held.overflow && mail_of(r))
			mail_session_cut(r->mail); /* the start is missing */
		stream_hold_replay(&r->held, replay_held, r);
	} else if (!r->dump) {
		f->consumer_done = true;
	}
	stream_hold_release(&r->held);
	charge_parsers(r, f);
}

/* No memory for nDPI: the flow goes unclassified, as when its state could not be made (off the mail ports:
 * not mail, its held bytes dropped). */
static void drop_classification(struct flow *f, struct flow_record *r)
{
	classify_flow_free(r->cls);
	r->cls = NULL;
	if (r->by_port || r->verdict != CLASSIFY_PENDING)
		return;
	r->verdict = CLASSIFY_OTHER;
	stream_hold_release(&r->held);
	if (!r->dump)
		f->consumer_done = true;
}

/* nDPI's state grows (held packets, its flow state, what it allocates) and shrinks: the charge follows. */
static void charge_classification(struct flow_record *r, struct flow *f)
{
	if (flow_table_charge(r->rs->flows, f, record_memory(r), r->rs->now_us))
		return;
	drop_classification(f, r);
	flow_table_charge(r->rs->flows, f, record_memory(r), r->rs->now_us); /* smaller: always fits */
}

/*
 * nDPI starts at the first payload. Where the server speaks first (SMTP), nDPI
 * waits for the client's first payload with the packets held (classify.h): a
 * connection that gets its banner and goes idle costs no nDPI state. Not with
 * every dissector on (capture.all_flows): some decide on the server's bytes
 * alone, and a flow off the mail ports ends there.
 */
static void start_classification(struct flow_records *rs, struct flow *f, struct flow_record *r)
{
	r->cls_started = true;
	r->cls = classify_flow_new(rs->classifier);
	if (r->cls && (r->by_port || !classifier_all_protocols(rs->classifier)))
		classify_flow_wait_for_client(r->cls);
	if (r->cls && !charge_parsers(r, f)) {
		classify_flow_free(r->cls);
		r->cls = NULL;
	}
	if (!r->cls && !r->by_port)
		r->verdict = CLASSIFY_OTHER;
}

void flow_record_classify(struct flow_records *rs, struct flow *f, enum flow_dir dir,
                          const struct decoded_packet *p, uint64_t ts_us)
{
	struct flow_record *r = f->consumer_state;
	if (!r || !rs->classifier || r->memcap_stopped)
		return;
	if (!r->cls_started && p->payload_len > 0)
		start_classification(rs, f, r);
	if (!r->cls)
		return;
	enum classify_verdict v =
	    classify_packet(rs->classifier, r->cls, p->ip, p->ip_len, ts_us, dir == FLOW_TO_SERVER);
	if (v != CLASSIFY_PENDING && r->verdict == CLASSIFY_PENDING)
		classification_decided(f, r, v);
	if (r->cls && classify_flow_done(r->cls)) {
		keep_classification(r); /* risks found after the decision */
		classify_flow_free(r->cls);
		r->cls = NULL;
	}
	charge_classification(r, f);
}

void flow_record_classification_end(struct flow_records *rs, struct flow *f, struct flow_record *r)
{
	if (!r || !r->cls)
		return;
	if (r->verdict == CLASSIFY_PENDING)
		classification_decided(f, r, classify_finish(rs->classifier, r->cls));
	else
		keep_classification(r);
	classify_flow_free(r->cls);
	r->cls = NULL;
}

/* ---- release at close ---- */

/* Nothing is left for the end of the flow to deliver in this direction: no buffered segment past a hole, and
 * every byte before a FIN seen (tcp_tracker_flush would otherwise still feed or declare a gap). */
static bool side_drained(const struct flow *f, enum flow_dir d)
{
	const struct tcp_stream *st = &f->side[d].stream;
	if (f->consumer_done || st->done)
		return true;
	return st->ooo.root == NULL && (!st->fin_seen || st->next_seq == st->fin_seq);
}

/*
 * The session needs no more bytes: a handshake bypass (decided, both
 * directions in TLS: nothing later changes its observations), or the peers
 * closed it (FIN both ways, or a RST) with nothing left to deliver. Not while
 * dumping (the dump wants every byte) or after a memcap stop (its cut is
 * redone at the end).
 */
static bool releasable(const struct flow *f, const struct flow_record *r)
{
	if (!r->mail || r->released || r->dump || r->memcap_stopped)
		return false;
	if (f->consumer_done && mail_session_settled(r->mail))
		return true;
	return f->state == FLOW_STATE_CLOSED && side_drained(f, FLOW_TO_SERVER) &&
	       side_drained(f, FLOW_TO_CLIENT);
}

void flow_record_settle(struct flow_records *rs, struct flow *f)
{
	struct flow_record *r = f->consumer_state;
	if (!r || !releasable(f, r))
		return;
	bool rst = f->side[0].rst || f->side[1].rst;
	if (!mail_session_release(r->mail, rst))
		return; /* out of memory: kept as it was, ended at the flow's end */
	r->released = true;
	rs->stats.parsers_released++;
	/* A closed flow has no packet left for nDPI: what it decided is kept now (as at the flow's end). */
	if (f->state == FLOW_STATE_CLOSED)
		flow_record_classification_end(rs, f, r);
	charge_parsers(r, f); /* smaller: always fits */
}

/* ---- the session record ---- */

static void copy_stream_counters(struct session_stream_counters *c, const struct tcp_stream *st)
{
	c->delivered = st->delivered;
	c->gaps = st->gaps;
	c->gap_bytes = st->gap_bytes;
	c->retransmitted_bytes = st->retransmitted_bytes;
	c->overlap_conflicts = st->overlap_conflicts;
	c->out_of_window = st->out_of_window;
	c->ooo_cap_hits = st->ooo_cap_hits;
	c->memcap_drops = st->memcap_drops;
	c->depth_reached = st->depth_reached;
}

static void fill_flow(struct session *sess, const struct flow *f, enum flow_close_reason reason,
                      uint64_t run_nonce)
{
	/* All but the alerts' slots (107 of the session's 126 KiB): alert_list_add clears each slot it hands
	 * out and nothing reads past the count, so zeroing them for every session was wasted. */
	_Static_assert(offsetof(struct session, alerts) + sizeof(struct alert_list) == sizeof(struct session),
	               "the alerts are the session's last member");
	memset(sess, 0, offsetof(struct session, alerts));
	sess->alerts.count = sess->alerts.dropped = 0;
	session_id_make(sess->id, run_nonce, f->id);
	const struct flow_side *c = &f->side[FLOW_TO_SERVER], *v = &f->side[FLOW_TO_CLIENT];
	sess->client = (struct session_endpoint){f->client.ip, f->client.port, c->bytes, c->packets};
	sess->server = (struct session_endpoint){f->server.ip, f->server.port, v->bytes, v->packets};
	sess->start_us = f->first_us;
	sess->end_us = f->last_us;
	sess->close_reason = flow_session_close_reason(tcp_tracker_close_reason(f, reason));
	sess->role_source = flow_session_role_source(f->role_source);
	sess->encap = *flow_encap(f);
	copy_stream_counters(&sess->to_server, &c->stream);
	copy_stream_counters(&sess->to_client, &v->stream);
}

/* network.protocol: what the flow carries (the event writes it in lowercase, as ECS has it). */
static enum session_protocol protocol_of(const struct mail_ports *mp, const struct flow *f,
                                         const struct flow_record *r)
{
	if (r && !flow_record_is_mail(r)) /* capture.all_flows: nDPI's name (other_protocol) */
		return SESSION_PROTOCOL_OTHER;
	if (r && !r->by_port)
		return SESSION_PROTOCOL_SMTP; /* nDPI found SMTP, or SMTP over TLS */
	/* Other implicit-TLS ports than SMTP's (443 in tests) carry plain TLS as far as we know. */
	bool implicit = mail_ports_has(mp->implicit_tls, f->server.port);
	return implicit && !mail_ports_has(mp->smtps, f->server.port) ? SESSION_PROTOCOL_TLS
	                                                              : SESSION_PROTOCOL_SMTP;
}

/* The parsers' side: only the peers end a handshake, so a timeout or the end of the capture stops it. */
static void fill_mail(const struct flow *f, struct flow_record *r, enum flow_close_reason reason,
                      struct session *sess)
{
	if (r->mail && reason == FLOW_CLOSE_EVICTED)
		mail_session_cut(r->mail); /* cut off to make room, not ended by its peers */
	if (r->mail) {
		bool rst = f->side[0].rst || f->side[1].rst;
		if (rst || f->side[0].fin || f->side[1].fin)
			mail_session_end(r->mail, rst);
		else
			mail_session_stop(r->mail);
		mail_session_fill(r->mail, sess);
	}
	sess->parser_memcap_stopped = r->memcap_stopped;
}

void flow_record_session(struct flow_records *rs, const struct flow *f, struct flow_record *r,
                         enum flow_close_reason reason, uint64_t run_nonce, struct session *sess)
{
	fill_flow(sess, f, reason, run_nonce);
	/* Named now, into the worker's buffers: the session is reported before the next one is made. */
	rs->app_name[0] = '\0';
	if (r && r->verdict != CLASSIFY_PENDING) {
		if (rs->classifier)
			classify_result_protocol(rs->classifier, r->kept, rs->app_name, sizeof rs->app_name);
		sess->application = rs->app_name;
		sess->application_risks = rs->risk_names;
		sess->n_application_risks =
		    classify_result_risks(r->kept, rs->risk_names, CLASSIFY_MAX_RISKS);
	}
	sess->protocol = protocol_of(rs->ports, f, r);
	if (sess->protocol == SESSION_PROTOCOL_OTHER) /* "unknown" when nDPI had no name */
		sess->other_protocol = rs->app_name[0] ? rs->app_name : "unknown";
	if (!flow_record_is_mail(r))
		return; /* capture.all_flows: the flow, and what nDPI made of it */
	sess->implicit_tls = r ? r->implicit_tls : mail_ports_has(rs->ports->implicit_tls, f->server.port);
	if (r)
		fill_mail(f, r, reason, sess);
}

const char *flow_record_ingress(const struct flow_record *r)
{
	return r ? r->ingress : NULL;
}

void flow_record_free(struct flow_record *r)
{
	if (!r)
		return;
	stream_dump_free(r->dump);
	stream_hold_release(&r->held);
	mail_session_free(r->mail);
	classify_flow_free(r->cls);
	drop_ingress(r);
	free(r);
}
