/*
 * flow_table_fixture.h: a flow table under test (sensor/flow/flow_table.h)
 * whose end hook records every flow that leaves (id and reason, in order) and
 * fails the test if one flow is ended twice, plus the packets and helpers the
 * flow table tests share. Flows the table evicts are ended after the packet
 * (flow_table_end_queued), which the helpers call as the worker does.
 * Serves the sensor layer.
 */
#ifndef TLSOBS_TEST_FLOW_TABLE_FIXTURE_H
#define TLSOBS_TEST_FLOW_TABLE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/flow/flow_table.h"

#define SEC 1000000ull
#define MSEC 1000ull
/* Packet time starts somewhere realistic, not at zero. */
#define T0 (1700000000ull * SEC)

enum { LOG_CAP = 256, MAX_ID = 131072 };

struct end_log {
	size_t calls;
	uint64_t ids[LOG_CAP]; /* the first LOG_CAP flows ended, in order */
	enum flow_close_reason reasons[LOG_CAP];
	uint8_t times_ended[MAX_ID]; /* by flow id */
	uint64_t by_reason[FLOW_CLOSE_SHUTDOWN + 1];
};

/* The end hook: records into the struct end_log at ctx. */
void on_end(void *ctx, struct flow *f, enum flow_close_reason reason);

struct fixture {
	struct flow_table *t;
	struct flow_table_settings s;
	struct end_log log;
};

/* Timeouts 30 s / 600 s / 10 s, emergency 5 s / 60 s / 1 s, recovery at 50%, no stream depth. */
struct flow_table_settings default_settings(uint64_t memcap, uint32_t hash_size);
struct fixture *fixture_with(const struct flow_table_settings *s);
struct fixture *fixture_new(uint64_t memcap, uint32_t hash_size);
void fixture_free(struct fixture *fx);
uint64_t bucket_bytes(uint64_t nbuckets);

struct decoded_packet packet(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags);
struct decoded_packet reversed(const struct decoded_packet *p);
/* A client SYN from 192.0.2.1:port to the mail server 198.51.100.1:25. */
struct decoded_packet syn_from(uint16_t client_port);
struct flow *create(struct fixture *fx, const struct decoded_packet *p, uint64_t now_us);
struct flow *open_flow(struct fixture *fx, uint16_t client_port, uint64_t now_us);
struct flow *find(struct fixture *fx, const struct decoded_packet *p, enum flow_dir *dir);
struct flow *find_client(struct fixture *fx, uint16_t client_port);
/* The first n flows ended were ids[] with reasons[], in that order, and no others. */
void expect_ended(const struct fixture *fx, const uint64_t *ids, const enum flow_close_reason *reasons,
                  size_t n);
/* Buffers `len` out-of-order bytes in the flow's client-to-server stream (a hole of 100 before them). */
void buffer_segment(struct flow *f, uint32_t len);

#endif
