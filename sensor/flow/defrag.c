/*
 * defrag.c: IPv4 and IPv6 fragment reassembly.
 *
 * References:
 *   IPv4 fragmentation               RFC 791 3.2 (identified by source, destination, protocol, id)
 *   IPv6 Fragment header             RFC 8200 4.5 (source, destination, id; unfragmentable part
 *                                    from the offset-0 fragment; M=1 data a multiple of 8 octets)
 *   Hole bookkeeping                 RFC 815 (here: a sorted list of the ranges held, merged)
 *   Overlaps                         RFC 5722 (IPv6 hosts drop them), RFC 1858 (tiny/overlapping
 *                                    fragments as filter evasion)
 *
 * A datagram in reassembly is found by a keyed hash (SipHash: attackers pick
 * the addresses and ids) of its identity plus the VLAN ids of the link (and
 * the tunnel it came through: kind, id and outer addresses), as
 * Suricata keys its trackers, so two VLANs never mix their fragments. It
 * holds the data at its offsets in one buffer grown as fragments arrive and
 * the ranges of it already held. Datagrams sit on an age list in order of
 * their first fragment: the timeout walks it from the oldest, and so does the
 * memcap, which gives up the oldest datagrams to make room (as Linux's
 * inet_frag evictor does), never the flows (their memcap is another).
 *
 * A fragment is dropped as invalid (counted, its datagram kept) when it is a
 * non-last fragment with an empty or non-multiple-of-8 length (RFC 8200 4.5
 * says to discard it; RFC 791 fragments on 8-octet boundaries), or when it
 * disagrees with the last fragment already seen on where the datagram ends.
 */
#include "sensor/flow/defrag.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <time.h>

#include "sensor/flow/memcap.h"
#include "sensor/flow/siphash.h"

enum {
	DEFRAG_BUCKETS = 4096,
	DEFRAG_IP_MAX = 65535, /* IPv4 Total Length, IPv6 Payload Length */
	DEFRAG_IPV6_HEADER = 40,
	/* The largest datagram handed out: an IPv6 header in front of 65535 bytes of payload. */
	DEFRAG_OUT_MAX = DEFRAG_IP_MAX + DEFRAG_IPV6_HEADER,
};

struct defrag_key {
	uint8_t family, proto, vlan_count, tunnel_type;
	uint32_t id;
	uint8_t src[16], dst[16];
	uint16_t vlan[DECODE_MAX_VLAN];
	/* Inside a tunnel, the tunnel too: two mirrored sites may carry the same inner addresses and id. */
	uint32_t tunnel_id;
	uint8_t tunnel_src[16], tunnel_dst[16];
};

struct range {
	uint32_t start, end; /* [start, end) of the fragmentable part held */
};

struct datagram {
	struct defrag_key key;
	struct datagram *hash_next;
	TAILQ_ENTRY(datagram) age; /* head: the oldest */
	uint64_t first_us;
	uint32_t fragments;
	uint64_t wire_bytes;
	uint32_t end; /* where the last fragment (M=0) says the data ends, when have_last */
	bool have_last;
	uint8_t *hdr; /* the offset-0 fragment's header (unfragmentable part), NULL until it came */
	uint32_t hdr_len, next_header_at;
	uint8_t next_proto; /* IPv6: the fragmentable part's first header, from the offset-0 fragment */
	uint8_t *data;
	uint32_t data_cap;
	struct range *ranges;
	uint32_t nranges, ranges_cap;
	struct decoded_packet link;
	uint64_t charged;
};

struct defrag {
	struct defrag_settings settings;
	struct defrag_stats stats;
	struct memcap mem;
	uint8_t hash_key[16];
	struct datagram *buckets[DEFRAG_BUCKETS];
	TAILQ_HEAD(datagram_age, datagram) age;
	uint8_t out[DEFRAG_OUT_MAX];
};

struct defrag *defrag_new(const struct defrag_settings *settings)
{
	struct defrag *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->settings = *settings;
	d->mem.cap = settings->memcap;
	TAILQ_INIT(&d->age);
	if (getrandom(d->hash_key, sizeof d->hash_key, 0) != (ssize_t)sizeof d->hash_key) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		memcpy(d->hash_key, &ts, sizeof ts < sizeof d->hash_key ? sizeof ts : sizeof d->hash_key);
	}
	return d;
}

static void make_key(const struct decoded_packet *p, struct defrag_key *k)
{
	memset(k, 0, sizeof *k);
	k->family = p->src.family;
	/* RFC 8200 4.5 identifies an IPv6 datagram without the next header. */
	k->proto = p->src.family == 4 ? p->frag.proto : 0;
	k->id = p->frag.id;
	memcpy(k->src, p->src.bytes, sizeof k->src);
	memcpy(k->dst, p->dst.bytes, sizeof k->dst);
	k->vlan_count = p->encap.vlan_count;
	memcpy(k->vlan, p->encap.vlan, sizeof k->vlan);
	if (p->encap.tunnels) {
		k->tunnel_type = p->encap.tunnel_type;
		k->tunnel_id = p->encap.tunnel_has_id ? p->encap.tunnel_id : 0;
		memcpy(k->tunnel_src, p->encap.tunnel_src.bytes, sizeof k->tunnel_src);
		memcpy(k->tunnel_dst, p->encap.tunnel_dst.bytes, sizeof k->tunnel_dst);
	}
}

static struct datagram **bucket_of(struct defrag *d, const struct defrag_key *k)
{
	return &d->buckets[siphash24(d->hash_key, k, sizeof *k) % DEFRAG_BUCKETS];
}

/* Reserves n bytes for dg (NULL: a datagram about to be made), giving up the oldest others to make room. */
static void release(struct defrag *d, struct datagram *dg, uint64_t *reason);
static bool charge(struct defrag *d, struct datagram *dg, uint64_t n)
{
	while (!memcap_reserve(&d->mem, n)) {
		struct datagram *victim = TAILQ_FIRST(&d->age);
		if (victim == NULL || victim == dg)
			return false;
		release(d, victim, &d->stats.gave_up_memcap);
	}
	if (dg)
		dg->charged += n;
	d->stats.memory_used = d->mem.used;
	d->stats.memory_peak = d->mem.peak;
	return true;
}

/* Unlinks and frees dg; counts it under *reason (NULL: completed). */
static void release(struct defrag *d, struct datagram *dg, uint64_t *reason)
{
	if (reason)
		(*reason)++;
	struct datagram **at = bucket_of(d, &dg->key);
	while (*at != dg)
		at = &(*at)->hash_next;
	*at = dg->hash_next;
	TAILQ_REMOVE(&d->age, dg, age);
	memcap_release(&d->mem, dg->charged);
	d->stats.memory_used = d->mem.used;
	d->stats.active--;
	free(dg->hdr);
	free(dg->data);
	free(dg->ranges);
	free(dg);
}

static struct datagram *find_or_make(struct defrag *d, const struct defrag_key *k, uint64_t now_us)
{
	for (struct datagram *dg = *bucket_of(d, k); dg; dg = dg->hash_next)
		if (memcmp(&dg->key, k, sizeof *k) == 0)
			return dg;
	if (!charge(d, NULL, sizeof(struct datagram))) {
		d->stats.gave_up_memcap++;
		return NULL;
	}
	struct datagram *dg = calloc(1, sizeof *dg);
	if (!dg) {
		memcap_release(&d->mem, sizeof(struct datagram));
		d->stats.gave_up_memcap++;
		return NULL;
	}
	dg->key = *k;
	dg->first_us = now_us;
	dg->charged = sizeof *dg;
	struct datagram **b = bucket_of(d, k);
	dg->hash_next = *b;
	*b = dg;
	TAILQ_INSERT_TAIL(&d->age, dg, age);
	d->stats.active++;
	return dg;
}

void defrag_expire(struct defrag *d, uint64_t now_us)
{
	/* Packet time may step back a little between sources: a datagram from the future is not old. */
	struct datagram *dg;
	while ((dg = TAILQ_FIRST(&d->age)) && now_us >= dg->first_us &&
	       now_us - dg->first_us >= d->settings.timeout_us)
		release(d, dg, &d->stats.timeouts);
}

/* Room for `end` bytes of data and one more range, charged before it is taken. */
static bool make_room(struct defrag *d, struct datagram *dg, uint32_t end)
{
	if (end > dg->data_cap) {
		uint32_t cap = dg->data_cap * 2 > end ? dg->data_cap * 2 : end;
		if (cap > DEFRAG_IP_MAX)
			cap = DEFRAG_IP_MAX;
		if (!charge(d, dg, cap - dg->data_cap))
			return false;
		uint8_t *grown = realloc(dg->data, cap);
		if (!grown)
			return false;
		dg->data = grown;
		dg->data_cap = cap;
	}
	if (dg->nranges == dg->ranges_cap) {
		uint32_t cap = dg->ranges_cap ? dg->ranges_cap * 2 : 4;
		if (!charge(d, dg, (uint64_t)(cap - dg->ranges_cap) * sizeof(struct range)))
			return false;
		struct range *grown = realloc(dg->ranges, cap * sizeof *grown);
		if (!grown)
			return false;
		dg->ranges = grown;
		dg->ranges_cap = cap;
	}
	return true;
}

/*
 * Copies the fragment's bytes into the holes of [a, b) (first wins) and
 * merges [a, b) into the ranges held. True when held bytes differed.
 */
static bool insert(struct datagram *dg, uint32_t a, uint32_t b, const uint8_t *bytes)
{
	bool conflict = false;
	uint32_t pos = a;
	uint32_t first = 0, last = 0; /* ranges[first, last) touch [a, b) and merge with it */
	bool found = false;
	for (uint32_t i = 0; i < dg->nranges; i++) {
		struct range r = dg->ranges[i];
		if (r.end < a) /* adjacent (r.end == a) merges too */
			continue;
		if (r.start > b)
			break;
		if (!found)
			first = i, found = true;
		last = i + 1;
		if (r.end <= pos || r.start >= b)
			continue;
		if (r.start > pos)
			memcpy(dg->data + pos, bytes + (pos - a), r.start - pos);
		uint32_t ov_start = r.start > pos ? r.start : pos, ov_end = r.end < b ? r.end : b;
		if (memcmp(dg->data + ov_start, bytes + (ov_start - a), ov_end - ov_start) != 0)
			conflict = true;
		pos = ov_end;
	}
	if (pos < b)
		memcpy(dg->data + pos, bytes + (pos - a), b - pos);
	if (!found) {
		/* No range touches [a, b): insert it in order. */
		uint32_t at = 0;
		while (at < dg->nranges && dg->ranges[at].start < a)
			at++;
		memmove(&dg->ranges[at + 1], &dg->ranges[at], (dg->nranges - at) * sizeof *dg->ranges);
		dg->ranges[at] = (struct range){a, b};
		dg->nranges++;
		return conflict;
	}
	struct range merged = {dg->ranges[first].start < a ? dg->ranges[first].start : a,
	                       dg->ranges[last - 1].end > b ? dg->ranges[last - 1].end : b};
	dg->ranges[first] = merged;
	memmove(&dg->ranges[first + 1], &dg->ranges[last], (dg->nranges - last) * sizeof *dg->ranges);
	dg->nranges -= last - first - 1;
	return conflict;
}

/* The whole datagram into d->out: the first fragment's header, lengths and flags made whole. */
static void assemble(struct defrag *d, struct datagram *dg, struct defrag_datagram *out)
{
	uint32_t len = dg->hdr_len + dg->end;
	memcpy(d->out, dg->hdr, dg->hdr_len);
	memcpy(d->out + dg->hdr_len, dg->data, dg->end);
	if (dg->key.family == 4) {
		d->out[2] = (uint8_t)(len >> 8);
		d->out[3] = (uint8_t)len;
		d->out[6] &= 0x40; /* keep DF; MF and the offset go */
		d->out[7] = 0;
	} else {
		uint32_t payload = len - DEFRAG_IPV6_HEADER;
		d->out[4] = (uint8_t)(payload >> 8);
		d->out[5] = (uint8_t)payload;
		d->out[dg->next_header_at] = dg->next_proto;
	}
	out->family = dg->key.family;
	out->bytes = d->out;
	out->len = len;
	out->wire_bytes = dg->wire_bytes;
	out->link = dg->link;
}

/* The largest data end this fragment's family and header allow (IPv4 Total Length, IPv6 Payload Length). */
static uint32_t data_limit(int family, uint32_t hdr_len)
{
	uint32_t counted = family == 4 ? hdr_len : hdr_len - DEFRAG_IPV6_HEADER;
	return counted >= DEFRAG_IP_MAX ? 0 : DEFRAG_IP_MAX - counted;
}

/* Keeps the offset-0 fragment's header and link facts (and any fragment's link facts until then). */
static bool keep_first(struct defrag *d, struct datagram *dg, const struct decoded_packet *p)
{
	bool first = p->frag.offset == 0;
	if (first || dg->fragments == 1) {
		dg->link = *p;
		dg->link.payload = dg->link.ip = NULL;
		dg->link.payload_len = dg->link.payload_wire_len = dg->link.ip_len = 0;
		memset(&dg->link.frag, 0, sizeof dg->link.frag);
	}
	if (!first || dg->hdr)
		return true;
	if (!charge(d, dg, p->frag.hdr_len) || !(dg->hdr = malloc(p->frag.hdr_len)))
		return false;
	memcpy(dg->hdr, p->frag.hdr, p->frag.hdr_len);
	dg->hdr_len = p->frag.hdr_len;
	dg->next_header_at = p->frag.next_header_at;
	dg->next_proto = p->frag.proto;
	return true;
}

/* The last fragment fixes the end; every other fragment must lie within it (else: invalid). */
static bool end_agrees(const struct datagram *dg, const struct ip_fragment *f, uint32_t end)
{
	if (dg->have_last)
		return f->more ? end <= dg->end : end == dg->end;
	if (f->more)
		return true;
	return dg->nranges == 0 || dg->ranges[dg->nranges - 1].end <= end;
}

enum defrag_result defrag_add(struct defrag *d, const struct decoded_packet *p, uint32_t wire_len,
                              uint64_t now_us, struct defrag_datagram *out)
{
	const struct ip_fragment *f = &p->frag;
	d->stats.fragments++;
	defrag_expire(d, now_us);
	if (f->more && (f->data_wire_len == 0 || f->data_wire_len % 8 != 0)) {
		d->stats.invalid++;
		return DEFRAG_DROPPED;
	}
	struct defrag_key k;
	make_key(p, &k);
	struct datagram *dg = find_or_make(d, &k, now_us);
	if (!dg)
		return DEFRAG_DROPPED;
	uint32_t end = f->offset + f->data_wire_len;
	dg->wire_bytes += wire_len;
	if (++dg->fragments > d->settings.max_fragments) {
		release(d, dg, &d->stats.gave_up_too_many_fragments);
		return DEFRAG_DROPPED;
	}
	if (end > data_limit(p->src.family, f->hdr_len)) {
		release(d, dg, &d->stats.gave_up_too_large);
		return DEFRAG_DROPPED;
	}
	if (f->data_len < f->data_wire_len) {
		release(d, dg, &d->stats.gave_up_snaplen);
		return DEFRAG_DROPPED;
	}
	if (!end_agrees(dg, f, end)) {
		d->stats.invalid++;
		return DEFRAG_DROPPED;
	}
	if (!keep_first(d, dg, p) || !make_room(d, dg, end)) {
		release(d, dg, &d->stats.gave_up_memcap);
		return DEFRAG_DROPPED;
	}
	if (!f->more) {
		dg->have_last = true;
		dg->end = end;
	}
	if (f->data_len > 0 && insert(dg, f->offset, end, f->data))
		d->stats.overlaps++;
	bool whole = dg->have_last && dg->hdr && dg->nranges == 1 && dg->ranges[0].start == 0 &&
	             dg->ranges[0].end == dg->end;
	if (!whole)
		return DEFRAG_HELD;
	/* Later fragments may carry fewer IPv4 options than the first: check the header kept. */
	if (dg->end > data_limit(dg->key.family, dg->hdr_len)) {
		release(d, dg, &d->stats.gave_up_too_large);
		return DEFRAG_DROPPED;
	}
	assemble(d, dg, out);
	d->stats.reassembled++;
	release(d, dg, NULL);
	return DEFRAG_COMPLETE;
}

const struct defrag_stats *defrag_stats(const struct defrag *d)
{
	return &d->stats;
}

void defrag_free(struct defrag *d)
{
	if (!d)
		return;
	while (!TAILQ_EMPTY(&d->age))
		release(d, TAILQ_FIRST(&d->age), NULL);
	free(d);
}
