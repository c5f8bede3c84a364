/*
 * capture_packets.h: a capture file's packets read into memory, each copied,
 * for the sensor tests that feed a worker packet by packet (test_worker,
 * test_idle_flow), and the worker they feed. Serves the sensor layer.
 */
#ifndef TLSOBS_TEST_CAPTURE_PACKETS_H
#define TLSOBS_TEST_CAPTURE_PACKETS_H

#include <stddef.h>

#include "sensor/capture/capture.h"
#include "sensor/config/settings.h"
#include "sensor/worker.h"

enum { CAPTURE_PACKETS_MAX = 4096 };

struct packets {
	struct capture_packet p[CAPTURE_PACKETS_MAX];
	size_t n;
};

/* Reads tests/fixtures-relative `fixture` (a path under the source tree) into ps; asserts on any failure. */
void read_capture(const char *fixture, struct packets *ps);
/* Frees the copied packet bytes (not ps itself). */
void free_packets(struct packets *ps);

/*
 * Loads default settings with every flow timeout at 7 days (flows stay until
 * the end of the capture, so late packets meet them and idle ones are
 * measured), fills the mail ports from them, and starts one worker that hands
 * its sessions to on_session(ctx). Asserts on any failure.
 */
struct worker *test_worker_new(struct sensor_settings *settings, struct mail_ports *ports,
                               worker_session_fn on_session, void *ctx);

#endif
