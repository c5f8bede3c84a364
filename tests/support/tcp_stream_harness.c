/*
 * tcp_stream_harness.c: a recording sink and a segment feeder for the
 * reassembler tests (tests/sensor/test_tcp_stream*.c); see the header.
 */
#include "tcp_stream_harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static void log_event(struct recorder *r, char kind, uint64_t n)
{
	int w = snprintf(r->log + r->log_len, LOG_CAP - r->log_len, "%s%c%llu", r->log_len ? " " : "", kind,
	                 (unsigned long long)n);
	cr_assert(w > 0 && (size_t)w < LOG_CAP - r->log_len, "event log overflow");
	r->log_len += (size_t)w;
}

enum stream_verdict rec_data(void *ctx, const uint8_t *p, size_t n)
{
	struct recorder *r = ctx;
	cr_assert(!r->said_done, "data event after the sink answered STREAM_DONE");
	cr_assert(n > 0, "a data event carries bytes");
	cr_assert_leq(r->len + n, (size_t)REC_CAP, "more bytes delivered than any test sends");
	memcpy(r->bytes + r->len, p, n);
	if (r->pos + n <= REC_CAP) {
		memcpy(r->image + r->pos, p, n);
		for (size_t i = 0; i < n; i++) {
			cr_assert(!r->present[r->pos + i], "stream position %llu delivered twice",
			          (unsigned long long)(r->pos + i));
			r->present[r->pos + i] = 1;
		}
	}
	r->len += n;
	r->pos += n;
	r->last_data = p;
	r->data_events++;
	if (r->log_len < LOG_CAP - 64)
		log_event(r, 'd', n);
	if (r->done_at && r->len >= r->done_at) {
		r->said_done = true;
		return STREAM_DONE;
	}
	return STREAM_CONTINUE;
}

enum stream_verdict rec_gap(void *ctx, uint64_t n)
{
	struct recorder *r = ctx;
	cr_assert(!r->said_done, "gap event after the sink answered STREAM_DONE");
	cr_assert(n > 0, "a gap event covers bytes");
	r->pos += n;
	r->gap_events++;
	if (r->log_len < LOG_CAP - 64)
		log_event(r, 'g', n);
	if (r->done_on_gap) {
		r->said_done = true;
		return STREAM_DONE;
	}
	return STREAM_CONTINUE;
}

/*
 * One recorder per test process (Criterion runs each test in its own), static so
 * that a failed assertion, which ends the test at once, leaks nothing.
 */
static struct recorder the_recorder;
static bool recorder_in_use;

void harness_init(struct harness *h, uint64_t depth, uint32_t max_ooo, uint64_t memcap)
{
	cr_assert(!recorder_in_use, "one harness at a time");
	recorder_in_use = true;
	memset(h, 0, sizeof *h);
	h->memcap.cap = memcap;
	h->rec = &the_recorder;
	memset(h->rec, 0, sizeof *h->rec);
	h->sink = (struct stream_sink){.data = rec_data, .gap = rec_gap, .ctx = h->rec};
	h->limits = (struct tcp_stream_limits){.depth = depth, .max_ooo_bytes = max_ooo};
	tcp_stream_init(&h->s, &h->limits, &h->memcap);
}

void harness_default(struct harness *h)
{
	harness_init(h, 0, 1 << 20, 1 << 26);
}

/* Releases the stream; whatever it buffered must be given back. */
void harness_fini(struct harness *h)
{
	tcp_stream_release(&h->s);
	cr_assert_eq(h->memcap.used, 0, "memcap.used is %llu after release",
	             (unsigned long long)h->memcap.used);
	cr_assert_eq(h->s.ooo_bytes, 0);
	cr_assert_eq(h->s.ooo_segments, 0);
	cr_assert_null(h->s.ooo.root);
	recorder_in_use = false;
}

void seg_flags(struct harness *h, uint32_t seq, bool syn, bool fin, const void *p, uint32_t len,
               uint32_t wire_len)
{
	tcp_stream_segment(&h->s, seq, syn, fin, p, len, wire_len, &h->sink);
	cr_assert_leq(h->memcap.used, h->memcap.cap, "memcap exceeded");
	cr_assert_leq(h->s.ooo_bytes, h->s.limits->max_ooo_bytes, "out-of-order buffer over its cap");
}

void seg(struct harness *h, uint32_t seq, const void *p, uint32_t len)
{
	seg_flags(h, seq, false, false, p, len, len);
}

void seg_str(struct harness *h, uint32_t seq, const char *text)
{
	seg(h, seq, text, (uint32_t)strlen(text));
}

void seg_fin_str(struct harness *h, uint32_t seq, const char *text)
{
	seg_flags(h, seq, false, true, text, (uint32_t)strlen(text), (uint32_t)strlen(text));
}

void syn(struct harness *h, uint32_t isn)
{
	seg_flags(h, isn, true, false, NULL, 0, 0);
}

void fin_only(struct harness *h, uint32_t seq)
{
	seg_flags(h, seq, false, true, NULL, 0, 0);
}

void ack(struct harness *h, uint32_t a)
{
	tcp_stream_ack(&h->s, a, &h->sink);
}

void flush(struct harness *h)
{
	tcp_stream_flush(&h->s, &h->sink);
}

void expect_log(const struct harness *h, const char *expected)
{
	cr_assert_str_eq(h->rec->log, expected, "events were \"%s\", expected \"%s\"", h->rec->log, expected);
}

void expect_bytes(const struct harness *h, const void *expected, size_t n)
{
	cr_assert_eq(h->rec->len, n, "delivered %zu bytes, expected %zu", h->rec->len, n);
	cr_assert(memcmp(h->rec->bytes, expected, n) == 0, "delivered bytes differ from the expected ones");
	cr_assert_eq(h->s.delivered, n);
}

void expect_str(const struct harness *h, const char *expected)
{
	expect_bytes(h, expected, strlen(expected));
}

/* The stream image: `msg` wherever anything was delivered, delivered exactly where `want` marks. */
void expect_image(const struct harness *h, const uint8_t *msg, const uint8_t *want, uint32_t total)
{
	for (uint32_t i = 0; i < total; i++) {
		cr_assert_eq(h->rec->present[i], want[i], "offset %u: delivered %d, expected %d", i,
		             h->rec->present[i], want[i]);
		if (want[i])
			cr_assert_eq(h->rec->image[i], msg[i], "offset %u holds the wrong byte", i);
	}
}

void fill_random(uint8_t *p, size_t n, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)test_rand(rng);
}

/* An initial sequence number; a third of them so close to 2^32 that the stream wraps. */
uint32_t pick_isn(uint64_t *rng)
{
	uint64_t r = test_rand(rng);
	return r % 3 == 0 ? 0xFFFFFFFFu - (uint32_t)(test_rand(rng) % 4096) : (uint32_t)(r >> 32);
}

/* A number from 1 to n. */
uint32_t rand_upto(uint64_t *rng, uint32_t n)
{
	return 1 + (uint32_t)(test_rand(rng) % n);
}

/* Cuts [0, total) into consecutive pieces of 1..max_len bytes; returns how many. */
size_t cut_at_random(struct piece *out, size_t cap, uint32_t total, uint32_t max_len, uint64_t *rng)
{
	size_t n = 0;
	for (uint32_t off = 0; off < total;) {
		uint32_t len = 1 + (uint32_t)(test_rand(rng) % max_len);
		if (len > total - off)
			len = total - off;
		cr_assert_lt(n, cap);
		out[n++] = (struct piece){off, len};
		off += len;
	}
	return n;
}

void shuffle(struct piece *p, size_t n, uint64_t *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(test_rand(rng) % i);
		struct piece t = p[i - 1];
		p[i - 1] = p[j];
		p[j] = t;
	}
}

/* Feeds msg[piece] after a SYN at isn, with the FIN on the piece that ends the message when `fin`. */
void feed_piece(struct harness *h, uint32_t isn, const uint8_t *msg, uint32_t total, struct piece pc,
                bool fin)
{
	seg_flags(h, isn + 1 + pc.off, false, fin && pc.off + pc.len == total, msg + pc.off, pc.len, pc.len);
}
