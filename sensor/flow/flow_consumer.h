/*
 * flow_consumer.h: where reassembled bytes go. The SMTP/TLS layer plugs in here.
 *
 * For each flow the tracker calls open() once (roles may still swap until the
 * first payload byte, so look at f->client/f->server only from data() on),
 * then data() and gap() with in-order bytes per direction. data()/gap() may
 * answer STREAM_DONE: the flow then skips reassembly for good, later packets
 * only update counters. The end of a flow goes through the flow table's end
 * hook (flow_table_new), whose owner frees what open() returned.
 */
#ifndef TLSOBS_FLOW_CONSUMER_H
#define TLSOBS_FLOW_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/flow/flow.h"

struct flow_consumer {
	void *(*open)(void *ctx, struct flow *f);
	enum stream_verdict (*data)(void *state, struct flow *f, enum flow_dir dir, const uint8_t *p,
	                            size_t n);
	enum stream_verdict (*gap)(void *state, struct flow *f, enum flow_dir dir, uint64_t n);
	void *ctx;
};

#endif
