/*
 * fuzz_classify.c: libFuzzer harness for the nDPI adapter (sensor/app/classify.h).
 *
 * Input: one flow as a run of packets, each a direction byte (even: from the
 * client), a 16-bit big-endian length and that many bytes from the IP header
 * on (cut short at the end of the input). Each packet is copied into a buffer
 * of exactly its length, so a read past it is ASan's to see, then handed to
 * classify_packet(); the verdict, protocol and risks are read back at the end.
 * One classifier serves every run (nDPI takes ~17 ms to build one).
 *
 * tests/fuzz/seed_classify.py writes seeds from the fixture captures.
 */
#include "sensor/app/classify.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static volatile size_t fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct classifier *c;
	if (!c && !(c = classifier_new()))
		return 0;
	struct classify_flow *f = classify_flow_new(c);
	if (!f)
		return 0;
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
	const char *risks[CLASSIFY_MAX_RISKS];
	size_t nr = classify_flow_risks(f, risks, CLASSIFY_MAX_RISKS);
	for (size_t i = 0; i < nr; i++)
		fuzz_sink += strlen(risks[i]);
	fuzz_sink += strlen(classify_flow_protocol(f)) + (size_t)classify_flow_verdict(f);
	classify_flow_free(f);
	return 0;
}
