/*
 * sealed_session.h: a worker's finished session, made self-contained so that
 * it can cross to the finishing thread.
 *
 * A worker builds each session record in its scratch space, borrowing from
 * its flow's parsers (the SMTP and TLS observations, the TLS observation's
 * certificate DER copies and fingerprint lists) and from its own buffers
 * (nDPI's application and risk names, the ingress interface name). All that
 * goes away when the flow record is freed, right after the hand-over. A sealed
 * session copies what the finisher reads through those pointers (checked
 * against tls_inspect.c, the rules, state_sync and the event writers) into one
 * heap block: the session record up to its alert list (the rules fill that on
 * the finisher; it is most of the record's 129 KB), the observations, the DER
 * chain and the fingerprint lists. Owned by whoever holds the pointer;
 * sealed_session_free gives it back.
 */
#ifndef TLSOBS_SEALED_SESSION_H
#define TLSOBS_SEALED_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "rules/session.h"

struct sealed_session;

/*
 * Spent blocks kept for reuse by the thread that seals: a block malloc'd on a
 * worker's thread and freed on the finisher's goes back to that worker's
 * arena, which glibc then trims and faults in again (madvise, page faults:
 * a quarter of the finisher's time in the bench). At most `max` kept; its
 * own lock. Must outlive every block made from it.
 */
struct sealed_recycler;
struct sealed_recycler *sealed_recycler_new(unsigned max);
void sealed_recycler_free(struct sealed_recycler *r);

/*
 * A copy of sess (valid for the call only) and everything it points to.
 * order_us: the session's place in packet time (session_order.h); worker: the
 * index of the worker that made it; mail and ingress as worker_session_fn has
 * them (ingress NULL: unknown). NULL when out of memory.
 */
struct sealed_session *sealed_session_new(const struct session *sess, bool mail, const char *ingress,
                                          uint64_t order_us, unsigned worker);
/* The same, in a block from r (NULL: malloc); sealed_session_free gives it back to r. */
struct sealed_session *sealed_session_new_from(struct sealed_recycler *r, const struct session *sess,
                                               bool mail, const char *ingress, uint64_t order_us,
                                               unsigned worker);
/*
 * The session again, into out (a whole struct session: the finisher's
 * scratch), its alert list empty; its pointers lead into ss, which must
 * outlive every use of out.
 */
void sealed_session_open(struct sealed_session *ss, struct session *out);
bool sealed_session_mail(const struct sealed_session *ss);
/* The ingress interface name, NULL when unknown (points into ss). */
const char *sealed_session_ingress(const struct sealed_session *ss);
unsigned sealed_session_worker(const struct sealed_session *ss);
uint64_t sealed_session_order_us(const struct sealed_session *ss);
/* The heap bytes the copy took (for the bench figure and the stats). */
size_t sealed_session_size(const struct sealed_session *ss);
/*
 * The order sessions are finished in: by order_us, then start_us, client
 * address and port, server address and port. Negative, 0 or positive.
 */
int sealed_session_compare(const struct sealed_session *a, const struct sealed_session *b);
/* Back to its recycler, or freed. NULL is a no-op. */
void sealed_session_free(struct sealed_session *ss);

/* For the queues between threads: a sealed session may be on one list at a time. */
struct sealed_session *sealed_session_next(const struct sealed_session *ss);
void sealed_session_set_next(struct sealed_session *ss, struct sealed_session *next);

#endif
