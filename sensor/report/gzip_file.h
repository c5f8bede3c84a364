/*
 * gzip_file.h: a whole buffer written as a gzip file (RFC 1952), the only user of zlib.
 * The file appears complete or not at all: written beside it under a temporary name (created anew, mode 0640,
 * never through a link), then renamed.
 */
#ifndef TLSOBS_GZIP_FILE_H
#define TLSOBS_GZIP_FILE_H

#include <stddef.h>

/* 0, or -1 with the reason in err. An existing file of that name is replaced. */
int gzip_file_write(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
