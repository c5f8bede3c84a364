/*
 * stream_dump.c: --dump-streams, each reassembled direction of a flow in a file of its own.
 *
 * The files hold whole conversations in clear text (AUTH credentials, message bodies): created 0600 and
 * O_EXCL, and never through a link (O_NOFOLLOW), also when reopened to append; the directory was checked
 * and given to the run user before the drop (private_dir.h).
 */
#include "sensor/flow/stream_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { STREAM_DUMP_MAX_REUSE = 1000 };

struct stream_dump {
	const char *dir; /* borrowed from the command line */
	char path[2][4096];
};

struct stream_dump *stream_dump_new(const char *dir)
{
	struct stream_dump *d = calloc(1, sizeof *d);
	if (d)
		d->dir = dir;
	return d;
}

/* Picks the first free name for this flow and creates the file. */
static int create_file(struct stream_dump *d, const struct flow *f, enum flow_dir dir)
{
	char client[64], server[64];
	ip_addr_format(&f->client.ip, client, sizeof client);
	ip_addr_format(&f->server.ip, server, sizeof server);
	const char *suffix = dir == FLOW_TO_SERVER ? "c2s" : "s2c";
	for (int n = 1; n <= STREAM_DUMP_MAX_REUSE; n++) {
		char reuse[16] = "";
		if (n > 1)
			snprintf(reuse, sizeof reuse, "-%d", n);
		snprintf(d->path[dir], sizeof d->path[dir], "%s/%s.%u-%s.%u%s.%s", d->dir, client,
		         f->client.port, server, f->server.port, reuse, suffix);
		int fd = open(d->path[dir], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
		errno = EEXIST;
	}
	d->path[dir][0] = '\0'; /* never append to a name we did not create */
	return -1;
}

int stream_dump_write(struct stream_dump *d, const struct flow *f, enum flow_dir dir, const uint8_t *p,
                      size_t n)
{
	int fd = d->path[dir][0] ? open(d->path[dir], O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
	                         : create_file(d, f, dir);
	if (fd < 0)
		return -1;
	int rc = 0;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -1;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	close(fd);
	return rc;
}

void stream_dump_free(struct stream_dump *d)
{
	free(d);
}
