/*
 * geoip.c: the libmaxminddb adapter behind geoip.h (the only file that includes maxminddb.h).
 *
 * Each database is an MMDB_s on the heap, so a reload is a pointer swap: the new
 * file is opened beside the old one and the old one is closed only once the new
 * one answers. A file is known by its device, inode, size and mtime, taken with
 * stat() before opening; a file that failed is tried again only when that changes,
 * so a broken download is reported once, not on every tick.
 *
 * Record paths are parsed once at open into NULL-terminated key arrays for
 * MMDB_aget_value(). Strings in a MaxMind DB are not NUL-terminated: every one is
 * copied by its data_size, stopped at an embedded NUL and cut at a character
 * boundary, so a cut name is still UTF-8.
 */
#include "sensor/app/geoip.h"

#include <errno.h>
#include <math.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

enum { FILE_PATH_CAP = 4096 };

enum field {
	F_COUNTRY_ISO,
	F_COUNTRY_NAME,
	F_CITY_NAME,
	F_LATITUDE,
	F_LONGITUDE,
	F_AS_NUMBER,
	F_AS_ORGANIZATION,
	F_COUNT
};

static const struct field_spec {
	const char *setting; /* as named in messages: geoip.<setting> */
	const char *default_path;
	enum geoip_db db;
} field_specs[F_COUNT] = {
    [F_COUNTRY_ISO] = {"paths.country_iso_code", "country.iso_code", GEOIP_DB_LOCATION},
    [F_COUNTRY_NAME] = {"paths.country_name", "country.names.en", GEOIP_DB_LOCATION},
    [F_CITY_NAME] = {"paths.city_name", "city.names.en", GEOIP_DB_LOCATION},
    [F_LATITUDE] = {"paths.latitude", "location.latitude", GEOIP_DB_LOCATION},
    [F_LONGITUDE] = {"paths.longitude", "location.longitude", GEOIP_DB_LOCATION},
    [F_AS_NUMBER] = {"paths.as_number", "autonomous_system_number", GEOIP_DB_ASN},
    [F_AS_ORGANIZATION] = {"paths.as_organization", "autonomous_system_organization", GEOIP_DB_ASN},
};

struct record_path {
	char buf[GEOIP_PATH_CAP];                  /* the path, dots turned into NULs */
	const char *keys[GEOIP_PATH_SEGMENTS + 1]; /* into buf, NULL-terminated */
};

/* What a path named when it was last stat()ed; exists false with the errno otherwise. */
struct file_id {
	bool exists;
	int error;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct db {
	char *path;        /* NULL: not configured */
	MMDB_s *mmdb;      /* NULL: not loaded */
	struct file_id id; /* of the file last tried, loaded or not */
	char problem[GEOIP_PROBLEM_CAP];
};

struct geoip {
	struct db dbs[GEOIP_DB_COUNT];
	struct record_path paths[F_COUNT];
	struct geoip_stats stats;
};

const char *geoip_db_str(enum geoip_db d)
{
	switch (d) {
	case GEOIP_DB_LOCATION:
		return "location_db";
	case GEOIP_DB_ASN:
		return "asn_db";
	case GEOIP_DB_COUNT:
		break;
	}
	return "unknown";
}

static void set_msg(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_msg(char *buf, size_t len, const char *fmt, ...)
{
	if (!buf || len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- settings ---- */

static const char *setting_path(const struct geoip_settings *s, enum field f)
{
	if (!s)
		return NULL;
	switch (f) {
	case F_COUNTRY_ISO:
		return s->country_iso_code_path;
	case F_COUNTRY_NAME:
		return s->country_name_path;
	case F_CITY_NAME:
		return s->city_name_path;
	case F_LATITUDE:
		return s->latitude_path;
	case F_LONGITUDE:
		return s->longitude_path;
	case F_AS_NUMBER:
		return s->as_number_path;
	case F_AS_ORGANIZATION:
		return s->as_organization_path;
	case F_COUNT:
		break;
	}
	return NULL;
}

/* Splits "a.b.c" into keys. 0, or -1 with a message naming the setting. */
static int record_path_parse(struct record_path *rp, const char *setting, const char *path, char *err,
                             size_t errlen)
{
	size_t len = strnlen(path, GEOIP_PATH_CAP);
	if (len == GEOIP_PATH_CAP) {
		set_msg(err, errlen, "geoip.%s: record path longer than %d characters", setting,
		        GEOIP_PATH_CAP - 1);
		return -1;
	}
	memcpy(rp->buf, path, len + 1);
	size_t n = 0;
	char *key = rp->buf;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)rp->buf[i];
		if (c != '.' && c != '\0') {
			/* A key with a space is nearly always a YAML slip, never a GeoLite2 key. */
			if (c <= ' ' || c == 0x7f) {
				set_msg(err, errlen,
				        "geoip.%s: record path \"%s\" has a space or control character",
				        setting, path);
				return -1;
			}
			continue;
		}
		if (&rp->buf[i] == key) {
			set_msg(
			    err, errlen,
			    "geoip.%s: record path \"%s\" has an empty key (keys are joined by single dots)",
			    setting, path);
			return -1;
		}
		if (n == GEOIP_PATH_SEGMENTS) {
			set_msg(err, errlen, "geoip.%s: record path \"%s\" has more than %d keys", setting,
			        path, GEOIP_PATH_SEGMENTS);
			return -1;
		}
		rp->keys[n++] = key;
		rp->buf[i] = '\0';
		key = &rp->buf[i + 1];
	}
	rp->keys[n] = NULL;
	return 0;
}

/* ---- files ---- */

static void file_id_get(const char *path, struct file_id *id)
{
	struct stat st;
	memset(id, 0, sizeof(*id));
	if (stat(path, &st) != 0) {
		id->error = errno;
		return;
	}
	id->exists = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
}

static bool file_id_same(const struct file_id *a, const struct file_id *b)
{
	if (a->exists != b->exists)
		return false;
	if (!a->exists)
		return a->error == b->error;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Opens d->path (already stat()ed into id). The database, or NULL with d->problem set. */
static MMDB_s *db_open_file(struct db *d, enum geoip_db which, const struct file_id *id)
{
	const char *name = geoip_db_str(which);
	if (!id->exists) {
		set_msg(d->problem, sizeof(d->problem), "geoip.%s %s: %s", name, d->path,
		        strerror(id->error));
		return NULL;
	}
	MMDB_s *m = calloc(1, sizeof(*m));
	if (!m) {
		set_msg(d->problem, sizeof(d->problem), "geoip.%s %s: out of memory", name, d->path);
		return NULL;
	}
	errno = 0;
	int rc = MMDB_open(d->path, MMDB_MODE_MMAP, m);
	if (rc == MMDB_SUCCESS)
		return m;
	int saved = errno;
	/* MMDB_open has released what it took; MMDB_close on m now would free twice. */
	free(m);
	if ((rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) && saved != 0)
		set_msg(d->problem, sizeof(d->problem), "geoip.%s %s: %s: %s", name, d->path,
		        MMDB_strerror(rc), strerror(saved));
	else
		set_msg(d->problem, sizeof(d->problem), "geoip.%s %s: not a usable MaxMind DB file: %s", name,
		        d->path, MMDB_strerror(rc));
	return NULL;
}

static void db_close(MMDB_s *m)
{
	if (!m)
		return;
	MMDB_close(m);
	free(m);
}

struct geoip *geoip_open(const struct geoip_settings *s, char *err, size_t errlen)
{
	struct geoip *g = calloc(1, sizeof(*g));
	if (!g) {
		set_msg(err, errlen, "geoip: out of memory");
		return NULL;
	}
	for (int f = 0; f < F_COUNT; f++) {
		const char *p = setting_path(s, (enum field)f);
		if (!p || !p[0])
			p = field_specs[f].default_path;
		if (record_path_parse(&g->paths[f], field_specs[f].setting, p, err, errlen) < 0)
			goto fail;
	}
	for (int i = 0; i < GEOIP_DB_COUNT; i++) {
		const char *path = !s ? NULL : i == GEOIP_DB_LOCATION ? s->location_db : s->asn_db;
		if (!path || !path[0])
			continue;
		if (strnlen(path, FILE_PATH_CAP) == FILE_PATH_CAP) {
			set_msg(err, errlen, "geoip.%s: file path longer than %d characters", geoip_db_str(i),
			        FILE_PATH_CAP - 1);
			goto fail;
		}
		struct db *d = &g->dbs[i];
		if (!(d->path = strdup(path))) {
			set_msg(err, errlen, "geoip: out of memory");
			goto fail;
		}
		file_id_get(d->path, &d->id);
		d->mmdb = db_open_file(d, (enum geoip_db)i, &d->id);
	}
	return g;
fail:
	geoip_free(g);
	return NULL;
}

void geoip_free(struct geoip *g)
{
	if (!g)
		return;
	for (int i = 0; i < GEOIP_DB_COUNT; i++) {
		db_close(g->dbs[i].mmdb);
		free(g->dbs[i].path);
	}
	free(g);
}

void geoip_db_status(const struct geoip *g, enum geoip_db which, struct geoip_db_status *out)
{
	memset(out, 0, sizeof(*out));
	if (!g || (unsigned)which >= GEOIP_DB_COUNT)
		return;
	const struct db *d = &g->dbs[which];
	out->configured = d->path != NULL;
	out->loaded = d->mmdb != NULL;
	if (d->mmdb) {
		const char *type = d->mmdb->metadata.database_type;
		snprintf(out->type, sizeof(out->type), "%s", type ? type : "");
		out->build_epoch = d->mmdb->metadata.build_epoch;
	}
	snprintf(out->problem, sizeof(out->problem), "%s", d->problem);
}

void geoip_get_stats(const struct geoip *g, struct geoip_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (g)
		*out = g->stats;
}

/* Appends "; msg" (or msg) to err, cut at its end. */
static void append_msg(char *err, size_t errlen, const char *msg)
{
	if (!err || errlen == 0)
		return;
	size_t used = strnlen(err, errlen);
	if (used + 1 >= errlen)
		return;
	snprintf(err + used, errlen - used, "%s%s", used ? "; " : "", msg);
}

int geoip_check_reload(struct geoip *g, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!g)
		return 0;
	int swapped = 0;
	bool failed = false;
	for (int i = 0; i < GEOIP_DB_COUNT; i++) {
		struct db *d = &g->dbs[i];
		if (!d->path)
			continue;
		struct file_id now;
		file_id_get(d->path, &now);
		if (file_id_same(&now, &d->id))
			continue;
		d->id = now;
		MMDB_s *m = db_open_file(d, (enum geoip_db)i, &now);
		if (!m) {
			g->stats.reload_failures++;
			failed = true;
			if (d->mmdb) {
				size_t used = strnlen(d->problem, sizeof(d->problem));
				snprintf(d->problem + used, sizeof(d->problem) - used,
				         " (still using the file opened before)");
			}
			append_msg(err, errlen, d->problem);
			continue;
		}
		db_close(d->mmdb);
		d->mmdb = m;
		d->problem[0] = '\0';
		g->stats.reloads++;
		swapped++;
	}
	return failed ? -1 : swapped;
}

/* ---- lookups ---- */

/* Copies a DB string: bounded by its size, stopped at a NUL, cut before a split character. */
static void copy_string(char *dst, size_t cap, const char *src, uint32_t size)
{
	size_t n = size;
	const char *nul = memchr(src, '\0', n);
	if (nul)
		n = (size_t)(nul - src);
	if (n >= cap) {
		n = cap - 1;
		/* src[n] is the first byte left out: if it continues a character, drop that character's start
		 * too. At most three steps back, so invalid input cannot eat the string. */
		for (int i = 0; i < 3 && n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80; i++)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The value at field f's path: true with *v filled, false when absent or broken (counted). */
static bool get_value(struct geoip *g, MMDB_entry_s *entry, enum field f, MMDB_entry_data_s *v)
{
	int rc = MMDB_aget_value(entry, v, g->paths[f].keys);
	/* Not in this record: a missing key, an array index past the end, or a key under a scalar. */
	if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
		return false;
	if (rc != MMDB_SUCCESS) {
		g->stats.lookup_errors++;
		return false;
	}
	return v->has_data;
}

static void get_string(struct geoip *g, MMDB_entry_s *entry, enum field f, char *dst, size_t cap)
{
	MMDB_entry_data_s v;
	if (!get_value(g, entry, f, &v))
		return;
	if (v.type != MMDB_DATA_TYPE_UTF8_STRING) {
		g->stats.lookup_errors++;
		return;
	}
	copy_string(dst, cap, v.utf8_string, v.data_size);
}

static bool get_double(struct geoip *g, MMDB_entry_s *entry, enum field f, double *out)
{
	MMDB_entry_data_s v;
	if (!get_value(g, entry, f, &v))
		return false;
	switch (v.type) {
	case MMDB_DATA_TYPE_DOUBLE:
		*out = v.double_value;
		return true;
	case MMDB_DATA_TYPE_FLOAT:
		*out = v.float_value;
		return true;
	case MMDB_DATA_TYPE_UINT16:
		*out = v.uint16;
		return true;
	case MMDB_DATA_TYPE_UINT32:
		*out = v.uint32;
		return true;
	case MMDB_DATA_TYPE_INT32:
		*out = v.int32;
		return true;
	default:
		g->stats.lookup_errors++;
		return false;
	}
}

static bool get_as_number(struct geoip *g, MMDB_entry_s *entry, uint32_t *out)
{
	MMDB_entry_data_s v;
	if (!get_value(g, entry, F_AS_NUMBER, &v))
		return false;
	switch (v.type) {
	case MMDB_DATA_TYPE_UINT16:
		*out = v.uint16;
		return true;
	case MMDB_DATA_TYPE_UINT32:
		*out = v.uint32;
		return true;
	case MMDB_DATA_TYPE_UINT64:
		if (v.uint64 > UINT32_MAX)
			break;
		*out = (uint32_t)v.uint64;
		return true;
	case MMDB_DATA_TYPE_INT32:
		if (v.int32 < 0)
			break;
		*out = (uint32_t)v.int32;
		return true;
	default:
		break;
	}
	g->stats.lookup_errors++;
	return false;
}

static void fill_location(struct geoip *g, MMDB_entry_s *e, struct geoip_result *out)
{
	get_string(g, e, F_COUNTRY_ISO, out->country_iso_code, sizeof(out->country_iso_code));
	get_string(g, e, F_COUNTRY_NAME, out->country_name, sizeof(out->country_name));
	get_string(g, e, F_CITY_NAME, out->city_name, sizeof(out->city_name));
	double lat, lon;
	bool has_lat = get_double(g, e, F_LATITUDE, &lat);
	bool has_lon = get_double(g, e, F_LONGITUDE, &lon);
	/* isfinite() first: NaN fails every comparison and would pass a negated range test. */
	if (has_lat && has_lon && isfinite(lat) && isfinite(lon) && fabs(lat) <= 90.0 && fabs(lon) <= 180.0) {
		out->has_location = true;
		out->latitude = lat;
		out->longitude = lon;
	}
}

static void fill_as(struct geoip *g, MMDB_entry_s *e, struct geoip_result *out)
{
	out->has_as = get_as_number(g, e, &out->as_number);
	get_string(g, e, F_AS_ORGANIZATION, out->as_organization, sizeof(out->as_organization));
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is looked up as IPv4, so IPv4-only databases answer it. */
static bool to_sockaddr(const struct ip_addr *a, struct sockaddr_storage *ss)
{
	static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memset(ss, 0, sizeof(*ss));
	if (a->family == 4 || (a->family == 6 && memcmp(a->bytes, v4_mapped, sizeof(v4_mapped)) == 0)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->family == 4 ? a->bytes : a->bytes + 12, 4);
		return true;
	}
	if (a->family == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return true;
	}
	return false;
}

bool geoip_lookup(struct geoip *g, const struct ip_addr *a, struct geoip_result *out)
{
	memset(out, 0, sizeof(*out));
	if (!g || !a || (!g->dbs[GEOIP_DB_LOCATION].mmdb && !g->dbs[GEOIP_DB_ASN].mmdb))
		return false;
	struct sockaddr_storage ss;
	if (!to_sockaddr(a, &ss))
		return false;
	g->stats.lookups++;
	for (int i = 0; i < GEOIP_DB_COUNT; i++) {
		if (!g->dbs[i].mmdb)
			continue;
		int mmdb_error = MMDB_SUCCESS;
		MMDB_lookup_result_s r =
		    MMDB_lookup_sockaddr(g->dbs[i].mmdb, (const struct sockaddr *)&ss, &mmdb_error);
		/* An IPv4-only database holds no IPv6 address: not found, not broken. */
		if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
			continue;
		if (mmdb_error != MMDB_SUCCESS) {
			g->stats.lookup_errors++;
			continue;
		}
		if (!r.found_entry)
			continue;
		out->found = true;
		if (i == GEOIP_DB_LOCATION)
			fill_location(g, &r.entry, out);
		else
			fill_as(g, &r.entry, out);
	}
	if (out->found)
		g->stats.found++;
	return out->found;
}
