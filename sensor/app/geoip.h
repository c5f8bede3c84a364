/*
 * geoip.h: country, city, location and autonomous system of an IP address, from
 * MaxMind DB files (GeoLite2, or any database in that format). The only user of
 * libmaxminddb.
 *
 * Two databases, each optional: location_db (GeoLite2-City or -Country, or a flat
 * one such as ip-location-db's) and asn_db (GeoLite2-ASN). Each field is read at
 * a record path: map keys joined by dots, a number indexing an array
 * ("subdivisions.0.names.en"); NULL or "" takes the GeoLite2 default below.
 *
 * A database that is missing or not a MaxMind DB is not fatal: the object works
 * with whatever opened, and geoip_db_status() says what went wrong. The files are
 * mmap'd: replace them by rename (as geoipupdate does), never rewrite in place.
 * geoip_check_reload() opens a replaced file and swaps it in only if it opened,
 * so lookups never go without a database. Not thread-safe: one thread does all.
 */
#ifndef TLSOBS_GEOIP_H
#define TLSOBS_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/packet_decode.h"

#define GEOIP_ISO_CAP 8       /* "DE" */
#define GEOIP_NAME_CAP 128    /* country and city names, cut at a UTF-8 character boundary */
#define GEOIP_PATH_CAP 128    /* a record path, with its dots */
#define GEOIP_PATH_SEGMENTS 8 /* keys in a record path */
#define GEOIP_PROBLEM_CAP 512

/* Borrowed by geoip_open() only; NULL or "" everywhere means the default. */
struct geoip_settings {
	const char *location_db, *asn_db;  /* file paths; NULL or "": not used */
	const char *country_iso_code_path; /* "country.iso_code" (a string) */
	const char *country_name_path;     /* "country.names.en" */
	const char *city_name_path;        /* "city.names.en" */
	const char *latitude_path;         /* "location.latitude" (double, float or integer) */
	const char *longitude_path;        /* "location.longitude" */
	const char *as_number_path;        /* "autonomous_system_number" (unsigned, < 2^32) */
	const char *as_organization_path;  /* "autonomous_system_organization" */
};

/* Every string empty and every has_ false when the database does not say. */
struct geoip_result {
	bool found; /* some database holds the address */
	char country_iso_code[GEOIP_ISO_CAP];
	char country_name[GEOIP_NAME_CAP];
	char city_name[GEOIP_NAME_CAP];
	bool has_location; /* both present, and within +-90 / +-180 */
	double latitude, longitude;
	bool has_as;
	uint32_t as_number;
	char as_organization[GEOIP_NAME_CAP];
};

enum geoip_db { GEOIP_DB_LOCATION, GEOIP_DB_ASN, GEOIP_DB_COUNT };
const char *geoip_db_str(enum geoip_db d); /* "location_db", "asn_db" */

struct geoip_db_status {
	bool configured, loaded;
	char type[64];        /* the file's database_type, e.g. "GeoLite2-City"; "" when not loaded */
	uint64_t build_epoch; /* when the loaded file was built, seconds since the epoch */
	char problem[GEOIP_PROBLEM_CAP]; /* why it did not open or reload, naming the file; "" when none */
};

struct geoip_stats {
	uint64_t lookups;         /* geoip_lookup() calls with some database loaded */
	uint64_t found;           /* of which some database held the address */
	uint64_t reloads;         /* replaced files swapped in */
	uint64_t reload_failures; /* replaced files that did not open (the old one stays) */
	uint64_t lookup_errors;   /* corrupt data, or a path naming a value of the wrong type */
};

struct geoip;

/*
 * Checks the settings and opens the databases. NULL with the reason in err only
 * for a configuration error (an invalid record path, a file path of 4096 bytes or
 * more) or no memory; a database that does not open is reported by
 * geoip_db_status() instead. s NULL: nothing configured.
 */
struct geoip *geoip_open(const struct geoip_settings *s, char *err, size_t errlen);
void geoip_free(struct geoip *g); /* NULL is a no-op */
void geoip_db_status(const struct geoip *g, enum geoip_db d, struct geoip_db_status *out);
void geoip_get_stats(const struct geoip *g, struct geoip_stats *out);

/* Fills *out (cleared first) and returns out->found. g NULL: not found. */
bool geoip_lookup(struct geoip *g, const struct ip_addr *a, struct geoip_result *out);

/*
 * For the sensor's tick: stat()s each configured file and, when its inode, size or
 * mtime changed (or it appeared), opens it and swaps it in. The number of databases
 * swapped in, or -1 when a changed file did not open: the reason in err (and in
 * geoip_db_status), the old database still answers, and that file is not tried
 * again until it changes again. g NULL: 0.
 */
int geoip_check_reload(struct geoip *g, char *err, size_t errlen);

#endif
