/*
 * stream_dump.h: --dump-streams DIR writes what the parsers see.
 *
 * Each direction of each flow becomes one file of the exact reassembled bytes,
 * named by the 5-tuple: CLIENT.CPORT-SERVER.SPORT.c2s (what the client sent)
 * and .s2c. A reused 5-tuple gets "-2", "-3", ... before the suffix. Gaps
 * write nothing. Files are opened per write, so thousands of concurrent flows
 * cost no file descriptors.
 */
#ifndef TLSOBS_STREAM_DUMP_H
#define TLSOBS_STREAM_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/flow/flow.h"

struct stream_dump;

struct stream_dump *stream_dump_new(const char *dir);
/* 0, or -1 with errno when the file cannot be created or written. */
int stream_dump_write(struct stream_dump *d, const struct flow *f, enum flow_dir dir, const uint8_t *p,
                      size_t n);
void stream_dump_free(struct stream_dump *d);

#endif
