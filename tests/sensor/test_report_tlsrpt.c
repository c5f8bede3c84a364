/*
 * test_report_tlsrpt.c: `tlsobs report tlsrpt` (RFC 8460) and the day a session counts on.
 *
 * Sessions go through state_sync (the sensor's path to the database) with the time the sensor
 * passes, the session's end; the reports are read back with report_main, the files gunzipped and
 * validated against docs/tlsrpt.schema.json by tests/support/validate_tlsrpt.py.
 */
#include "sensor/report/report.h"
#include "sensor/report/report_tlsrpt.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rules/tlsrpt.h"
#include "sensor/state/state_db.h"
#include "sensor/state/state_sync.h"
#include "test_support.h"

#define SEC 1000000ull
/* 2026-11-28T00:00:00Z */
#define DAY1 1795824000ll
#define DAY2 (DAY1 + 86400)

static char dir[64], db_path[128], cfg_path[128], sts_dir[128], out_dir[128];
static char *out_text, *err_text;
static size_t out_len, err_len;

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_tlsrpt.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof db_path, "%s/state.db", dir);
	snprintf(cfg_path, sizeof cfg_path, "%s/tlsobs.yaml", dir);
	snprintf(sts_dir, sizeof sts_dir, "%s/sts", dir);
	snprintf(out_dir, sizeof out_dir, "%s/out", dir);
	cr_assert_eq(mkdir(sts_dir, 0700), 0);
	cr_assert_eq(mkdir(out_dir, 0700), 0);
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
	free(out_text);
	free(err_text);
}

TestSuite(report_tlsrpt, .init = make_dir, .fini = remove_dir);

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* example.net has an MTA-STS policy; partner example.net configured by domain only. */
static void write_config(void)
{
	char path[256], text[1024];
	snprintf(path, sizeof path, "%s/example.net.txt", sts_dir);
	write_file(path, "version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 86400\n");
	snprintf(text, sizeof text,
	         "state_db: \"%s\"\n"
	         "internal_networks: [\"10.0.0.0/8\"]\n"
	         "policy:\n"
	         "  mta_sts_dir: \"%s\"\n"
	         "  partners:\n"
	         "    - domain: example.net\n"
	         "      mode: enforced\n",
	         db_path, sts_dir);
	write_file(cfg_path, text);
}

struct fake {
	struct session s;
	struct smtp_observation m;
	struct tls_observation t;
};

/* An outbound session from 10.0.0.5 to 198.51.100.25:25 whose banner names `mx`. */
static void make_session(struct fake *f, const char *mx, enum starttls_result r, int64_t start, int64_t end)
{
	memset(f, 0, sizeof *f);
	f->s.client.ip = (struct ip_addr){.family = 4, .bytes = {10, 0, 0, 5}};
	f->s.server.ip = (struct ip_addr){.family = 4, .bytes = {198, 51, 100, 25}};
	f->s.server.port = 25;
	f->s.start_us = (uint64_t)start * SEC;
	f->s.end_us = (uint64_t)end * SEC;
	f->s.direction = SESSION_DIRECTION_OUTBOUND;
	f->s.smtp = &f->m;
	f->s.tls = &f->t;
	f->s.starttls_result = r;
	snprintf(f->m.banner, sizeof f->m.banner, "220 %s ESMTP", mx);
	f->m.caps.seen = true;
	snprintf(f->m.caps.raw, sizeof f->m.caps.raw, "250-%s Hello\n250 STARTTLS", mx);
	if (r == STARTTLS_UPGRADED) {
		f->t.outcome = TLS_OUTCOME_ESTABLISHED;
		f->t.version = 0x0303;
	}
}

/* Feeds the sessions as the sensor does (policy attribution, then state_sync at the session's end). */
static void feed(struct fake *sessions, size_t n)
{
	char why[256];
	struct state_db *db = state_db_open(db_path, why, sizeof why);
	cr_assert_not_null(db, "%s", why);
	struct state_sync *ss = state_sync_new(db, NULL, 0);
	cr_assert_not_null(ss);
	struct policy p = {.default_mode = POLICY_MODE_OPPORTUNISTIC};
	struct partner_policy partner = {.domain = "example.net", .mode = POLICY_MODE_ENFORCED};
	struct policy_mta_sts sts = {.domain = "example.net"};
	const char *text = "version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 86400\n";
	cr_assert_eq(mta_sts_parse(text, strlen(text), &sts.sts, NULL), 0);
	p.partners = &partner;
	p.n_partners = 1;
	p.mta_sts = &sts;
	p.n_mta_sts = 1;
	state_sync_set_policy(ss, &p);
	for (size_t i = 0; i < n; i++) {
		policy_attribute_session(&p, &sessions[i].s);
		state_sync_session(ss, &sessions[i].s, sessions[i].s.end_us);
	}
	cr_assert_geq(state_db_flush(db), 0);
	state_sync_free(ss);
	state_db_close(db);
}

static int report(const char *const *args)
{
	char *argv[24];
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

static int tlsrpt(const char *date)
{
	return report((const char *[]){"report", "tlsrpt", "-c", cfg_path, "--date", date,
	                               "--organization-name", "Example Org", "--contact-info",
	                               "mailto:tlsrpt@reports.example.org", "-o", out_dir, NULL});
}

/* The report file of the domain, gunzipped (caller frees), after the validator passed it. */
static char *report_json(const char *domain)
{
	char cmd[1024], script[512];
	snprintf(script, sizeof script, "%s", test_source_path("tests/support/validate_tlsrpt.py"));
	snprintf(cmd, sizeof cmd, "python3 '%s' '%s' '%s'/*.json.gz", script,
	         test_source_path("docs/tlsrpt.schema.json"), out_dir);
	int rc = system(cmd);
	cr_assert(rc == 0 || WEXITSTATUS(rc) == 77, "the reports do not validate (see above)");
	snprintf(cmd, sizeof cmd, "gzip -dc '%s'/'reports.example.org!%s!'*.json.gz", out_dir, domain);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char *text = calloc(1, 65536);
	size_t n = fread(text, 1, 65535, p);
	cr_assert_eq(pclose(p), 0, "no report for %s", domain);
	cr_assert_gt(n, 0);
	return text;
}

Test(report_tlsrpt, the_sender_is_the_contact_domain)
{
	char s[256];
	cr_assert_eq(report_tlsrpt_sender("mailto:tlsrpt@Reports.Example.org", s, sizeof s), 0);
	cr_assert_str_eq(s, "reports.example.org");
	cr_assert_eq(report_tlsrpt_sender("https://tls.example.org/report?x=1", s, sizeof s), 0);
	cr_assert_str_eq(s, "tls.example.org");
	cr_assert_eq(report_tlsrpt_sender("postmaster@x.example", s, sizeof s), 0);
	cr_assert_str_eq(s, "x.example");
	cr_assert_eq(report_tlsrpt_sender("call us", s, sizeof s), -1);
	cr_assert_eq(report_tlsrpt_sender("a@b!c.example", s, sizeof s), -1, "no '!' in a 5.3 name part");
}

Test(report_tlsrpt, the_file_name_follows_rfc_8460_5_3)
{
	struct tlsrpt_meta m = {
	    .sender = "reports.example.org", .day = "2026-11-28", .begin = DAY1, .unique_id = "00ff"};
	char name[256];
	cr_assert_eq(report_tlsrpt_file_name(&m, "example.net", name, sizeof name), 0);
	cr_assert_str_eq(name, "reports.example.org!example.net!1795824000!1795910399!00ff.json.gz");
	cr_assert_eq(report_tlsrpt_file_name(&m, "example.net", name, 20), -1);
}

Test(report_tlsrpt, one_report_per_policy_domain_counts_every_decided_outbound_session_of_the_day)
{
	write_config();
	struct fake f[6];
	make_session(&f[0], "mx1.example.net", STARTTLS_UPGRADED, DAY1 + 100, DAY1 + 110);
	make_session(&f[1], "mx1.example.net", STARTTLS_UPGRADED, DAY1 + 200, DAY1 + 210);
	make_session(&f[2], "mx1.example.net", STARTTLS_NOT_OFFERED, DAY1 + 300, DAY1 + 310);
	make_session(&f[3], "mx.other.example", STARTTLS_REFUSED, DAY1 + 400, DAY1 + 410);
	make_session(&f[4], "mx.other.example", STARTTLS_INCOMPLETE, DAY1 + 500, DAY1 + 510); /* undecided */
	make_session(&f[5], "mx1.example.net", STARTTLS_UPGRADED, DAY1 + 600, DAY1 + 610);
	f[5].s.direction = SESSION_DIRECTION_INBOUND; /* not ours to report */
	feed(f, 6);
	cr_assert_eq(tlsrpt("2026-11-28"), 0, "%s", err_text);
	cr_assert_not_null(strstr(out_text, "reports.example.org!example.net!1795824000!1795910399!"), "%s",
	                   out_text);
	cr_assert_not_null(strstr(out_text, "reports.example.org!mx.other.example!"), "%s", out_text);
	char *en = report_json("example.net");
	cr_assert_not_null(strstr(en,
	                          "\"organization-name\":\"Example Org\",\"date-range\":{\"start-datetime\":"
	                          "\"2026-11-28T00:00:00Z\",\"end-datetime\":\"2026-11-28T23:59:59Z\"},"
	                          "\"contact-info\":\"mailto:tlsrpt@reports.example.org\",\"report-id\":"),
	                   "%s", en);
	cr_assert_not_null(
	    strstr(en, "{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\","
	               "\"mode: enforce\",\"mx: *.example.net\",\"max_age: 86400\"],\"mx-host\":"
	               "[\"*.example.net\"],\"policy-domain\":\"example.net\"},\"summary\":"
	               "{\"total-successful-session-count\":2,\"total-failure-session-count\":1},"
	               "\"failure-details\":[{\"result-type\":\"starttls-not-supported\","
	               "\"sending-mta-ip\":\"10.0.0.5\",\"receiving-mx-hostname\":\"mx1.example.net\","
	               "\"receiving-mx-helo\":\"mx1.example.net\",\"receiving-ip\":\"198.51.100.25\","
	               "\"failed-session-count\":1,\"failure-reason-code\":"
	               "\"starttls_result=not_offered\"}]}"),
	    "%s", en);
	free(en);
	char *other = report_json("mx.other.example");
	cr_assert_not_null(strstr(other,
	                          "{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
	                          "\"mx.other.example\"},\"summary\":{\"total-successful-session-count\":0,"
	                          "\"total-failure-session-count\":1}"),
	                   "%s", other);
	free(other);
}

Test(report_tlsrpt, a_session_across_midnight_counts_on_the_day_it_ended_in_coverage_and_tlsrpt)
{
	write_config();
	struct fake f[1];
	make_session(&f[0], "mx1.example.net", STARTTLS_UPGRADED, DAY2 - 10, DAY2 + 10);
	feed(f, 1);
	cr_assert_eq(tlsrpt("2026-11-28"), 0, "%s", err_text);
	cr_assert_str_eq(out_text, "", "nothing ended on the 28th");
	cr_assert_eq(tlsrpt("2026-11-29"), 0, "%s", err_text);
	cr_assert_not_null(strstr(out_text, "!example.net!1795910400!1795996799!"), "%s", out_text);
	char *en = report_json("example.net");
	cr_assert_not_null(
	    strstr(en, "\"total-successful-session-count\":1,\"total-failure-session-count\":0"));
	free(en);
	cr_assert_eq(report((const char *[]){"report", "coverage", "-c", cfg_path, "--by", "day", "--format",
	                                     "csv", NULL}),
	             0, "%s", err_text);
	cr_assert_not_null(
	    strstr(out_text, "\nexample.net,enforced,1,1,0,100.0,1.2=1,,,,partner,2026-11-29,0,0\n"), "%s",
	    out_text);
	cr_assert_null(strstr(out_text, "2026-11-28"), "%s", out_text);
}

Test(report_tlsrpt, usage_errors_exit_2_and_name_what_is_missing)
{
	write_config();
	cr_assert_eq(
	    report((const char *[]){"report", "tlsrpt", "-c", cfg_path, "--date", "2026-11-28", NULL}), 2);
	cr_assert_not_null(strstr(err_text, "--organization-name"), "%s", err_text);
	cr_assert_eq(
	    report((const char *[]){"report", "tlsrpt", "-c", cfg_path, "--date", "2026-02-30",
	                            "--organization-name", "O", "--contact-info", "a@b.example", NULL}),
	    2);
	cr_assert_eq(report((const char *[]){"report", "tlsrpt", "-c", cfg_path, "--date", "2026-11-28",
	                                     "--organization-name", "O", "--contact-info", "nobody", NULL}),
	             2);
	cr_assert_not_null(strstr(err_text, "5.3"), "%s", err_text);
}
