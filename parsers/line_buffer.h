/*
 * line_buffer.h: text lines out of a byte stream, one bounded line at a time.
 *
 * Lines end with LF (RFC 5321 2.3.8 asks for CRLF; a bare LF is accepted and
 * reported). Input may stop at any byte, even between CR and LF. A line longer
 * than `max` bytes (its ending not counted) is kept up to `max` bytes and the
 * rest up to the LF is dropped; the line is still delivered, flagged too_long,
 * so a caller can keep counting lines (a reply still pairs with its command).
 */
#ifndef TLSOBS_LINE_BUFFER_H
#define TLSOBS_LINE_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct line_buffer {
	char *buf;     /* max + 2 bytes: the line, a CR, a NUL (owned) */
	size_t max;    /* longest line kept, CR LF not counted */
	size_t len;    /* bytes of the current line stored so far (a trailing CR included) */
	bool cr;       /* the last byte seen was CR */
	bool overflow; /* bytes of the current line were dropped */
	bool nul;      /* the current line holds a NUL byte */
};

/* One complete line: text without CR LF, NUL-terminated, borrowed until the next push. */
struct line {
	const char *text;
	size_t len;
	bool bare_lf;  /* ended by LF alone */
	bool too_long; /* cut at max bytes */
	bool nul;      /* holds a NUL byte (text may look shorter to str* functions) */
};

/* 0, or -1 when the buffer cannot be allocated. max must be at least 1. */
int line_buffer_init(struct line_buffer *lb, size_t max);
void line_buffer_release(struct line_buffer *lb);

/*
 * Takes bytes up to and including the first LF of data (all of them when
 * there is none) and sets *used (at least 1 when len > 0). Returns true when
 * that LF completed a line, described in *out.
 */
bool line_buffer_push(struct line_buffer *lb, const uint8_t *data, size_t len, size_t *used,
                      struct line *out);

/* Forgets the partial line, if any. */
void line_buffer_reset(struct line_buffer *lb);

/* Overwrites the buffer with zeros: for lines that may have held a credential. */
void line_buffer_wipe(struct line_buffer *lb);

#endif
