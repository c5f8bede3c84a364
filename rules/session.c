/*
 * session.c: the session record's names: its id, and the words its fields with fixed value sets take in
 * events (each enum of session.h has its _str()).
 */
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

const char *session_protocol_str(enum session_protocol p)
{
	switch (p) {
	case SESSION_PROTOCOL_NONE:
	case SESSION_PROTOCOL_OTHER:
		return NULL;
	case SESSION_PROTOCOL_SMTP:
		return "smtp";
	case SESSION_PROTOCOL_TLS:
		return "tls";
	}
	return "unknown";
}

const char *session_close_reason_str(enum session_close_reason r)
{
	switch (r) {
	case SESSION_CLOSE_FIN:
		return "fin";
	case SESSION_CLOSE_RST:
		return "rst";
	case SESSION_CLOSE_TIMEOUT:
		return "timeout";
	case SESSION_CLOSE_EVICTED:
		return "evicted";
	case SESSION_CLOSE_END_OF_CAPTURE:
		return "end_of_capture";
	case SESSION_CLOSE_SHUTDOWN:
		return "shutdown";
	}
	return "unknown";
}

const char *session_role_source_str(enum session_role_source s)
{
	switch (s) {
	case SESSION_ROLE_SYN:
		return "syn";
	case SESSION_ROLE_SYN_ACK:
		return "syn_ack";
	case SESSION_ROLE_PORT:
		return "port";
	case SESSION_ROLE_GUESS:
		return "guess";
	}
	return "unknown";
}

const char *session_direction_str(enum session_direction d)
{
	switch (d) {
	case SESSION_DIRECTION_NONE:
		return NULL;
	case SESSION_DIRECTION_INBOUND:
		return "inbound";
	case SESSION_DIRECTION_OUTBOUND:
		return "outbound";
	case SESSION_DIRECTION_INTERNAL:
		return "internal";
	case SESSION_DIRECTION_EXTERNAL:
		return "external";
	}
	return "unknown";
}

const char *session_name_source_str(enum session_name_source n)
{
	switch (n) {
	case SESSION_NAME_NONE:
		return NULL;
	case SESSION_NAME_SNI:
		return "sni";
	case SESSION_NAME_BANNER:
		return "banner";
	case SESSION_NAME_EHLO_GREETING:
		return "ehlo_greeting";
	}
	return "unknown";
}

const char *session_partner_match_str(enum session_partner_match m)
{
	switch (m) {
	case SESSION_MATCH_NONE:
		return "none";
	case SESSION_MATCH_RCPT_DOMAIN:
		return "rcpt_domain";
	case SESSION_MATCH_MAIL_FROM_DOMAIN:
		return "mail_from_domain";
	case SESSION_MATCH_BANNER:
		return "banner";
	case SESSION_MATCH_EHLO_GREETING:
		return "ehlo_greeting";
	case SESSION_MATCH_SNI:
		return "sni";
	case SESSION_MATCH_CERTIFICATE:
		return "certificate";
	case SESSION_MATCH_NETWORK:
		return "network";
	}
	return "unknown";
}

const char *session_dane_status_str(enum session_dane_status d)
{
	switch (d) {
	case SESSION_DANE_NONE:
		return NULL;
	case SESSION_DANE_MATCH:
		return "match";
	case SESSION_DANE_MISMATCH:
		return "mismatch";
	case SESSION_DANE_NOT_USABLE:
		return "not_usable";
	case SESSION_DANE_NOT_VERIFIABLE:
		return "not_verifiable";
	}
	return "unknown";
}
