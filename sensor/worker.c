/*
 * worker.c: one worker's packet path (see worker.h): a packet is decoded,
 * reassembled when it is a fragment, found or given a flow, classified,
 * tracked and reassembled into its flow record; flows that end become session
 * records handed to the process-wide services. Owns the worker's flow table,
 * defrag, classifier, records and counters.
 */
#include "sensor/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/session_id.h"
#include "sensor/app/mail_roles.h"
#include "sensor/flow/tcp_tracker.h"

/* Of the session id's 50-bit flow number: the flow's own number below, the worker index above (64 workers).
 */
#define WORKER_FLOW_ID_BITS 44

/*
 * All per worker (each worker of the workers step gets its own), except what
 * it borrows from the process: settings and ports (shared, read-only here) and
 * on_session (the shared session finishing), and run_nonce (the process's).
 */
struct worker {
	const struct sensor_settings *settings; /* shared, borrowed: read-only here */
	const struct mail_ports *ports;         /* shared, borrowed */
	struct flow_table *flows;
	struct defrag *defrag; /* IP fragments until their datagram is whole */
	struct flow_consumer consumer;
	struct flow_records records;   /* the records' context: classifier, clock, counters */
	struct classifier *classifier; /* nDPI; NULL when it could not be built (no classification) */
	struct session *scratch;      /* the session being finished: one at a time, too large for the stack */
	uint64_t run_nonce;           /* the process's, for session ids */
	uint64_t now_us;              /* the latest packet time seen */
	unsigned index;               /* of the workers (0 when alone) */
	uint64_t order_us;            /* the ordering key of the session being reported */
	uint64_t flow_seq;            /* and the number of the packet that made its flow */
	uint64_t packet_seq;          /* the packet's number in the capture (worker_set_packet_seq) */
	bool seq_given;               /* set by worker_set_packet_seq: else our own count */
	worker_session_fn on_session; /* the process-wide session finishing */
	void *on_session_ctx;
	struct worker_stats stats;
	bool retired; /* worker_retire: the packet state is gone, final holds the counters */
	struct worker_snapshot final;
};

/* The flow ended with a session to tell: the record is filled here, reported by the process. */
static void report_flow(struct worker *w, const struct flow *f, struct flow_record *r,
                        enum flow_close_reason reason)
{
	flow_record_session(&w->records, f, r, reason, w->run_nonce, w->scratch);
	w->flow_seq = f->id;
	/* Timed out: when one worker with the capture's clock would have ended it (never after our clock). */
	w->order_us = w->now_us;
	if (reason == FLOW_CLOSE_TIMEOUT) {
		uint64_t deadline = flow_table_deadline(w->flows, f);
		if (deadline < w->order_us)
			w->order_us = deadline;
	}
	w->on_session(w->on_session_ctx, w->scratch, flow_record_is_mail(r), flow_record_ingress(r));
}

/* flow_table's end hook: last bytes out, then the session and its alerts. */
static void flow_ended(void *ctx, struct flow *f, enum flow_close_reason reason)
{
	struct worker *w = ctx;
	struct flow_record *r = f->consumer_state;
	tcp_tracker_flush(f);
	for (int d = 0; d < 2; d++) {
		w->stats.gaps += f->side[d].stream.gaps;
		w->stats.gap_bytes += f->side[d].stream.gap_bytes;
	}
	flow_record_classification_end(&w->records, f, r);
	if (!flow_record_is_mail(r) && !w->settings->all_flows)
		w->stats.flows_not_mail++;
	else if (tcp_tracker_answered(f))
		report_flow(w, f, r, reason);
	else
		w->stats.sessions_unanswered++;
	flow_record_free(r);
	f->consumer_state = NULL;
}

/* The flows the table queued to end during the packet (evicted to make room, expired): one place. */
static void worker_end_queued(struct worker *w)
{
	flow_table_end_queued(w->flows);
}

static struct worker *make_worker(const struct sensor_settings *settings, const struct mail_ports *ports,
                                  const char *dump_dir, uint64_t run_nonce, worker_session_fn on_session,
                                  void *ctx, bool first, char *err, size_t errlen)
{
	struct worker *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->settings = settings;
	w->ports = ports;
	w->run_nonce = run_nonce;
	w->on_session = on_session;
	w->on_session_ctx = ctx;
	w->flows = flow_table_new(&settings->flow, flow_ended, w);
	w->defrag = defrag_new(&settings->defrag);
	w->scratch = malloc(sizeof *w->scratch);
	/* Without it flows are still followed by port. Every dissector only when all_flows names them all. */
	w->classifier = !first                ? classifier_new_beside(settings->all_flows)
	                : settings->all_flows ? classifier_new_all()
	                                      : classifier_new();
	w->records = (struct flow_records){.flows = w->flows,
	                                   .classifier = w->classifier,
	                                   .ports = ports,
	                                   .smtp = &settings->smtp,
	                                   .dump_dir = dump_dir};
	w->consumer = flow_record_consumer(&w->records);
	if (!w->flows || !w->defrag || !w->scratch) {
		snprintf(err, errlen, "out of memory (flow.memcap and flow.hash_size)");
		worker_free(w);
		return NULL;
	}
	return w;
}

struct worker *worker_new(const struct sensor_settings *settings, const struct mail_ports *ports,
                          const char *dump_dir, uint64_t run_nonce, worker_session_fn on_session, void *ctx,
                          char *err, size_t errlen)
{
	return make_worker(settings, ports, dump_dir, run_nonce, on_session, ctx, true, err, errlen);
}

struct worker *worker_new_beside(const struct sensor_settings *settings, const struct mail_ports *ports,
                                 const char *dump_dir, uint64_t run_nonce, worker_session_fn on_session,
                                 void *ctx, char *err, size_t errlen)
{
	return make_worker(settings, ports, dump_dir, run_nonce, on_session, ctx, false, err, errlen);
}

static bool is_service_port(const struct worker *w, uint16_t port)
{
	return mail_ports_has(w->ports->service, port);
}

/* A segment of a flow: its classification, the roles its first payload may settle, and its stream. */
static void track_segment(struct worker *w, struct flow *f, enum flow_dir dir, const struct decoded_packet *p,
                          uint32_t wire_len, uint64_t ts_us)
{
	flow_record_classify(&w->records, f, dir, p, ts_us);
	mail_roles_settle(f, &dir, p);
	tcp_tracker_segment(w->flows, f, dir, p, wire_len, ts_us);
	flow_record_settle(&w->records, f);
}

/* A TCP segment, from a packet or a reassembled datagram: its flow, classification and stream. */
static void handle_segment(struct worker *w, const struct decoded_packet *p, uint32_t wire_len,
                           uint64_t ts_us)
{
	enum flow_dir dir;
	uint64_t hash = flow_table_hash(w->flows, p);
	struct flow *f = flow_table_find(w->flows, p, hash, &dir);
	/* A new SYN on a closed flow (FIN or RST seen) is the next connection on the same ports. */
	if (f && f->state == FLOW_STATE_CLOSED && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		flow_table_end(w->flows, f, FLOW_CLOSE_FIN);
		f = NULL;
	}
	bool dst_service = is_service_port(w, p->dport), src_service = is_service_port(w, p->sport);
	if (!f && !dst_service && !src_service && !w->settings->any_port) {
		w->stats.other_ports++;
	} else if (!f && !(p->tcp_flags & TCP_SYN) && p->payload_wire_len == 0) {
		w->stats.stray_segments++;
	} else {
		if (!f && (f = flow_table_create(w->flows, p, hash, dst_service, src_service, ts_us, &dir))) {
			f->id = w->packet_seq; /* unique across workers, and in the capture's order */
			tcp_tracker_attach(f, &w->consumer);
		}
		if (f)
			track_segment(w, f, dir, p, wire_len, ts_us);
	}
}

/*
 * A fragment goes to reassembly; a datagram made whole is decoded again from
 * its IP header, with its first fragment's link facts, and counted like a
 * packet's decode (a reassembled TCP segment is one of tcp_segments).
 */
static void handle_fragment(struct worker *w, const struct decoded_packet *p, const struct capture_packet *cp)
{
	struct defrag_datagram dg;
	if (defrag_add(w->defrag, p, cp->len, w->now_us, &dg) != DEFRAG_COMPLETE)
		return;
	struct decoded_packet whole = dg.link;
	enum decode_result r = packet_decode_ip(dg.family, dg.bytes, dg.len, &w->settings->decode, &whole);
	w->stats.decode[r]++;
	/* The bytes its fragments took on the wire: what network.bytes counts. */
	uint32_t wire = dg.wire_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)dg.wire_bytes;
	if (r == DECODE_OK)
		handle_segment(w, &whole, wire, cp->ts_us);
}

static void advance_clock(struct worker *w, uint64_t now_us)
{
	if (now_us > w->now_us)
		w->now_us = now_us;
	w->records.now_us = w->now_us;
}

void worker_packet(struct worker *w, const struct capture_packet *cp)
{
	w->stats.packets++;
	if (!w->seq_given)
		w->packet_seq = w->stats.packets;
	w->seq_given = false;
	w->stats.bytes += cp->len;
	w->records.interface = cp->interface;
	advance_clock(w, cp->ts_us);
	struct decoded_packet p;
	enum decode_result r = packet_decode(cp->linktype, cp->data, cp->caplen, &w->settings->decode, &p);
	w->stats.decode[r]++;
	/* Expire first: a packet must not land in a flow that has already timed out (a reused port pair). */
	flow_table_expire(w->flows, w->now_us);
	defrag_expire(w->defrag, w->now_us);
	if (r == DECODE_OK)
		handle_segment(w, &p, cp->len, cp->ts_us);
	else if (r == DECODE_IPV4_FRAGMENT || r == DECODE_IPV6_FRAGMENT)
		handle_fragment(w, &p, cp);
	worker_end_queued(w);
}

void worker_tick(struct worker *w, uint64_t now_us)
{
	advance_clock(w, now_us);
	flow_table_expire(w->flows, w->now_us);
	defrag_expire(w->defrag, w->now_us);
	worker_end_queued(w);
}

void worker_finish(struct worker *w, enum flow_close_reason reason)
{
	worker_end_queued(w);
	flow_table_end_all(w->flows, reason);
}

uint64_t worker_now(const struct worker *w)
{
	return w->now_us;
}

const struct worker_stats *worker_stats(const struct worker *w)
{
	return &w->stats;
}

const struct flow_record_stats *worker_record_stats(const struct worker *w)
{
	return &w->records.stats;
}

const struct flow_table *worker_flows(const struct worker *w)
{
	return w->flows;
}

const struct memcap *worker_memcap(struct worker *w)
{
	return w->retired ? &w->final.memcap : flow_table_memcap(w->flows);
}

const struct defrag_stats *worker_defrag_stats(const struct worker *w)
{
	return w->retired ? &w->final.defrag : defrag_stats(w->defrag);
}

const struct classifier *worker_classifier(const struct worker *w)
{
	return w->classifier;
}

void worker_set_index(struct worker *w, unsigned index)
{
	w->index = index;
}

unsigned worker_index(const struct worker *w)
{
	return w->index;
}

void worker_set_packet_seq(struct worker *w, uint64_t seq)
{
	w->packet_seq = seq;
	w->seq_given = true;
}

uint64_t worker_session_flow_seq(const struct worker *w)
{
	return w->flow_seq;
}

uint64_t worker_session_order_us(const struct worker *w)
{
	return w->order_us;
}

void worker_snapshot(const struct worker *w, struct worker_snapshot *out)
{
	if (w->retired) {
		*out = w->final;
		return;
	}
	out->now_us = w->now_us;
	out->stats = w->stats;
	out->records = w->records.stats;
	out->flows = *flow_table_stats(w->flows);
	out->memcap = *flow_table_memcap(w->flows);
	out->emergency = flow_table_in_emergency(w->flows);
	out->defrag = *defrag_stats(w->defrag);
	out->classified = w->classifier != NULL;
	if (w->classifier)
		out->classify = *classifier_stats(w->classifier);
	else
		memset(&out->classify, 0, sizeof out->classify);
}

void worker_retire(struct worker *w)
{
	if (w->retired)
		return;
	worker_snapshot(w, &w->final);
	flow_table_free(w->flows, FLOW_CLOSE_SHUTDOWN); /* empty after worker_finish: nothing is reported */
	w->flows = NULL;
	defrag_free(w->defrag);
	w->defrag = NULL;
	classifier_free(w->classifier); /* after the flows: theirs point back at it */
	w->classifier = NULL;
	w->records.classifier = NULL;
	/* Here too: the first free of a large block into this thread's malloc arena sweeps all its small free
	 * blocks (malloc_consolidate, 7 ms at the end of the bench capture), better on this thread than on
	 * the finisher's after every worker has stopped. */
	free(w->scratch);
	w->scratch = NULL;
	w->retired = true;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	flow_table_free(w->flows, FLOW_CLOSE_SHUTDOWN);
	defrag_free(w->defrag);
	classifier_free(w->classifier); /* after the flows: theirs point back at it */
	free(w->scratch);
	free(w);
}
