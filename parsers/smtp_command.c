/*
 * smtp_command.c: one client command line (RFC 5321 4.1.1, 4.1.2), decoded
 * into the observation and queued to be paired with its reply.
 *
 * References:
 *   Commands and paths     RFC 5321 4.1.1, 4.1.2 (Reverse-path, Forward-path,
 *                          Mail-parameters; source routes "@a,@b:" are ignored)
 *   HELO / EHLO / LHLO     RFC 5321 4.1.1.1, RFC 2033 4.1
 *   MAIL parameters        SIZE RFC 1870, BODY RFC 6152 / 3030, SMTPUTF8 RFC 6531,
 *                          REQUIRETLS RFC 8689 4.1
 *   BDAT                   RFC 3030 2 ("BDAT" SP chunk-size [SP "LAST"])
 *   AUTH                   RFC 4954 4 ("AUTH" SP mechanism [SP initial-response])
 *   STARTTLS               RFC 3207 4; X-ANONYMOUSTLS (Microsoft Exchange, same role)
 *
 *   "MAIL FROM:<user@Example.ORG> SIZE=1234 REQUIRETLS"
 *    verb arg  path (local@domain) Mail-parameters
 *
 * Privacy: an AUTH line is read for its mechanism only and a line buffer is
 * wiped when given back, after each line; SASL response lines are not looked at. Local parts are kept
 * only with smtp_options.keep_local_parts.
 */
#include "parsers/smtp_internal.h"

#include <string.h>

/* A span of the command line. */
struct span {
	const char *s;
	size_t n;
};

static struct span span_trim(struct span a)
{
	while (a.n && a.s[0] == ' ')
		a.s++, a.n--;
	while (a.n && (a.s[a.n - 1] == ' ' || a.s[a.n - 1] == '\t'))
		a.n--;
	return a;
}

/* The first word of a, and what follows it (spaces skipped). */
static struct span span_word(struct span a, struct span *rest)
{
	const char *sp = memchr(a.s, ' ', a.n);
	size_t n = sp ? (size_t)(sp - a.s) : a.n;
	struct span w = {a.s, n};
	if (rest)
		*rest = span_trim((struct span){a.s + n, a.n - n});
	return w;
}

static bool span_prefix(struct span a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.n >= n && strncasecmp(a.s, prefix, n) == 0;
}

/* A path after "FROM:" or "TO:": the address inside <>, the parameters after it. */
struct path {
	struct span addr;   /* between < and >, or the first word when there are none */
	struct span local;  /* local part, source route dropped */
	struct span domain; /* after the last '@', empty when none */
	struct span params;
};

static void path_parse(struct span arg, struct path *pa)
{
	arg = span_trim(arg);
	const char *gt = arg.n && arg.s[0] == '<' ? memchr(arg.s, '>', arg.n) : NULL;
	if (gt != NULL) {
		pa->addr = (struct span){arg.s + 1, (size_t)(gt - arg.s) - 1};
		pa->params = span_trim((struct span){gt + 1, arg.n - (size_t)(gt + 1 - arg.s)});
	} else {
		pa->addr = span_word(arg, &pa->params);
	}
	struct span a = pa->addr;
	const char *colon = a.n && a.s[0] == '@' ? memchr(a.s, ':', a.n) : NULL;
	if (colon != NULL)
		a = (struct span){colon + 1, a.n - (size_t)(colon + 1 - a.s)};
	const char *at = a.n ? memrchr(a.s, '@', a.n) : NULL;
	pa->local = (struct span){a.s, at ? (size_t)(at - a.s) : a.n};
	pa->domain = at ? (struct span){at + 1, a.n - (size_t)(at + 1 - a.s)} : (struct span){a.s + a.n, 0};
}

/* "domain", or "local@domain" when local parts are kept; lowercase domain. */
static void path_identity(const struct smtp_parser *p, const struct path *pa, struct smtp_text t)
{
	smtp_text_set(t, "", 0);
	if (p->keep_local_parts && pa->local.n) {
		smtp_text_add(t, pa->local.s, pa->local.n);
		if (pa->domain.n)
			smtp_text_add(t, "@", 1);
	}
	smtp_text_add_lower(t, pa->domain.s, pa->domain.n);
}

/* ---- checks and proceeds, one pair per verb (as OpenSMTPD's smtp_session.c) ---- */

static void helo_proceed(struct smtp_parser *p, const char *verb, struct span line, struct span arg)
{
	smtp_slot_set(p, SMTP_SLOT_HELO_VERB, verb, strlen(verb));
	struct span name = span_word(arg, NULL);
	smtp_slot_set(p, SMTP_SLOT_HELO, name.s, name.n);
}

static bool mail_check(struct smtp_parser *p, struct span arg)
{
	return span_prefix(arg, "FROM:");
}

/* The MAIL line with the local part replaced by "…" unless kept (RFC 8689 evidence). */
static void mail_evidence(struct smtp_parser *p, struct span line, const struct path *pa)
{
	char buf[SMTP_SLOT_BUF];
	struct smtp_text t = smtp_slot_open(p, SMTP_SLOT_MAIL_FROM_LINE, buf);
	size_t local_at = (size_t)(pa->local.s - line.s);
	smtp_text_set(t, line.s, local_at);
	if (p->keep_local_parts)
		smtp_text_add(t, pa->local.s, pa->local.n);
	else if (pa->local.n)
		smtp_text_add(t, "\xE2\x80\xA6", 3);
	size_t after = local_at + pa->local.n;
	size_t params_at = pa->params.n ? (size_t)(pa->params.s - line.s) : line.n;
	smtp_text_add(t, line.s + after, params_at - after);
	/* Parameters as sent, but the values that name people: AUTH= (RFC 4954 5, the submitter's
	 * identity, often the login) and ENVID= (RFC 3461 4.4, chosen by the sender). */
	struct span rest = pa->params;
	for (bool first = true; rest.n; first = false) {
		struct span w = span_word(rest, &rest);
		if (w.n == 0)
			break;
		const char *eq = memchr(w.s, '=', w.n);
		size_t key = eq ? (size_t)(eq - w.s) : w.n;
		if (!first)
			smtp_text_add(t, " ", 1);
		if (eq && (smtp_word_is(w.s, key, "AUTH") || smtp_word_is(w.s, key, "ENVID"))) {
			smtp_text_add(t, w.s, key + 1);
			smtp_text_add(t, "\xE2\x80\xA6", 3);
		} else {
			smtp_text_add(t, w.s, w.n);
		}
	}
	smtp_slot_close(p, SMTP_SLOT_MAIL_FROM_LINE, buf);
}

static bool params_have(struct span params, const char *keyword)
{
	struct span rest = params;
	while (rest.n) {
		struct span w = span_word(rest, &rest);
		const char *eq = memchr(w.s, '=', w.n);
		if (smtp_word_is(w.s, eq ? (size_t)(eq - w.s) : w.n, keyword))
			return true;
		if (w.n == 0)
			break;
	}
	return false;
}

static void mail_proceed(struct smtp_parser *p, const char *verb, struct span line, struct span arg)
{
	struct path pa;
	path_parse((struct span){arg.s + 5, arg.n - 5}, &pa);
	if (p->msg != NULL)
		p->msg->bdat_in_message =
		    false; /* a new transaction: a BDAT message without its LAST is over */
	if (++p->obs.transactions == 1) {
		char buf[SMTP_SLOT_BUF];
		path_identity(p, &pa, smtp_slot_open(p, SMTP_SLOT_MAIL_FROM_DOMAIN, buf));
		smtp_slot_close(p, SMTP_SLOT_MAIL_FROM_DOMAIN, buf);
		mail_evidence(p, line, &pa); /* evidence of mail in clear; a REQUIRETLS line replaces it */
	}
	if (!p->obs.requiretls_in_clear && params_have(pa.params, "REQUIRETLS")) {
		p->obs.requiretls_in_clear = true;
		mail_evidence(p, line, &pa);
	}
}

static bool rcpt_check(struct smtp_parser *p, struct span arg)
{
	return span_prefix(arg, "TO:");
}

static void rcpt_proceed(struct smtp_parser *p, const char *verb, struct span line, struct span arg)
{
	struct path pa;
	char id[SMTP_NAME_MAX];
	path_parse((struct span){arg.s + 3, arg.n - 3}, &pa);
	p->obs.recipients++;
	path_identity(p, &pa, SMTP_TEXT(p, id));
	if (id[0] == '\0')
		return;
	for (unsigned i = 0; i < p->obs.rcpt_domain_count; i++)
		if (strcmp(smtp_slot(p, SMTP_SLOT_RCPT_DOMAIN + i), id) == 0)
			return;
	if (p->obs.rcpt_domain_count == SMTP_MAX_RCPT_DOMAINS) {
		smtp_anomaly(p, SMTP_ANOMALY_TOO_MANY_DOMAINS);
		return;
	}
	smtp_slot_close(p, SMTP_SLOT_RCPT_DOMAIN + p->obs.rcpt_domain_count++, id);
}

static void data_proceed(struct smtp_parser *p, const char *verb, struct span line, struct span arg)
{
	/* content_unsure is kept: content of an earlier DATA may still await its 354 */
	if (smtp_message(p) == NULL)
		return;
	p->msg->data_confirmed = false;
	mime_header_scan_reset(&p->msg->mime);
	smtp_client_enter(p, SMTP_CLIENT_CONTENT);
}

/* chunk-size = 1*DIGIT; bounded so the sum cannot wrap. */
static bool bdat_size(struct span arg, uint64_t *size)
{
	struct span w = span_word(arg, NULL);
	if (w.n == 0 || w.n > 19)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < w.n; i++) {
		if (w.s[i] < '0' || w.s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(w.s[i] - '0');
	}
	*size = v;
	return true;
}

static bool bdat_check(struct smtp_parser *p, struct span arg)
{
	uint64_t size;
	if (bdat_size(arg, &size))
		return true;
	smtp_anomaly(p, SMTP_ANOMALY_BAD_BDAT);
	return false;
}

static void bdat_proceed(struct smtp_parser *p, const char *verb, struct span line, struct span arg)
{
	uint64_t size = 0;
	bdat_size(arg, &size);
	struct span rest;
	span_word(arg, &rest);
	struct span last = span_word(rest, NULL);
	if (smtp_message(p) == NULL)
		return;
	p->msg->bdat_last = smtp_word_is(last.s, last.n, "LAST"); /* RFC 3030 2 */
	if (!p->msg->bdat_in_message) {
		mime_header_scan_reset(&p->msg->mime);
		p->msg->bdat_in_message = true;
	}
	if (size == 0) {
		if (p->msg->bdat_last) { /* "BDAT 0 LAST" ends the message with no more bytes */
			smtp_message_done(p);
			p->msg->bdat_in_message = false;
		}
		return;
	}
	p->obs.data_in_clear = true;
	p->msg->bdat_left = size;
	smtp_client_enter(p, SMTP_CLIENT_BDAT);
}

static void auth_proceed(struct smtp_parser *p, const char *verb, struct span line, struct span arg)
{
	struct span mech = span_word(arg, NULL);
	if (smtp_slot(p, SMTP_SLOT_AUTH_MECHANISM)[0] == '\0') {
		smtp_slot_set(p, SMTP_SLOT_AUTH_MECHANISM, mech.s, mech.n);
		smtp_slot_upper(p, SMTP_SLOT_AUTH_MECHANISM);
	}
	if (!smtp_word_is(mech.s, mech.n, "EXTERNAL"))
		p->obs.auth_in_clear = true;
	p->sasl = true;
}

static void starttls_proceed(struct smtp_parser *p, const char *verb, struct span line, struct span arg)
{
	p->obs.starttls_attempted = true;
	if (smtp_slot(p, SMTP_SLOT_STARTTLS_COMMAND)[0] == '\0')
		smtp_slot_set(p, SMTP_SLOT_STARTTLS_COMMAND, line.s, line.n);
	smtp_client_enter(p, SMTP_CLIENT_HELD);
}

static const struct smtp_verb {
	const char *name;
	enum smtp_cmd cmd;
	bool (*check)(struct smtp_parser *p, struct span arg);
	void (*proceed)(struct smtp_parser *p, const char *verb, struct span line, struct span arg);
} smtp_verbs[] = {
    {"HELO", SMTP_CMD_HELO, NULL, helo_proceed},
    {"EHLO", SMTP_CMD_EHLO, NULL, helo_proceed},
    {"LHLO", SMTP_CMD_EHLO, NULL, helo_proceed},
    {"MAIL", SMTP_CMD_MAIL, mail_check, mail_proceed},
    {"RCPT", SMTP_CMD_RCPT, rcpt_check, rcpt_proceed},
    {"DATA", SMTP_CMD_DATA, NULL, data_proceed},
    {"BDAT", SMTP_CMD_BDAT, bdat_check, bdat_proceed},
    {"AUTH", SMTP_CMD_AUTH, NULL, auth_proceed},
    {"STARTTLS", SMTP_CMD_STARTTLS, NULL, starttls_proceed},
    {"X-ANONYMOUSTLS", SMTP_CMD_STARTTLS, NULL, starttls_proceed},
    {"RSET", SMTP_CMD_OTHER, NULL, NULL},
    {"QUIT", SMTP_CMD_OTHER, NULL, NULL},
    {"NOOP", SMTP_CMD_OTHER, NULL, NULL},
    {"VRFY", SMTP_CMD_OTHER, NULL, NULL},
    {"EXPN", SMTP_CMD_OTHER, NULL, NULL},
    {"HELP", SMTP_CMD_OTHER, NULL, NULL},
};

/*
 * An unknown verb of STARTTLS's length, alone on its line (STARTTLS takes no
 * argument), is where a middlebox may have overwritten STARTTLS: recorded, the
 * rules decide. Anything longer or with arguments is just unknown.
 */
static enum smtp_cmd unknown_verb(struct smtp_parser *p, struct span verb, struct span arg)
{
	if (verb.n != 8 || arg.n != 0)
		return SMTP_CMD_OTHER;
	p->obs.starttls_command_masked = true;
	if (smtp_slot(p, SMTP_SLOT_MASKED_COMMAND)[0] != '\0')
		return SMTP_CMD_OTHER;
	smtp_slot_set(p, SMTP_SLOT_MASKED_COMMAND, verb.s, verb.n);
	return SMTP_CMD_MASKED;
}

static enum smtp_cmd command_dispatch(struct smtp_parser *p, struct span line)
{
	struct span arg;
	struct span verb = span_word(line, &arg);
	for (size_t i = 0; i < sizeof smtp_verbs / sizeof smtp_verbs[0]; i++) {
		const struct smtp_verb *v = &smtp_verbs[i];
		if (!smtp_word_is(verb.s, verb.n, v->name))
			continue;
		if (v->proceed != NULL && (v->check == NULL || v->check(p, arg)))
			v->proceed(p, v->name, line, arg);
		return v->cmd;
	}
	return unknown_verb(p, verb, arg);
}

void smtp_command_line(struct smtp_parser *p, const struct line *l)
{
	if (p->starttls_refused)
		p->obs.commands_after_starttls_reply = true;
	enum smtp_cmd cmd = SMTP_CMD_SASL;
	if (!p->sasl)
		cmd = command_dispatch(p, (struct span){l->text, l->len});
	smtp_pending_push(p, cmd); /* the line's buffer, if it needed one, is wiped when given back */
}
