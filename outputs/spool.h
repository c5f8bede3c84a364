/*
 * spool.h: a bounded, crash-safe queue of events on disk, oldest first.
 *
 * Segment files in one directory (spool-<16 hex>.seg, numbered in order of
 * creation), each a sequence of records:
 *
 *   +--------+--------+--------+---------+---------+------------------+
 *   | magic  | length | crc32  | type u8 | keylen  | key | payload    |
 *   |  u32   |  u32   |  u32   |         |   u16   |                  |
 *   +--------+--------+--------+---------+---------+------------------+
 *
 * Appends go to the newest segment (a new one every segment_bytes); records
 * are read back oldest first. A record is only gone once spool_ack'ed; a
 * whole segment is deleted when all its records are acked. On open, existing
 * segments are found and replayed (a restart, or a crash: a torn last record
 * is detected by length/crc and counted, never read as an event). When an
 * append would exceed max_bytes, whole oldest segments are dropped and their
 * records counted in `dropped`: the count is exact.
 */
#ifndef TLSOBS_SPOOL_H
#define TLSOBS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

/* Record types are small numbers chosen by the caller; per-type counts let it reconcile its own counters. */
enum { SPOOL_TYPES = 8 };

struct spool_stats {
	uint64_t records; /* currently stored (appended, not acked, not dropped) */
	uint64_t bytes;   /* currently on disk */
	uint64_t appended, acked, dropped, corrupt;
	uint64_t recovered; /* records found on open (a previous run's) */
	uint64_t records_by_type[SPOOL_TYPES], dropped_by_type[SPOOL_TYPES], recovered_by_type[SPOOL_TYPES];
};

struct private_dir_owner;

/*
 * Creates the directory if needed. NULL with a message in err, also when the directory is not safe to
 * write in (private_dir.h: a link, group- or world-writable, someone else's). Segments are opened through
 * the directory's descriptor and never through a link; at open, an entry that is not a plain file of ours
 * is counted as corrupt and its name removed.
 */
struct spool *spool_open(const char *dir, uint64_t max_bytes, uint64_t segment_bytes, char *err,
                         size_t errlen);
/* The same, for a spool written after privileges are dropped: the directory and the segments recovered
 * from an earlier run are given to owner (the -u/-g user) first. owner NULL: spool_open. */
struct spool *spool_open_owned(const char *dir, uint64_t max_bytes, uint64_t segment_bytes,
                               const struct private_dir_owner *owner, char *err, size_t errlen);
void spool_close(struct spool *s);
/* 0, or -1 (counted as dropped) when the record cannot be written, is larger than max_bytes, or type >=
 * SPOOL_TYPES. */
int spool_append(struct spool *s, uint8_t type, const char *key, size_t keylen, const char *payload,
                 size_t len);
/*
 * The next record not yet handed out, oldest first: fills the pointers (valid
 * until the next spool call) and an id for spool_ack. 0, or -1 when none.
 */
int spool_next(struct spool *s, uint64_t *id, uint8_t *type, const char **key, size_t *keylen,
               const char **payload, size_t *len);
/*
 * The record is safely elsewhere (delivered); it will not come back after a restart (a fully acked segment is
 * deleted, a partly acked one rewritten on close). 0, or -1 when the id is unknown: already acked, or dropped
 * meanwhile because the spool was full (then counted in `dropped`).
 */
int spool_ack(struct spool *s, uint64_t id);
/* Records handed out by spool_next but not acked go back to be handed out again (a failed replay). */
void spool_rewind(struct spool *s);
const struct spool_stats *spool_stats(const struct spool *s);

#endif
