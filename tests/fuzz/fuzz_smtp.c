/*
 * fuzz_smtp.c: libFuzzer harness for the SMTP conversation parser.
 *
 * Input: one options byte (bit 0: keep_local_parts; bits 1-2: max_line from
 * fuzz_max_lines), then chunks. Each chunk starts with a header byte: the high
 * bit is the direction (0 client, 1 server), the low 7 bits the length that
 * follows (cut short at the end of the input); length 0 is a reassembly gap in
 * that direction. Each chunk is fed from a heap copy of exactly its length, so
 * ASan flags a read past it. After SMTP_TLS_STARTS the direction is fed no
 * more (and on the server side the held client bytes are taken and read),
 * until both directions are TLS: then a feed is a no-op that must take nothing.
 * At the end every text field of the observation must be NUL-terminated
 * within its array and every count within its cap. After every chunk the
 * parser's memory stays within what its caps allow (issue 16: buffers grow on
 * demand, never past them), and once both directions went over to TLS and the
 * held bytes were handed over, nothing but the recorded facts is left.
 *
 * tests/fuzz/seed_smtp.py writes seeds in this format: keep the two in step.
 */
#include "parsers/smtp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const size_t fuzz_max_lines[] = {0, 16, 64, 512};

/* Keeps the held bytes' sum alive so the compiler cannot drop the reads. */
static volatile uint32_t fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_terminated(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static void check_observation(const struct smtp_observation *o)
{
#define TERMINATED(f) check_terminated((f), sizeof(f))
	TERMINATED(o->banner);
	TERMINATED(o->helo_verb);
	TERMINATED(o->helo);
	TERMINATED(o->caps.auth_mechanisms);
	for (int i = 0; i < SMTP_MAX_CAPABILITIES; i++)
		TERMINATED(o->caps.lines[i]);
	TERMINATED(o->caps.masked_keyword);
	TERMINATED(o->caps.raw);
	TERMINATED(o->mail_from_domain);
	for (int i = 0; i < SMTP_MAX_RCPT_DOMAINS; i++)
		TERMINATED(o->rcpt_domains[i]);
	TERMINATED(o->auth_mechanism);
	TERMINATED(o->mail_from_line);
	TERMINATED(o->starttls_command);
	TERMINATED(o->masked_command);
	TERMINATED(o->starttls_reply);
	TERMINATED(o->injected_command);
#undef TERMINATED
	if (o->caps.count > SMTP_MAX_CAPABILITIES || o->rcpt_domain_count > SMTP_MAX_RCPT_DOMAINS)
		abort();
	if (o->command_injection && !o->tls_started)
		abort();
	for (int a = 0; a < SMTP_ANOMALY_COUNT; a++)
		if (smtp_anomaly_str(a) == NULL)
			abort();
}

static void take_held(struct smtp_parser *p)
{
	const uint8_t *held;
	size_t len;
	smtp_parser_take_held(p, &held, &len);
	if (len > SMTP_HELD_MAX || (len && held == NULL))
		abort();
	uint32_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += held[i];
	fuzz_sink = sum;
	smtp_parser_take_held(p, &held, &len);
	if (len != 0)
		abort();
}

/*
 * The most a parser may hold: itself, the observation once built, its texts (each no longer than its
 * array, the store grown by half again), a line per direction, the STARTTLS hold, the pipelined queue, and
 * the message and counter blocks.
 */
static size_t memory_cap(size_t max_line)
{
	size_t obs = sizeof(struct smtp_observation);
	return 1024 + obs + 2 * obs + 2 * (max_line + 2) + SMTP_HELD_MAX + 64 + SMTP_PIPELINE_MAX + 4096;
}

/* Both directions are TLS and the held bytes were taken: only the parser, its texts, counters and the
 * observation are left (no line, queue, message or hold). */
static size_t memory_in_tls(void)
{
	size_t obs = sizeof(struct smtp_observation);
	return 1024 + obs + 2 * obs;
}

static void feed_chunk(struct smtp_parser *p, enum smtp_dir dir, const uint8_t *data, size_t len, bool *tls)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		return;
	memcpy(copy, data, len);
	size_t consumed = SIZE_MAX;
	enum smtp_status st = smtp_parser_feed(p, dir, copy, len, &consumed);
	free(copy);
	if (consumed > len || (st == SMTP_CONTINUE && consumed != len))
		abort();
	if (st == SMTP_TLS_STARTS) {
		tls[dir] = true;
		if (!smtp_parser_observation(p)->tls_started)
			abort();
		if (dir == SMTP_FROM_SERVER)
			take_held(p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct smtp_options opt = {.keep_local_parts = data[0] & 1,
	                           .max_line = fuzz_max_lines[(data[0] >> 1) & 3]};
	struct smtp_parser *p = smtp_parser_new(&opt);
	if (p == NULL)
		return 0;
	size_t cap = memory_cap(opt.max_line ? opt.max_line : SMTP_DEFAULT_MAX_LINE);
	bool tls[2] = {false, false};
	size_t off = 1;
	while (off < size) {
		enum smtp_dir dir = data[off] & 0x80 ? SMTP_FROM_SERVER : SMTP_FROM_CLIENT;
		size_t len = data[off] & 0x7f;
		off++;
		if (len == 0) {
			smtp_parser_gap(p, dir, 1);
			continue;
		}
		if (len > size - off)
			len = size - off;
		if (!tls[dir])
			feed_chunk(p, dir, data + off, len, tls);
		else if (tls[!dir]) /* a feed after the hand-off: the held bytes, taken, are given back */
			feed_chunk(p, dir, data + off, len, tls);
		if (smtp_parser_memory(p) > cap)
			abort();
		if (tls[0] && tls[1] && smtp_parser_memory(p) > memory_in_tls())
			abort();
		off += len;
	}
	check_observation(smtp_parser_observation(p));
	(void)smtp_parser_lost_sync(p);
	smtp_parser_free(p);
	return 0;
}
