/*
 * fuzz_mta_sts.c: libFuzzer harness for the MTA-STS policy parser and the
 * domain pattern matcher.
 *
 * Input: a policy file. mta_sts_parse() must return 0 or -1; on 0 the policy
 * must hold what the grammar allows (a known mode, max_age within range, every
 * mx NUL-terminated within its slot and a valid pattern), on -1 a zeroed
 * policy and a "line N: " message. Then a few names are matched, and
 * mta_sts_mx_matches must agree with domain_pattern_match over the patterns;
 * a name that matches must be valid. Finally the input's first bytes are used
 * as a pattern and as a name, to reach the matcher with arbitrary strings.
 */
#include "parsers/domain_pattern.h"
#include "parsers/mta_sts.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
    "mail.example.com", "MX.EXAMPLE.NET.", "a.b.example.net", "example.net", "xn--bcher-kva.example", "",
    "localhost",        "mx1.example.com",
};

static void check_policy(const struct mta_sts_policy *p)
{
	if (p->mode != MTA_STS_MODE_NONE && p->mode != MTA_STS_MODE_TESTING &&
	    p->mode != MTA_STS_MODE_ENFORCE)
		abort();
	if (p->max_age > MTA_STS_MAX_AGE || p->mx_count > MTA_STS_MAX_MX)
		abort();
	if (p->mode != MTA_STS_MODE_NONE && p->mx_count == 0)
		abort();
	for (unsigned i = 0; i < p->mx_count; i++) {
		const char *mx = p->mx[i];
		if (memchr(mx, '\0', sizeof p->mx[i]) == NULL)
			abort();
		const char *base = (mx[0] == '*' && mx[1] == '.') ? mx + 2 : mx;
		if (!domain_name_valid(base))
			abort();
	}
}

static void check_matches(const struct mta_sts_policy *p, const char *name)
{
	bool any = false;
	for (unsigned i = 0; i < p->mx_count; i++)
		if (domain_pattern_match(p->mx[i], name))
			any = true;
	if (mta_sts_mx_matches(p, name) != any)
		abort();
	if (any && !domain_name_valid(name))
		abort();
}

/* The input's first bytes as a pattern and as a name against a fixed set. */
static void check_strings(const uint8_t *data, size_t size)
{
	char s[300];
	size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	bool valid = domain_name_valid(s);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (domain_pattern_match(s, names[i]) && !domain_name_valid(names[i]))
			abort();
		if (domain_pattern_match(names[i], s) && !valid)
			abort();
	}
	/* A valid name matches itself, and "*." over it matches "x." before it when that is valid. */
	if (valid && !domain_pattern_match(s, s))
		abort();
	char wild[310], sub[310];
	snprintf(wild, sizeof wild, "*.%s", s);
	snprintf(sub, sizeof sub, "x.%s", s);
	if (valid && domain_name_valid(sub) && !domain_pattern_match(wild, sub))
		abort();
	if (domain_pattern_match(wild, s))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mta_sts_policy policy;
	struct mta_sts_error err;
	int rc = mta_sts_parse((const char *)data, size, &policy, &err);
	if (rc == 0) {
		check_policy(&policy);
		if (err.problem != MTA_STS_OK)
			abort();
	} else if (rc == -1) {
		if (policy.mx_count != 0 || err.problem == MTA_STS_OK || err.line == 0)
			abort();
		if (memchr(err.message, '\0', sizeof err.message) == NULL ||
		    strncmp(err.message, "line ", 5) != 0)
			abort();
		if (mta_sts_problem_str(err.problem) == NULL)
			abort();
	} else {
		abort();
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		check_matches(&policy, names[i]);
	/* A few patterns as names (all 64 against all 64 would slow every run down). */
	for (unsigned i = 0; i < policy.mx_count && i < 4; i++)
		check_matches(&policy, policy.mx[i]);
	check_strings(data, size);
	return 0;
}
