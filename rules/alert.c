/*
 * alert.c: building alerts with bounded evidence.
 *
 * Evidence lines are wire bytes: they are cut at ALERT_EVIDENCE_MAX - 1 on a
 * byte boundary (the JSON writer repairs any UTF-8 sequence that splits) and
 * NULs are dropped so every line stays a C string. Whatever is cut or does not
 * fit is flagged on the alert, never silently lost.
 */
#include "rules/alert.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct alert *alert_list_add(struct alert_list *l, enum rule_code code)
{
	const struct rule_info *info = rule_info(code);
	if (!info)
		return NULL;
	if (l->count >= ALERTS_PER_SESSION) {
		l->dropped++;
		return NULL;
	}
	struct alert *a = &l->items[l->count++];
	memset(a, 0, sizeof *a);
	a->rule = info;
	a->severity = info->severity;
	return a;
}

void alert_add_evidence(struct alert *a, const char *line, size_t len)
{
	if (a->evidence_count >= ALERT_MAX_EVIDENCE) {
		a->evidence_truncated = true;
		return;
	}
	char *out = a->evidence[a->evidence_count++];
	size_t n = 0, i = 0;
	for (; line && i < len && n < ALERT_EVIDENCE_MAX - 1; i++)
		if (line[i] != '\0')
			out[n++] = line[i];
	out[n] = '\0';
	/* Cut if any non-NUL byte was left over. */
	for (; line && i < len; i++)
		if (line[i] != '\0') {
			a->evidence_truncated = true;
			break;
		}
}

void alert_add_evidence_lines(struct alert *a, const char *text)
{
	if (!text)
		return;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t keep = len;
		if (keep > 0 && p[keep - 1] == '\r') /* the line terminator is not evidence */
			keep--;
		if (keep > 0)
			alert_add_evidence(a, p, keep);
		p += len;
		if (nl)
			p++;
	}
}

void alert_set_reason(struct alert *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof a->reason, fmt, ap);
	va_end(ap);
}

bool alert_list_has(const struct alert_list *l, enum rule_code code)
{
	for (unsigned i = 0; i < l->count; i++)
		if (l->items[i].rule && l->items[i].rule->code == code)
			return true;
	return false;
}

/* One byte, printable: ASCII as is, CR/LF/TAB as \r \n \t, the rest (backslash included) as \xHH. */
static size_t escape_byte(char out[5], uint8_t c)
{
	switch (c) {
	case '\r':
		return (size_t)snprintf(out, 5, "\\r");
	case '\n':
		return (size_t)snprintf(out, 5, "\\n");
	case '\t':
		return (size_t)snprintf(out, 5, "\\t");
	}
	if (c >= 0x20 && c < 0x7f && c != '\\')
		return (size_t)snprintf(out, 5, "%c", c);
	return (size_t)snprintf(out, 5, "\\x%02x", c);
}

void alert_add_printable(struct alert *a, const uint8_t *b, size_t len)
{
	char out[ALERT_EVIDENCE_MAX + 1]; /* room for 64 bytes escaped, as \xHH each */
	size_t n = 0;
	for (size_t i = 0; i < len && n + 4 < sizeof out; i++)
		n += escape_byte(out + n, b[i]);
	alert_add_evidence(a, out, n);
}

void alert_add_evidencef(struct alert *a, const char *fmt, ...)
{
	char line[ALERT_EVIDENCE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n >= 0)
		alert_add_evidence(a, line, strlen(line));
}
