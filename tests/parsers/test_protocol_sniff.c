/*
 * test_protocol_sniff.c: the first bytes of a direction against a ClientHello and an SMTP reply.
 *
 * Openings as clients and servers send them (the TLS records from the fixtures'
 * handshakes: OpenSSL's TLS 1.0 record version for a TLS 1.3 hello, an SSLv2
 * CLIENT-HELLO from zeek-ssl-v2), and their look-alikes that must not pass.
 */
#include "parsers/protocol_sniff.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t tls_hello[] = {0x16, 0x03, 0x01, 0x01, 0x3c, 0x01, 0x00, 0x01, 0x38, 0x03, 0x03};
static const uint8_t sslv2_hello[] = {0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15};

/* Every proper prefix needs more; the whole is `whole`. Each prefix from a heap copy of its length. */
static void assert_prefixes(enum protocol_sniff (*f)(const uint8_t *, size_t), const uint8_t *p, size_t n,
                            size_t decided_at, enum protocol_sniff whole)
{
	for (size_t cut = 0; cut <= n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		cr_assert_not_null(copy);
		memcpy(copy, p, cut);
		enum protocol_sniff v = f(copy, cut);
		free(copy);
		if (cut < decided_at)
			cr_assert_eq(v, PROTOCOL_SNIFF_NEED_MORE, "prefix of %zu bytes: %s", cut,
			             protocol_sniff_str(v));
		else
			cr_assert_eq(v, whole, "prefix of %zu bytes: %s", cut, protocol_sniff_str(v));
	}
}

Test(protocol_sniff, a_tls_record_with_a_client_hello_is_one_after_six_bytes)
{
	assert_prefixes(protocol_sniff_client_hello, tls_hello, sizeof tls_hello, 6, PROTOCOL_SNIFF_YES);
}

Test(protocol_sniff, an_sslv2_client_hello_is_one_after_five_bytes)
{
	assert_prefixes(protocol_sniff_client_hello, sslv2_hello, sizeof sslv2_hello, 5, PROTOCOL_SNIFF_YES);
	static const uint8_t v3_in_v2[] = {0x80, 0x2e, 0x01, 0x03, 0x01};
	cr_assert_eq(protocol_sniff_client_hello(v3_in_v2, sizeof v3_in_v2), PROTOCOL_SNIFF_YES);
	static const uint8_t not_hello[] = {0x80, 0x2e, 0x04, 0x00, 0x02};
	cr_assert_eq(protocol_sniff_client_hello(not_hello, 3), PROTOCOL_SNIFF_NO);
}

Test(protocol_sniff, other_records_and_clear_text_are_no_client_hello)
{
	static const uint8_t server_hello[] = {0x16, 0x03, 0x03, 0x00, 0x7a, 0x02};
	static const uint8_t app_data[] = {0x17, 0x03, 0x03, 0x00, 0x35, 0x01};
	static const uint8_t zero_length[] = {0x16, 0x03, 0x01, 0x00, 0x00, 0x01};
	static const uint8_t ssl_4_0[] = {0x16, 0x04, 0x01, 0x00, 0x10, 0x01};
	cr_assert_eq(protocol_sniff_client_hello(server_hello, sizeof server_hello), PROTOCOL_SNIFF_NO);
	cr_assert_eq(protocol_sniff_client_hello(app_data, 1), PROTOCOL_SNIFF_NO,
	             "decided at the first byte");
	cr_assert_eq(protocol_sniff_client_hello(zero_length, sizeof zero_length), PROTOCOL_SNIFF_NO);
	cr_assert_eq(protocol_sniff_client_hello(ssl_4_0, 2), PROTOCOL_SNIFF_NO);
	cr_assert_eq(protocol_sniff_client_hello((const uint8_t *)"EHLO x\r\n", 8), PROTOCOL_SNIFF_NO);
	cr_assert_eq(protocol_sniff_client_hello((const uint8_t *)"E", 1), PROTOCOL_SNIFF_NO);
}

Test(protocol_sniff, smtp_greetings_and_refusals_are_replies_after_four_bytes)
{
	static const char *const lines[] = {
	    "220 mx1.example.net ESMTP Postfix\r\n", "220-mx.example.net hello\r\n", "220\r\n",
	    "421 4.3.2 Service shutting down\r\n", "554 5.7.1 No SMTP service here\r\n"};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		assert_prefixes(protocol_sniff_smtp_reply, (const uint8_t *)lines[i], strlen(lines[i]), 4,
		                PROTOCOL_SNIFF_YES);
}

Test(protocol_sniff, tls_bytes_and_other_text_are_no_smtp_reply)
{
	cr_assert_eq(protocol_sniff_smtp_reply(tls_hello, 1), PROTOCOL_SNIFF_NO);
	cr_assert_eq(protocol_sniff_smtp_reply((const uint8_t *)"HTTP/1.1 200 OK", 15), PROTOCOL_SNIFF_NO);
	cr_assert_eq(protocol_sniff_smtp_reply((const uint8_t *)"1", 1), PROTOCOL_SNIFF_NO,
	             "1xx is not SMTP");
	cr_assert_eq(protocol_sniff_smtp_reply((const uint8_t *)"22x", 3), PROTOCOL_SNIFF_NO);
	cr_assert_eq(protocol_sniff_smtp_reply((const uint8_t *)"2200", 4), PROTOCOL_SNIFF_NO);
	cr_assert_eq(protocol_sniff_smtp_reply((const uint8_t *)"22", 2), PROTOCOL_SNIFF_NEED_MORE);
}
