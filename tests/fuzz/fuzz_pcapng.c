/*
 * fuzz_pcapng.c: libFuzzer harness for the pcapng block decoder (parsers/pcapng.h).
 *
 * Input: a pcapng file. Blocks are taken as sensor/capture/pcapng_file.c takes them:
 * the first 12 bytes give the length, then the whole block, copied into a
 * buffer of exactly its size (ASan sees a read past it), is decoded. A packet
 * must lie inside its block and name a described interface; its bytes are
 * summed so the reads happen. Stops at the first error, as the file reader does.
 *
 * Seeds (tests/fuzz/corpus/pcapng/seed-*) are the first blocks of files written by
 * scripts/pcapng-interfaces.py from the fixtures (Ethernet, SLL and raw interfaces,
 * micro- and nanosecond resolutions) and of mergecap -I none output.
 */
#include "parsers/pcapng.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static volatile uint32_t fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcapng_reader *r = malloc(sizeof *r);
	if (!r)
		return 0;
	pcapng_reader_init(r);
	size_t at = 0;
	while (size - at >= 12) {
		uint32_t total;
		if (pcapng_block_length(r, data + at, &total) != PCAPNG_OK || total > size - at)
			break;
		uint8_t *block = malloc(total);
		if (!block)
			break;
		memcpy(block, data + at, total);
		at += total;
		struct pcapng_packet p;
		enum pcapng_result res = pcapng_block(r, block, total, &p);
		if (pcapng_result_str(res) == NULL)
			abort();
		if (res == PCAPNG_PACKET) {
			if (p.interface >= r->ninterfaces || p.data < block || p.caplen > total ||
			    (size_t)(p.data - block) > total - p.caplen || p.len < p.caplen)
				abort();
			uint32_t sum = (uint32_t)r->interfaces[p.interface].linktype;
			for (uint32_t i = 0; i < p.caplen; i++)
				sum += p.data[i];
			fuzz_sink = sum;
		}
		free(block);
		if (res != PCAPNG_OK && res != PCAPNG_PACKET)
			break;
	}
	free(r);
	return 0;
}
