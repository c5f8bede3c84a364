/* gzip_file.c: zlib's gz* interface behind gzip_file.h. */
#include "sensor/report/gzip_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum { CHUNK = 1u << 20 }; /* gzwrite takes an unsigned length */

int gzip_file_write(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	/* Made anew, never through a link or into a file someone planted there (reports run as root). */
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	gzFile gz = gzdopen(fd, "wb9");
	if (!gz) {
		snprintf(err, errlen, "%s: cannot open a gzip stream", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	const unsigned char *p = data;
	for (size_t off = 0; off < len;) {
		unsigned n = len - off < CHUNK ? (unsigned)(len - off) : CHUNK;
		if (gzwrite(gz, p + off, n) != (int)n) {
			int zerr;
			snprintf(err, errlen, "%s: %s", tmp, gzerror(gz, &zerr));
			gzclose(gz);
			unlink(tmp);
			return -1;
		}
		off += n;
	}
	if (gzclose(gz) != Z_OK) {
		snprintf(err, errlen, "%s: cannot finish the gzip stream", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
