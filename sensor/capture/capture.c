/*
 * capture.c: the libpcap adapter. Nothing else in tlsobs includes pcap.h.
 *
 * A pcapng file with several interfaces goes to our own reader instead
 * (sensor/capture/pcapng_file.h); libpcap then only compiles the filter, once per
 * interface against its link type, and runs it with pcap_offline_filter.
 */
#include "sensor/capture/capture.h"

#include "sensor/capture/fanout_bpf.h"
#include "sensor/capture/pcap_file.h"
#include "sensor/capture/pcapng_file.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outputs/logger.h"

enum { CAPTURE_MAX_SOURCES = 4096, CAPTURE_TICK_MS = 1000, CAPTURE_READ_BUFFER = 64 * 1024 };

/* The filter for one interface of a pcapng file, compiled when its first packet comes. */
struct interface_filter {
	bool tried, ok;
	int linktype; /* compiled for (an interface index may be described anew in a later section) */
	struct bpf_program prog;
};

struct capture_source {
	char *name; /* file path or interface name */
	pcap_t *pcap;
	struct pcapng_file *ng;           /* instead of pcap: a pcapng file with several interfaces */
	struct interface_filter *filters; /* ng: PCAPNG_MAX_INTERFACES of them */
	char interface[PCAPNG_NAME_MAX];  /* a single-interface pcapng file's if_name, "" if none */
	uint64_t first_ts_us;             /* files: time of the first packet, for ordering */
	size_t order; /* files: position given (names sorted within a directory), breaks ties */
	uint32_t last_recv, last_drop, last_ifdrop; /* live: previous pcap_stats, for wrap-safe deltas */
	int fanout_group;  /* live with fanout: the PACKET_FANOUT group id; else -1 */
	char *read_buffer; /* files: the FILE's stdio buffer, freed after pcap_close */
	/* a classic pcap file read in blocks (sensor/capture/pcap_file.h) when its turn comes: libpcap's
	 * handle only compiles the filter (prog), then gives way to blocks_fd (opened before any privilege
	 * drop) */
	bool in_blocks;
	int blocks_fd;
	int linktype;
	struct bpf_program prog;
	bool has_prog;
};

struct capture {
	bool live;
	struct capture_options opt;
	struct capture_source *sources;
	size_t nsources;
	struct capture_stats stats;
	/* opt.filter's ports and decode options, copied: a pcapng file's filters are compiled as its
	 * interfaces come, long after the caller's arrays may be gone. */
	uint16_t *ports;
	struct decode_options decode;
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

/* Appends to out[*used..outlen); false when it does not fit. */
static bool append(char *out, size_t outlen, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool append(char *out, size_t outlen, size_t *used, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *used, outlen - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outlen - *used)
		return false;
	*used += (size_t)n;
	return true;
}

static bool append_ports(char *out, size_t outlen, size_t *used, const char *proto, const uint16_t *ports,
                         size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!append(out, outlen, used, " or %s port %u", proto, ports[i]))
			return false;
	return true;
}

/*
 * What one encapsulation level admits, at whatever offsets the `vlan`
 * keywords before it have set: TCP on the mail ports, IPv4 fragments (MF or
 * an offset), IPv6 packets whose first extension header is a fragment
 * header, GRE (ERSPAN included), UDP to the VXLAN and Geneve ports, and, on
 * links that carry an EtherType, MPLS. None of these shifts offsets, so the
 * level can be repeated after each `vlan`. Tunnels and MPLS are let through
 * whole: the decoder finds the inner ports and counts the rest as other_ports.
 */
static bool append_level(char *out, size_t outlen, size_t *used, const struct capture_filter_spec *f,
                         bool ethertype_link)
{
	bool ok = f->nports ? append(out, outlen, used, "tcp port %u", f->ports[0]) &&
	                          append_ports(out, outlen, used, "tcp", f->ports + 1, f->nports - 1)
	                    : append(out, outlen, used, "tcp");
	ok = ok && append(out, outlen, used,
	                  " or (ip[6:2] & 0x3fff != 0) or (ip6[6] == 44) or ip proto 47 or ip6 proto 47");
	if (f->decode)
		ok = ok &&
		     append_ports(out, outlen, used, "udp dst", f->decode->vxlan_ports,
		                  f->decode->n_vxlan_ports) &&
		     append_ports(out, outlen, used, "udp dst", f->decode->geneve_ports,
		                  f->decode->n_geneve_ports);
	if (ethertype_link)
		ok = ok && append(out, outlen, used, " or ether proto 0x8847 or ether proto 0x8848");
	return ok;
}

/*
 * BPF's `vlan` shifts the offsets of everything after it in the expression,
 * and there is no way back: a `vlan` in one `or` branch also shifts the
 * branches after it. So the tag levels are nested, each `vlan` opening the
 * rest of the expression: L or (vlan and (L or (vlan and (L ...)))), one level
 * per tag up to DECODE_MAX_VLAN, the decoder's own cap. (`and` and `or` bind
 * alike in BPF, left to right: the brackets around each `vlan`'s rest are
 * what keeps a deeper level behind the `vlan` test of the level above.) `mpls` shifts too and
 * cannot follow `vlan` in libpcap, hence `ether proto` for MPLS. On Linux the
 * kernel may strip the outer tag; libpcap's `vlan` reads it from the packet's
 * metadata then, which hand-written offsets could not.
 */
static int build_filter(const struct capture_filter_spec *f, int linktype, char *out, size_t outlen)
{
	size_t used = 0;
	bool ethernet = linktype == DLT_EN10MB;
	bool ethertype_link = ethernet || linktype == DLT_LINUX_SLL || linktype == DLT_LINUX_SLL2;
	unsigned levels = ethernet ? DECODE_MAX_VLAN : 0;
	bool ok = true;
	for (unsigned i = 0; ok && i <= levels; i++) {
		ok = append(out, outlen, &used, i ? " or (vlan and ((" : "(") &&
		     append_level(out, outlen, &used, f, ethertype_link) && append(out, outlen, &used, ")");
	}
	for (unsigned i = 0; ok && i < levels; i++)
		ok = append(out, outlen, &used, "))");
	return ok ? 0 : -1;
}

/* The length of filter compiled for linktype, in BPF instructions; UINT_MAX when it does not compile. */
static unsigned filter_instructions(const char *filter, int linktype)
{
	pcap_t *p = pcap_open_dead(linktype, 65535);
	if (!p)
		return UINT_MAX;
	struct bpf_program prog;
	unsigned len = UINT_MAX;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0) {
		len = prog.bf_len;
		pcap_freecode(&prog);
	}
	pcap_close(p);
	return len;
}

/*
 * Five levels of a long port list can outgrow what Linux attaches to a socket
 * (BPF_MAXINSNS): then the filter admits all TCP instead of the ports, and
 * the sensor's own port check (other_ports) does the rest.
 */
int capture_default_filter(const struct capture_filter_spec *f, int linktype, char *out, size_t outlen)
{
	if (build_filter(f, linktype, out, outlen) != 0)
		return -1;
	if (f->nports == 0 || filter_instructions(out, linktype) <= CAPTURE_BPF_MAX_INSNS)
		return 0;
	struct capture_filter_spec all_tcp = *f;
	all_tcp.nports = 0;
	return build_filter(&all_tcp, linktype, out, outlen);
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

/*
 * A classic pcap file goes to sensor/capture/pcap_file.h: libpcap's handle has compiled its filter (a
 * savefile's handle: for DLT_NULL the address families of every system that writes it, not only this one's),
 * and its file descriptor, opened before any privilege drop, is kept (a duplicate, from the start) while the
 * handle is closed: one descriptor a file, as with libpcap.
 */
static int hand_over_to_blocks(struct capture_source *src, struct bpf_program *prog, char *err, size_t errlen)
{
	src->prog = *prog;
	src->has_prog = true;
	src->linktype = pcap_datalink(src->pcap);
	FILE *f = pcap_file(src->pcap);
	src->blocks_fd = f ? fcntl(fileno(f), F_DUPFD_CLOEXEC, 0) : -1;
	if (src->blocks_fd < 0 || lseek(src->blocks_fd, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: %s", src->name, strerror(errno));
		return -1;
	}
	pcap_close(src->pcap);
	src->pcap = NULL;
	return 0;
}

/* Compiles and installs the filter; a compile error is the user's (usage) error. */
static int apply_filter(struct capture *c, struct capture_source *src, char *err, size_t errlen)
{
	char def[CAPTURE_FILTER_MAX];
	const char *expr = c->opt.bpf;
	if (src->ng) /* compiled per interface as they come; a bad -f is still a usage error now */
		return expr ? capture_check_filter(expr, err, errlen) : 0;
	if (!expr) {
		if (capture_default_filter(&c->opt.filter, pcap_datalink(src->pcap), def, sizeof def) != 0) {
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
	if (src->in_blocks) /* run per packet by run_blocks */
		return hand_over_to_blocks(src, &prog, err, errlen);
	int rc = pcap_setfilter(src->pcap, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot set capture filter: %s", src->name, pcap_geterr(src->pcap));
		return -1;
	}
	return 0;
}

/*
 * libpcap reads a file through stdio, whose buffer is the file system's block
 * (4 KiB): one read(2) per 4 KiB. A buffer of up to 64 KiB (no larger than
 * the file) makes that 16 times fewer system calls (256 KiB saved no more
 * CPU and cost peak RSS).
 */
static pcap_t *open_buffered(struct capture_source *src, size_t file_size, char *perr)
{
	FILE *f = fopen(src->name, "rb");
	if (!f) {
		snprintf(perr, PCAP_ERRBUF_SIZE, "%s", strerror(errno));
		return NULL;
	}
	size_t size = file_size < CAPTURE_READ_BUFFER ? file_size : CAPTURE_READ_BUFFER;
	src->read_buffer = malloc(size);
	if (src->read_buffer && setvbuf(f, src->read_buffer, _IOFBF, size) != 0) {
		free(src->read_buffer);
		src->read_buffer = NULL;
	}
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, perr);
	if (!p) {
		fclose(f);
		free(src->read_buffer);
		src->read_buffer = NULL;
	}
	return p;
}

/*
 * Whether sensor/capture/pcap_file.h reads this file: a classic pcap header it takes (libpcap has already
 * accepted the file), of a link type whose records libpcap caps at PCAP_RECORD_MAX_CAPLEN (a few others
 * allow more: those stay with libpcap).
 */
static bool takes_blocks(pcap_t *p)
{
	static const int links[] = {DLT_NULL,      DLT_EN10MB,     DLT_RAW,  DLT_LOOP,
	                            DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_IPV4, DLT_IPV6};
	bool known = false;
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
		known = known || links[i] == pcap_datalink(p);
	uint8_t hdr[PCAP_FILE_HEADER_LEN];
	struct pcap_format fmt;
	FILE *f = pcap_file(p);
	return known && f && pread(fileno(f), hdr, sizeof hdr, 0) == (ssize_t)sizeof hdr &&
	       pcap_record_format(hdr, sizeof hdr, &fmt);
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
	if (takes_blocks(p)) { /* p compiles the filter, then gives way */
		src->pcap = p;
		src->in_blocks = true;
		return 0;
	}
	pcap_close(p);
	src->pcap = open_buffered(src, (size_t)st.st_size, perr);
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
	src->fanout_group = -1;
	src->blocks_fd = -1;
	c->nsources++;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * True when the file starts with a capture's magic number: pcap (0xa1b2c3d4
 * microseconds, 0xa1b23c4d nanoseconds, either byte order) or pcapng (a
 * Section Header Block, type 0x0a0d0d0a, draft-ietf-opsawg-pcapng 4.1).
 */
static bool has_capture_magic(const char *path)
{
	unsigned char m[4];
	FILE *f = fopen(path, "rb");
	if (!f)
		return true; /* unreadable: let the open report why, as for a named file */
	size_t got = fread(m, 1, sizeof m, f);
	fclose(f);
	if (got != sizeof m)
		return false;
	uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	uint32_t le = (uint32_t)m[3] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[1] << 8 | m[0];
	return be == 0x0a0d0d0au || be == 0xa1b2c3d4u || le == 0xa1b2c3d4u || be == 0xa1b23c4du ||
	       le == 0xa1b23c4du;
}

/*
 * A directory stands for its regular, non-hidden files that are captures by
 * their magic (not recursive); the others (a .json beside the pcaps) are
 * skipped, counted (files_skipped) and named once in a notice.
 */
static int add_path(struct capture *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "-r %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return add_source(c, path) == 0 ? 0
		                                : (snprintf(err, errlen, "-r %s: too many files", path), -1);
	DIR *dir = opendir(path);
	if (!dir) {
		snprintf(err, errlen, "-r %s: cannot read directory: %s", path, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0, skipped = 0;
	char first_skipped[256] = "";
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL && rc == 0) {
		if (de->d_name[0] == '.')
			continue;
		char full[4096];
		snprintf(full, sizeof full, "%s/%s", path, de->d_name);
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (!has_capture_magic(full)) {
			if (skipped++ == 0)
				snprintf(first_skipped, sizeof first_skipped, "%s", de->d_name);
			continue;
		}
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
	if (skipped) {
		c->stats.files_skipped += (unsigned)skipped;
		fprintf(stderr,
		        "tlsobs: notice: -r %s: %zu file%s without a pcap or pcapng magic skipped (%s%s)\n",
		        path, skipped, skipped == 1 ? "" : "s", first_skipped, skipped > 1 ? ", ..." : "");
	}
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
		snprintf(err, errlen, "-r %s: directory holds no %s", path, skipped ? "captures" : "files");
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
	if (c->sources[i].has_prog)
		pcap_freecode(&c->sources[i].prog);
	if (c->sources[i].blocks_fd >= 0)
		close(c->sources[i].blocks_fd);
	free(c->sources[i].read_buffer);
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

/*
 * Worker 0's handle creates the interface's group: the kernel picks an id unused in the network namespace
 * (PACKET_FANOUT_FLAG_UNIQUEID, dropped from the group's flags once made), and the flow hash program is set
 * on the group (PACKET_FANOUT_DATA) before any other socket joins. PACKET_FANOUT_FLAG_DEFRAG: the kernel
 * reassembles IPv4 fragments (ip_check_defrag, on packets whose skb->protocol is IPv4: untagged, or under a
 * tag the kernel stripped) before the program runs, so a fragmented tunnel packet is hashed by its inner
 * pair, and the worker receives the datagram whole.
 */
static int fanout_create(struct capture_source *src, const struct capture_options *opt, char *err,
                         size_t errlen)
{
	int fd = pcap_fileno(src->pcap);
	uint32_t arg =
	    (uint32_t)(PACKET_FANOUT_CBPF | PACKET_FANOUT_FLAG_DEFRAG | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
		snprintf(err, errlen, "-i %s: cannot create a packet fanout group: %s", src->name,
		         strerror(errno));
		return -1;
	}
	int val = 0;
	socklen_t len = sizeof val;
	if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, &len) != 0) {
		snprintf(err, errlen, "-i %s: cannot read the packet fanout group: %s", src->name,
		         strerror(errno));
		return -1;
	}
	src->fanout_group = val & 0xffff;
	struct fanout_bpf_insn *prog = calloc(FANOUT_BPF_MAX_INSNS, sizeof *prog);
	size_t n =
	    prog ? fanout_bpf_build(opt->filter.decode, FANOUT_BPF_KERNEL, 0, prog, FANOUT_BPF_MAX_INSNS) : 0;
	struct sock_fprog fprog = {(unsigned short)n, (struct sock_filter *)prog};
	int rc = n ? setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &fprog, sizeof fprog) : -1;
	int saved = errno;
	free(prog);
	if (rc != 0) {
		snprintf(err, errlen, "-i %s: cannot set the packet fanout program%s%s", src->name,
		         n ? ": " : " (too many tunnel ports)", n ? strerror(saved) : "");
		return -1;
	}
	return 0;
}

/* The other workers' handles join worker 0's group of the same interface (same type and flags). */
static int fanout_join(struct capture_source *src, const struct capture_source *first, char *err,
                       size_t errlen)
{
	if (strcmp(src->name, first->name) != 0 || first->fanout_group < 0) {
		snprintf(err, errlen, "-i %s: not the interface of worker 0's capture (%s)", src->name,
		         first->name);
		return -1;
	}
	uint32_t arg =
	    (uint32_t)(PACKET_FANOUT_CBPF | PACKET_FANOUT_FLAG_DEFRAG) << 16 | (uint32_t)first->fanout_group;
	if (setsockopt(pcap_fileno(src->pcap), SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
		snprintf(err, errlen, "-i %s: cannot join packet fanout group %d: %s", src->name,
		         first->fanout_group, strerror(errno));
		return -1;
	}
	src->fanout_group = first->fanout_group;
	return 0;
}

/* The index-th interface's handle into its fanout group (fanout_workers > 1), after pcap_activate. */
static int join_fanout(struct capture_source *src, size_t index, const struct capture_options *opt, char *err,
                       size_t errlen)
{
	if (opt->fanout_workers <= 1)
		return 0;
	int linktype = pcap_datalink(src->pcap);
	if (linktype != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(linktype);
		snprintf(err, errlen, "-i %s: several workers need an Ethernet interface (link type %s)",
		         src->name, name ? name : "unknown");
		return -1;
	}
	if (!opt->fanout_first)
		return fanout_create(src, opt, err, errlen);
	if (index >= opt->fanout_first->nsources) {
		snprintf(err, errlen, "-i %s: worker 0's capture has no interface %zu", src->name, index + 1);
		return -1;
	}
	return fanout_join(src, &opt->fanout_first->sources[index], err, errlen);
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
	if (opt->filter.nports) {
		c->ports = malloc(opt->filter.nports * sizeof *c->ports);
		if (!c->ports) {
			snprintf(err, errlen, "out of memory");
			goto fail_runtime;
		}
		memcpy(c->ports, opt->filter.ports, opt->filter.nports * sizeof *c->ports);
		c->opt.filter.ports = c->ports;
	}
	if (opt->filter.decode) {
		c->decode = *opt->filter.decode;
		c->opt.filter.decode = &c->decode;
	}
	c->live = nifaces > 0;
	for (size_t i = 0; i < nifaces; i++) {
		if (add_source(c, ifaces[i]) != 0 ||
		    open_live(&c->sources[c->nsources - 1], opt, err, errlen) != 0 ||
		    join_fanout(&c->sources[c->nsources - 1], i, opt, err, errlen) != 0)
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

int capture_open_workers(char *const *ifaces, size_t nifaces, const struct capture_options *opt, unsigned n,
                         struct capture **caps, enum capture_open_status *status, char *err, size_t errlen)
{
	for (unsigned i = 0; i < n; i++) {
		struct capture_options o = *opt;
		o.fanout_workers = n;
		o.fanout_first = i ? caps[0] : NULL;
		caps[i] = capture_open(NULL, 0, ifaces, nifaces, &o, status, err, errlen);
		if (!caps[i]) {
			while (i > 0)
				capture_close(caps[--i]);
			return -1;
		}
	}
	return 0;
}

struct dispatch_ctx {
	const struct capture_handler *h;
	int linktype;
	const char *interface;
};

static void on_pcap_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data)
{
	struct dispatch_ctx *d = (struct dispatch_ctx *)user;
	struct capture_packet p = {
	    timeval_us(&hdr->ts), hdr->caplen, hdr->len, d->linktype, data,
	    d->interface,         NULL}; /* libpcap's buffer: reused for the next packet */
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

/* Compiles the filter for one pcapng interface; a link type libpcap cannot filter is reported once and
 * skipped. */
static void compile_interface_filter(struct capture *c, struct capture_source *src, unsigned index,
                                     const struct pcapng_interface *i)
{
	struct interface_filter *f = &src->filters[index];
	if (f->ok)
		pcap_freecode(&f->prog);
	*f = (struct interface_filter){.tried = true, .linktype = i->linktype};
	char def[CAPTURE_FILTER_MAX];
	const char *expr = c->opt.bpf;
	if (!expr &&
	    capture_default_filter(&c->opt.filter, dlt_of_linktype(i->linktype), def, sizeof def) == 0)
		expr = def;
	pcap_t *dead = pcap_open_dead(dlt_of_linktype(i->linktype), i->snaplen ? (int)i->snaplen : 262144);
	if (dead && expr && pcap_compile(dead, &f->prog, expr, 1, PCAP_NETMASK_UNKNOWN) == 0)
		f->ok = true;
	else
		logger_log(
		    LOGGER_WARNING, "capture",
		    "%s: interface %u (%s, link type %d): no capture filter (%s): its packets are skipped",
		    src->name, index, i->name[0] ? i->name : "unnamed", i->linktype,
		    dead ? pcap_geterr(dead) : "out of memory");
	if (dead)
		pcap_close(dead);
}

/* How a file's reading ended: counted, and an early end said with libpcap's or our reader's words. */
static int file_ended(struct capture *c, const struct capture_source *src, bool early, const char *why)
{
	if (early) {
		fprintf(stderr, "tlsobs: %s: capture ends early: %s\n", src->name, why);
		c->stats.files_failed++;
		return -1;
	}
	c->stats.files_read++;
	return 0;
}

/* The header pcap_offline_filter reads, for a packet our own readers found. */
static struct pcap_pkthdr pkthdr_of(uint64_t ts_us, uint32_t caplen, uint32_t len)
{
	return (struct pcap_pkthdr){
	    {(time_t)(ts_us / 1000000u), (suseconds_t)(ts_us % 1000000u)}, caplen, len};
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
		struct pcap_pkthdr hdr = pkthdr_of(p.ts_us, p.caplen, p.len);
		if (!f->ok || pcap_offline_filter(&f->prog, &hdr, p.data) == 0)
			continue;
		struct capture_packet cp = {
		    p.ts_us, p.caplen, p.len, i->linktype, p.data, i->name[0] ? i->name : NULL, NULL};
		h->packet(h->ctx, &cp);
	}
	return file_ended(c, src, !*stop && rc < 0, err);
}

/* A classic pcap file in blocks: each packet a slice of its block, which the handler may retain. */
static int run_blocks(struct capture *c, struct capture_source *src, const struct capture_handler *h,
                      volatile sig_atomic_t *stop)
{
	char err[512] = "";
	int rc = -1;
	struct pcap_file *f = pcap_file_from_fd(src->blocks_fd, 0, 0, err, sizeof err);
	src->blocks_fd = -1; /* pcap_file's now */
	if (!f && !err[0])
		snprintf(err, sizeof err, "no longer a pcap file");
	struct pcap_file_packet p;
	int linktype = src->linktype;
	const char *name = src->interface[0] ? src->interface : NULL;
	while (f && !*stop && (rc = pcap_file_next(f, &p, err, sizeof err)) == 1) {
		struct pcap_pkthdr hdr = pkthdr_of(p.rec.ts_us, p.rec.caplen, p.rec.len);
		if (src->has_prog && pcap_offline_filter(&src->prog, &hdr, p.data) == 0)
			continue;
		struct capture_packet cp = {p.rec.ts_us, p.rec.caplen, p.rec.len, linktype,
		                            p.data,      name,         p.block};
		h->packet(h->ctx, &cp);
	}
	pcap_file_close(f);
	return file_ended(c, src, !*stop && rc < 0, err);
}

static int run_file(struct capture *c, struct capture_source *src, const struct capture_handler *h,
                    volatile sig_atomic_t *stop)
{
	if (src->ng)
		return run_pcapng(c, src, h, stop);
	if (src->in_blocks)
		return run_blocks(c, src, h, stop);
	struct dispatch_ctx d = {h, pcap_datalink(src->pcap), src->interface[0] ? src->interface : NULL};
	while (!*stop) {
		int n = pcap_dispatch(src->pcap, 256, on_pcap_packet, (u_char *)&d);
		if (n == 0)
			break; /* end of file */
		if (n == PCAP_ERROR_BREAK)
			break;
		if (n < 0) /* libpcap says e.g. "truncated dump file; tried to read 96 captured bytes, only
		              got 40" */
			return file_ended(c, src, true, pcap_geterr(src->pcap));
	}
	return file_ended(c, src, false, "");
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
			logger_log(LOGGER_ERROR, "capture", "poll: %s", strerror(errno));
			return -1;
		}
		for (size_t i = 0; ready > 0 && i < c->nsources; i++) {
			if (!(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			struct dispatch_ctx d = {h, pcap_datalink(c->sources[i].pcap), c->sources[i].name};
			if (pcap_dispatch(c->sources[i].pcap, 1024, on_pcap_packet, (u_char *)&d) < 0 &&
			    !*stop) {
				logger_log(LOGGER_ERROR, "capture", "-i %s: %s", c->sources[i].name,
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

size_t capture_sockets(const struct capture *c, int *fds, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; c->live && i < c->nsources && n < max; i++) {
		int fd = pcap_get_selectable_fd(c->sources[i].pcap);
		if (fd >= 0)
			fds[n++] = fd;
	}
	return n;
}

int capture_fanout_group(const struct capture *c, size_t i)
{
	return c->live && i < c->nsources ? c->sources[i].fanout_group : -1;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	while (c->nsources > 0)
		drop_source(c, c->nsources - 1);
	free(c->sources);
	free(c->ports);
	free(c);
}
