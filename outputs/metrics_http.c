/*
 * metrics_http.c: the Prometheus endpoint on libmicrohttpd (metrics_http.h).
 *
 * Only GET and HEAD of /metrics are answered (200, text/plain; version=0.0.4);
 * / says where to look, anything else is 404, and other methods 405. A
 * connection cap and a timeout keep an unfriendly client from pinning the
 * thread: at most METRICS_HTTP_CONNECTIONS at once, idle ones closed after
 * METRICS_HTTP_TIMEOUT_S seconds.
 */
#include "outputs/metrics_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/logger.h"
#include "outputs/metrics.h"

enum { METRICS_HTTP_CONNECTIONS = 16, METRICS_HTTP_TIMEOUT_S = 10 };

struct metrics_http {
	struct MHD_Daemon *daemon;
	struct metrics_board *board;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body,
                             size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	struct metrics_http *h = cls;
	static char not_allowed[] = "only GET and HEAD\n", not_found[] = "not found: try /metrics\n",
	            index_page[] = "tlsobs: metrics at /metrics\n";
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed, strlen(not_allowed),
		             MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/") == 0)
		return reply(c, MHD_HTTP_OK, "text/plain", index_page, strlen(index_page),
		             MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, strlen(not_found),
		             MHD_RESPMEM_PERSISTENT);
	size_t len;
	char *body = metrics_board_render(h->board, &len);
	if (!body)
		return MHD_NO; /* out of memory: the connection is closed */
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
	             MHD_RESPMEM_MUST_FREE);
}

static void on_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
	logger_log(LOGGER_ERROR, "metrics", "libmicrohttpd: %s:%u: %s", file ? file : "?", line,
	           reason ? reason : "internal error");
	abort();
}

/* The daemon's thread inherits the caller's signal mask: block everything while it is created. */
static struct MHD_Daemon *start_daemon(struct metrics_http *h, const struct sockaddr *sa, bool v6)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | (v6 ? MHD_USE_IPv6 : 0);
	struct MHD_Daemon *d =
	    MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, sa,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_CONNECTIONS,
	                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT_S, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return d;
}

struct metrics_http *metrics_http_start(const char *host, uint16_t port, struct metrics_board *board,
                                        char *err, size_t errlen)
{
	struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	bool is6 = inet_pton(AF_INET, host, &v4.sin_addr) != 1;
	if (is6 && inet_pton(AF_INET6, host, &v6.sin6_addr) != 1) {
		snprintf(err, errlen, "metrics.listen %s: not an IP address", host);
		return NULL;
	}
	struct metrics_http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	h->board = board;
	MHD_set_panic_func(on_panic, NULL);
	h->daemon = start_daemon(h, is6 ? (const struct sockaddr *)&v6 : (const struct sockaddr *)&v4, is6);
	if (!h->daemon) {
		/* libmicrohttpd says nothing more; a taken port is by far the likeliest cause */
		snprintf(err, errlen,
		         "metrics.listen %s%s%s:%u: cannot listen (address in use or not local?)",
		         is6 ? "[" : "", host, is6 ? "]" : "", port);
		free(h);
		return NULL;
	}
	return h;
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
}
