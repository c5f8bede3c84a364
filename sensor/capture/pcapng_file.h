/*
 * pcapng_file.h: packets of a pcapng file read by our own block decoder
 * (parsers/pcapng.h), for the files libpcap refuses: several interfaces with
 * different link types or snapshot lengths. Each packet comes with its
 * interface's index, link type and name.
 *
 * Owns the open file and one block buffer (grown to the largest block read,
 * at most PCAPNG_MAX_BLOCK). A packet's data stay valid until the next call.
 */
#ifndef TLSOBS_PCAPNG_FILE_H
#define TLSOBS_PCAPNG_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/pcapng.h"

struct pcapng_file;

/* NULL with a message in err. */
struct pcapng_file *pcapng_file_open(const char *path, char *err, size_t errlen);
/* 1: a packet in *out; 0: the end of the file; -1: a malformed or cut file (message in err). */
int pcapng_file_next(struct pcapng_file *f, struct pcapng_packet *out, char *err, size_t errlen);
/* The interface a packet named (valid until the next section header). */
const struct pcapng_interface *pcapng_file_interface(const struct pcapng_file *f, unsigned index);
void pcapng_file_close(struct pcapng_file *f);

/*
 * Whether `path` is a pcapng file whose first section describes more than one
 * interface before its first packet: then libpcap cannot say which interface a
 * packet came from, and refuses the file outright when their link types or
 * snapshot lengths differ. Also gives the first packet's time (UINT64_MAX: none)
 * and the first interface's name ("" when none, or not pcapng).
 */
bool pcapng_file_has_several_interfaces(const char *path, uint64_t *first_ts_us,
                                        char first_name[PCAPNG_NAME_MAX]);

#endif
