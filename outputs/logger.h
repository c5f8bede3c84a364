/*
 * logger.h: the sensor's own messages (not its events), one line each.
 *
 *   2026-12-06T15:24:19Z warning kafka: broker 127.0.0.1:9092 down
 *
 * RFC 3339 UTC time to the second, level, component, message. To standard
 * error by default, or to syslog (journald reads it) with log.target: syslog,
 * where the time is the daemon's and the level becomes the syslog priority.
 *
 * The one process-wide state besides the signal flags: every layer and
 * library callback logs, and syslog itself is per process. Configure it once
 * before any thread starts; logger_log may then be called from any thread (a
 * line is one write(2), so lines never interleave).
 */
#ifndef TLSOBS_LOGGER_H
#define TLSOBS_LOGGER_H

#include <stdbool.h>

enum logger_level {
	LOGGER_ERROR,
	LOGGER_WARNING,
	LOGGER_NOTICE,
	LOGGER_INFO,
	LOGGER_DEBUG,
	LOGGER_LEVEL_COUNT
};
enum logger_target { LOGGER_STDERR, LOGGER_SYSLOG };

const char *logger_level_str(enum logger_level level);
/* 0, or -1 when `name` is not one of error, warning, notice, info, debug. */
int logger_level_parse(const char *name, enum logger_level *out);
/* Messages above `level` are dropped. Default: stderr, notice. */
void logger_configure(enum logger_target target, enum logger_level level);
bool logger_enabled(enum logger_level level);
/* `component` names the module ("kafka", "output", "state_db"); the message has no trailing newline. */
void logger_log(enum logger_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Formats one stderr line into buf (for tests); returns its length without the NUL. */
int logger_format(char *buf, int cap, long long unix_seconds, enum logger_level level, const char *component,
                  const char *message);

#endif
