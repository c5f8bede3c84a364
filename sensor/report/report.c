/* report.c: the state database, read back for people (table) and programs (json lines, csv). */
#include "sensor/report/report.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parsers/civil_time.h"
#include "outputs/json_writer.h"
#include "rules/policy.h"
#include "sensor/report/report_html.h"
#include "sensor/report/report_internal.h"
#include "sensor/report/report_kafka.h"
#include "sensor/config/secrets.h"
#include "sensor/config/settings_file.h"
#include "sensor/state/state_db.h"

#include "version.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: tlsobs report coverage|certificates [-c CONFIG] [--set KEY=VALUE]...\n"
	    "                     [--since YYYY-MM-DD] [--at YYYY-MM-DD] [--format table|json|csv]\n"
	    "                     [--all-domains | --partners] [--by day]\n"
	    "       tlsobs report tlsrpt -c CONFIG --date YYYY-MM-DD --organization-name NAME\n"
	    "                     --contact-info CONTACT [-o DIR] [--domain D]\n"
	    "\n"
	    "  coverage      per domain, configured partners first, then recipient domains and\n"
	    "                unattributed servers (--all-domains, the default; --partners: partners\n"
	    "                only): mode, sessions, share encrypted, clear-text messages unprotected\n"
	    "                and end-to-end protected, TLS versions, failures by type, last failure\n"
	    "                (days from --since, default all; --by day: one row per UTC day)\n"
	    "  certificates  the certificate inventory, soonest expiry first, with days left\n"
	    "                (counted from --at, default now) and the partner it belongs to\n"
	    "  tlsrpt        RFC 8460 aggregate reports of that UTC day's outbound sessions, one\n"
	    "                gzip JSON file per policy domain in DIR (default .), named as 5.3\n"
	    "  -c CONFIG     the sensor's configuration: its state_db is read (read-only)\n"
	    "                (default: " TLSOBS_DEFAULT_CONFIG " if it exists)\n"
	    "  --format      table (default), json (one object per line) or csv\n"
	    "\n"
	    "       tlsobs report html -c CONFIG -o FILE [--since YYYY-MM-DD] [--at YYYY-MM-DD]\n"
	    "                     one self-contained HTML page with charts (see tlsobs report html -h)\n"
	    "\n"
	    "  --kafka BROKERS  every report: all sensors' session events from Kafka (host:port,...)\n"
	    "                instead of state_db: the topic <kafka.topic_prefix>session of CONFIG, from\n"
	    "                the period's start (--since, --date) to its end, read with kafka.properties\n");
}

int report_parse_day(const char *text, int64_t *out)
{
	struct tm tm = {0};
	const char *end = strptime(text, "%Y-%m-%d", &tm);
	if (!end || *end || strlen(text) != 10)
		return -1;
	int mday = tm.tm_mday;
	time_t t = timegm(&tm);
	struct tm back;
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != mday) /* 2026-02-30 */
		return -1;
	*out = (int64_t)t;
	return 0;
}

void report_format_time(uint64_t us, char *buf, size_t len)
{
	if (us == 0 || civil_time_rfc3339(buf, len, (int64_t)(us / 1000000u)) == 0)
		snprintf(buf, len, "-");
}

/* RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled. */
static void csv_field(FILE *out, const char *v, bool last)
{
	if (strpbrk(v, ",\"\r\n")) {
		fputc('"', out);
		for (; *v; v++) {
			if (*v == '"')
				fputc('"', out);
			fputc(*v, out);
		}
		fputc('"', out);
	} else {
		fputs(v, out);
	}
	fputc(last ? '\n' : ',', out);
}

void report_csv_row(FILE *out, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++)
		csv_field(out, fields[i], i + 1 == n);
}

void report_json_line(struct report *r)
{
	if (json_writer_failed(&r->json)) {
		fprintf(stderr, "tlsobs: report: a row could not be written as JSON\n");
		return;
	}
	fwrite(r->json.buf, 1, r->json.len, r->out);
	fputc('\n', r->out);
}

/* ---- certificates ---- */

void report_servers_text(char *buf, size_t len, const struct state_certificate *c, bool with_more)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < c->n_servers && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s:%u", i ? " " : "", c->servers[i].ip,
		                 c->servers[i].port);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (with_more && c->servers_total > c->n_servers && used < len)
		snprintf(buf + used, len - used, " (+%" PRIu64 " more)", c->servers_total - c->n_servers);
}

static int certificate_row(void *ctx, const struct state_certificate *c)
{
	struct report *r = ctx;
	int64_t left = c->not_after - r->at;
	/* Whole days left, rounded down: a certificate ending in 5 hours has 0 days, an expired one < 0. */
	int64_t days = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
	char not_after[32], first[32], last[32], servers[1024], days_s[24];
	report_format_time((uint64_t)(c->not_after > 0 ? c->not_after : 0) * 1000000u, not_after,
	                   sizeof not_after);
	report_format_time(c->first_seen_us, first, sizeof first);
	report_format_time(c->last_seen_us, last, sizeof last);
	snprintf(days_s, sizeof days_s, "%" PRId64, days);
	const char *partner = c->partner && c->partner[0] ? c->partner : "";
	r->rows++;
	if (r->format == FORMAT_TABLE) {
		report_servers_text(servers, sizeof servers, c, true);
		fprintf(r->out, "%-20s %6s  %-22s %-44s %-40s %s\n", not_after, days_s,
		        partner[0] ? partner : "-", c->subject, c->issuer, servers);
	} else if (r->format == FORMAT_CSV) {
		report_servers_text(servers, sizeof servers, c, false);
		const char *fields[] = {not_after, days_s,  partner,   c->subject, c->sans,
		                        c->issuer, servers, c->sha256, first,      last};
		report_csv_row(r->out, fields, sizeof fields / sizeof fields[0]);
	} else {
		struct json_writer *w = &r->json;
		json_writer_reset(w);
		json_object_begin(w);
		json_field_cstring(w, "sha256", c->sha256);
		json_field_cstring(w, "subject", c->subject);
		json_key(w, "sans");
		json_array_begin(w);
		for (const char *p = c->sans; *p;) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			json_string(w, p, n);
			p += n + (comma ? 1 : 0);
		}
		json_array_end(w);
		json_field_cstring(w, "issuer", c->issuer);
		json_key(w, "not_after");
		json_time_us(w, (uint64_t)(c->not_after > 0 ? c->not_after : 0) * 1000000u);
		json_key(w, "days_left");
		json_int(w, days);
		if (partner[0])
			json_field_cstring(w, "partner", partner);
		json_key(w, "first_seen");
		json_time_us(w, c->first_seen_us);
		json_key(w, "last_seen");
		json_time_us(w, c->last_seen_us);
		json_key(w, "servers");
		json_array_begin(w);
		for (size_t i = 0; i < c->n_servers; i++) {
			json_object_begin(w);
			json_field_cstring(w, "ip", c->servers[i].ip);
			json_field_uint(w, "port", c->servers[i].port);
			json_object_end(w);
		}
		json_array_end(w);
		json_field_uint(w, "servers_total", c->servers_total);
		json_object_end(w);
		report_json_line(r);
	}
	return 0;
}

static int report_certificates(struct report *r, struct state_db *db)
{
	if (r->format == FORMAT_TABLE)
		fprintf(r->out, "%-20s %6s  %-22s %-44s %-40s %s\n", "NOT AFTER", "DAYS", "PARTNER",
		        "SUBJECT", "ISSUER", "SERVERS");
	else if (r->format == FORMAT_CSV)
		fputs("not_after,days_left,partner,subject,sans,issuer,servers,sha256,first_seen,last_seen\n",
		      r->out);
	return state_db_certificates_by_expiry(db, certificate_row, r);
}

/* ---- command line ---- */

/* getopt_long values of the long options every command has; a command's own start at REPORT_OPT_OWN. */
enum { REPORT_OPT_SET = 256, REPORT_OPT_HELP, REPORT_OPT_KAFKA, REPORT_OPT_OWN };

struct report_options {
	const char *what, *since, *at, *format_name, *by, *domains;
	struct report_source src;
	enum report_format format;
	bool partners_only, by_day;
};

/* --format's names, as the usage says them. */
static const struct {
	const char *name;
	enum report_format format;
} format_names[] = {{"table", FORMAT_TABLE}, {"json", FORMAT_JSON}, {"csv", FORMAT_CSV}};

/* --format, --by and --all-domains/--partners (the last one given wins) into *o: 0, or -1 (said). */
static int settle_options(struct report_options *o, FILE *err)
{
	o->partners_only = o->domains && strcmp(o->domains, "partners") == 0;
	if (o->by && strcmp(o->by, "day") != 0) {
		fprintf(err, "tlsobs: report: --by %s: only --by day\n", o->by);
		return -1;
	}
	o->by_day = o->by != NULL;
	if (!o->format_name)
		return 0;
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
		if (strcmp(o->format_name, format_names[i].name) == 0) {
			o->format = format_names[i].format;
			return 0;
		}
	fprintf(err, "tlsobs: report: --format %s: expected table, json or csv\n", o->format_name);
	return -1;
}

static int parse_report_options(int argc, char **argv, struct report_options *o, FILE *err)
{
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
			usage(stdout);
			return 1;
		}
		fprintf(err, "tlsobs: report: say which: coverage, certificates, tlsrpt or html (see tlsobs "
		             "report -h)\n");
		return -1;
	}
	o->what = argv[1];
	if (strcmp(o->what, "coverage") != 0 && strcmp(o->what, "certificates") != 0) {
		fprintf(err, "tlsobs: report: unknown report '%s': coverage, certificates, tlsrpt or html\n",
		        o->what);
		return -1;
	}
	const struct report_value_option own[] = {
	    {"since", 0, &o->since, NULL},          {"at", 0, &o->at, NULL},
	    {"format", 0, &o->format_name, NULL},   {"by", 0, &o->by, NULL},
	    {"all-domains", 0, &o->domains, "all"}, {"partners", 0, &o->domains, "partners"},
	};
	int rc = report_parse_values(argc, argv, 2, own, sizeof own / sizeof own[0], &o->src, usage, err);
	return rc != 0 ? rc : settle_options(o, err);
}

/*
 * A getopt_long result none of a command's own options took: -c, --set, -h/--help, a missing value, an
 * unknown option. 0: taken into *src; 1: help, written by help on stdout (the run is done); -1: an error,
 * said on err.
 */
static int common_option(int c, struct report_source *src, void (*help)(FILE *out), char **argv, FILE *err)
{
	switch (c) {
	case 'h':
	case REPORT_OPT_HELP:
		help(stdout);
		return 1;
	case 'c':
		src->config_path = optarg;
		return 0;
	case REPORT_OPT_KAFKA:
		src->kafka = optarg;
		return 0;
	case REPORT_OPT_SET:
		if (src->nsets == REPORT_MAX_SETS) {
			fprintf(err, "tlsobs: report: --set given more than %d times\n", REPORT_MAX_SETS);
			return -1;
		}
		src->sets[src->nsets++] = optarg;
		return 0;
	case ':':
		fprintf(err, "tlsobs: report: %s needs a value\n", argv[optind - 1]);
		return -1;
	default:
		fprintf(err, "tlsobs: report: unknown option '%s'\n", argv[optind - 1]);
		return -1;
	}
}

/* After getopt_long: an operand left over is an error. 0, or -1 (said). */
static int no_operands(int argc, char **argv, FILE *err)
{
	if (optind < argc) {
		fprintf(err, "tlsobs: report: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* The getopt_long value of own option i: its letter, or REPORT_OPT_OWN + i for a long-only one. */
static int value_option_code(const struct report_value_option *own, size_t i)
{
	return own[i].letter ? own[i].letter : REPORT_OPT_OWN + (int)i;
}

int report_parse_values(int argc, char **argv, int first, const struct report_value_option *own, size_t n,
                        struct report_source *src, void (*help)(FILE *out), FILE *err)
{
	struct option longopts[REPORT_MAX_VALUE_OPTIONS + 4] = {
	    {"set", required_argument, NULL, REPORT_OPT_SET},
	    {"help", no_argument, NULL, REPORT_OPT_HELP},
	    {"kafka", required_argument, NULL, REPORT_OPT_KAFKA},
	};
	char shorts[2 * REPORT_MAX_VALUE_OPTIONS + 8] = ":c:h";
	size_t nlong = 3, nshort = strlen(shorts);
	for (size_t i = 0; i < n && i < REPORT_MAX_VALUE_OPTIONS; i++) {
		if (own[i].name)
			longopts[nlong++] =
			    (struct option){own[i].name, own[i].flag ? no_argument : required_argument, NULL,
			                    value_option_code(own, i)};
		if (own[i].letter) {
			shorts[nshort++] = own[i].letter;
			if (!own[i].flag)
				shorts[nshort++] = ':';
		}
	}
	optind = first;
	opterr = 0;
	int c, rc;
	while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		size_t i = 0;
		while (i < n && c != value_option_code(own, i))
			i++;
		if (i < n)
			*own[i].value = own[i].flag ? own[i].flag : optarg;
		else if ((rc = common_option(c, src, help, argv, err)) != 0)
			return rc;
	}
	return no_operands(argc, argv, err);
}

/* --kafka: the period's session events into a temporary database (report_kafka.h). */
static int open_kafka(const struct report_source *src, struct report_input *in, FILE *err)
{
	char why[512];
	if (secrets_resolve(in->settings, why, sizeof why) != 0) {
		fprintf(err, "tlsobs: report: %s\n", why);
		return REPORT_USAGE;
	}
	in->kafka = report_kafka_load(src->kafka, in->settings, src->since_s, src->until_s, err);
	if (!in->kafka)
		return REPORT_RUNTIME;
	in->db = report_kafka_db(in->kafka);
	const struct report_kafka_stats *st = report_kafka_stats(in->kafka);
	fprintf(err,
	        "tlsobs: report: kafka: %" PRIu64 " messages, %" PRIu64 " sessions of the period (%" PRIu64
	        " outside it, %" PRIu64 " other events, %" PRIu64 " malformed, %" PRIu64
	        " fields cut, %" PRIu64 " notes lost)\n",
	        st->messages, st->sessions, st->outside, st->skipped, st->malformed, st->fields_cut,
	        st->notes_lost);
	return REPORT_OK;
}

/* The sensor's state_db, read-only. */
static int open_state_db(const char *config_path, struct report_input *in, FILE *err)
{
	const struct sensor_settings *settings = in->settings;
	if (!settings->state_db[0]) {
		fprintf(err, "tlsobs: report: the configuration names no state_db (%s)\n",
		        config_path ? config_path : "give -c CONFIG");
		return REPORT_USAGE;
	}
	if (access(settings->state_db, R_OK) != 0) {
		/* A report reads what the sensor wrote: a missing file is a mistake, not an empty database to
		 * create. */
		fprintf(err, "tlsobs: report: state_db %s: %s\n", settings->state_db, strerror(errno));
		return REPORT_RUNTIME;
	}
	/* Read-only, WAL, busy timeout: a running sensor goes on writing while the report reads. */
	char why[512];
	if (!(in->db = state_db_open_readonly(settings->state_db, why, sizeof why))) {
		fprintf(err, "tlsobs: report: state_db: %s\n", why);
		return REPORT_RUNTIME;
	}
	return REPORT_OK;
}

int report_open(const struct report_source *src, struct report_input *in, FILE *err)
{
	*in = (struct report_input){0};
	struct sensor_settings *settings = calloc(1, sizeof *settings);
	if (!settings)
		return REPORT_RUNTIME;
	const char *config_path = src->config_path;
	if (!config_path && access(TLSOBS_DEFAULT_CONFIG, F_OK) == 0)
		config_path = TLSOBS_DEFAULT_CONFIG; /* as the sensor: the installed configuration */
	if (settings_from_file(config_path, src->sets, src->nsets, settings, err) != 0) {
		free(settings);
		return REPORT_USAGE;
	}
	in->settings = settings;
	int code = src->kafka ? open_kafka(src, in, err) : open_state_db(config_path, in, err);
	if (code != REPORT_OK) {
		report_close(in);
		*in = (struct report_input){0};
	}
	return code;
}

void report_close(struct report_input *in)
{
	if (in->kafka)
		report_kafka_free(in->kafka); /* its db with it */
	else
		state_db_close(in->db);
	settings_free(in->settings);
	free(in->settings);
}

int report_main(int argc, char **argv, FILE *out, FILE *err)
{
	if (argc >= 2 && strcmp(argv[1], "html") == 0)
		return report_html_main(argc - 1, argv + 1, err);
	if (argc >= 2 && strcmp(argv[1], "tlsrpt") == 0)
		return report_tlsrpt_main(argc, argv, out, err);
	struct report_options o = {0};
	int parsed = parse_report_options(argc, argv, &o, err);
	if (parsed != 0)
		return parsed > 0 ? REPORT_OK : REPORT_USAGE;
	int64_t since_s = 0, at = (int64_t)time(NULL);
	if (o.since && report_parse_day(o.since, &since_s) != 0) {
		fprintf(err, "tlsobs: report: --since %s: expected a date like 2026-11-01\n", o.since);
		return REPORT_USAGE;
	}
	if (o.at && report_parse_day(o.at, &at) != 0) {
		fprintf(err, "tlsobs: report: --at %s: expected a date like 2026-11-01\n", o.at);
		return REPORT_USAGE;
	}
	/* --kafka: coverage from --since on; the certificates of all the topic keeps */
	o.src.since_s = strcmp(o.what, "coverage") == 0 ? since_s : 0;
	struct report_input in;
	int code = report_open(&o.src, &in, err);
	if (code != REPORT_OK)
		return code;
	struct report r = {.out = out,
	                   .format = o.format,
	                   .policy = &in.settings->policy,
	                   .at = at,
	                   .partners_only = o.partners_only,
	                   .by_day = o.by_day};
	r.partner_seen = calloc(in.settings->policy.n_partners + 1, sizeof *r.partner_seen);
	json_writer_init(&r.json, 4096);
	int rc = -1;
	if (r.partner_seen)
		rc = strcmp(o.what, "coverage") == 0 ? report_coverage(&r, in.db, o.since)
		                                     : report_certificates(&r, in.db);
	if (rc != 0) {
		fprintf(err, "tlsobs: report: state_db %s: %s\n", in.settings->state_db,
		        r.partner_seen ? state_db_error(in.db) : "out of memory");
		code = REPORT_RUNTIME;
	} else if (fflush(out) != 0 || ferror(out)) {
		fprintf(err, "tlsobs: report: cannot write the report: %s\n", strerror(errno));
		code = REPORT_RUNTIME;
	}
	json_writer_release(&r.json);
	free(r.partner_seen);
	report_close(&in);
	return code;
}
