/*
 * policy.c: partner attribution, in the order policy.h gives.
 *
 * Names from the wire (domains in MAIL FROM / RCPT TO, greeting hosts, SNI,
 * certificate names) are bounded strings in the observation; comparison is
 * ASCII case-insensitive and ignores one trailing dot, as in DNS.
 */
#include "rules/policy.h"
#include "parsers/civil_time.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const mode_names[] = {
    [POLICY_MODE_ENFORCED] = "enforced",
    [POLICY_MODE_OPPORTUNISTIC] = "opportunistic",
    [POLICY_MODE_NONE] = "none",
};

const char *policy_mode_str(enum policy_mode m)
{
	return (unsigned)m < sizeof mode_names / sizeof mode_names[0] ? mode_names[m] : "none";
}

int policy_mode_parse(const char *text, enum policy_mode *out)
{
	for (unsigned m = 0; m < sizeof mode_names / sizeof mode_names[0]; m++)
		if (strcmp(text, mode_names[m]) == 0) {
			*out = (enum policy_mode)m;
			return 0;
		}
	return -1;
}

void policy_clear(struct policy *p)
{
	if (!p)
		return;
	free(p->partners);
	p->partners = NULL;
	p->n_partners = 0;
	free(p->mta_sts);
	p->mta_sts = NULL;
	p->n_mta_sts = 0;
	tlsa_set_free(p->tlsa);
	p->tlsa = NULL;
}

/* Length of a name without one trailing dot. */
static size_t name_len(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

/* True when name is domain or a name below it ("mx.bank.example" under "bank.example"). */
static bool in_domain(const char *name, const char *domain)
{
	size_t n = name_len(name), d = name_len(domain);
	if (d == 0 || n < d || strncasecmp(name + n - d, domain, d) != 0)
		return false;
	return n == d || name[n - d - 1] == '.';
}

/* The domain of "domain" or "user@domain" (keep_local_parts). */
static const char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at ? at + 1 : address;
}

static const struct partner_policy *by_domain(const struct policy *p, const char *address)
{
	const char *d = domain_of(address);
	if (!*d)
		return NULL;
	for (size_t i = 0; i < p->n_partners; i++)
		if (in_domain(d, p->partners[i].domain))
			return &p->partners[i];
	return NULL;
}

const struct mta_sts_policy *policy_mta_sts_find(const struct policy *p, const char *domain)
{
	size_t n = domain ? name_len(domain) : 0;
	if (!p || n == 0)
		return NULL;
	for (size_t i = 0; i < p->n_mta_sts; i++)
		if (strlen(p->mta_sts[i].domain) == n && strncasecmp(p->mta_sts[i].domain, domain, n) == 0)
			return &p->mta_sts[i].sts;
	return NULL;
}

/*
 * Whether a server name belongs to the partner: its mx patterns when it has any (they are the operator's
 * word); without them, a name under its own domain, or one its MTA-STS policy's mx patterns allow
 * (RFC 8461 4.1), so that a partner's encrypted sessions count for it as much as its clear-text ones.
 */
static bool server_name_of(const struct policy *p, const struct partner_policy *pp, const char *host)
{
	if (pp->n_mx > 0) {
		for (size_t j = 0; j < pp->n_mx; j++)
			if (domain_pattern_match(pp->mx[j], host))
				return true;
		return false;
	}
	if (in_domain(host, pp->domain))
		return true;
	const struct mta_sts_policy *sts = policy_mta_sts_find(p, pp->domain);
	return sts && mta_sts_mx_matches(sts, host);
}

static const struct partner_policy *by_mx(const struct policy *p, const char *host)
{
	if (!host || !*host)
		return NULL;
	for (size_t i = 0; i < p->n_partners; i++)
		if (server_name_of(p, &p->partners[i], host))
			return &p->partners[i];
	return NULL;
}

static const struct partner_policy *by_greeting(const struct policy *p, const char *line)
{
	char host[SMTP_NAME_MAX];
	return smtp_greeting_host(line, host, sizeof host) == 0 ? by_mx(p, host) : NULL;
}

static const struct partner_policy *by_certificate(const struct policy *p,
                                                   const struct session_certificate *c)
{
	if (!c->parsed)
		return NULL;
	unsigned sans = c->leaf.san_count < X509_MAX_SANS ? c->leaf.san_count : X509_MAX_SANS;
	for (unsigned i = 0; i < sans; i++) {
		const struct partner_policy *pp = by_mx(p, c->leaf.san_dns[i]);
		if (pp)
			return pp;
	}
	/* RFC 6125 6.4.4: the CN counts only when there are no DNS SANs. */
	return sans == 0 ? by_mx(p, c->leaf.subject_cn) : NULL;
}

static const struct partner_policy *by_network(const struct policy *p, const struct ip_addr *a)
{
	for (size_t i = 0; i < p->n_partners; i++)
		for (size_t j = 0; j < p->partners[i].n_networks; j++)
			if (ip_network_contains(&p->partners[i].networks[j], a))
				return &p->partners[i];
	return NULL;
}

static const struct partner_policy *by_smtp(const struct policy *p, const struct smtp_observation *m,
                                            enum session_partner_match *match)
{
	const struct partner_policy *pp = NULL;
	unsigned rcpts =
	    m->rcpt_domain_count < SMTP_MAX_RCPT_DOMAINS ? m->rcpt_domain_count : SMTP_MAX_RCPT_DOMAINS;
	for (unsigned i = 0; i < rcpts && !pp; i++)
		pp = by_domain(p, m->rcpt_domains[i]);
	if (pp) {
		*match = SESSION_MATCH_RCPT_DOMAIN;
		return pp;
	}
	if ((pp = by_domain(p, m->mail_from_domain))) {
		*match = SESSION_MATCH_MAIL_FROM_DOMAIN;
		return pp;
	}
	if ((pp = by_greeting(p, m->banner))) {
		*match = SESSION_MATCH_BANNER;
		return pp;
	}
	if (m->caps.seen && (pp = by_greeting(p, m->caps.raw))) {
		*match = SESSION_MATCH_EHLO_GREETING;
		return pp;
	}
	return NULL;
}

const struct partner_policy *policy_attribute(const struct policy *p, const struct session *s,
                                              enum session_partner_match *match)
{
	enum session_partner_match how = SESSION_MATCH_NONE;
	const struct partner_policy *pp = NULL;
	if (p && p->n_partners > 0) {
		if (s->smtp)
			pp = by_smtp(p, s->smtp, &how);
		if (!pp && s->tls && s->tls->client_hello_seen && (pp = by_mx(p, s->tls->ch.sni)))
			how = SESSION_MATCH_SNI;
		if (!pp && (pp = by_certificate(p, &s->certificate)))
			how = SESSION_MATCH_CERTIFICATE;
		if (!pp && (pp = by_network(p, &s->server.ip)))
			how = SESSION_MATCH_NETWORK;
	}
	if (match)
		*match = pp ? how : SESSION_MATCH_NONE;
	return pp;
}

void policy_attribute_session(const struct policy *p, struct session *s)
{
	s->partner = policy_attribute(p, s, &s->partner_match);
	enum policy_mode m = s->partner ? s->partner->mode : p ? p->default_mode : POLICY_MODE_OPPORTUNISTIC;
	s->partner_mode = m;
	s->partner_attributed = true;
}

int policy_tls_version_parse(const char *text, uint16_t *out)
{
	static const char *const names[] = {"1.0", "1.1", "1.2", "1.3"};
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(text, names[i]) == 0) {
			*out = (uint16_t)(TLS_VERSION_1_0 + i);
			return 0;
		}
	return -1;
}

/* The number in text[at..at+n), all digits. */
static unsigned digits(const char *text, size_t at, size_t n, bool *ok)
{
	unsigned v = 0;
	for (size_t i = at; i < at + n; i++) {
		if (text[i] < '0' || text[i] > '9')
			*ok = false;
		v = v * 10 + (unsigned)(text[i] - '0');
	}
	return v;
}

int policy_time_parse(const char *text, uint64_t *out_us)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool ok = strlen(text) == 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T' &&
	          text[13] == ':' && text[16] == ':' && text[19] == 'Z';
	if (!ok)
		return -1;
	unsigned y = digits(text, 0, 4, &ok), mo = digits(text, 5, 2, &ok), d = digits(text, 8, 2, &ok);
	unsigned h = digits(text, 11, 2, &ok), mi = digits(text, 14, 2, &ok), sec = digits(text, 17, 2, &ok);
	if (!ok || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    sec > 59)
		return -1;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return -1;
	int64_t days = civil_days_from_date(y, mo, d);
	*out_us = ((uint64_t)days * 86400 + h * 3600u + mi * 60u + sec) * 1000000u;
	return 0;
}
