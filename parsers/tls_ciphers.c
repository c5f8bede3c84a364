/*
 * tls_ciphers.c: lookups in the generated IANA tables (binary search over
 * code-sorted arrays) and the RFC 8446 6.2 alert names.
 */
#include "parsers/tls_ciphers.h"

#include <stddef.h>

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

static const struct tls_cipher_entry *find_cipher(uint16_t code)
{
	size_t lo = 0, hi = sizeof tls_cipher_table / sizeof tls_cipher_table[0];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tls_cipher_table[mid].code == code)
			return &tls_cipher_table[mid];
		if (tls_cipher_table[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
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
	size_t lo = 0, hi = sizeof tls_group_table / sizeof tls_group_table[0];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tls_group_table[mid].code == group)
			return tls_group_table[mid].name;
		if (tls_group_table[mid].code < group)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *tls_alert_name(uint8_t description)
{
	switch (description) {
	case 0:
		return "close_notify";
	case 10:
		return "unexpected_message";
	case 20:
		return "bad_record_mac";
	case 21:
		return "decryption_failed"; /* TLS 1.0, reserved since 1.1 */
	case 22:
		return "record_overflow";
	case 30:
		return "decompression_failure"; /* TLS <= 1.2 */
	case 40:
		return "handshake_failure";
	case 41:
		return "no_certificate"; /* SSLv3 */
	case 42:
		return "bad_certificate";
	case 43:
		return "unsupported_certificate";
	case 44:
		return "certificate_revoked";
	case 45:
		return "certificate_expired";
	case 46:
		return "certificate_unknown";
	case 47:
		return "illegal_parameter";
	case 48:
		return "unknown_ca";
	case 49:
		return "access_denied";
	case 50:
		return "decode_error";
	case 51:
		return "decrypt_error";
	case 60:
		return "export_restriction"; /* TLS 1.0 */
	case 70:
		return "protocol_version";
	case 71:
		return "insufficient_security";
	case 80:
		return "internal_error";
	case 86:
		return "inappropriate_fallback"; /* RFC 7507 */
	case 90:
		return "user_canceled";
	case 100:
		return "no_renegotiation"; /* TLS <= 1.2 */
	case 109:
		return "missing_extension";
	case 110:
		return "unsupported_extension";
	case 111:
		return "certificate_unobtainable"; /* RFC 6066 */
	case 112:
		return "unrecognized_name";
	case 113:
		return "bad_certificate_status_response";
	case 114:
		return "bad_certificate_hash_value"; /* RFC 6066 */
	case 115:
		return "unknown_psk_identity";
	case 116:
		return "certificate_required";
	case 120:
		return "no_application_protocol";
	case 121:
		return "ech_required"; /* draft-ietf-tls-esni */
	}
	return NULL;
}
