/* config_source.c: the configuration file's identity for the audit trail (see config_source.h). */
#include "sensor/config/config_source.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parsers/digest.h"
#include "sensor/config/config.h"

/* The whole file (at most CONFIG_MAX_FILE bytes, as the parser takes) hashed; "" when it cannot be read. */
static void hash_file(const char *path, char out[65])
{
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= CONFIG_MAX_FILE &&
	    (buf = malloc((size_t)st.st_size + 1))) {
		size_t got = 0;
		ssize_t n = 1;
		while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
			got += (size_t)n;
		if (n >= 0 && got == (size_t)st.st_size)
			digest_sha256_hex(buf, got, out, false);
	}
	free(buf);
	close(fd);
}

void config_source_read(const char *path, struct config_source *out)
{
	memset(out, 0, sizeof *out);
	if (!path)
		return;
	snprintf(out->path, sizeof out->path, "%s", path);
	out->view.path = out->path;
	out->view.sha256 = out->sha256;
	out->view.owner = out->owner;
	out->view.group = out->group;
	struct stat st;
	if (stat(path, &st) == 0) {
		out->view.stat_ok = true;
		out->view.mtime_us =
		    (uint64_t)st.st_mtim.tv_sec * 1000000u + (uint64_t)st.st_mtim.tv_nsec / 1000u;
		out->view.uid = st.st_uid;
		out->view.gid = st.st_gid;
		/* getpwuid_r and getgrgid_r: the reload runs while output threads live. */
		char buf[4096];
		struct passwd pw, *pwp = NULL;
		if (getpwuid_r(st.st_uid, &pw, buf, sizeof buf, &pwp) == 0 && pwp)
			snprintf(out->owner, sizeof out->owner, "%s", pw.pw_name);
		struct group gr, *grp = NULL;
		if (getgrgid_r(st.st_gid, &gr, buf, sizeof buf, &grp) == 0 && grp)
			snprintf(out->group, sizeof out->group, "%s", gr.gr_name);
	}
	hash_file(path, out->sha256);
}
