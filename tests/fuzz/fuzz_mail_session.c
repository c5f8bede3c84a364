/*
 * fuzz_mail_session.c: libFuzzer harness for a mail flow's application layer:
 * the protocol decided by the first bytes (parsers/protocol_sniff.c), the
 * SMTP parser, the STARTTLS hand-off and the TLS parser behind it.
 *
 * Input: one options byte (bit 0: the port is an implicit-TLS port; bits 1-2:
 * how the flow ends: 0 FIN, 1 RST, 2 end of capture, 3 cut), then chunks as in
 * fuzz_smtp.c: a header byte whose high bit is the direction (0 client, 1
 * server) and whose low 7 bits are the length that follows (cut short at the
 * end of the input); length 0 is a reassembly gap in that direction. Each chunk
 * is fed from a heap copy of exactly its length, so ASan flags a read past it.
 * At the end the session record must be consistent: one protocol decided, the
 * evidence within its array, the observations' strings terminated. Bit 3: the
 * session is then released (mail_session_release, as at a close) and the
 * chunks fed again as late bytes: its observations must not change.
 *
 * Seeds: tests/fuzz/corpus/mail_session/ (openings of each kind, written by
 * tests/fuzz/seed_mail_session.py).
 */
#include "sensor/app/mail_session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_terminated(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static void check_session(const struct session *s, bool tls_port)
{
	if (!s->smtp && !s->tls)
		abort(); /* the end settles on a protocol */
	if (s->cleartext_on_tls_port && (!tls_port || !s->smtp || s->implicit_tls))
		abort();
	if (s->implicit_tls && !s->tls)
		abort();
	if (s->client_first_len > sizeof s->client_first_bytes)
		abort();
	check_terminated(s->injected_response, sizeof s->injected_response);
	if (s->smtp) {
		check_terminated(s->smtp->banner, sizeof s->smtp->banner);
		check_terminated(s->smtp->caps.raw, sizeof s->smtp->caps.raw);
	}
	if (s->tls && s->tls->client_hello_seen)
		check_terminated(s->tls->ch.sni, sizeof s->tls->ch.sni);
}

/* Feeds the chunks after the options byte. */
static void feed(struct mail_session *m, const uint8_t *data, size_t size)
{
	size_t off = 1;
	while (off < size) {
		uint8_t h = data[off++];
		enum flow_dir dir = h & 0x80 ? FLOW_TO_CLIENT : FLOW_TO_SERVER;
		size_t n = h & 0x7f;
		if (n == 0) {
			mail_session_gap(m, dir, 1);
			continue;
		}
		if (n > size - off)
			n = size - off;
		uint8_t *chunk = malloc(n);
		if (!chunk)
			break;
		memcpy(chunk, data + off, n);
		mail_session_data(m, dir, chunk, n);
		free(chunk);
		off += n;
	}
}

/* Released, then fed again: what the session lends must not move (compared byte for byte). */
static void check_release(struct mail_session *m, const struct session *before, const uint8_t *data,
                          size_t size)
{
	struct smtp_observation *smtp = before->smtp ? malloc(sizeof *smtp) : NULL;
	struct tls_observation *tls = before->tls ? malloc(sizeof *tls) : NULL;
	struct session *after = calloc(1, sizeof *after);
	if ((before->smtp && !smtp) || (before->tls && !tls) || !after)
		goto out;
	if (smtp)
		*smtp = *before->smtp;
	if (tls)
		*tls = *before->tls;
	if (!mail_session_release(m, false))
		goto out;
	feed(m, data, size);
	mail_session_cut(m);
	mail_session_end(m, true);
	mail_session_fill(m, after);
	if (!after->smtp != !smtp || !after->tls != !tls)
		abort();
	if (smtp && memcmp(smtp, after->smtp, sizeof *smtp) != 0)
		abort();
	if (tls && memcmp(tls, after->tls, sizeof *tls) != 0)
		abort();
out:
	free(smtp);
	free(tls);
	free(after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	bool tls_port = data[0] & 1;
	unsigned end = (data[0] >> 1) & 3;
	static const struct smtp_options options = {0};
	struct mail_session *m = mail_session_new(tls_port, &options);
	if (!m)
		return 0;
	feed(m, data, size);
	if (end == 3)
		mail_session_cut(m);
	if (end == 2)
		mail_session_stop(m);
	else
		mail_session_end(m, end == 1);
	struct session *s = calloc(1, sizeof *s);
	if (s) {
		mail_session_fill(m, s);
		check_session(s, tls_port);
		/* A release ends the session as a FIN would: after a stop only a settled session is released.
		 */
		if ((data[0] & 8) && (end != 2 || mail_session_settled(m)))
			check_release(m, s, data, size);
		free(s);
	}
	mail_session_free(m);
	return 0;
}
