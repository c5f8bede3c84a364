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
 * against tls_inspect.c, the rules, state_sync and the event writers): the
 * session record up to its alert list (the rules fill that on the finisher; it
 * is most of the record's 129 KB) and the observations, packed without their
 * zero runs (36 KB of mostly zeros: 1 to 3 KB, so that the thousands of flows
 * a capture's end closes at once do not take 50 KB each while they wait for
 * their turn), and the DER chain and the fingerprint lists beside. Owned by whoever holds the pointer;
 * sealed_session_free gives it back.
 */
#ifndef TLSOBS_SEALED_SESSION_H
#define TLSOBS_SEALED_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "parsers/smtp.h"
#include "parsers/tls.h"
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
 * A session's place in the finishing order (session_order.h): us, the packet
 * time one worker would have ended it at; flow_seq, the number of the packet
 * that made its flow (worker_session_flow_seq), which keeps sessions ending
 * at the same time in the order one worker made their flows.
 */
struct sealed_order {
	uint64_t us;
	uint64_t flow_seq;
};

/*
 * A copy of sess (valid for the call only) and everything it points to, with
 * its place in the order; worker: the index of the worker that made it; mail
 * and ingress as worker_session_fn has them (ingress NULL: unknown). NULL when
 * out of memory.
 */
struct sealed_session *sealed_session_new(const struct session *sess, bool mail, const char *ingress,
                                          struct sealed_order order, unsigned worker);
/* The same, in a block from r (NULL: malloc); sealed_session_free gives it back to r. */
struct sealed_session *sealed_session_new_from(struct sealed_recycler *r, const struct session *sess,
                                               bool mail, const char *ingress, struct sealed_order order,
                                               unsigned worker);
/* Where a sealed session is opened: the record and the observations it points to (about 143 KB). */
struct sealed_opened {
	struct session sess;
	struct smtp_observation smtp;
	struct tls_observation tls;
};
/*
 * The session again, into out->sess (its alert list empty), with the
 * observations unpacked beside it; its other pointers lead into ss (names, the
 * DER chain), which must outlive every use of out.
 */
void sealed_session_open(struct sealed_session *ss, struct sealed_opened *out);
bool sealed_session_mail(const struct sealed_session *ss);
/* The ingress interface name, NULL when unknown (points into ss). */
const char *sealed_session_ingress(const struct sealed_session *ss);
unsigned sealed_session_worker(const struct sealed_session *ss);
uint64_t sealed_session_order_us(const struct sealed_session *ss);
/* The heap bytes the copy took (for the bench figure and the stats). */
size_t sealed_session_size(const struct sealed_session *ss);
/*
 * The order sessions are finished in: by order.us, then start_us, then
 * order.flow_seq, then client address and port, server address and port.
 * Negative, 0 or positive.
 */
int sealed_session_compare(const struct sealed_session *a, const struct sealed_session *b);
/* Back to its recycler, or freed. NULL is a no-op. */
void sealed_session_free(struct sealed_session *ss);

/* For the queues between threads: a sealed session may be on one list at a time. */
struct sealed_session *sealed_session_next(const struct sealed_session *ss);
void sealed_session_set_next(struct sealed_session *ss, struct sealed_session *next);

#endif
