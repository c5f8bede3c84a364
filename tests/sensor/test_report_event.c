/*
 * test_report_event.c: session events read back into the notes the sensor made of their sessions (the
 * reports from Kafka): the fields of a real event, what is skipped or refused, attribution and failure
 * types in coverage, TLS-RPT verdicts with the EHLO greeting, certificates; through a real state database.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/report/report_event.h"

static char dir[64], path[128];
static struct state_db *db;

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/tlsobs-report-event-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/t.db", dir);
	char err[256];
	db = state_db_open(path, err, sizeof err);
	cr_assert_not_null(db, "%s", err);
}

static void teardown(void)
{
	state_db_close(db);
	char p[160];
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
		unlink(p);
	}
	rmdir(dir);
}

TestSuite(report_event, .init = setup, .fini = teardown);

static char *corpus(const char *name, size_t *len)
{
	char p[512];
	snprintf(p, sizeof p, "%s/tests/fuzz/corpus/report_event/%s", getenv("TLSOBS_SOURCE_DIR"), name);
	FILE *f = fopen(p, "rb");
	cr_assert_not_null(f, "%s", p);
	static char buf[65536];
	*len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return buf;
}

static enum report_event_result decode(const char *text, struct report_event *e)
{
	return report_event_decode((const uint8_t *)text, strlen(text), e);
}

Test(report_event, reads_what_the_notes_need_from_a_real_session_event)
{
	size_t len;
	const char *ev = corpus("session-expired-cert.json", &len);
	struct report_event e;
	cr_assert_eq(report_event_decode((const uint8_t *)ev, len, &e), REPORT_EVENT_SESSION);
	cr_assert_str_eq(e.server_ip, "198.51.100.25");
	cr_assert_eq(e.server_port, 465);
	cr_assert_str_eq(e.client_ip, "203.0.113.10");
	cr_assert_str_eq(e.starttls_result, "implicit_tls");
	cr_assert_str_eq(e.tls_outcome, "established");
	cr_assert_str_eq(e.tls_version, "1.2");
	cr_assert_str_eq(e.sni, "mx1.example.net");
	cr_assert_str_eq(e.x509_status, "self_signed"); /* the seed was made without the fixtures CA */
	cr_assert_str_eq(e.cert_sha256, "610A2109F44969228E4058BEA87B61D80C92E9531A7F265C4855EDC325DCCD7D");
	cr_assert_str_eq(e.cert_sans, "mx1.example.net");
	cr_assert_eq(e.cert_not_after, 1609459200);    /* 2021-01-01T00:00:00Z */
	cr_assert_eq(e.start_us, 1795883370729543ull); /* 2026-11-28T16:29:30.729543Z */
	cr_assert_gt(e.end_us, e.start_us);
	cr_assert_eq(report_event_time_us(&e), e.end_us);
	cr_assert_eq(e.cut, 0);
}

Test(report_event, reads_the_smtp_fields_of_a_clear_text_session)
{
	size_t len;
	const char *ev = corpus("session-smtp-plain.json", &len);
	struct report_event e;
	cr_assert_eq(report_event_decode((const uint8_t *)ev, len, &e), REPORT_EVENT_SESSION);
	cr_assert(e.smtp);
	cr_assert_str_eq(e.banner, "220 mx1.example.net ESMTP Postfix");
	cr_assert_str_eq(e.ehlo_greeting, "mx1.example.net");
	cr_assert_str_eq(e.rcpt_domain, "example.net");
	cr_assert_eq(e.rcpt_domains, 1);
	cr_assert(e.data_in_clear);
	cr_assert_eq(e.messages, 1);
	cr_assert_eq(e.unprotected, 1);
	cr_assert_str_eq(e.starttls_result, "not_offered");
	cr_assert_str_eq(e.tls_outcome, "");
}

Test(report_event, skips_other_events_and_refuses_what_is_not_a_whole_session_event)
{
	size_t len;
	struct report_event e;
	const char *cert = corpus("certificate-event.json", &len);
	cr_assert_eq(report_event_decode((const uint8_t *)cert, len, &e), REPORT_EVENT_SKIPPED);
	const char *cut = corpus("cut-event.json", &len);
	cr_assert_eq(report_event_decode((const uint8_t *)cut, len, &e), REPORT_EVENT_MALFORMED);
	/* a flow that is not mail (capture.all_flows): no tlsobs.smtp, another protocol */
	cr_assert_eq(decode("{\"event\":{\"dataset\":\"tlsobs.session\",\"start\":\"2026-11-28T16:29:30Z\"},"
	                    "\"destination\":{\"ip\":\"192.0.2.1\"}}",
	                    &e),
	             REPORT_EVENT_SKIPPED);
	/* a mail session without its times or server */
	cr_assert_eq(decode("{\"event\":{\"dataset\":\"tlsobs.session\"},\"network\":{\"protocol\":\"smtp\"},"
	                    "\"destination\":{\"ip\":\"192.0.2.1\"}}",
	                    &e),
	             REPORT_EVENT_MALFORMED);
	cr_assert_eq(decode("{\"event\":{\"dataset\":\"tlsobs.session\",\"start\":\"2026-13-28T16:29:30Z\"},"
	                    "\"network\":{\"protocol\":\"smtp\"},\"destination\":{\"ip\":\"192.0.2.1\"}}",
	                    &e),
	             REPORT_EVENT_MALFORMED);
}

/* A session event with the given smtp and tls parts, ended at 2026-11-28T10:00:0<second>Z. */
static void session(char *buf, size_t cap, int second, const char *partner, const char *smtp, const char *tls)
{
	snprintf(buf, cap,
	         "{\"event\":{\"dataset\":\"tlsobs.session\",\"start\":\"2026-11-28T10:00:00Z\","
	         "\"end\":\"2026-11-28T10:00:0%dZ\"},\"source\":{\"ip\":\"203.0.113.10\"},"
	         "\"destination\":{\"ip\":\"198.51.100.%d\",\"port\":25},\"network\":{\"protocol\":\"smtp\","
	         "\"direction\":\"outbound\"},%s\"tlsobs\":{%s%s%s\"smtp\":{%s}%s%s}}",
	         second, second, tls[0] ? "\"tls\":{\"version\":\"1.3\"}," : "",
	         partner[0] ? "\"partner\":{\"domain\":\"" : "", partner, partner[0] ? "\"}," : "", smtp,
	         tls[0] ? ",\"tls\":" : "", tls);
}

struct rows {
	char text[8][256];
	int n;
};

static int coverage_row(void *ctx, const struct state_partner_coverage *c)
{
	struct rows *r = ctx;
	if (r->n < 8)
		snprintf(r->text[r->n++], sizeof r->text[0], "%s %s %llu/%llu/%llu v=%s f=%s last=%s",
		         c->kind, c->partner, (unsigned long long)c->sessions,
		         (unsigned long long)c->encrypted, (unsigned long long)c->cleartext,
		         c->n_versions ? c->versions[0].name : "-", c->n_failures ? c->failures[0].name : "-",
		         c->last_failure_type);
	return 0;
}

static void queue(struct report_event_notes *n, const char *text, bool decided)
{
	struct report_event e;
	cr_assert_eq(decode(text, &e), REPORT_EVENT_SESSION, "%s", text);
	cr_assert_eq(report_event_notes_queue(n, &e, db), decided, "%s", text);
}

Test(report_event, attributes_and_counts_sessions_as_the_sensor_does)
{
	struct policy p = {0};
	struct report_event_notes *n = report_event_notes_new(&p);
	char ev[2048];
	session(ev, sizeof ev, 1, "bank.example", "\"starttls\":{\"result\":\"upgraded\"}",
	        "{\"outcome\":\"established\"}");
	queue(n, ev, true);
	session(ev, sizeof ev, 2, "",
	        "\"rcpt_to_domains\":[\"joe@shop.example\",\"x.example\"],"
	        "\"data_in_clear\":true,\"starttls\":{\"result\":\"refused\"}",
	        "");
	queue(n, ev, true);
	session(ev, sizeof ev, 3, "", "\"starttls\":{\"result\":\"upgraded\"}", "{\"outcome\":\"alert\"}");
	queue(n, ev, true);
	session(ev, sizeof ev, 4, "", "\"starttls\":{\"result\":\"incomplete\"}", "");
	queue(n, ev, false); /* TLS-RPT cannot count it */
	cr_assert_geq(state_db_flush(db), 0, "%s", state_db_error(db));
	struct rows r = {0};
	struct state_db_coverage_query q = {0};
	cr_assert_eq(state_db_coverage_query(db, &q, coverage_row, &r), 0);
	cr_assert_eq(r.n, 4);
	cr_assert_str_eq(r.text[0], "partner bank.example 1/1/0 v=1.3 f=- last=");
	cr_assert_str_eq(r.text[1], "domain shop.example 1/0/1 v=- f=refused last=refused");
	cr_assert_str_eq(r.text[2], "unattributed 198.51.100.3 1/0/0 v=- f=tls_alert last=tls_alert");
	cr_assert_str_eq(r.text[3], "unattributed 198.51.100.4 1/0/0 v=- f=- last=");
	report_event_notes_free(n);
}

struct failures {
	char text[256];
	int n;
};

static int failure_row(void *ctx, const struct state_tlsrpt_failure *f)
{
	struct failures *x = ctx;
	snprintf(x->text, sizeof x->text, "%s %s %s %s %s %s %llu", f->result_type, f->sending_ip,
	         f->receiving_ip, f->receiving_mx_hostname, f->receiving_mx_helo, f->reason_code,
	         (unsigned long long)f->count);
	x->n++;
	return 0;
}

static int policy_row(void *ctx, const struct state_tlsrpt_policy *p)
{
	struct failures *x = ctx;
	cr_assert_str_eq(p->policy_domain, "mx7.example");
	cr_assert_str_eq(p->policy_type, "no-policy-found");
	cr_assert_eq(p->successful, 0);
	cr_assert_eq(p->failed, 1);
	return state_db_tlsrpt_failures(db, "2026-11-28", p, failure_row, x);
}

Test(report_event, gives_tls_rpt_the_verdict_and_the_failure_details_with_the_ehlo_greeting)
{
	struct policy p = {0};
	struct report_event_notes *n = report_event_notes_new(&p);
	char ev[2048];
	session(ev, sizeof ev, 5, "",
	        "\"banner\":\"220 mx7.example ESMTP\",\"ehlo_greeting\":\"relay7.example\","
	        "\"starttls\":{\"result\":\"not_offered\"}",
	        "");
	queue(n, ev, true);
	cr_assert_geq(state_db_flush(db), 0, "%s", state_db_error(db));
	struct failures x = {0};
	cr_assert_eq(state_db_tlsrpt_policies(db, "2026-11-28", policy_row, &x), 0);
	cr_assert_eq(x.n, 1);
	cr_assert_str_eq(x.text,
	                 "starttls-not-supported 203.0.113.10 198.51.100.5 mx7.example relay7.example "
	                 "starttls_result=not_offered 1");
	report_event_notes_free(n);
}
