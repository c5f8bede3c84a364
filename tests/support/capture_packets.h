/*
 * capture_packets.h: a capture file's packets read into memory, each copied,
 * for the sensor tests that feed a worker packet by packet (test_worker,
 * test_idle_flow). Serves the sensor layer.
 */
#ifndef TLSOBS_TEST_CAPTURE_PACKETS_H
#define TLSOBS_TEST_CAPTURE_PACKETS_H

#include <stddef.h>

#include "sensor/capture/capture.h"

enum { CAPTURE_PACKETS_MAX = 4096 };

struct packets {
	struct capture_packet p[CAPTURE_PACKETS_MAX];
	size_t n;
};

/* Reads tests/fixtures-relative `fixture` (a path under the source tree) into ps; asserts on any failure. */
void read_capture(const char *fixture, struct packets *ps);
/* Frees the copied packet bytes (not ps itself). */
void free_packets(struct packets *ps);

#endif
