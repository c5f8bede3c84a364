/*
 * output.c: the -o destinations (output.h). json: outputs are written here;
 * kafka: outputs are handed to kafka_output.c.
 *
 * A json: line goes out whole or not at all: one writev(2) of the event and
 * its newline, looping on short writes. When a write fails part-way (ENOSPC,
 * EIO, EDQUOT) the file is truncated back to where the line started
 * (ftruncate), so the next line starts on a line boundary and no reader ever
 * sees half an event glued to the next; the event is counted as failed. On a
 * pipe or device, where nothing can be taken back, the next line that goes
 * through is preceded by a newline instead, so the cut line stands alone.
 * A failing destination is logged once, then once a minute while it lasts,
 * and once more when lines go through again.
 */
#include "outputs/output.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "outputs/json_writer.h"
#include "outputs/kafka_output.h"
#include "outputs/logger.h"

enum { OUTPUT_FILE_MODE = 0640 };
#define OUTPUT_REPEAT_US (60ull * 1000000u) /* a failing destination is logged at most once a minute */

struct output {
	char *spec;
	const char *path; /* json: path ("-" for standard output), inside spec */
	int fd;           /* json: outputs; -1 for kafka */
	bool owns_fd, regular;
	bool cut;                   /* a line was cut on a pipe: the next one starts with a newline */
	int fatal;                  /* errno that ends the run (EPIPE on standard output), 0 */
	struct kafka_output *kafka; /* kafka: outputs */
	uint64_t written, failed, reopens;
	bool warned;                /* a failure was logged, and no "writing again" since */
	uint64_t failed_since_log;  /* events failed since the last failure was logged */
	uint64_t failure_logged_us; /* monotonic; 0: never */
};

static uint64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* O_NOFOLLOW: a link planted at the path is refused, never followed, so no one who can write the directory
 * can point the sensor's appends at another file. */
static int open_path(const char *path, bool *regular, char *err, size_t errlen, const char *spec)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, OUTPUT_FILE_MODE);
	if (fd < 0) {
		snprintf(err, errlen, "-o %s: %s", spec,
		         errno == ELOOP ? "is a symbolic link (refused: give the real path)"
		                        : strerror(errno));
		return -1;
	}
	struct stat st;
	*regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	return fd;
}

static int open_json(struct output *o, const char *path, char *err, size_t errlen)
{
	o->path = path;
	if (strcmp(path, "-") == 0) {
		struct stat st;
		o->fd = STDOUT_FILENO;
		o->regular = fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode);
		return 0;
	}
	o->fd = open_path(path, &o->regular, err, errlen, o->spec);
	if (o->fd < 0)
		return -1;
	o->owns_fd = true;
	return 0;
}

struct output *output_open(const char *spec, const struct kafka_settings *kafka, char *err, size_t errlen)
{
	bool json = strncmp(spec, "json:", 5) == 0 && spec[5] != '\0';
	bool kafka_spec = strncmp(spec, "kafka:", 6) == 0 && spec[6] != '\0';
	if (!json && !kafka_spec) {
		snprintf(err, errlen,
		         "-o %s: unknown output (expected json:-, json:PATH or kafka:HOST:PORT[,...])", spec);
		return NULL;
	}
	struct output *o = calloc(1, sizeof *o);
	if (!o || !(o->spec = strdup(spec))) {
		snprintf(err, errlen, "-o %s: out of memory", spec);
		free(o);
		return NULL;
	}
	o->fd = -1;
	int rc;
	if (json) {
		rc = open_json(o, o->spec + 5, err, errlen);
	} else {
		static const struct kafka_settings defaults; /* kafka_output_new fills in its defaults */
		o->kafka = kafka_output_new(spec + 6, kafka ? kafka : &defaults, err, errlen);
		rc = o->kafka ? 0 : -1;
	}
	if (rc != 0) {
		free(o->spec);
		free(o);
		return NULL;
	}
	return o;
}

/*
 * Writes all of iov or fails; *done is what went out. 0, or -1 with errno.
 * EINTR is retried: a signal (SIGHUP, SIGUSR1) must not cost a line.
 */
static int write_all(int fd, struct iovec *iov, int n, size_t *done)
{
	*done = 0;
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		*done += (size_t)w;
		size_t left = (size_t)w;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

/* Takes back the `done` bytes of a line cut short, so the file ends on a line boundary again. */
static void undo_partial(struct output *o, size_t done)
{
	if (done == 0)
		return;
	off_t end = o->regular ? lseek(o->fd, 0, SEEK_CUR) : -1; /* O_APPEND: just after our bytes */
	if (end >= (off_t)done && ftruncate(o->fd, end - (off_t)done) == 0)
		return;
	o->cut = true;
}

/*
 * Logged at most once a minute however the condition comes and goes (a disk
 * that is nearly full takes a short line, then refuses a long one): the first
 * failure, then a count of what failed since, and "writing again" once per
 * logged failure.
 */
static void note_failure(struct output *o, int err)
{
	uint64_t now = monotonic_us();
	o->failed_since_log++;
	if (err == EPIPE && !o->owns_fd) {
		if (!o->fatal)
			logger_log(LOGGER_WARNING, "output",
			           "%s: standard output was closed (EPIPE): stopping", o->spec);
		o->fatal = EPIPE;
		return;
	}
	if (o->failure_logged_us && now - o->failure_logged_us < OUTPUT_REPEAT_US)
		return;
	if (!o->failure_logged_us)
		logger_log(LOGGER_WARNING, "output",
		           "%s: %s: events are dropped until lines can be written again", o->spec,
		           strerror(err));
	else
		logger_log(LOGGER_WARNING, "output", "%s: %s: %" PRIu64 " events dropped since last reported",
		           o->spec, strerror(err), o->failed_since_log);
	o->warned = true;
	o->failure_logged_us = now;
	o->failed_since_log = 0;
}

static int write_line(struct output *o, const struct output_event *ev)
{
	static char newline[] = "\n";
	struct iovec iov[3];
	int n = 0;
	if (o->cut)
		iov[n++] = (struct iovec){newline, 1};
	iov[n++] = (struct iovec){(void *)ev->json, ev->len};
	iov[n++] = (struct iovec){newline, 1};
	size_t done;
	if (write_all(o->fd, iov, n, &done) == 0) {
		o->cut = false;
		if (o->warned) {
			logger_log(LOGGER_NOTICE, "output",
			           "%s: writing again (%" PRIu64 " events failed in all)", o->spec,
			           o->failed);
			o->warned = false;
		}
		return 0;
	}
	int err = errno;
	undo_partial(o, done);
	note_failure(o, err);
	return -1;
}

int output_write(struct output *o, const struct output_event *ev)
{
	int rc;
	if (o->kafka)
		rc = kafka_output_produce(o->kafka, ev);
	else
		rc = o->fatal ? -1 : write_line(o, ev);
	if (rc == 0)
		o->written++;
	else
		o->failed++;
	return rc;
}

int output_reopen(struct output *o, char *err, size_t errlen)
{
	if (o->kafka || !o->owns_fd)
		return 0;
	bool regular;
	int fd = open_path(o->path, &regular, err, errlen, o->spec);
	if (fd < 0)
		return -1; /* the old file stays open: better the renamed file than nothing */
	close(o->fd);
	o->fd = fd;
	o->regular = regular;
	o->cut = false;
	o->reopens++;
	return 0;
}

int output_fatal(const struct output *o)
{
	return o->fatal;
}

void output_poll(struct output *o)
{
	if (o->kafka)
		kafka_output_poll(o->kafka);
}

const char *output_spec(const struct output *o)
{
	return o->spec;
}

const struct kafka_output *output_kafka(const struct output *o)
{
	return o->kafka;
}

struct kafka_output *output_kafka_producer(struct output *o)
{
	return o->kafka;
}

void output_counts(const struct output *o, uint64_t *written, uint64_t *failed)
{
	*written = o->written;
	*failed = o->failed;
}

void output_print_stats(const struct output *o, FILE *out)
{
	if (o->kafka)
		kafka_output_print_stats(o->kafka, out);
	else
		fprintf(out, "tlsobs: output %s: %" PRIu64 " events written, %" PRIu64 " failed\n", o->spec,
		        o->written, o->failed);
}

void output_stats_json(const struct output *o, struct json_writer *w)
{
	if (o->kafka) {
		kafka_output_stats_json(o->kafka, w);
		return;
	}
	json_object_begin(w);
	json_field_cstring(w, "spec", o->spec);
	json_field_uint(w, "written", o->written);
	json_field_uint(w, "failed", o->failed);
	json_object_end(w);
}

int output_close(struct output *o, FILE *summary)
{
	if (!o)
		return 0;
	int rc = o->failed ? -1 : 0;
	if (o->kafka) {
		if (kafka_output_flush(o->kafka) > 0)
			rc = -1;
		if (summary)
			kafka_output_print_stats(o->kafka, summary);
		kafka_output_free(o->kafka);
	} else {
		if (summary)
			output_print_stats(o, summary);
		if (o->owns_fd && close(o->fd) != 0)
			rc = -1;
	}
	free(o->spec);
	free(o);
	return rc;
}
