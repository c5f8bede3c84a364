/*
 * capture_packets.c: a capture file's packets read into memory through the
 * sensor's own capture module, each packet's bytes copied (capture_packets.h).
 * Owns the copies until free_packets.
 */
#include "capture_packets.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/config/config.h"
#include "test_support.h"

static void keep_packet(void *ctx, const struct capture_packet *cp)
{
	struct packets *ps = ctx;
	cr_assert_lt(ps->n, sizeof ps->p / sizeof ps->p[0]);
	uint8_t *copy = malloc(cp->caplen);
	cr_assert_not_null(copy);
	memcpy(copy, cp->data, cp->caplen);
	ps->p[ps->n] = *cp;
	ps->p[ps->n].data = copy;
	ps->p[ps->n].interface = NULL;
	ps->n++;
}

void read_capture(const char *fixture, struct packets *ps)
{
	char *files[] = {(char *)test_source_path(fixture)};
	struct capture_options opt = {0};
	enum capture_open_status st;
	char err[256];
	struct capture *c = capture_open(files, 1, NULL, 0, &opt, &st, err, sizeof err);
	cr_assert_not_null(c, "%s: %s", fixture, err);
	ps->n = 0;
	volatile sig_atomic_t stop = 0;
	cr_assert_eq(capture_run(c, &(struct capture_handler){keep_packet, NULL, ps}, &stop), 0);
	capture_close(c);
	cr_assert_gt(ps->n, 0);
}

void free_packets(struct packets *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free((void *)ps->p[i].data);
}

struct worker *test_worker_new(struct sensor_settings *settings, struct mail_ports *ports,
                               worker_session_fn on_session, void *ctx)
{
	static const char yaml[] = "flow:\n  timeout:\n    new: 7d\n    established: 7d\n    closed: 7d\n";
	struct config_error cerr = {{0}};
	struct config *cfg = config_load_buffer(yaml, strlen(yaml), "test.yaml", &cerr);
	cr_assert_not_null(cfg, "%s", cerr.message);
	cr_assert_eq(settings_load(cfg, settings, &cerr), 0, "%s", cerr.message);
	config_free(cfg);
	mail_ports_add(ports->service, settings->smtp_ports, settings->n_smtp_ports);
	mail_ports_add(ports->service, settings->implicit_tls_ports, settings->n_implicit_tls_ports);
	mail_ports_add(ports->implicit_tls, settings->implicit_tls_ports, settings->n_implicit_tls_ports);
	static const uint16_t smtps[] = {SETTINGS_SMTPS_PORT};
	mail_ports_add(ports->smtps, smtps, 1);
	char err[256];
	struct worker *w = worker_new(settings, ports, NULL, 1, on_session, ctx, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	return w;
}
