#include "sensor/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int privileges_drop(const char *user, const char *group, char *err, size_t errlen)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (user) {
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "-u %s: no such user", user);
			return -1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (group) {
		struct group *gr = getgrnam(group);
		if (!gr) {
			snprintf(err, errlen, "-g %s: no such group", group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	/* Order matters: groups first, while we still may change them. */
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0) {
		snprintf(err, errlen, "cannot switch to group %u: %s", (unsigned)gid, strerror(errno));
		return -1;
	}
	if (setresuid(uid, uid, uid) != 0) {
		snprintf(err, errlen, "cannot switch to user %u: %s", (unsigned)uid, strerror(errno));
		return -1;
	}
	/* A non-root uid already lost its capabilities; clear the ambient set and forbid regaining any. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "root privileges could be regained after dropping them");
		return -1;
	}
	return 0;
}
