/*
 * fuzz_geoip.c: libFuzzer harness for the MaxMind DB adapter (sensor/app/geoip.h).
 *
 * A database file is outside input (downloaded, replaced by geoipupdate): the
 * input is written to a file that is opened as both geoip.location_db and
 * geoip.asn_db, then a few IPv4 and IPv6 addresses (those the test databases
 * hold, and others) are looked up and every field read. libmaxminddb checks the
 * metadata and the search tree on open; what its lookups trust is what this
 * harness exercises, with the adapter's own bounded copies.
 *
 * Seeds: tests/support/make_test_mmdb.pl's databases.
 */
#include "sensor/app/geoip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile size_t fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz_geoip.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	FILE *f = fdopen(fd, "wb");
	if (!f) {
		close(fd);
		unlink(path);
		return 0;
	}
	fwrite(data, 1, size, f);
	fclose(f);
	struct geoip_settings s = {.location_db = path, .asn_db = path};
	char err[256];
	struct geoip *g = geoip_open(&s, err, sizeof err);
	static const struct ip_addr probes[] = {
	    {.family = 4, .bytes = {192, 0, 2, 1}},
	    {.family = 4, .bytes = {198, 51, 100, 25}},
	    {.family = 4, .bytes = {203, 0, 113, 10}},
	    {.family = 4, .bytes = {10, 0, 0, 1}},
	    {.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01}},
	    {.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
	};
	for (size_t i = 0; g && i < sizeof probes / sizeof probes[0]; i++) {
		struct geoip_result r;
		if (geoip_lookup(g, &probes[i], &r))
			fuzz_sink += strlen(r.country_iso_code) + strlen(r.country_name) +
			             strlen(r.city_name) + strlen(r.as_organization) + r.as_number +
			             (size_t)r.has_location;
	}
	geoip_free(g);
	unlink(path);
	return 0;
}
