/*
 * classify.c: the nDPI 4.2 adapter (see classify.h). Nothing else in tlsobs includes nDPI.
 *
 * nDPI parses the packet again from the IP header; we check first that an IPv4 or IPv6 header and a
 * TCP header are really there (through the byte reader), so nDPI only ever sees whole headers and is
 * told the IP length, not the capture length. Who is the client is our decision (the flow's roles),
 * not nDPI's address comparison: ndpi_pref_direction_detect_disable, and the direction set per packet.
 */
#include "sensor/app/classify.h"

#include <malloc.h>
#include <ndpi_api.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
	bool all_protocols;   /* every dissector (capture.all_flows) */
	struct classify_stats stats;
};

/* Packets held while a flow waits for its client (classify_flow_wait_for_client): time (8 bytes), direction
 * (1), length (2), the IP packet. */
enum { WAIT_HEADER = 11, WAIT_STEP = 16 };

struct classify_flow {
	struct classifier *owner;      /* for the counters when freed undecided */
	struct ndpi_flow_struct *ndpi; /* nDPI's state: NULL before it starts and once released */
	uint8_t *wait;                 /* held packets, NULL when none */
	uint32_t wait_len, wait_cap;   /* bytes held, bytes allocated */
	uint32_t ndpi_heap;            /* what nDPI allocated for this flow itself (counted by our hooks) */
	uint16_t master, app;          /* nDPI's protocol ids, named by classify_result_protocol() */
	uint64_t risks;                /* nDPI risk bits, suppressed ones cleared */
	uint8_t verdict;               /* enum classify_verdict */
	uint8_t packets, decided_at;   /* within CLASSIFY_MAX_PACKETS */
	bool done;                     /* decided, and nDPI wants no more packets (or the cap was reached) */
	bool waiting;                  /* packets are held until the client's first payload */
	bool started;                  /* nDPI has its state (possibly released since) */
};

/*
 * What nDPI allocates per flow (host names, certificate names, reassembly
 * buffers) goes through ndpi_malloc/ndpi_free: counted per thread (one
 * classifier per worker thread) by the heap's own size of each block, so a
 * flow's share is the difference around each call for it. Counting only: the
 * blocks are the C library's, so a block nDPI frees with free() (or we with
 * ndpi_free) is never misread.
 */
static _Thread_local int64_t ndpi_heap_now;

static void *counted_malloc(size_t n)
{
	void *p = malloc(n);
	if (p)
		ndpi_heap_now += (int64_t)malloc_usable_size(p);
	return p;
}

static void counted_free(void *p)
{
	if (p)
		ndpi_heap_now -= (int64_t)malloc_usable_size(p);
	free(p);
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void set_hooks(void)
{
	set_ndpi_malloc(counted_malloc);
	set_ndpi_free(counted_free);
}

/* Adds what nDPI allocated (or freed) for f since `before` to f's share. */
static void account(struct classify_flow *f, int64_t before)
{
	int64_t share = (int64_t)f->ndpi_heap + (ndpi_heap_now - before);
	f->ndpi_heap = share < 0 ? 0 : share > UINT32_MAX ? UINT32_MAX : (uint32_t)share;
}

static struct classifier *make_classifier(bool all_protocols, ndpi_init_prefs prefs)
{
	struct classifier *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_once(&hooks_once, set_hooks); /* before nDPI allocates anything */
	c->ndpi = ndpi_init_detection_module(prefs);
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
	c->all_protocols = all_protocols;
	ndpi_set_protocol_detection_bitmask2(c->ndpi, &ours);
	ndpi_set_detection_preferences(c->ndpi, ndpi_pref_direction_detect_disable, 1);
	ndpi_finalize_initialization(c->ndpi);
	for (size_t i = 0; i < sizeof suppressed_risks / sizeof suppressed_risks[0]; i++)
		c->suppressed |= 1ULL << suppressed_risks[i];
	return c;
}

struct classifier *classifier_new(void)
{
	return make_classifier(false, ndpi_no_prefs);
}

struct classifier *classifier_new_all(void)
{
	return make_classifier(true, ndpi_no_prefs);
}

struct classifier *classifier_new_beside(bool all_protocols)
{
	return make_classifier(all_protocols, ndpi_dont_init_libgcrypt);
}

void classifier_free(struct classifier *c)
{
	if (!c)
		return;
	ndpi_exit_detection_module(c->ndpi);
	free(c);
}

bool classifier_all_protocols(const struct classifier *c)
{
	return c->all_protocols;
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

void classify_flow_wait_for_client(struct classify_flow *f)
{
	if (!f->started)
		f->waiting = true;
}

/* nDPI's state for f, made at its first packet (nDPI wants it zeroed before then). */
static bool start_ndpi(struct classify_flow *f)
{
	if (!f->started)
		f->ndpi = calloc(1, sizeof *f->ndpi);
	f->started = true;
	return f->ndpi != NULL;
}

static void release_ndpi(struct classify_flow *f)
{
	if (!f->ndpi)
		return;
	/* Freed in two steps as nDPI made it: what hangs off the struct, then the struct (ours). */
	int64_t before = ndpi_heap_now;
	ndpi_free_flow_data(f->ndpi);
	account(f, before);
	free(f->ndpi);
	f->ndpi = NULL;
	f->ndpi_heap = 0;
}

static void drop_wait(struct classify_flow *f)
{
	free(f->wait);
	f->wait = NULL;
	f->wait_len = f->wait_cap = 0;
}

void classify_flow_free(struct classify_flow *f)
{
	if (!f)
		return;
	if (f->verdict == CLASSIFY_PENDING && f->owner)
		f->owner->stats.flows[CLASSIFY_PENDING]++;
	release_ndpi(f);
	drop_wait(f);
	free(f);
}

size_t classify_flow_memory(const struct classify_flow *f)
{
	if (!f)
		return 0;
	return sizeof *f + f->wait_cap + (f->ndpi ? sizeof *f->ndpi + f->ndpi_heap : 0);
}

/*
 * Length of the IP packet at ip[0..len) when it is one whole, unfragmented TCP segment: an IPv4 header,
 * or an IPv6 header with TCP as its next header, and a TCP header, all within the IP length; 0
 * otherwise. IPv6 extension headers are not walked here nor left to nDPI: rare on TCP, and skipped.
 * nDPI takes the length as an unsigned short: larger packets (GRO captures) are skipped too.
 * *payload: the TCP payload's length.
 */
static size_t whole_tcp_packet(const uint8_t *ip, size_t len, size_t *payload)
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
	*payload = total - header - offset;
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
	f->verdict = (uint8_t)verdict_of(p);
	f->decided_at = f->packets;
	c->stats.flows[f->verdict]++;
	f->master = p.master_protocol;
	f->app = p.app_protocol;
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
	if (f->ndpi)
		f->risks = f->ndpi->risk & ~c->suppressed;
	f->done = true;
	release_ndpi(f);
	drop_wait(f);
}

/* One whole TCP packet to nDPI (its state made if need be). */
static void process(struct classifier *c, struct classify_flow *f, const uint8_t *ip, size_t n,
                    uint64_t time_us, bool to_server)
{
	if (f->done || !start_ndpi(f))
		return;
	/* Direction detection is off: nDPI takes the direction from the flow, ours (0: to server). */
	f->ndpi->packet_direction = to_server ? 0 : 1;
	int64_t before = ndpi_heap_now;
	ndpi_protocol p =
	    ndpi_detection_process_packet(c->ndpi, f->ndpi, ip, (unsigned short)n, time_us / 1000);
	account(f, before);
	f->packets++;
	c->stats.packets++;
	f->risks = f->ndpi->risk & ~c->suppressed;
	if (f->verdict == CLASSIFY_PENDING && recognised(p))
		decide(c, f, p);
	if (f->packets >= CLASSIFY_MAX_PACKETS) {
		if (f->verdict == CLASSIFY_PENDING)
			classify_finish(c, f);
		else
			finish(c, f);
	} else if (f->verdict != CLASSIFY_PENDING && !wants_more(f->ndpi)) {
		finish(c, f);
	}
}

/* Holds a packet while the flow waits for its client; false when it does not fit (WAIT_MAX). */
static bool hold_packet(struct classify_flow *f, const uint8_t *ip, size_t n, uint64_t time_us,
                        bool to_server)
{
	size_t need = (size_t)f->wait_len + WAIT_HEADER + n;
	if (need > CLASSIFY_WAIT_MAX)
		return false;
	if (need > f->wait_cap) {
		size_t cap = (need + WAIT_STEP - 1) / WAIT_STEP * WAIT_STEP;
		uint8_t *grown = realloc(f->wait, cap);
		if (!grown)
			return false;
		f->wait = grown;
		f->wait_cap = (uint32_t)cap;
	}
	uint8_t *at = f->wait + f->wait_len;
	memcpy(at, &time_us, sizeof time_us);
	at[8] = to_server;
	at[9] = (uint8_t)(n >> 8);
	at[10] = (uint8_t)n;
	memcpy(at + WAIT_HEADER, ip, n);
	f->wait_len = (uint32_t)need;
	return true;
}

/* The wait is over: nDPI gets the held packets, in their order, with their times. */
static void replay_wait(struct classifier *c, struct classify_flow *f)
{
	f->waiting = false;
	for (size_t at = 0; f->wait && f->wait_len - at >= WAIT_HEADER;) {
		uint64_t t;
		memcpy(&t, f->wait + at, sizeof t);
		bool to_server = f->wait[at + 8];
		size_t n = (size_t)f->wait[at + 9] << 8 | f->wait[at + 10];
		process(c, f, f->wait + at + WAIT_HEADER, n, t, to_server);
		at += WAIT_HEADER + n;
	}
	drop_wait(f);
}

enum classify_verdict classify_packet(struct classifier *c, struct classify_flow *f, const uint8_t *ip,
                                      size_t len, uint64_t time_us, bool to_server)
{
	if (f->done)
		return (enum classify_verdict)f->verdict;
	size_t payload = 0, n = whole_tcp_packet(ip, len, &payload);
	if (n == 0) {
		c->stats.skipped++;
		return (enum classify_verdict)f->verdict;
	}
	if (f->waiting) {
		if (!(to_server && payload > 0) && hold_packet(f, ip, n, time_us, to_server))
			return (enum classify_verdict)f->verdict;
		replay_wait(c,
		            f); /* the client spoke, or too much to hold: as if nDPI had had them all along */
	}
	process(c, f, ip, n, time_us, to_server);
	return (enum classify_verdict)f->verdict;
}

enum classify_verdict classify_finish(struct classifier *c, struct classify_flow *f)
{
	if (f->waiting)
		replay_wait(c, f);
	if (f->verdict == CLASSIFY_PENDING) {
		uint8_t guessed = 0;
		ndpi_protocol p = {0};
		/* No port guess: a verdict from the port alone is what the sensor's port list gives. */
		if (start_ndpi(f)) {
			int64_t before = ndpi_heap_now;
			p = ndpi_detection_giveup(c->ndpi, f->ndpi, 0, &guessed);
			account(f, before);
		}
		c->stats.giveups++;
		decide(c, f, p);
	}
	if (!f->done)
		finish(c, f);
	return (enum classify_verdict)f->verdict;
}

enum classify_verdict classify_flow_verdict(const struct classify_flow *f)
{
	return (enum classify_verdict)f->verdict;
}

bool classify_flow_done(const struct classify_flow *f)
{
	return f->done;
}

struct classify_result classify_flow_result(const struct classify_flow *f)
{
	return (struct classify_result){f->risks, f->master, f->app, f->verdict != CLASSIFY_PENDING};
}

const char *classify_result_protocol(const struct classifier *c, struct classify_result r, char *buf,
                                     size_t len)
{
	if (len == 0)
		return "";
	buf[0] = '\0';
	if (r.decided) {
		ndpi_protocol p = {.master_protocol = r.master, .app_protocol = r.app};
		ndpi_protocol2name(c->ndpi, p, buf, (u_int)len);
		buf[len - 1] = '\0';
	}
	return buf;
}

const char *classify_flow_protocol(const struct classify_flow *f)
{
	/* One buffer per thread: the name is read before the next call (tests, the fuzz harness). */
	static _Thread_local char name[CLASSIFY_PROTOCOL_MAX];
	return classify_result_protocol(f->owner, classify_flow_result(f), name, sizeof name);
}

unsigned classify_flow_packets(const struct classify_flow *f)
{
	return f->packets;
}

unsigned classify_flow_decided_at(const struct classify_flow *f)
{
	return f->decided_at;
}

size_t classify_result_risks(struct classify_result r, const char **names, size_t max)
{
	size_t n = 0;
	for (int k = NDPI_NO_RISK + 1; k < NDPI_MAX_RISK && n < max; k++)
		if (r.risks & (1ULL << k))
			names[n++] = ndpi_risk2str((ndpi_risk_enum)k);
	return n;
}

size_t classify_flow_risks(const struct classify_flow *f, const char **names, size_t max)
{
	return classify_result_risks(classify_flow_result(f), names, max);
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
