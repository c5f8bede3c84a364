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

/*
 * What every report command takes alike: -c CONFIG, --set KEY=VALUE and -h/--help (getopt values
 * REPORT_OPT_SET, REPORT_OPT_HELP); a command's own long options start at REPORT_OPT_OWN.
 */
enum { REPORT_OPT_SET = 256, REPORT_OPT_HELP, REPORT_OPT_OWN };
struct report_source {
	const char *config_path;
	char *sets[REPORT_MAX_SETS];
	size_t nsets;
};
/*
 * A getopt_long result none of a report's own cases took: -c, --set, -h/--help, a missing value, an
 * unknown option. 0: taken into *src; 1: help, written by help on stdout (the run is done); -1: an
 * error, said on err.
 */
int report_common_option(int c, struct report_source *src, void (*help)(FILE *out), char **argv, FILE *err);
/* After getopt_long: an operand left over is an error. 0, or -1 (said). */
int report_no_operands(int argc, char **argv, FILE *err);

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

/*
 * The configuration and its state database, opened read-only for a report. 0; or REPORT_USAGE /
 * REPORT_RUNTIME with the reason on err and nothing to free.
 */
int report_open(const char *config_path, char **sets, size_t nsets, struct sensor_settings **settings,
                struct state_db **db, FILE *err);
void report_close(struct sensor_settings *settings, struct state_db *db);

/* report_coverage.c */
int report_coverage(struct report *r, struct state_db *db, const char *since);

/* report_tlsrpt.c: `tlsobs report tlsrpt ...` (argv[0] "report", argv[1] "tlsrpt"). */
int report_tlsrpt_main(int argc, char **argv, FILE *out, FILE *err);

#endif
