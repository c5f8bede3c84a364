/*
 * worker.h: one worker's packet path: decode result handling, IP
 * defragmentation, the flow table, TCP tracking, classification and the
 * per-flow records, up to the session record of each flow that ends.
 *
 * Owns everything per worker: its flow table and memcap, defrag, nDPI
 * classifier, flow records, packet clock and counters (struct worker_stats),
 * and the scratch session a flow's end is built in. Borrows what the process
 * shares: the settings (read-only on the packet path), the mail ports, and
 * the session finishing (rules, outputs) it hands each ended flow's session to
 * through a callback. Flows the table ends by itself (expired, evicted to make
 * room) are finished in one place, worker_end_queued, after each packet, at
 * each tick and at the end: never inside another flow's delivery.
 */
#ifndef TLSOBS_WORKER_H
#define TLSOBS_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "rules/session.h"
#include "sensor/app/flow_record.h"
#include "sensor/capture/capture.h"
#include "sensor/config/settings.h"
#include "sensor/flow/defrag.h"

/* Counted on the packet path: per worker (the process sums them). */
struct worker_stats {
	uint64_t packets, bytes;
	uint64_t decode[DECODE_RESULT_COUNT];
	uint64_t other_ports;    /* TCP not touching a mail port */
	uint64_t stray_segments; /* no flow, and neither SYN nor payload: the tail of a flow we did not see */
	uint64_t sessions_unanswered;
	uint64_t gaps, gap_bytes;
	uint64_t flows_not_mail; /* flows nDPI found to be no mail (no session event unless all_flows) */
};

/*
 * A flow ended with a session to report: the process-wide services take it from here. mail: the flow's
 * SMTP/TLS parsers were fed (else capture.all_flows reports a flow that is not mail); ingress: the capture
 * interface of its first packet, NULL unknown. sess is the worker's scratch: valid for the call only.
 */
typedef void (*worker_session_fn)(void *ctx, struct session *sess, bool mail, const char *ingress);

struct worker;

/*
 * settings and ports are borrowed (they outlive the worker; reloads change only what the packet path does
 * not read). dump_dir: --dump-streams, NULL none. NULL with a message in err.
 */
struct worker *worker_new(const struct sensor_settings *settings, const struct mail_ports *ports,
                          const char *dump_dir, uint64_t run_nonce, worker_session_fn on_session, void *ctx,
                          char *err, size_t errlen);
/* The same, built on a thread of its own while worker_new builds the first worker (classifier_new_beside). */
struct worker *worker_new_beside(const struct sensor_settings *settings, const struct mail_ports *ports,
                                 const char *dump_dir, uint64_t run_nonce, worker_session_fn on_session,
                                 void *ctx, char *err, size_t errlen);
/* One captured packet (its time moves the worker's clock forward, never back). */
void worker_packet(struct worker *w, const struct capture_packet *cp);
/* Time passes without packets (live capture): flows and fragments expire. */
void worker_tick(struct worker *w, uint64_t now_us);
/* Ends every open flow with `reason`, and their sessions go out. */
void worker_finish(struct worker *w, enum flow_close_reason reason);
uint64_t worker_now(const struct worker *w);
const struct worker_stats *worker_stats(const struct worker *w);
const struct flow_record_stats *worker_record_stats(const struct worker *w);
/* NULL after worker_retire. */
const struct flow_table *worker_flows(const struct worker *w);
const struct memcap *worker_memcap(struct worker *w);
const struct defrag_stats *worker_defrag_stats(const struct worker *w);
/* NULL when nDPI could not be set up (flows are then followed by port only), and after worker_retire. */
const struct classifier *worker_classifier(const struct worker *w);
/* The workers step (sensor/workers/): worker `index` of several (0 when alone). */
void worker_set_index(struct worker *w, unsigned index);
unsigned worker_index(const struct worker *w);
/*
 * The next packet's number in the whole capture (from 1), given before worker_packet by whoever spreads
 * the packets over several workers. A flow takes the number of the packet that made it as its id (the
 * session id's flow number): unique across workers, and the order one worker made its flows in. Without
 * it, the worker counts its own packets.
 */
void worker_set_packet_seq(struct worker *w, uint64_t seq);
/* During worker_session_fn: the number of the packet that made the session's flow. */
uint64_t worker_session_flow_seq(const struct worker *w);
/*
 * During worker_session_fn: the session's place in packet time (sensor/workers/session_order.h): for a
 * flow that timed out, its last packet plus its timeout (when one worker holding the global clock would
 * have ended it); otherwise the worker's clock when it ended.
 */
uint64_t worker_session_order_us(const struct worker *w);

/* What the process reads of a worker: a copy, taken by the worker's own thread (no shared counters). */
struct worker_snapshot {
	uint64_t now_us;
	struct worker_stats stats;
	struct flow_record_stats records;
	struct flow_table_stats flows;
	struct memcap memcap;
	bool emergency;
	struct defrag_stats defrag;
	bool classified; /* classify is valid: the worker has nDPI */
	struct classify_stats classify;
};
void worker_snapshot(const struct worker *w, struct worker_snapshot *out);
/* Ends the remaining flows with FLOW_CLOSE_SHUTDOWN, then frees. NULL is a no-op. */
/* After worker_finish, on the worker's own thread: frees the flow table, defragmenter and nDPI module while
 * the finisher still writes the last sessions (nDPI's teardown alone took ~8 ms a worker at exit, on one
 * thread). The counters stay: worker_snapshot reads them as they were. No packet may follow. */
void worker_retire(struct worker *w);
void worker_free(struct worker *w);

#endif
