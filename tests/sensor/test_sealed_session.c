/*
 * test_sealed_session.c: a sealed session is self-contained: once the worker
 * that made it is gone (its flows, parsers, certificate copies, nDPI names and
 * interned interface names freed), it opens into the same session event, byte
 * for byte, as the borrowed session made at the flow's end, certificates and
 * fingerprints included; and a copy costs what its parts need.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/json_writer.h"
#include "outputs/session_event.h"
#include "sensor/app/tls_inspect.h"
#include "sensor/workers/sealed_session.h"
#include "capture_packets.h"
#include "test_support.h"

enum { MAX_SESSIONS = 16 };

struct sealed_run {
	struct tls_inspector *inspector;
	struct worker *w;
	struct json_writer json;
	struct event_context ctx;
	char *direct[MAX_SESSIONS]; /* the event from the borrowed session, at the flow's end */
	struct sealed_session *sealed[MAX_SESSIONS];
	size_t n;
	size_t copy_bytes;
};

/* The session as the finisher sees it: inspected (fingerprints, chain), then written. */
static char *event_of(struct sealed_run *r, struct session *sess, const char *ingress)
{
	tls_inspect_session(r->inspector, sess);
	r->ctx.ingress_interface = ingress;
	session_event_write(&r->json, sess, &r->ctx, 1);
	cr_assert_not(json_writer_failed(&r->json));
	return strndup(r->json.buf, r->json.len);
}

static void on_session(void *ctx, struct session *sess, bool mail, const char *ingress)
{
	struct sealed_run *r = ctx;
	cr_assert_lt(r->n, MAX_SESSIONS);
	struct sealed_session *ss = sealed_session_new(sess, mail, ingress, sess->end_us, 0);
	cr_assert_not_null(ss);
	r->copy_bytes += sealed_session_size(ss);
	r->sealed[r->n] = ss;
	r->direct[r->n++] = event_of(r, sess, ingress);
}

static void check_fixture(const char *fixture, size_t want_sessions)
{
	static struct packets ps;
	static struct sensor_settings settings;
	static struct mail_ports ports;
	static struct session opened;
	struct sealed_run r = {0};
	char err[256];
	r.inspector = tls_inspector_new(NULL, 16, err, sizeof err);
	cr_assert_not_null(r.inspector, "%s", err);
	json_writer_init(&r.json, 4096);
	r.ctx = (struct event_context){"host", "0", "sensor", "", NULL, EVENT_CLIENT_CIPHERS_NAMES};
	read_capture(fixture, &ps);
	r.w = test_worker_new(&settings, &ports, on_session, &r);
	for (size_t i = 0; i < ps.n; i++)
		worker_packet(r.w, &ps.p[i]);
	worker_finish(r.w, FLOW_CLOSE_END_OF_CAPTURE);
	worker_free(r.w); /* every parser, record and name buffer the sessions borrowed is gone */
	free_packets(&ps);
	cr_assert_eq(r.n, want_sessions, "%s", fixture);
	for (size_t i = 0; i < r.n; i++) {
		memset(&opened, 0xa5, sizeof opened); /* nothing may come from an earlier use */
		sealed_session_open(r.sealed[i], &opened);
		char *again = event_of(&r, &opened, sealed_session_ingress(r.sealed[i]));
		cr_assert_str_eq(again, r.direct[i], "%s, session %zu", fixture, i);
		cr_assert(sealed_session_mail(r.sealed[i]));
		free(again);
		free(r.direct[i]);
		sealed_session_free(r.sealed[i]);
	}
	cr_assert_lt(r.copy_bytes / r.n, 64 * 1024, "%zu bytes a copy", r.copy_bytes / r.n);
	json_writer_release(&r.json);
	tls_inspector_free(r.inspector);
}

Test(sealed_session, a_tls12_chain_and_its_fingerprints_survive_the_worker)
{
	check_fixture("tests/fixtures/starttls-tls12.pcap", 1);
}

Test(sealed_session, smtp_observations_survive_the_worker)
{
	check_fixture("tests/fixtures/pipelining-multi.pcap", 1);
	check_fixture("tests/fixtures/auth-cleartext.pcap", 1);
}

Test(sealed_session, implicit_tls_and_an_expired_chain_survive_the_worker)
{
	check_fixture("tests/fixtures/smtps-465.pcap", 1);
	check_fixture("tests/fixtures/expired-cert.pcap", 1);
}

Test(sealed_session, null_is_a_no_op)
{
	sealed_session_free(NULL);
}
