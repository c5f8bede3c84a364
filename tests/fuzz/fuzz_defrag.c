/*
 * fuzz_defrag.c: libFuzzer harness for IP fragment reassembly (sensor/flow/defrag.h)
 * and for packet_decode's fragment facts and packet_decode_ip().
 *
 * Input: records of [1 byte: seconds of packet time to advance (low 6 bits)]
 * [2 bytes big-endian: length][that many bytes: a bare IP packet]. Each packet
 * is copied into a buffer of exactly its length (so ASan sees a read past it),
 * decoded as raw IP; a fragment's slices must lie inside the packet, it goes
 * to a small defrag (64 KiB memcap, 4 s timeout, 16 fragments a datagram),
 * and a finished datagram is decoded again with packet_decode_ip(). The
 * memcap must hold after every record.
 *
 * tests/fuzz/seed_defrag.py writes the seeds in this format.
 */
#include "parsers/packet_decode.h"
#include "sensor/flow/defrag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { FUZZ_LINKTYPE_RAW = 101 };

static volatile uint32_t fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const uint8_t *slice, size_t len, const uint8_t *buf, size_t buf_len)
{
	return len == 0 ||
	       (slice >= buf && (size_t)(slice - buf) <= buf_len && len <= buf_len - (size_t)(slice - buf));
}

static void check_fragment(const struct decoded_packet *p, const uint8_t *packet, size_t len)
{
	const struct ip_fragment *f = &p->frag;
	if (!inside(f->hdr, f->hdr_len, packet, len) || !inside(f->data, f->data_len, packet, len) ||
	    f->data_len > f->data_wire_len || (f->hdr_len && f->next_header_at >= f->hdr_len))
		abort();
}

static void use_datagram(const struct defrag_datagram *dg)
{
	struct decoded_packet whole = dg->link;
	if (dg->len > 65535 + 40 || (dg->family != 4 && dg->family != 6))
		abort();
	uint32_t sum = 0;
	for (uint32_t i = 0; i < dg->len; i++)
		sum += dg->bytes[i];
	if (packet_decode_ip(dg->family, dg->bytes, dg->len, NULL, &whole) == DECODE_OK)
		for (uint32_t i = 0; i < whole.payload_len; i++)
			sum += whole.payload[i];
	fuzz_sink = sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct defrag_settings settings = {64u << 10, 4000000u, 16};
	struct defrag *d = defrag_new(&settings);
	if (!d)
		return 0;
	uint64_t now = 1000000000u;
	size_t at = 0;
	while (size - at >= 3) {
		now += (uint64_t)(data[at] & 0x3f) * 1000000u;
		size_t len = (size_t)data[at + 1] << 8 | data[at + 2];
		at += 3;
		if (len > size - at)
			len = size - at;
		uint8_t *packet = malloc(len ? len : 1);
		if (!packet)
			break;
		memcpy(packet, data + at, len);
		at += len;
		struct decoded_packet p;
		enum decode_result r = packet_decode(FUZZ_LINKTYPE_RAW, packet, (uint32_t)len, NULL, &p);
		if (r == DECODE_IPV4_FRAGMENT || r == DECODE_IPV6_FRAGMENT) {
			check_fragment(&p, packet, len);
			struct defrag_datagram dg;
			if (defrag_add(d, &p, (uint32_t)len, now, &dg) == DEFRAG_COMPLETE)
				use_datagram(&dg);
		}
		free(packet);
		const struct defrag_stats *st = defrag_stats(d);
		if (st->memory_used > settings.memcap || st->memory_peak > settings.memcap)
			abort();
	}
	defrag_free(d);
	return 0;
}
