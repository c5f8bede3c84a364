/*
 * civil_time.h: calendar dates to days since the epoch and back, and the one
 * RFC 3339 UTC timestamp writer, without timegm() (not in C17), gmtime() or
 * the local time zone. Shared by the certificate times, the policy's
 * relaxed_until, the events' @timestamp, the Kafka CloudEvents ce_time, the
 * log lines and the reports.
 */
#ifndef TLSOBS_CIVIL_TIME_H
#define TLSOBS_CIVIL_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
static inline int64_t civil_days_from_date(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" and its NUL, for years up to 9999; room for any uint64_t microseconds. */
enum { CIVIL_TIME_TEXT_MAX = 32 };

/*
 * unix_seconds as "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339 5.6, UTC; years below 1000
 * zero-padded to date-fullyear's four digits, years past 9999 with all theirs,
 * as ISO 8601 expands them, so that no instant is lost). Returns the length
 * written, or 0 (and "" when cap > 0) before the year 0000, for an instant
 * millions of years away, or when the text does not fit in cap.
 */
size_t civil_time_rfc3339(char *buf, size_t cap, int64_t unix_seconds);
/* The same with microseconds: "YYYY-MM-DDTHH:MM:SS.uuuuuuZ". */
size_t civil_time_rfc3339_us(char *buf, size_t cap, uint64_t unix_us);

#endif
