/*
 * config_internal.h: what config.c (the tree) and config_get.c (the typed
 * getters) share. Private to those two files; everything else uses config.h.
 */
#ifndef TLSOBS_CONFIG_INTERNAL_H
#define TLSOBS_CONFIG_INTERNAL_H

#include "sensor/config.h"

/* Bytes of a bad value quoted in a message: enough to recognise it, short enough for one line. */
enum { CONFIG_QUOTE_MAX = 64 };
#define QUOTED "'%.*s%s'"
#define QUOTE_ARGS(s, len)                                                                                   \
	(int)((len) > CONFIG_QUOTE_MAX ? CONFIG_QUOTE_MAX : (len)), (s),                                     \
	    ((len) > CONFIG_QUOTE_MAX ? "..." : "")

/* Formats into err->message (NULL err: nothing), control characters made '?' so it stays one line. */
void config_error_set(struct config_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "a scalar", "a map" or "a list", for messages. */
const char *config_kind_name(enum config_node_kind kind);

#endif
