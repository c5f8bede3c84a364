/*
 * mime_header.c: the top-level Content-Type of a message and what it says about end-to-end
 * protection (mime_header.h). Header grammar from RFC 5322 2.2 (fields, folding 2.2.3), the
 * Content-Type grammar from RFC 2045 5.1:
 *
 *   content := "Content-Type" ":" type "/" subtype *(";" parameter)
 *   parameter := attribute "=" value        value := token / quoted-string
 */
#include "parsers/mime_header.h"

#include <string.h>
#include <strings.h>

const char *mime_protection_str(enum mime_protection p)
{
	switch (p) {
	case MIME_SMIME_ENCRYPTED:
		return "smime_encrypted";
	case MIME_SMIME_SIGNED:
		return "smime_signed";
	case MIME_PGP_ENCRYPTED:
		return "pgp_encrypted";
	case MIME_PGP_SIGNED:
		return "pgp_signed";
	case MIME_UNPROTECTED:
		break;
	}
	return "unprotected";
}

void mime_header_scan_reset(struct mime_header_scan *s)
{
	memset(s, 0, sizeof *s);
	s->state = MIME_LINE_START;
}

static void value_add(struct mime_header_scan *s, uint8_t c)
{
	if (s->value_len < sizeof s->value - 1)
		s->value[s->value_len++] = (char)c;
	else
		s->cut = true;
}

/* The first byte of a line: the empty line ends the header, white space folds, else a new field. */
static void line_start(struct mime_header_scan *s, uint8_t c)
{
	if (c == '\n') {
		s->state = MIME_DONE;
		return;
	}
	if (c == '\r') {
		s->state = MIME_LINE_CR;
		return;
	}
	if (c == ' ' || c == '\t') {
		s->state = s->in_ct ? MIME_CT_VALUE : MIME_SKIP_LINE;
		if (s->in_ct)
			value_add(s, ' ');
		return;
	}
	if (s->in_ct) {
		s->in_ct = false;
		s->have_ct = true;
	}
	s->name_len = 0;
	s->name[s->name_len++] = (char)c;
	s->state = MIME_FIELD_NAME;
}

static void field_name(struct mime_header_scan *s, uint8_t c)
{
	if (c == ':') {
		s->in_ct = !s->have_ct && s->name_len == 12 && strncasecmp(s->name, "content-type", 12) == 0;
		s->state = s->in_ct ? MIME_CT_VALUE : MIME_SKIP_LINE;
	} else if (c == '\n') {
		s->state = MIME_LINE_START; /* a line without a colon: not a field, skipped */
	} else if (s->name_len < sizeof s->name) {
		s->name[s->name_len++] = (char)c;
	} else {
		s->state = MIME_SKIP_LINE;
	}
}

static void scan_byte(struct mime_header_scan *s, uint8_t c)
{
	switch (s->state) {
	case MIME_LINE_START:
		line_start(s, c);
		break;
	case MIME_LINE_CR: /* "\r\n" alone ends the header; "\r" then anything else is a line of its own */
		s->state = c == '\n' ? MIME_DONE : MIME_SKIP_LINE;
		break;
	case MIME_FIELD_NAME:
		field_name(s, c);
		break;
	case MIME_CT_VALUE:
		if (c == '\n')
			s->state = MIME_LINE_START;
		else if (c != '\r')
			value_add(s, c);
		break;
	case MIME_SKIP_LINE:
		if (c == '\n')
			s->state = MIME_LINE_START;
		break;
	case MIME_DONE:
		break;
	}
}

void mime_header_scan_feed(struct mime_header_scan *s, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len && s->state != MIME_DONE; i++) {
		if (s->scanned >= MIME_HEADER_SCAN_MAX) {
			s->capped = true;
			s->state = MIME_DONE;
			break;
		}
		s->scanned++;
		/* Skipped lines go by memchr: only the Content-Type is looked at byte by byte. */
		if (s->state == MIME_SKIP_LINE) {
			size_t room = MIME_HEADER_SCAN_MAX - (s->scanned - 1);
			size_t n = len - i < room ? len - i : room;
			const uint8_t *lf = memchr(data + i, '\n', n);
			if (!lf) {
				s->scanned += (uint32_t)(n - 1);
				i += n - 1;
				continue;
			}
			size_t skip = (size_t)(lf - (data + i));
			s->scanned += (uint32_t)skip;
			i += skip;
		}
		scan_byte(s, data[i]);
	}
}

/* ---- the Content-Type value ---- */

struct cursor {
	const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

/* A token (RFC 2045 5.1: no tspecials, no space, no controls) as a slice. */
static size_t token(struct cursor *c, const char **out)
{
	*out = c->p;
	while (c->p < c->end && !strchr("()<>@,;:\\\"/[]?= \t", *c->p) && (unsigned char)*c->p > 0x20)
		c->p++;
	return (size_t)(c->p - *out);
}

static bool slice_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* A parameter value, token or quoted-string (its content between the quotes, escapes left in). */
static size_t param_value(struct cursor *c, const char **out)
{
	if (c->p < c->end && *c->p == '"') {
		*out = ++c->p;
		while (c->p < c->end && *c->p != '"')
			c->p += (*c->p == '\\' && c->p + 1 < c->end) ? 2 : 1;
		size_t n = (size_t)(c->p - *out);
		if (c->p < c->end)
			c->p++;
		return n;
	}
	/* Unquoted: a token, leniently taken up to ";" or white space, since senders write
	 * protocol=application/pgp-signature although "/" calls for quotes (RFC 2045 5.1). */
	*out = c->p;
	while (c->p < c->end && *c->p != ';' && *c->p != ' ' && *c->p != '\t' && *c->p != '"')
		c->p++;
	return (size_t)(c->p - *out);
}

struct ct_params {
	const char *protocol, *smime_type;
	size_t protocol_len, smime_type_len;
};

static void read_params(struct cursor *c, struct ct_params *out)
{
	while (c->p < c->end) {
		const char *semi = memchr(c->p, ';', (size_t)(c->end - c->p));
		if (!semi)
			return;
		c->p = semi + 1;
		skip_ws(c);
		const char *name, *value;
		size_t n = token(c, &name);
		skip_ws(c);
		if (c->p >= c->end || *c->p != '=')
			continue;
		c->p++;
		skip_ws(c);
		size_t v = param_value(c, &value);
		if (slice_is(name, n, "protocol")) {
			out->protocol = value;
			out->protocol_len = v;
		} else if (slice_is(name, n, "smime-type")) {
			out->smime_type = value;
			out->smime_type_len = v;
		}
	}
}

enum mime_protection mime_content_type_protection(const char *value, size_t len)
{
	struct cursor c = {value, value + len};
	const char *type, *sub;
	skip_ws(&c);
	size_t tn = token(&c, &type);
	skip_ws(&c);
	if (c.p >= c.end || *c.p != '/')
		return MIME_UNPROTECTED;
	c.p++;
	skip_ws(&c);
	size_t sn = token(&c, &sub);
	struct ct_params prm = {0};
	read_params(&c, &prm);
	if (slice_is(type, tn, "application") &&
	    (slice_is(sub, sn, "pkcs7-mime") || slice_is(sub, sn, "x-pkcs7-mime"))) {
		if (slice_is(prm.smime_type, prm.smime_type_len, "signed-data"))
			return MIME_SMIME_SIGNED;
		if (slice_is(prm.smime_type, prm.smime_type_len, "certs-only") ||
		    slice_is(prm.smime_type, prm.smime_type_len, "compressed-data"))
			return MIME_UNPROTECTED;
		/* enveloped-data, authEnveloped-data, or none given (RFC 8551 3.2.2) */
		return MIME_SMIME_ENCRYPTED;
	}
	if (!slice_is(type, tn, "multipart"))
		return MIME_UNPROTECTED;
	if (slice_is(sub, sn, "signed")) {
		if (slice_is(prm.protocol, prm.protocol_len, "application/pkcs7-signature") ||
		    slice_is(prm.protocol, prm.protocol_len, "application/x-pkcs7-signature"))
			return MIME_SMIME_SIGNED;
		if (slice_is(prm.protocol, prm.protocol_len, "application/pgp-signature"))
			return MIME_PGP_SIGNED;
	} else if (slice_is(sub, sn, "encrypted") &&
	           slice_is(prm.protocol, prm.protocol_len, "application/pgp-encrypted")) {
		return MIME_PGP_ENCRYPTED;
	}
	return MIME_UNPROTECTED;
}

enum mime_protection mime_header_scan_result(const struct mime_header_scan *s)
{
	if (!s->have_ct && !s->in_ct)
		return MIME_UNPROTECTED;
	return mime_content_type_protection(s->value, s->value_len);
}
