#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>

const char *test_source_path(const char *relative)
{
	static char path[4096];
	const char *top = getenv("TLSOBS_SOURCE_DIR");
	snprintf(path, sizeof path, "%s/%s", top ? top : ".", relative);
	return path;
}

uint8_t *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0) {
		fclose(f);
		return NULL;
	}
	long size = ftell(f);
	rewind(f);
	uint8_t *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
	if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*len = (size_t)size;
	return buf;
}

uint64_t test_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}
