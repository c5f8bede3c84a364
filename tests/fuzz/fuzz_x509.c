/*
 * fuzz_x509.c: libFuzzer harness for the certificate adapter.
 *
 * Input: one DER certificate (the seeds in corpus/x509 are real ones from
 * tests/fixtures/x509). x509_parse() must return 0 or -1, and on 0 every text
 * field must be NUL-terminated within its array and free of control bytes,
 * every count within its cap. The input is then validated as a one-certificate
 * chain for "mx1.example.net" at a fixed time (2030-01-01) against the system
 * store, through a validator made once: the store's lookups are what a sensor
 * runs for every handshake.
 */
#include "parsers/x509.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
	const char *end = memchr(s, '\0', cap);
	if (end == NULL)
		abort();
	for (const char *p = s; p < end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

static void check_info(const struct x509_info *i)
{
#define TEXT(f) check_text((f), sizeof(f))
	TEXT(i->sha256);
	TEXT(i->sha1);
	TEXT(i->spki_sha256);
	TEXT(i->subject);
	TEXT(i->issuer);
	TEXT(i->subject_cn);
	TEXT(i->subject_org);
	TEXT(i->issuer_cn);
	TEXT(i->issuer_org);
	for (int k = 0; k < X509_MAX_SANS; k++)
		TEXT(i->san_dns[k]);
	TEXT(i->serial);
	TEXT(i->signature_algorithm);
	TEXT(i->public_key_algorithm);
	TEXT(i->public_key_curve);
#undef TEXT
	if (i->san_count > X509_MAX_SANS || (i->san_truncated && i->san_count != X509_MAX_SANS))
		abort();
	if (strlen(i->sha256) != 64 || strlen(i->sha1) != 40)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct x509_validator *validator;
	if (validator == NULL) {
		char err[256];
		validator = x509_validator_new(NULL, err, sizeof err);
		if (validator == NULL)
			abort();
	}
	struct x509_info info;
	int rc = x509_parse(data, size, &info);
	if (rc == 0)
		check_info(&info);
	else if (rc != -1)
		abort();

	const uint8_t *chain[] = {data};
	const size_t lens[] = {size};
	enum x509_status s = x509_validate(validator, chain, lens, 1, "mx1.example.net", 1893456000);
	if (s > X509_STATUS_NOT_VISIBLE || s == X509_STATUS_NOT_VISIBLE ||
	    strcmp(x509_status_str(s), "unknown") == 0)
		abort();
	if (rc == -1 && s != X509_STATUS_UNTRUSTED) /* what cannot be read cannot be trusted */
		abort();
	return 0;
}
