/*
 * tlsa.h: DANE TLSA records from a zone file, and matching them against a
 * server's certificate chain (RFC 6698, RFC 7671, RFC 7672 for SMTP).
 *
 * tlsa_parse() reads master-file text (RFC 1035 5.1): TLSA records in their
 * presentation format (RFC 6698 2.2) or the generic one (RFC 3597 5,
 * "TYPE52 \# len hex"); TTL and class in either order; data split by blanks
 * or across lines inside ( ); ';' comments; $ORIGIN and $TTL; a blank owner
 * repeats the previous one. Other records are skipped and counted, and so is
 * $INCLUDE, which is never followed. A syntax error in a TLSA record or in
 * $ORIGIN (which names later records) fails the whole file. Relative names
 * with no $ORIGIN yet are kept as written.
 *
 * tlsa_match() is the matching step only: which records select which
 * certificate and compare equal. The chain's signatures and the name checks
 * DANE-TA needs (RFC 7672 3.2.2) are left to the caller.
 */
#ifndef TLSOBS_TLSA_H
#define TLSOBS_TLSA_H

#include <stddef.h>
#include <stdint.h>

enum {
	TLSA_MAX_RECORDS = 4096,
	TLSA_DATA_MAX = 512,  /* certificate association data, bytes */
	TLSA_LINE_MAX = 4096, /* one physical line, without its end */
	TLSA_FILE_MAX = 4 * 1024 * 1024,
	TLSA_OWNER_MAX = 256, /* with the NUL */
};

struct tlsa_record {
	char owner[TLSA_OWNER_MAX]; /* as completed by $ORIGIN (RFC 1035 5.1); case as written */
	uint8_t usage, selector, matching;
	uint8_t data[TLSA_DATA_MAX];
	size_t data_len;
};

/* What was in the file besides TLSA records: none of it is an error. */
struct tlsa_stats {
	size_t records;                /* TLSA records kept */
	size_t other_records;          /* other types, or TLSA in a class other than IN */
	size_t malformed_other;        /* unreadable non-TLSA lines: no type, bad $TTL or owner, ( ) */
	size_t unsupported_directives; /* $INCLUDE, $GENERATE, unknown $ lines */
};

struct tlsa_error {
	unsigned line;     /* 1-based; 0 for the whole file */
	char message[512]; /* "name:line: what", or "name: what" */
};

struct tlsa_set;

/*
 * The TLSA records of text[0..len) (no NUL needed), or NULL with err filled
 * (err may be NULL). `name` (e.g. the file name; NULL: "tlsa") starts messages.
 */
struct tlsa_set *tlsa_parse(const char *text, size_t len, const char *name, struct tlsa_error *err);
void tlsa_set_free(struct tlsa_set *s);
size_t tlsa_set_count(const struct tlsa_set *s);
const struct tlsa_record *tlsa_set_record(const struct tlsa_set *s, size_t i); /* NULL past the end */
const struct tlsa_stats *tlsa_set_stats(const struct tlsa_set *s);

/*
 * The records of owner "_<port>._tcp.<mx_host>" (RFC 7672 2.2.3), compared
 * without case and with or without a trailing dot on either side, in file
 * order: the first `cap` go to out (borrowed from s), and the number found is
 * returned, which may exceed cap.
 */
size_t tlsa_lookup(const struct tlsa_set *s, uint16_t port, const char *mx_host,
                   const struct tlsa_record **out, size_t cap);

enum tlsa_match_result {
	TLSA_MATCH,      /* a usable record matched */
	TLSA_NO_MATCH,   /* there were usable records, none matched */
	TLSA_NOT_USABLE, /* no usable record: none, PKIX-TA/PKIX-EE (RFC 7672 3.1.3), unknown parameters,
	                    a digest of the wrong length (RFC 7672 2.2: then TLS without DANE) */
};
const char *tlsa_match_result_str(enum tlsa_match_result r); /* "match", "no_match", "not_usable" */

/*
 * Matches records recs[0..n) against the chain as the server sent it
 * (chain[0] the leaf, DER; at most the first 10 are looked at). DANE-EE (3)
 * matches the leaf; DANE-TA (2) any certificate presented after the leaf,
 * which covers an intermediate and a trust anchor the server includes
 * (RFC 7671 5.2.2; RFC 7672 3.1.2 asks servers to include it). Selector 0 is
 * the certificate's DER, 1 its SubjectPublicKeyInfo; matching type 0 the
 * bytes, 1 SHA-256, 2 SHA-512 (RFC 6698 2.1). `why` (may be NULL) gets a
 * static one-line reason.
 */
enum tlsa_match_result tlsa_match(const struct tlsa_record *const *recs, size_t n,
                                  const uint8_t *const *chain, const size_t *lens, unsigned chain_len,
                                  const char **why);

#endif
