/*
 * tls_ciphers.c: lookups in the generated IANA tables (binary search over
 * code-sorted arrays) and the RFC 8446 6.2 alert names.
 */
#include "parsers/tls_ciphers.h"

#include <stddef.h>
#include <stdlib.h>

enum { TLS_CIPHER_F_WEAK = 1, TLS_CIPHER_F_CBC = 2 };

struct tls_cipher_entry {
	uint16_t code;
	const char *name;
	unsigned flags;
};

struct tls_group_entry {
	uint16_t code;
	const char *name;
};

#include "parsers/tls_cipher_table.inc"

/* bsearch's comparison for both tables: each entry starts with its uint16_t code (C11 6.7.2.1: a pointer
 * to a structure, converted, points to its first member). */
static int compare_code(const void *key, const void *entry)
{
	uint16_t k = *(const uint16_t *)key, e = *(const uint16_t *)entry;
	return (k > e) - (k < e);
}

static const struct tls_cipher_entry *find_cipher(uint16_t code)
{
	return bsearch(&code, tls_cipher_table, sizeof tls_cipher_table / sizeof tls_cipher_table[0],
	               sizeof tls_cipher_table[0], compare_code);
}

const char *tls_cipher_name(uint16_t code)
{
	const struct tls_cipher_entry *e = find_cipher(code);
	return e ? e->name : NULL;
}

bool tls_cipher_weak(uint16_t code, bool *cbc)
{
	const struct tls_cipher_entry *e = find_cipher(code);
	if (cbc)
		*cbc = e && (e->flags & TLS_CIPHER_F_CBC);
	return e && (e->flags & TLS_CIPHER_F_WEAK);
}

const char *tls_group_name(uint16_t group)
{
	const struct tls_group_entry *e =
	    bsearch(&group, tls_group_table, sizeof tls_group_table / sizeof tls_group_table[0],
	            sizeof tls_group_table[0], compare_code);
	return e ? e->name : NULL;
}

/* RFC 8446 6.2 and the TLS Alerts registry; NULL: not assigned. */
static const char *const alert_names[256] = {
    [0] = "close_notify",
    [10] = "unexpected_message",
    [20] = "bad_record_mac",
    [21] = "decryption_failed", /* TLS 1.0, reserved since 1.1 */
    [22] = "record_overflow",
    [30] = "decompression_failure", /* TLS <= 1.2 */
    [40] = "handshake_failure",
    [41] = "no_certificate", /* SSLv3 */
    [42] = "bad_certificate",
    [43] = "unsupported_certificate",
    [44] = "certificate_revoked",
    [45] = "certificate_expired",
    [46] = "certificate_unknown",
    [47] = "illegal_parameter",
    [48] = "unknown_ca",
    [49] = "access_denied",
    [50] = "decode_error",
    [51] = "decrypt_error",
    [60] = "export_restriction", /* TLS 1.0 */
    [70] = "protocol_version",
    [71] = "insufficient_security",
    [80] = "internal_error",
    [86] = "inappropriate_fallback", /* RFC 7507 */
    [90] = "user_canceled",
    [100] = "no_renegotiation", /* TLS <= 1.2 */
    [109] = "missing_extension",
    [110] = "unsupported_extension",
    [111] = "certificate_unobtainable", /* RFC 6066 */
    [112] = "unrecognized_name",
    [113] = "bad_certificate_status_response",
    [114] = "bad_certificate_hash_value", /* RFC 6066 */
    [115] = "unknown_psk_identity",
    [116] = "certificate_required",
    [120] = "no_application_protocol",
    [121] = "ech_required", /* draft-ietf-tls-esni */
};

const char *tls_alert_name(uint8_t description)
{
	return alert_names[description];
}
