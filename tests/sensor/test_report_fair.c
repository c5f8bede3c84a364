/*
 * test_report_fair.c: `tlsobs report coverage` for every domain (issue 18): configured partners
 * first, then recipient domains, then unattributed servers; --partners; --by day; the per-day cap
 * and what fell off it; a table laid out from its content; and a report reading while a writer
 * holds the database (read-only, WAL: neither waits for the other).
 */
#include "sensor/report/report.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/state/state_db.h"

#define SEC 1000000ull
#define T0 (1795867200ull * SEC) /* 2026-11-28T12:00:00Z */

static char dir[64], db_path[128], cfg_path[128];
static char *out_text, *err_text;
static size_t out_len, err_len;

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_report_fair.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof db_path, "%s/state.db", dir);
	snprintf(cfg_path, sizeof cfg_path, "%s/tlsobs.yaml", dir);
	FILE *f = fopen(cfg_path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "state_db: \"%s\"\n"
	        "policy:\n"
	        "  default_mode: opportunistic\n"
	        "  partners:\n"
	        "    - domain: zeta.example\n"
	        "      mode: enforced\n",
	        db_path);
	fclose(f);
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
	free(out_text);
	free(err_text);
}

TestSuite(report_fair, .init = make_dir, .fini = remove_dir);

static struct state_partner_note note(enum state_attribution kind, const char *name, uint64_t t,
                                      bool encrypted)
{
	struct state_partner_note n = {
	    .kind = kind, .time_us = t, .encrypted = encrypted, .cleartext = !encrypted};
	snprintf(n.partner, sizeof n.partner, "%s", name);
	if (encrypted)
		snprintf(n.tls_version, sizeof n.tls_version, "1.3");
	else {
		snprintf(n.failure, sizeof n.failure, "not_offered");
		n.messages_clear = 3;
		n.messages_protected = 1;
	}
	return n;
}

static void fill(uint64_t cap)
{
	char why[256];
	struct state_db *db = state_db_open(db_path, why, sizeof why);
	cr_assert_not_null(db, "%s", why);
	if (cap)
		state_db_set_day_cap(db, cap);
	struct state_partner_note n[] = {
	    note(STATE_ATTR_UNATTRIBUTED, "198.51.100.9", T0, true),
	    note(STATE_ATTR_DOMAIN, "alpha.example", T0, true),
	    note(STATE_ATTR_DOMAIN, "alpha.example", T0 + 86400 * SEC, false),
	    note(STATE_ATTR_PARTNER, "zeta.example", T0, true),
	    note(STATE_ATTR_DOMAIN, "beta.example", T0, false),
	    note(STATE_ATTR_DOMAIN, "gamma.example", T0, true),
	};
	for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
		cr_assert(state_db_note_partner_session(db, &n[i]));
	cr_assert_geq(state_db_flush(db), 0);
	state_db_close(db);
}

static int report(const char *const *args)
{
	char *argv[16];
	int argc = 0;
	for (; args[argc]; argc++)
		argv[argc] = (char *)args[argc];
	argv[argc] = NULL;
	free(out_text);
	free(err_text);
	FILE *out = open_memstream(&out_text, &out_len), *err = open_memstream(&err_text, &err_len);
	int code = report_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return code;
}

/* The value of "partner" on each JSON line, in order, joined with spaces. */
static const char *names(void)
{
	static char buf[1024];
	buf[0] = '\0';
	for (const char *p = out_text; (p = strstr(p, "{\"partner\":\"")); p++) {
		p += 12;
		size_t n = strcspn(p, "\"");
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%.*s", buf[0] ? " " : "", (int)n, p);
	}
	return buf;
}

Test(report_fair, every_domain_is_listed_partners_first_then_domains_then_unattributed_servers)
{
	fill(0);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--format", "json", NULL}),
	             0, "%s", err_text);
	cr_assert_str_eq(names(), "zeta.example alpha.example beta.example gamma.example 198.51.100.9");
	cr_assert_not_null(strstr(out_text,
	                          "{\"partner\":\"alpha.example\",\"mode\":\"opportunistic\",\"sessions\":2,"
	                          "\"encrypted\":1,\"cleartext\":1,"),
	                   "%s", out_text);
	cr_assert_not_null(strstr(out_text, "\"kind\":\"unattributed\""));
	cr_assert_not_null(
	    strstr(out_text, "\"partner\":\"beta.example\"") &&
	        strstr(out_text, "\"cleartext_messages\":{\"unprotected\":2,\"end_to_end_protected\":1}"),
	    "%s", out_text);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--all-domains",
	                                     "--format", "json", NULL}),
	             0);
	cr_assert_str_eq(names(), "zeta.example alpha.example beta.example gamma.example 198.51.100.9");
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--partners", "--format",
	                                     "json", NULL}),
	             0);
	cr_assert_str_eq(names(), "zeta.example");
}

Test(report_fair, by_day_gives_one_row_per_name_and_utc_day)
{
	fill(0);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--by", "day", "--format",
	                                     "json", NULL}),
	             0, "%s", err_text);
	cr_assert_str_eq(names(),
	                 "zeta.example alpha.example alpha.example beta.example gamma.example 198.51.100.9");
	cr_assert_not_null(strstr(out_text, "\"day\":\"2026-11-29\""));
	cr_assert_not_null(strstr(out_text,
	                          "{\"partner\":\"alpha.example\",\"mode\":\"opportunistic\",\"sessions\":1,"
	                          "\"encrypted\":0,\"cleartext\":1,\"encrypted_share\":0.0000,"
	                          "\"tls_versions\":{},\"failures\":{\"not_offered\":1}"),
	                   "%s", out_text);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--by", "week", NULL}), 2);
}

Test(report_fair, names_past_the_day_cap_are_counted_as_overflow_and_partners_always_kept)
{
	fill(
	    2); /* the 28th: 198.51.100.9 and alpha.example fit; beta and gamma fall off; zeta is a partner */
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--format", "json", NULL}),
	             0, "%s", err_text);
	cr_assert_str_eq(names(), "zeta.example alpha.example 198.51.100.9");
	cr_assert_not_null(strstr(out_text, "{\"kind\":\"overflow\",\"day\":\"2026-11-28\",\"sessions\":2,"
	                                    "\"encrypted\":1,\"cleartext\":1}"),
	                   "%s", out_text);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, NULL}), 0);
	cr_assert_not_null(strstr(out_text, "2026-11-28: 2 sessions (1 encrypted) to domains past "
	                                    "coverage.max_domains_per_day"),
	                   "%s", out_text);
}

Test(report_fair, the_table_takes_its_column_widths_from_the_content)
{
	fill(0);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, NULL}), 0, "%s", err_text);
	/* DOMAIN is as wide as its longest name (13) plus two spaces. */
	cr_assert(strncmp(out_text, "DOMAIN         MODE", 19) == 0, "%s", out_text);
	cr_assert_not_null(strstr(out_text, "\nzeta.example   enforced"), "%s", out_text);
	cr_assert_not_null(strstr(out_text, "\n198.51.100.9   opportunistic"), "%s", out_text);
	const char *rule = strchr(out_text, '\n') + 1;
	cr_assert_eq(*rule, '-');
	size_t longest = 0, rule_len = strcspn(rule, "\n");
	for (const char *l = out_text; *l; l += strcspn(l, "\n") + 1)
		if (strcspn(l, "\n") > longest)
			longest = strcspn(l, "\n");
	cr_assert_eq(rule_len, longest, "the rule spans the widest row:\n%s", out_text);
}

Test(report_fair, a_report_reads_while_a_writer_holds_the_database_and_changes_nothing)
{
	fill(0);
	struct stat before, after;
	cr_assert_eq(stat(db_path, &before), 0);
	/* A sensor's flush in progress: a write transaction open on another connection. */
	sqlite3 *w;
	cr_assert_eq(sqlite3_open(db_path, &w), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(w, "BEGIN IMMEDIATE; UPDATE partner_days SET sessions = sessions + 100;",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--partners", "--format",
	                                     "csv", NULL}),
	             0, "%s", err_text);
	cr_assert_not_null(strstr(out_text, "\nzeta.example,enforced,1,"), "the committed state: %s",
	                   out_text);
	/* The writer was not held back either: it commits while the report's connection is gone or not. */
	cr_assert_eq(sqlite3_exec(w, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(w);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--partners", "--format",
	                                     "csv", NULL}),
	             0, "%s", err_text);
	cr_assert_not_null(strstr(out_text, "\nzeta.example,enforced,101,"), "%s", out_text);
	cr_assert_eq(stat(db_path, &after), 0);
	cr_assert_eq(after.st_size, before.st_size, "no page of the database was written by a report");
}

Test(report_fair, a_database_of_an_older_schema_is_refused_by_a_read_only_report)
{
	sqlite3 *w;
	cr_assert_eq(sqlite3_open(db_path, &w), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(w, "PRAGMA user_version=2; CREATE TABLE t(x);", NULL, NULL, NULL),
	             SQLITE_OK);
	sqlite3_close(w);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, NULL}), 1);
	cr_assert_not_null(strstr(err_text, "run the sensor once on it to migrate"), "%s", err_text);
}
