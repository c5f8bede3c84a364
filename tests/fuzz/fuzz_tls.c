/*
 * fuzz_tls.c: libFuzzer harness for the TLS handshake parser and the
 * fingerprints computed from what it saw.
 *
 * Input: chunks. Each starts with a header byte: the high bit is the
 * direction (0 client, 1 server), the low 7 bits the length that follows (cut
 * short at the end of the input); length 0 is a capture gap in that
 * direction. Each chunk is fed from a heap copy of exactly its length, so
 * ASan flags a read past it. Feeding goes on after TLS_DECIDED (the parser
 * must ignore it). At the end the flow is closed, the observation checked
 * (strings terminated, counts within caps, certificates readable) and every
 * fingerprint computed.
 *
 * tests/parsers/extract_tls.py writes real handshakes in this format
 * (--corpus tests/fuzz/corpus/tls): keep the two in step.
 */
#include "parsers/tls.h"
#include "parsers/tls_ciphers.h"
#include "parsers/tls_fingerprint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps the certificate bytes' sum alive so the compiler cannot drop the reads. */
static volatile uint32_t fuzz_sink;

static void check_terminated(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static void check_observation(const struct tls_observation *o)
{
	const struct tls_client_hello *ch = &o->ch;
	check_terminated(ch->sni, sizeof ch->sni);
	for (int i = 0; i < TLS_MAX_ALPN; i++)
		check_terminated(ch->alpn[i], sizeof ch->alpn[i]);
	check_terminated(o->sh.alpn, sizeof o->sh.alpn);
	if (ch->cipher_count > TLS_MAX_CIPHERS || ch->extension_count > TLS_MAX_EXTENSIONS ||
	    ch->alpn_count > TLS_MAX_ALPN || ch->supported_version_count > TLS_MAX_VALUES ||
	    ch->group_count > TLS_MAX_VALUES || ch->point_format_count > TLS_MAX_VALUES ||
	    ch->signature_algorithm_count > TLS_MAX_VALUES || ch->key_share_count > TLS_MAX_KEY_SHARES ||
	    ch->compression_count > TLS_MAX_COMPRESSION || ch->sslv2_spec_count > TLS_MAX_CIPHERS ||
	    ch->session_id_len > TLS_SESSION_ID_MAX || o->sh.session_id_len > TLS_SESSION_ID_MAX ||
	    o->sh.extension_count > TLS_MAX_EXTENSIONS || o->cert_count > TLS_MAX_CERTS ||
	    o->not_tls_len > TLS_EVIDENCE_MAX || ch->cipher_count > ch->ciphers_total ||
	    ch->extension_count > ch->extensions_total)
		abort();
	uint32_t sum = 0;
	uint64_t anomalies = 0;
	for (unsigned i = 0; i < o->cert_count; i++) {
		if (o->cert_len[i] == 0 || o->cert_len[i] > TLS_MAX_CERT_LEN || o->cert_der[i] == NULL)
			abort();
		sum += o->cert_der[i][0] + o->cert_der[i][o->cert_len[i] - 1];
	}
	for (int a = 0; a < TLS_ANOMALY_COUNT; a++) {
		if (tls_anomaly_str(a) == NULL)
			abort();
		anomalies += o->anomaly[a];
	}
	if (anomalies != o->anomalies || tls_outcome_str(o->outcome) == NULL)
		abort();
	fuzz_sink = sum;
}

static void fingerprints(const struct tls_observation *o)
{
	char s[TLS_JA3_STRING_MAX], hash[TLS_JA3_HASH_LEN + 1], ja4[TLS_JA4_LEN + 1], raw[TLS_JA4_R_MAX];
	tls_ja3_string(o, s);
	tls_ja3(o, hash);
	tls_ja3s_string(o, s);
	tls_ja3s(o, hash);
	if (tls_ja4(o, ja4) && strlen(ja4) != TLS_JA4_LEN)
		abort();
	tls_ja4_r(o, raw);
	bool cbc;
	(void)tls_cipher_weak(o->cipher, &cbc);
	(void)tls_cipher_name(o->cipher);
	(void)tls_group_name(o->curve);
	(void)tls_alert_name(o->alert_description);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_parser *p = tls_parser_new();
	if (p == NULL)
		return 0;
	size_t off = 0;
	while (off < size) {
		enum tls_dir dir = data[off] & 0x80 ? TLS_FROM_SERVER : TLS_FROM_CLIENT;
		size_t len = data[off] & 0x7f;
		off++;
		if (len == 0) {
			tls_parser_gap(p, dir, 1);
			continue;
		}
		if (len > size - off)
			len = size - off;
		uint8_t *copy = malloc(len);
		if (copy == NULL)
			break;
		memcpy(copy, data + off, len);
		tls_parser_feed(p, dir, copy, len);
		free(copy);
		off += len;
	}
	tls_parser_end(p, false);
	check_observation(tls_parser_observation(p));
	fingerprints(tls_parser_observation(p));
	tls_parser_free(p);
	return 0;
}
