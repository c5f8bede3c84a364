/*
 * test_report_html.c: `tlsobs report html` (sensor/report/report_html.h) over a state
 * database written through state_db's notes, in a fresh temporary directory:
 * the page's structure and numbers, hostile names from the wire kept as text,
 * the output file's mode and refusal of a symbolic link, the exit codes, and
 * the data loader's order and caps (sensor/report/report_html_data.h).
 */
#include "sensor/report/report_html.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/report/report.h"
#include "sensor/report/report_html_data.h"
#include "sensor/state/state_db.h"

#define SEC 1000000ull
/* 2026-11-28T12:00:00Z */
#define T0 (1795867200ull * SEC)
#define HOSTILE "</script><img src=x onerror=alert(1)>"

static char dir[64], db_path[128], cfg_path[128], out_path[128];
static char *err_text, *page;
static size_t err_len;

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_report_html.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof db_path, "%s/state.db", dir);
	snprintf(cfg_path, sizeof cfg_path, "%s/tlsobs.yaml", dir);
	snprintf(out_path, sizeof out_path, "%s/report.html", dir);
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
	free(err_text);
	free(page);
}

TestSuite(report_html, .init = make_dir, .fini = remove_dir);

static void write_config(const char *state_db)
{
	FILE *f = fopen(cfg_path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "state_db: \"%s\"\n"
	        "policy:\n"
	        "  partners:\n"
	        "    - domain: quiet.example\n"
	        "      mode: opportunistic\n"
	        "    - domain: bank.example\n"
	        "      mode: enforced\n",
	        state_db);
	fclose(f);
}

static void note_session(struct state_db *db, const char *partner, uint64_t t, const char *version,
                         const char *failure)
{
	struct state_partner_note n = {
	    .time_us = t, .encrypted = version[0] != '\0', .cleartext = version[0] == '\0'};
	snprintf(n.partner, sizeof n.partner, "%s", partner);
	snprintf(n.tls_version, sizeof n.tls_version, "%s", version);
	snprintf(n.failure, sizeof n.failure, "%s", failure);
	cr_assert(state_db_note_partner_session(db, &n));
}

/* bank.example: 2026-11-28 two TLS 1.3 and one clear after a refusal, 11-29 one TLS 1.2; a hostile domain and
 * certificate (names as a peer could send them); one certificate of bank.example, expired. */
static void fill_database(void)
{
	char err[256];
	struct state_db *db = state_db_open(db_path, err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	note_session(db, "bank.example", T0, "1.3", "");
	note_session(db, "bank.example", T0 + 60 * SEC, "1.3", "");
	note_session(db, "bank.example", T0 + 120 * SEC, "", "refused");
	note_session(db, "bank.example", T0 + 86400 * SEC, "1.2", "");
	note_session(db, "evil" HOSTILE ".example", T0, "1.3" HOSTILE, "<b>" HOSTILE);
	struct state_cert_note c = {
	    .not_after = (int64_t)(T0 / SEC) - 3600, .time_us = T0, .server_port = 25};
	memset(c.sha256, 'A', 64);
	snprintf(c.subject, sizeof c.subject, "CN=" HOSTILE ",O=<!-- \xE2\x80\xA8");
	snprintf(c.sans, sizeof c.sans, "mx1.bank.example");
	snprintf(c.issuer, sizeof c.issuer, "CN=Bank CA");
	snprintf(c.server_ip, sizeof c.server_ip, "198.51.100.25");
	snprintf(c.partner, sizeof c.partner, "bank.example");
	cr_assert(state_db_note_certificate(db, &c));
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
	free(err_text);
	FILE *out = fopen("/dev/null", "w"), *err = open_memstream(&err_text, &err_len);
	int code = report_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return code;
}

static void read_page(void)
{
	FILE *f = fopen(out_path, "r");
	cr_assert_not_null(f);
	size_t cap = 1 << 22;
	page = calloc(1, cap + 1);
	cr_assert_not_null(page);
	size_t got = fread(page, 1, cap, f);
	cr_assert(got > 0 && got < cap, "the page is read whole (%zu bytes)", got);
	fclose(f);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

Test(report_html, the_page_holds_a_figure_per_chart_and_the_daily_table_behind_them)
{
	write_config(db_path);
	fill_database();
	cr_assert_eq(report((const char *[]){"report", "html", "-c", cfg_path, "-o", out_path, "--at",
	                                     "2026-11-29", NULL}),
	             0, "%s", err_text);
	read_page();
	/* overview 2, three per partner (quiet, bank, the hostile domain), certificates 2 */
	cr_expect_eq(count(page, "<canvas data-chart="), 2 + 3 * 3 + 2);
	cr_expect_eq(count(page, "<details class=\"daily\" open>"), 3);
	cr_expect_not_null(strstr(page,
	                          "<tr><th scope=\"row\">2026-11-28</th><td class=\"num\">3</td>"
	                          "<td class=\"num\">2</td><td class=\"num\">1</td>"
	                          "<td class=\"num\">66.7&nbsp;%</td><td>1.3 2</td><td>refused 1</td></tr>"));
	cr_expect_not_null(strstr(page, "<tr><th scope=\"row\">2026-11-29</th><td class=\"num\">1</td>"));
	cr_expect_not_null(strstr(page, "[1,\"2026-11-28\",3,2,1]"), "bank.example is partner 1 in the JSON");
	/* configured partners first, in configuration order: quiet.example with nothing, then bank.example */
	char *quiet = strstr(page, "id=\"p0-h\">quiet.example"),
	     *bank = strstr(page, "id=\"p1-h\">bank.example");
	cr_expect(quiet && bank && quiet < bank);
	/* not after 2026-11-28T11:00Z, counted from 2026-11-29T00:00Z */
	cr_expect_not_null(strstr(
	    page, "<tr class=\"expired\"><td class=\"date\">2026-11-28</td><td class=\"num\">-1</td>"));
	cr_expect_not_null(strstr(page, "Chart.js v"));
	cr_expect_eq(count(page, "</script>"), 3);
}

Test(report_html, names_from_the_wire_stay_text_in_the_tables_and_in_the_json)
{
	write_config(db_path);
	fill_database();
	cr_assert_eq(report((const char *[]){"report", "html", "-c", cfg_path, "-o", out_path, NULL}), 0,
	             "%s", err_text);
	read_page();
	cr_expect_null(strstr(page, HOSTILE));
	cr_expect_null(strstr(page, "<img"));
	cr_expect_null(strstr(page, "<!-- "));
	cr_expect_null(strstr(page, "<b>"));
	cr_expect_null(strstr(page, "\xE2\x80\xA8\""), "U+2028 raw in the JSON");
	cr_expect_not_null(strstr(page, "evil&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;.example"));
	cr_expect_not_null(
	    strstr(page, "\"evil\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e.example\""));
	cr_expect_not_null(
	    strstr(page, "\"CN=\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e,O=\\u003c!-- "
	                 "\\u2028\""));
}

Test(report_html, the_file_is_mode_0640_and_never_written_through_a_symbolic_link)
{
	write_config(db_path);
	fill_database();
	umask(0);
	cr_assert_eq(report((const char *[]){"report", "html", "-c", cfg_path, "-o", out_path, NULL}), 0);
	umask(022);
	struct stat st;
	cr_assert_eq(stat(out_path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0640);
	chmod(out_path, 0666);
	cr_assert_eq(report((const char *[]){"report", "html", "-c", cfg_path, "-o", out_path, NULL}), 0);
	cr_assert_eq(stat(out_path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0640, "an existing file is brought back to 0640");
	char link[160];
	snprintf(link, sizeof link, "%s/link.html", dir);
	cr_assert_eq(symlink(cfg_path, link), 0);
	cr_expect_eq(report((const char *[]){"report", "html", "-c", cfg_path, "-o", link, NULL}), 1);
	cr_expect_not_null(strstr(err_text, link), "%s", err_text);
	FILE *f = fopen(cfg_path, "r");
	char first[32] = "";
	cr_assert_not_null(fgets(first, sizeof first, f));
	fclose(f);
	cr_expect_eq(strncmp(first, "state_db:", 9), 0, "the link's target is untouched");
}

Test(report_html, exit_codes_say_what_went_wrong)
{
	write_config(db_path);
	cr_expect_eq(report((const char *[]){"report", "html", "-c", cfg_path, "-o", out_path, NULL}), 1);
	cr_expect_not_null(strstr(err_text, "No such file"), "%s", err_text);
	cr_expect_neq(access(db_path, F_OK), 0, "no database created");
	cr_expect_neq(access(out_path, F_OK), 0, "no page written");
	fill_database();
	cr_expect_eq(report((const char *[]){"report", "html", "-c", cfg_path, NULL}), 2);
	cr_expect_not_null(strstr(err_text, "-o FILE"), "%s", err_text);
	cr_expect_eq(report((const char *[]){"report", "html", "-c", cfg_path, "-o", out_path, "--since",
	                                     "2026-02-30", NULL}),
	             2);
	cr_expect_eq(
	    report((const char *[]){"report", "html", "-c", cfg_path, "-o", out_path, "extra", NULL}), 2);
	cr_expect_eq(report((const char *[]){"report", "html", "-c", cfg_path, "-o", out_path, "--format",
	                                     "csv", NULL}),
	             2);
	write_config("");
	cr_expect_eq(report((const char *[]){"report", "html", "-c", cfg_path, "-o", out_path, NULL}), 2);
	cr_expect_not_null(strstr(err_text, "no state_db"), "%s", err_text);
}

Test(report_html, since_keeps_the_later_days_and_the_partners_totals_of_those_days)
{
	write_config(db_path);
	fill_database();
	char err[256];
	struct state_db *db = state_db_open(db_path, err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	struct policy policy = {0};
	struct report_html_data d;
	cr_assert_eq(report_html_data_load(&d, db, &policy, "2026-11-29", (int64_t)(T0 / SEC)), 0);
	cr_expect_eq(d.n_partners, 1);
	cr_expect_str_eq(d.partners[0].total.partner, "bank.example");
	cr_expect_str_eq(d.partners[0].mode, "not_configured");
	cr_expect_eq(d.partners[0].total.sessions, 1);
	cr_expect_eq(d.n_days, 1);
	cr_expect_str_eq(d.days[0].day, "2026-11-29");
	cr_expect_eq(d.n_versions, 1);
	cr_expect_str_eq(d.versions[0].name, "1.2");
	cr_expect_eq(d.n_failures, 0);
	cr_expect_eq(d.n_certs, 1, "certificates are not cut by --since");
	report_html_data_free(&d);
	report_html_data_free(NULL);
	state_db_close(db);
}

Test(report_html, partners_past_the_cap_are_counted_and_their_rows_left_out)
{
	char err[256];
	struct state_db *db = state_db_open(db_path, err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	for (int i = 0; i < REPORT_HTML_PARTNERS_CAP + 5; i++) {
		char name[32];
		snprintf(name, sizeof name, "d%03d.example", i);
		note_session(db, name, T0, "1.3", "");
		if (i % 64 == 63)
			cr_assert_geq(state_db_flush(db), 0);
	}
	cr_assert_geq(state_db_flush(db), 0);
	struct policy policy = {0};
	struct report_html_data d;
	cr_assert_eq(report_html_data_load(&d, db, &policy, NULL, (int64_t)(T0 / SEC)), 0);
	cr_expect_eq(d.n_partners, REPORT_HTML_PARTNERS_CAP);
	cr_expect_eq(d.left_off.partners, 5);
	cr_expect_eq(d.n_days, REPORT_HTML_PARTNERS_CAP, "rows of partners left off are not kept");
	cr_expect_eq(d.n_versions, REPORT_HTML_PARTNERS_CAP);
	report_html_data_free(&d);
	state_db_close(db);
	/* two configured partners come first: seven left off, said on the page, and the index points to the
	 * table */
	write_config(db_path);
	cr_assert_eq(report((const char *[]){"report", "html", "-c", cfg_path, "-o", out_path, NULL}), 0,
	             "%s", err_text);
	read_page();
	cr_expect_not_null(
	    strstr(page, "Left off by the report's caps: 7 partners or domains (past 200). Narrow"));
	cr_expect_not_null(strstr(page, "<a href=\"#summary\">all 200 in the table&hellip;</a>"));
	cr_expect_eq(count(page, "<section class=\"partner\""), REPORT_HTML_PARTNERS_CAP);
}

Test(report_html, days_left_round_down_so_a_certificate_that_ended_an_hour_ago_has_minus_one)
{
	cr_expect_eq(report_html_days_left(86400 * 10 + 5, 0), 10);
	cr_expect_eq(report_html_days_left(3600 * 5, 0), 0);
	cr_expect_eq(report_html_days_left(-3600, 0), -1);
	cr_expect_eq(report_html_days_left(-86400, 0), -1);
	cr_expect_eq(report_html_days_left(-86401, 0), -2);
}
