/*
 * event_type.h: the kinds of event tlsobs writes, named once. Each kind gives
 * its event.dataset ("tlsobs.<name>") and its Kafka topic (topic_prefix +
 * name); the writer records the kind of the document it wrote
 * (json_writer.doc.type) and the outputs route by it, so no output matches
 * names. The order is part of the Kafka spool's format: add at the end.
 */
#ifndef TLSOBS_EVENT_TYPE_H
#define TLSOBS_EVENT_TYPE_H

enum event_type {
	EVENT_TYPE_SESSION,
	EVENT_TYPE_ALERT,
	EVENT_TYPE_CERTIFICATE,
	EVENT_TYPE_STATS,
	EVENT_TYPE_POLICY,
	EVENT_TYPE_COUNT
};

/* "session", "alert", "certificate", "stats", "policy"; NULL out of range. */
const char *event_type_name(enum event_type t);
/* event.dataset: "tlsobs.session", ...; NULL out of range. */
const char *event_type_dataset(enum event_type t);

#endif
