/*
 * test_capture.c: the default capture filter (capture_default_filter). It is
 * compiled here with libpcap for every link type the decoder reads, its
 * VLAN levels are nested as BPF's offset rules require, and the largest
 * configuration fits both the buffer and the kernel's program size limit.
 * What it admits from real wrapped captures is tests/integration/tunnels.sh.
 */
#include "sensor/capture/capture.h"

#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <string.h>

static const uint16_t mail_ports[] = {25, 587, 2525, 465};

/* Compiles filter for linktype; returns the program's length in instructions. */
static unsigned compile(int linktype, const char *filter)
{
	pcap_t *p = pcap_open_dead(linktype, 65535);
	cr_assert_not_null(p);
	struct bpf_program prog;
	cr_assert_eq(pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN), 0, "link %d: %s: %s", linktype,
	             pcap_geterr(p), filter);
	unsigned len = prog.bf_len;
	pcap_freecode(&prog);
	pcap_close(p);
	return len;
}

static unsigned count(const char *haystack, const char *needle)
{
	unsigned n = 0;
	for (const char *at = haystack; (at = strstr(at, needle)) != NULL; at += strlen(needle))
		n++;
	return n;
}

Test(capture, the_default_filter_compiles_for_every_link_type_the_decoder_reads)
{
	static const int links[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL, DLT_LOOP};
	struct decode_options opt;
	decode_options_default(&opt);
	struct capture_filter_spec spec = {mail_ports, 4, &opt};
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		char filter[CAPTURE_FILTER_MAX];
		cr_assert_eq(capture_default_filter(&spec, links[i], filter, sizeof filter), 0);
		compile(links[i], filter);
		cr_assert(strstr(filter, "tcp port 465") && strstr(filter, "udp dst port 4789") &&
		              strstr(filter, "udp dst port 6081") &&
		              strstr(filter, "ip[6:2] & 0x3fff != 0") && strstr(filter, "ip6[6] == 44") &&
		              strstr(filter, "ip proto 47"),
		          "link %d: %s", links[i], filter);
		bool ethertype =
		    links[i] == DLT_EN10MB || links[i] == DLT_LINUX_SLL || links[i] == DLT_LINUX_SLL2;
		cr_assert_eq(strstr(filter, "ether proto 0x8847") != NULL, ethertype, "link %d: %s", links[i],
		             filter);
	}
}

Test(capture, ethernet_gets_one_nested_level_per_vlan_tag_the_decoder_accepts)
{
	struct capture_filter_spec spec = {mail_ports, 4, NULL};
	char filter[CAPTURE_FILTER_MAX];
	cr_assert_eq(capture_default_filter(&spec, DLT_EN10MB, filter, sizeof filter), 0);
	cr_assert_eq(count(filter, "vlan"), DECODE_MAX_VLAN, "%s", filter);
	/* Each vlan opens the rest: "(L) or (vlan and ((L) or (vlan and (...))))", never "vlan and vlan". */
	cr_assert_eq(count(filter, " or (vlan and (("), DECODE_MAX_VLAN, "%s", filter);
	cr_assert_eq(count(filter, "tcp port 25 "), DECODE_MAX_VLAN + 1, "%s", filter);
	size_t len = strlen(filter);
	cr_assert_geq(len, 2 * DECODE_MAX_VLAN);
	for (size_t i = 0; i < 2 * DECODE_MAX_VLAN; i++)
		cr_assert_eq(filter[len - 1 - i], ')', "%s", filter);
	/* No UDP ports without decode options; no port list at all: every TCP packet. */
	cr_assert_null(strstr(filter, "udp"));
	spec.nports = 0;
	cr_assert_eq(capture_default_filter(&spec, DLT_RAW, filter, sizeof filter), 0);
	cr_assert(strncmp(filter, "(tcp or ", 8) == 0, "%s", filter);
}

Test(capture, the_largest_configuration_falls_back_to_all_tcp_within_the_kernel_limit)
{
	uint16_t ports[128];
	for (unsigned i = 0; i < 128; i++)
		ports[i] = (uint16_t)(60000 + i);
	struct decode_options opt = {.n_vxlan_ports = DECODE_MAX_TUNNEL_PORTS,
	                             .n_geneve_ports = DECODE_MAX_TUNNEL_PORTS};
	for (unsigned i = 0; i < DECODE_MAX_TUNNEL_PORTS; i++) {
		opt.vxlan_ports[i] = (uint16_t)(50000 + i);
		opt.geneve_ports[i] = (uint16_t)(51000 + i);
	}
	struct capture_filter_spec spec = {ports, 128, &opt};
	char filter[CAPTURE_FILTER_MAX];
	cr_assert_eq(capture_default_filter(&spec, DLT_EN10MB, filter, sizeof filter), 0);
	unsigned insns = compile(DLT_EN10MB, filter);
	cr_assert_leq(insns, CAPTURE_BPF_MAX_INSNS, "%u BPF instructions: above Linux's BPF_MAXINSNS", insns);
	cr_assert_null(strstr(filter, "tcp port"), "%s", filter);
	cr_assert(strncmp(filter, "(tcp or ", 8) == 0, "%s", filter);
	cr_assert_not_null(strstr(filter, "udp dst port 51015"));
	/* Twenty ports still fit: the filter keeps them. */
	spec.nports = 20;
	cr_assert_eq(capture_default_filter(&spec, DLT_EN10MB, filter, sizeof filter), 0);
	cr_assert_not_null(strstr(filter, "tcp port 60019"), "%s", filter);
	cr_assert_leq(compile(DLT_EN10MB, filter), CAPTURE_BPF_MAX_INSNS);
}

Test(capture, a_filter_that_does_not_fit_is_refused)
{
	struct capture_filter_spec spec = {mail_ports, 4, NULL};
	char filter[200];
	cr_assert_eq(capture_default_filter(&spec, DLT_EN10MB, filter, sizeof filter), -1);
}
