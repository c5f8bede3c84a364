/*
 * civil_time.h: calendar dates to days since the epoch, without timegm() (not
 * in C17) or the local time zone. Shared by the certificate times and the
 * policy's relaxed_until.
 */
#ifndef TLSOBS_CIVIL_TIME_H
#define TLSOBS_CIVIL_TIME_H

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

#endif
