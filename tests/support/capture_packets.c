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
