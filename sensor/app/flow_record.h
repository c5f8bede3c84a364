/*
 * flow_record.h: what a worker keeps per flow beside the flow itself, and what
 * turns a flow's bytes into a session record.
 *
 * The flow table and the TCP tracker know bytes; a flow record knows what they
 * are: it decides whether a flow is mail (by its port, or by nDPI's verdict,
 * holding the first bytes until nDPI decides), feeds the SMTP/TLS parsers
 * (mail_session), charges their memory to the worker's memcap, dumps streams
 * (--dump-streams), and at the end fills the session record the process-wide
 * services report. Owns each record (one per flow, freed by flow_record_free)
 * and counts what it gives up (struct flow_record_stats). Everything here is
 * per worker: struct flow_records is one worker's context, and only
 * `ports` and `smtp` are shared (read-only).
 */
#ifndef TLSOBS_FLOW_RECORD_H
#define TLSOBS_FLOW_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "parsers/packet_decode.h"
#include "parsers/smtp.h"
#include "rules/session.h"
#include "sensor/app/classify.h"
#include "sensor/flow/flow_consumer.h"
#include "sensor/flow/flow_table.h"

/* The mail ports, as bitmaps: one bit a TCP port. Shared by every worker (read-only). */
struct mail_ports {
	uint8_t service[65536 / 8];      /* SMTP and implicit-TLS ports: flows followed by port */
	uint8_t implicit_tls[65536 / 8]; /* TLS from the first byte */
	uint8_t smtps[65536 / 8];        /* implicit TLS that carries SMTP (network.protocol "smtp") */
};

void mail_ports_add(uint8_t *bitmap, const uint16_t *ports, size_t n);
bool mail_ports_has(const uint8_t *bitmap, uint16_t port);

struct flow_record_stats {
	uint64_t dump_errors;         /* flows whose --dump-streams file could not be written */
	uint64_t parser_memcap_stops; /* flows whose parsing stopped because the memcap had no room */
	uint64_t classified[4];       /* nDPI verdicts by enum classify_verdict */
	uint64_t hold_overflows;      /* flows off the mail ports whose first bytes outgrew the hold */
	uint64_t parsers_released;    /* sessions whose parsers were freed when decided and closed */
};

/* One worker's context for its records. */
struct flow_records {
	struct flow_table *flows;        /* the worker's: every record is charged to its memcap */
	struct classifier *classifier;   /* the worker's nDPI; NULL: no classification */
	const struct mail_ports *ports;  /* shared */
	const struct smtp_options *smtp; /* shared */
	const char *dump_dir;            /* --dump-streams; NULL: none */
	uint64_t now_us;                 /* the worker's packet clock */
	const char *interface;           /* the capture interface of the packet being handled, NULL unknown */
	struct flow_record_stats stats;
	/* Made at each flow's end for its session record, which is reported before the next one is made:
	 * records keep nDPI's verdict as ids and a risk bitmask, not as names. */
	char app_name[CLASSIFY_PROTOCOL_MAX];
	const char *risk_names[CLASSIFY_MAX_RISKS];
	const char *ingress_last; /* the interned name of the last interface seen (flow_record.c) */
};

struct flow_record;

/* The consumer the TCP tracker feeds (flow_consumer.h): opens, feeds and charges records. */
struct flow_consumer flow_record_consumer(struct flow_records *rs);
/* One packet of a flow still being classified, before its payload reaches the parsers. */
void flow_record_classify(struct flow_records *rs, struct flow *f, enum flow_dir dir,
                          const struct decoded_packet *p, uint64_t ts_us);
/* The flow ends: its last classification step (a verdict now if still pending). r may be NULL. */
void flow_record_classification_end(struct flow_records *rs, struct flow *f, struct flow_record *r);
/*
 * After each segment: a session that needs no more bytes (its handshake
 * decided and bypassed, or the flow closed by its peers with nothing left to
 * deliver) gives its parsers' memory back to the memcap and keeps only what
 * its event needs (the observations, packed). Late packets then only count.
 */
void flow_record_settle(struct flow_records *rs, struct flow *f);
/* Whether the flow's SMTP/TLS parsers were ours to feed (by port, or nDPI found mail). NULL: by port. */
bool flow_record_is_mail(const struct flow_record *r);
/*
 * The session record of a flow that ends (r may be NULL: no record could be
 * made), with everything a flow and its parsers know: endpoints, times, close
 * reason, stream counters, nDPI's application, protocol and the SMTP/TLS
 * observations. Ends the mail session. The session's id from run_nonce and the
 * flow's id. Not filled: what the process-wide services add (direction, geo,
 * certificate checks, alerts).
 */
void flow_record_session(struct flow_records *rs, const struct flow *f, struct flow_record *r,
                         enum flow_close_reason reason, uint64_t run_nonce, struct session *sess);
/* The interface the flow's first packet came in on, NULL unknown. */
const char *flow_record_ingress(const struct flow_record *r);
/* Frees the record and what its parsers hold (the table gives back its charge). NULL is a no-op. */
void flow_record_free(struct flow_record *r);

#endif
