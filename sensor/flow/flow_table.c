/*
 * flow_table.c: hash of flows with per-class LRU lists and per-source accounting.
 *
 * Each eviction class (flow_table.h) keeps its flows in a TAILQ ordered by last
 * activity. A class belongs to one state, so expiry only ever looks at list
 * heads (O(1) per expired flow, nothing scanned), and eviction takes the head
 * of the lowest non-empty class. Buckets chain through flow->hash_next.
 *
 * Per-source accounting (when a budget is set): each client address and each
 * client /24 or /64 with live flows has an entry (struct flow_source) in a
 * small hash of its own, holding the bytes its flows hold and the same
 * per-class lists of them (the flow's src_lru and pfx_lru links), so the
 * cheapest flow of a source is found in O(1) too. An entry over its budget is
 * on the table's `over` list: eviction looks there first. A flow's bytes are
 * brought up to date at each touch and charge (f->accounted), so a source's
 * bytes are exact between packets.
 *
 * Owns the flows, their memory accounting (the flow, its encapsulation, its
 * streams' buffered segments, and what its consumer charged through
 * flow_table_charge), the source entries, and the queue of flows leaving the
 * table. A flow the table ends by itself (idle, or evicted to make room)
 * leaves in two steps: unlinked at once, its memory handed back to the memcap
 * at once (the reservation that needed it goes on), and queued; the end hook
 * runs later, from flow_table_end_queued, which the worker calls after each
 * packet. So the hook never runs inside another flow's delivery (a consumer
 * charging memory may cause an eviction).
 */
#include "sensor/flow/flow_table.h"

#include "parsers/zeroed_array.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sensor/flow/siphash.h"

/* Flows evicted at most for one new flow: bounds the work one packet can cause. */
enum { FLOW_TABLE_EVICT_BATCH = 64 };

TAILQ_HEAD(flow_list, flow);

enum source_kind { SOURCE_ADDRESS, SOURCE_PREFIX };

/* A client address, or a client prefix, with live flows. Freed with its last flow. */
struct flow_source {
	struct flow_source *hash_next;
	struct flow_source *prefix;               /* an address's prefix entry; NULL for a prefix */
	TAILQ_ENTRY(flow_source) over_link;       /* on the table's over-budget list while over */
	struct flow_list lists[FLOW_CLASS_COUNT]; /* its flows by class, oldest first */
	uint64_t bytes;                           /* what its flows hold */
	uint64_t hash;
	uint32_t flows;
	struct ip_addr key; /* masked to /24 or /64 for a prefix */
	uint8_t kind;       /* enum source_kind */
	bool over;
};
TAILQ_HEAD(source_list, flow_source);

struct flow_table {
	struct flow_table_settings settings;
	struct flow **buckets;
	uint64_t mask;
	struct flow_list lists[FLOW_CLASS_COUNT];
	struct memcap memcap;
	struct flow_table_stats stats;
	struct flow_list leaving; /* unlinked, waiting for the end hook (through lru), oldest first */
	bool emergency;
	uint8_t hash_key[16];
	uint64_t next_id;
	flow_end_fn on_end;
	void *ctx;
	/* per-source accounting; source_buckets NULL: off */
	struct flow_source **source_buckets;
	uint64_t source_mask;
	uint64_t budget[2];      /* by enum source_kind, bytes; UINT64_MAX: no limit */
	struct source_list over; /* sources over their budget, addresses before prefixes */
};

const char *flow_state_str(enum flow_state s)
{
	switch (s) {
	case FLOW_STATE_NEW:
		return "new";
	case FLOW_STATE_ESTABLISHED:
		return "established";
	case FLOW_STATE_CLOSED:
		return "closed";
	case FLOW_STATE_COUNT:
		break;
	}
	return "unknown";
}

const char *flow_class_str(enum flow_class c)
{
	switch (c) {
	case FLOW_CLASS_CLOSED:
		return "closed";
	case FLOW_CLASS_HALF_OPEN:
		return "half_open";
	case FLOW_CLASS_SILENT:
		return "silent";
	case FLOW_CLASS_SERVER_ONLY:
		return "server_only";
	case FLOW_CLASS_CLIENT:
		return "client_spoke";
	case FLOW_CLASS_SESSION:
		return "session";
	case FLOW_CLASS_COUNT:
		break;
	}
	return "unknown";
}

/* The state whose timeout a class's flows have. */
static enum flow_state class_state(enum flow_class c)
{
	if (c == FLOW_CLASS_CLOSED)
		return FLOW_STATE_CLOSED;
	return c == FLOW_CLASS_HALF_OPEN ? FLOW_STATE_NEW : FLOW_STATE_ESTABLISHED;
}

static enum flow_class class_of(const struct flow *f)
{
	if (f->state == FLOW_STATE_CLOSED)
		return FLOW_CLASS_CLOSED;
	if (f->state == FLOW_STATE_NEW)
		return FLOW_CLASS_HALF_OPEN;
	return (enum flow_class)(FLOW_CLASS_SILENT + f->value);
}

static uint64_t round_up_pow2(uint64_t n)
{
	uint64_t p = 1;
	while (p < n && p < (1ull << 40))
		p <<= 1;
	return p;
}

static uint64_t percent_of(uint64_t n, unsigned pct)
{
	return n / 100 * pct + n % 100 * pct / 100;
}

/* The source hash (a quarter of the flow buckets: sources are fewer than flows), when a budget is set. */
static bool sources_new(struct flow_table *t, uint64_t nbuckets)
{
	const struct flow_source_budget *b = &t->settings.source_budget;
	TAILQ_INIT(&t->over);
	if (!b->address_percent && !b->prefix_percent)
		return true;
	t->budget[SOURCE_ADDRESS] =
	    b->address_percent ? percent_of(t->memcap.cap, b->address_percent) : UINT64_MAX;
	t->budget[SOURCE_PREFIX] =
	    b->prefix_percent ? percent_of(t->memcap.cap, b->prefix_percent) : UINT64_MAX;
	uint64_t n = nbuckets / 4 ? nbuckets / 4 : 1;
	if (!memcap_reserve(&t->memcap, n * sizeof *t->source_buckets))
		return false;
	t->source_buckets = zeroed_array(n, sizeof *t->source_buckets);
	t->source_mask = n - 1;
	return t->source_buckets != NULL;
}

struct flow_table *flow_table_new(const struct flow_table_settings *s, flow_end_fn on_end, void *ctx)
{
	struct flow_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->settings = *s;
	t->on_end = on_end;
	t->ctx = ctx;
	t->memcap.cap = s->memcap;
	for (int c = 0; c < FLOW_CLASS_COUNT; c++)
		TAILQ_INIT(&t->lists[c]);
	TAILQ_INIT(&t->leaving);
	uint64_t nbuckets = round_up_pow2(s->hash_size ? s->hash_size : 1);
	/* The buckets are charged to the memcap too; a cap smaller than them is a config error upstream. */
	if (!memcap_reserve(&t->memcap, nbuckets * sizeof *t->buckets))
		goto fail;
	t->buckets = zeroed_array(nbuckets, sizeof *t->buckets);
	if (!t->buckets)
		goto fail;
	t->mask = nbuckets - 1;
	if (getrandom(t->hash_key, sizeof t->hash_key, 0) != sizeof t->hash_key)
		goto fail;
	if (!sources_new(t, nbuckets))
		goto fail;
	return t;
fail:
	free(t->source_buckets);
	free(t->buckets);
	free(t);
	return NULL;
}

static int endpoint_compare(const struct ip_addr *a, uint16_t pa, const struct ip_addr *b, uint16_t pb)
{
	int c = ip_addr_compare(a, b);
	return c ? c : (pa > pb) - (pa < pb);
}

/*
 * The same value for both directions of a connection. The key holds only the
 * address bytes in use: 13 bytes for IPv4 (two SipHash blocks) instead of 37
 * (five), on every packet.
 */
uint64_t flow_table_hash(const struct flow_table *t, const struct decoded_packet *p)
{
	const struct ip_addr *a = &p->src, *b = &p->dst;
	uint16_t pa = p->sport, pb = p->dport;
	if (endpoint_compare(a, pa, b, pb) > 0) {
		const struct ip_addr *ta = a;
		uint16_t tp = pa;
		a = b, pa = pb, b = ta, pb = tp;
	}
	size_t n = a->family == 4 ? 4 : 16; /* IPv4 keeps the other twelve bytes zero */
	uint8_t key[1 + 2 + 2 + 16 + 16];
	key[0] = a->family;
	key[1] = (uint8_t)(pa >> 8), key[2] = (uint8_t)pa;
	key[3] = (uint8_t)(pb >> 8), key[4] = (uint8_t)pb;
	memcpy(key + 5, a->bytes, n);
	memcpy(key + 5 + n, b->bytes, n);
	return siphash24(t->hash_key, key, 5 + 2 * n);
}

static bool endpoint_is(const struct flow_endpoint *e, const struct ip_addr *ip, uint16_t port)
{
	return e->port == port && ip_addr_equal(&e->ip, ip);
}

struct flow *flow_table_find(struct flow_table *t, const struct decoded_packet *p, uint64_t h,
                             enum flow_dir *dir)
{
	for (struct flow *f = t->buckets[h & t->mask]; f; f = f->hash_next) {
		if (f->hash != (uint32_t)h)
			continue;
		if (endpoint_is(&f->client, &p->src, p->sport) &&
		    endpoint_is(&f->server, &p->dst, p->dport)) {
			*dir = FLOW_TO_SERVER;
			return f;
		}
		if (endpoint_is(&f->server, &p->src, p->sport) &&
		    endpoint_is(&f->client, &p->dst, p->dport)) {
			*dir = FLOW_TO_CLIENT;
			return f;
		}
	}
	return NULL;
}

/* ---- per-source accounting ---- */

/* Everything the memcap holds for f: the flow, its encapsulation, its buffered segments, its consumer's
 * charge. */
static uint64_t flow_memory(const struct flow *f)
{
	return sizeof *f + (f->encap ? sizeof *f->encap : 0) + tcp_stream_memory(&f->side[0].stream) +
	       tcp_stream_memory(&f->side[1].stream) + f->charged;
}

static void source_key(const struct ip_addr *a, enum source_kind kind, struct ip_addr *key)
{
	*key = *a;
	if (kind == SOURCE_PREFIX) /* /24 of IPv4, /64 of IPv6: what one network usually gets */
		memset(key->bytes + (a->family == 4 ? 3 : 8), 0, a->family == 4 ? 13 : 8);
}

static uint64_t source_hash(const struct flow_table *t, const struct ip_addr *key, enum source_kind kind)
{
	size_t n = key->family == 4 ? 4 : 16; /* IPv4 keeps the other twelve bytes zero */
	uint8_t k[18];
	k[0] = (uint8_t)kind;
	k[1] = key->family;
	memcpy(k + 2, key->bytes, n);
	return siphash24(t->hash_key, k, 2 + n);
}

/* The entry of (key, kind) with hash h in the chain that starts at s. */
static struct flow_source *source_walk(struct flow_source *s, const struct ip_addr *key,
                                       enum source_kind kind, uint64_t h)
{
	for (; s; s = s->hash_next)
		if (s->hash == h && s->kind == kind && ip_addr_equal(&s->key, key))
			return s;
	return NULL;
}

static struct flow_source *source_find(const struct flow_table *t, const struct ip_addr *a,
                                       enum source_kind kind)
{
	struct ip_addr key;
	source_key(a, kind, &key);
	uint64_t h = source_hash(t, &key, kind);
	return source_walk(t->source_buckets[h & t->source_mask], &key, kind, h);
}

/* The entry for a, made if missing; its memory was reserved by the caller. NULL only when calloc fails. */
static struct flow_source *source_get(struct flow_table *t, const struct ip_addr *a, enum source_kind kind)
{
	struct flow_source *s = source_find(t, a, kind);
	if (s)
		return s;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	source_key(a, kind, &s->key);
	s->kind = (uint8_t)kind;
	s->hash = source_hash(t, &s->key, kind);
	for (int c = 0; c < FLOW_CLASS_COUNT; c++)
		TAILQ_INIT(&s->lists[c]);
	struct flow_source **bucket = &t->source_buckets[s->hash & t->source_mask];
	s->hash_next = *bucket;
	*bucket = s;
	if (kind == SOURCE_ADDRESS)
		t->stats.sources++;
	else
		t->stats.prefixes++;
	return s;
}

static void source_free(struct flow_table *t, struct flow_source *s)
{
	struct flow_source **link = &t->source_buckets[s->hash & t->source_mask];
	while (*link != s)
		link = &(*link)->hash_next;
	*link = s->hash_next;
	if (s->over)
		TAILQ_REMOVE(&t->over, s, over_link);
	if (s->kind == SOURCE_ADDRESS)
		t->stats.sources--;
	else
		t->stats.prefixes--;
	memcap_release(&t->memcap, sizeof *s);
	free(s);
}

/* Keeps the over list in step with s->bytes: addresses at the head (the narrower culprit pays first). */
static void source_check_budget(struct flow_table *t, struct flow_source *s)
{
	bool over = s->bytes > t->budget[s->kind];
	if (over == s->over)
		return;
	s->over = over;
	if (!over)
		TAILQ_REMOVE(&t->over, s, over_link);
	else if (s->kind == SOURCE_ADDRESS)
		TAILQ_INSERT_HEAD(&t->over, s, over_link);
	else
		TAILQ_INSERT_TAIL(&t->over, s, over_link);
}

static void source_add_bytes(struct flow_table *t, struct flow *f, uint64_t now)
{
	struct flow_source *a = f->source, *p = a->prefix;
	a->bytes = a->bytes - f->accounted + now;
	p->bytes = p->bytes - f->accounted + now;
	f->accounted = (uint32_t)now;
	source_check_budget(t, a);
	source_check_budget(t, p);
}

static bool source_exempt(const struct flow_table *t, const struct ip_addr *a)
{
	const struct flow_source_budget *b = &t->settings.source_budget;
	for (size_t i = 0; i < b->n_exempt; i++)
		if (ip_network_contains(&b->exempt[i], a))
			return true;
	return false;
}

/*
 * Bytes the entries of client a that do not exist yet would take (address and
 * prefix); found[] gets those that exist (prefix, address), NULL for the others,
 * so that source_attach need not look them up again.
 */
static uint64_t source_missing_bytes(const struct flow_table *t, const struct ip_addr *a,
                                     struct flow_source *found[2])
{
	/* Both buckets read before either chain is walked, their first entries fetched together: each is a
	 * cache miss (1.9% of a bench run went to waiting for them one after the other). */
	struct ip_addr kp, ka;
	source_key(a, SOURCE_PREFIX, &kp);
	source_key(a, SOURCE_ADDRESS, &ka);
	uint64_t hp = source_hash(t, &kp, SOURCE_PREFIX), ha = source_hash(t, &ka, SOURCE_ADDRESS);
	struct flow_source *sp = t->source_buckets[hp & t->source_mask],
	                   *sa = t->source_buckets[ha & t->source_mask];
	if (sp)
		__builtin_prefetch(sp);
	if (sa)
		__builtin_prefetch(sa);
	found[0] = source_walk(sp, &kp, SOURCE_PREFIX, hp);
	found[1] = source_walk(sa, &ka, SOURCE_ADDRESS, ha);
	return (found[0] ? 0 : sizeof(struct flow_source)) + (found[1] ? 0 : sizeof(struct flow_source));
}

/*
 * Charges f to its client's entries, made as needed out of `reserved` bytes
 * already taken from the memcap, which must cover the entries missing now
 * (what is left over goes back). f is on its class's list; it joins its
 * sources' lists of the same class.
 */
static void source_attach(struct flow_table *t, struct flow *f, uint64_t reserved,
                          struct flow_source *found[2])
{
	uint64_t before = t->stats.sources + t->stats.prefixes;
	struct flow_source *p = found[0] ? found[0] : source_get(t, &f->client.ip, SOURCE_PREFIX);
	struct flow_source *a = !p         ? NULL
	                        : found[1] ? found[1]
	                                   : source_get(t, &f->client.ip, SOURCE_ADDRESS);
	uint64_t used = (t->stats.sources + t->stats.prefixes - before) * sizeof(struct flow_source);
	if (a) {
		a->prefix = p;
		a->flows++;
		p->flows++;
		f->source = a;
		f->accounted = 0;
		TAILQ_INSERT_TAIL(&a->lists[f->class], f, src_lru);
		TAILQ_INSERT_TAIL(&p->lists[f->class], f, pfx_lru);
		source_add_bytes(t, f, flow_memory(f));
	} else if (p && p->flows == 0) {
		source_free(t, p); /* made for this flow, which could not be charged: gone, and given back */
		used -= sizeof(struct flow_source);
	}
	memcap_release(&t->memcap, reserved - used);
}

static void source_detach(struct flow_table *t, struct flow *f)
{
	struct flow_source *a = f->source, *p;
	if (!a)
		return;
	p = a->prefix;
	source_add_bytes(t, f, 0);
	TAILQ_REMOVE(&a->lists[f->class], f, src_lru);
	TAILQ_REMOVE(&p->lists[f->class], f, pfx_lru);
	f->source = NULL;
	if (--a->flows == 0)
		source_free(t, a);
	if (--p->flows == 0)
		source_free(t, p);
}

static bool reserve_memory(struct flow_table *t, uint64_t n, const struct flow *keep, uint64_t now_us);

/*
 * Charges f to its client's budget (again, after a role swap: to its new
 * client), or to none when exempt or when no room can be made. A flow joins
 * only once it has left half-open: half-open flows are the first evicted
 * anyway, so a SYN flood from random sources costs no source entries.
 */
static void source_rehome(struct flow_table *t, struct flow *f, uint64_t now_us)
{
	f->source_stale = f->source_due = false;
	if (!t->source_buckets)
		return;
	source_detach(t, f);
	if (source_exempt(t, &f->client.ip))
		return;
	struct flow_source *found[2];
	uint64_t need = source_missing_bytes(t, &f->client.ip, found);
	if (need) { /* both found: nothing is reserved, nothing can have changed */
		if (!reserve_memory(t, need, f, now_us))
			return;
		/* Making room may have ended the last flow of an entry counted as there. */
		uint64_t missing = source_missing_bytes(t, &f->client.ip, found);
		if (missing > need) {
			if (!memcap_reserve(&t->memcap, missing - need)) {
				memcap_release(&t->memcap, need);
				return;
			}
			need = missing;
		}
	}
	source_attach(t, f, need, found);
}

uint64_t flow_table_source_bytes(const struct flow_table *t, const struct ip_addr *a, bool prefix)
{
	if (!t->source_buckets)
		return 0;
	const struct flow_source *s = source_find(t, a, prefix ? SOURCE_PREFIX : SOURCE_ADDRESS);
	return s ? s->bytes : 0;
}

/* ---- lists ---- */

/* Puts f on the lists of class c (its own and its sources'), taking it off those of its old class. */
static void move_to_class(struct flow_table *t, struct flow *f, enum flow_class c)
{
	TAILQ_REMOVE(&t->lists[f->class], f, lru);
	TAILQ_INSERT_TAIL(&t->lists[c], f, lru);
	if (f->source) {
		TAILQ_REMOVE(&f->source->lists[f->class], f, src_lru);
		TAILQ_INSERT_TAIL(&f->source->lists[c], f, src_lru);
		TAILQ_REMOVE(&f->source->prefix->lists[f->class], f, pfx_lru);
		TAILQ_INSERT_TAIL(&f->source->prefix->lists[c], f, pfx_lru);
	}
	f->class = (uint8_t)c;
}

void flow_table_touch(struct flow_table *t, struct flow *f, enum flow_state state, uint64_t now_us)
{
	f->state = (uint8_t)state;
	if (now_us > f->last_us)
		f->last_us = now_us;
	enum flow_class was = (enum flow_class)f->class;
	move_to_class(t, f, class_of(f));
	if (was == FLOW_CLASS_HALF_OPEN && f->class != FLOW_CLASS_HALF_OPEN && f->class != FLOW_CLASS_CLOSED)
		f->source_due = true;
	if (f->source_stale || f->source_due)
		source_rehome(t, f, now_us);
	else if (f->source)
		source_add_bytes(t, f, flow_memory(f));
}

/* Takes f out of the buckets, its lists and its sources, and counts why it leaves; f itself stays. */
static void unlink_flow(struct flow_table *t, struct flow *f, enum flow_close_reason reason)
{
	struct flow **link = &t->buckets[f->hash & t->mask];
	while (*link != f)
		link = &(*link)->hash_next;
	*link = f->hash_next;
	f->hash_next = NULL;
	source_detach(t, f);
	TAILQ_REMOVE(&t->lists[f->class], f, lru);
	f->leaving = true;
	f->end_reason = (uint8_t)reason;
	t->stats.active--;
	bool was_closed = f->state == FLOW_STATE_CLOSED;
	if ((reason == FLOW_CLOSE_TIMEOUT || reason == FLOW_CLOSE_FIN || reason == FLOW_CLOSE_RST) &&
	    was_closed)
		t->stats
		    .closed++; /* FIN or RST seen: kept for the last ACKs, or until the ports were reused */
	else if (reason == FLOW_CLOSE_TIMEOUT)
		t->stats.timed_out++;
	else if (reason == FLOW_CLOSE_EVICTED)
		t->stats.evicted++;
}

/* What the memcap holds for f itself (not its segments, which tcp_stream_release gives back). */
static uint64_t flow_own_memory(const struct flow *f)
{
	return sizeof *f + (f->encap ? sizeof *f->encap : 0) + f->charged;
}

/* The end hook, then f's memory back to the memcap and f freed. f is unlinked already. */
static void finish_flow(struct flow_table *t, struct flow *f)
{
	/* What was handed back early is charged again for the hook's moment, so its releases balance (nothing
	 * of a queued flow changed since: no packet reaches it, and its consumer was not called). */
	if (f->queued)
		t->memcap.used += flow_memory(f);
	t->on_end(t->ctx, f, (enum flow_close_reason)f->end_reason);
	tcp_stream_release(&f->side[0].stream);
	tcp_stream_release(&f->side[1].stream);
	memcap_release(&t->memcap, flow_own_memory(f));
	free(f); /* its encapsulation was allocated with it */
}

void flow_table_end(struct flow_table *t, struct flow *f, enum flow_close_reason reason)
{
	unlink_flow(t, f, reason);
	finish_flow(t, f);
}

/*
 * The table ends f by itself: unlinked and its memory handed back now, its end
 * hook run by flow_table_end_queued. The memory is still allocated until then;
 * the bound is what one packet may evict (FLOW_TABLE_EVICT_BATCH a reservation).
 */
static void queue_end(struct flow_table *t, struct flow *f, enum flow_close_reason reason)
{
	unlink_flow(t, f, reason);
	f->queued = true;
	memcap_release(&t->memcap, flow_memory(f));
	TAILQ_INSERT_TAIL(&t->leaving, f, lru);
}

void flow_table_end_queued(struct flow_table *t)
{
	struct flow *f;
	while ((f = TAILQ_FIRST(&t->leaving)) != NULL) {
		TAILQ_REMOVE(&t->leaving, f, lru);
		finish_flow(t, f);
	}
}

static void leave_emergency_if_recovered(struct flow_table *t)
{
	if (t->emergency && t->memcap.used < percent_of(t->memcap.cap, t->settings.recovery_percent)) {
		t->emergency = false;
		t->stats.emergency_left++;
	}
}

/* Ends flows idle past their timeout, oldest first; keep (the flow being served, may be NULL) stays. */
static void expire_idle(struct flow_table *t, uint64_t now_us, const struct flow *keep)
{
	const uint64_t *timeout = t->emergency ? t->settings.emergency_timeout_us : t->settings.timeout_us;
	for (int c = 0; c < FLOW_CLASS_COUNT; c++) {
		uint64_t idle = timeout[class_state((enum flow_class)c)];
		struct flow *f;
		while ((f = TAILQ_FIRST(&t->lists[c])) != NULL) {
			if (f == keep)
				f = TAILQ_NEXT(f, lru);
			if (!f || f->last_us + idle > now_us)
				break;
			queue_end(t, f, FLOW_CLOSE_TIMEOUT);
		}
	}
}

void flow_table_expire(struct flow_table *t, uint64_t now_us)
{
	expire_idle(t, now_us, NULL);
	leave_emergency_if_recovered(t);
	flow_table_end_queued(t); /* called between packets: the hooks may run now */
}

/* Which of a flow's links a list runs through: the table's class lists, or its address's or prefix's. */
enum link_kind { LINK_TABLE, LINK_ADDRESS, LINK_PREFIX };

/* The oldest idle flow of list l, never keep (the flow asking for memory). */
static struct flow *list_head(const struct flow_list *l, const struct flow *keep, enum link_kind k)
{
	struct flow *f = TAILQ_FIRST(l);
	if (!f || f != keep)
		return f;
	return k == LINK_TABLE     ? TAILQ_NEXT(f, lru)
	       : k == LINK_ADDRESS ? TAILQ_NEXT(f, src_lru)
	                           : TAILQ_NEXT(f, pfx_lru);
}

/*
 * The cheapest flow of per-class lists (the table's, or one source's), never
 * keep; NULL when there is none. Closed, half-open and silent flows idle past
 * the grace first, in that order (done, or they had their chance to show
 * more); then those younger ones and the banner-only flows together, the
 * longest idle first (a connection that had no time to show more is worth a
 * banner nobody answered, so a flood of banners does not take each real
 * connection the moment it starts, nor a session that just closed before its
 * last ACKs); then flows whose client spoke; sessions last.
 */
static struct flow *cheapest(const struct flow_list *lists, const struct flow *keep, enum link_kind k,
                             uint64_t now_us, enum flow_class *class)
{
	struct flow *head[FLOW_CLASS_COUNT];
	for (int c = 0; c < FLOW_CLASS_COUNT; c++)
		head[c] = list_head(&lists[c], keep, k);
	struct flow *best = NULL;
	for (int c = FLOW_CLASS_CLOSED; !best && c <= FLOW_CLASS_SILENT; c++)
		if (head[c] && head[c]->last_us + FLOW_TABLE_GRACE_US <= now_us)
			best = head[c];
	if (!best)
		for (int c = FLOW_CLASS_CLOSED; c <= FLOW_CLASS_SERVER_ONLY; c++)
			if (head[c] && (!best || head[c]->last_us < best->last_us))
				best = head[c];
	for (int c = FLOW_CLASS_CLIENT; !best && c < FLOW_CLASS_COUNT; c++)
		best = head[c];
	if (best)
		*class = (enum flow_class)best->class;
	return best;
}

/*
 * Ends the flow that is cheapest to lose, never `keep`: a flow of a source
 * over its budget first (addresses, then prefixes), else the cheapest of the
 * table. Counted by reason.
 */
static bool evict_one(struct flow_table *t, const struct flow *keep, uint64_t now_us)
{
	enum flow_class c;
	struct flow_source *s;
	TAILQ_FOREACH(s, &t->over, over_link)
	{
		struct flow *victim = cheapest(
		    s->lists, keep, s->kind == SOURCE_ADDRESS ? LINK_ADDRESS : LINK_PREFIX, now_us, &c);
		if (victim) {
			t->stats.evicted_source_budget++;
			queue_end(t, victim, FLOW_CLOSE_EVICTED);
			return true;
		}
	}
	struct flow *victim = cheapest(t->lists, keep, LINK_TABLE, now_us, &c);
	if (!victim)
		return false;
	t->stats.evicted_by[c]++;
	queue_end(t, victim, FLOW_CLOSE_EVICTED);
	return true;
}

/*
 * n bytes from the memcap, making room when there is none: emergency mode
 * (shorter timeouts, applied at once), then evicting the cheapest flows, a
 * batch at most. keep (may be NULL) is the flow asking: never evicted.
 */
static bool reserve_memory(struct flow_table *t, uint64_t n, const struct flow *keep, uint64_t now_us)
{
	if (memcap_reserve(&t->memcap, n))
		return true;
	if (!t->emergency) {
		t->emergency = true;
		t->stats.emergency_entered++;
		expire_idle(t, now_us,
		            keep); /* no recovery check here: stay in emergency until the next expiry */
		if (memcap_reserve(&t->memcap, n))
			return true;
	}
	for (int i = 0; i < FLOW_TABLE_EVICT_BATCH && evict_one(t, keep, now_us); i++)
		if (memcap_reserve(&t->memcap, n))
			return true;
	return false;
}

bool flow_table_charge(struct flow_table *t, struct flow *f, uint64_t total, uint64_t now_us)
{
	if (f->leaving)
		return true; /* its end hook is running: what it holds goes back in a moment */
	if (total > UINT32_MAX)
		return false; /* more than any consumer's caps allow */
	if (total < f->charged) {
		memcap_release(&t->memcap, f->charged - total);
	} else if (total > f->charged) {
		if (!reserve_memory(t, total - f->charged, f, now_us))
			return false;
	}
	f->charged = (uint32_t)total;
	if (f->source)
		source_add_bytes(t, f, flow_memory(f));
	return true;
}

struct roles {
	struct flow_endpoint client, server;
	enum flow_role_source source;
	enum flow_dir dir; /* the packet's */
};

static struct roles decide_roles(const struct decoded_packet *p, bool dst_is_service, bool src_is_service)
{
	struct roles r;
	bool sender_is_client;
	if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		sender_is_client = true;
		r.source = FLOW_ROLE_SYN;
	} else if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		sender_is_client = false;
		r.source = FLOW_ROLE_SYN_ACK;
	} else if (dst_is_service != src_is_service) {
		sender_is_client = dst_is_service;
		r.source = FLOW_ROLE_PORT;
	} else {
		/* Nothing to go on: the lower port is usually the service. tcp_tracker may swap on the
		 * banner. */
		sender_is_client = p->dport <= p->sport;
		r.source = FLOW_ROLE_GUESS;
	}
	struct flow_endpoint src = {p->src, p->sport}, dst = {p->dst, p->dport};
	r.client = sender_is_client ? src : dst;
	r.server = sender_is_client ? dst : src;
	r.dir = sender_is_client ? FLOW_TO_SERVER : FLOW_TO_CLIENT;
	return r;
}

static bool has_encap(const struct decode_encap *e)
{
	return e->vlan_count || e->mpls_count || e->tunnels;
}

struct flow *flow_table_create(struct flow_table *t, const struct decoded_packet *p, uint64_t hash,
                               bool dst_is_service, bool src_is_service, uint64_t now_us, enum flow_dir *dir)
{
	struct roles r = decide_roles(p, dst_is_service, src_is_service);
	/* The encapsulation only when there is one, in the same allocation (most flows come without). */
	size_t size = sizeof(struct flow) + (has_encap(&p->encap) ? sizeof(struct decode_encap) : 0);
	if (!reserve_memory(t, size, NULL, now_us)) {
		t->stats.refused++;
		return NULL;
	}
	struct flow *f = calloc(1, size);
	if (!f) {
		memcap_release(&t->memcap, size);
		t->stats.refused++;
		return NULL;
	}
	if (size > sizeof *f) {
		f->encap = (struct decode_encap *)(f + 1);
		*f->encap = p->encap;
	}
	f->client = r.client;
	f->server = r.server;
	f->role_source = (uint8_t)r.source;
	*dir = r.dir;
	f->hash = (uint32_t)hash;
	f->id = ++t->next_id;
	f->first_us = f->last_us = now_us;
	for (int d = 0; d < 2; d++)
		tcp_stream_init(&f->side[d].stream, &t->settings.stream, &t->memcap);
	struct flow **bucket = &t->buckets[f->hash & t->mask];
	f->hash_next = *bucket;
	*bucket = f;
	f->state = FLOW_STATE_NEW;
	f->class = FLOW_CLASS_HALF_OPEN;
	TAILQ_INSERT_TAIL(&t->lists[f->class], f, lru);
	t->stats.created++;
	if (++t->stats.active > t->stats.peak_active)
		t->stats.peak_active = t->stats.active;
	return f;
}

void flow_table_end_all(struct flow_table *t, enum flow_close_reason reason)
{
	flow_table_end_queued(t);
	/* Oldest first across the lists' heads, so events come out in a sensible order. */
	for (;;) {
		struct flow *oldest = NULL;
		for (int c = 0; c < FLOW_CLASS_COUNT; c++) {
			struct flow *f = TAILQ_FIRST(&t->lists[c]);
			if (f && (!oldest || f->first_us < oldest->first_us))
				oldest = f;
		}
		if (!oldest)
			break;
		flow_table_end(t, oldest, reason);
	}
}

void flow_table_free(struct flow_table *t, enum flow_close_reason reason)
{
	if (!t)
		return;
	flow_table_end_all(t, reason);
	free(t->source_buckets);
	free(t->buckets);
	free(t);
}

struct memcap *flow_table_memcap(struct flow_table *t)
{
	return &t->memcap;
}

const struct flow_table_stats *flow_table_stats(const struct flow_table *t)
{
	return &t->stats;
}

bool flow_table_in_emergency(const struct flow_table *t)
{
	return t->emergency;
}

uint64_t flow_table_deadline(const struct flow_table *t, const struct flow *f)
{
	const uint64_t *timeout = t->emergency ? t->settings.emergency_timeout_us : t->settings.timeout_us;
	return f->last_us + timeout[class_state((enum flow_class)f->class)];
}
