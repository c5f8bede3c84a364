/*
 * session_order.h: sessions from several workers finished in the order one
 * worker would have finished them, by packet time.
 *
 * Each sealed session carries an ordering key (sealed_session_order_us): the
 * packet time at which one worker holding the capture's global clock would
 * have ended its flow (for an idle timeout its last packet plus the timeout,
 * otherwise the worker's clock when the flow ended). Each source (a worker)
 * publishes a watermark: its packet clock, below which it will emit nothing
 * more. A session is released once its key is below every unfinished source's
 * watermark, the smallest key first (ties: sealed_session_compare); once every
 * source has finished, all of them. With one source the same path gives the
 * same order, so one worker and N workers finish identically.
 *
 * Not thread-safe: the finisher alone owns it (the worker pool hands it the
 * sessions and watermarks it collected under its own locks). The heap grows
 * with what waits for the slowest worker; its peak is counted.
 */
#ifndef TLSOBS_SESSION_ORDER_H
#define TLSOBS_SESSION_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/workers/sealed_session.h"

struct session_order;

/* nsources watermarks, all at 0. NULL when out of memory. */
struct session_order *session_order_new(unsigned nsources);
/* Frees the order and every session still in it. NULL is a no-op. */
void session_order_free(struct session_order *o);
/* Takes ss (owned from here). 0, or -1 out of memory (ss is then freed and counted lost). */
int session_order_push(struct session_order *o, struct sealed_session *ss);
/* Source's watermark: nothing it emits later has a key below us (a lower value than before is ignored). */
void session_order_watermark(struct session_order *o, unsigned source, uint64_t us);
/* The source emits nothing more: it no longer holds the others back. */
void session_order_finished(struct session_order *o, unsigned source);
/* The next session whose turn has come, NULL when none: the caller owns it. */
struct sealed_session *session_order_pop(struct session_order *o);
/* The release clock: the lowest watermark of the unfinished sources (UINT64_MAX when all finished). */
uint64_t session_order_clock(const struct session_order *o);
size_t session_order_pending(const struct session_order *o);
size_t session_order_peak(const struct session_order *o);
uint64_t session_order_lost(const struct session_order *o);

#endif
