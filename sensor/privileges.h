/*
 * privileges.h: -u USER -g GROUP. After the capture handles, files and
 * databases are open, the sensor gives up root for good: that user and group,
 * no supplementary groups, no capabilities, and PR_SET_NO_NEW_PRIVS so nothing
 * it could exec would gain them back.
 */
#ifndef TLSOBS_PRIVILEGES_H
#define TLSOBS_PRIVILEGES_H

#include <stddef.h>

/* user may be NULL when only group is given, and vice versa. 0, or -1 with a message in err. */
int privileges_drop(const char *user, const char *group, char *err, size_t errlen);

#endif
