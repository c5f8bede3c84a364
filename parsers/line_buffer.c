/*
 * line_buffer.c: bounded line assembly (RFC 5321 2.3.8 line endings,
 * 4.5.3.1.4 and 4.5.3.1.5 line lengths). See line_buffer.h.
 */
#include "parsers/line_buffer.h"

#include <stdlib.h>
#include <string.h>

int line_buffer_init(struct line_buffer *lb, size_t max)
{
	memset(lb, 0, sizeof *lb);
	if (max == 0 || max > SIZE_MAX - 2)
		return -1;
	lb->buf = malloc(max + 2);
	if (lb->buf == NULL)
		return -1;
	lb->max = max;
	lb->buf[0] = '\0';
	return 0;
}

void line_buffer_release(struct line_buffer *lb)
{
	free(lb->buf);
	lb->buf = NULL;
}

void line_buffer_reset(struct line_buffer *lb)
{
	lb->len = 0;
	lb->cr = false;
	lb->overflow = false;
	lb->nul = false;
}

void line_buffer_wipe(struct line_buffer *lb)
{
	if (lb->buf != NULL)
		explicit_bzero(lb->buf, lb->max + 2);
}

/* Stores what fits of n line bytes (no LF among them); room is max + 1 so a final CR still fits. */
static void line_buffer_append(struct line_buffer *lb, const uint8_t *data, size_t n)
{
	if (n == 0)
		return;
	size_t room = lb->max + 1 - lb->len;
	size_t keep = n < room ? n : room;
	memcpy(lb->buf + lb->len, data, keep);
	lb->len += keep;
	if (keep < n)
		lb->overflow = true;
	if (memchr(data, '\0', n) != NULL)
		lb->nul = true;
	lb->cr = data[n - 1] == '\r';
}

/* The LF arrived: strip the CR, decide whether the line was too long, hand it out. */
static void line_buffer_finish(struct line_buffer *lb, struct line *out)
{
	size_t text = lb->len;
	if (lb->cr && !lb->overflow)
		text--; /* the CR is the last byte stored */
	bool too_long = lb->overflow || text > lb->max;
	if (text > lb->max)
		text = lb->max;
	lb->buf[text] = '\0';
	out->text = lb->buf;
	out->len = text;
	out->bare_lf = !lb->cr;
	out->too_long = too_long;
	out->nul = lb->nul;
	line_buffer_reset(lb);
}

bool line_buffer_push(struct line_buffer *lb, const uint8_t *data, size_t len, size_t *used, struct line *out)
{
	const uint8_t *lf = len ? memchr(data, '\n', len) : NULL;
	size_t body = lf ? (size_t)(lf - data) : len;
	line_buffer_append(lb, data, body);
	if (lf == NULL) {
		*used = len;
		return false;
	}
	*used = body + 1;
	line_buffer_finish(lb, out);
	return true;
}
