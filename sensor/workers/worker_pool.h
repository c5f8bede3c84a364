/*
 * worker_pool.h: N workers, each on its own thread, fed by one reader thread,
 * their sessions collected for one finisher.
 *
 * Threads: `tlsobs-reader` runs the capture loop: it decodes each packet just
 * enough to hash it (flow_hash.h: the innermost address pair) and copies it
 * into its worker's bounded queue (packet_queue.h: batches, back-pressure,
 * never loss). With each batch goes the reader's latest packet time, and every
 * worker gets that clock at least every POOL_ROUND_PACKETS packets, and the
 * last one before its end, so that each
 * worker expires flows when one worker would. `tlsobs-w0` ... each own one
 * struct worker (flow table, memcap, defrag, nDPI, parsers: no locks on the
 * packet path). A worker seals each ended flow's session (sealed_session.h)
 * and, after each batch, publishes them with its watermark (its packet clock)
 * and a snapshot of its counters, under the pool's lock. The finisher (the
 * caller's thread) collects those into a session_order and finishes them in
 * packet-time order.
 *
 * Inline (threads == false, one worker): no thread at all; worker_pool_packet
 * runs the worker in the caller's thread, and its sessions go through the
 * same seal and order, so one and N workers finish identically.
 *
 * Signals are blocked in every pool thread: they reach the finisher's thread.
 */
#ifndef TLSOBS_WORKER_POOL_H
#define TLSOBS_WORKER_POOL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "sensor/capture/capture.h"
#include "sensor/flow/flow.h"
#include "sensor/worker.h"
#include "sensor/workers/packet_queue.h"
#include "sensor/workers/session_order.h"

enum {
	POOL_MAX_WORKERS = 64,     /* the session id's flow number keeps 6 bits for the worker index */
	POOL_QUEUE_DEPTH = 8,      /* batches queued per worker */
	POOL_ROUND_PACKETS = 4096, /* every worker gets the reader's clock at least this often */
	POOL_OUTBOX_MAX = 512,     /* sessions a worker may have waiting for the finisher before it waits */
	POOL_RECYCLED_MAX = 256,   /* spent sealed blocks kept per worker for reuse */
	POOL_WAKE_SESSIONS = 64,   /* a worker wakes the finisher when it has this many sessions waiting */
	POOL_COLLECT_MS = 10,      /* otherwise the finisher collects this often (wall time) */
	POOL_LIVE_PUBLISH = 64,    /* live: a worker publishes after this many packets, and at each tick */
};

struct worker_pool_options {
	unsigned workers;
	bool threads;            /* false: one worker, inline */
	const int *cpu_affinity; /* capture.cpu_affinity: worker i on cpu_affinity[i % n]; NULL: not pinned */
	size_t n_cpu_affinity;
	const struct decode_options *decode; /* the reader's decoder (borrowed) */
	/* Work on each session in its worker, before it is sealed (the TLS inspection: fingerprints,
	 * certificate chain), so that the finisher does less; NULL: none. Called on the worker's thread. */
	void (*prepare)(void *ctx, struct session *sess, bool mail);
	void *prepare_ctx;
};

/* Per worker, for tlsobs.stats and the summary. */
struct worker_pool_lane_stats {
	struct worker_snapshot snap;
	struct packet_queue_stats queue;
	uint64_t sessions;      /* sealed and handed over */
	uint64_t seal_failures; /* out of memory: the session was lost (counted as events dropped) */
	uint64_t sealed_bytes;  /* what the copies took in all */
};

struct worker_pool;

struct worker_pool *worker_pool_new(const struct worker_pool_options *opt);
/* The context worker i is made with, for worker_pool_session (its worker_session_fn). */
void *worker_pool_lane(struct worker_pool *p, unsigned i);
void worker_pool_session(void *lane, struct session *sess, bool mail, const char *ingress);
/* Worker i (owned by the caller, which frees it after worker_pool_join). */
void worker_pool_attach(struct worker_pool *p, unsigned i, struct worker *w);
unsigned worker_pool_workers(const struct worker_pool *p);
bool worker_pool_threaded(const struct worker_pool *p);

/* Inline only: one packet, a tick, the end (in the caller's thread). */
void worker_pool_packet(struct worker_pool *p, const struct capture_packet *cp);
void worker_pool_tick(struct worker_pool *p, uint64_t now_us);
void worker_pool_finish(struct worker_pool *p, enum flow_close_reason reason);

/*
 * Threads: starts the workers and the reader on cap. The reader ends its flows
 * with FLOW_CLOSE_END_OF_CAPTURE at the end of the capture, or with
 * FLOW_CLOSE_SHUTDOWN after worker_pool_stop. 0, or -1 with err (nothing left running).
 */
int worker_pool_start(struct worker_pool *p, struct capture *cap, char *err, size_t errlen);
/*
 * Live (issue 17, sensor/capture/capture.h's fanout): worker i's thread reads
 * caps[i] itself (borrowed: open until worker_pool_join), each one socket of
 * every interface's PACKET_FANOUT group, so the kernel spreads the packets and
 * no reader thread is needed. Each worker publishes every POOL_LIVE_PUBLISH
 * packets and at each tick (about once a second when idle), with its capture's
 * counters (worker_pool_capture_stats). They run until worker_pool_stop; their
 * flows end with FLOW_CLOSE_SHUTDOWN. 0, or -1 with err (the threads started
 * are stopped: join them).
 */
int worker_pool_start_live(struct worker_pool *p, struct capture *const *caps, char *err, size_t errlen);
/* Threads started and not yet joined (the caller's thread: the one that starts and joins them). */
bool worker_pool_running(const struct worker_pool *p);
/* Live: the kernel counters of every worker's capture, summed; false before the first were read. */
bool worker_pool_capture_stats(struct worker_pool *p, struct capture_stats *sum);
/* Asks the reader (live: every worker) to stop (any thread). */
void worker_pool_stop(struct worker_pool *p);
/*
 * The finisher: what the workers published since the last call (sessions,
 * watermarks, which ended) goes into o; waits up to wait_ms for news when
 * there is none. true once every worker has ended and everything is in o.
 */
bool worker_pool_collect(struct worker_pool *p, struct session_order *o, unsigned wait_ms);
/* Waits for every thread; the capture loop's result (0, or -1 when a source failed). */
int worker_pool_join(struct worker_pool *p);
/* The packet clock the finisher may use: the lowest worker clock (the highest once all have ended). */
uint64_t worker_pool_clock(struct worker_pool *p);
void worker_pool_lane_stats(struct worker_pool *p, unsigned i, struct worker_pool_lane_stats *out);
/* After every sealed session it made is freed (the session order first). */
void worker_pool_free(struct worker_pool *p);

#endif
