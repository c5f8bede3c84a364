/*
 * fuzz_report_event.c: libFuzzer harness for what reads a Kafka topic's bytes in `tlsobs report --kafka`:
 * the JSON scanner (parsers/json_scan.h) and the session event decoder (sensor/report/report_event.h).
 * Any input: never a read past it (ASan), every path and string the scanner hands over NUL-terminated
 * within its caps, every decoded field NUL-terminated within its array, and the same verdict when decoded
 * twice. A broken promise aborts.
 *
 * Seeds: session events of the fixtures (plain, STARTTLS, implicit TLS with a certificate, a refusal),
 * another event type, and cut, doubled and mangled ones.
 */
#include <stdlib.h>
#include <string.h>

#include "parsers/json_scan.h"
#include "sensor/report/report_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_value(void *ctx, const struct json_scan_value *v)
{
	(void)ctx;
	if (v->path_len >= JSON_SCAN_PATH_MAX || strlen(v->path) != v->path_len)
		abort();
	if (v->len >= JSON_SCAN_VALUE_MAX || v->text[v->len] != '\0')
		abort();
	if (v->type != JSON_SCAN_STRING && memchr(v->text, '\0', v->len))
		abort();
	return 0;
}

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

static void check_event(const struct report_event *e)
{
	if (!TERMINATED(e->client_ip) || !TERMINATED(e->server_ip) || !TERMINATED(e->direction) ||
	    !TERMINATED(e->partner) || !TERMINATED(e->rcpt_domain) || !TERMINATED(e->banner) ||
	    !TERMINATED(e->ehlo_greeting) || !TERMINATED(e->starttls_result) || !TERMINATED(e->tls_outcome) ||
	    !TERMINATED(e->tls_version) || !TERMINATED(e->sni) || !TERMINATED(e->dane_status) ||
	    !TERMINATED(e->x509_status) || !TERMINATED(e->cert_sha256) || !TERMINATED(e->cert_subject) ||
	    !TERMINATED(e->cert_issuer) || !TERMINATED(e->cert_sans))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_scan(data, size, check_value, NULL);
	struct report_event *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	if (!a || !b)
		abort();
	enum report_event_result ra = report_event_decode(data, size, a);
	enum report_event_result rb = report_event_decode(data, size, b);
	check_event(a);
	if (ra != rb || memcmp(a, b, sizeof *a) != 0)
		abort();
	if (ra == REPORT_EVENT_SESSION && (!a->session || !a->mail || !a->server_ip[0]))
		abort();
	free(a);
	free(b);
	return 0;
}
