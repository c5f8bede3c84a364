/*
 * fuzz_classify.c: libFuzzer harness for the nDPI adapter (sensor/app/classify.h).
 *
 * Input: one flow as a run of packets, each a direction byte (even: from the
 * client), a 16-bit big-endian length and that many bytes from the IP header
 * on (cut short at the end of the input). Each packet is copied into a buffer
 * of exactly its length, so a read past it is ASan's to see, then handed to
 * classify_packet(); the verdict, protocol and risks are read back at the end.
 * Each input is classified twice, the second time with the flow waiting for
 * its client (classify_flow_wait_for_client): both must give the same verdict,
 * name, risks and packet count, or the harness traps.
 * One classifier serves every run (nDPI takes ~17 ms to build one).
 *
 * tests/fuzz/seed_classify.py writes seeds from the fixture captures.
 */
#include "sensor/app/classify.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile size_t fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One run over the input; NULL when out of memory. The caller finishes and frees the flow. */
static struct classify_flow *classify_input(struct classifier *c, const uint8_t *data, size_t size, bool wait)
{
	struct classify_flow *f = classify_flow_new(c);
	if (!f)
		return NULL;
	if (wait)
		classify_flow_wait_for_client(f);
	uint64_t t = 1700000000000000ull;
	while (size >= 3) {
		bool to_server = (data[0] & 1) == 0;
		size_t n = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		uint8_t *pkt = malloc(n ? n : 1);
		if (!pkt)
			break;
		memcpy(pkt, data, n);
		classify_packet(c, f, pkt, n, t += 1000, to_server);
		free(pkt);
		data += n;
		size -= n;
	}
	classify_finish(c, f);
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct classifier *c;
	if (!c && !(c = classifier_new()))
		return 0;
	struct classify_flow *f = classify_input(c, data, size, false);
	struct classify_flow *w = classify_input(c, data, size, true);
	if (!f || !w) {
		classify_flow_free(f);
		classify_flow_free(w);
		return 0;
	}
	const char *risks[CLASSIFY_MAX_RISKS];
	size_t nr = classify_flow_risks(f, risks, CLASSIFY_MAX_RISKS);
	for (size_t i = 0; i < nr; i++)
		fuzz_sink += strlen(risks[i]);
	char name[CLASSIFY_PROTOCOL_MAX];
	snprintf(name, sizeof name, "%s", classify_flow_protocol(f)); /* the next call reuses its buffer */
	fuzz_sink += strlen(name) + (size_t)classify_flow_verdict(f);
	struct classify_result a = classify_flow_result(f), b = classify_flow_result(w);
	if (classify_flow_verdict(f) != classify_flow_verdict(w) || a.risks != b.risks ||
	    a.master != b.master || a.app != b.app || classify_flow_packets(f) != classify_flow_packets(w) ||
	    strcmp(name, classify_flow_protocol(w)) != 0)
		__builtin_trap(); /* waiting for the client changed what nDPI made of the flow */
	classify_flow_free(f);
	classify_flow_free(w);
	return 0;
}
