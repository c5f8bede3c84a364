/*
 * worker_pool.c: the reader, worker and hand-over threads of the workers step
 * (see worker_pool.h). Owns the threads, the packet queues, the lanes' session
 * lists until the finisher collects them; borrows the workers and the capture.
 */
#include "sensor/workers/worker_pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parsers/packet_decode.h"
#include "sensor/workers/flow_hash.h"
#include "sensor/timed_wait.h"

struct lane {
	struct worker_pool *pool;
	unsigned index;
	struct worker *w;
	struct packet_queue *queue;
	struct sealed_recycler *recycler; /* the sealed blocks the finisher gives back */
	pthread_t thread;
	bool started;
	/* the worker's thread only (inline: the caller's) */
	struct sealed_session *pend_head, *pend_tail;
	uint64_t sessions, seal_failures, sealed_bytes;
	/* the reader only */
	struct packet_batch *filling;
	uint64_t clock_sent;
	/* live: the worker's own capture (borrowed), read on its thread */
	struct capture *capture;
	volatile sig_atomic_t live_stop; /* capture_run's flag: written and read on the lane's thread only */
	unsigned since_publish;
	uint64_t live_packets;
	int live_rc;
	/* under the pool's lock */
	struct sealed_session *out_head, *out_tail;
	unsigned out_count;
	uint64_t watermark;
	bool ended, ended_collected;
	struct worker_pool_lane_stats pub;
	struct capture_stats capture_pub; /* live: its capture's counters, as its thread read them */
	bool capture_published;
};

struct worker_pool {
	struct worker_pool_options opt;
	unsigned n;
	struct lane lanes[POOL_MAX_WORKERS];
	pthread_mutex_t lock;
	pthread_cond_t news, room;
	uint64_t generation, seen;
	/* the reader */
	struct capture *cap;
	pthread_t reader;
	bool reader_started;
	int reader_rc;
	atomic_int stop;
	volatile sig_atomic_t
	    reader_stop; /* capture_run's flag: written and read on the reader thread only */
	uint64_t latest_us;
	uint64_t
	    packets; /* read so far: the next packet's number less one (the reader; inline: the caller) */
	unsigned round_packets, rr;
};

struct worker_pool *worker_pool_new(const struct worker_pool_options *opt)
{
	unsigned n = opt->workers ? opt->workers : 1;
	if (n > POOL_MAX_WORKERS || (!opt->threads && n != 1))
		return NULL;
	struct worker_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->opt = *opt;
	p->n = n;
	pthread_mutex_init(&p->lock, NULL);
	timed_wait_cond_init(&p->news); /* its timed waits: a wall-clock step must not stretch them */
	pthread_cond_init(&p->room, NULL);
	atomic_init(&p->stop, 0);
	for (unsigned i = 0; i < n; i++) {
		p->lanes[i].pool = p;
		p->lanes[i].index = i;
		if (!(p->lanes[i].recycler = sealed_recycler_new(POOL_RECYCLED_MAX)) ||
		    (opt->threads && !(p->lanes[i].queue = packet_queue_new(POOL_QUEUE_DEPTH)))) {
			worker_pool_free(p);
			return NULL;
		}
	}
	return p;
}

void *worker_pool_lane(struct worker_pool *p, unsigned i)
{
	return &p->lanes[i];
}

void worker_pool_attach(struct worker_pool *p, unsigned i, struct worker *w)
{
	p->lanes[i].w = w;
	worker_set_index(w, i);
}

unsigned worker_pool_workers(const struct worker_pool *p)
{
	return p->n;
}

bool worker_pool_threaded(const struct worker_pool *p)
{
	return p->opt.threads;
}

/* worker_session_fn, on the worker's thread: sealed, and kept until the lane publishes. */
void worker_pool_session(void *ctx, struct session *sess, bool mail, const char *ingress)
{
	struct lane *l = ctx;
	if (l->pool->opt.prepare)
		l->pool->opt.prepare(l->pool->opt.prepare_ctx, sess, mail);
	struct sealed_order order = {worker_session_order_us(l->w), worker_session_flow_seq(l->w)};
	struct sealed_session *ss =
	    sealed_session_new_from(l->recycler, sess, mail, ingress, order, l->index);
	if (!ss) {
		l->seal_failures++;
		return;
	}
	l->sessions++;
	l->sealed_bytes += sealed_session_size(ss);
	if (l->pend_tail)
		sealed_session_set_next(l->pend_tail, ss);
	else
		l->pend_head = ss;
	l->pend_tail = ss;
}

static unsigned list_length(const struct sealed_session *s)
{
	unsigned n = 0;
	for (; s; s = sealed_session_next(s))
		n++;
	return n;
}

/* The lane's sessions so far, its clock and counters, for the finisher: one lock a batch. */
static void publish(struct lane *l, bool ended)
{
	struct worker_pool *p = l->pool;
	struct worker_snapshot snap;
	if (p->opt.threads)
		worker_snapshot(l->w, &snap);
	unsigned added = list_length(l->pend_head);
	pthread_mutex_lock(&p->lock);
	if (l->pend_head) {
		if (l->out_tail)
			sealed_session_set_next(l->out_tail, l->pend_head);
		else
			l->out_head = l->pend_head;
		l->out_tail = l->pend_tail;
		l->out_count += added;
	}
	l->watermark = worker_now(l->w);
	l->ended = l->ended || ended;
	if (p->opt.threads) {
		l->pub.snap = snap;
		l->pub.sessions = l->sessions;
		l->pub.seal_failures = l->seal_failures;
		l->pub.sealed_bytes = l->sealed_bytes;
	}
	p->generation++;
	/* The finisher looks every POOL_COLLECT_MS anyway: woken early only for a heap of sessions or an end.
	 */
	if (ended || l->out_count >= POOL_WAKE_SESSIONS)
		pthread_cond_signal(&p->news);
	while (p->opt.threads && !ended && l->out_count > POOL_OUTBOX_MAX)
		pthread_cond_wait(&p->room, &p->lock); /* the finisher is behind: wait, never drop */
	pthread_mutex_unlock(&p->lock);
	l->pend_head = l->pend_tail = NULL;
}

void worker_pool_packet(struct worker_pool *p, const struct capture_packet *cp)
{
	worker_packet(p->lanes[0].w, cp);
	publish(&p->lanes[0], false);
}

void worker_pool_tick(struct worker_pool *p, uint64_t now_us)
{
	worker_tick(p->lanes[0].w, now_us);
	publish(&p->lanes[0], false);
}

void worker_pool_finish(struct worker_pool *p, enum flow_close_reason reason)
{
	worker_finish(p->lanes[0].w, reason);
	publish(&p->lanes[0], true);
}

/* The thread's name (tlsobs-wN) and its CPU (capture.cpu_affinity). */
static void lane_thread_setup(struct lane *l)
{
	char name[16];
	snprintf(name, sizeof name, "tlsobs-w%u", l->index);
	pthread_setname_np(pthread_self(), name);
	if (l->pool->opt.n_cpu_affinity) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(l->pool->opt.cpu_affinity[l->index % l->pool->opt.n_cpu_affinity], &set);
		/* best effort: a CPU gone is no stop */
		pthread_setaffinity_np(pthread_self(), sizeof set, &set);
	}
}

/* A worker's thread: batches in, sessions out, until the reader's last batch. */
static void *lane_main(void *arg)
{
	struct lane *l = arg;
	lane_thread_setup(l);
	for (bool last = false; !last;) {
		struct packet_batch *b = packet_queue_pop(l->queue);
		for (unsigned i = 0; i < b->count; i++) {
			struct capture_packet cp;
			uint64_t clock, seq;
			packet_batch_get(b, i, &cp, &clock, &seq);
			/* The capture's clock ran ahead of this packet (files read one after another, an
			 * out-of-order packet): expire as one worker, whose clock it is, would before it. */
			if (clock > cp.ts_us && clock > worker_now(l->w))
				worker_tick(l->w, clock);
			worker_set_packet_seq(l->w, seq);
			worker_packet(l->w, &cp);
		}
		if (b->clock_us > worker_now(l->w))
			worker_tick(l->w, b->clock_us);
		if ((last = b->last))
			worker_finish(l->w, (enum flow_close_reason)b->finish_reason);
		packet_queue_recycle(l->queue, b);
		publish(l, last);
	}
	worker_retire(l->w); /* its teardown here, beside the finisher's last sessions, not after them */
	return NULL;
}

/* The reader: the lane's batch goes to its worker with the reader's clock; a fresh one is started. */
static void push(struct worker_pool *p, struct lane *l)
{
	l->filling->clock_us = p->latest_us;
	l->clock_sent = p->latest_us;
	if (!packet_queue_try_push(l->queue, l->filling)) {
		/* Its worker is behind: before waiting for it, the others get what the reader holds for them
		 * (their part batches), so that they do not starve while it catches up. */
		for (unsigned i = 0; i < p->n; i++) {
			struct lane *o = &p->lanes[i];
			if (o == l || o->filling->count == 0)
				continue;
			o->filling->clock_us = p->latest_us;
			if (packet_queue_try_push(o->queue, o->filling)) {
				o->clock_sent = p->latest_us;
				o->filling = packet_queue_batch(o->queue);
			}
		}
		packet_queue_push(l->queue, l->filling);
	}
	l->filling = packet_queue_batch(l->queue);
}

/* Every worker gets the reader's clock: its partial batch, or an empty one (a clock message). */
static void round_robin_clock(struct worker_pool *p)
{
	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];
		if (l->filling->count > 0 || l->clock_sent < p->latest_us)
			push(p, l);
	}
	p->round_packets = 0;
}

/* The worker of a packet: by its innermost address pair; what has none (not IP), spread in turn. */
static unsigned lane_of(struct worker_pool *p, const struct capture_packet *cp)
{
	uint32_t hash;
	if (flow_hash_plain_frame(cp->linktype, cp->data, cp->caplen, &hash))
		return flow_hash_worker(hash, p->n);
	struct decoded_packet d;
	enum decode_result r = packet_decode(cp->linktype, cp->data, cp->caplen, p->opt.decode, &d);
	if (r == DECODE_OK || r == DECODE_IPV4_FRAGMENT || r == DECODE_IPV6_FRAGMENT)
		return flow_hash_worker(flow_hash_packet(&d), p->n);
	return p->rr++ % p->n;
}

static void reader_packet(void *ctx, const struct capture_packet *cp)
{
	struct worker_pool *p = ctx;
	if (atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		p->reader_stop = 1;
		return;
	}
	if (cp->ts_us > p->latest_us)
		p->latest_us = cp->ts_us;
	struct lane *l = &p->lanes[lane_of(p, cp)];
	uint64_t seq = ++p->packets;
	if (!packet_batch_add(l->filling, cp, p->latest_us, seq)) {
		push(p, l);
		packet_batch_add(l->filling, cp, p->latest_us, seq);
	} else if (l->filling->count == PACKET_BATCH_PACKETS) {
		push(p, l);
	}
	/* By packets only: a capture's packet time may jump (days between two packets of a sparse capture),
	 * and a round per jump flushed every worker's batch at nearly every packet (2 workers were no faster
	 * than 1). */
	if (++p->round_packets >= POOL_ROUND_PACKETS)
		round_robin_clock(p);
}

static void reader_tick(void *ctx, uint64_t now_us)
{
	struct worker_pool *p = ctx;
	if (atomic_load_explicit(&p->stop, memory_order_relaxed))
		p->reader_stop = 1;
	if (now_us > p->latest_us)
		p->latest_us = now_us;
	round_robin_clock(p);
}

static void *reader_main(void *arg)
{
	struct worker_pool *p = arg;
	pthread_setname_np(pthread_self(), "tlsobs-reader");
	struct capture_handler h = {reader_packet, reader_tick, p};
	p->reader_rc = capture_run(p->cap, &h, &p->reader_stop);
	bool stopped = p->reader_stop || atomic_load(&p->stop);
	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];
		l->filling->last = true;
		l->filling->finish_reason = stopped ? FLOW_CLOSE_SHUTDOWN : FLOW_CLOSE_END_OF_CAPTURE;
		l->filling->clock_us = p->latest_us;
		packet_queue_push(l->queue, l->filling);
		l->filling = NULL;
	}
	return NULL;
}

/* Live: the lane's capture counters, read on its own thread, for the finisher. */
static void publish_capture(struct lane *l)
{
	struct capture_stats cs;
	capture_stats(l->capture, &cs);
	pthread_mutex_lock(&l->pool->lock);
	l->capture_pub = cs;
	l->capture_published = true;
	pthread_mutex_unlock(&l->pool->lock);
}

static void live_packet(void *ctx, const struct capture_packet *cp)
{
	struct lane *l = ctx;
	if (atomic_load_explicit(&l->pool->stop, memory_order_relaxed))
		l->live_stop = 1;
	/* No reader numbers the packets: each worker's own count, interleaved, keeps flow ids unique. */
	worker_set_packet_seq(l->w, ++l->live_packets * l->pool->n + l->index);
	worker_packet(l->w, cp);
	if (++l->since_publish >= POOL_LIVE_PUBLISH) {
		l->since_publish = 0;
		publish(l, false);
	}
}

static void live_tick(void *ctx, uint64_t now_us)
{
	struct lane *l = ctx;
	if (atomic_load_explicit(&l->pool->stop, memory_order_relaxed))
		l->live_stop = 1;
	worker_tick(l->w, now_us);
	l->since_publish = 0;
	publish(l, false);
	publish_capture(l);
}

/* Live: a worker's thread reads its own capture (one socket of each interface's fanout group). */
static void *live_main(void *arg)
{
	struct lane *l = arg;
	lane_thread_setup(l);
	struct capture_handler h = {live_packet, live_tick, l};
	l->live_rc = capture_run(l->capture, &h, &l->live_stop);
	publish_capture(l);
	worker_finish(l->w, FLOW_CLOSE_SHUTDOWN); /* live capture ends only when stopped */
	publish(l, true);
	worker_retire(l->w);
	return NULL;
}

/* After a failed start: the lanes without a thread count as ended, so the finisher does not wait for them. */
static void end_unstarted(struct worker_pool *p)
{
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		if (!p->lanes[i].started)
			p->lanes[i].ended = true;
	p->generation++;
	pthread_cond_signal(&p->news);
	pthread_mutex_unlock(&p->lock);
}

/* Threads start with every signal blocked: the finisher's thread takes them. */
static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int worker_pool_start(struct worker_pool *p, struct capture *cap, char *err, size_t errlen)
{
	p->cap = cap;
	for (unsigned i = 0; i < p->n; i++)
		if (!(p->lanes[i].filling = packet_queue_batch(p->lanes[i].queue))) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	for (unsigned i = 0; i < p->n; i++) {
		int rc = start_thread(&p->lanes[i].thread, lane_main, &p->lanes[i]);
		if (rc != 0) {
			snprintf(err, errlen, "worker thread: %s", strerror(rc));
			end_unstarted(p);
			/* the ones started end on their last batch */
			for (unsigned j = 0; j < i; j++) {
				p->lanes[j].filling->last = true;
				p->lanes[j].filling->finish_reason = FLOW_CLOSE_SHUTDOWN;
				packet_queue_push(p->lanes[j].queue, p->lanes[j].filling);
				p->lanes[j].filling = NULL;
			}
			return -1;
		}
		p->lanes[i].started = true;
	}
	int rc = start_thread(&p->reader, reader_main, p);
	if (rc != 0) {
		snprintf(err, errlen, "reader thread: %s", strerror(rc));
		atomic_store(&p->stop, 1);
		p->reader_stop = 1;
		reader_main(p); /* no capture read: the workers just end */
		return -1;
	}
	p->reader_started = true;
	return 0;
}

int worker_pool_start_live(struct worker_pool *p, struct capture *const *caps, char *err, size_t errlen)
{
	for (unsigned i = 0; i < p->n; i++)
		p->lanes[i].capture = caps[i];
	for (unsigned i = 0; i < p->n; i++) {
		int rc = start_thread(&p->lanes[i].thread, live_main, &p->lanes[i]);
		if (rc != 0) {
			snprintf(err, errlen, "worker thread: %s", strerror(rc));
			end_unstarted(p);
			atomic_store(&p->stop, 1); /* the ones started stop at their next packet or tick */
			return -1;
		}
		p->lanes[i].started = true;
	}
	return 0;
}

bool worker_pool_running(const struct worker_pool *p)
{
	bool any = p->reader_started;
	for (unsigned i = 0; i < p->n; i++)
		any = any || p->lanes[i].started;
	return any;
}

bool worker_pool_capture_stats(struct worker_pool *p, struct capture_stats *sum)
{
	bool any = false;
	memset(sum, 0, sizeof *sum);
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->n; i++) {
		const struct lane *l = &p->lanes[i];
		if (!l->capture_published)
			continue;
		any = true;
		sum->received += l->capture_pub.received;
		sum->dropped += l->capture_pub.dropped;
		sum->if_dropped += l->capture_pub.if_dropped;
	}
	pthread_mutex_unlock(&p->lock);
	return any;
}

void worker_pool_stop(struct worker_pool *p)
{
	atomic_store(&p->stop, 1);
}

static bool all_ended(const struct worker_pool *p)
{
	for (unsigned i = 0; i < p->n; i++)
		if (!p->lanes[i].ended)
			return false;
	return true;
}

/* Under the lock: until a lane publishes, or wait_ms. Never once every lane has ended: no news can come
 * (the finisher's last collect waited its whole timeout, 100 ms at every exit). */
static void wait_news(struct worker_pool *p, unsigned wait_ms)
{
	if (all_ended(p))
		return;
	struct timespec until = timed_wait_deadline(wait_ms);
	while (p->generation == p->seen)
		if (pthread_cond_timedwait(&p->news, &p->lock, &until) == ETIMEDOUT)
			break;
}

bool worker_pool_collect(struct worker_pool *p, struct session_order *o, unsigned wait_ms)
{
	struct sealed_session *got[POOL_MAX_WORKERS];
	bool ended[POOL_MAX_WORKERS], all = true;
	pthread_mutex_lock(&p->lock);
	if (wait_ms && p->opt.threads)
		wait_news(p, wait_ms);
	p->seen = p->generation;
	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];
		got[i] = l->out_head;
		l->out_head = l->out_tail = NULL;
		l->out_count = 0;
		session_order_watermark(o, i, l->watermark);
		ended[i] = l->ended && !l->ended_collected;
		l->ended_collected = l->ended;
		all = all && l->ended;
	}
	pthread_cond_broadcast(&p->room);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n; i++) {
		for (struct sealed_session *s = got[i], *next; s; s = next) {
			next = sealed_session_next(s);
			sealed_session_set_next(s, NULL);
			session_order_push(o, s);
		}
		if (ended[i])
			session_order_finished(o, i);
	}
	return all;
}

int worker_pool_join(struct worker_pool *p)
{
	if (!p)
		return 0;
	if (p->reader_started)
		pthread_join(p->reader, NULL);
	p->reader_started = false;
	int rc = p->reader_rc;
	for (unsigned i = 0; i < p->n; i++) {
		if (p->lanes[i].started) {
			pthread_join(p->lanes[i].thread, NULL);
			p->lanes[i].started = false;
		}
		if (p->lanes[i].live_rc != 0)
			rc = -1;
	}
	return rc;
}

uint64_t worker_pool_clock(struct worker_pool *p)
{
	uint64_t low = UINT64_MAX, high = 0;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->n; i++) {
		const struct lane *l = &p->lanes[i];
		if (l->watermark > high)
			high = l->watermark;
		if (!l->ended && l->watermark < low)
			low = l->watermark;
	}
	pthread_mutex_unlock(&p->lock);
	return low == UINT64_MAX ? high : low;
}

void worker_pool_lane_stats(struct worker_pool *p, unsigned i, struct worker_pool_lane_stats *out)
{
	struct lane *l = &p->lanes[i];
	if (!p->opt.threads) { /* inline: the worker is the caller's */
		memset(out, 0, sizeof *out);
		worker_snapshot(l->w, &out->snap);
		out->sessions = l->sessions;
		out->seal_failures = l->seal_failures;
		out->sealed_bytes = l->sealed_bytes;
		return;
	}
	pthread_mutex_lock(&p->lock);
	*out = l->pub;
	bool fresh = l->ended && !l->started; /* joined: the worker is ours to read */
	pthread_mutex_unlock(&p->lock);
	if (fresh && l->w)
		worker_snapshot(l->w, &out->snap);
	packet_queue_get_stats(l->queue, &out->queue);
}

static void free_sessions(struct sealed_session *s)
{
	while (s) {
		struct sealed_session *next = sealed_session_next(s);
		sealed_session_free(s);
		s = next;
	}
}

void worker_pool_free(struct worker_pool *p)
{
	if (!p)
		return;
	worker_pool_join(p);
	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];
		free_sessions(l->pend_head);
		free_sessions(l->out_head);
		if (l->filling)
			packet_queue_recycle(l->queue, l->filling);
		packet_queue_free(l->queue);
		sealed_recycler_free(l->recycler); /* last: the sessions above went back to it */
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->news);
	pthread_cond_destroy(&p->room);
	free(p);
}
