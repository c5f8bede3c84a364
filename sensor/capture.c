/*
 * capture.c: the libpcap adapter. Nothing else in tlsobs includes pcap.h.
 *
 * A pcapng file with several interfaces goes to our own reader instead
 * (sensor/pcapng_file.h); libpcap then only compiles the filter, once per
 * interface against its link type, and runs it with pcap_offline_filter.
 */
#include "sensor/capture.h"

#include "sensor/pcapng_file.h"

#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { CAPTURE_MAX_SOURCES = 4096, CAPTURE_TICK_MS = 1000 };

/* The filter for one interface of a pcapng file, compiled when its first packet comes. */
struct interface_filter {
	bool tried, ok;
	int linktype; /* compiled for (an interface index may be described anew in a later section) */
	struct bpf_program prog;
};

struct capture_source {
	char *name; /* file path or interface name */
	pcap_t *pcap;
	struct pcapng_file *ng;          /* instead of pcap: a pcapng file with several interfaces */
	struct interface_filter *filters; /* ng: PCAPNG_MAX_INTERFACES of them */
	char interface[PCAPNG_NAME_MAX]; /* a single-interface pcapng file's if_name, "" if none */
	uint64_t first_ts_us; /* files: time of the first packet, for ordering */
	size_t order; /* files: position given (names sorted within a directory), breaks ties */
	uint32_t last_recv, last_drop, last_ifdrop; /* live: previous pcap_stats, for wrap-safe deltas */
};

struct capture {
	bool live;
	struct capture_options opt;
	struct capture_source *sources;
	size_t nsources;
	struct capture_stats stats;
};

static uint64_t now_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t timeval_us(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
}

int capture_default_filter(const uint16_t *ports, size_t nports, int linktype, char *out, size_t outlen)
{
	char ports_expr[2048] = "";
	size_t used = 0;
	for (size_t i = 0; i < nports; i++) {
		int n = snprintf(ports_expr + used, sizeof ports_expr - used, "%stcp port %u", i ? " or " : "",
				 ports[i]);
		if (n < 0 || (size_t)n >= sizeof ports_expr - used)
			return -1;
		used += (size_t)n;
	}
	if (nports == 0)
		snprintf(ports_expr, sizeof ports_expr, "tcp");
	/*
	 * IP fragments, for reassembly (sensor/defrag.c): `tcp port` matches only
	 * an IPv4 first fragment and no IPv6 fragment at all (it reads the IPv6
	 * Next Header, which names the Fragment header). So admit every IPv4
	 * fragment (MF or an offset) and IPv6 with a Fragment header first.
	 */
	used = strlen(ports_expr);
	int fn = snprintf(ports_expr + used, sizeof ports_expr - used,
	                  " or (ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)");
	if (fn < 0 || (size_t)fn >= sizeof ports_expr - used)
		return -1;
	int n;
	/* `vlan` shifts the offsets of what follows it, hence the repeated expression. */
	if (linktype == DLT_EN10MB)
		n = snprintf(out, outlen, "(%s) or (vlan and (%s)) or (vlan and vlan and (%s))", ports_expr,
			     ports_expr, ports_expr);
	else
		n = snprintf(out, outlen, "%s", ports_expr);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int capture_check_filter(const char *bpf, char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct bpf_program prog;
	int rc = pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN);
	if (rc != 0)
		snprintf(err, errlen, "-f '%s': bad capture filter: %s", bpf, pcap_geterr(p));
	else
		pcap_freecode(&prog);
	pcap_close(p);
	return rc == 0 ? 0 : -1;
}

/* Compiles and installs the filter; a compile error is the user's (usage) error. */
static int apply_filter(struct capture *c, struct capture_source *src, char *err, size_t errlen)
{
	char def[8192];
	const char *expr = c->opt.bpf;
	if (src->ng) /* compiled per interface as they come; a bad -f is still a usage error now */
		return expr ? capture_check_filter(expr, err, errlen) : 0;
	if (!expr) {
		if (capture_default_filter(c->opt.ports, c->opt.nports, pcap_datalink(src->pcap), def, sizeof def) != 0) {
			snprintf(err, errlen, "too many ports for the default capture filter");
			return -1;
		}
		expr = def;
	}
	struct bpf_program prog;
	if (pcap_compile(src->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "-f '%s': bad capture filter: %s", expr, pcap_geterr(src->pcap));
		return -1;
	}
	int rc = pcap_setfilter(src->pcap, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot set capture filter: %s", src->name, pcap_geterr(src->pcap));
		return -1;
	}
	return 0;
}

/* Opens a capture file and reads its first packet's time (then reopens at the start). */
static int open_file(struct capture_source *src, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	if (stat(src->name, &st) != 0) {
		snprintf(err, errlen, "%s: %s", src->name, strerror(errno));
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s: empty file, not a capture", src->name);
		return -1;
	}
	if (pcapng_file_has_several_interfaces(src->name, &src->first_ts_us, src->interface)) {
		src->ng = pcapng_file_open(src->name, err, errlen);
		src->filters = calloc(PCAPNG_MAX_INTERFACES, sizeof *src->filters);
		if (!src->ng || !src->filters) {
			if (src->ng)
				snprintf(err, errlen, "%s: out of memory", src->name);
			return -1;
		}
		return 0;
	}
	pcap_t *p = pcap_open_offline_with_tstamp_precision(src->name, PCAP_TSTAMP_PRECISION_MICRO, perr);
	if (!p) {
		snprintf(err, errlen, "%s: not a readable pcap or pcapng file: %s", src->name, perr);
		return -1;
	}
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc = pcap_next_ex(p, &hdr, &data);
	src->first_ts_us = rc == 1 ? timeval_us(&hdr->ts) : UINT64_MAX; /* empty captures sort last */
	pcap_close(p);
	src->pcap = pcap_open_offline_with_tstamp_precision(src->name, PCAP_TSTAMP_PRECISION_MICRO, perr);
	if (!src->pcap) {
		snprintf(err, errlen, "%s: %s", src->name, perr);
		return -1;
	}
	return 0;
}

static int add_source(struct capture *c, const char *name)
{
	if (c->nsources >= CAPTURE_MAX_SOURCES)
		return -1;
	struct capture_source *grown = realloc(c->sources, (c->nsources + 1) * sizeof *grown);
	if (!grown)
		return -1;
	c->sources = grown;
	struct capture_source *src = &c->sources[c->nsources];
	memset(src, 0, sizeof *src);
	src->name = strdup(name);
	if (!src->name)
		return -1;
	src->order = c->nsources;
	c->nsources++;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory stands for its regular, non-hidden files (not recursive). */
static int add_path(struct capture *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "-r %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return add_source(c, path) == 0 ? 0 : (snprintf(err, errlen, "-r %s: too many files", path), -1);
	DIR *dir = opendir(path);
	if (!dir) {
		snprintf(err, errlen, "-r %s: cannot read directory: %s", path, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL && rc == 0) {
		if (de->d_name[0] == '.')
			continue;
		char full[4096];
		snprintf(full, sizeof full, "%s/%s", path, de->d_name);
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		char **grown = n < CAPTURE_MAX_SOURCES ? realloc(names, (n + 1) * sizeof *names) : NULL;
		if (!grown || !(grown[n] = strdup(full))) {
			if (grown)
				names = grown;
			snprintf(err, errlen, "-r %s: too many files", path);
			rc = -1;
			break;
		}
		names = grown;
		n++;
	}
	closedir(dir);
	if (n > 1) /* names is NULL when the directory held no file, and qsort must not get NULL */
		qsort(names, n, sizeof *names, compare_names); /* the tie-break for equal first times */
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && add_source(c, names[i]) != 0) {
			snprintf(err, errlen, "-r %s: too many files", path);
			rc = -1;
		}
		free(names[i]);
	}
	free(names);
	if (rc == 0 && n == 0) {
		snprintf(err, errlen, "-r %s: directory holds no files", path);
		rc = -1;
	}
	return rc;
}

static int compare_first_time(const void *a, const void *b)
{
	const struct capture_source *x = a, *y = b;
	if (x->first_ts_us != y->first_ts_us)
		return x->first_ts_us > y->first_ts_us ? 1 : -1;
	return (x->order > y->order) - (x->order < y->order); /* qsort is not stable */
}

static void drop_source(struct capture *c, size_t i)
{
	if (c->sources[i].pcap)
		pcap_close(c->sources[i].pcap);
	pcapng_file_close(c->sources[i].ng);
	for (size_t k = 0; c->sources[i].filters && k < PCAPNG_MAX_INTERFACES; k++)
		if (c->sources[i].filters[k].ok)
			pcap_freecode(&c->sources[i].filters[k].prog);
	free(c->sources[i].filters);
	free(c->sources[i].name);
	memmove(&c->sources[i], &c->sources[i + 1], (c->nsources - i - 1) * sizeof *c->sources);
	c->nsources--;
}

static int open_live(struct capture_source *src, const struct capture_options *opt, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	src->pcap = pcap_create(src->name, perr);
	if (!src->pcap) {
		snprintf(err, errlen, "-i %s: %s", src->name, perr);
		return -1;
	}
	pcap_set_snaplen(src->pcap, opt->snaplen);
	pcap_set_promisc(src->pcap, opt->promiscuous);
	pcap_set_timeout(src->pcap, 100);
	pcap_set_immediate_mode(src->pcap, 0);
	if (opt->buffer_size > 0)
		pcap_set_buffer_size(src->pcap, opt->buffer_size);
	int rc = pcap_activate(src->pcap);
	if (rc < 0) {
		snprintf(err, errlen, "-i %s: %s", src->name, pcap_geterr(src->pcap));
		return -1;
	}
	if (pcap_setnonblock(src->pcap, 1, perr) != 0) {
		snprintf(err, errlen, "-i %s: %s", src->name, perr);
		return -1;
	}
	return 0;
}

struct capture *capture_open(char *const *files, size_t nfiles, char *const *ifaces, size_t nifaces,
			     const struct capture_options *opt, enum capture_open_status *status, char *err,
			     size_t errlen)
{
	*status = CAPTURE_OK;
	struct capture *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		*status = CAPTURE_RUNTIME_ERROR;
		return NULL;
	}
	c->opt = *opt;
	c->live = nifaces > 0;
	for (size_t i = 0; i < nifaces; i++) {
		if (add_source(c, ifaces[i]) != 0 || open_live(&c->sources[c->nsources - 1], opt, err, errlen) != 0)
			goto fail_runtime;
	}
	for (size_t i = 0; i < nfiles; i++) {
		/* A path that cannot be read is reported and skipped, as an unreadable file is below. */
		if (add_path(c, files[i], err, errlen) != 0) {
			fprintf(stderr, "tlsobs: %s\n", err);
			c->stats.files_failed++;
			*status = CAPTURE_RUNTIME_ERROR;
		}
	}
	for (size_t i = 0; !c->live && i < c->nsources;) {
		if (open_file(&c->sources[i], err, errlen) != 0) {
			fprintf(stderr, "tlsobs: %s\n", err);
			c->stats.files_failed++;
			*status = CAPTURE_RUNTIME_ERROR;
			drop_source(c, i);
			continue;
		}
		i++;
	}
	if (!c->live && c->nsources > 1) /* sources is NULL when no path could be read */
		qsort(c->sources, c->nsources, sizeof *c->sources, compare_first_time);
	for (size_t i = 0; i < c->nsources; i++) {
		if (apply_filter(c, &c->sources[i], err, errlen) != 0) {
			*status = CAPTURE_USAGE_ERROR;
			capture_close(c);
			return NULL;
		}
	}
	if (c->nsources == 0) {
		snprintf(err, errlen, "no readable capture source");
		capture_close(c);
		return NULL;
	}
	return c;
fail_runtime:
	*status = CAPTURE_RUNTIME_ERROR;
	capture_close(c);
	return NULL;
}

struct dispatch_ctx {
	const struct capture_handler *h;
	int linktype;
	const char *interface;
};

static void on_pcap_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data)
{
	struct dispatch_ctx *d = (struct dispatch_ctx *)user;
	struct capture_packet p = {timeval_us(&hdr->ts), hdr->caplen, hdr->len, d->linktype, data, d->interface};
	d->h->packet(d->h->ctx, &p);
}

/*
 * pcapng files carry LINKTYPE_ values, pcap_compile wants DLT_ ones; they differ
 * below 104 only where a DLT number was platform-specific (libpcap's own
 * linktype_to_dlt() is not public).
 */
static int dlt_of_linktype(int linktype)
{
	switch (linktype) {
	case 100: /* LINKTYPE_ATM_RFC1483 */
		return DLT_ATM_RFC1483;
	case 101: /* LINKTYPE_RAW */
		return DLT_RAW;
	default:
		return linktype;
	}
}

/* Compiles the filter for one pcapng interface; a link type libpcap cannot filter is reported once and skipped. */
static void compile_interface_filter(struct capture *c, struct capture_source *src, unsigned index,
                                     const struct pcapng_interface *i)
{
	struct interface_filter *f = &src->filters[index];
	if (f->ok)
		pcap_freecode(&f->prog);
	*f = (struct interface_filter){.tried = true, .linktype = i->linktype};
	char def[8192];
	const char *expr = c->opt.bpf;
	if (!expr && capture_default_filter(c->opt.ports, c->opt.nports, dlt_of_linktype(i->linktype), def,
	                                    sizeof def) == 0)
		expr = def;
	pcap_t *dead = pcap_open_dead(dlt_of_linktype(i->linktype), i->snaplen ? (int)i->snaplen : 262144);
	if (dead && expr && pcap_compile(dead, &f->prog, expr, 1, PCAP_NETMASK_UNKNOWN) == 0)
		f->ok = true;
	else
		fprintf(stderr, "tlsobs: %s: interface %u (%s, link type %d): no capture filter (%s): its packets are skipped\n",
		        src->name, index, i->name[0] ? i->name : "unnamed", i->linktype,
		        dead ? pcap_geterr(dead) : "out of memory");
	if (dead)
		pcap_close(dead);
}

/* A pcapng file libpcap refuses: our reader, each packet with its interface's link type, name and filter. */
static int run_pcapng(struct capture *c, struct capture_source *src, const struct capture_handler *h,
                      volatile sig_atomic_t *stop)
{
	char err[512];
	struct pcapng_packet p;
	int rc = 0;
	while (!*stop && (rc = pcapng_file_next(src->ng, &p, err, sizeof err)) == 1) {
		const struct pcapng_interface *i = pcapng_file_interface(src->ng, p.interface);
		struct interface_filter *f = &src->filters[p.interface];
		if (!f->tried || f->linktype != i->linktype)
			compile_interface_filter(c, src, p.interface, i);
		struct pcap_pkthdr hdr = {{(time_t)(p.ts_us / 1000000u), (suseconds_t)(p.ts_us % 1000000u)}, p.caplen, p.len};
		if (!f->ok || pcap_offline_filter(&f->prog, &hdr, p.data) == 0)
			continue;
		struct capture_packet cp = {p.ts_us, p.caplen, p.len, i->linktype, p.data, i->name[0] ? i->name : NULL};
		h->packet(h->ctx, &cp);
	}
	if (!*stop && rc < 0) {
		fprintf(stderr, "tlsobs: %s: capture ends early: %s\n", src->name, err);
		c->stats.files_failed++;
		return -1;
	}
	c->stats.files_read++;
	return 0;
}

static int run_file(struct capture *c, struct capture_source *src, const struct capture_handler *h,
		    volatile sig_atomic_t *stop)
{
	if (src->ng)
		return run_pcapng(c, src, h, stop);
	struct dispatch_ctx d = {h, pcap_datalink(src->pcap), src->interface[0] ? src->interface : NULL};
	while (!*stop) {
		int n = pcap_dispatch(src->pcap, 256, on_pcap_packet, (u_char *)&d);
		if (n == 0)
			break; /* end of file */
		if (n == PCAP_ERROR_BREAK)
			break;
		if (n < 0) {
			/* libpcap says e.g. "truncated dump file; tried to read 96 captured bytes, only got 40". */
			fprintf(stderr, "tlsobs: %s: capture ends early: %s\n", src->name, pcap_geterr(src->pcap));
			c->stats.files_failed++;
			return -1;
		}
	}
	c->stats.files_read++;
	return 0;
}

static void read_live_stats(struct capture *c)
{
	for (size_t i = 0; i < c->nsources; i++) {
		struct capture_source *src = &c->sources[i];
		struct pcap_stat ps;
		if (pcap_stats(src->pcap, &ps) != 0)
			continue;
		/* 32-bit counters that wrap: unsigned subtraction gives the true delta. */
		c->stats.received += (uint32_t)(ps.ps_recv - src->last_recv);
		c->stats.dropped += (uint32_t)(ps.ps_drop - src->last_drop);
		c->stats.if_dropped += (uint32_t)(ps.ps_ifdrop - src->last_ifdrop);
		src->last_recv = ps.ps_recv;
		src->last_drop = ps.ps_drop;
		src->last_ifdrop = ps.ps_ifdrop;
	}
}

static int run_live(struct capture *c, const struct capture_handler *h, volatile sig_atomic_t *stop)
{
	struct pollfd fds[CAPTURE_MAX_SOURCES];
	for (size_t i = 0; i < c->nsources; i++) {
		fds[i].fd = pcap_get_selectable_fd(c->sources[i].pcap);
		fds[i].events = POLLIN;
	}
	uint64_t last_tick = now_wall_us();
	while (!*stop) {
		int ready = poll(fds, c->nsources, CAPTURE_TICK_MS / 4);
		if (ready < 0 && errno != EINTR) {
			fprintf(stderr, "tlsobs: poll: %s\n", strerror(errno));
			return -1;
		}
		for (size_t i = 0; ready > 0 && i < c->nsources; i++) {
			if (!(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			struct dispatch_ctx d = {h, pcap_datalink(c->sources[i].pcap), c->sources[i].name};
			if (pcap_dispatch(c->sources[i].pcap, 1024, on_pcap_packet, (u_char *)&d) < 0 &&
			    !*stop) {
				fprintf(stderr, "tlsobs: -i %s: %s\n", c->sources[i].name,
					pcap_geterr(c->sources[i].pcap));
				return -1;
			}
		}
		uint64_t now = now_wall_us();
		if (now - last_tick >= CAPTURE_TICK_MS * 1000u) {
			last_tick = now;
			read_live_stats(c);
			if (h->tick)
				h->tick(h->ctx, now);
		}
	}
	return 0;
}

int capture_run(struct capture *c, const struct capture_handler *h, volatile sig_atomic_t *stop)
{
	if (c->live) {
		int rc = run_live(c, h, stop);
		read_live_stats(c);
		return rc;
	}
	int rc = c->stats.files_failed ? -1 : 0;
	for (size_t i = 0; i < c->nsources && !*stop; i++)
		if (run_file(c, &c->sources[i], h, stop) != 0)
			rc = -1;
	return rc;
}

void capture_stats(struct capture *c, struct capture_stats *out)
{
	*out = c->stats;
}

bool capture_is_live(const struct capture *c)
{
	return c->live;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	while (c->nsources > 0)
		drop_source(c, c->nsources - 1);
	free(c->sources);
	free(c);
}
