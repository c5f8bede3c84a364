/*
 * privileges.c: drops root for good once everything privileged is open (privileges.h). Owns nothing.
 */
#include "sensor/capture/privileges.h"

#include <errno.h>
#include <stdbool.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* capget/capset without libcap: the kernel's v3 interface, two 32-bit words per set. */
static int set_capabilities(bool keep_permitted)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	memset(caps, 0, sizeof caps);
	if (keep_permitted && syscall(SYS_capget, &hdr, caps) != 0)
		return -1;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		caps[i].inheritable = 0;
	return (int)syscall(SYS_capset, &hdr, caps);
}

/* Clears the ambient and inheritable sets (and the permitted ones unless keep_permitted), then forbids
 * regaining any; `what` names the capabilities in the error. */
static int lock_capabilities(bool keep_permitted, const char *what, char *err, size_t errlen)
{
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); /* EINVAL on kernels without ambient sets */
	if (set_capabilities(keep_permitted) != 0) {
		snprintf(err, errlen, "cannot clear %s: %s", what, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int privileges_harden(char *err, size_t errlen)
{
	return lock_capabilities(true, "the inheritable capabilities", err, errlen);
}

int privileges_check(const char *user, const char *group, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;
	return privileges_resolve(user, group, &uid, &gid, err, errlen);
}

int privileges_resolve(const char *user, const char *group, uid_t *uid_out, gid_t *gid_out, char *err,
                       size_t errlen)
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
	*uid_out = uid;
	*gid_out = gid;
	return 0;
}

int privileges_drop(const char *user, const char *group, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;
	if (privileges_resolve(user, group, &uid, &gid, err, errlen) != 0)
		return -1;
	/* Order matters: groups first, while we still may change them. */
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0) {
		snprintf(err, errlen, "cannot switch to group %u: %s", (unsigned)gid, strerror(errno));
		return -1;
	}
	if (setresuid(uid, uid, uid) != 0) {
		snprintf(err, errlen, "cannot switch to user %u: %s", (unsigned)uid, strerror(errno));
		return -1;
	}
	/* A non-root uid already lost its permitted and effective sets; clear the others and forbid regaining
	 * any. */
	if (lock_capabilities(false, "capabilities", err, errlen) != 0)
		return -1;
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "root privileges could be regained after dropping them");
		return -1;
	}
	return 0;
}
