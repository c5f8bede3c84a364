/*
 * logger.c: one line per message, to stderr or syslog (logger.h).
 *
 * The level and target are atomics so a reload could change them while the
 * Kafka or metrics threads log; the line itself is built on the stack and
 * written with a single write(2), which POSIX keeps whole on a pipe up to
 * PIPE_BUF and which never mixes with another thread's line.
 */
#include "outputs/logger.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "parsers/civil_time.h"

enum { LOGGER_LINE_MAX = 2048 };

static atomic_int logger_level = LOGGER_NOTICE;
static atomic_int logger_target = LOGGER_STDERR;

static const char *const level_names[LOGGER_LEVEL_COUNT] = {"error", "warning", "notice", "info", "debug"};
static const int syslog_priorities[LOGGER_LEVEL_COUNT] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
                                                          LOG_DEBUG};

const char *logger_level_str(enum logger_level level)
{
	return level >= 0 && level < LOGGER_LEVEL_COUNT ? level_names[level] : "?";
}

int logger_level_parse(const char *name, enum logger_level *out)
{
	for (int l = 0; l < LOGGER_LEVEL_COUNT; l++)
		if (strcmp(name, level_names[l]) == 0) {
			*out = (enum logger_level)l;
			return 0;
		}
	return -1;
}

void logger_configure(enum logger_target target, enum logger_level level)
{
	/* LOG_NDELAY: connect to /dev/log now, while the process may still reach it (before -u and seccomp).
	 */
	if (target == LOGGER_SYSLOG && atomic_load(&logger_target) != LOGGER_SYSLOG)
		openlog("tlsobs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&logger_target, target);
	atomic_store(&logger_level, level);
}

bool logger_enabled(enum logger_level level)
{
	return (int)level <= atomic_load(&logger_level);
}

int logger_format(char *buf, int cap, long long unix_seconds, enum logger_level level, const char *component,
                  const char *message)
{
	char when[CIVIL_TIME_TEXT_MAX];
	if (civil_time_rfc3339(when, sizeof when, unix_seconds) == 0)
		snprintf(when, sizeof when, "1970-01-01T00:00:00Z");
	int n =
	    snprintf(buf, (size_t)cap, "%s %s %s: %s\n", when, logger_level_str(level), component, message);
	if (n < 0)
		return 0;
	if (n >= cap) { /* cut, but still one line */
		buf[cap - 2] = '\n';
		n = cap - 1;
	}
	return n;
}

void logger_log(enum logger_level level, const char *component, const char *fmt, ...)
{
	if (!logger_enabled(level))
		return;
	char message[LOGGER_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	for (char *p = message; *p; p++) /* one message, one line */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (atomic_load(&logger_target) == LOGGER_SYSLOG) {
		syslog(syslog_priorities[level], "%s: %s", component, message);
		return;
	}
	char line[LOGGER_LINE_MAX + 64];
	int n = logger_format(line, sizeof line, (long long)time(NULL), level, component, message);
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w; /* nowhere left to report a failing stderr */
}
