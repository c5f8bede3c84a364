#include "rules/session.h"
#include "rules/session_id.h"

/* Crockford's base 32: no I, L, O, U, so ids survive being read aloud or retyped. */
static const char base32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void session_id_make(char out[SESSION_ID_LEN], uint64_t run_nonce, uint64_t flow_id)
{
	/* 40 bits of nonce then 50 bits of flow number: 90 bits, 18 characters. */
	uint64_t hi = run_nonce & ((1ull << 40) - 1), lo = flow_id & ((1ull << 50) - 1);
	out[0] = 'S';
	for (int i = 0; i < 8; i++)
		out[1 + i] = base32[(hi >> (35 - 5 * i)) & 31];
	for (int i = 0; i < 10; i++)
		out[9 + i] = base32[(lo >> (45 - 5 * i)) & 31];
	out[SESSION_ID_LEN - 1] = '\0';
}

const char *starttls_result_str(enum starttls_result r)
{
	switch (r) {
	case STARTTLS_UPGRADED:
		return "upgraded";
	case STARTTLS_IMPLICIT_TLS:
		return "implicit_tls";
	case STARTTLS_NOT_OFFERED:
		return "not_offered";
	case STARTTLS_GARBLED:
		return "garbled";
	case STARTTLS_NOT_ATTEMPTED:
		return "not_attempted";
	case STARTTLS_REFUSED:
		return "refused";
	case STARTTLS_NO_TLS_AFTER_220:
		return "no_tls_after_220";
	case STARTTLS_INCOMPLETE:
		return "incomplete";
	case STARTTLS_CLEARTEXT_ON_TLS_PORT:
		return "cleartext_on_tls_port";
	}
	return "unknown";
}
