/*
 * smtp_reply.c: server reply lines (RFC 5321 4.2), paired in order with the
 * commands awaiting them (RFC 2920 3), and the EHLO capabilities.
 *
 * References:
 *   Replies                 RFC 5321 4.2, 4.2.1 (multi-line: "DDD-" then "DDD ")
 *   Enhanced status codes   RFC 2034, RFC 3463 (part of the text here)
 *   EHLO keywords           RFC 5321 4.1.1.1; PIPELINING RFC 2920, SIZE RFC 1870,
 *                           8BITMIME RFC 6152, SMTPUTF8 RFC 6531, CHUNKING and
 *                           BINARYMIME RFC 3030, DSN RFC 3461, ENHANCEDSTATUSCODES
 *                           RFC 2034, AUTH RFC 4954 ("AUTH=" is the pre-standard form),
 *                           STARTTLS RFC 3207, REQUIRETLS RFC 8689
 *
 *   reply-line = code ( "-" / SP ) text CRLF   (the last line: SP, or nothing)
 *   "250-mx1.example.net"   first line of the EHLO reply: the server's name
 *   "250-SIZE 10240000"     keyword SP parameters
 *   "250 CHUNKING"          the last line
 */
#include "parsers/smtp_internal.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/* ---- EHLO keywords ---- */

enum { CAP_NO_FLAG = SIZE_MAX };

static void cap_size(struct smtp_parser *p, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '='))
		i++;
	uint64_t v = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + (uint64_t)(s[i] - '0');
	p->obs.caps.size_limit = v;
}

static bool mechanism_listed(const char *list, const char *m, size_t n)
{
	while (*list) {
		size_t w = strcspn(list, " ");
		if (w == n && strncasecmp(list, m, n) == 0)
			return true;
		list += w;
		list += strspn(list, " ");
	}
	return false;
}

/* "AUTH PLAIN LOGIN" or the old "AUTH=LOGIN": each mechanism once, in advertised order. */
static void cap_auth(struct smtp_parser *p, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '='))
			i++;
		size_t start = i;
		while (i < n && s[i] != ' ' && s[i] != '=')
			i++;
		const char *listed = smtp_slot(p, SMTP_SLOT_AUTH_MECHANISMS);
		if (i == start || mechanism_listed(listed, s + start, i - start))
			continue;
		char buf[SMTP_SLOT_BUF];
		struct smtp_text t = smtp_slot_open(p, SMTP_SLOT_AUTH_MECHANISMS, buf);
		if (buf[0] != '\0')
			smtp_text_add(t, " ", 1);
		smtp_text_add(t, s + start, i - start);
		smtp_slot_close(p, SMTP_SLOT_AUTH_MECHANISMS, buf);
	}
}

static const struct cap_word {
	const char *name;
	size_t flag; /* offset of its bool in struct smtp_cap_facts, or CAP_NO_FLAG */
	void (*params)(struct smtp_parser *p, const char *s, size_t n);
} cap_words[] = {
    {"STARTTLS", offsetof(struct smtp_cap_facts, starttls), NULL},
    {"X-ANONYMOUSTLS", offsetof(struct smtp_cap_facts, x_anonymoustls), NULL},
    {"PIPELINING", offsetof(struct smtp_cap_facts, pipelining), NULL},
    {"SIZE", offsetof(struct smtp_cap_facts, size), cap_size},
    {"8BITMIME", offsetof(struct smtp_cap_facts, eightbitmime), NULL},
    {"SMTPUTF8", offsetof(struct smtp_cap_facts, smtputf8), NULL},
    {"CHUNKING", offsetof(struct smtp_cap_facts, chunking), NULL},
    {"REQUIRETLS", offsetof(struct smtp_cap_facts, requiretls), NULL},
    {"DSN", offsetof(struct smtp_cap_facts, dsn), NULL},
    {"ENHANCEDSTATUSCODES", offsetof(struct smtp_cap_facts, enhancedstatuscodes), NULL},
    {"AUTH", offsetof(struct smtp_cap_facts, auth), cap_auth},
    {"BINARYMIME", offsetof(struct smtp_cap_facts, binarymime), NULL},
    /* known, nothing to record; XFORWARD (Postfix) has STARTTLS's length but is real */
    {"VRFY", CAP_NO_FLAG, NULL},
    {"ETRN", CAP_NO_FLAG, NULL},
    {"EXPN", CAP_NO_FLAG, NULL},
    {"HELP", CAP_NO_FLAG, NULL},
    {"XFORWARD", CAP_NO_FLAG, NULL},
    {"XCLIENT", CAP_NO_FLAG, NULL},
    {"DELIVERBY", CAP_NO_FLAG, NULL},
    {"MT-PRIORITY", CAP_NO_FLAG, NULL},
    {"LIMITS", CAP_NO_FLAG, NULL},
};

static const struct cap_word *cap_lookup(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof cap_words / sizeof cap_words[0]; i++)
		if (smtp_word_is(s, n, cap_words[i].name))
			return &cap_words[i];
	return NULL;
}

/* One "250-KEYWORD params" line after the first of an EHLO reply (RFC 5321 4.1.1.1). */
static void cap_line(struct smtp_parser *p, const char *s, size_t n)
{
	struct smtp_cap_facts *c = &p->obs.caps;
	if (c->count < SMTP_MAX_CAPABILITIES)
		smtp_slot_set(p, SMTP_SLOT_CAP_LINE + c->count++, s, n);
	else
		smtp_anomaly(p, SMTP_ANOMALY_TOO_MANY_CAPABILITIES);
	size_t kw = 0; /* up to a space, '=' or NUL: the line is read by its length only */
	while (kw < n && s[kw] != ' ' && s[kw] != '=' && s[kw] != '\0')
		kw++;
	const struct cap_word *w = cap_lookup(s, kw);
	if (w == NULL) {
		if (kw == 8 && smtp_slot(p, SMTP_SLOT_MASKED_KEYWORD)[0] == '\0')
			smtp_slot_set(p, SMTP_SLOT_MASKED_KEYWORD, s, kw);
		return;
	}
	if (w->flag != CAP_NO_FLAG)
		*(bool *)((char *)c + w->flag) = true;
	if (w->params != NULL)
		w->params(p, s + kw, n - kw);
}

/* ---- reply lines ---- */

/* "DDD", "DDD " or "DDD-" with DDD in 200..599 (RFC 5321 4.2: 2yz to 5yz, second digit 0-5). */
static bool reply_code(const struct line *l, uint16_t *code, bool *last)
{
	const char *t = l->text;
	if (l->len < 3 || t[0] < '2' || t[0] > '5' || t[1] < '0' || t[1] > '9' || t[2] < '0' || t[2] > '9')
		return false;
	if (l->len > 3 && t[3] != ' ' && t[3] != '-')
		return false;
	*code = (uint16_t)((t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0'));
	*last = l->len == 3 || t[3] == ' ';
	return true;
}

static void reply_begin(struct smtp_parser *p, uint16_t code)
{
	p->in_reply = true;
	p->reply_code = code;
	p->reply_more = false;
	p->reply_cmd = (uint8_t)smtp_pending_peek(p);
	/* A greeting is 220, or 421/554 turning the client away (RFC 5321 3.1, 4.2). Any other first reply
	 * answers a later command: the capture began after the greeting, which is lost, not this reply. */
	if (p->reply_cmd == SMTP_CMD_GREETING && code != 220 && code != 421 && code != 554) {
		smtp_pending_pop(p);
		p->reply_cmd = (uint8_t)smtp_pending_peek(p);
	}
	if (p->reply_cmd == SMTP_CMD_NONE && p->client != SMTP_CLIENT_LOST)
		smtp_anomaly(p, SMTP_ANOMALY_REPLY_WITHOUT_COMMAND);
	if (p->reply_cmd == SMTP_CMD_EHLO && code == 250) { /* a later EHLO replaces what was advertised */
		memset(&p->obs.caps, 0, sizeof p->obs.caps);
		smtp_slot_clear(p, SMTP_SLOT_AUTH_MECHANISMS, SMTP_SLOT_EHLO_RAW);
		smtp_slot_clear(p, SMTP_SLOT_CAP_LINE, SMTP_SLOT_RCPT_DOMAIN - 1);
	}
	if (p->reply_cmd == SMTP_CMD_STARTTLS)
		smtp_slot_clear(p, SMTP_SLOT_STARTTLS_REPLY, SMTP_SLOT_STARTTLS_REPLY);
}

/* What one line of the reply says, by the command it answers. */
static void reply_text(struct smtp_parser *p, const struct line *l)
{
	const char *text = l->len > 4 ? l->text + 4 : l->text + l->len;
	size_t n = l->len > 4 ? l->len - 4 : 0;
	switch (p->reply_cmd) {
	case SMTP_CMD_GREETING:
		if (!p->reply_more) {
			p->obs.banner_code = p->reply_code;
			smtp_slot_set(p, SMTP_SLOT_BANNER, l->text, l->len);
		}
		break;
	case SMTP_CMD_EHLO:
		if (p->reply_code != 250)
			break;
		smtp_slot_add_line(p, SMTP_SLOT_EHLO_RAW, l->text, l->len);
		if (p->reply_more)
			cap_line(p, text, n);
		break;
	case SMTP_CMD_STARTTLS:
		smtp_slot_add_line(p, SMTP_SLOT_STARTTLS_REPLY, l->text, l->len);
		break;
	default:
		break;
	}
}

/* The reply is complete: what it means for the command it answers. True when TLS starts. */
static bool reply_end(struct smtp_parser *p)
{
	uint16_t code = p->reply_code;
	p->in_reply = false;
	if (p->reply_cmd != SMTP_CMD_NONE)
		smtp_pending_pop(p);
	p->obs.last_reply_code = code;
	switch (p->reply_cmd) {
	case SMTP_CMD_EHLO:
		p->obs.ehlo_reply_code = code;
		if (code >= 500)
			p->obs.ehlo_refused = true;
		if (code == 250)
			p->obs.caps.seen = true;
		break;
	case SMTP_CMD_DATA:
		smtp_data_reply(p, code);
		break;
	case SMTP_CMD_AUTH:
	case SMTP_CMD_SASL:
		if (code != 334)
			p->sasl = false;
		break;
	case SMTP_CMD_MASKED:
		p->obs.masked_command_reply = code;
		break;
	case SMTP_CMD_STARTTLS:
		p->obs.starttls_reply_code = code;
		return smtp_starttls_reply(p, code);
	default:
		break;
	}
	return false;
}

bool smtp_reply_line(struct smtp_parser *p, const struct line *l)
{
	uint16_t code;
	bool last;
	if (!reply_code(l, &code, &last)) {
		smtp_anomaly(p, SMTP_ANOMALY_BAD_REPLY);
		return false;
	}
	if (!p->in_reply)
		reply_begin(p, code);
	else if (code != p->reply_code)
		smtp_anomaly(p, SMTP_ANOMALY_MULTILINE_MISMATCH);
	reply_text(p, l);
	p->reply_more = true;
	return last ? reply_end(p) : false;
}

/* A DNS name as RFC 1123 allows it: letters, digits, '-', '.'; not an address literal "[...]". */
static bool plausible_host(const char *s, size_t n)
{
	if (n == 0 || n >= SMTP_NAME_MAX || s[0] == '[')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return memchr(s, '.', n) != NULL;
}

int smtp_greeting_host(const char *line, char *out, size_t outlen)
{
	/* RFC 5321 4.2: "220 " or "220-" then the domain, then optional text. */
	if (strlen(line) < 5 || !isdigit((unsigned char)line[0]) || (line[3] != ' ' && line[3] != '-'))
		return -1;
	const char *host = line + 4;
	size_t n = strcspn(host, " \t\r\n");
	if (!plausible_host(host, n) || n >= outlen)
		return -1;
	memcpy(out, host, n);
	out[n] = '\0';
	return 0;
}
