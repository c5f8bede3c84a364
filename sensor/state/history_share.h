/*
 * history_share.h: the cross-session history shared by a fleet of sensors (issue 20,
 * `detection.history.shared`).
 *
 * Each finished session that taught the cross-session history something (a server advertised STARTTLS,
 * negotiated a TLS version, showed a certificate that validated or answered a client fingerprint (JA3) with
 * its own (JA3S); a client greeted a server with EHLO, or failed STARTTLS with it) is published as the
 * history's whole record for that key after the session: a small versioned JSON document (docs/events.md,
 * "Shared history"), keyed by the server's address and port (and, for a client/server pair, the client's
 * address), so that a compacted topic keeps the latest record of every key. Records from other sensors are
 * merged into the local history fact by fact, the later packet time winning (rules_engine.h): a merge is
 * idempotent, so a record received twice (a replayed spool, a restart) changes nothing, and it never raises
 * an alert.
 *
 * Not here: the transport. The caller gives a publish function (the Kafka output) and hands over what its
 * consumer reads (history_share_receive).
 *
 * Threads: one owner, the thread that runs the rules engine (the sensor's finisher).
 */
#ifndef TLSOBS_HISTORY_SHARE_H
#define TLSOBS_HISTORY_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outputs/json_writer.h"
#include "rules/rules_engine.h"
#include "rules/session.h"

enum { HISTORY_SHARE_VERSION = 1, HISTORY_SHARE_NAME_MAX = 256, HISTORY_SHARE_KEY_MAX = 128 };

enum history_share_kind { HISTORY_SHARE_SERVER, HISTORY_SHARE_PAIR };

/* One document of the topic, decoded. */
struct history_share_update {
	enum history_share_kind kind;
	char observer[HISTORY_SHARE_NAME_MAX]; /* sensor.name of the sensor that published it */
	uint64_t time_us;                      /* packet time of the observation that made it */
	struct ip_addr server, client;         /* client: pairs only */
	uint16_t port;
	struct starttls_server_share server_facts; /* kind server */
	struct tls_server_share tls_facts;         /* kind server: its TLS (tls_interception_suspected) */
	struct starttls_pair_share pair_facts;     /* kind pair */
};

struct history_share_stats {
	uint64_t published;      /* documents handed to the publish function */
	uint64_t publish_errors; /* ...that it refused (dropped; the Kafka output counts why) */
	uint64_t received;       /* documents read from the topic */
	uint64_t merged;         /* ...that changed the local history */
	uint64_t ignored_own;    /* ...published by this sensor.name (after the start-up read) */
	uint64_t skew_exceeded;  /* ...dated beyond detection.history.max_clock_skew ahead: dropped */
	uint64_t errors; /* ...that could not be decoded (bad JSON, unknown version or kind, bad address) */
};

enum history_share_result {
	HISTORY_SHARE_MERGED,
	HISTORY_SHARE_UNCHANGED, /* nothing later than what the history holds */
	HISTORY_SHARE_OWN,
	HISTORY_SHARE_SKEW,
	HISTORY_SHARE_ERROR,
};

/* Returns 0 when the document was taken (queued or spooled), -1 when dropped. */
typedef int (*history_share_publish_fn)(void *ctx, const char *key, size_t key_len, const char *doc,
                                        size_t len);

struct history_share;

/* Borrows engine and name for its life. NULL when out of memory. */
struct history_share *history_share_new(struct rules_engine *engine, const char *sensor_name,
                                        uint64_t max_clock_skew_us, history_share_publish_fn publish,
                                        void *ctx);
void history_share_free(struct history_share *hs);
/* After rules_engine_evaluate(s): publishes the records the session changed. */
void history_share_session(struct history_share *hs, const struct session *s);
/*
 * One document from the topic. now_us: the local clock the skew is measured against (the later of packet
 * time and wall time). During the start-up read (history_share_set_catching_up), this sensor's own records
 * are merged too: they are its memory from before a restart; afterwards they are echoes and ignored.
 */
enum history_share_result history_share_receive(struct history_share *hs, const uint8_t *doc, size_t len,
                                                uint64_t now_us);
void history_share_set_catching_up(struct history_share *hs, bool catching_up);
const struct history_share_stats *history_share_stats(const struct history_share *hs);

/* The wire format, for the tests and the fuzz harness. encode: into w (reset first) and key[]. */
void history_share_encode(struct json_writer *w, const struct history_share_update *u,
                          char key[HISTORY_SHARE_KEY_MAX]);
/* 0, or -1 when doc is not a version 1 update (the reason's name in *why, static). */
int history_share_decode(const uint8_t *doc, size_t len, struct history_share_update *u, const char **why);

#endif
