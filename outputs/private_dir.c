/*
 * private_dir.c: directories the sensor writes into after dropping privileges (see private_dir.h).
 *
 * Why these checks: a directory writable by another user, or owned by one, lets that user plant a symbolic
 * or hard link where the sensor will create, append to or truncate a file; opening the directory without
 * following its last component and then every file relative to it closes the race between check and use.
 */
#include "outputs/private_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p: the missing parents and the directory itself, with `mode`. */
static int make_dirs(const char *dir, mode_t mode)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, mode) != 0 && errno != EEXIST)
			return -1;
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

static bool trusted_owner(uid_t uid, const struct private_dir_owner *owner)
{
	return uid == 0 || uid == geteuid() || (owner && owner->set && uid == owner->uid);
}

bool private_dir_file_ok(const struct stat *st, const struct private_dir_owner *owner)
{
	return S_ISREG(st->st_mode) && st->st_nlink == 1 && trusted_owner(st->st_uid, owner);
}

/* Gives the directory to the run user, who needs rwx on it after the drop. */
static int hand_over(int fd, const char *path, const struct stat *st, const struct private_dir_owner *owner,
                     char *err, size_t errlen)
{
	if (st->st_uid != owner->uid || st->st_gid != owner->gid) {
		if (fchown(fd, owner->uid, owner->gid) != 0) {
			snprintf(err, errlen, "%s: cannot give it to uid %u gid %u (-u/-g): %s", path,
			         (unsigned)owner->uid, (unsigned)owner->gid, strerror(errno));
			return -1;
		}
	}
	if ((st->st_mode & S_IRWXU) != S_IRWXU && fchmod(fd, (st->st_mode & 07777) | S_IRWXU) != 0) {
		snprintf(err, errlen, "%s: chmod u+rwx: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int private_dir_open(const char *path, bool create, mode_t mode, const struct private_dir_owner *owner,
                     char *err, size_t errlen)
{
	if (create && make_dirs(path, mode) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		bool link = fd < 0 && lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
		snprintf(err, errlen, "%s: %s", path,
		         link ? "is a symbolic link (give the directory itself)" : strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!trusted_owner(st.st_uid, owner)) {
		snprintf(err, errlen, "%s: owned by uid %u: only root%s may own it", path,
		         (unsigned)st.st_uid,
		         owner && owner->set ? " or the -u user" : " or the user running tlsobs");
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
		         "%s: mode %04o is group- or world-writable (chmod go-w, or give a directory of "
		         "its own)",
		         path, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if (owner && owner->set) {
		if (hand_over(fd, path, &st, owner, err, errlen) != 0)
			goto fail;
	} else if (faccessat(fd, ".", R_OK | W_OK | X_OK, AT_EACCESS) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}
