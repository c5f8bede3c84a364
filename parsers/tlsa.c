/*
 * tlsa.c: TLSA records in zone-file syntax (RFC 6698 2.2, RFC 1035 5.1,
 * RFC 3597 5) and DANE matching (RFC 6698 2.1, RFC 7671 5, RFC 7672 3.1).
 *
 *   _25._tcp.mx1.example.net. 3600 IN TLSA 3 1 1 (
 *           0C72AC70B745AC19998811B131D662C9
 *           AC69DBDBE7CB23E5B514B56664C5D3D6 ) ; a comment
 *   `--------- owner -------' `ttl' `cl' `type' | | | `- certificate association data (hex)
 *                                               | | `- matching type: 0 full, 1 SHA-256, 2 SHA-512
 *                                               | `- selector: 0 certificate, 1 SubjectPublicKeyInfo
 *                                               `- usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE
 *
 * The text is read one physical line at a time (each at most TLSA_LINE_MAX
 * bytes). The tokens of one entry, which ( ) may spread over lines, are slices
 * of the text collected up to TOKEN_MAX, then read as a whole: only then is
 * the type known, so syntax trouble is noted while tokenizing and becomes an
 * error only when the entry turns out to be a TLSA record.
 */
#include "parsers/tlsa.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/digest.h"
#include "parsers/x509.h"

/* Owner, TTL, class, type, three numbers and 1,024 hex digits one a token still fit. */
enum { TOKEN_MAX = 2048, TTL_MAX = 2147483647 /* RFC 2181 8 */, SHA256_LEN = 32, SHA512_LEN = 64 };

struct token {
	const char *p;
	size_t len;
	unsigned line;
	bool quoted;
};

struct tlsa_set {
	struct tlsa_record *records;
	size_t count, cap;
	struct tlsa_stats stats;
};

/* One logical entry, as the tokenizer left it. */
struct entry {
	struct token *tok; /* TOKEN_MAX of them */
	size_t count;
	unsigned line;    /* where it starts */
	bool blank_owner; /* the line starts with a blank: the previous owner (RFC 1035 5.1) */
	bool too_many_tokens, unbalanced, unterminated_quote;
	unsigned depth; /* open '(' */
};

struct parser {
	const char *name;
	struct tlsa_error *err;
	struct tlsa_set *set;
	char origin[TLSA_OWNER_MAX], last_owner[TLSA_OWNER_MAX];
	bool have_origin, have_last_owner;
	struct entry e;
};

__attribute__((format(printf, 3, 4))) static bool fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	if (p->err == NULL)
		return false;
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	p->err->line = line;
	if (line > 0)
		snprintf(p->err->message, sizeof p->err->message, "%s:%u: %s", p->name, line, what);
	else
		snprintf(p->err->message, sizeof p->err->message, "%s: %s", p->name, what);
	return false;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool ends_token(char c)
{
	return is_blank(c) || c == '(' || c == ')' || c == ';' || c == '"';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_case_equal(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

static bool tok_is(const struct token *t, const char *word)
{
	return !t->quoted && t->len == strlen(word) && ascii_case_equal(t->p, word, t->len);
}

static void entry_add(struct entry *e, const char *p, size_t len, unsigned line, bool quoted)
{
	if (e->count == TOKEN_MAX) {
		e->too_many_tokens = true;
		return;
	}
	e->tok[e->count++] = (struct token){p, len, line, quoted};
}

/* Index just past a token from s[i]: to the closing quote, or to a blank or special; "\\x" escapes x. */
static size_t scan(const char *s, size_t i, size_t len, bool quoted)
{
	while (i < len && (quoted ? s[i] != '"' : !ends_token(s[i])))
		i += s[i] == '\\' && len - i >= 2 ? 2 : 1;
	return i;
}

/* Adds the tokens of one physical line s[0..len) to the entry; ';' starts a comment outside quotes. */
static void tokenize_line(struct entry *e, const char *s, size_t len, unsigned line)
{
	size_t i = 0;
	while (i < len && s[i] != ';') {
		if (is_blank(s[i])) {
			i++;
		} else if (s[i] == '(') {
			e->depth++;
			i++;
		} else if (s[i] == ')') {
			if (e->depth == 0)
				e->unbalanced = true;
			else
				e->depth--;
			i++;
		} else if (s[i] == '"') {
			size_t start = i + 1, end = scan(s, start, len, true);
			entry_add(e, s + start, end - start, line, true);
			e->unterminated_quote |= end == len;
			i = end < len ? end + 1 : len;
		} else {
			size_t end = scan(s, i, len, false);
			entry_add(e, s + i, end - i, line, false);
			i = end;
		}
	}
}

/* Labels of 1..63 characters (RFC 1035 2.3.4); "." alone is the root. */
static const char *name_check(const char *name)
{
	if (strcmp(name, ".") == 0)
		return NULL;
	size_t label = 0;
	for (const char *c = name;; c++) {
		if (*c == '.' || *c == '\0') {
			if (label == 0 && !(*c == '\0' && c > name && c[-1] == '.'))
				return "an empty label in a name";
			if (label > 63)
				return "a label longer than 63 characters";
			if (*c == '\0')
				return NULL;
			label = 0;
		} else {
			label++;
		}
	}
}

/* Completes a name with $ORIGIN (RFC 1035 5.1) into out: NULL, or why it cannot be a name. */
static const char *name_complete(const struct parser *p, const struct token *t, char out[TLSA_OWNER_MAX])
{
	if (t->quoted || t->len == 0)
		return "a quoted or empty name";
	for (size_t i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->p[i];
		if (c <= 0x20 || c >= 0x7f)
			return "a control or non-ASCII byte in a name";
		if (c == '\\')
			return "an escape in a name (not supported)";
	}
	if (t->len == 1 && t->p[0] == '@') {
		if (!p->have_origin)
			return "\"@\" with no $ORIGIN before it";
		memcpy(out, p->origin, sizeof p->origin);
		return NULL;
	}
	bool relative = t->p[t->len - 1] != '.' && p->have_origin;
	bool root = strcmp(p->origin, ".") == 0;
	size_t olen = !relative ? 0 : root ? 0 : strlen(p->origin);
	size_t total = t->len + (relative ? 1 : 0) + olen;
	if (total >= TLSA_OWNER_MAX)
		return "a name longer than 255 characters";
	memcpy(out, t->p, t->len);
	if (relative)
		out[t->len] = '.';
	memcpy(out + t->len + (relative ? 1 : 0), p->origin, olen);
	out[total] = '\0';
	return name_check(out);
}

/* A TTL (RFC 1035 5.1): seconds, or BIND's units ("1h30m", "2W"); at most 2^31 - 1 (RFC 2181 8). */
static bool ttl_ok(const struct token *t)
{
	if (t->quoted || t->len == 0 || t->len > 32)
		return false;
	uint64_t total = 0, num = 0;
	bool digits = false;
	for (size_t i = 0; i < t->len; i++) {
		char c = ascii_lower(t->p[i]);
		uint64_t unit = c == 's'   ? 1
		                : c == 'm' ? 60
		                : c == 'h' ? 3600
		                : c == 'd' ? 86400
		                : c == 'w' ? 604800
		                           : 0;
		if (c >= '0' && c <= '9') {
			num = num * 10 + (uint64_t)(c - '0');
			digits = true;
		} else if (unit == 0 || !digits) {
			return false;
		} else {
			total += num * unit;
			num = 0;
			digits = false;
		}
		if (num > TTL_MAX || total > TTL_MAX)
			return false;
	}
	return total + num <= TTL_MAX;
}

/* Whether t is a class (RFC 1035 3.2.4, RFC 3597 5 "CLASSnn"); *in for IN. */
static bool class_of(const struct token *t, bool *in)
{
	*in = tok_is(t, "IN") || tok_is(t, "CLASS1");
	if (*in || tok_is(t, "CH") || tok_is(t, "HS") || tok_is(t, "CS"))
		return true;
	if (t->quoted || t->len <= 5 || t->len > 10 || !ascii_case_equal(t->p, "CLASS", 5))
		return false;
	for (size_t i = 5; i < t->len; i++)
		if (t->p[i] < '0' || t->p[i] > '9')
			return false;
	return true;
}

/* A decimal number up to max, without sign or leading junk; false otherwise. */
static bool number_of(const struct token *t, unsigned max, unsigned *out)
{
	if (t->quoted || t->len == 0 || t->len > 5)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < t->len; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(t->p[i] - '0');
	}
	*out = v;
	return v <= max;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex digits gathered over tokens: whitespace may fall anywhere, even inside a byte. */
struct hex {
	uint8_t *out;
	size_t cap, nibbles;
};

enum hex_result { HEX_OK, HEX_NOT_HEX, HEX_TOO_LONG };

static enum hex_result hex_add(struct hex *h, const struct token *t)
{
	if (t->quoted)
		return HEX_NOT_HEX;
	for (size_t i = 0; i < t->len; i++) {
		int v = hex_value(t->p[i]);
		if (v < 0)
			return HEX_NOT_HEX;
		if (h->nibbles / 2 == h->cap)
			return HEX_TOO_LONG;
		if (h->nibbles % 2 == 0)
			h->out[h->nibbles / 2] = (uint8_t)(v << 4);
		else
			h->out[h->nibbles / 2] |= (uint8_t)v;
		h->nibbles++;
	}
	return HEX_OK;
}

/* The hex tokens t[0..n) into h; false (with the error) on a bad digit, too many or an odd count. */
static bool hex_tokens(struct parser *p, const struct token *t, size_t n, struct hex *h, size_t data_max)
{
	for (size_t k = 0; k < n; k++) {
		enum hex_result r = hex_add(h, &t[k]);
		if (r == HEX_NOT_HEX)
			return fail(p, t[k].line, "TLSA data \"%.*s\" is not hexadecimal",
			            (int)(t[k].len > 40 ? 40 : t[k].len), t[k].p);
		if (r == HEX_TOO_LONG)
			return fail(p, t[k].line, "TLSA data longer than %zu bytes", data_max);
	}
	if (h->nibbles % 2 != 0)
		return fail(p, t[n - 1].line, "TLSA data has an odd number of hex digits");
	return true;
}

/* RFC 3597 5: "\# <length> <hex>", the wire RDATA: usage, selector, matching type, data. */
static bool rdata_generic(struct parser *p, const struct token *t, size_t n, unsigned line,
                          struct tlsa_record *r)
{
	uint8_t wire[3 + TLSA_DATA_MAX];
	struct hex h = {wire, sizeof wire, 0};
	unsigned declared = 0;
	if (n < 2 || !number_of(&t[1], 65535, &declared))
		return fail(p, line, "TLSA \\# needs a length from 0 to 65535");
	if (!hex_tokens(p, t + 2, n - 2, &h, TLSA_DATA_MAX))
		return false;
	if (h.nibbles / 2 != declared)
		return fail(p, line, "TLSA \\# length %u, but %zu bytes follow", declared, h.nibbles / 2);
	if (declared < 4)
		return fail(p, line, "TLSA \\# RDATA shorter than 4 bytes");
	r->usage = wire[0];
	r->selector = wire[1];
	r->matching = wire[2];
	r->data_len = declared - 3u;
	memcpy(r->data, wire + 3, r->data_len);
	return true;
}

/* The RDATA tokens t[0..n) of a TLSA record (RFC 6698 2.2) into r. */
static bool rdata(struct parser *p, const struct token *t, size_t n, unsigned line, struct tlsa_record *r)
{
	static const char *const field[] = {"usage", "selector", "matching type"};
	if (n > 0 && tok_is(&t[0], "\\#"))
		return rdata_generic(p, t, n, line, r);
	if (n < 4)
		return fail(p, line,
		            "TLSA record needs usage, selector, matching type and data, %zu field%s given", n,
		            n == 1 ? "" : "s");
	unsigned v[3];
	for (int k = 0; k < 3; k++)
		if (!number_of(&t[k], 255, &v[k]))
			return fail(p, t[k].line, "TLSA %s \"%.*s\" is not a number from 0 to 255", field[k],
			            (int)(t[k].len > 20 ? 20 : t[k].len), t[k].p);
	r->usage = (uint8_t)v[0];
	r->selector = (uint8_t)v[1];
	r->matching = (uint8_t)v[2];
	struct hex h = {r->data, TLSA_DATA_MAX, 0};
	if (!hex_tokens(p, t + 3, n - 3, &h, TLSA_DATA_MAX))
		return false;
	r->data_len = h.nibbles / 2;
	return true;
}

static bool set_append(struct parser *p, const struct tlsa_record *r, unsigned line)
{
	struct tlsa_set *s = p->set;
	if (s->count == TLSA_MAX_RECORDS)
		return fail(p, line, "more than %d TLSA records", TLSA_MAX_RECORDS);
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		if (cap > TLSA_MAX_RECORDS)
			cap = TLSA_MAX_RECORDS;
		struct tlsa_record *grown = realloc(s->records, cap * sizeof *grown);
		if (grown == NULL)
			return fail(p, line, "out of memory");
		s->records = grown;
		s->cap = cap;
	}
	s->records[s->count++] = *r;
	s->stats.records++;
	return true;
}

/* $ORIGIN changes the names of later records, so a bad one is an error; the rest is counted. */
static bool directive(struct parser *p)
{
	const struct entry *e = &p->e;
	const struct token *d = &e->tok[0];
	if (tok_is(d, "$ORIGIN")) {
		char name[TLSA_OWNER_MAX];
		if (e->count != 2 || e->unbalanced || e->depth > 0 || e->unterminated_quote)
			return fail(p, e->line, "$ORIGIN takes one name");
		const char *why = name_complete(p, &e->tok[1], name);
		if (why != NULL)
			return fail(p, e->line, "$ORIGIN: %s", why);
		if (name[strlen(name) - 1] != '.')
			return fail(p, e->line, "$ORIGIN is relative, with no origin before it");
		memcpy(p->origin, name, sizeof name);
		p->have_origin = true;
	} else if (tok_is(d, "$TTL")) {
		if (e->count != 2 || !ttl_ok(&e->tok[1]))
			p->set->stats.malformed_other++;
	} else {
		p->set->stats.unsupported_directives++;
	}
	return true;
}

/* The entry's owner into owner (NULL), or why there is none; a named owner becomes the one to repeat. */
static const char *owner_of(struct parser *p, char owner[TLSA_OWNER_MAX], size_t *next)
{
	if (p->e.blank_owner) {
		if (!p->have_last_owner)
			return "no owner name, and none before it to repeat";
		memcpy(owner, p->last_owner, TLSA_OWNER_MAX);
		return NULL;
	}
	*next = 1;
	const char *why = name_complete(p, &p->e.tok[0], owner);
	p->have_last_owner = why == NULL;
	if (why == NULL)
		memcpy(p->last_owner, owner, TLSA_OWNER_MAX);
	return why;
}

/* One resource record: [owner] [TTL] [class] type RDATA, TTL and class in either order. */
static bool record(struct parser *p)
{
	struct entry *e = &p->e;
	char owner[TLSA_OWNER_MAX];
	size_t i = 0;
	const char *owner_error = owner_of(p, owner, &i);
	bool seen_ttl = false, seen_class = false, class_in = true, ttl_bad = false;
	while (i < e->count) {
		const struct token *t = &e->tok[i];
		bool in;
		if (!seen_ttl && !t->quoted && t->p[0] >= '0' && t->p[0] <= '9') {
			seen_ttl = true;
			ttl_bad = !ttl_ok(t);
		} else if (!seen_class && class_of(t, &in)) {
			seen_class = true;
			class_in = in;
		} else {
			break;
		}
		i++;
	}
	if (i == e->count) {
		p->set->stats.malformed_other++;
		return true;
	}
	const struct token *type = &e->tok[i++];
	if (!(tok_is(type, "TLSA") || tok_is(type, "TYPE52")) || !class_in) {
		p->set->stats.other_records++;
		return true;
	}
	if (owner_error != NULL)
		return fail(p, e->line, "TLSA owner: %s", owner_error);
	if (ttl_bad)
		return fail(p, e->line, "TLSA TTL is not seconds (or 1h30m style) up to 2147483647");
	if (e->unbalanced)
		return fail(p, e->line, "TLSA record: ')' without '('");
	if (e->depth > 0)
		return fail(p, e->line, "TLSA record: '(' not closed before the end of the file");
	if (e->too_many_tokens)
		return fail(p, e->line, "TLSA record: more than %d fields", TOKEN_MAX);
	struct tlsa_record r;
	memcpy(r.owner, owner, sizeof r.owner);
	return rdata(p, e->tok + i, e->count - i, e->line, &r) && set_append(p, &r, e->line);
}

static bool entry_finish(struct parser *p)
{
	const struct entry *e = &p->e;
	if (e->count == 0) {
		if (e->unbalanced || e->depth > 0)
			p->set->stats.malformed_other++;
		return true;
	}
	if (!e->blank_owner && !e->tok[0].quoted && e->tok[0].p[0] == '$')
		return directive(p);
	if (!record(p))
		return false;
	if (e->unbalanced || e->depth > 0 || e->unterminated_quote || e->too_many_tokens)
		p->set->stats.malformed_other++; /* only reached for other types */
	return true;
}

static void entry_start(struct entry *e, unsigned line, bool blank_owner)
{
	struct token *tok = e->tok;
	*e = (struct entry){.tok = tok, .line = line, .blank_owner = blank_owner};
}

struct tlsa_set *tlsa_parse(const char *text, size_t len, const char *name, struct tlsa_error *err)
{
	struct parser p = {.name = name ? name : "tlsa", .err = err};
	if (err != NULL)
		*err = (struct tlsa_error){0};
	if (len > TLSA_FILE_MAX) {
		fail(&p, 0, "larger than %d bytes", TLSA_FILE_MAX);
		return NULL;
	}
	p.set = calloc(1, sizeof *p.set);
	p.e.tok = malloc(TOKEN_MAX * sizeof *p.e.tok);
	if (p.set == NULL || p.e.tok == NULL) {
		fail(&p, 0, "out of memory");
		goto fail;
	}
	size_t pos = 0;
	unsigned line = 0;
	bool in_entry = false;
	while (pos < len) {
		const char *s = text + pos;
		const char *lf = memchr(s, '\n', len - pos);
		size_t n = lf ? (size_t)(lf - s) : len - pos;
		pos += lf ? n + 1 : n;
		line++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > TLSA_LINE_MAX) {
			fail(&p, line, "line longer than %d bytes", TLSA_LINE_MAX);
			goto fail;
		}
		if (!in_entry)
			entry_start(&p.e, line, n > 0 && is_blank(s[0]));
		tokenize_line(&p.e, s, n, line);
		in_entry = p.e.depth > 0;
		if (!in_entry && !entry_finish(&p))
			goto fail;
	}
	if (in_entry && !entry_finish(&p))
		goto fail;
	free(p.e.tok);
	return p.set;
fail:
	free(p.e.tok);
	tlsa_set_free(p.set);
	return NULL;
}

void tlsa_set_free(struct tlsa_set *s)
{
	if (s == NULL)
		return;
	free(s->records);
	free(s);
}

size_t tlsa_set_count(const struct tlsa_set *s)
{
	return s ? s->count : 0;
}

const struct tlsa_record *tlsa_set_record(const struct tlsa_set *s, size_t i)
{
	return s && i < s->count ? &s->records[i] : NULL;
}

const struct tlsa_stats *tlsa_set_stats(const struct tlsa_set *s)
{
	static const struct tlsa_stats none;
	return s ? &s->stats : &none;
}

/* Length without one trailing dot ("." stays "."). */
static size_t undotted(const char *name, size_t len)
{
	return len > 1 && name[len - 1] == '.' ? len - 1 : len;
}

size_t tlsa_lookup(const struct tlsa_set *s, uint16_t port, const char *mx_host,
                   const struct tlsa_record **out, size_t cap)
{
	if (s == NULL || mx_host == NULL)
		return 0;
	size_t host_len = undotted(mx_host, strnlen(mx_host, TLSA_OWNER_MAX));
	char want[TLSA_OWNER_MAX + 16];
	int n = snprintf(want, sizeof want, "_%u._tcp.%.*s", (unsigned)port, (int)host_len, mx_host);
	if (n < 0 || (size_t)n >= TLSA_OWNER_MAX)
		return 0;
	size_t found = 0;
	for (size_t i = 0; i < s->count; i++) {
		const char *owner = s->records[i].owner;
		if (undotted(owner, strlen(owner)) != (size_t)n || !ascii_case_equal(owner, want, (size_t)n))
			continue;
		if (out != NULL && found < cap)
			out[found] = &s->records[i];
		found++;
	}
	return found;
}

const char *tlsa_match_result_str(enum tlsa_match_result r)
{
	switch (r) {
	case TLSA_MATCH:
		return "match";
	case TLSA_NO_MATCH:
		return "no_match";
	case TLSA_NOT_USABLE:
		return "not_usable";
	}
	return "unknown";
}

/* One certificate seen through one selector; its digests made on first use. */
struct selected {
	bool tried, ok;
	const uint8_t *bytes;
	size_t len;
	uint8_t *owned; /* the SPKI DER */
	char sha256[2 * SHA256_LEN + 1], sha512[2 * SHA512_LEN + 1];
};

enum { MATCH_CHAIN_MAX = X509_MAX_CHAIN };

static bool select_bytes(struct selected *s, unsigned selector, const uint8_t *der, size_t len)
{
	if (s->tried)
		return s->ok;
	s->tried = true;
	if (der == NULL || len == 0)
		return false;
	if (selector == 0) {
		s->bytes = der;
		s->len = len;
		return s->ok = true;
	}
	size_t need = 0;
	x509_spki_der(der, len, NULL, 0, &need);
	if (need == 0 || (s->owned = malloc(need)) == NULL ||
	    x509_spki_der(der, len, s->owned, need, &s->len) != 0)
		return false;
	s->bytes = s->owned;
	return s->ok = true;
}

static bool hex_equals(const char *hex, const uint8_t *data, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	if (strlen(hex) != 2 * n)
		return false; /* also when the hash is unavailable: "" */
	for (size_t i = 0; i < n; i++)
		if (hex[2 * i] != digits[data[i] >> 4] || hex[2 * i + 1] != digits[data[i] & 0x0f])
			return false;
	return true;
}

static bool data_matches(struct selected *s, const struct tlsa_record *r)
{
	switch (r->matching) {
	case 0:
		return s->len == r->data_len && memcmp(s->bytes, r->data, s->len) == 0;
	case 1:
		if (s->sha256[0] == '\0')
			digest_sha256_hex(s->bytes, s->len, s->sha256, true);
		return hex_equals(s->sha256, r->data, r->data_len);
	case 2:
		if (s->sha512[0] == '\0')
			digest_sha512_hex(s->bytes, s->len, s->sha512, true);
		return hex_equals(s->sha512, r->data, r->data_len);
	}
	return false;
}

/*
 * Usable for SMTP (RFC 7672 2.2, 3.1.3): DANE-TA or DANE-EE, a known selector
 * and matching type, and a digest of its hash's length (a shorter one would
 * be a weaker match than the record claims).
 */
static bool record_usable(const struct tlsa_record *r)
{
	if ((r->usage != 2 && r->usage != 3) || r->selector > 1 || r->matching > 2)
		return false;
	return r->matching == 0 ? r->data_len > 0
	                        : r->data_len == (r->matching == 1 ? (size_t)SHA256_LEN : (size_t)SHA512_LEN);
}

enum tlsa_match_result tlsa_match(const struct tlsa_record *const *recs, size_t n,
                                  const uint8_t *const *chain, const size_t *lens, unsigned chain_len,
                                  const char **why)
{
	struct selected seen[MATCH_CHAIN_MAX][2];
	memset(seen, 0, sizeof seen);
	unsigned certs = chain == NULL || lens == NULL ? 0
	                 : chain_len < MATCH_CHAIN_MAX ? chain_len
	                                               : MATCH_CHAIN_MAX;
	enum tlsa_match_result result = TLSA_NOT_USABLE;
	const char *reason = n == 0
	                         ? "no TLSA records"
	                         : "no usable TLSA record: PKIX-TA(0) and PKIX-EE(1) are not for SMTP "
	                           "(RFC 7672 3.1.3), or unknown parameters or a digest of the wrong length";
	bool any_ee = false;
	for (size_t i = 0; i < n && result != TLSA_MATCH; i++) {
		const struct tlsa_record *r = recs ? recs[i] : NULL;
		if (r == NULL || !record_usable(r))
			continue;
		result = TLSA_NO_MATCH;
		any_ee |= r->usage == 3;
		/* DANE-EE: the leaf only; DANE-TA: whatever the server sent above it (RFC 7671 5.2.2). */
		unsigned first = r->usage == 3 ? 0 : 1, end = r->usage == 3 ? (certs > 0 ? 1 : 0) : certs;
		for (unsigned c = first; c < end; c++) {
			struct selected *s = &seen[c][r->selector];
			if (select_bytes(s, r->selector, chain[c], lens[c]) && data_matches(s, r)) {
				result = TLSA_MATCH;
				reason =
				    r->usage == 3
				        ? "a DANE-EE(3) record matches the leaf certificate"
				        : "a DANE-TA(2) record matches a certificate sent above the leaf";
				break;
			}
		}
	}
	if (result == TLSA_NO_MATCH)
		reason = certs == 0 ? "the server sent no certificate"
		         : !any_ee && certs < 2
		             ? "only DANE-TA(2) records, and the server sent no certificate above its leaf"
		             : "no usable TLSA record matches the chain";
	for (unsigned c = 0; c < MATCH_CHAIN_MAX; c++)
		free(seen[c][1].owned);
	if (why != NULL)
		*why = reason;
	return result;
}
