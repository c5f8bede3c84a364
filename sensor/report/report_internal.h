/*
 * report_internal.h: what the report commands share (sensor/report/report.c: command line, certificates;
 * report_coverage.c; report_tlsrpt.c). Not for use outside sensor/report*.c.
 */
#ifndef TLSOBS_REPORT_INTERNAL_H
#define TLSOBS_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "outputs/json_writer.h"
#include "rules/policy.h"
#include "sensor/report/report_table.h"
#include "sensor/config/settings.h"
#include "sensor/state/state_db.h"

enum { REPORT_OK = 0, REPORT_RUNTIME = 1, REPORT_USAGE = 2, REPORT_MAX_SETS = 64 };
enum report_format { FORMAT_TABLE, FORMAT_JSON, FORMAT_CSV };

struct report {
	FILE *out;
	enum report_format format;
	const struct policy *policy;
	bool *partner_seen; /* per configured partner: it had a row from the database */
	int64_t at;         /* certificates: days left are counted from here (seconds since the epoch) */
	struct json_writer json;
	uint64_t rows;
	/* coverage */
	bool partners_only;         /* --partners: configured partners only */
	bool by_day;                /* --by day */
	bool second_pass;           /* the rows of names that are not configured partners */
	struct report_table *table; /* FORMAT_TABLE: rows collected, then laid out */
};

/* What every report command takes alike: -c CONFIG, --set KEY=VALUE and --kafka BROKERS (with -h/--help). */
struct report_source {
	const char *config_path;
	char *sets[REPORT_MAX_SETS];
	size_t nsets;
	const char *kafka;        /* --kafka BROKERS: every sensor's session events instead of state_db */
	int64_t since_s, until_s; /* with --kafka: the sessions that ended in [since_s, until_s) (0: open) */
};
/* An option of a report command that only stores its value: long name and short letter (either may be
 * absent: NULL, 0), where the value goes; a flag (takes no value) stores its text there instead. */
struct report_value_option {
	const char *name;
	char letter;
	const char **value;
	const char *flag;
};
enum { REPORT_MAX_VALUE_OPTIONS = 8 };
/*
 * A command line of value options only, read from argv[first] on: the n own options (at most
 * REPORT_MAX_VALUE_OPTIONS), then -c, --set and -h/--help; no operand may be left. 0: parsed;
 * 1: help, written by help on stdout (the run is done); -1: a usage error, said on err.
 */
int report_parse_values(int argc, char **argv, int first, const struct report_value_option *own, size_t n,
                        struct report_source *src, void (*help)(FILE *out), FILE *err);

/* "YYYY-MM-DD" (UTC midnight) into seconds: 0, or -1 when it is not a calendar date. */
int report_parse_day(const char *text, int64_t *out);
/* RFC 3339 UTC seconds ("2026-11-28T16:01:36Z"), "-" for 0. */
void report_format_time(uint64_t us, char *buf, size_t len);
void report_csv_row(FILE *out, const char *const *fields, size_t n);
/* "ip:port ip:port ..." of the servers a certificate was seen on; with_more adds " (+N more)" when some were
 * left out. Cut at len. */
void report_servers_text(char *buf, size_t len, const struct state_certificate *c, bool with_more);
/* Writes r->json as one line (or says on stderr why not). */
void report_json_line(struct report *r);

/* What a report reads: the configuration's settings and its state database, opened and closed together. */
struct report_kafka;
struct report_input {
	struct sensor_settings *settings;
	struct state_db *db;        /* read-only: state_db; or with --kafka, report_kafka's */
	struct report_kafka *kafka; /* with --kafka */
};
/*
 * Opens *in from the command line's -c, --set and --kafka (report_kafka.h). 0; or REPORT_USAGE /
 * REPORT_RUNTIME with the reason on err and nothing to close.
 */
int report_open(const struct report_source *src, struct report_input *in, FILE *err);
void report_close(struct report_input *in);

/* report_coverage.c */
int report_coverage(struct report *r, struct state_db *db, const char *since);

/* report_tlsrpt.c: `tlsobs report tlsrpt ...` (argv[0] "report", argv[1] "tlsrpt"). */
int report_tlsrpt_main(int argc, char **argv, FILE *out, FILE *err);

#endif
