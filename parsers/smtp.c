/*
 * smtp.c: one SMTP conversation from both directions, fed as reassembled
 * bytes; this file owns the feeding, the per-direction states, the queue of
 * commands awaiting replies and the STARTTLS hand-off. Client lines are
 * decoded in smtp_command.c, server lines in smtp_reply.c.
 *
 * References:
 *   SMTP                       RFC 5321 (2.3.8 lines, 4.1.1.4 DATA and the "." line,
 *                              4.2 replies, 4.5.2 dot-stuffing, 4.5.3.1 line lengths)
 *   Pipelining                 RFC 2920 (3: replies come in command order; DATA,
 *                              STARTTLS and AUTH end a group)
 *   CHUNKING / BDAT            RFC 3030 2 (exactly n octets follow "BDAT n", no dot rule)
 *   AUTH                       RFC 4954 4 (334 asks for one more SASL response line)
 *   STARTTLS                   RFC 3207 4, 4.2 (TLS starts after the 220; the client
 *                              must not send anything else before it)
 *   Command injection          CVE-2011-0411 (clear text pipelined after STARTTLS)
 *
 * A conversation, and the states this parser goes through:
 *
 *   server                          client             client state
 *   220 mx ESMTP             ---->                     COMMAND (the greeting answers
 *                            <----  EHLO c.example              the first queue entry)
 *   250-mx / 250-STARTTLS    ---->
 *   250 CHUNKING             ---->
 *                            <----  MAIL / RCPT / DATA (pipelined: queued in order)
 *   250 / 250 / 354          ---->                     CONTENT from the DATA line on;
 *                            <----  content, "."        counted as data once 354 came
 *                            <----  BDAT 158 LAST       BDAT: 158 bytes, not lines
 *                            <----  STARTTLS            HELD: bytes kept until the reply
 *   220 Ready to start TLS   ---->                     TLS (both directions)
 *
 * Design: client bytes after DATA are treated as content at once, and only
 * counted as data in clear when the 354 arrives (a client waits for it, RFC 2920
 * 3.1). If the reply is not 354 the client goes back to commands; any bytes it
 * had sent meanwhile were skipped, not parsed (CONTENT_BEFORE_354): they cannot
 * be replayed without holding unbounded content, and a client doing that broke
 * the RFC already. Held STARTTLS bytes are bounded by SMTP_HELD_MAX, so those
 * are replayed as commands when STARTTLS is refused.
 */
#include "parsers/smtp.h"
#include "parsers/smtp_internal.h"
#include "parsers/utf8.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static const char *const smtp_anomaly_names[SMTP_ANOMALY_COUNT] = {
    [SMTP_ANOMALY_LINE_TOO_LONG] = "line_too_long",
    [SMTP_ANOMALY_BAD_REPLY] = "bad_reply",
    [SMTP_ANOMALY_MULTILINE_MISMATCH] = "multiline_mismatch",
    [SMTP_ANOMALY_REPLY_WITHOUT_COMMAND] = "reply_without_command",
    [SMTP_ANOMALY_PIPELINE_OVERFLOW] = "pipeline_overflow",
    [SMTP_ANOMALY_BAD_BDAT] = "bad_bdat",
    [SMTP_ANOMALY_HELD_OVERFLOW] = "held_overflow",
    [SMTP_ANOMALY_BARE_LF] = "bare_lf",
    [SMTP_ANOMALY_NUL_BYTE] = "nul_byte",
    [SMTP_ANOMALY_TOO_MANY_CAPABILITIES] = "too_many_capabilities",
    [SMTP_ANOMALY_TOO_MANY_DOMAINS] = "too_many_domains",
    [SMTP_ANOMALY_CONTENT_BEFORE_354] = "content_before_354",
    [SMTP_ANOMALY_TEXT_TRUNCATED] = "text_truncated",
};

const char *smtp_anomaly_str(enum smtp_anomaly a)
{
	if ((unsigned)a >= SMTP_ANOMALY_COUNT || smtp_anomaly_names[a] == NULL)
		return "unknown";
	return smtp_anomaly_names[a];
}

/* The counters, made at the first one counted; NULL when out of memory (the count is lost). */
static struct smtp_tally *smtp_tally(struct smtp_parser *p)
{
	if (p->tally == NULL)
		p->tally = calloc(1, sizeof *p->tally);
	return p->tally;
}

void smtp_anomaly(struct smtp_parser *p, enum smtp_anomaly a)
{
	struct smtp_tally *t = smtp_tally(p);
	if (t != NULL)
		t->anomalies[a]++;
}

void smtp_line_anomalies(struct smtp_parser *p, const struct line *l)
{
	if (l->too_long)
		smtp_anomaly(p, SMTP_ANOMALY_LINE_TOO_LONG);
	if (l->bare_lf)
		smtp_anomaly(p, SMTP_ANOMALY_BARE_LF);
	if (l->nul)
		smtp_anomaly(p, SMTP_ANOMALY_NUL_BYTE);
}

/* ---- bounded text ---- */

static void text_append(struct smtp_text t, const char *src, size_t n, bool lower)
{
	size_t len = strnlen(t.s, t.cap - 1);
	size_t room = t.cap - 1 - len;
	size_t take = n < room ? n : room;
	for (size_t i = 0; i < take; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c < 0x20 || c == 0x7f)
			c = '?';
		else if (lower && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		t.s[len + i] = (char)c;
	}
	len += take;
	if (take < n) {
		len = utf8_trim_partial(t.s, len);
		smtp_anomaly(t.p, SMTP_ANOMALY_TEXT_TRUNCATED);
	}
	t.s[len] = '\0';
}

void smtp_text_set(struct smtp_text t, const char *src, size_t n)
{
	memset(t.s, 0, t.cap); /* no leftovers of a longer earlier value behind the NUL */
	text_append(t, src, n, false);
}

void smtp_text_add(struct smtp_text t, const char *src, size_t n)
{
	text_append(t, src, n, false);
}

void smtp_text_add_lower(struct smtp_text t, const char *src, size_t n)
{
	text_append(t, src, n, true);
}

void smtp_text_add_line(struct smtp_text t, const char *src, size_t n)
{
	size_t len = strnlen(t.s, t.cap - 1);
	if (len > 0 && len < t.cap - 1) {
		t.s[len] = '\n';
		t.s[len + 1] = '\0';
	}
	text_append(t, src, n, false);
}

void smtp_text_add_escaped(struct smtp_text t, const uint8_t *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strnlen(t.s, t.cap - 1);
	for (size_t i = 0; i < n; i++) {
		char e[4] = {(char)src[i]};
		size_t el = 1;
		if (src[i] == '\r' || src[i] == '\n' || src[i] == '\\') {
			e[0] = '\\';
			e[1] = src[i] == '\r' ? 'r' : src[i] == '\n' ? 'n' : '\\';
			el = 2;
		} else if (src[i] < 0x20 || src[i] >= 0x7f) {
			e[0] = '\\', e[1] = 'x', e[2] = hex[src[i] >> 4], e[3] = hex[src[i] & 15];
			el = 4;
		}
		if (el > t.cap - 1 - len) {
			smtp_anomaly(t.p, SMTP_ANOMALY_TEXT_TRUNCATED);
			break;
		}
		memcpy(t.s + len, e, el);
		len += el;
	}
	t.s[len] = '\0';
}

bool smtp_word_is(const char *s, size_t n, const char *word)
{
	/* Callers walk tables of words: the first letter, case folded, rules most out before strncasecmp. */
	if (n > 0 && ((unsigned char)s[0] | 0x20) != ((unsigned char)word[0] | 0x20))
		return false;
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* ---- commands awaiting replies (RFC 2920 3) ---- */

static uint8_t *pending_ring(struct smtp_parser *p)
{
	return p->pending ? p->pending : p->pending_inline;
}

/* Pipelined past the inline ring: a heap ring twice the size, up to SMTP_PIPELINE_MAX. */
static bool pending_grow(struct smtp_parser *p)
{
	if (p->pending_cap >= SMTP_PIPELINE_MAX)
		return false;
	unsigned cap = p->pending_cap * 2u > SMTP_PIPELINE_MAX ? SMTP_PIPELINE_MAX : p->pending_cap * 2u;
	uint8_t *ring = malloc(cap);
	if (ring == NULL)
		return false;
	const uint8_t *old = pending_ring(p);
	for (unsigned i = 0; i < p->pending_count; i++)
		ring[i] = old[(p->pending_head + i) % p->pending_cap];
	free(p->pending);
	p->pending = ring;
	p->pending_cap = (uint8_t)cap;
	p->pending_head = 0;
	return true;
}

/* Nothing awaits a reply: the heap ring, if any, is given back. */
static void pending_shrink(struct smtp_parser *p)
{
	free(p->pending);
	p->pending = NULL;
	p->pending_cap = SMTP_PENDING_INLINE;
	p->pending_head = 0;
}

void smtp_pending_push(struct smtp_parser *p, enum smtp_cmd cmd)
{
	if (p->pending_count == p->pending_cap && !pending_grow(p)) {
		smtp_anomaly(p, SMTP_ANOMALY_PIPELINE_OVERFLOW);
		return;
	}
	pending_ring(p)[(p->pending_head + p->pending_count) % p->pending_cap] = (uint8_t)cmd;
	p->pending_count++;
}

enum smtp_cmd smtp_pending_peek(const struct smtp_parser *p)
{
	const uint8_t *ring = p->pending ? p->pending : p->pending_inline;
	return p->pending_count ? (enum smtp_cmd)ring[p->pending_head] : SMTP_CMD_NONE;
}

void smtp_pending_pop(struct smtp_parser *p)
{
	if (p->pending_count == 0)
		return;
	p->pending_head = (uint8_t)((p->pending_head + 1) % p->pending_cap);
	if (--p->pending_count == 0 && p->pending)
		pending_shrink(p);
}

/* ---- client states ---- */

struct smtp_message *smtp_message(struct smtp_parser *p)
{
	if (p->msg == NULL && (p->msg = calloc(1, sizeof *p->msg)) == NULL)
		smtp_parser_gap(p, SMTP_FROM_CLIENT,
		                0); /* out of memory: content can no longer be followed */
	return p->msg;
}

void smtp_message_idle(struct smtp_parser *p)
{
	struct smtp_message *m = p->msg;
	if (m == NULL || p->client == SMTP_CLIENT_CONTENT || p->client == SMTP_CLIENT_BDAT ||
	    m->content_unsure > 0 || m->message_pending || m->bdat_in_message)
		return;
	free(m); /* all it held is what the next DATA or BDAT sets afresh */
	p->msg = NULL;
}

static void held_free(struct smtp_parser *p)
{
	free(p->held);
	p->held = NULL;
}

void smtp_client_enter(struct smtp_parser *p, enum smtp_client_state s)
{
	p->client = (uint8_t)s;
	switch (s) {
	case SMTP_CLIENT_COMMAND:
	case SMTP_CLIENT_LOST:
		line_buffer_release(&p->line[SMTP_FROM_CLIENT], p->max_line);
		break;
	case SMTP_CLIENT_CONTENT:
		p->msg->content = SMTP_CONTENT_BOL;
		p->msg->content_cr = false;
		p->msg->content_bare_lf = false;
		break;
	case SMTP_CLIENT_HELD:
		held_free(p); /* grown as the client sends (client_hold) */
		p->held_overflow = false;
		p->held_taken = false;
		break;
	case SMTP_CLIENT_BDAT:
	case SMTP_CLIENT_TLS:
		break;
	}
}

/* One command line; a line that had to be buffered gives its buffer back (wiped) once decoded. */
static size_t client_command(struct smtp_parser *p, const uint8_t *d, size_t len)
{
	size_t used;
	struct line l;
	if (line_buffer_push(&p->line[SMTP_FROM_CLIENT], p->max_line, d, len, &used, &l)) {
		smtp_line_anomalies(p, &l);
		smtp_command_line(p, &l);
		line_buffer_release(&p->line[SMTP_FROM_CLIENT], p->max_line);
	}
	return used;
}

/* Content is data in clear once the DATA got its 354; until then it is only probably so. */
static void content_count(struct smtp_parser *p, uint64_t n)
{
	if (p->msg->data_confirmed)
		p->obs.data_bytes_in_clear += n;
	else
		p->msg->content_unsure += n;
}

void smtp_message_done(struct smtp_parser *p)
{
	struct smtp_tally *t = smtp_tally(p);
	struct smtp_content_protection none = {0},
	                               *c = t ? &t->content_protection : &none; /* none: out of memory */
	c->messages++;
	switch (mime_header_scan_result(&p->msg->mime)) {
	case MIME_SMIME_ENCRYPTED:
		c->smime_encrypted++;
		break;
	case MIME_SMIME_SIGNED:
		c->smime_signed++;
		break;
	case MIME_PGP_ENCRYPTED:
		c->pgp_encrypted++;
		break;
	case MIME_PGP_SIGNED:
		c->pgp_signed++;
		break;
	case MIME_UNPROTECTED:
		c->unprotected++;
		break;
	}
	mime_header_scan_reset(&p->msg->mime); /* the Content-Type is not kept past its message */
}

/* The "." line: the end of the message, answered like a command (RFC 5321 4.1.1.4). */
static void content_end(struct smtp_parser *p, bool bare_lf)
{
	/* "\n.\r\n" or ".\n" is not CRLF.CRLF: what SMTP smuggling relies on. */
	if (bare_lf || p->msg->content_bare_lf)
		smtp_anomaly(p, SMTP_ANOMALY_BARE_LF);
	if (p->msg->data_confirmed)
		smtp_message_done(p);
	else
		p->msg->message_pending = true; /* content before its 354 (RFC 2920 3.1 says to wait) */
	smtp_pending_push(p, SMTP_CMD_DATA_END);
	smtp_client_enter(p, SMTP_CLIENT_COMMAND);
	smtp_message_idle(p);
}

/*
 * Inside a content line: skip to its LF, noting whether a CR came before it.
 * The lines after it that do not start with a dot need nothing else, so they
 * are taken in the same call, up to the last LF before a dot or the end of d
 * (one call per line was 4.7% of a bench run).
 */
static size_t content_mid(struct smtp_parser *p, const uint8_t *d, size_t len)
{
	size_t n = 0; /* through the last LF taken */
	const uint8_t *lf;
	while ((lf = memchr(d + n, '\n', len - n)) != NULL) {
		size_t end = (size_t)(lf - d) + 1;
		p->msg->content_bare_lf = end - n > 1 ? d[end - 2] != '\r' : !p->msg->content_cr;
		p->msg->content_cr = false;
		n = end;
		if (n == len || d[n] == '.')
			break;
	}
	if (n == 0) {
		p->msg->content_cr = d[len - 1] == '\r';
		content_count(p, len);
		mime_header_scan_feed(&p->msg->mime, d, len);
		return len;
	}
	p->msg->content = SMTP_CONTENT_BOL;
	content_count(p, n);
	mime_header_scan_feed(&p->msg->mime, d, n);
	return n;
}

/*
 * Message content up to the "." line; a line starting with a dot is stuffed
 * (RFC 5321 4.5.2), so "..x" is content. A leading "." or ".\r" is counted
 * only once the next byte shows it is not the end.
 */
static size_t client_content(struct smtp_parser *p, const uint8_t *d, size_t len)
{
	uint8_t c = d[0];
	switch (p->msg->content) {
	case SMTP_CONTENT_MID:
		return content_mid(p, d, len);
	case SMTP_CONTENT_BOL:
		if (c == '.') {
			p->msg->content = SMTP_CONTENT_DOT;
			return 1;
		}
		p->msg->content = SMTP_CONTENT_MID;
		return content_mid(p, d, len);
	case SMTP_CONTENT_DOT:
		if (c == '\r') {
			p->msg->content = SMTP_CONTENT_DOT_CR;
			return 1;
		}
		if (c == '\n') {
			content_end(p, true);
			return 1;
		}
		content_count(p, 1);
		p->msg->content = SMTP_CONTENT_MID;
		return content_mid(p, d, len);
	case SMTP_CONTENT_DOT_CR:
		if (c == '\n') {
			content_end(p, false);
			return 1;
		}
		content_count(p, 2);
		p->msg->content_cr = true;
		p->msg->content = SMTP_CONTENT_MID;
		return content_mid(p, d, len);
	}
	return len;
}

void smtp_data_reply(struct smtp_parser *p, uint16_t code)
{
	if (p->msg == NULL) /* its DATA found no memory: the client was lost there */
		return;
	if (code == 354) {
		p->obs.data_in_clear = true;
		p->msg->data_confirmed = true;
		p->obs.data_bytes_in_clear += p->msg->content_unsure;
		p->msg->content_unsure = 0;
		if (p->msg->message_pending)
			smtp_message_done(p);
		p->msg->message_pending = false;
		smtp_message_idle(p);
		return;
	}
	p->msg->message_pending = false;
	if (p->msg->content_unsure > 0)
		smtp_anomaly(p, SMTP_ANOMALY_CONTENT_BEFORE_354);
	if (p->client == SMTP_CLIENT_CONTENT)
		smtp_client_enter(p, SMTP_CLIENT_COMMAND);
	p->msg->content_unsure = 0;
	smtp_message_idle(p);
}

/* BDAT chunk data: exactly the announced octets, binary (RFC 3030 2). */
static size_t client_bdat(struct smtp_parser *p, const uint8_t *d, size_t len)
{
	size_t n = p->msg->bdat_left < len ? (size_t)p->msg->bdat_left : len;
	p->msg->bdat_left -= n;
	p->obs.data_bytes_in_clear += n;
	mime_header_scan_feed(&p->msg->mime, d, n);
	if (p->msg->bdat_left == 0) {
		if (p->msg->bdat_last) {
			smtp_message_done(p);
			p->msg->bdat_in_message = false;
		}
		smtp_client_enter(p, SMTP_CLIENT_COMMAND);
		smtp_message_idle(p);
	}
	return n;
}

/* Room for want more held bytes, the hold grown towards SMTP_HELD_MAX as needed (0 when full or out of
 * memory). */
static size_t hold_room(struct smtp_parser *p, size_t want)
{
	struct smtp_hold *h = p->held;
	size_t len = h ? h->len : 0;
	size_t need = want < SMTP_HELD_MAX - len ? len + want : SMTP_HELD_MAX;
	if (h == NULL || need > h->cap) {
		size_t cap = h ? h->cap : 0;
		cap = cap ? cap * 2 : 256;
		while (cap < need)
			cap *= 2;
		cap = cap < SMTP_HELD_MAX ? cap : SMTP_HELD_MAX;
		struct smtp_hold *n = realloc(h, sizeof *n + cap);
		if (n != NULL) {
			if (h == NULL)
				n->len = n->tls_at = 0;
			n->cap = (uint32_t)cap;
			p->held = h = n;
		}
	}
	return h ? h->cap - h->len : 0;
}

/* After STARTTLS: keep what fits until the reply tells whether it is TLS or SMTP. */
static size_t client_hold(struct smtp_parser *p, const uint8_t *d, size_t len)
{
	size_t room = hold_room(p, len);
	size_t keep = len < room ? len : room;
	if (keep) {
		memcpy(p->held->bytes + p->held->len, d, keep);
		p->held->len += (uint32_t)keep;
	}
	if (keep < len && !p->held_overflow) {
		p->held_overflow = true;
		smtp_anomaly(p, SMTP_ANOMALY_HELD_OVERFLOW);
	}
	return len;
}

static size_t client_step(struct smtp_parser *p, const uint8_t *d, size_t len)
{
	switch ((enum smtp_client_state)p->client) {
	case SMTP_CLIENT_COMMAND:
		return client_command(p, d, len);
	case SMTP_CLIENT_CONTENT:
		return client_content(p, d, len);
	case SMTP_CLIENT_BDAT:
		return client_bdat(p, d, len);
	case SMTP_CLIENT_HELD:
		return client_hold(p, d, len);
	case SMTP_CLIENT_TLS:
	case SMTP_CLIENT_LOST:
		break;
	}
	return len;
}

static void client_consume(struct smtp_parser *p, const uint8_t *d, size_t len)
{
	size_t off = 0;
	while (off < len) {
		size_t n = client_step(p, d + off, len - off);
		assert(n >= 1 && n <= len - off);
		off += n;
	}
}

/* ---- STARTTLS hand-off (RFC 3207 4.2) ---- */

/* A TLS record header (0x16 0x03), or an SSLv2-style one (high bit set). */
static bool starts_like_tls(const uint8_t *d, size_t n)
{
	return (d[0] == 0x16 && (n == 1 || d[1] == 0x03)) || (d[0] & 0x80);
}

/* Clear text before the first TLS record header was injected (CVE-2011-0411). */
static void held_split(struct smtp_parser *p)
{
	struct smtp_hold *h = p->held;
	if (h == NULL || h->len == 0 || starts_like_tls(h->bytes, h->len))
		return;
	const uint8_t *rec = memmem(h->bytes, h->len, "\x16\x03", 2);
	size_t clear = rec ? (size_t)(rec - h->bytes) : h->len;
	p->obs.command_injection = true;
	smtp_slot_add_escaped(p, SMTP_SLOT_INJECTED_COMMAND, h->bytes, clear);
	h->tls_at = (uint32_t)clear;
}

/* Both directions are TLS from now on: what only clear-text SMTP needed is given back. */
static void starttls_accepted(struct smtp_parser *p)
{
	p->obs.tls_started = true;
	p->server = SMTP_SERVER_TLS;
	if (p->client == SMTP_CLIENT_HELD)
		held_split(p);
	if (p->client != SMTP_CLIENT_HELD || p->held == NULL || p->held->tls_at >= p->held->len)
		held_free(p); /* nothing to hand over */
	smtp_client_enter(p, SMTP_CLIENT_TLS);
	line_buffer_release(&p->line[SMTP_FROM_CLIENT], p->max_line);
	free(p->msg);
	p->msg = NULL;
	p->pending_count = 0;
	pending_shrink(p);
}

/* Refused: the client goes on in clear, so what it sent after STARTTLS was SMTP. */
static void starttls_refused(struct smtp_parser *p)
{
	p->starttls_refused = true;
	if (p->client != SMTP_CLIENT_HELD)
		return;
	struct smtp_hold *h = p->held;
	bool cut = p->held_overflow;
	p->held = NULL;
	smtp_client_enter(p, SMTP_CLIENT_COMMAND);
	if (h != NULL)
		client_consume(p, h->bytes, h->len);
	free(h);
	if (cut)
		smtp_parser_gap(p, SMTP_FROM_CLIENT, 0);
}

bool smtp_starttls_reply(struct smtp_parser *p, uint16_t code)
{
	if (code == 220) {
		starttls_accepted(p);
		return true;
	}
	starttls_refused(p);
	return false;
}

/* ---- the public interface ---- */

struct smtp_parser *smtp_parser_new(const struct smtp_options *opt)
{
	struct smtp_parser *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	size_t max_line = opt && opt->max_line ? opt->max_line : SMTP_DEFAULT_MAX_LINE;
	p->max_line = (uint32_t)(max_line < LINE_BUFFER_MAX ? max_line : LINE_BUFFER_MAX);
	p->keep_local_parts = opt && opt->keep_local_parts;
	p->pending_cap = SMTP_PENDING_INLINE;
	smtp_client_enter(p, SMTP_CLIENT_COMMAND);
	p->server = SMTP_SERVER_REPLY;
	smtp_pending_push(p, SMTP_CMD_GREETING); /* the server speaks first (RFC 5321 3.1) */
	return p;
}

size_t smtp_parser_memory(const struct smtp_parser *p)
{
	if (!p)
		return 0;
	size_t n = sizeof *p + smtp_store_memory(p);
	for (int d = 0; d < 2; d++)
		n += line_buffer_memory(&p->line[d], p->max_line);
	n += p->pending ? p->pending_cap : 0;
	n += p->tally ? sizeof *p->tally : 0;
	n += p->msg ? sizeof *p->msg : 0;
	n += p->held ? sizeof *p->held + p->held->cap : 0;
	n += p->view ? sizeof *p->view : 0;
	return n;
}

void smtp_parser_free(struct smtp_parser *p)
{
	if (p == NULL)
		return;
	line_buffer_release(&p->line[SMTP_FROM_CLIENT], p->max_line);
	line_buffer_release(&p->line[SMTP_FROM_SERVER], p->max_line);
	free(p->pending);
	free(p->tally);
	free(p->msg);
	free(p->held);
	smtp_store_free(p);
	free(p->view);
	free(p);
}

/* Reply lines; a line that had to be buffered gives its buffer back once read. */
static enum smtp_status server_feed(struct smtp_parser *p, const uint8_t *d, size_t len, size_t *consumed)
{
	size_t off = 0;
	while (off < len && p->server == SMTP_SERVER_REPLY) {
		size_t used;
		struct line l;
		bool done =
		    line_buffer_push(&p->line[SMTP_FROM_SERVER], p->max_line, d + off, len - off, &used, &l);
		off += used;
		if (!done)
			continue;
		smtp_line_anomalies(p, &l);
		bool tls = smtp_reply_line(p, &l);
		line_buffer_release(&p->line[SMTP_FROM_SERVER], p->max_line);
		if (tls) {
			*consumed = off;
			return SMTP_TLS_STARTS;
		}
	}
	*consumed = len;
	return SMTP_CONTINUE;
}

/* After a call that may have changed what the parser holds: the held bytes once handed over are given
 * back, and an observation already built is brought up to date. */
static void parser_settle(struct smtp_parser *p)
{
	if (p->held_taken)
		held_free(p);
	if (p->view != NULL)
		smtp_store_observation(p, p->view);
}

static enum smtp_status parser_feed(struct smtp_parser *p, enum smtp_dir dir, const uint8_t *data, size_t len,
                                    size_t *consumed)
{
	if (dir == SMTP_FROM_CLIENT) {
		if (p->client == SMTP_CLIENT_TLS)
			return SMTP_TLS_STARTS;
		client_consume(p, data, len);
		*consumed = len;
		return SMTP_CONTINUE;
	}
	if (p->server == SMTP_SERVER_TLS)
		return SMTP_TLS_STARTS;
	return server_feed(p, data, len, consumed);
}

enum smtp_status smtp_parser_feed(struct smtp_parser *p, enum smtp_dir dir, const uint8_t *data, size_t len,
                                  size_t *consumed)
{
	*consumed = 0;
	if (p->held_taken)
		held_free(p); /* borrowed until this call */
	enum smtp_status st = parser_feed(p, dir, data, len, consumed);
	parser_settle(p);
	return st;
}

void smtp_parser_take_held(struct smtp_parser *p, const uint8_t **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	struct smtp_hold *h = p->held;
	if (!p->obs.tls_started || p->held_taken || h == NULL || h->tls_at >= h->len)
		return;
	*data = h->bytes + h->tls_at;
	*len = h->len - h->tls_at;
	p->held_taken = true;
}

void smtp_parser_gap(struct smtp_parser *p, enum smtp_dir dir, uint64_t n)
{
	(void)n; /* how much was lost is the stream's count (tcp_stream), not the conversation's */
	if (dir == SMTP_FROM_CLIENT) {
		if (p->client == SMTP_CLIENT_TLS)
			return;
		smtp_client_enter(p, SMTP_CLIENT_LOST);
	} else {
		if (p->server == SMTP_SERVER_TLS)
			return;
		p->server = SMTP_SERVER_LOST;
		line_buffer_release(&p->line[SMTP_FROM_SERVER], p->max_line);
	}
	p->lost_sync = true;
	parser_settle(p);
}

bool smtp_parser_lost_sync(const struct smtp_parser *p)
{
	return p->lost_sync;
}

void smtp_parser_count_truncated(struct smtp_parser *p)
{
	smtp_anomaly(p, SMTP_ANOMALY_TEXT_TRUNCATED);
	parser_settle(p);
}

/* What an observation reads when there was no memory to build it: nothing observed. */
static const struct smtp_observation smtp_no_observation;

const struct smtp_observation *smtp_parser_observation(const struct smtp_parser *p)
{
	/* The built observation is a cache of what p holds, not part of its state: made here on first use. */
	struct smtp_parser *cache = (struct smtp_parser *)p;
	if (cache->view == NULL && (cache->view = malloc(sizeof *cache->view)) == NULL)
		return &smtp_no_observation;
	smtp_store_observation(p, cache->view);
	return cache->view;
}
