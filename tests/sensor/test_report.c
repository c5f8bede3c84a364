/*
 * test_report.c: `tlsobs report coverage|certificates` (sensor/report/report.h) over
 * a state database written through state_db's own notes, in a fresh
 * temporary directory, with a configuration file naming it.
 */
#include "sensor/report/report.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/state/state_db.h"

#define SEC 1000000ull
/* 2026-11-28T12:00:00Z */
#define T0 (1795867200ull * SEC)

static char dir[64], db_path[128], cfg_path[128];
static char *out_text, *err_text;
static size_t out_len, err_len;

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_report.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof db_path, "%s/state.db", dir);
	snprintf(cfg_path, sizeof cfg_path, "%s/tlsobs.yaml", dir);
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
	free(out_text);
	free(err_text);
}

TestSuite(report, .init = make_dir, .fini = remove_dir);

static void write_config(const char *state_db)
{
	FILE *f = fopen(cfg_path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "state_db: \"%s\"\n"
	        "policy:\n"
	        "  partners:\n"
	        "    - domain: bank.example\n"
	        "      mode: enforced\n"
	        "    - domain: quiet.example\n"
	        "      mode: opportunistic\n",
	        state_db);
	fclose(f);
}

static struct state_partner_note partner_session(const char *partner, uint64_t t, const char *version,
                                                 const char *failure)
{
	struct state_partner_note n = {
	    .time_us = t, .encrypted = version[0] != '\0', .cleartext = version[0] == '\0'};
	snprintf(n.partner, sizeof n.partner, "%s", partner);
	snprintf(n.tls_version, sizeof n.tls_version, "%s", version);
	snprintf(n.failure, sizeof n.failure, "%s", failure);
	return n;
}

/* bank.example: 3 sessions on 2026-11-28 (two TLS 1.3, one clear after a refusal), one on 11-29 (TLS 1.2);
 * old.example: a domain no longer in the configuration; one certificate per partner. */
static void fill_database(void)
{
	char err[256];
	struct state_db *db = state_db_open(db_path, err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	struct state_partner_note n[] = {
	    partner_session("bank.example", T0, "1.3", ""),
	    partner_session("bank.example", T0 + 60 * SEC, "1.3", ""),
	    partner_session("bank.example", T0 + 120 * SEC, "", "refused"),
	    partner_session("bank.example", T0 + 86400 * SEC, "1.2", ""),
	    partner_session("old.example", T0, "1.2", ""),
	};
	for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
		cr_assert(state_db_note_partner_session(db, &n[i]));
	struct state_cert_note soon = {
	    .not_after = (int64_t)(T0 / SEC) + 10 * 86400 + 3600, .time_us = T0, .server_port = 25};
	memset(soon.sha256, 'A', 64);
	snprintf(soon.subject, sizeof soon.subject, "CN=mx1.bank.example");
	snprintf(soon.sans, sizeof soon.sans, "mx1.bank.example,mx2.bank.example");
	snprintf(soon.issuer, sizeof soon.issuer, "CN=Bank CA, O=\"Bank, Inc.\"");
	snprintf(soon.server_ip, sizeof soon.server_ip, "198.51.100.25");
	snprintf(soon.partner, sizeof soon.partner, "bank.example");
	struct state_cert_note later = soon;
	memset(later.sha256, 'B', 64);
	later.not_after += 300 * 86400;
	later.partner[0] = '\0';
	snprintf(later.subject, sizeof later.subject, "CN=mx.other.example");
	cr_assert(state_db_note_certificate(db, &later));
	cr_assert(state_db_note_certificate(db, &soon));
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

Test(report, coverage_as_json_sums_each_partner_and_lists_quiet_partners_too)
{
	write_config(db_path);
	fill_database();
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--format", "json", NULL}),
	             0, "%s", err_text);
	cr_assert_not_null(strstr(out_text,
	                          "{\"partner\":\"bank.example\",\"mode\":\"enforced\",\"sessions\":4,"
	                          "\"encrypted\":3,\"cleartext\":1,\"encrypted_share\":0.7500,"
	                          "\"tls_versions\":{\"1.3\":2,\"1.2\":1},\"failures\":{\"refused\":1},"
	                          "\"last_failure\":{\"time\":\"2026-11-28T12:02:00.000000Z\","
	                          "\"type\":\"refused\"},\"kind\":\"partner\","
	                          "\"cleartext_messages\":{\"unprotected\":0,\"end_to_end_protected\":0}}\n"),
	                   "%s", out_text);
	cr_assert_not_null(
	    strstr(out_text, "{\"partner\":\"old.example\",\"mode\":\"not_configured\",\"sessions\":1,"));
	cr_assert_not_null(
	    strstr(out_text, "{\"partner\":\"quiet.example\",\"mode\":\"opportunistic\",\"sessions\":0,"
	                     "\"encrypted\":0,\"cleartext\":0,\"encrypted_share\":null,"
	                     "\"tls_versions\":{},\"failures\":{},\"last_failure\":null,\"kind\":\"partner\","
	                     "\"cleartext_messages\":{\"unprotected\":0,\"end_to_end_protected\":0}}\n"),
	    "%s", out_text);
}

Test(report, coverage_since_a_day_counts_that_day_and_later_only)
{
	write_config(db_path);
	fill_database();
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--since", "2026-11-29",
	                                     "--format", "csv", NULL}),
	             0, "%s", err_text);
	cr_assert_str_eq(out_text,
	                 "partner,mode,sessions,encrypted,cleartext,encrypted_percent,tls_versions,failures,"
	                 "last_failure_time,last_failure_type,kind,day,cleartext_messages_unprotected,"
	                 "cleartext_messages_protected\n"
	                 "bank.example,enforced,1,1,0,100.0,1.2=1,,,,partner,,0,0\n"
	                 "quiet.example,opportunistic,0,0,0,,,,,,partner,,0,0\n");
}

Test(report, coverage_as_a_table_reads_as_sentences_of_numbers)
{
	write_config(db_path);
	fill_database();
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, NULL}), 0, "%s", err_text);
	cr_assert(strncmp(out_text, "DOMAIN", 6) == 0, "%s", out_text);
	cr_assert_not_null(strstr(out_text, "1.3 2 (66.7%), 1.2 1 (33.3%)"), "%s", out_text);
	cr_assert_not_null(strstr(out_text, "75.0%"));
	cr_assert_not_null(strstr(out_text, "2026-11-28T12:02:00Z refused"));
}

Test(report, certificates_come_soonest_first_with_days_left_and_partner)
{
	write_config(db_path);
	fill_database();
	cr_assert_eq(report((const char *[]){"report", "certificates", "-c", cfg_path, "--at", "2026-11-28",
	                                     "--format", "json", NULL}),
	             0, "%s", err_text);
	char *first = strstr(out_text, "\"sha256\":\"AAAA"), *second = strstr(out_text, "\"sha256\":\"BBBB");
	cr_assert(first && second && first < second, "%s", out_text);
	/* not_after is 2026-12-08T13:00Z: 10 days and 13 hours after midnight of --at */
	cr_assert_not_null(strstr(out_text, "\"days_left\":10,\"partner\":\"bank.example\""), "%s", out_text);
	cr_assert_not_null(strstr(out_text, "\"sans\":[\"mx1.bank.example\",\"mx2.bank.example\"]"));
	cr_assert_not_null(strstr(out_text, "\"servers\":[{\"ip\":\"198.51.100.25\",\"port\":25}]"));
	cr_assert_not_null(strstr(out_text, "\"days_left\":310,\"first_seen\""), "no partner: no field");
}

Test(report, certificates_as_csv_quote_what_needs_quoting)
{
	write_config(db_path);
	fill_database();
	cr_assert_eq(report((const char *[]){"report", "certificates", "-c", cfg_path, "--at", "2026-12-20",
	                                     "--format", "csv", NULL}),
	             0, "%s", err_text);
	cr_assert_not_null(
	    strstr(out_text, "2026-12-08T13:00:00Z,-12,bank.example,CN=mx1.bank.example,"
	                     "\"mx1.bank.example,mx2.bank.example\",\"CN=Bank CA, O=\"\"Bank, Inc.\"\"\","
	                     "198.51.100.25:25,AAAA"),
	    "%s", out_text);
}

Test(report, a_missing_database_is_a_runtime_error_and_nothing_is_created)
{
	write_config(db_path);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, NULL}), 1);
	cr_assert_not_null(strstr(err_text, "No such file"), "%s", err_text);
	cr_assert_neq(access(db_path, F_OK), 0);
}

Test(report, usage_mistakes_exit_2_with_a_message)
{
	write_config(db_path);
	fill_database();
	cr_assert_eq(report((const char *[]){"report", NULL}), 2);
	cr_assert_eq(report((const char *[]){"report", "inventory", NULL}), 2);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--format", "xml", NULL}),
	             2);
	cr_assert_not_null(strstr(err_text, "--format xml"));
	cr_assert_eq(
	    report((const char *[]){"report", "coverage", "-c", cfg_path, "--since", "2026-13-01", NULL}), 2);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "extra", NULL}), 2);
	write_config("");
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, NULL}), 2);
	cr_assert_not_null(strstr(err_text, "no state_db"), "%s", err_text);
}
