/*
 * mta_sts.c: the MTA-STS policy file, RFC 8461 3.2.
 *
 *   sts-policy-record = sts-policy-field *WSP
 *                       *(sts-policy-term sts-policy-field *WSP) [sts-policy-term]
 *   sts-policy-term   = LF / CRLF
 *   field-delim       = ":" *WSP
 *   version = "STSv1"; mode = "testing" / "enforce" / "none";
 *   max_age = 1*10DIGIT; mx = ["*."] Domain
 *   sts-policy-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   sts-policy-ext-value = sts-policy-vchar [*(%x20 / sts-policy-vchar) sts-policy-vchar]
 *
 * The file is cut into lines with memchr over the bytes left; each line is a
 * sub-reader, so nothing here forms a pointer past what it was given.
 */
#include "parsers/mta_sts.h"

#include "parsers/domain_pattern.h"
#include "parsers/reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define KEY_MAX 32   /* sts-policy-ext-name: 1 + 31 */
#define QUOTE_MAX 32 /* bytes of input echoed in a message */

struct parse_state {
	struct mta_sts_policy *out;
	struct mta_sts_error *err;
	unsigned line;
	bool seen_version, seen_mode, seen_max_age;
};

/* A value: borrowed bytes of the line, surrounding whitespace gone. */
struct slice {
	const uint8_t *p;
	size_t len;
};

static bool is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static bool is_let_dig(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_key_char(int c)
{
	return is_let_dig(c) || c == '_' || c == '-' || c == '.';
}

static bool slice_is(struct slice s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && memcmp(s.p, lit, n) == 0;
}

/* Input echoed into a message: printable ASCII, other bytes as '?', cut at QUOTE_MAX. */
static const char *quote(char buf[QUOTE_MAX + 4], struct slice s)
{
	size_t n = s.len < QUOTE_MAX ? s.len : QUOTE_MAX;
	for (size_t i = 0; i < n; i++)
		buf[i] = (s.p[i] >= 0x20 && s.p[i] < 0x7f && s.p[i] != '"') ? (char)s.p[i] : '?';
	if (s.len > QUOTE_MAX) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

__attribute__((format(printf, 3, 4))) static int fail(struct parse_state *st, enum mta_sts_problem p,
                                                      const char *fmt, ...)
{
	struct mta_sts_error *e = st->err;
	if (e == NULL)
		return -1;
	e->problem = p;
	e->line = st->line ? st->line : 1;
	int n = snprintf(e->message, sizeof e->message, "line %u: ", e->line);
	if (n > 0 && (size_t)n < sizeof e->message) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->message + n, sizeof e->message - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* How many leading bytes of r satisfy pred; r itself does not move. */
static size_t span(struct reader r, bool (*pred)(int))
{
	size_t n = 0;
	while (reader_peek(&r) >= 0 && pred(reader_peek(&r))) {
		reader_skip(&r, 1);
		n++;
	}
	return n;
}

static int parse_version(struct parse_state *st, struct slice v)
{
	char q[QUOTE_MAX + 4];
	if (!slice_is(v, "STSv1"))
		return fail(st, MTA_STS_BAD_VERSION, "version \"%s\" is not STSv1", quote(q, v));
	st->seen_version = true;
	return 0;
}

static int parse_mode(struct parse_state *st, struct slice v)
{
	char q[QUOTE_MAX + 4];
	if (slice_is(v, "enforce"))
		st->out->mode = MTA_STS_MODE_ENFORCE;
	else if (slice_is(v, "testing"))
		st->out->mode = MTA_STS_MODE_TESTING;
	else if (slice_is(v, "none"))
		st->out->mode = MTA_STS_MODE_NONE;
	else
		return fail(st, MTA_STS_BAD_MODE, "mode \"%s\" is not enforce, testing or none", quote(q, v));
	st->seen_mode = true;
	return 0;
}

static int parse_max_age(struct parse_state *st, struct slice v)
{
	char q[QUOTE_MAX + 4];
	struct reader r = reader_make(v.p, v.len);
	uint64_t age = 0;
	if (v.len == 0 || v.len > 10)
		return fail(st, MTA_STS_BAD_MAX_AGE, "max_age \"%s\" is not 1 to 10 digits", quote(q, v));
	while (reader_left(&r) > 0) {
		int c = reader_u8(&r);
		if (c < '0' || c > '9')
			return fail(st, MTA_STS_BAD_MAX_AGE, "max_age \"%s\" is not 1 to 10 digits",
			            quote(q, v));
		age = age * 10 + (uint64_t)(c - '0');
	}
	if (age > MTA_STS_MAX_AGE)
		return fail(st, MTA_STS_BAD_MAX_AGE, "max_age %llu is over %u", (unsigned long long)age,
		            (unsigned)MTA_STS_MAX_AGE);
	st->out->max_age = age;
	st->seen_max_age = true;
	return 0;
}

static int parse_mx(struct parse_state *st, struct slice v)
{
	char q[QUOTE_MAX + 4];
	struct mta_sts_policy *out = st->out;
	if (v.len == 0)
		return fail(st, MTA_STS_BAD_MX, "mx has no value");
	if (v.len > MTA_STS_MAX_PATTERN)
		return fail(st, MTA_STS_BAD_MX, "mx pattern longer than %d bytes", MTA_STS_MAX_PATTERN);
	if (out->mx_count == MTA_STS_MAX_MX)
		return fail(st, MTA_STS_TOO_MANY_MX, "more than %d mx patterns", MTA_STS_MAX_MX);
	/* A NUL would hide the rest of the value from the C-string check below. */
	if (memchr(v.p, '\0', v.len) != NULL)
		return fail(st, MTA_STS_BAD_MX, "mx \"%s\" holds a NUL byte", quote(q, v));
	char *slot = out->mx[out->mx_count];
	memcpy(slot, v.p, v.len);
	slot[v.len] = '\0';
	const char *name = (slot[0] == '*' && slot[1] == '.') ? slot + 2 : slot;
	if (!domain_name_valid(name)) {
		memset(slot, 0, MTA_STS_MAX_PATTERN + 1);
		return fail(st, MTA_STS_BAD_MX, "mx \"%s\" is not a host name or *.host name", quote(q, v));
	}
	out->mx_count++;
	return 0;
}

/* sts-policy-ext-value: at least one byte, none of them a control byte (a tab included). */
static int parse_extension(struct parse_state *st, struct slice key, struct slice v)
{
	char q[QUOTE_MAX + 4];
	st->out->unknown_keys++;
	if (v.len == 0)
		return fail(st, MTA_STS_BAD_VALUE, "field \"%s\" has no value", quote(q, key));
	for (size_t i = 0; i < v.len; i++)
		if (v.p[i] < 0x20 || v.p[i] == 0x7f)
			return fail(st, MTA_STS_BAD_VALUE, "control byte 0x%02x in the value of \"%s\"",
			            v.p[i], quote(q, key));
	return 0;
}

/* One line, its ending already gone. */
static int parse_line(struct parse_state *st, struct reader line)
{
	char q[QUOTE_MAX + 4];
	if (span(line, is_wsp) == reader_left(&line)) {
		st->out->blank_lines++;
		return 0;
	}
	size_t key_len = span(line, is_key_char);
	if (key_len == 0 || !is_let_dig(reader_peek(&line)))
		return fail(st, MTA_STS_BAD_LINE, "expected a field name");
	struct slice key = {reader_bytes(&line, key_len), key_len};
	if (key_len > KEY_MAX)
		return fail(st, MTA_STS_BAD_KEY, "field name \"%s\" longer than %d bytes", quote(q, key),
		            KEY_MAX);
	if (reader_peek(&line) != ':')
		return fail(st, MTA_STS_BAD_LINE, "expected ':' after \"%s\"", quote(q, key));
	reader_skip(&line, 1);
	reader_skip(&line, span(line, is_wsp));
	struct slice v = {NULL, reader_left(&line)};
	v.p = reader_bytes(&line, v.len);
	while (v.len > 0 && is_wsp(v.p[v.len - 1]))
		v.len--;

	bool *seen = slice_is(key, "version")   ? &st->seen_version
	             : slice_is(key, "mode")    ? &st->seen_mode
	             : slice_is(key, "max_age") ? &st->seen_max_age
	                                        : NULL;
	/* RFC 8461 3.2: of a repeated field other than mx, only the first counts. */
	if (seen != NULL && *seen) {
		st->out->duplicate_keys++;
		return 0;
	}
	if (slice_is(key, "version"))
		return parse_version(st, v);
	if (slice_is(key, "mode"))
		return parse_mode(st, v);
	if (slice_is(key, "max_age"))
		return parse_max_age(st, v);
	if (slice_is(key, "mx"))
		return parse_mx(st, v);
	return parse_extension(st, key, v);
}

/* The line holding byte MTA_STS_MAX_FILE, for the too-large message. */
static unsigned line_of_limit(const char *text)
{
	struct reader r = reader_make(text, MTA_STS_MAX_FILE);
	unsigned line = 1;
	while (reader_left(&r) > 0) {
		const uint8_t *lf = memchr(r.p, '\n', reader_left(&r));
		if (lf == NULL)
			break;
		reader_skip(&r, (size_t)(lf - r.p) + 1);
		line++;
	}
	return line;
}

static int check_complete(struct parse_state *st)
{
	const struct mta_sts_policy *out = st->out;
	if (!st->seen_version)
		return fail(st, MTA_STS_MISSING_VERSION, "no version field");
	if (!st->seen_mode)
		return fail(st, MTA_STS_MISSING_MODE, "no mode field");
	if (!st->seen_max_age)
		return fail(st, MTA_STS_MISSING_MAX_AGE, "no max_age field");
	if (out->mode != MTA_STS_MODE_NONE && out->mx_count == 0)
		return fail(st, MTA_STS_MISSING_MX, "mode %s without an mx field",
		            mta_sts_mode_str(out->mode));
	return 0;
}

int mta_sts_parse(const char *text, size_t len, struct mta_sts_policy *out, struct mta_sts_error *err)
{
	struct parse_state st = {.out = out, .err = err};
	memset(out, 0, sizeof *out);
	if (err != NULL)
		memset(err, 0, sizeof *err);
	if (len > MTA_STS_MAX_FILE) {
		st.line = line_of_limit(text);
		fail(&st, MTA_STS_FILE_TOO_LARGE, "policy file larger than %d bytes", MTA_STS_MAX_FILE);
		goto fail;
	}
	struct reader r = reader_make(text, len);
	while (reader_left(&r) > 0) {
		st.line++;
		const uint8_t *lf = memchr(r.p, '\n', reader_left(&r));
		size_t n = lf ? (size_t)(lf - r.p) : reader_left(&r);
		size_t ending = lf ? 1 : 0;
		if (lf != NULL && n > 0 && lf[-1] == '\r') /* CRLF: the CR belongs to the ending */
			n--, ending++;
		if (n > MTA_STS_MAX_LINE) {
			fail(&st, MTA_STS_LINE_TOO_LONG, "line longer than %d bytes", MTA_STS_MAX_LINE);
			goto fail;
		}
		struct reader line = reader_sub(&r, n);
		reader_skip(&r, ending);
		if (parse_line(&st, line) != 0)
			goto fail;
	}
	out->lines = st.line;
	if (check_complete(&st) != 0)
		goto fail;
	return 0;
fail:
	memset(out, 0, sizeof *out);
	return -1;
}

bool mta_sts_mx_matches(const struct mta_sts_policy *p, const char *hostname)
{
	if (p == NULL)
		return false;
	unsigned n = p->mx_count < MTA_STS_MAX_MX ? p->mx_count : MTA_STS_MAX_MX;
	for (unsigned i = 0; i < n; i++)
		if (domain_pattern_match(p->mx[i], hostname))
			return true;
	return false;
}

const char *mta_sts_mode_str(enum mta_sts_mode m)
{
	switch (m) {
	case MTA_STS_MODE_NONE:
		return "none";
	case MTA_STS_MODE_TESTING:
		return "testing";
	case MTA_STS_MODE_ENFORCE:
		return "enforce";
	}
	return "unknown";
}

const char *mta_sts_problem_str(enum mta_sts_problem p)
{
	static const char *const names[] = {
	    [MTA_STS_OK] = "ok",
	    [MTA_STS_FILE_TOO_LARGE] = "file_too_large",
	    [MTA_STS_LINE_TOO_LONG] = "line_too_long",
	    [MTA_STS_BAD_LINE] = "bad_line",
	    [MTA_STS_BAD_KEY] = "bad_key",
	    [MTA_STS_BAD_VALUE] = "bad_value",
	    [MTA_STS_BAD_VERSION] = "bad_version",
	    [MTA_STS_BAD_MODE] = "bad_mode",
	    [MTA_STS_BAD_MAX_AGE] = "bad_max_age",
	    [MTA_STS_BAD_MX] = "bad_mx",
	    [MTA_STS_TOO_MANY_MX] = "too_many_mx",
	    [MTA_STS_MISSING_VERSION] = "missing_version",
	    [MTA_STS_MISSING_MODE] = "missing_mode",
	    [MTA_STS_MISSING_MAX_AGE] = "missing_max_age",
	    [MTA_STS_MISSING_MX] = "missing_mx",
	};
	if ((unsigned)p >= sizeof names / sizeof names[0])
		return NULL;
	return names[p];
}
