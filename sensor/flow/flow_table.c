/*
 * flow_table.c: hash of flows with per-state LRU lists.
 *
 * Each state (new, established, closed) keeps its flows in a doubly linked list
 * ordered by last activity, so expiry only ever looks at list heads: O(1) per
 * expired flow, nothing scanned. Buckets chain through flow->hash_next.
 *
 * Owns the flows, their memory accounting (the flow, its streams' buffered
 * segments, and what its consumer charged through flow_table_charge) and the
 * queue of flows leaving the table. A flow the table ends by itself (idle, or
 * evicted to make room) leaves in two steps: unlinked at once, its memory
 * handed back to the memcap at once (the reservation that needed it goes on),
 * and queued; the end hook runs later, from flow_table_end_queued, which the
 * worker calls after each packet. So the hook never runs inside another flow's
 * delivery (a consumer charging memory may cause an eviction).
 */
#include "sensor/flow/flow_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sensor/flow/siphash.h"

/* Flows evicted at most for one new flow: bounds the work one packet can cause. */
enum { FLOW_TABLE_EVICT_BATCH = 64 };

struct flow_list {
	struct flow *head, *tail; /* head: idle the longest */
};

struct flow_table {
	struct flow_table_settings settings;
	struct flow **buckets;
	uint64_t mask;
	struct flow_list lists[FLOW_STATE_COUNT];
	struct memcap memcap;
	struct flow_table_stats stats;
	struct flow_list leaving; /* unlinked, waiting for the end hook (through lru_next), oldest first */
	bool emergency;
	uint8_t hash_key[16];
	uint64_t next_id;
	flow_end_fn on_end;
	void *ctx;
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

static uint64_t round_up_pow2(uint64_t n)
{
	uint64_t p = 1;
	while (p < n && p < (1ull << 40))
		p <<= 1;
	return p;
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
	uint64_t nbuckets = round_up_pow2(s->hash_size ? s->hash_size : 1);
	/* The buckets are charged to the memcap too; a cap smaller than them is a config error upstream. */
	if (!memcap_reserve(&t->memcap, nbuckets * sizeof *t->buckets))
		goto fail;
	t->buckets = calloc(nbuckets, sizeof *t->buckets);
	if (!t->buckets)
		goto fail;
	t->mask = nbuckets - 1;
	if (getrandom(t->hash_key, sizeof t->hash_key, 0) != sizeof t->hash_key)
		goto fail;
	return t;
fail:
	free(t->buckets);
	free(t);
	return NULL;
}

static int endpoint_compare(const struct ip_addr *a, uint16_t pa, const struct ip_addr *b, uint16_t pb)
{
	int c = ip_addr_compare(a, b);
	return c ? c : (pa > pb) - (pa < pb);
}

/* The same value for both directions of a connection. */
uint64_t flow_table_hash(const struct flow_table *t, const struct decoded_packet *p)
{
	const struct ip_addr *a = &p->src, *b = &p->dst;
	uint16_t pa = p->sport, pb = p->dport;
	if (endpoint_compare(a, pa, b, pb) > 0) {
		const struct ip_addr *ta = a;
		uint16_t tp = pa;
		a = b, pa = pb, b = ta, pb = tp;
	}
	uint8_t key[1 + 16 + 2 + 16 + 2];
	key[0] = a->family;
	memcpy(key + 1, a->bytes, 16);
	key[17] = (uint8_t)(pa >> 8), key[18] = (uint8_t)pa;
	memcpy(key + 19, b->bytes, 16);
	key[35] = (uint8_t)(pb >> 8), key[36] = (uint8_t)pb;
	return siphash24(t->hash_key, key, sizeof key);
}

static bool endpoint_is(const struct flow_endpoint *e, const struct ip_addr *ip, uint16_t port)
{
	return e->port == port && ip_addr_compare(&e->ip, ip) == 0;
}

struct flow *flow_table_find(struct flow_table *t, const struct decoded_packet *p, uint64_t h,
                             enum flow_dir *dir)
{
	for (struct flow *f = t->buckets[h & t->mask]; f; f = f->hash_next) {
		if (f->hash != h)
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

static void list_unlink(struct flow_list *l, struct flow *f)
{
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void list_append(struct flow_list *l, struct flow *f)
{
	f->lru_prev = l->tail;
	f->lru_next = NULL;
	if (l->tail)
		l->tail->lru_next = f;
	else
		l->head = f;
	l->tail = f;
}

void flow_table_touch(struct flow_table *t, struct flow *f, enum flow_state state, uint64_t now_us)
{
	list_unlink(&t->lists[f->state], f);
	f->state = state;
	if (now_us > f->last_us)
		f->last_us = now_us;
	list_append(&t->lists[state], f);
}

/* Takes f out of the buckets and its state's list, and counts why it leaves; f itself stays. */
static void unlink_flow(struct flow_table *t, struct flow *f, enum flow_close_reason reason)
{
	struct flow **link = &t->buckets[f->hash & t->mask];
	while (*link != f)
		link = &(*link)->hash_next;
	*link = f->hash_next;
	f->hash_next = NULL;
	list_unlink(&t->lists[f->state], f);
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

/* Everything the memcap holds for f: the flow, its buffered segments, its consumer's charge. */
static uint64_t flow_memory(const struct flow *f)
{
	return sizeof *f + tcp_stream_memory(&f->side[0].stream) + tcp_stream_memory(&f->side[1].stream) +
	       f->charged;
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
	memcap_release(&t->memcap, sizeof *f + f->charged);
	free(f);
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
	list_append(&t->leaving, f);
}

void flow_table_end_queued(struct flow_table *t)
{
	struct flow *f;
	while ((f = t->leaving.head) != NULL) {
		list_unlink(&t->leaving, f);
		finish_flow(t, f);
	}
}

static void leave_emergency_if_recovered(struct flow_table *t)
{
	if (t->emergency && t->memcap.used < t->memcap.cap / 100 * t->settings.recovery_percent +
	                                         t->memcap.cap % 100 * t->settings.recovery_percent / 100) {
		t->emergency = false;
		t->stats.emergency_left++;
	}
}

/* Ends flows idle past their timeout, oldest first; keep (the flow being served, may be NULL) stays. */
static void expire_idle(struct flow_table *t, uint64_t now_us, const struct flow *keep)
{
	const uint64_t *timeout = t->emergency ? t->settings.emergency_timeout_us : t->settings.timeout_us;
	for (int s = 0; s < FLOW_STATE_COUNT; s++) {
		struct flow *f;
		while ((f = t->lists[s].head) != NULL) {
			if (f == keep)
				f = f->lru_next;
			if (!f || f->last_us + timeout[s] > now_us)
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

/* Ends the flow that is cheapest to lose, never `keep`: the oldest half-open, then closed, then established.
 */
static bool evict_one(struct flow_table *t, const struct flow *keep)
{
	static const enum flow_state order[] = {FLOW_STATE_NEW, FLOW_STATE_CLOSED, FLOW_STATE_ESTABLISHED};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		struct flow *victim = t->lists[order[i]].head;
		if (victim && victim == keep)
			victim = victim->lru_next;
		if (victim) {
			queue_end(t, victim, FLOW_CLOSE_EVICTED);
			return true;
		}
	}
	return false;
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
	for (int i = 0; i < FLOW_TABLE_EVICT_BATCH && evict_one(t, keep); i++)
		if (memcap_reserve(&t->memcap, n))
			return true;
	return false;
}

bool flow_table_charge(struct flow_table *t, struct flow *f, uint64_t total, uint64_t now_us)
{
	if (f->leaving)
		return true; /* its end hook is running: what it holds goes back in a moment */
	if (total < f->charged) {
		memcap_release(&t->memcap, f->charged - total);
	} else if (total > f->charged) {
		if (!reserve_memory(t, total - f->charged, f, now_us))
			return false;
	}
	f->charged = total;
	return true;
}

void flow_table_bind_sides(struct flow *f)
{
	for (int d = 0; d < 2; d++) {
		f->side[d].flow = f;
		f->side[d].dir = (enum flow_dir)d;
	}
}

static void decide_roles(struct flow *f, const struct decoded_packet *p, bool dst_is_service,
                         bool src_is_service, enum flow_dir *dir)
{
	bool sender_is_client;
	if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		sender_is_client = true;
		f->role_source = FLOW_ROLE_SYN;
	} else if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		sender_is_client = false;
		f->role_source = FLOW_ROLE_SYN_ACK;
	} else if (dst_is_service != src_is_service) {
		sender_is_client = dst_is_service;
		f->role_source = FLOW_ROLE_PORT;
	} else {
		/* Nothing to go on: the lower port is usually the service. tcp_tracker may swap on the
		 * banner. */
		sender_is_client = p->dport <= p->sport;
		f->role_source = FLOW_ROLE_GUESS;
	}
	struct flow_endpoint src = {p->src, p->sport}, dst = {p->dst, p->dport};
	f->client = sender_is_client ? src : dst;
	f->server = sender_is_client ? dst : src;
	*dir = sender_is_client ? FLOW_TO_SERVER : FLOW_TO_CLIENT;
}

struct flow *flow_table_create(struct flow_table *t, const struct decoded_packet *p, uint64_t hash,
                               bool dst_is_service, bool src_is_service, uint64_t now_us, enum flow_dir *dir)
{
	if (!reserve_memory(t, sizeof(struct flow), NULL, now_us)) {
		t->stats.refused++;
		return NULL;
	}
	struct flow *f = calloc(1, sizeof *f);
	if (!f) {
		memcap_release(&t->memcap, sizeof *f);
		t->stats.refused++;
		return NULL;
	}
	decide_roles(f, p, dst_is_service, src_is_service, dir);
	f->hash = hash;
	f->id = ++t->next_id;
	f->first_us = f->last_us = now_us;
	f->encap = p->encap;
	for (int d = 0; d < 2; d++)
		tcp_stream_init(&f->side[d].stream, &t->settings.stream, &t->memcap);
	flow_table_bind_sides(f);
	struct flow **bucket = &t->buckets[f->hash & t->mask];
	f->hash_next = *bucket;
	*bucket = f;
	f->state = FLOW_STATE_NEW;
	list_append(&t->lists[FLOW_STATE_NEW], f);
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
		for (int s = 0; s < FLOW_STATE_COUNT; s++) {
			struct flow *f = t->lists[s].head;
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
