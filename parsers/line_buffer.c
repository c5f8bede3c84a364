/*
 * line_buffer.c: bounded line assembly (RFC 5321 2.3.8 line endings,
 * 4.5.3.1.4 and 4.5.3.1.5 line lengths), with memory only for a line that a
 * chunk boundary cuts. See line_buffer.h.
 */
#include "parsers/line_buffer.h"

#include <stdlib.h>
#include <string.h>

enum { LINE_BUFFER_FIRST = 64 }; /* the first allocation; then doubled as the line grows */

static size_t line_buffer_cap(const struct line_buffer *lb, size_t max)
{
	size_t cap = (size_t)LINE_BUFFER_FIRST << lb->cap_shift;
	return cap < max + 2 ? cap : max + 2;
}

void line_buffer_release(struct line_buffer *lb, size_t max)
{
	if (lb->buf != NULL) {
		explicit_bzero(lb->buf, line_buffer_cap(lb, max));
		free(lb->buf);
	}
	memset(lb, 0, sizeof *lb);
}

size_t line_buffer_memory(const struct line_buffer *lb, size_t max)
{
	return lb->buf ? line_buffer_cap(lb, max) : 0;
}

/* Room for `need` bytes (at most max + 2). false when the memory cannot be had. */
static bool line_buffer_grow(struct line_buffer *lb, size_t need, size_t max)
{
	size_t old = lb->buf ? line_buffer_cap(lb, max) : 0;
	if (need <= old)
		return true;
	unsigned shift = lb->buf ? lb->cap_shift + 1u : 0;
	while (((size_t)LINE_BUFFER_FIRST << shift) < need)
		shift++;
	struct line_buffer grown = {.cap_shift = (uint8_t)shift};
	size_t cap = line_buffer_cap(&grown, max);
	char *buf = malloc(cap);
	if (buf == NULL)
		return false;
	if (lb->buf != NULL) {
		memcpy(buf, lb->buf, lb->len);
		explicit_bzero(lb->buf, old);
		free(lb->buf);
	}
	lb->buf = buf;
	lb->cap_shift = (uint8_t)shift;
	return true;
}

/* Stores what fits of n line bytes (no LF among them); room is max + 1 so a final CR still fits. */
static void line_buffer_append(struct line_buffer *lb, size_t max, const uint8_t *data, size_t n)
{
	if (n == 0)
		return;
	size_t room = max + 1 - lb->len;
	size_t keep = n < room ? n : room;
	if (keep > 0 && !line_buffer_grow(lb, lb->len + keep + 1, max)) {
		size_t cap = line_buffer_memory(lb, max); /* what the old buffer still takes */
		size_t have = cap > lb->len + 1 ? cap - lb->len - 1 : 0;
		keep = keep < have ? keep : have;
	}
	if (keep > 0)
		memcpy(lb->buf + lb->len, data, keep);
	lb->len += (uint32_t)keep;
	if (keep < n)
		lb->overflow = true;
	if (memchr(data, '\0', n) != NULL)
		lb->nul = true;
	lb->cr = data[n - 1] == '\r';
}

/* The LF arrived: strip the CR, decide whether the line was too long, hand it out. */
static void line_finish(const char *text, size_t stored, bool cr, bool overflow, bool nul, size_t max,
                        struct line *out)
{
	size_t n = stored;
	if (cr && !overflow)
		n--; /* the CR is the last byte stored */
	out->too_long = overflow || n > max;
	out->len = n > max ? max : n;
	out->text = text;
	out->bare_lf = !cr;
	out->nul = nul;
}

/* A whole line within one chunk, nothing under way: handed out in place, as if stored and finished. */
static void line_in_place(const uint8_t *data, size_t body, size_t max, struct line *out)
{
	size_t stored = body < max + 1 ? body : max + 1;
	bool cr = body > 0 && data[body - 1] == '\r';
	bool nul = body > 0 && memchr(data, '\0', body) != NULL;
	line_finish(stored ? (const char *)data : "", stored, cr, body > max + 1, nul, max, out);
}

bool line_buffer_push(struct line_buffer *lb, size_t max, const uint8_t *data, size_t len, size_t *used,
                      struct line *out)
{
	const uint8_t *lf = len ? memchr(data, '\n', len) : NULL;
	size_t body = lf ? (size_t)(lf - data) : len;
	if (lf != NULL && lb->len == 0 && !lb->overflow) {
		*used = body + 1;
		line_in_place(data, body, max, out);
		return true;
	}
	line_buffer_append(lb, max, data, body);
	if (lf == NULL) {
		*used = len;
		return false;
	}
	*used = body + 1;
	bool cr = lb->cr;
	line_finish(lb->buf ? lb->buf : "", lb->len, cr, lb->overflow, lb->nul, max, out);
	if (lb->buf != NULL)
		lb->buf[out->len] = '\0';
	lb->len = 0;
	lb->cr = lb->overflow = lb->nul = false;
	return true;
}
