/*
 * privileges.h: -u USER -g GROUP. After the capture handles, files and
 * databases are open, the sensor gives up root for good: that user and group,
 * no supplementary groups, no capabilities, and PR_SET_NO_NEW_PRIVS so nothing
 * it could exec would gain them back.
 */
#ifndef TLSOBS_PRIVILEGES_H
#define TLSOBS_PRIVILEGES_H

#include <stddef.h>
#include <sys/types.h>

/* user may be NULL when only group is given, and vice versa. 0, or -1 with a message in err. */
int privileges_drop(const char *user, const char *group, char *err, size_t errlen);
/* The uid and gid privileges_drop switches to (the current ones for what is not given): 0, or -1 naming the
 * option in err. Files and directories written after the drop are given to them before it. */
int privileges_resolve(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err, size_t errlen);
/* The same names checked before anything is opened: 0, or -1 naming the option in err (a usage error). */
int privileges_check(const char *user, const char *group, char *err, size_t errlen);
/*
 * Before any thread starts (librdkafka's): PR_SET_NO_NEW_PRIVS and empty
 * inheritable and ambient capability sets. Both are per thread and inherited by
 * the threads created later, so the whole process ends up without them.
 */
int privileges_harden(char *err, size_t errlen);

#endif
