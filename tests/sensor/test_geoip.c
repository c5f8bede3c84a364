/*
 * test_geoip.c: the MaxMind DB adapter (sensor/app/geoip.h) on small databases that
 * tests/support/make_test_mmdb.pl writes into a fresh temporary directory (its
 * header lists what each holds): the GeoLite2 and flat ip-location-db layouts
 * over IPv4 and IPv6, fields a database lacks, missing, corrupt and damaged
 * files, record-path checks, and files replaced under a running reader.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/app/geoip.h"
#include "test_support.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_geoip.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(geoip, .init = make_dir, .fini = remove_dir);

/* dir/name, in one of a few rotating static buffers so several may be live at once. */
static const char *in_dir(const char *name)
{
	static char bufs[4][256];
	static int next;
	char *b = bufs[next++ % 4];
	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

/* Runs the generator into dir/sub ("" for dir itself); skips the test without its Perl module. */
static void write_dbs(const char *sub, int generation)
{
	if (system("perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null") != 0)
		cr_skip_test("needs Perl's MaxMind::DB::Writer::Tree (Debian: libmaxmind-db-writer-perl)");
	const char *out = sub[0] ? in_dir(sub) : dir;
	mkdir(out, 0700);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "perl '%s' --generation %d '%s'",
	         test_source_path("tests/support/make_test_mmdb.pl"), generation, out);
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static struct ip_addr ip(const char *text)
{
	struct ip_addr a = {0};
	if (strchr(text, ':')) {
		a.family = 6;
		cr_assert_eq(inet_pton(AF_INET6, text, a.bytes), 1, "%s", text);
	} else {
		a.family = 4;
		cr_assert_eq(inet_pton(AF_INET, text, a.bytes), 1, "%s", text);
	}
	return a;
}

static struct geoip *open_ok(const struct geoip_settings *s)
{
	char err[256] = "";
	struct geoip *g = geoip_open(s, err, sizeof(err));
	cr_assert_not_null(g, "open failed: %s", err);
	return g;
}

static struct geoip *open_geolite2(void)
{
	struct geoip_settings s = {.location_db = in_dir("city.mmdb"), .asn_db = in_dir("asn.mmdb")};
	return open_ok(&s);
}

static struct geoip_result lookup(struct geoip *g, const char *addr)
{
	struct geoip_result r;
	struct ip_addr a = ip(addr);
	bool found = geoip_lookup(g, &a, &r);
	cr_assert_eq(found, r.found);
	return r;
}

static struct geoip_stats stats(const struct geoip *g)
{
	struct geoip_stats st;
	geoip_get_stats(g, &st);
	return st;
}

static void expect_nothing(const struct geoip_result *r)
{
	cr_expect_not(r->found);
	cr_expect_str_empty(r->country_iso_code);
	cr_expect_str_empty(r->country_name);
	cr_expect_str_empty(r->city_name);
	cr_expect_not(r->has_location);
	cr_expect_not(r->has_as);
	cr_expect_str_empty(r->as_organization);
}

static void expect_berlin(const struct geoip_result *r)
{
	cr_expect(r->found);
	cr_expect_str_eq(r->country_iso_code, "DE");
	cr_expect_str_eq(r->country_name, "Germany");
	cr_expect_str_eq(r->city_name, "Berlin");
	cr_expect(r->has_location);
	cr_expect_float_eq(r->latitude, 52.52, 1e-9);
	cr_expect_float_eq(r->longitude, 13.405, 1e-9);
	cr_expect(r->has_as);
	cr_expect_eq(r->as_number, 64496);
	cr_expect_str_eq(r->as_organization, "Example Berlin Networks GmbH");
}

static void expect_paris(const struct geoip_result *r)
{
	cr_expect(r->found);
	cr_expect_str_eq(r->country_iso_code, "FR");
	cr_expect_str_eq(r->country_name, "France");
	cr_expect_str_eq(r->city_name, "Paris");
	cr_expect_float_eq(r->latitude, 48.8566, 1e-9);
	cr_expect_eq(r->as_number, 64511);
	cr_expect_str_eq(r->as_organization, "Example Paris SAS");
}

/* ---- GeoLite2 layout ---- */

Test(geoip, geolite2_layout_ipv4_lookup_gives_country_city_location_and_as)
{
	write_dbs("", 1);
	struct geoip *g = open_geolite2();
	struct geoip_result r = lookup(g, "192.0.2.77");
	expect_berlin(&r);
	struct geoip_stats st = stats(g);
	cr_expect_eq(st.lookups, 1);
	cr_expect_eq(st.found, 1);
	cr_expect_eq(st.lookup_errors, 0);
	geoip_free(g);
}

Test(geoip, geolite2_layout_ipv6_lookup_gives_country_city_location_and_as)
{
	write_dbs("", 1);
	struct geoip *g = open_geolite2();
	struct geoip_result r = lookup(g, "2001:db8:1:2::99");
	expect_berlin(&r);

	r = lookup(g, "2001:db8:2::1");
	cr_expect_str_eq(r.country_iso_code, "CH");
	cr_expect_str_eq(r.country_name, "Switzerland");
	cr_expect_str_eq(r.city_name, "Z\xc3\xbcrich");
	cr_expect_float_eq(r.latitude, 47.3769, 1e-9);
	cr_expect_float_eq(r.longitude, 8.5417, 1e-9);
	cr_expect(r.has_as);
	cr_expect_eq(r.as_number, 4200000000u, "a 32-bit AS number survives whole");
	cr_expect_str_eq(r.as_organization, "Large ASN Example");
	cr_expect_eq(stats(g).lookup_errors, 0);
	geoip_free(g);
}

Test(geoip, an_ipv4_mapped_ipv6_address_is_looked_up_as_ipv4)
{
	write_dbs("", 1);
	struct geoip_settings s = {.location_db = in_dir("city.mmdb"), .asn_db = in_dir("asn-v4.mmdb")};
	struct geoip *g = open_ok(&s);
	struct geoip_result r = lookup(g, "::ffff:192.0.2.1");
	expect_berlin(&r);
	geoip_free(g);
}

Test(geoip, an_address_in_no_database_is_not_found)
{
	write_dbs("", 1);
	struct geoip *g = open_geolite2();
	struct geoip_result r = lookup(g, "10.1.2.3");
	expect_nothing(&r);
	r = lookup(g, "2001:db8:ffff::1");
	expect_nothing(&r);
	struct geoip_stats st = stats(g);
	cr_expect_eq(st.lookups, 2);
	cr_expect_eq(st.found, 0);
	cr_expect_eq(st.lookup_errors, 0);
	geoip_free(g);
}

Test(geoip, an_ipv6_address_in_an_ipv4_only_database_is_not_found_and_is_no_error)
{
	write_dbs("", 1);
	struct geoip_settings s = {.asn_db = in_dir("asn-v4.mmdb")};
	struct geoip *g = open_ok(&s);
	struct geoip_result r = lookup(g, "2001:db8:1::1");
	expect_nothing(&r);
	r = lookup(g, "198.51.100.9");
	cr_expect(r.has_as);
	cr_expect_eq(r.as_number, 64500);
	cr_expect_str_eq(r.as_organization, "Z\xc3\xbcrich Example AG");
	cr_expect_str_empty(r.country_iso_code, "no location database, no country");
	cr_expect_eq(stats(g).lookup_errors, 0);
	geoip_free(g);
}

Test(geoip, a_record_with_only_a_country_leaves_city_location_and_as_empty)
{
	write_dbs("", 1);
	struct geoip *g = open_geolite2();
	struct geoip_result r = lookup(g, "203.0.113.5");
	cr_expect(r.found);
	cr_expect_str_eq(r.country_iso_code, "JP");
	cr_expect_str_eq(r.country_name, "Japan");
	cr_expect_str_empty(r.city_name);
	cr_expect_not(r.has_location);
	cr_expect_not(r.has_as);
	cr_expect_str_empty(r.as_organization);
	cr_expect_eq(stats(g).lookup_errors, 0, "an absent field is no error");
	geoip_free(g);
}

Test(geoip, a_country_database_leaves_city_and_location_empty)
{
	write_dbs("", 1);
	struct geoip_settings s = {.location_db = in_dir("country.mmdb")};
	struct geoip *g = open_ok(&s);
	struct geoip_result r = lookup(g, "2001:db8:1::1");
	cr_expect(r.found);
	cr_expect_str_eq(r.country_iso_code, "DE");
	cr_expect_str_eq(r.country_name, "Germany");
	cr_expect_str_empty(r.city_name);
	cr_expect_not(r.has_location);
	cr_expect_not(r.has_as);
	cr_expect_eq(stats(g).lookup_errors, 0);
	geoip_free(g);
}

Test(geoip, db_status_gives_the_database_type_and_build_time)
{
	write_dbs("", 1);
	struct geoip *g = open_geolite2();
	struct geoip_db_status st;
	geoip_db_status(g, GEOIP_DB_LOCATION, &st);
	cr_expect(st.configured);
	cr_expect(st.loaded);
	cr_expect_str_eq(st.type, "GeoLite2-City");
	cr_expect_gt(st.build_epoch, 1500000000u);
	cr_expect_str_empty(st.problem);
	geoip_db_status(g, GEOIP_DB_ASN, &st);
	cr_expect_str_eq(st.type, "GeoLite2-ASN");
	cr_expect_str_eq(geoip_db_str(GEOIP_DB_LOCATION), "location_db");
	cr_expect_str_eq(geoip_db_str(GEOIP_DB_ASN), "asn_db");
	geoip_free(g);
}

/* ---- configured record paths ---- */

Test(geoip, the_flat_ip_location_db_layout_works_with_configured_paths)
{
	write_dbs("", 1);
	struct geoip_settings s = {
	    .location_db = in_dir("flat.mmdb"),
	    .country_iso_code_path = "country_code",
	    .country_name_path = "country_name", /* not in this layout: stays empty */
	    .city_name_path = "city",
	    .latitude_path = "latitude",
	    .longitude_path = "longitude",
	};
	struct geoip *g = open_ok(&s);
	struct geoip_result r = lookup(g, "192.0.2.1");
	cr_expect(r.found);
	cr_expect_str_eq(r.country_iso_code, "DE");
	cr_expect_str_empty(r.country_name);
	cr_expect_str_eq(r.city_name, "Berlin");
	cr_expect(r.has_location);
	cr_expect_float_eq(r.latitude, 52.52, 1e-4, "stored as a float");
	cr_expect_float_eq(r.longitude, 13.405, 1e-4);

	r = lookup(g, "2001:db8:2::5");
	cr_expect_str_eq(r.country_iso_code, "CH");
	cr_expect_str_eq(r.city_name, "Z\xc3\xbcrich");
	cr_expect_eq(stats(g).lookup_errors, 0);
	geoip_free(g);
}

Test(geoip, the_flat_layout_read_with_geolite2_paths_finds_the_record_but_no_field)
{
	write_dbs("", 1);
	struct geoip_settings s = {.location_db = in_dir("flat.mmdb")};
	struct geoip *g = open_ok(&s);
	struct geoip_result r = lookup(g, "192.0.2.1");
	cr_expect(r.found);
	cr_expect_str_empty(r.country_iso_code);
	cr_expect_str_empty(r.city_name);
	cr_expect_not(r.has_location);
	geoip_free(g);
}

Test(geoip, an_array_index_in_a_record_path_reads_that_element)
{
	write_dbs("", 1);
	struct geoip_settings s = {.location_db = in_dir("city.mmdb"),
	                           .city_name_path = "subdivisions.0.names.en",
	                           .country_name_path = "subdivisions.1.names.en"};
	struct geoip *g = open_ok(&s);
	struct geoip_result r = lookup(g, "198.51.100.1");
	cr_expect_str_eq(r.city_name, "Zurich");
	cr_expect_str_empty(r.country_name, "an index past the end is an absent field");
	cr_expect_eq(stats(g).lookup_errors, 0);
	geoip_free(g);
}

Test(geoip, a_record_path_naming_a_map_leaves_the_field_empty_and_counts_an_error)
{
	write_dbs("", 1);
	struct geoip_settings s = {.location_db = in_dir("city.mmdb"), .country_iso_code_path = "country"};
	struct geoip *g = open_ok(&s);
	struct geoip_result r = lookup(g, "192.0.2.1");
	cr_expect(r.found);
	cr_expect_str_empty(r.country_iso_code);
	cr_expect_str_eq(r.city_name, "Berlin", "the other fields are still read");
	cr_expect_eq(stats(g).lookup_errors, 1);
	geoip_free(g);
}

static void expect_rejected(const char *path, const char *reason)
{
	struct geoip_settings s = {.city_name_path = path};
	char err[256] = "";
	struct geoip *g = geoip_open(&s, err, sizeof(err));
	cr_expect_null(g, "\"%s\" was accepted", path);
	geoip_free(g);
	cr_expect(strstr(err, "geoip.paths.city_name") != NULL, "no setting named in: %s", err);
	cr_expect(strstr(err, reason) != NULL, "\"%s\" not in: %s", reason, err);
}

Test(geoip, an_invalid_record_path_is_rejected_with_a_clear_message)
{
	expect_rejected("city..names", "empty key");
	expect_rejected(".city", "empty key");
	expect_rejected("city.", "empty key");
	expect_rejected("a.b.c.d.e.f.g.h.i", "more than 8 keys");
	expect_rejected("city names", "space");
	expect_rejected("city.names.en\t", "control character");
	char long_path[200];
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	expect_rejected(long_path, "longer than 127");

	struct geoip_settings ok = {.city_name_path = "a.b.c.d.e.f.g.h"};
	struct geoip *g = open_ok(&ok);
	geoip_free(g);
}

/* ---- strings ---- */

Test(geoip, an_over_long_name_is_cut_at_a_character_boundary)
{
	write_dbs("", 1);
	struct geoip *g = open_geolite2();
	struct geoip_result r = lookup(g, "198.18.3.4");
	cr_expect(r.found);
	size_t len = strlen(r.city_name);
	/* 100 two-byte characters in, room for 127 bytes: 63 whole characters. */
	cr_expect_eq(len, 126);
	for (size_t i = 0; i + 1 < len; i += 2)
		cr_expect(r.city_name[i] == '\xc3' && r.city_name[i + 1] == '\x84', "byte %zu", i);
	cr_expect_str_empty(r.country_iso_code);
	geoip_free(g);
}

/* ---- missing, corrupt and damaged files ---- */

Test(geoip, a_missing_database_gives_a_warning_and_lookups_find_nothing)
{
	struct geoip_settings s = {.location_db = in_dir("nope/city.mmdb"), .asn_db = in_dir("asn.mmdb")};
	struct geoip *g = open_ok(&s);
	for (int i = 0; i < GEOIP_DB_COUNT; i++) {
		struct geoip_db_status st;
		geoip_db_status(g, (enum geoip_db)i, &st);
		cr_expect(st.configured);
		cr_expect_not(st.loaded);
		cr_expect(strstr(st.problem, geoip_db_str((enum geoip_db)i)) != NULL, "%s", st.problem);
		cr_expect(strstr(st.problem, dir) != NULL, "the file is named: %s", st.problem);
		cr_expect(strstr(st.problem, "No such file or directory") != NULL, "%s", st.problem);
	}
	struct geoip_result r = lookup(g, "192.0.2.1");
	expect_nothing(&r);
	cr_expect_eq(stats(g).lookups, 0, "nothing loaded, nothing looked up");
	geoip_free(g);
}

Test(geoip, a_corrupt_database_gives_a_warning_and_the_other_one_still_answers)
{
	write_dbs("", 1);
	static const char garbage[] = "this is not a MaxMind DB file, just some text\n";
	write_file(in_dir("city.mmdb"), garbage, sizeof(garbage) - 1);
	write_file(in_dir("empty.mmdb"), "", 0);
	struct geoip_settings s = {.location_db = in_dir("city.mmdb"), .asn_db = in_dir("asn.mmdb")};
	struct geoip *g = open_ok(&s);
	struct geoip_db_status st;
	geoip_db_status(g, GEOIP_DB_LOCATION, &st);
	cr_expect_not(st.loaded);
	cr_expect(strstr(st.problem, "geoip.location_db") != NULL, "%s", st.problem);
	cr_expect(strstr(st.problem, "city.mmdb") != NULL, "%s", st.problem);
	geoip_db_status(g, GEOIP_DB_ASN, &st);
	cr_expect(st.loaded);
	cr_expect_str_empty(st.problem);

	struct geoip_result r = lookup(g, "192.0.2.1");
	cr_expect(r.found);
	cr_expect_str_empty(r.country_iso_code);
	cr_expect_eq(r.as_number, 64496);
	geoip_free(g);

	s = (struct geoip_settings){.location_db = in_dir("empty.mmdb")};
	g = open_ok(&s);
	geoip_db_status(g, GEOIP_DB_LOCATION, &st);
	cr_expect_not(st.loaded);
	cr_expect_str_not_empty(st.problem);
	geoip_free(g);
}

/* Damages the tree and data (not the metadata at the end, so the file still opens) and looks up around. */
Test(geoip, a_database_damaged_inside_never_crashes_a_lookup)
{
	write_dbs("", 1);
	size_t len = 0;
	uint8_t *orig = test_read_file(in_dir("city.mmdb"), &len);
	cr_assert_not_null(orig);
	static const char marker[] = "\xab\xcd\xefMaxMind.com";
	uint8_t *meta = memmem(orig, len, marker, sizeof(marker) - 1);
	cr_assert_not_null(meta);
	size_t body = (size_t)(meta - orig);
	static const char *const addrs[] = {"192.0.2.1",     "198.51.100.1",    "203.0.113.1",
	                                    "198.18.0.1",    "10.0.0.1",        "2001:db8:1::1",
	                                    "2001:db8:2::1", "::ffff:192.0.2.1"};
	uint64_t seed = 42;
	uint8_t *copy = malloc(len);
	cr_assert_not_null(copy);
	int opened = 0;
	for (int round = 0; round < 200; round++) {
		memcpy(copy, orig, len);
		for (int k = 0; k < 1 + round % 16; k++)
			copy[test_rand(&seed) % body] = (uint8_t)test_rand(&seed);
		write_file(in_dir("damaged.mmdb"), copy, len);
		struct geoip_settings s = {.location_db = in_dir("damaged.mmdb"),
		                           .city_name_path = "subdivisions.0.names.en"};
		struct geoip *g = open_ok(&s);
		struct geoip_db_status st;
		geoip_db_status(g, GEOIP_DB_LOCATION, &st);
		opened += st.loaded;
		for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
			struct geoip_result r = lookup(g, addrs[i]);
			cr_expect_lt(strlen(r.country_iso_code), sizeof(r.country_iso_code));
			cr_expect_lt(strlen(r.city_name), sizeof(r.city_name));
		}
		geoip_free(g);
	}
	cr_expect_gt(opened, 0, "some damaged files should still open, so lookups run on bad data");
	free(copy);
	free(orig);
}

/* ---- reloads ---- */

static void replace(const char *from_sub, const char *name)
{
	char from[256];
	snprintf(from, sizeof(from), "%s/%s/%s", dir, from_sub, name);
	cr_assert_eq(rename(from, in_dir(name)), 0, "rename %s", from);
}

Test(geoip, a_replaced_database_is_served_after_check_reload_and_not_before)
{
	write_dbs("", 1);
	struct geoip *g = open_geolite2();
	char err[GEOIP_PROBLEM_CAP * 2] = "x";
	cr_expect_eq(geoip_check_reload(g, err, sizeof(err)), 0, "nothing changed yet");
	cr_expect_str_empty(err);

	write_dbs("new", 2);
	replace("new", "city.mmdb");
	replace("new", "asn.mmdb");
	struct geoip_result r = lookup(g, "192.0.2.1");
	expect_berlin(&r); /* the old file stays mapped until the swap */

	cr_expect_eq(geoip_check_reload(g, err, sizeof(err)), 2, "%s", err);
	r = lookup(g, "192.0.2.1");
	expect_paris(&r);
	r = lookup(g, "2001:db8:1::1");
	expect_paris(&r);
	r = lookup(g, "198.51.100.1");
	cr_expect_str_eq(r.country_iso_code, "CH", "the rest is unchanged");
	cr_expect_eq(geoip_check_reload(g, err, sizeof(err)), 0, "a reload happens once");

	struct geoip_stats st = stats(g);
	cr_expect_eq(st.reloads, 2);
	cr_expect_eq(st.reload_failures, 0);
	geoip_free(g);
}

Test(geoip, a_replacement_that_does_not_open_keeps_the_old_database_and_is_reported_once)
{
	write_dbs("", 1);
	struct geoip *g = open_geolite2();
	static const char garbage[] = "half a download";
	write_file(in_dir("city.mmdb.tmp"), garbage, sizeof(garbage) - 1);
	cr_assert_eq(rename(in_dir("city.mmdb.tmp"), in_dir("city.mmdb")), 0);

	char err[GEOIP_PROBLEM_CAP * 2] = "";
	cr_expect_eq(geoip_check_reload(g, err, sizeof(err)), -1);
	cr_expect(strstr(err, "geoip.location_db") != NULL, "%s", err);
	cr_expect(strstr(err, "still using the file opened before") != NULL, "%s", err);
	struct geoip_db_status st;
	geoip_db_status(g, GEOIP_DB_LOCATION, &st);
	cr_expect(st.loaded);
	cr_expect_str_eq(st.problem, err);
	struct geoip_result r = lookup(g, "192.0.2.1");
	expect_berlin(&r);

	cr_expect_eq(geoip_check_reload(g, err, sizeof(err)), 0, "the same broken file is not tried again");
	cr_expect_eq(stats(g).reload_failures, 1);

	write_dbs("new", 2);
	replace("new", "city.mmdb");
	cr_expect_eq(geoip_check_reload(g, err, sizeof(err)), 1, "%s", err);
	geoip_db_status(g, GEOIP_DB_LOCATION, &st);
	cr_expect_str_empty(st.problem, "a good file clears the problem");
	r = lookup(g, "192.0.2.1");
	cr_expect_str_eq(r.country_iso_code, "FR");
	cr_expect_eq(r.as_number, 64496, "the ASN database was not replaced");
	geoip_free(g);
}

Test(geoip, a_database_missing_at_start_is_opened_when_it_appears)
{
	write_dbs("new", 1);
	struct geoip_settings s = {.location_db = in_dir("city.mmdb")};
	struct geoip *g = open_ok(&s);
	char err[GEOIP_PROBLEM_CAP] = "";
	cr_expect_eq(geoip_check_reload(g, err, sizeof(err)), 0, "still missing is no news: %s", err);
	struct geoip_result r = lookup(g, "192.0.2.1");
	cr_expect_not(r.found);

	replace("new", "city.mmdb");
	cr_expect_eq(geoip_check_reload(g, err, sizeof(err)), 1, "%s", err);
	r = lookup(g, "192.0.2.1");
	cr_expect_str_eq(r.city_name, "Berlin");
	geoip_free(g);
}

Test(geoip, a_deleted_database_keeps_serving_the_file_opened_before)
{
	write_dbs("", 1);
	struct geoip *g = open_geolite2();
	cr_assert_eq(unlink(in_dir("city.mmdb")), 0);
	char err[GEOIP_PROBLEM_CAP] = "";
	cr_expect_eq(geoip_check_reload(g, err, sizeof(err)), -1);
	cr_expect(strstr(err, "No such file or directory") != NULL, "%s", err);
	struct geoip_result r = lookup(g, "192.0.2.1");
	expect_berlin(&r);
	geoip_free(g);
}

/* ---- nothing configured ---- */

Test(geoip, with_nothing_configured_lookups_find_nothing_and_count_nothing)
{
	struct geoip_settings none = {.location_db = "", .asn_db = NULL};
	struct geoip *g = open_ok(&none);
	struct geoip_result r = lookup(g, "192.0.2.1");
	expect_nothing(&r);
	struct geoip_db_status st;
	geoip_db_status(g, GEOIP_DB_LOCATION, &st);
	cr_expect_not(st.configured);
	cr_expect_str_empty(st.problem);
	char err[64];
	cr_expect_eq(geoip_check_reload(g, err, sizeof(err)), 0);
	struct geoip_stats zero = {0}, got = stats(g);
	cr_expect_eq(memcmp(&got, &zero, sizeof(zero)), 0);
	geoip_free(g);

	g = open_ok(NULL);
	geoip_free(g);
}

Test(geoip, a_null_geoip_is_a_harmless_no_op)
{
	struct geoip_result r = lookup(NULL, "192.0.2.1");
	expect_nothing(&r);
	cr_expect_eq(geoip_check_reload(NULL, NULL, 0), 0);
	struct geoip_stats st = stats(NULL);
	cr_expect_eq(st.lookups, 0);
	geoip_free(NULL);
}

Test(geoip, an_address_of_no_known_family_is_not_found)
{
	write_dbs("", 1);
	struct geoip *g = open_geolite2();
	struct ip_addr a = ip("192.0.2.1");
	a.family = 0;
	struct geoip_result r;
	cr_expect_not(geoip_lookup(g, &a, &r));
	expect_nothing(&r);
	geoip_free(g);
}
