/*
 * test_tls_inspect.c: a handshake whose certificate did not cross in clear is
 * "not visible" for TLS 1.3 and its drafts, never guessed at for TLS 1.2.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "parsers/tls.h"
#include "sensor/tls_inspect.h"

static enum x509_status status_without_certificate(uint16_t version, bool *validated)
{
	char err[256];
	struct tls_inspector *ti = tls_inspector_new(NULL, err, sizeof err);
	cr_assert_not_null(ti, "%s", err);
	struct tls_observation *t = calloc(1, sizeof *t);
	struct session *s = calloc(1, sizeof *s);
	cr_assert(t && s);
	t->server_hello_seen = true;
	t->version = version;
	s->tls = t;
	tls_inspect_session(ti, s);
	enum x509_status st = s->certificate.status;
	*validated = s->certificate.validated;
	free(s);
	free(t);
	tls_inspector_free(ti);
	return st;
}

Test(tls_inspect, a_tls13_certificate_is_not_visible)
{
	bool validated = false;
	cr_assert_eq(status_without_certificate(TLS_VERSION_1_3, &validated), X509_STATUS_NOT_VISIBLE);
	cr_assert(validated);
}

Test(tls_inspect, a_tls13_draft_certificate_is_not_visible_as_well)
{
	bool validated = false;
	cr_assert_eq(status_without_certificate(0x7f1c, &validated), X509_STATUS_NOT_VISIBLE);
	cr_assert(validated);
}

Test(tls_inspect, a_tls12_session_without_a_certificate_is_not_judged)
{
	bool validated = true;
	status_without_certificate(TLS_VERSION_1_2, &validated);
	cr_assert_not(validated);
}
