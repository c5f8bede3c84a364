/*
 * report_tlsrpt.c: `tlsobs report tlsrpt` (report_tlsrpt.h), RFC 8460 4 and 5.3.
 *
 *   { "organization-name", "date-range": {"start-datetime", "end-datetime"}, "contact-info",
 *     "report-id", "policies": [ { "policy": {"policy-type", "policy-string", "policy-domain",
 *     "mx-host"}, "summary": {"total-successful-session-count", "total-failure-session-count"},
 *     "failure-details": [ {"result-type", "sending-mta-ip", "receiving-mx-hostname",
 *     "receiving-mx-helo", "receiving-ip", "failed-session-count", "failure-reason-code"} ] } ] }
 */
#include "sensor/report/report_tlsrpt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "parsers/civil_time.h"
#include "parsers/tlsa.h"
#include "sensor/report/gzip_file.h"
#include "sensor/report/report_internal.h"

enum { TLSA_RECORDS_MAX = 16, SMTP_PORT = 25 };

static bool ldh_name(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

int report_tlsrpt_sender(const char *contact_info, char *out, size_t cap)
{
	const char *s = contact_info, *at = strrchr(s, '@'), *start, *end;
	if (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0) {
		start = strstr(s, "//") + 2;
		end = start + strcspn(start, "/:?#");
	} else if (at) {
		start = at + 1;
		end = start + strcspn(start, "?>");
	} else {
		return -1;
	}
	size_t n = (size_t)(end - start);
	if (!ldh_name(start, n) || n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(start[i] >= 'A' && start[i] <= 'Z' ? start[i] - 'A' + 'a' : start[i]);
	out[n] = '\0';
	return 0;
}

int report_tlsrpt_file_name(const struct tlsrpt_meta *m, const char *policy_domain, char *out, size_t cap)
{
	/* end-timestamp: the last second the report covers, as its end-datetime says */
	int n = snprintf(out, cap, "%s!%s!%" PRId64 "!%" PRId64 "!%s.json.gz", m->sender, policy_domain,
	                 m->begin, m->begin + 86399, m->unique_id);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void datetime(struct json_writer *w, const char *key, int64_t t)
{
	char buf[CIVIL_TIME_TEXT_MAX];
	civil_time_rfc3339(buf, sizeof buf, t);
	json_key(w, key);
	json_cstring(w, buf);
}

/* policy-string and mx-host of an MTA-STS policy: its lines as RFC 8461 3.2 writes them (RFC 8460 4.5). */
static void sts_strings(struct json_writer *w, const struct mta_sts_policy *sts)
{
	char line[MTA_STS_MAX_PATTERN + 16];
	json_key(w, "policy-string");
	json_array_begin(w);
	json_cstring(w, "version: STSv1");
	snprintf(line, sizeof line, "mode: %s", mta_sts_mode_str(sts->mode));
	json_cstring(w, line);
	for (unsigned i = 0; i < sts->mx_count; i++) {
		snprintf(line, sizeof line, "mx: %s", sts->mx[i]);
		json_cstring(w, line);
	}
	snprintf(line, sizeof line, "max_age: %" PRIu64, sts->max_age);
	json_cstring(w, line);
	json_array_end(w);
	json_key(w, "mx-host");
	json_array_begin(w);
	for (unsigned i = 0; i < sts->mx_count; i++)
		json_cstring(w, sts->mx[i]);
	json_array_end(w);
}

/* policy-string of a TLSA policy: its records in presentation format (RFC 6698 2.2), mx-host the MX. */
static void tlsa_strings(struct json_writer *w, const struct policy *p, const char *mx)
{
	const struct tlsa_record *recs[TLSA_RECORDS_MAX];
	size_t n = p->tlsa ? tlsa_lookup(p->tlsa, SMTP_PORT, mx, recs, TLSA_RECORDS_MAX) : 0;
	if (n > TLSA_RECORDS_MAX)
		n = TLSA_RECORDS_MAX;
	if (n > 0) {
		json_key(w, "policy-string");
		json_array_begin(w);
		for (size_t i = 0; i < n; i++) {
			char text[8 + 2 * TLSA_DATA_MAX + 1];
			int used = snprintf(text, sizeof text, "%u %u %u ", recs[i]->usage, recs[i]->selector,
			                    recs[i]->matching);
			for (size_t k = 0;
			     k < recs[i]->data_len && used > 0 && (size_t)used + 3 <= sizeof text; k++)
				used += snprintf(text + used, sizeof text - (size_t)used, "%02X",
				                 recs[i]->data[k]);
			json_cstring(w, text);
		}
		json_array_end(w);
	}
	json_key(w, "mx-host");
	json_array_begin(w);
	json_cstring(w, mx);
	json_array_end(w);
}

struct build {
	struct state_db *db;
	const struct policy *policy;
	const char *day, *domain;
	struct json_writer *w;
	unsigned policies;
	int failed;
};

static void field_if(struct json_writer *w, const char *key, const char *v)
{
	if (v[0])
		json_field_cstring(w, key, v);
}

static int failure_detail(void *ctx, const struct state_tlsrpt_failure *f)
{
	struct json_writer *w = ctx;
	json_object_begin(w);
	json_field_cstring(w, "result-type", f->result_type);
	field_if(w, "sending-mta-ip", f->sending_ip);
	field_if(w, "receiving-mx-hostname", f->receiving_mx_hostname);
	field_if(w, "receiving-mx-helo", f->receiving_mx_helo);
	field_if(w, "receiving-ip", f->receiving_ip);
	json_field_uint(w, "failed-session-count", f->count);
	field_if(w, "failure-reason-code", f->reason_code);
	json_object_end(w);
	return 0;
}

static int policy_entry(void *ctx, const struct state_tlsrpt_policy *p)
{
	struct build *b = ctx;
	if (strcmp(p->policy_domain, b->domain) != 0)
		return 0;
	struct json_writer *w = b->w;
	b->policies++;
	json_object_begin(w);
	json_key(w, "policy");
	json_object_begin(w);
	json_field_cstring(w, "policy-type", p->policy_type);
	if (strcmp(p->policy_type, "sts") == 0) {
		const struct mta_sts_policy *sts = policy_mta_sts_find(b->policy, p->policy_domain);
		if (sts)
			sts_strings(w, sts);
	} else if (strcmp(p->policy_type, "tlsa") == 0) {
		tlsa_strings(w, b->policy, p->mx_host);
	}
	json_field_cstring(w, "policy-domain", p->policy_domain);
	json_object_end(w);
	json_key(w, "summary");
	json_object_begin(w);
	json_field_uint(w, "total-successful-session-count", p->successful);
	json_field_uint(w, "total-failure-session-count", p->failed);
	json_object_end(w);
	if (p->failed > 0) {
		json_key(w, "failure-details");
		json_array_begin(w);
		if (state_db_tlsrpt_failures(b->db, b->day, p, failure_detail, w) < 0) {
			b->failed = 1;
			return 1;
		}
		json_array_end(w);
	}
	json_object_end(w);
	return 0;
}

int report_tlsrpt_build(struct state_db *db, const struct policy *p, const struct tlsrpt_meta *m,
                        const char *policy_domain, struct json_writer *w)
{
	json_writer_reset(w);
	json_object_begin(w);
	json_field_cstring(w, "organization-name", m->organization_name);
	json_key(w, "date-range");
	json_object_begin(w);
	datetime(w, "start-datetime", m->begin);
	datetime(w, "end-datetime", m->begin + 86399);
	json_object_end(w);
	json_field_cstring(w, "contact-info", m->contact_info);
	char id[512];
	snprintf(id, sizeof id, "%sT00:00:00Z_%s_%s@%s", m->day, policy_domain, m->unique_id, m->sender);
	json_field_cstring(w, "report-id", id);
	json_key(w, "policies");
	json_array_begin(w);
	struct build b = {.db = db, .policy = p, .day = m->day, .domain = policy_domain, .w = w};
	if (state_db_tlsrpt_policies(db, m->day, policy_entry, &b) < 0 || b.failed)
		return -1;
	json_array_end(w);
	json_object_end(w);
	return 0;
}

/* ---- command line ---- */

struct tlsrpt_options {
	const char *date, *org, *contact, *dir, *domain;
	struct report_source src;
};

static void tlsrpt_usage(FILE *out)
{
	fprintf(out,
	        "usage: tlsobs report tlsrpt -c CONFIG --date YYYY-MM-DD --organization-name NAME\n"
	        "                     --contact-info CONTACT [-o DIR] [--domain D] [--set KEY=VALUE]...\n"
	        "                     [--kafka BROKERS]\n"
	        "\n"
	        "  RFC 8460 aggregate reports of the outbound sessions (network.direction outbound, by\n"
	        "  internal_networks) of one UTC day: one gzip JSON file per policy domain in DIR\n"
	        "  (default .), named sender!policy-domain!begin!end!unique-id.json.gz, the sender\n"
	        "  being the domain of --contact-info. The files written are listed on stdout.\n"
	        "  --kafka BROKERS  all sensors' outbound sessions of that day from Kafka (the topic\n"
	        "                <kafka.topic_prefix>session of CONFIG) instead of state_db\n");
}

static int parse_tlsrpt_options(int argc, char **argv, struct tlsrpt_options *o, FILE *err)
{
	const struct report_value_option own[] = {
	    {NULL, 'o', &o->dir, NULL},
	    {"date", 0, &o->date, NULL},
	    {"organization-name", 0, &o->org, NULL},
	    {"contact-info", 0, &o->contact, NULL},
	    {"domain", 0, &o->domain, NULL},
	};
	int rc =
	    report_parse_values(argc, argv, 2, own, sizeof own / sizeof own[0], &o->src, tlsrpt_usage, err);
	if (rc != 0)
		return rc;
	const char *missing = !o->date                        ? "--date"
	                      : !o->org || !o->org[0]         ? "--organization-name"
	                      : !o->contact || !o->contact[0] ? "--contact-info"
	                                                      : NULL;
	if (missing) {
		fprintf(err, "tlsobs: report tlsrpt: %s is required (see tlsobs report tlsrpt -h)\n",
		        missing);
		return -1;
	}
	return 0;
}

/* The policy domains of the day, in order, each once (owned array of owned strings). */
struct domain_list {
	char **names;
	size_t n, cap;
	const char *only; /* --domain */
	bool oom;
};

static int collect_domain(void *ctx, const struct state_tlsrpt_policy *p)
{
	struct domain_list *l = ctx;
	if ((l->only && strcasecmp(l->only, p->policy_domain) != 0) ||
	    (l->n && strcmp(l->names[l->n - 1], p->policy_domain) == 0))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **grown = realloc(l->names, cap * sizeof *grown);
		if (!grown) {
			l->oom = true;
			return 1;
		}
		l->names = grown;
		l->cap = cap;
	}
	if (!(l->names[l->n] = strdup(p->policy_domain))) {
		l->oom = true;
		return 1;
	}
	l->n++;
	return 0;
}

static int unique_id(char out[REPORT_TLSRPT_ID_LEN + 1])
{
	unsigned char r[REPORT_TLSRPT_ID_LEN / 2];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return -1;
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* Builds and writes each domain's report; the files are listed on out. */
static int write_reports(struct state_db *db, const struct policy *p, const struct tlsrpt_meta *m,
                         const struct domain_list *l, const char *dir, FILE *out, FILE *err)
{
	struct json_writer w;
	json_writer_init(&w, 4096);
	int code = REPORT_OK;
	for (size_t i = 0; i < l->n && code == REPORT_OK; i++) {
		char name[1024], path[4096], why[512];
		if (report_tlsrpt_build(db, p, m, l->names[i], &w) < 0 || json_writer_failed(&w)) {
			fprintf(err, "tlsobs: report tlsrpt: %s: %s\n", l->names[i],
			        json_writer_failed(&w) ? "out of memory" : state_db_error(db));
			code = REPORT_RUNTIME;
		} else if (report_tlsrpt_file_name(m, l->names[i], name, sizeof name) < 0 ||
		           (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
			fprintf(err, "tlsobs: report tlsrpt: %s: file name too long\n", l->names[i]);
			code = REPORT_RUNTIME;
		} else if (gzip_file_write(path, w.buf, w.len, why, sizeof why) < 0) {
			fprintf(err, "tlsobs: report tlsrpt: %s\n", why);
			code = REPORT_RUNTIME;
		} else {
			fprintf(out, "%s\n", path);
		}
	}
	json_writer_release(&w);
	return code;
}

int report_tlsrpt_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct tlsrpt_options o = {.dir = "."};
	int parsed = parse_tlsrpt_options(argc, argv, &o, err);
	if (parsed != 0)
		return parsed > 0 ? REPORT_OK : REPORT_USAGE;
	int64_t begin;
	char sender[256], id[REPORT_TLSRPT_ID_LEN + 1];
	if (report_parse_day(o.date, &begin) != 0) {
		fprintf(err, "tlsobs: report tlsrpt: --date %s: expected a date like 2026-11-01\n", o.date);
		return REPORT_USAGE;
	}
	if (report_tlsrpt_sender(o.contact, sender, sizeof sender) != 0) {
		fprintf(err,
		        "tlsobs: report tlsrpt: --contact-info %s: no domain to name the files by (RFC 8460 "
		        "5.3); "
		        "give an address or an https URI\n",
		        o.contact);
		return REPORT_USAGE;
	}
	if (unique_id(id) != 0) {
		fprintf(err, "tlsobs: report tlsrpt: no random bytes for the report id: %s\n",
		        strerror(errno));
		return REPORT_RUNTIME;
	}
	o.src.since_s = begin; /* --kafka: that UTC day's sessions */
	o.src.until_s = begin + 86400;
	struct report_input in;
	int code = report_open(&o.src, &in, err);
	if (code != REPORT_OK)
		return code;
	struct tlsrpt_meta m = {.organization_name = o.org,
	                        .contact_info = o.contact,
	                        .sender = sender,
	                        .day = o.date,
	                        .begin = begin,
	                        .unique_id = id};
	struct domain_list l = {.only = o.domain};
	if (state_db_tlsrpt_policies(in.db, o.date, collect_domain, &l) < 0 || l.oom) {
		fprintf(err, "tlsobs: report tlsrpt: state_db %s: %s\n", in.settings->state_db,
		        l.oom ? "out of memory" : state_db_error(in.db));
		code = REPORT_RUNTIME;
	} else {
		code = write_reports(in.db, &in.settings->policy, &m, &l, o.dir, out, err);
	}
	if (code == REPORT_OK && (fflush(out) != 0 || ferror(out)))
		code = REPORT_RUNTIME;
	for (size_t i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.names);
	report_close(&in);
	return code;
}
