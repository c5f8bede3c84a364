/*
 * state_sync.h: keeps the state database (state_db.h) in step with what the
 * sensor learns, so that a restart forgets nothing.
 *
 * At start, state_sync_restore() puts the rules engine's saved memory back
 * (the history of starttls_capability_removed, cleartext_fallback, tls_interception_suspected and
 * ehlo_downgrade, the certificate inventory and its alert marks).
 * Each finished session queues notes (per server, per certificate, per partner,
 * recipient domain or unattributed server and day, and for an outbound session
 * its TLS-RPT verdict) without touching the disk; state_sync_flush(), from the sensor's
 * housekeeping, writes them with every engine record changed since the last
 * flush in one transaction, and prunes records older than the history TTL.
 * A flush that fails keeps the engine's records for the next one.
 *
 * It also keeps the packet time up to which partner relaxations (policy
 * relaxed_until) were dealt with, so that one that ended while the sensor was
 * stopped is reported at the next start, once (a row of its own in the
 * rules_history table, never pruned).
 */
#ifndef TLSOBS_STATE_SYNC_H
#define TLSOBS_STATE_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "rules/policy.h"
#include "rules/rules_engine.h"
#include "rules/session.h"
#include "sensor/state/state_db.h"

struct state_sync_stats {
	uint64_t restored;        /* engine records put back at start */
	uint64_t restore_skipped; /* saved records of another layout or size */
	uint64_t flushes, flush_errors;
	uint64_t records_saved;    /* engine records written */
	uint64_t tlsrpt_undecided; /* outbound sessions TLS-RPT cannot count: TLS not decided (gap, cut) */
};

struct state_sync;

/* Borrows db and engine for its whole life. */
struct state_sync *state_sync_new(struct state_db *db, struct rules_engine *engine, uint64_t history_ttl_us);
void state_sync_free(struct state_sync *ss);
/* The policy TLS-RPT notes are classified against (rules/tlsrpt.h); borrowed, NULL: none. */
void state_sync_set_policy(struct state_sync *ss, const struct policy *p);
/* 0, or -1 with the database's reason in err. */
int state_sync_restore(struct state_sync *ss, char *err, size_t errlen);
/* Queues what the (evaluated) session showed; flushes at once when the queue is half full. */
void state_sync_session(struct state_sync *ss, const struct session *s, uint64_t now_us);
/* Writes notes and changed engine records; now_us (packet time) decides what is old enough to prune. */
int state_sync_flush(struct state_sync *ss, uint64_t now_us);
const struct state_sync_stats *state_sync_stats(const struct state_sync *ss);
/* The packet time saved by an earlier run (restored by state_sync_restore); 0: none. */
uint64_t state_sync_relaxations_checked(const struct state_sync *ss);
/*
 * Relaxations that ended up to now_us were dealt with (a time that goes back is ignored). Saved with the
 * next flush that writes anything else, or by the next flush at all when urgent: after a relaxation_ended
 * event (so that no start reports it again) and at exit. A saved time that lags is harmless: every
 * relaxation that ended before the time reached was reported and its time saved urgently.
 */
void state_sync_set_relaxations_checked(struct state_sync *ss, uint64_t now_us, bool urgent);

#endif
