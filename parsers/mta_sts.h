/*
 * mta_sts.h: the MTA-STS policy file (RFC 8461 3.2) and its MX matching (4.1).
 *
 *   version: STSv1\r\n          lines "key:" *WSP value *WSP, ended by CRLF or LF
 *   mode: enforce\r\n           (the last line's ending is optional); keys are
 *   mx: mail.example.com\r\n    case-sensitive; mx may repeat; other keys that
 *   mx: *.example.net\r\n       fit the extension grammar are ignored and
 *   max_age: 604800\r\n         counted; for a repeated non-mx key the first wins.
 *
 * One-shot, not resumable: a policy is a whole HTTPS body, capped at
 * MTA_STS_MAX_FILE bytes, so it is parsed once it is complete. Departures from
 * the ABNF that cannot mislead (blank lines) are tolerated and counted; anything
 * else fails the parse with its problem and 1-based line. Fields missing at the
 * end are reported at the file's last line.
 *
 * Bounds: at most MTA_STS_MAX_MX patterns of at most MTA_STS_MAX_PATTERN bytes,
 * lines of at most MTA_STS_MAX_LINE bytes (ending not counted). `mx` holds only
 * patterns that passed the check: ["*."] LDH name (domain_pattern.h; a trailing
 * dot, outside the ABNF's Domain, is tolerated since matching ignores it).
 */
#ifndef TLSOBS_MTA_STS_H
#define TLSOBS_MTA_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MTA_STS_MAX_MX 64
#define MTA_STS_MAX_PATTERN 253
#define MTA_STS_MAX_LINE 1024
#define MTA_STS_MAX_FILE 65536
#define MTA_STS_MAX_AGE 31557600 /* one year, RFC 8461 3.2 */

enum mta_sts_mode { MTA_STS_MODE_NONE, MTA_STS_MODE_TESTING, MTA_STS_MODE_ENFORCE };

struct mta_sts_policy {
	enum mta_sts_mode mode;
	char mx[MTA_STS_MAX_MX][MTA_STS_MAX_PATTERN + 1]; /* as written, NUL-terminated */
	unsigned mx_count;
	uint64_t max_age;        /* seconds, 0..MTA_STS_MAX_AGE */
	unsigned lines;          /* lines in the file */
	unsigned unknown_keys;   /* extension fields, ignored (3.2) */
	unsigned duplicate_keys; /* repeated version/mode/max_age, ignored after the first */
	unsigned blank_lines;    /* empty or whitespace-only lines, which the ABNF has no room for */
};

/* Why a parse failed. Keep mta_sts_problem_str() in step. */
enum mta_sts_problem {
	MTA_STS_OK,
	MTA_STS_FILE_TOO_LARGE,
	MTA_STS_LINE_TOO_LONG,
	MTA_STS_BAD_LINE,  /* not "key: value": no name, no colon, a control byte */
	MTA_STS_BAD_KEY,   /* name outside (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
	MTA_STS_BAD_VALUE, /* extension value empty or with a control byte */
	MTA_STS_BAD_VERSION,
	MTA_STS_BAD_MODE,
	MTA_STS_BAD_MAX_AGE,
	MTA_STS_BAD_MX,
	MTA_STS_TOO_MANY_MX,
	MTA_STS_MISSING_VERSION,
	MTA_STS_MISSING_MODE,
	MTA_STS_MISSING_MAX_AGE,
	MTA_STS_MISSING_MX, /* mode enforce or testing without an mx */
};

struct mta_sts_error {
	enum mta_sts_problem problem;
	unsigned line;     /* 1-based */
	char message[160]; /* "line N: what is wrong", quoted input made printable and cut short */
};

/*
 * Parses text[0..len) (NUL bytes are just bad bytes). Returns 0 with *out
 * filled, or -1 with *out zeroed and *err filled (err may be NULL).
 */
int mta_sts_parse(const char *text, size_t len, struct mta_sts_policy *out, struct mta_sts_error *err);

/* Whether hostname matches one of the policy's mx patterns (domain_pattern_match). Mode is not looked at. */
bool mta_sts_mx_matches(const struct mta_sts_policy *p, const char *hostname);

const char *mta_sts_mode_str(enum mta_sts_mode m); /* "none", "testing", "enforce" */
const char *
mta_sts_problem_str(enum mta_sts_problem p); /* "ok", "line_too_long", ...; NULL when out of range */

#endif
