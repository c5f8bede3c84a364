/*
 * classify.c: the nDPI 4.2 adapter (see classify.h). Nothing else in tlsobs includes nDPI.
 *
 * nDPI parses the packet again from the IP header; we check first that an IPv4 or IPv6 header and a
 * TCP header are really there (through the byte reader), so nDPI only ever sees whole headers and is
 * told the IP length, not the capture length. Who is the client is our decision (the flow's roles),
 * not nDPI's address comparison: ndpi_pref_direction_detect_disable, and the direction set per packet.
 */
#include "sensor/app/classify.h"

#include <ndpi_api.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "parsers/reader.h"

/*
 * Risks that fire on every normal mail flow, so they say nothing about this one:
 *  - KNOWN_PROTOCOL_ON_NON_STANDARD_PORT: SMTP on 587, 2525, 10025, ... is what this module is for;
 *  - TLS_NOT_CARRYING_HTTPS: nDPI expects HTTPS in TLS; SMTPS never is;
 *  - TLS_MISSING_SNI: many MTAs send no SNI, and nDPI sets it on TLS flows it saw no SNI in.
 */
static const ndpi_risk_enum suppressed_risks[] = {
    NDPI_KNOWN_PROTOCOL_ON_NON_STANDARD_PORT,
    NDPI_TLS_NOT_CARRYING_HTTPS,
    NDPI_TLS_MISSING_SNI,
};

struct classifier {
	struct ndpi_detection_module_struct *ndpi;
	ndpi_risk suppressed; /* bitmask of suppressed_risks */
	struct classify_stats stats;
};

struct classify_flow {
	struct classifier *owner; /* for the counters when freed undecided */
	enum classify_verdict verdict;
	bool done;          /* decided, and nDPI wants no more packets (or the cap was reached) */
	bool ndpi_released; /* nDPI's allocations hanging off `ndpi` are freed */
	unsigned packets, decided_at;
	ndpi_risk risks; /* nDPI risk bits, suppressed ones cleared */
	char protocol[CLASSIFY_PROTOCOL_MAX];
	struct ndpi_flow_struct ndpi; /* nDPI wants it zeroed before the first packet (calloc) */
};

static struct classifier *make_classifier(bool all_protocols)
{
	struct classifier *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
	if (!c->ndpi) {
		free(c);
		return NULL;
	}
	/* Only the dissectors whose decisions we use run on hostile payloads (less code exposed to them):
	 * SMTP, SMTPS and the TLS one SMTPS is found through; every other protocol is OTHER ("Unknown")
	 * without being parsed. */
	NDPI_PROTOCOL_BITMASK ours;
	NDPI_BITMASK_RESET(ours);
	NDPI_BITMASK_ADD(ours, NDPI_PROTOCOL_MAIL_SMTP);
	NDPI_BITMASK_ADD(ours, NDPI_PROTOCOL_MAIL_SMTPS);
	NDPI_BITMASK_ADD(ours, NDPI_PROTOCOL_TLS);
	if (all_protocols) /* capture.all_flows: the operator asked for every flow's protocol name */
		NDPI_BITMASK_SET_ALL(ours);
	ndpi_set_protocol_detection_bitmask2(c->ndpi, &ours);
	ndpi_set_detection_preferences(c->ndpi, ndpi_pref_direction_detect_disable, 1);
	ndpi_finalize_initialization(c->ndpi);
	for (size_t i = 0; i < sizeof suppressed_risks / sizeof suppressed_risks[0]; i++)
		c->suppressed |= 1ULL << suppressed_risks[i];
	return c;
}

struct classifier *classifier_new(void)
{
	return make_classifier(false);
}

struct classifier *classifier_new_all(void)
{
	return make_classifier(true);
}

void classifier_free(struct classifier *c)
{
	if (!c)
		return;
	ndpi_exit_detection_module(c->ndpi);
	free(c);
}

const struct classify_stats *classifier_stats(const struct classifier *c)
{
	return &c->stats;
}

struct classify_flow *classify_flow_new(struct classifier *c)
{
	struct classify_flow *f = calloc(1, sizeof *f);
	if (f)
		f->owner = c;
	return f;
}

static void release_ndpi(struct classify_flow *f)
{
	/* The struct is ours (inside f), only what hangs off it is nDPI's: so not ndpi_free_flow(). */
	if (!f->ndpi_released)
		ndpi_free_flow_data(&f->ndpi);
	f->ndpi_released = true;
}

void classify_flow_free(struct classify_flow *f)
{
	if (!f)
		return;
	if (f->verdict == CLASSIFY_PENDING && f->owner)
		f->owner->stats.flows[CLASSIFY_PENDING]++;
	release_ndpi(f);
	free(f);
}

/* nDPI allocates a little per flow behind our back (host names, buffers): charged as a flat allowance. */
enum { NDPI_FLOW_ALLOWANCE = 1024 };

size_t classify_flow_size(void)
{
	return sizeof(struct classify_flow) + NDPI_FLOW_ALLOWANCE;
}

/*
 * Length of the IP packet at ip[0..len) when it is one whole, unfragmented TCP segment: an IPv4 header,
 * or an IPv6 header with TCP as its next header, and a TCP header, all within the IP length; 0
 * otherwise. IPv6 extension headers are not walked here nor left to nDPI: rare on TCP, and skipped.
 * nDPI takes the length as an unsigned short: larger packets (GRO captures) are skipped too.
 */
static size_t whole_tcp_packet(const uint8_t *ip, size_t len)
{
	struct reader r = reader_make(ip, len);
	size_t header, total;
	uint8_t first = reader_u8(&r);
	if (first >> 4 == 4) {
		header = (size_t)(first & 0x0f) * 4;
		reader_skip(&r, 1);
		total = reader_u16(&r);
		reader_skip(&r, 2);
		uint16_t fragment = reader_u16(&r) & 0x3fff; /* MF and the offset */
		reader_skip(&r, 1);
		if (reader_u8(&r) != IPPROTO_TCP || fragment != 0 || header < 20 || total < header)
			return 0;
	} else if (first >> 4 == 6) {
		reader_skip(&r, 3);
		total = 40 + (size_t)reader_u16(&r);
		header = 40;
		if (reader_u8(&r) != IPPROTO_TCP)
			return 0;
	} else {
		return 0;
	}
	if (reader_failed(&r) || total > len || total > 0xffff)
		return 0;
	struct reader tcp = reader_make(ip + header, total - header);
	reader_skip(&tcp, 12);
	size_t offset = (size_t)(reader_u8(&tcp) >> 4) * 4; /* TCP data offset */
	if (reader_failed(&tcp) || offset < 20 || offset > total - header)
		return 0;
	return total;
}

static enum classify_verdict verdict_of(ndpi_protocol p)
{
	if (p.app_protocol == NDPI_PROTOCOL_MAIL_SMTPS || p.master_protocol == NDPI_PROTOCOL_MAIL_SMTPS)
		return CLASSIFY_MAIL_SMTPS;
	if (p.app_protocol == NDPI_PROTOCOL_MAIL_SMTP || p.master_protocol == NDPI_PROTOCOL_MAIL_SMTP)
		return CLASSIFY_MAIL_SMTP;
	return CLASSIFY_OTHER;
}

static bool recognised(ndpi_protocol p)
{
	return p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN;
}

static void decide(struct classifier *c, struct classify_flow *f, ndpi_protocol p)
{
	f->verdict = verdict_of(p);
	f->decided_at = f->packets;
	c->stats.flows[f->verdict]++;
	ndpi_protocol2name(c->ndpi, p, f->protocol, sizeof f->protocol);
	f->protocol[sizeof f->protocol - 1] = '\0';
}

/*
 * Whether nDPI would still read packets of a recognised flow for metadata (certificate, credentials).
 * Its own flags, not ndpi_extra_dissection_possible(): in 4.2 that one knows nothing of SMTPS, whose
 * TLS dissection goes on for up to 12 packets and finds the certificate risks.
 */
static bool wants_more(const struct ndpi_flow_struct *nf)
{
	return nf->check_extra_packets && nf->extra_packets_func != NULL;
}

/* Done: keep what we report, give nDPI's allocations back now rather than at the flow's end. */
static void finish(struct classifier *c, struct classify_flow *f)
{
	f->risks = f->ndpi.risk & ~c->suppressed;
	f->done = true;
	release_ndpi(f);
}

enum classify_verdict classify_packet(struct classifier *c, struct classify_flow *f, const uint8_t *ip,
                                      size_t len, uint64_t time_us, bool to_server)
{
	if (f->done)
		return f->verdict;
	size_t n = whole_tcp_packet(ip, len);
	if (n == 0) {
		c->stats.skipped++;
		return f->verdict;
	}
	/* Direction detection is off: nDPI takes the direction from the flow, ours (0: to server). */
	f->ndpi.packet_direction = to_server ? 0 : 1;
	ndpi_protocol p =
	    ndpi_detection_process_packet(c->ndpi, &f->ndpi, ip, (unsigned short)n, time_us / 1000);
	f->packets++;
	c->stats.packets++;
	f->risks = f->ndpi.risk & ~c->suppressed;
	if (f->verdict == CLASSIFY_PENDING && recognised(p))
		decide(c, f, p);
	if (f->packets >= CLASSIFY_MAX_PACKETS) {
		if (f->verdict == CLASSIFY_PENDING)
			return classify_finish(c, f);
		finish(c, f);
	} else if (f->verdict != CLASSIFY_PENDING && !wants_more(&f->ndpi)) {
		finish(c, f);
	}
	return f->verdict;
}

enum classify_verdict classify_finish(struct classifier *c, struct classify_flow *f)
{
	if (f->verdict == CLASSIFY_PENDING) {
		uint8_t guessed = 0;
		/* No port guess: a verdict from the port alone is what the sensor's port list gives. */
		ndpi_protocol p = ndpi_detection_giveup(c->ndpi, &f->ndpi, 0, &guessed);
		c->stats.giveups++;
		decide(c, f, p);
	}
	if (!f->done)
		finish(c, f);
	return f->verdict;
}

enum classify_verdict classify_flow_verdict(const struct classify_flow *f)
{
	return f->verdict;
}

bool classify_flow_done(const struct classify_flow *f)
{
	return f->done;
}

const char *classify_flow_protocol(const struct classify_flow *f)
{
	return f->protocol;
}

unsigned classify_flow_packets(const struct classify_flow *f)
{
	return f->packets;
}

unsigned classify_flow_decided_at(const struct classify_flow *f)
{
	return f->decided_at;
}

size_t classify_flow_risks(const struct classify_flow *f, const char **names, size_t max)
{
	size_t n = 0;
	for (int r = NDPI_NO_RISK + 1; r < NDPI_MAX_RISK && n < max; r++)
		if (f->risks & (1ULL << r))
			names[n++] = ndpi_risk2str((ndpi_risk_enum)r);
	return n;
}

const char *classify_verdict_str(enum classify_verdict v)
{
	switch (v) {
	case CLASSIFY_PENDING:
		return "pending";
	case CLASSIFY_MAIL_SMTP:
		return "smtp";
	case CLASSIFY_MAIL_SMTPS:
		return "smtps";
	case CLASSIFY_OTHER:
		return "other";
	case CLASSIFY_VERDICT_COUNT:
		break;
	}
	return "unknown";
}

bool classify_verdict_is_mail(enum classify_verdict v)
{
	return v == CLASSIFY_MAIL_SMTP || v == CLASSIFY_MAIL_SMTPS;
}
