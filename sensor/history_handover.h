/*
 * history_handover.h: the bounded queue that hands the shared history's documents (issue 20) from the
 * thread that reads the topic (history_feed.c's tlsobs-history) to the thread that runs the rules engine,
 * which alone merges them (history_share.h is not thread-safe).
 *
 * Bounded by documents and by bytes. A full queue is no loss: the reader waits in history_handover_push
 * until the merging thread has taken some (it stops polling Kafka meanwhile, and Kafka keeps what is not
 * read yet); the waits are counted. The merging thread never waits on the reader: history_handover_take
 * only detaches what is there (the documents are merged after the lock is released).
 *
 * Threads: one producer and one consumer (any number would do: every field is under the one lock).
 * Ownership: push copies the document; take lends each to the callback and frees it afterwards.
 */
#ifndef TLSOBS_HISTORY_HANDOVER_H
#define TLSOBS_HISTORY_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct history_handover_stats {
	uint64_t pushed, taken;
	uint64_t full_waits; /* pushes that waited for room (the reader paused) */
	size_t queued, queued_bytes;
};

/* One document, lent to the callback of history_handover_take. catching_up: as pushed. */
typedef void (*history_handover_fn)(void *ctx, const uint8_t *doc, size_t len, bool catching_up);

struct history_handover;

/* max_docs, max_bytes: the bounds (>= 1). NULL when out of memory. */
struct history_handover *history_handover_new(size_t max_docs, size_t max_bytes);
/* NULL is a no-op. The caller has ended both sides. */
void history_handover_free(struct history_handover *h);
/*
 * Producer: a copy of doc (len bytes; a document larger than max_bytes goes alone into an empty queue).
 * Waits while the queue is full. 0 when queued; -1 when closed (before or while waiting) or out of memory.
 */
int history_handover_push(struct history_handover *h, const void *doc, size_t len, bool catching_up);
/* Consumer: up to max documents, oldest first, each to fn. Never waits for the producer. The number taken. */
size_t history_handover_take(struct history_handover *h, size_t max, history_handover_fn fn, void *ctx);
/* Consumer: waits up to timeout_ms for a document or a history_handover_kick. true when one is queued. */
bool history_handover_wait(struct history_handover *h, unsigned timeout_ms);
/* Wakes a consumer waiting in history_handover_wait (the producer's news besides documents). */
void history_handover_kick(struct history_handover *h);
/* Ends pushing: a waiting push returns -1, and every later one. What is queued can still be taken. */
void history_handover_close(struct history_handover *h);
void history_handover_get_stats(struct history_handover *h, struct history_handover_stats *out);

#endif
