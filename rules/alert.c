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
