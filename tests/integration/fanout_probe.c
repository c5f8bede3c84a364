/*
 * fanout_probe.c: N packet sockets on one interface through capture_open's fanout option, one thread
 * each, for tests/integration/live_fanout.sh. No sensor: each packet is decoded and its connection (the
 * inner 5-tuple, both directions as one) noted with the socket that got it.
 *
 * Usage: fanout_probe IFACE[,IFACE...] N SECONDS READY-FILE
 * Writes READY-FILE once all N captures are open (each a handle per interface, in one group per interface),
 * reads for SECONDS, then prints:
 *   group I G                     the fanout group of interface I, as each capture reports it (must agree)
 *   socket I packets P            one line per socket
 *   connections total C both_ways B split S
 *   fragments seen F pairs_split Q   IP fragments seen (the kernel reassembles IPv4 ones), pairs split
 *   placement wrong_socket W      IP packets not on socket (pair hash % N), sockets in join order
 *   kernel received R dropped D   capture_stats summed over the N captures
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parsers/packet_decode.h"
#include "sensor/capture/capture.h"
#include "../support/flow_hash_reference.h"

enum { MAX_SOCKETS = 8, MAX_IFACES = 4, MAX_FLOWS = 4096 };

struct flow {
	bool pair_only; /* a fragment: the address pair, no ports */
	struct ip_addr a, b;
	uint16_t pa, pb;
	unsigned sockets; /* bit per socket */
	unsigned directions;
};

struct probe {
	pthread_mutex_t lock;
	struct flow flows[MAX_FLOWS];
	size_t nflows;
	unsigned long packets[MAX_SOCKETS];
	unsigned long fragments;
	unsigned long wrong_socket;
	bool overflow;
};

struct worker {
	struct probe *probe;
	struct capture *cap;
	unsigned index, n;
	volatile sig_atomic_t *stop;
};

static void note(struct probe *pr, const struct decoded_packet *d, bool pair_only, unsigned socket)
{
	int c = ip_addr_compare(&d->src, &d->dst);
	bool fwd = c < 0 || (c == 0 && d->sport <= d->dport);
	struct flow key = {pair_only,
	                   fwd ? d->src : d->dst,
	                   fwd ? d->dst : d->src,
	                   (uint16_t)(pair_only ? 0
	                              : fwd     ? d->sport
	                                        : d->dport),
	                   (uint16_t)(pair_only ? 0
	                              : fwd     ? d->dport
	                                        : d->sport),
	                   0,
	                   0};
	struct flow *f = NULL;
	for (size_t i = 0; i < pr->nflows && !f; i++) {
		struct flow *g = &pr->flows[i];
		if (g->pair_only == key.pair_only && !ip_addr_compare(&g->a, &key.a) &&
		    !ip_addr_compare(&g->b, &key.b) && g->pa == key.pa && g->pb == key.pb)
			f = g;
	}
	if (!f) {
		if (pr->nflows == MAX_FLOWS) {
			pr->overflow = true;
			return;
		}
		f = &pr->flows[pr->nflows++];
		*f = key;
	}
	f->sockets |= 1u << socket;
	f->directions |= fwd ? 1u : 2u;
}

static void on_packet(void *ctx, const struct capture_packet *p)
{
	struct worker *w = ctx;
	struct decoded_packet d;
	enum decode_result r = packet_decode(p->linktype, p->data, p->caplen, NULL, &d);
	pthread_mutex_lock(&w->probe->lock);
	w->probe->packets[w->index]++;
	if ((r == DECODE_OK || r == DECODE_IPV4_FRAGMENT || r == DECODE_IPV6_FRAGMENT) &&
	    flow_hash_reference(&d.src, &d.dst) % w->n != w->index)
		w->probe->wrong_socket++;
	if (r == DECODE_OK)
		note(w->probe, &d, false, w->index);
	if (r == DECODE_IPV4_FRAGMENT || r == DECODE_IPV6_FRAGMENT) {
		w->probe->fragments++;
		note(w->probe, &d, true, w->index);
	}
	pthread_mutex_unlock(&w->probe->lock);
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	capture_run(w->cap, &(struct capture_handler){on_packet, NULL, w}, w->stop);
	return NULL;
}

/* Connections and address pairs seen on more than one socket. */
static void report(const struct probe *pr, struct capture *const *caps, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		printf("socket %u packets %lu\n", i, pr->packets[i]);
	size_t conns = 0, both = 0, split = 0, pairs_split = 0;
	for (size_t i = 0; i < pr->nflows; i++) {
		const struct flow *f = &pr->flows[i];
		bool several = (f->sockets & (f->sockets - 1)) != 0;
		if (f->pair_only) {
			/* A fragment's pair must sit with every connection between the same two addresses. */
			for (size_t k = 0; k < pr->nflows; k++)
				if (!pr->flows[k].pair_only && !ip_addr_compare(&pr->flows[k].a, &f->a) &&
				    !ip_addr_compare(&pr->flows[k].b, &f->b) &&
				    pr->flows[k].sockets != f->sockets)
					several = true;
			pairs_split += several;
			continue;
		}
		conns++;
		both += f->directions == 3;
		split += several;
	}
	printf("connections total %zu both_ways %zu split %zu\n", conns, both, split);
	printf("fragments seen %lu pairs_split %zu\n", pr->fragments, pairs_split);
	printf("placement wrong_socket %lu\n", pr->wrong_socket);
	struct capture_stats sum = {0};
	for (unsigned i = 0; i < n; i++) {
		struct capture_stats s;
		capture_stats(caps[i], &s);
		printf("socket %u kernel received %llu dropped %llu\n", i, (unsigned long long)s.received,
		       (unsigned long long)s.dropped);
		sum.received += s.received;
		sum.dropped += s.dropped;
	}
	printf("kernel received %llu dropped %llu\n", (unsigned long long)sum.received,
	       (unsigned long long)sum.dropped);
	if (pr->overflow)
		printf("overflow: more than %d connections\n", MAX_FLOWS);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: fanout_probe IFACE[,IFACE...] N SECONDS READY-FILE\n");
		return 2;
	}
	unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
	unsigned seconds = (unsigned)strtoul(argv[3], NULL, 10);
	if (n < 2 || n > MAX_SOCKETS) {
		fprintf(stderr, "fanout_probe: N from 2 to %d\n", MAX_SOCKETS);
		return 2;
	}
	static struct probe pr = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct capture *caps[MAX_SOCKETS] = {0};
	char *ifaces[MAX_IFACES];
	size_t nifaces = 0;
	for (char *t = argv[1]; t && nifaces < MAX_IFACES;) {
		ifaces[nifaces++] = t;
		t = strchr(t, ',');
		if (t)
			*t++ = '\0';
	}
	char err[512];
	struct capture_options opt = {.bpf = "", .snaplen = 65535, .promiscuous = true};
	enum capture_open_status st;
	if (capture_open_workers(ifaces, nifaces, &opt, n, caps, &st, err, sizeof err) != 0) {
		fprintf(stderr, "fanout_probe: %s\n", err);
		return 1;
	}
	for (size_t k = 0; k < nifaces; k++) {
		printf("group %zu", k);
		for (unsigned i = 0; i < n; i++)
			printf(" %d", capture_fanout_group(caps[i], k));
		printf("\n");
	}
	FILE *ready = fopen(argv[4], "w");
	if (ready)
		fclose(ready);
	volatile sig_atomic_t stop = 0;
	pthread_t threads[MAX_SOCKETS];
	struct worker workers[MAX_SOCKETS];
	for (unsigned i = 0; i < n; i++) {
		workers[i] = (struct worker){&pr, caps[i], i, n, &stop};
		pthread_create(&threads[i], NULL, run_worker, &workers[i]);
	}
	sleep(seconds);
	stop = 1;
	for (unsigned i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	report(&pr, caps, n);
	for (unsigned i = 0; i < n; i++)
		capture_close(caps[i]);
	return 0;
}
