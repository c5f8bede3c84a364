/*
 * line_buffer.h: text lines out of a byte stream, one bounded line at a time.
 *
 * Lines end with LF (RFC 5321 2.3.8 asks for CRLF; a bare LF is accepted and
 * reported). Input may stop at any byte, even between CR and LF. A line longer
 * than `max` bytes (its ending not counted) is kept up to `max` bytes and the
 * rest up to the LF is dropped; the line is still delivered, flagged too_long,
 * so a caller can keep counting lines (a reply still pairs with its command).
 *
 * Memory on demand: a line that arrives whole within one chunk is handed out
 * in place, from the caller's bytes, and costs nothing. Only a line cut by the
 * end of a chunk is copied, into a buffer that grows with it (never past
 * max + 2 bytes) and is given back (wiped) once its line has been used: an idle
 * direction holds no buffer at all.
 */
#ifndef TLSOBS_LINE_BUFFER_H
#define TLSOBS_LINE_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { LINE_BUFFER_MAX = UINT32_MAX - 2 }; /* the longest max a line buffer takes */

/* The partial line of one direction: its buffer exists only while a line is under way. */
struct line_buffer {
	char *buf;         /* line_buffer_memory() bytes (owned; NULL while idle): the line, a CR, a NUL */
	uint32_t len;      /* bytes of the current line stored so far (a trailing CR included) */
	uint8_t cap_shift; /* buf holds 64 << cap_shift bytes, or max + 2 when that is less */
	bool cr;           /* the last byte seen was CR */
	bool overflow;     /* bytes of the current line were dropped (too long, or no memory to grow) */
	bool nul;          /* the current line holds a NUL byte */
};

/*
 * One complete line: len bytes of text without CR LF, borrowed until the next
 * push or line_buffer_release. Not NUL-terminated when handed out in place:
 * read it by its length only.
 */
struct line {
	const char *text;
	size_t len;
	bool bare_lf;  /* ended by LF alone */
	bool too_long; /* cut at max bytes */
	bool nul;      /* holds a NUL byte (text may look shorter to str* functions) */
};

/*
 * Takes bytes up to and including the first LF of data (all of them when
 * there is none) and sets *used (at least 1 when len > 0). Returns true when
 * that LF completed a line, described in *out. max (1 to LINE_BUFFER_MAX) is
 * the longest line kept. A buffer that cannot grow drops the rest of its line
 * (too_long), as a line past max.
 */
bool line_buffer_push(struct line_buffer *lb, size_t max, const uint8_t *data, size_t len, size_t *used,
                      struct line *out);

/* Forgets the partial line, if any, and gives its buffer back, wiped (it may have held a credential): a
 * line handed out from it is gone too. */
void line_buffer_release(struct line_buffer *lb, size_t max);

/* Heap bytes held for the partial line (0 when none); max as given to line_buffer_push. */
size_t line_buffer_memory(const struct line_buffer *lb, size_t max);

#endif
