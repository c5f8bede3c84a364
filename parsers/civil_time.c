/*
 * civil_time.c: RFC 3339 5.6 UTC timestamps from seconds or microseconds since
 * the epoch (see civil_time.h). Pure arithmetic, so the text is the same on
 * every libc and needs no time zone data.
 */
#include "parsers/civil_time.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

struct civil {
	int64_t year;
	unsigned month, day, hour, minute, second;
};

/* H. Hinnant's civil_from_days, the inverse of civil_days_from_date. */
static void civil_from_days(int64_t z, struct civil *c)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	c->day = doy - (153 * mp + 2) / 5 + 1;
	c->month = mp < 10 ? mp + 3 : mp - 9;
	c->year = (int64_t)yoe + era * 400 + (c->month <= 2);
}

/* The date and time of day of unix_seconds; false before the year 0000. */
static bool civil_from_seconds(int64_t unix_seconds, struct civil *c)
{
	int64_t days = unix_seconds / 86400, rem = unix_seconds % 86400;
	if (rem < 0) { /* floor, not truncation, before the epoch */
		rem += 86400;
		days--;
	}
	civil_from_days(days, c);
	c->hour = (unsigned)(rem / 3600);
	c->minute = (unsigned)(rem / 60 % 60);
	c->second = (unsigned)(rem % 60);
	return c->year >= 0;
}

/* fraction < 0: whole seconds; otherwise its six digits of microseconds. */
static size_t format(char *buf, size_t cap, int64_t unix_seconds, long fraction)
{
	struct civil c;
	int n = -1;
	/* The bound (about 8.9 million years) keeps the day arithmetic far from overflow. */
	if (unix_seconds > -(INT64_C(1) << 48) && unix_seconds < (INT64_C(1) << 48) &&
	    civil_from_seconds(unix_seconds, &c)) {
		if (fraction < 0)
			n = snprintf(buf, cap, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", c.year, c.month,
			             c.day, c.hour, c.minute, c.second);
		else
			n = snprintf(buf, cap, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%06ldZ", c.year,
			             c.month, c.day, c.hour, c.minute, c.second, fraction);
	}
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

size_t civil_time_rfc3339(char *buf, size_t cap, int64_t unix_seconds)
{
	return format(buf, cap, unix_seconds, -1);
}

size_t civil_time_rfc3339_us(char *buf, size_t cap, uint64_t unix_us)
{
	return format(buf, cap, (int64_t)(unix_us / 1000000u), (long)(unix_us % 1000000u));
}
