/*
 * private_dir.h: a directory the sensor writes into (the Kafka spool, --dump-streams), checked and made ready
 * for the run user before privileges are dropped.
 *
 * The sensor starts as root and then runs as the -u/-g user, who must still create files there; a local
 * attacker who is (or becomes) that user must not be able to turn root's next start against another file.
 * So the directory is opened once, without following a link, and every file in it is then opened relative
 * to that descriptor (openat with O_NOFOLLOW), never by a path that could be re-resolved.
 */
#ifndef TLSOBS_PRIVATE_DIR_H
#define TLSOBS_PRIVATE_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Who will write into the directory after the drop; set false: whoever runs now (no -u/-g). */
struct private_dir_owner {
	bool set;
	uid_t uid;
	gid_t gid;
};

/*
 * Opens `path` (created with `mode` when missing and `create`, parents too) as an O_DIRECTORY descriptor.
 * Refused with a one-line reason in err: the last component is a symbolic link, not a directory, owned by
 * anyone but root, the current user or the owner, group- or world-writable. With an owner, the directory
 * is given to owner->uid:owner->gid (fchown) when it is not theirs yet. Returns the fd (O_CLOEXEC), or -1.
 */
int private_dir_open(const char *path, bool create, mode_t mode, const struct private_dir_owner *owner,
                     char *err, size_t errlen);

/* Whether a file of the directory, fstat'ed after an O_NOFOLLOW open, may be trusted: a regular file with
 * one link, owned by root, the current user or the owner. */
bool private_dir_file_ok(const struct stat *st, const struct private_dir_owner *owner);

#endif
