/*
 * metrics_http.h: GET /metrics over HTTP, the only user of libmicrohttpd.
 *
 * metrics.listen: HOST:PORT. The server runs in libmicrohttpd's own thread
 * (MHD_USE_INTERNAL_POLLING_THREAD), started with every signal blocked so
 * SIGHUP, SIGUSR1 and SIGTERM always reach the capture thread. It reads only
 * the metrics board (outputs/metrics.h), never the packet path.
 */
#ifndef TLSOBS_METRICS_HTTP_H
#define TLSOBS_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct metrics_board;
struct metrics_http;

/* Binds and starts serving `board` (borrowed: it must outlive the server). NULL with err when it cannot bind.
 */
struct metrics_http *metrics_http_start(const char *host, uint16_t port, struct metrics_board *board,
                                        char *err, size_t errlen);
/* Stops the thread and closes the socket. NULL is a no-op. */
void metrics_http_stop(struct metrics_http *h);

#endif
