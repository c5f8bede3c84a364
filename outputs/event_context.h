/* event_context.h: what every event says about the sensor that wrote it. */
#ifndef TLSOBS_EVENT_CONTEXT_H
#define TLSOBS_EVENT_CONTEXT_H

struct event_context {
	const char *hostname; /* observer.hostname */
	const char *version;  /* observer.version */
};

#endif
