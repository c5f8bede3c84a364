/* report_html_data.c: the state database read into memory for the HTML report, with caps (see
 * report_html_data.h). */
#include "sensor/report/report_html_data.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/report/report_internal.h"

struct loader {
	struct report_html_data *d;
	const struct policy *policy;
	int64_t at;
	size_t cap_days, cap_versions, cap_failures, cap_certs;
	size_t last; /* the partner found last: rows come by partner */
	bool oom;
};

static void copy_bounded(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Grows *arr (of *cap elements of size sz) to hold one more, doubling up to limit. false: at the limit or no
 * memory. */
static bool grow(void **arr, size_t *cap, size_t n, size_t sz, size_t limit, bool *oom)
{
	if (n < *cap)
		return true;
	if (n >= limit)
		return false;
	size_t want = *cap ? *cap * 2 : 64;
	if (want > limit)
		want = limit;
	void *p = realloc(*arr, want * sz);
	if (!p) {
		*oom = true;
		return false;
	}
	*arr = p;
	*cap = want;
	return true;
}

int64_t report_html_days_left(int64_t not_after, int64_t at)
{
	int64_t left = not_after - at;
	return left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
}

/* Index of the partner in d->partners, or (size_t)-1 when it is not shown. */
static size_t find_partner(struct loader *l, const char *name)
{
	struct report_html_data *d = l->d;
	if (l->last < d->n_partners && strcmp(d->partners[l->last].total.partner, name) == 0)
		return l->last;
	for (size_t i = 0; i < d->n_partners; i++)
		if (strcmp(d->partners[i].total.partner, name) == 0)
			return l->last = i;
	return (size_t)-1;
}

/* Sets p's totals to a copy of c. -1 when out of memory (p unchanged). */
static int set_total(struct loader *l, struct report_html_partner *p, const struct state_partner_coverage *c)
{
	char *name = strdup(c->partner), *type = strdup(c->last_failure_type ? c->last_failure_type : "");
	if (!name || !type) {
		free(name);
		free(type);
		l->oom = true;
		return -1;
	}
	free((char *)p->total.partner);
	free((char *)p->total.last_failure_type);
	p->total = *c;
	p->total.partner = name;
	p->total.last_failure_type = type;
	return 0;
}

static void add_partner(struct loader *l, const struct state_partner_coverage *c, const char *mode)
{
	struct report_html_data *d = l->d;
	if (d->n_partners == REPORT_HTML_PARTNERS_CAP) {
		d->left_off.partners++;
		return;
	}
	struct report_html_partner *p = &d->partners[d->n_partners];
	*p = (struct report_html_partner){.mode = mode};
	if (set_total(l, p, c) == 0)
		d->n_partners++;
}

static bool is_configured(const struct loader *l, const char *name)
{
	for (size_t i = 0; i < l->policy->n_partners; i++)
		if (strcmp(l->policy->partners[i].domain, name) == 0)
			return true;
	return false;
}

/* A configured partner's totals replace the zeros it was listed with. */
static int configured_row(void *ctx, const struct state_partner_coverage *c)
{
	struct loader *l = ctx;
	size_t i = find_partner(l, c->partner);
	if (i != (size_t)-1 && is_configured(l, c->partner))
		set_total(l, &l->d->partners[i], c);
	return l->oom;
}

static int other_row(void *ctx, const struct state_partner_coverage *c)
{
	struct loader *l = ctx;
	if (!is_configured(l, c->partner))
		add_partner(l, c, "not_configured");
	return l->oom;
}

/* Configured partners first, in configuration order (with zeros when they had no session), then the others.
 */
static int load_partners(struct loader *l, struct state_db *db, const char *since)
{
	for (size_t i = 0; i < l->policy->n_partners && !l->oom; i++) {
		const struct partner_policy *p = &l->policy->partners[i];
		struct state_partner_coverage none = {.partner = p->domain, .last_failure_type = ""};
		add_partner(l, &none, policy_mode_str(p->mode));
	}
	if (l->oom || state_db_partner_coverage(db, since, configured_row, l) != 0 || l->oom)
		return -1;
	if (state_db_partner_coverage(db, since, other_row, l) != 0 || l->oom)
		return -1;
	return 0;
}

static int day_row(void *ctx, const struct state_partner_day *r)
{
	struct loader *l = ctx;
	struct report_html_data *d = l->d;
	size_t p = find_partner(l, r->partner);
	if (p == (size_t)-1)
		return 0; /* a partner left off: counted there */
	if (!grow((void **)&d->days, &l->cap_days, d->n_days, sizeof *d->days, REPORT_HTML_ROWS_CAP,
	          &l->oom)) {
		d->left_off.days++;
		return l->oom;
	}
	struct report_html_day *out = &d->days[d->n_days++];
	out->partner = p;
	copy_bounded(out->day, sizeof out->day, r->day);
	out->sessions = r->sessions;
	out->encrypted = r->encrypted;
	out->cleartext = r->cleartext;
	return 0;
}

struct count_sink {
	struct loader *l;
	struct report_html_count **rows;
	size_t *n, *cap;
	uint64_t *left_off;
};

static int count_row(void *ctx, const char *partner, const char *day, const char *name, uint64_t count)
{
	struct count_sink *s = ctx;
	size_t p = find_partner(s->l, partner);
	if (p == (size_t)-1)
		return 0;
	if (!grow((void **)s->rows, s->cap, *s->n, sizeof **s->rows, REPORT_HTML_ROWS_CAP, &s->l->oom)) {
		(*s->left_off)++;
		return s->l->oom;
	}
	struct report_html_count *out = &(*s->rows)[(*s->n)++];
	out->partner = p;
	copy_bounded(out->day, sizeof out->day, day);
	copy_bounded(out->name, sizeof out->name, name);
	out->count = count;
	return 0;
}

static int cert_row(void *ctx, const struct state_certificate *c)
{
	struct loader *l = ctx;
	struct report_html_data *d = l->d;
	if (!grow((void **)&d->certs, &l->cap_certs, d->n_certs, sizeof *d->certs, REPORT_HTML_CERTS_CAP,
	          &l->oom)) {
		d->left_off.certificates++;
		return l->oom;
	}
	struct report_html_cert *out = &d->certs[d->n_certs];
	*out = (struct report_html_cert){
	    .sha256 = strdup(c->sha256),
	    .subject = strdup(c->subject),
	    .sans = strdup(c->sans),
	    .issuer = strdup(c->issuer),
	    .partner = strdup(c->partner ? c->partner : ""),
	    .not_after = c->not_after,
	    .days_left = report_html_days_left(c->not_after, l->at),
	    .first_seen_us = c->first_seen_us,
	    .last_seen_us = c->last_seen_us,
	    .servers_total = c->servers_total,
	};
	report_servers_text(out->servers, sizeof out->servers, c, false);
	d->n_certs++; /* freed with the rest even when a copy failed */
	if (!out->sha256 || !out->subject || !out->sans || !out->issuer || !out->partner)
		l->oom = true;
	return l->oom;
}

int report_html_data_load(struct report_html_data *out, struct state_db *db, const struct policy *policy,
                          const char *since_day, int64_t at)
{
	*out = (struct report_html_data){0};
	struct loader l = {.d = out, .policy = policy, .at = at};
	out->partners = calloc(REPORT_HTML_PARTNERS_CAP, sizeof *out->partners);
	if (!out->partners) {
		errno = ENOMEM;
		return -1;
	}
	struct count_sink versions = {&l, &out->versions, &out->n_versions, &l.cap_versions,
	                              &out->left_off.versions};
	struct count_sink failures = {&l, &out->failures, &out->n_failures, &l.cap_failures,
	                              &out->left_off.failures};
	errno = 0;
	int rc = load_partners(&l, db, since_day);
	if (rc == 0)
		rc = state_db_partner_days(db, since_day, day_row, &l);
	if (rc == 0 && !l.oom)
		rc = state_db_partner_day_counts(db, since_day, STATE_DAY_VERSIONS, count_row, &versions);
	if (rc == 0 && !l.oom)
		rc = state_db_partner_day_counts(db, since_day, STATE_DAY_FAILURES, count_row, &failures);
	if (rc == 0 && !l.oom)
		rc = state_db_certificates_by_expiry(db, cert_row, &l);
	if (l.oom) {
		errno = ENOMEM;
		return -1;
	}
	return rc;
}

void report_html_data_free(struct report_html_data *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_partners; i++) {
		free((char *)d->partners[i].total.partner);
		free((char *)d->partners[i].total.last_failure_type);
	}
	for (size_t i = 0; i < d->n_certs; i++) {
		struct report_html_cert *c = &d->certs[i];
		free(c->sha256);
		free(c->subject);
		free(c->sans);
		free(c->issuer);
		free(c->partner);
	}
	free(d->partners);
	free(d->days);
	free(d->versions);
	free(d->failures);
	free(d->certs);
	*d = (struct report_html_data){0};
}
