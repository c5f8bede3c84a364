/*
 * report_event.h: a session event (docs/events.md), read back from its JSON, and the notes the sensor's
 * state_sync.c queued for that session: per partner or domain and day (coverage), per outbound session
 * (TLS-RPT, RFC 8460), per certificate seen. The reports from Kafka (report_kafka.h) write these notes
 * into a state database of their own, so the reports read the same aggregates, through the same
 * queries and the same caps, as from a sensor's state_db.
 *
 * The event's bytes come from a topic anyone with write access can fill: they are read with the bounded
 * scanner (parsers/json_scan.h), every field is cut at its cap, and what cannot be read is counted, never
 * trusted. Only what the notes need is kept (struct report_event).
 */
#ifndef TLSOBS_REPORT_EVENT_H
#define TLSOBS_REPORT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/smtp.h"
#include "rules/policy.h"
#include "sensor/state/state_db.h"

enum { REPORT_EVENT_TOKEN_MAX = 32 };

/* The fields of one session event the notes are made of; "" for a field the event does not have. */
struct report_event {
	bool session;              /* event.dataset is tlsobs.session */
	bool mail;                 /* the sensor handled it as mail (tlsobs.smtp, or smtp/tls protocol) */
	bool smtp;                 /* it has tlsobs.smtp */
	uint64_t start_us, end_us; /* event.start, event.end */
	char client_ip[STATE_DB_IP_CAP]; /* source.ip */
	char server_ip[STATE_DB_IP_CAP]; /* destination.ip */
	uint16_t server_port;            /* destination.port */
	char direction[REPORT_EVENT_TOKEN_MAX];
	char partner[STATE_DB_NAME_CAP]; /* tlsobs.partner.domain */
	char rcpt_domain[SMTP_NAME_MAX]; /* the first of tlsobs.smtp.rcpt_to_domains */
	unsigned rcpt_domains;           /* how many */
	char banner[SMTP_TEXT_MAX];
	char ehlo_greeting[SMTP_NAME_MAX];
	bool data_in_clear;
	uint64_t messages, unprotected; /* tlsobs.smtp.content_protection */
	char starttls_result[REPORT_EVENT_TOKEN_MAX];
	char tls_outcome[REPORT_EVENT_TOKEN_MAX]; /* tlsobs.tls.outcome */
	char tls_version[REPORT_EVENT_TOKEN_MAX]; /* tls.version */
	char sni[SMTP_NAME_MAX];                  /* tls.client.server_name */
	char dane_status[REPORT_EVENT_TOKEN_MAX]; /* tlsobs.dane.status */
	char x509_status[REPORT_EVENT_TOKEN_MAX]; /* tlsobs.tls.validation.status */
	/* The leaf certificate (tls.server.*), when the session showed one: cert_sha256 set. */
	char cert_sha256[STATE_DB_SHA256_CAP];
	char cert_subject[STATE_DB_NAME_CAP], cert_issuer[STATE_DB_NAME_CAP];
	char cert_sans[STATE_DB_SANS_CAP]; /* alternative_names joined with ',' as state_sync does */
	int64_t cert_not_after;
	unsigned cut; /* fields cut at their cap */
};

enum report_event_result {
	REPORT_EVENT_SESSION,   /* a mail session: its notes can be made */
	REPORT_EVENT_SKIPPED,   /* valid, but no mail session (another event type, a flow that is not mail) */
	REPORT_EVENT_MALFORMED, /* not JSON, or a session event without the times or endpoints it must have */
};

/* Reads one event into *out (cleared first). */
enum report_event_result report_event_decode(const uint8_t *data, size_t len, struct report_event *out);

/* The packet time state_sync used for the session's notes: its end (its start when that is later). */
uint64_t report_event_time_us(const struct report_event *e);

/*
 * Queues on db the notes the sensor queued for this session (state_sync_session): coverage, the
 * certificate, and for an outbound session its TLS-RPT verdict, classified against p (borrowed; the
 * configuration's policy: MTA-STS policies decide sts/no-policy-found as at the sensor). Returns false
 * when the session was undecided for TLS-RPT (counted apart, as state_sync does).
 */
struct report_event_notes;
struct report_event_notes *report_event_notes_new(const struct policy *p);
void report_event_notes_free(struct report_event_notes *n);
bool report_event_notes_queue(struct report_event_notes *n, const struct report_event *e,
                              struct state_db *db);

#endif
