/* event_type.c: the event kinds' names and datasets (see event_type.h). */
#include "outputs/event_type.h"

static const struct {
	const char *name, *dataset;
} event_types[EVENT_TYPE_COUNT] = {
    [EVENT_TYPE_SESSION] = {"session", "tlsobs.session"},
    [EVENT_TYPE_ALERT] = {"alert", "tlsobs.alert"},
    [EVENT_TYPE_CERTIFICATE] = {"certificate", "tlsobs.certificate"},
    [EVENT_TYPE_STATS] = {"stats", "tlsobs.stats"},
    [EVENT_TYPE_POLICY] = {"policy", "tlsobs.policy"},
};

const char *event_type_name(enum event_type t)
{
	return (unsigned)t < EVENT_TYPE_COUNT ? event_types[t].name : (const char *)0;
}

const char *event_type_dataset(enum event_type t)
{
	return (unsigned)t < EVENT_TYPE_COUNT ? event_types[t].dataset : (const char *)0;
}
