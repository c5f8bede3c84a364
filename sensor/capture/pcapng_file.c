/*
 * pcapng_file.c: reads a pcapng file block by block into parsers/pcapng.c.
 *
 * Each block: its first 12 bytes give its length (pcapng_block_length), the
 * rest is read into the buffer, then the whole block is decoded. The buffer
 * grows to the largest block seen, capped by PCAPNG_MAX_BLOCK (checked before
 * growing). A file that ends inside a block is cut, like libpcap's "truncated
 * dump file".
 */
#include "sensor/capture/pcapng_file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pcapng_file {
	FILE *fp;
	char *path;
	struct pcapng_reader reader;
	uint8_t *block;
	size_t cap;
	uint64_t offset; /* of the block being read, for messages */
};

struct pcapng_file *pcapng_file_open(const char *path, char *err, size_t errlen)
{
	struct pcapng_file *f = calloc(1, sizeof *f);
	if (!f || !(f->path = strdup(path))) {
		free(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	f->fp = fopen(path, "rb");
	if (!f->fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		pcapng_file_close(f);
		return NULL;
	}
	pcapng_reader_init(&f->reader);
	return f;
}

/* Reads the block starting at the file position into f->block. 1, 0 at a clean end, -1. */
static int read_block(struct pcapng_file *f, uint32_t *len, char *err, size_t errlen)
{
	uint8_t hdr[12];
	size_t got = fread(hdr, 1, sizeof hdr, f->fp);
	if (got == 0 && feof(f->fp))
		return 0;
	if (got < sizeof hdr) {
		snprintf(err, errlen, "%s: truncated pcapng block at offset %llu", f->path,
		         (unsigned long long)f->offset);
		return -1;
	}
	enum pcapng_result res = pcapng_block_length(&f->reader, hdr, len);
	if (res != PCAPNG_OK) {
		snprintf(err, errlen, "%s: pcapng block at offset %llu: %s", f->path,
		         (unsigned long long)f->offset, pcapng_result_str(res));
		return -1;
	}
	if (*len > f->cap) {
		uint8_t *grown = realloc(f->block, *len);
		if (!grown) {
			snprintf(err, errlen, "%s: out of memory", f->path);
			return -1;
		}
		f->block = grown;
		f->cap = *len;
	}
	memcpy(f->block, hdr, sizeof hdr);
	if (fread(f->block + sizeof hdr, 1, *len - sizeof hdr, f->fp) != *len - sizeof hdr) {
		snprintf(err, errlen, "%s: truncated pcapng block at offset %llu", f->path,
		         (unsigned long long)f->offset);
		return -1;
	}
	f->offset += *len;
	return 1;
}

int pcapng_file_next(struct pcapng_file *f, struct pcapng_packet *out, char *err, size_t errlen)
{
	for (;;) {
		uint32_t len;
		int rc = read_block(f, &len, err, errlen);
		if (rc <= 0)
			return rc;
		enum pcapng_result res = pcapng_block(&f->reader, f->block, len, out);
		if (res == PCAPNG_PACKET)
			return 1;
		if (res != PCAPNG_OK) {
			snprintf(err, errlen, "%s: pcapng block at offset %llu: %s", f->path,
			         (unsigned long long)(f->offset - len), pcapng_result_str(res));
			return -1;
		}
	}
}

const struct pcapng_interface *pcapng_file_interface(const struct pcapng_file *f, unsigned index)
{
	return index < f->reader.ninterfaces ? &f->reader.interfaces[index] : NULL;
}

void pcapng_file_close(struct pcapng_file *f)
{
	if (!f)
		return;
	if (f->fp)
		fclose(f->fp);
	free(f->block);
	free(f->path);
	free(f);
}

bool pcapng_file_has_several_interfaces(const char *path, uint64_t *first_ts_us,
                                        char first_name[PCAPNG_NAME_MAX])
{
	char err[256];
	*first_ts_us = UINT64_MAX;
	first_name[0] = '\0';
	struct pcapng_file *f = pcapng_file_open(path, err, sizeof err);
	if (!f)
		return false;
	struct pcapng_packet p;
	int rc = pcapng_file_next(f, &p, err, sizeof err);
	bool several = f->reader.ninterfaces > 1;
	if (rc == 1)
		*first_ts_us = p.ts_us;
	if (f->reader.ninterfaces > 0)
		memcpy(first_name, f->reader.interfaces[0].name, PCAPNG_NAME_MAX);
	pcapng_file_close(f);
	return several;
}
