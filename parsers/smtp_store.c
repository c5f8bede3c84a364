/*
 * smtp_store.c: the texts of one conversation's observation, kept in the
 * bytes they use, and the public struct smtp_observation built from the parser.
 *
 * struct smtp_observation is a plain struct of fixed arrays (some 12 KiB) that
 * the rules and the events read; most of it is empty in most sessions, and all
 * of it in a connection that only got a banner. The parser keeps each text as
 * a record in one growing byte store:
 *
 *   +------+--------+-----------------+-----+
 *   | slot | length | text (length B) | NUL |   ... next record
 *   +------+--------+-----------------+-----+
 *     1 B    2 B LE
 *
 * A text is edited in a scratch copy with the same bounded functions as before
 * (smtp.c), so it is cut, and counted as text_truncated, exactly as its array
 * would cut it; then it replaces its record. The observation is built only
 * when the caller asks for it (at the event or the release of the session).
 */
#include "parsers/smtp_internal.h"

#include <stdlib.h>
#include <string.h>

enum { STORE_HEAD = 3 }; /* slot, length */

#define FIELD_SIZE(field) sizeof(((struct smtp_observation *)0)->field)

size_t smtp_slot_cap(enum smtp_slot s)
{
	switch (s) {
#define SLOT_CAP(name, field)                                                                                \
	case SMTP_SLOT_##name:                                                                               \
		return FIELD_SIZE(field);
		SMTP_SLOTS(SLOT_CAP)
#undef SLOT_CAP
	default:
		break;
	}
	if (s >= SMTP_SLOT_CAP_LINE && s < SMTP_SLOT_RCPT_DOMAIN)
		return FIELD_SIZE(caps.lines[0]);
	return FIELD_SIZE(rcpt_domains[0]);
}

#define SLOT_FITS(name, field) _Static_assert(FIELD_SIZE(field) <= SMTP_SLOT_BUF, "slot buffer");
SMTP_SLOTS(SLOT_FITS)
#undef SLOT_FITS
_Static_assert(SMTP_SLOT_BUF <= UINT16_MAX && SMTP_SLOT_COUNT <= UINT8_MAX, "record header");

/* Where the slot's array is in o. */
static char *slot_field(struct smtp_observation *o, enum smtp_slot s)
{
	switch (s) {
#define SLOT_FIELD(name, field)                                                                              \
	case SMTP_SLOT_##name:                                                                               \
		return o->field;
		SMTP_SLOTS(SLOT_FIELD)
#undef SLOT_FIELD
	default:
		break;
	}
	if (s >= SMTP_SLOT_CAP_LINE && s < SMTP_SLOT_RCPT_DOMAIN)
		return o->caps.lines[s - SMTP_SLOT_CAP_LINE];
	return o->rcpt_domains[s - SMTP_SLOT_RCPT_DOMAIN];
}

static size_t record_len(const uint8_t *r)
{
	return (size_t)r[1] | (size_t)r[2] << 8;
}

/* The record of slot s, or NULL. */
static uint8_t *store_find(const struct smtp_parser *p, enum smtp_slot s)
{
	for (size_t off = 0; off < p->texts_len; off += STORE_HEAD + record_len(p->texts + off) + 1)
		if (p->texts[off] == s)
			return p->texts + off;
	return NULL;
}

const char *smtp_slot(const struct smtp_parser *p, enum smtp_slot s)
{
	const uint8_t *r = store_find(p, s);
	return r ? (const char *)r + STORE_HEAD : "";
}

/* Room for need bytes: grown by half again, or shrunk when less than half is used. */
static bool store_fit(struct smtp_parser *p, size_t need)
{
	if (need <= p->texts_cap && need >= p->texts_cap / 2)
		return true;
	if (need == 0) {
		smtp_store_free(p);
		return true;
	}
	/* the first texts (a banner) exactly; then by half again, so a growing EHLO reply is not copied per
	 * line */
	size_t cap = need > p->texts_cap && p->texts_cap > 0 ? need + need / 2 : need;
	cap = (cap + 15) & ~(size_t)15;
	uint8_t *t = realloc(p->texts, cap);
	if (t == NULL)
		return need <= p->texts_cap; /* a shrink that failed still fits */
	p->texts = t;
	p->texts_cap = (uint32_t)cap;
	return true;
}

static void store_remove(struct smtp_parser *p, uint8_t *r)
{
	size_t n = STORE_HEAD + record_len(r) + 1;
	size_t after = p->texts_len - (size_t)(r - p->texts) - n;
	memmove(r, r + n, after);
	p->texts_len -= (uint32_t)n;
}

/* Replaces slot s's text with the n bytes at text (no NUL among them); n 0 removes it. */
static void store_put(struct smtp_parser *p, enum smtp_slot s, const char *text, size_t n)
{
	uint8_t *r = store_find(p, s);
	if (r != NULL && record_len(r) == n && memcmp(r + STORE_HEAD, text, n) == 0)
		return;
	if (r != NULL)
		store_remove(p, r);
	if (n == 0) {
		store_fit(p, p->texts_len);
		return;
	}
	if (!store_fit(p, p->texts_len + STORE_HEAD + n + 1)) {
		smtp_anomaly(p, SMTP_ANOMALY_TEXT_TRUNCATED); /* out of memory: the text is lost */
		return;
	}
	uint8_t *w = p->texts + p->texts_len;
	w[0] = (uint8_t)s;
	w[1] = (uint8_t)(n & 0xff);
	w[2] = (uint8_t)(n >> 8);
	memcpy(w + STORE_HEAD, text, n);
	w[STORE_HEAD + n] = '\0';
	p->texts_len += (uint32_t)(STORE_HEAD + n + 1);
}

struct smtp_text smtp_slot_open(struct smtp_parser *p, enum smtp_slot s, char *buf)
{
	const uint8_t *r = store_find(p, s);
	size_t n = r ? record_len(r) : 0;
	if (n)
		memcpy(buf, r + STORE_HEAD, n);
	buf[n] = '\0';
	return (struct smtp_text){buf, smtp_slot_cap(s), p};
}

void smtp_slot_close(struct smtp_parser *p, enum smtp_slot s, const char *buf)
{
	store_put(p, s, buf, strnlen(buf, smtp_slot_cap(s) - 1));
}

void smtp_slot_set(struct smtp_parser *p, enum smtp_slot s, const char *src, size_t n)
{
	char buf[SMTP_SLOT_BUF];
	smtp_text_set(smtp_slot_open(p, s, buf), src, n);
	smtp_slot_close(p, s, buf);
}

void smtp_slot_add(struct smtp_parser *p, enum smtp_slot s, const char *src, size_t n)
{
	char buf[SMTP_SLOT_BUF];
	smtp_text_add(smtp_slot_open(p, s, buf), src, n);
	smtp_slot_close(p, s, buf);
}

void smtp_slot_add_line(struct smtp_parser *p, enum smtp_slot s, const char *src, size_t n)
{
	char buf[SMTP_SLOT_BUF];
	smtp_text_add_line(smtp_slot_open(p, s, buf), src, n);
	smtp_slot_close(p, s, buf);
}

void smtp_slot_add_escaped(struct smtp_parser *p, enum smtp_slot s, const uint8_t *src, size_t n)
{
	char buf[SMTP_SLOT_BUF];
	smtp_text_add_escaped(smtp_slot_open(p, s, buf), src, n);
	smtp_slot_close(p, s, buf);
}

void smtp_slot_upper(struct smtp_parser *p, enum smtp_slot s)
{
	uint8_t *r = store_find(p, s);
	if (r == NULL)
		return;
	for (char *c = (char *)r + STORE_HEAD; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
}

void smtp_slot_clear(struct smtp_parser *p, enum smtp_slot first, enum smtp_slot last)
{
	size_t off = 0;
	while (off < p->texts_len) {
		uint8_t *r = p->texts + off;
		if (r[0] >= first && r[0] <= last)
			store_remove(p, r);
		else
			off += STORE_HEAD + record_len(r) + 1;
	}
	store_fit(p, p->texts_len);
}

size_t smtp_store_memory(const struct smtp_parser *p)
{
	return p->texts ? p->texts_cap : 0;
}

void smtp_store_free(struct smtp_parser *p)
{
	free(p->texts);
	p->texts = NULL;
	p->texts_len = p->texts_cap = 0;
}

static void caps_observation(const struct smtp_cap_facts *f, struct smtp_capabilities *c)
{
	c->seen = f->seen;
	c->starttls = f->starttls;
	c->x_anonymoustls = f->x_anonymoustls;
	c->pipelining = f->pipelining;
	c->size = f->size;
	c->eightbitmime = f->eightbitmime;
	c->smtputf8 = f->smtputf8;
	c->chunking = f->chunking;
	c->requiretls = f->requiretls;
	c->dsn = f->dsn;
	c->enhancedstatuscodes = f->enhancedstatuscodes;
	c->auth = f->auth;
	c->binarymime = f->binarymime;
	c->size_limit = f->size_limit;
	c->count = f->count;
}

static void facts_observation(const struct smtp_facts *f, struct smtp_observation *o)
{
	o->banner_code = f->banner_code;
	o->ehlo_refused = f->ehlo_refused;
	o->ehlo_reply_code = f->ehlo_reply_code;
	caps_observation(&f->caps, &o->caps);
	o->transactions = f->transactions;
	o->recipients = f->recipients;
	o->rcpt_domain_count = f->rcpt_domain_count;
	o->data_in_clear = f->data_in_clear;
	o->data_bytes_in_clear = f->data_bytes_in_clear;
	o->auth_in_clear = f->auth_in_clear;
	o->requiretls_in_clear = f->requiretls_in_clear;
	o->last_reply_code = f->last_reply_code;
	o->starttls_attempted = f->starttls_attempted;
	o->starttls_command_masked = f->starttls_command_masked;
	o->masked_command_reply = f->masked_command_reply;
	o->starttls_reply_code = f->starttls_reply_code;
	o->tls_started = f->tls_started;
	o->command_injection = f->command_injection;
	o->commands_after_starttls_reply = f->commands_after_starttls_reply;
}

/* The observation from the parser's facts, counters (NULL: none yet) and texts. false: a record runs past the
 * texts (only a damaged frozen copy can). */
static bool build_observation(const struct smtp_facts *f, const struct smtp_tally *t, const uint8_t *texts,
                              size_t texts_len, struct smtp_observation *o)
{
	memset(o, 0, sizeof *o);
	facts_observation(f, o);
	if (t) {
		memcpy(o->anomalies, t->anomalies, sizeof o->anomalies);
		o->content_protection = t->content_protection;
	}
	for (size_t off = 0; off < texts_len; off += STORE_HEAD + record_len(texts + off) + 1) {
		const uint8_t *r = texts + off;
		if (texts_len - off < STORE_HEAD + 1 || r[0] >= SMTP_SLOT_COUNT ||
		    texts_len - off - STORE_HEAD - 1 < record_len(r) ||
		    record_len(r) >= smtp_slot_cap((enum smtp_slot)r[0]))
			return false;
		memcpy(slot_field(o, (enum smtp_slot)r[0]), r + STORE_HEAD, record_len(r));
	}
	return true;
}

void smtp_store_observation(const struct smtp_parser *p, struct smtp_observation *o)
{
	build_observation(&p->obs, p->tally, p->texts, p->texts_len, o);
}

/*
 * Frozen: the facts, a byte saying whether the counters follow, the counters,
 * then the texts' records as the parser holds them. A released session keeps
 * these (a few hundred bytes) instead of building the 12 KiB observation and
 * packing it, and builds the observation from them for its event.
 */
uint8_t *smtp_parser_freeze(const struct smtp_parser *p, size_t *len)
{
	size_t n = sizeof p->obs + 1 + (p->tally ? sizeof *p->tally : 0) + p->texts_len;
	uint8_t *f = malloc(n), *o = f;
	if (!f)
		return NULL;
	memcpy(o, &p->obs, sizeof p->obs), o += sizeof p->obs;
	*o++ = p->tally != NULL;
	if (p->tally)
		memcpy(o, p->tally, sizeof *p->tally), o += sizeof *p->tally;
	if (p->texts_len)
		memcpy(o, p->texts, p->texts_len);
	*len = n;
	return f;
}

bool smtp_frozen_observation(const uint8_t *frozen, size_t len, struct smtp_observation *o)
{
	struct smtp_facts facts;
	struct smtp_tally tally;
	if (!frozen || len < sizeof facts + 1)
		return false;
	memcpy(&facts, frozen, sizeof facts);
	size_t at = sizeof facts + 1;
	bool has_tally = frozen[sizeof facts] != 0;
	if (has_tally) {
		if (len - at < sizeof tally)
			return false;
		memcpy(&tally, frozen + at, sizeof tally);
		at += sizeof tally;
	}
	return build_observation(&facts, has_tally ? &tally : NULL, frozen + at, len - at, o);
}
