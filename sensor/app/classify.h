/*
 * classify.h: which application protocol a TCP flow carries, by nDPI's deep packet inspection, so that
 * SMTP is found on any port. The one adapter to nDPI (4.2): nothing else includes its headers.
 *
 * Feed a flow's packets in capture order, both directions, from the IP header on. The verdict is PENDING
 * until nDPI recognises the protocol, or until CLASSIFY_MAX_PACKETS packets went by, or classify_finish()
 * at the flow's end: then ndpi_detection_giveup() decides without port guesses, so what nDPI cannot
 * recognise is OTHER ("Unknown"). Decisions are final. nDPI may read more packets after deciding, for
 * risks (SMTP: up to 12, looking for AUTH; TLS: up to 12, for the certificate), within the same cap;
 * classify_flow_done() says when more would change nothing, and from then on packets cost nothing.
 *
 * What nDPI 4.2 makes of our captures (tests/sensor/test_classify.c):
 *  - SMTP, on any port: SMTP at the server's EHLO reply (banner, EHLO, reply: packet 8 with the
 *    handshake and ACKs; 10 after a refused EHLO and HELO). A flow without payload is OTHER.
 *  - SMTP with STARTTLS: SMTP, decided before the upgrade; 4.2 does not follow STARTTLS into TLS.
 *  - Implicit TLS: SMTPS on 465 (a port hint on a TLS flow), at the ClientHello (packet 4); on any
 *    other port it is TLS, i.e. OTHER: implicit-TLS ports must stay configured.
 * Risks are nDPI's names ("Clear-Text Credentials", "Self-signed Certificate", ...) minus three that fire
 * on every normal mail flow: "Known Protocol on Non Standard Port" (all SMTP off 25, 587 included),
 * "TLS (probably) Not Carrying HTTPS" and "Missing SNI TLS Extension" (mail over TLS; MTAs often
 * send no SNI).
 *
 * Not thread-safe: one classifier per worker, created one at a time (nDPI's rule); its flows are used
 * by that worker only and freed before it.
 */
#ifndef TLSOBS_CLASSIFY_H
#define TLSOBS_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keep classify_verdict_str() in step. */
enum classify_verdict {
	CLASSIFY_PENDING = 0,
	CLASSIFY_MAIL_SMTP,  /* SMTP, with or without STARTTLS */
	CLASSIFY_MAIL_SMTPS, /* SMTP over implicit TLS, as nDPI can tell it (port 465) */
	CLASSIFY_OTHER,      /* anything else, recognised or not */
	CLASSIFY_VERDICT_COUNT
};

enum {
	CLASSIFY_MAX_PACKETS = 24,  /* packets per flow handed to nDPI, decision and metadata together */
	CLASSIFY_MAX_RISKS = 16,    /* room for classify_flow_risks(); nDPI 4.2 has 41 risks */
	CLASSIFY_PROTOCOL_MAX = 48, /* protocol name buffer, NUL included ("TLS.Google", ...) */
	CLASSIFY_WAIT_MAX = 512,    /* bytes of packets held while a flow waits for its client */
};

struct classify_stats {
	uint64_t flows[CLASSIFY_VERDICT_COUNT]; /* decided, by verdict; [PENDING]: freed undecided */
	uint64_t packets;                       /* handed to nDPI */
	uint64_t skipped; /* not one whole TCP segment in IPv4/IPv6 (see classify_packet): kept from nDPI */
	uint64_t giveups; /* decided by the cap or classify_finish() rather than recognised */
};

struct classifier;
struct classify_flow;

/* One nDPI detection module (~8 MB, ~17 ms to build) with only the SMTP, SMTPS and TLS dissectors
 * enabled: any other protocol is OTHER, named "Unknown" (or "TLS"). NULL: no memory. */
struct classifier *classifier_new(void);
/* The same with every nDPI dissector, for capture.all_flows, whose events name any protocol. */
struct classifier *classifier_new_all(void);
/* Another one (all_protocols: as classifier_new_all) built on a thread of its own while the first is
 * built: it leaves nDPI's one-time libgcrypt set-up, which is not thread-safe, to that first one. */
struct classifier *classifier_new_beside(bool all_protocols);
void classifier_free(struct classifier *c);
/* Made by classifier_new_all(). */
bool classifier_all_protocols(const struct classifier *c);
const struct classify_stats *classifier_stats(const struct classifier *c);

/* Per-flow state: 48 bytes until the first packet; nDPI's flow state (688 bytes with nDPI 4.2, and what
 * nDPI allocates for the flow itself) from then until the flow is done. NULL: no memory. */
struct classify_flow *classify_flow_new(struct classifier *c);
/*
 * A flow whose server speaks first (SMTP on a mail port): its packets are held
 * (CLASSIFY_WAIT_MAX bytes at most) until the client's first payload, then
 * handed to nDPI in their order with their times, as if nDPI had had them all
 * along; so a flood of connections that get a banner and go idle costs no
 * nDPI state. More than the hold takes, or classify_finish(), ends the wait the
 * same way. Before the first packet only.
 */
void classify_flow_wait_for_client(struct classify_flow *f);
/* Releases everything nDPI attached to the flow. NULL is a no-op. */
void classify_flow_free(struct classify_flow *f);
/* Heap bytes the flow holds now (its state, held packets, nDPI's state and what nDPI allocated for it, by
 * the heap's own count): charged to the flow memcap. 0 for NULL. */
size_t classify_flow_memory(const struct classify_flow *f);

/*
 * One packet: ip[0..len) from the IP header on; bytes past the IP length (Ethernet padding) are ignored,
 * a packet shorter than its IP length (snap length) or not one whole unfragmented TCP segment is only
 * counted as skipped. time_us: packet time; to_server: sent by the flow's client (our roles, not nDPI's
 * guess). Returns the verdict so far.
 */
enum classify_verdict classify_packet(struct classifier *c, struct classify_flow *f, const uint8_t *ip,
                                      size_t len, uint64_t time_us, bool to_server);
/* The flow ended: decides now if still pending. Returns the verdict. */
enum classify_verdict classify_finish(struct classifier *c, struct classify_flow *f);

enum classify_verdict classify_flow_verdict(const struct classify_flow *f);
/* True once more packets would change nothing. */
bool classify_flow_done(const struct classify_flow *f);
/* nDPI's name, "master.app" or "app" ("SMTP", "SMTPS", "TLS", "HTTP", "Unknown"); "" while pending. In a
 * per-thread buffer, valid until the next call. */
const char *classify_flow_protocol(const struct classify_flow *f);
/* Packets of this flow handed to nDPI so far; at the decision, how many it took. */
unsigned classify_flow_packets(const struct classify_flow *f);
unsigned classify_flow_decided_at(const struct classify_flow *f);
/* Up to max risk names (static strings), minus the suppressed ones; returns how many were written. */
size_t classify_flow_risks(const struct classify_flow *f, const char **names, size_t max);

/* What a flow's event needs of nDPI's verdict, 16 bytes, kept after the flow's state is freed. */
struct classify_result {
	uint64_t risks;       /* nDPI risk bits, suppressed ones cleared */
	uint16_t master, app; /* nDPI's protocol ids */
	bool decided;         /* false: pending, no name */
};
struct classify_result classify_flow_result(const struct classify_flow *f);
/* The result's name into buf (CLASSIFY_PROTOCOL_MAX bytes fit any), as classify_flow_protocol(); returns
 * buf. c: the classifier that decided it. */
const char *classify_result_protocol(const struct classifier *c, struct classify_result r, char *buf,
                                     size_t len);
/* As classify_flow_risks(). */
size_t classify_result_risks(struct classify_result r, const char **names, size_t max);

/* "pending", "smtp", "smtps", "other". */
const char *classify_verdict_str(enum classify_verdict v);
bool classify_verdict_is_mail(enum classify_verdict v);

#endif
