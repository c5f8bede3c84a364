/*
 * event_common.h: the parts every event shares, so all four event types carry
 * them alike: @timestamp, ecs.version, event.{kind,category,type,dataset,id,created},
 * observer.*, tlsobs.schema_version and tlsobs.truncated; and the flow parts
 * of session and alert events (source, destination, network with community_id).
 *
 * An event is written as
 *
 *   event_begin(w, ctx, &header);     reset, "{", @timestamp, ecs, observer, "event":{ common fields
 *   ... the event's own event.* fields ...
 *   json_object_end(w);               closes "event"
 *   ... ECS objects (source, tls, ...) ...
 *   event_tlsobs_begin(w);            "tlsobs":{ "schema_version"
 *   ... tlsobs.* fields ...
 *   event_end(w);                     tlsobs.truncated if anything was cut, "}}"
 *
 * tlsobs comes last so that tlsobs.truncated counts every cut of the document.
 */
#ifndef TLSOBS_EVENT_COMMON_H
#define TLSOBS_EVENT_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "outputs/event_context.h"
#include "outputs/json_writer.h"
#include "rules/session.h"

/*
 * event.id: "<base>-<kind><seq>", e.g. "S3F9K2M7Q0000000001-a2". `base` is an id
 * unique across runs (a session id; for events of no session, the run's own id:
 * session_id_make(out, run_nonce, 0), flow ids start at 1). Kinds in use:
 * 's' session (seq 0, not written: "-s"), 'a' alert (seq 1..n, the alert's place
 * in the session), 'c' certificate (seq 0: "-c"), 'm' stats (seq: the snapshot number).
 */
enum { EVENT_ID_LEN = SESSION_ID_LEN + 24 };
void event_id_make(char out[EVENT_ID_LEN], const char *base, char kind, uint64_t seq);

struct event_header {
	enum event_type dataset;     /* event.dataset: "tlsobs.session", ... (event_type.h) */
	const char *kind;            /* event.kind: "event", "alert", "metric" */
	const char *const *category; /* event.category, NULL-terminated */
	const char *const *type;     /* event.type, NULL-terminated */
	const char *id;              /* event.id (event_id_make) */
	uint64_t timestamp_us;       /* @timestamp: packet time */
	uint64_t created_us;         /* event.created: wall clock */
};

/* Resets w and starts the document (see above); records id and @timestamp in w->doc for transports. */
void event_begin(struct json_writer *w, const struct event_context *ctx, const struct event_header *h);
/* Opens "tlsobs" and writes tlsobs.schema_version. */
void event_tlsobs_begin(struct json_writer *w);
/* Writes tlsobs.truncated when this document cut a string or an array, closes tlsobs and the document. */
void event_end(struct json_writer *w);

void event_write_observer(struct json_writer *w, const struct event_context *ctx);
/* source.* (the client) and destination.* (the server); with_counters adds bytes and packets. */
void event_write_endpoints(struct json_writer *w, const struct session *s, bool with_counters);
/* network.*, with network.community_id (Community ID v1, seed 0) of the session's endpoints (the inner ones
 * of a tunnel) and network.vlan.id / network.inner.vlan.id when the flow's first packet was tagged. */
void event_write_network(struct json_writer *w, const struct session *s);
/* tlsobs.partner: {domain (absent when unattributed), mode, match}; nothing before the rules ran. */
void event_write_partner(struct json_writer *w, const struct session *s);

#endif
