/* event_context.h: what every event says about the sensor that wrote it. */
#ifndef TLSOBS_EVENT_CONTEXT_H
#define TLSOBS_EVENT_CONTEXT_H

/*
 * tlsobs.schema_version: the version of docs/events.schema.json the events
 * follow (semantic versioning: a new optional field is a minor change, a
 * renamed or removed field or a changed meaning a major one).
 */
#define TLSOBS_SCHEMA_VERSION "1.4.0"

/* ecs.version: the ECS release whose field definitions the events follow (checked against 8.0 to 9.x). */
#define TLSOBS_ECS_VERSION "8.11.0"

/* events.client_ciphers: how tls.client.supported_ciphers is written (in the order of its setting's names).
 */
enum event_client_ciphers {
	EVENT_CLIENT_CIPHERS_NAMES, /* IANA names, "0xC0FF" for unregistered codes (the default) */
	EVENT_CLIENT_CIPHERS_CODES, /* every suite as "0xC02F" */
	EVENT_CLIENT_CIPHERS_NONE,  /* the field left out */
};

struct event_context {
	const char *hostname; /* observer.hostname */
	const char *version;  /* observer.version */
	const char *name;     /* observer.name (sensor.name); NULL or "": the host name */
	/* rule.reference of alerts: this prefix, the rule's name and ".md" (detection.runbook_base); NULL:
	 * none */
	const char *runbook_base;
	/* observer.ingress.interface.name of the events being written (the flow's first packet's
	 * interface), NULL when unknown; set by the sensor around each session's events */
	const char *ingress_interface;
	enum event_client_ciphers client_ciphers; /* events.client_ciphers */
};

#endif
