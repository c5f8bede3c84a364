/*
 * spool.c: a bounded queue of records in segment files (format in spool.h).
 *
 * Memory holds one small entry per segment and one flag byte per record (its type, and whether it was acked);
 * the records themselves stay on disk and are read back one at a time. Record ids are handed out in append
 * order and are contiguous within a segment, so an id names its segment and slot without a lookup table.
 * They are only meaningful within one process: a restart numbers the recovered records anew.
 *
 * Integers on disk are little-endian. The crc32 is IEEE 802.3 (the one of zlib and PNG), over the bytes that
 * follow the 12-byte header. A record is written with one write(2): a crash leaves at most the last record of
 * the newest segment torn, found on open by its length or crc, counted as corrupt and cut off.
 */
#include "outputs/spool.h"

#include "outputs/private_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	RECORD_MAGIC = 0x31505354u, /* "TSP1" */
	HEADER_BYTES = 12,
	BODY_FIXED = 3,        /* type u8, keylen u16 */
	MAX_BODY = 256u << 20, /* a larger length is corruption */
	FLAG_TYPE = 0x07,
	FLAG_ACKED = 0x80,
	MAX_SEGMENTS = 1 << 20, /* cap on segment files (each holds at least one record) */
};

static const uint32_t crc_table[256] = {
    0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
    0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988, 0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
    0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
    0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
    0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172, 0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
    0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
    0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
    0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924, 0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
    0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
    0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
    0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e, 0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
    0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
    0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
    0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0, 0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
    0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
    0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
    0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a, 0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
    0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
    0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
    0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc, 0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
    0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
    0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
    0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236, 0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
    0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
    0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
    0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38, 0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
    0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
    0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
    0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2, 0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
    0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
    0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
    0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94, 0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct segment {
	uint64_t seq;      /* from the file name, increasing */
	uint64_t first_id; /* id of its first record */
	uint64_t bytes;    /* valid bytes in the file */
	uint32_t nrecords, nacked;
	uint8_t *flags; /* per record: type | FLAG_ACKED */
	uint32_t flags_cap;
};

struct spool {
	char *dir;
	int dirfd; /* every segment is opened relative to it, never following a link */
	struct private_dir_owner owner;
	uint64_t max_bytes, segment_bytes;
	struct segment *segs; /* oldest first */
	size_t nsegs, segs_cap;
	int append_fd; /* the newest segment, when appends may go to it; -1: start a new one */
	uint64_t next_seq, next_id;
	/* Read cursor: the next record to hand out is cur_id, at cur_off in segment cur_seq. */
	uint64_t cur_id, cur_off, cur_seq;
	int read_fd;
	uint64_t read_seq;
	unsigned char *buf;
	size_t buf_cap;
	struct spool_stats st;
};

enum { NAME_CAP = 32 };

static void segment_name(uint64_t seq, const char *suffix, char *out, size_t cap)
{
	snprintf(out, cap, "spool-%016" PRIx64 ".seg%s", seq, suffix);
}

/* A segment of ours: O_NOFOLLOW (a planted link is ELOOP), O_NONBLOCK (a planted fifo does not hang the
 * open), then fstat'ed as a plain file with one link before anything reads, writes or truncates it. */
static int open_segment(const struct spool *s, const char *name, int flags)
{
	int fd = openat(s->dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !private_dir_file_ok(&st, &s->owner)) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

static int reserve(struct spool *s, size_t n)
{
	if (n <= s->buf_cap)
		return 0;
	size_t cap = s->buf_cap ? s->buf_cap : 4096;
	while (cap < n)
		cap *= 2;
	unsigned char *p = realloc(s->buf, cap);
	if (!p)
		return -1;
	s->buf = p;
	s->buf_cap = cap;
	return 0;
}

static int push_flag(struct segment *g, uint8_t flag)
{
	if (g->nrecords == g->flags_cap) {
		uint32_t cap = g->flags_cap ? g->flags_cap * 2 : 64;
		uint8_t *p = realloc(g->flags, cap);
		if (!p)
			return -1;
		g->flags = p;
		g->flags_cap = cap;
	}
	g->flags[g->nrecords++] = flag;
	return 0;
}

static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : (ssize_t)got;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int write_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = write(fd, (const char *)buf + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/*
 * Reads and checks the record at `off` of fd (file size `size`) into s->buf. Its total length, 0 at the end
 * of the file, or -1 when the bytes there are not a whole, intact record (torn or corrupt).
 */
static int64_t read_record(struct spool *s, int fd, uint64_t off, uint64_t size)
{
	if (off == size)
		return 0;
	unsigned char h[HEADER_BYTES];
	if (size - off < HEADER_BYTES || pread_full(fd, h, HEADER_BYTES, off) != HEADER_BYTES)
		return -1;
	uint32_t len = get_u32(h + 4);
	if (get_u32(h) != RECORD_MAGIC || len < BODY_FIXED || len > MAX_BODY ||
	    size - off - HEADER_BYTES < len || reserve(s, len) != 0 ||
	    pread_full(fd, s->buf, len, off + HEADER_BYTES) != (ssize_t)len ||
	    crc32_ieee(s->buf, len) != get_u32(h + 8))
		return -1;
	uint32_t keylen = (uint32_t)s->buf[1] | (uint32_t)s->buf[2] << 8;
	if (s->buf[0] >= SPOOL_TYPES || keylen > len - BODY_FIXED)
		return -1;
	return (int64_t)HEADER_BYTES + len;
}

/* Forgets segment i: its unacked records become dropped (count_drops) or were all acked. */
static void remove_segment(struct spool *s, size_t i, bool count_drops)
{
	struct segment *g = &s->segs[i];
	for (uint32_t r = 0; r < g->nrecords; r++) {
		if (g->flags[r] & FLAG_ACKED)
			continue;
		unsigned t = g->flags[r] & FLAG_TYPE;
		s->st.records--;
		s->st.records_by_type[t]--;
		if (count_drops) {
			s->st.dropped++;
			s->st.dropped_by_type[t]++;
		}
	}
	char name[NAME_CAP];
	segment_name(g->seq, "", name, sizeof name);
	unlinkat(s->dirfd, name, 0);
	s->st.bytes -= g->bytes;
	if (i == s->nsegs - 1 && s->append_fd >= 0) {
		close(s->append_fd);
		s->append_fd = -1;
	}
	if (s->read_fd >= 0 && s->read_seq == g->seq) {
		close(s->read_fd);
		s->read_fd = -1;
	}
	free(g->flags);
	memmove(g, g + 1, (s->nsegs - i - 1) * sizeof *g);
	s->nsegs--;
}

static struct segment *add_segment(struct spool *s, uint64_t seq)
{
	if (s->nsegs == s->segs_cap) {
		size_t cap = s->segs_cap ? s->segs_cap * 2 : 16;
		struct segment *p = s->nsegs < MAX_SEGMENTS ? realloc(s->segs, cap * sizeof *p) : NULL;
		if (!p)
			return NULL;
		s->segs = p;
		s->segs_cap = cap;
	}
	struct segment *g = &s->segs[s->nsegs++];
	memset(g, 0, sizeof *g);
	g->seq = seq;
	g->first_id = s->next_id;
	if (seq >= s->next_seq)
		s->next_seq = seq + 1;
	return g;
}

static int start_segment(struct spool *s)
{
	char name[NAME_CAP];
	segment_name(s->next_seq, "", name, sizeof name);
	int fd =
	    openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (!add_segment(s, s->next_seq)) {
		close(fd);
		unlinkat(s->dirfd, name, 0);
		return -1;
	}
	s->append_fd = fd;
	return 0;
}

static void count_drop(struct spool *s, uint8_t type)
{
	s->st.dropped++;
	if (type < SPOOL_TYPES)
		s->st.dropped_by_type[type]++;
}

int spool_append(struct spool *s, uint8_t type, const char *key, size_t keylen, const char *payload,
                 size_t len)
{
	uint64_t body = (uint64_t)BODY_FIXED + keylen + len, total = HEADER_BYTES + body;
	if (type >= SPOOL_TYPES || keylen > 0xffff || body > MAX_BODY || total > s->max_bytes) {
		count_drop(s, type);
		return -1;
	}
	while (s->nsegs > 0 && s->st.bytes + total > s->max_bytes) /* room: the oldest whole segments go */
		remove_segment(s, 0, true);
	struct segment *last = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
	if (s->append_fd >= 0 && last && last->bytes > 0 && last->bytes + total > s->segment_bytes) {
		close(s->append_fd);
		s->append_fd = -1;
	}
	if (s->append_fd < 0)
		start_segment(s);
	if (s->append_fd < 0 || reserve(s, (size_t)total) != 0) {
		count_drop(s, type);
		return -1;
	}
	struct segment *g = &s->segs[s->nsegs - 1];
	unsigned char *p = s->buf;
	p[HEADER_BYTES] = type;
	p[HEADER_BYTES + 1] = (unsigned char)keylen;
	p[HEADER_BYTES + 2] = (unsigned char)(keylen >> 8);
	if (keylen)
		memcpy(p + HEADER_BYTES + BODY_FIXED, key, keylen);
	if (len)
		memcpy(p + HEADER_BYTES + BODY_FIXED + keylen, payload, len);
	put_u32(p, RECORD_MAGIC);
	put_u32(p + 4, (uint32_t)body);
	put_u32(p + 8, crc32_ieee(p + HEADER_BYTES, (size_t)body));
	if (push_flag(g, type) != 0) {
		count_drop(s, type);
		return -1;
	}
	if (write_full(s->append_fd, p, (size_t)total) != 0) {
		g->nrecords--;
		/* Cut a partial write off; if even that fails, the next open finds the torn tail. Either way
		 * appends continue in a new segment. */
		int cut = ftruncate(s->append_fd, (off_t)g->bytes);
		(void)cut;
		close(s->append_fd);
		s->append_fd = -1;
		count_drop(s, type);
		return -1;
	}
	g->bytes += total;
	s->next_id++;
	s->st.bytes += total;
	s->st.records++;
	s->st.records_by_type[type]++;
	s->st.appended++;
	return 0;
}

static struct segment *find_segment(struct spool *s, uint64_t id, size_t *index)
{
	for (size_t i = 0; i < s->nsegs; i++) {
		struct segment *g = &s->segs[i];
		if (id < g->first_id)
			return NULL;
		if (id < g->first_id + g->nrecords) {
			if (index)
				*index = i;
			return g;
		}
	}
	return NULL;
}

int spool_ack(struct spool *s, uint64_t id)
{
	size_t i;
	struct segment *g = find_segment(s, id, &i);
	if (!g || (g->flags[id - g->first_id] & FLAG_ACKED))
		return -1;
	unsigned t = g->flags[id - g->first_id] & FLAG_TYPE;
	g->flags[id - g->first_id] |= FLAG_ACKED;
	g->nacked++;
	s->st.records--;
	s->st.records_by_type[t]--;
	s->st.acked++;
	if (g->nacked == g->nrecords)
		remove_segment(s, i, false);
	return 0;
}

/* Gives up the rest of a segment that can no longer be read: its records are dropped, counted. */
static void abandon_segment(struct spool *s, size_t i)
{
	s->st.corrupt++;
	remove_segment(s, i, true);
}

static int open_for_read(struct spool *s, const struct segment *g)
{
	if (s->read_fd >= 0 && s->read_seq == g->seq)
		return 0;
	if (s->read_fd >= 0)
		close(s->read_fd);
	char name[NAME_CAP];
	segment_name(g->seq, "", name, sizeof name);
	s->read_fd = open_segment(s, name, O_RDONLY);
	s->read_seq = g->seq;
	return s->read_fd >= 0 ? 0 : -1;
}

/* Moves the cursor onto the segment holding cur_id (or the next one); NULL when no record is left. */
static struct segment *cursor_segment(struct spool *s, size_t *index)
{
	for (size_t i = 0; i < s->nsegs; i++) {
		struct segment *g = &s->segs[i];
		if (s->cur_id >= g->first_id + g->nrecords)
			continue;
		if (s->cur_id < g->first_id || s->cur_seq != g->seq) {
			s->cur_id = g->first_id;
			s->cur_off = 0;
			s->cur_seq = g->seq;
		}
		*index = i;
		return g;
	}
	return NULL;
}

int spool_next(struct spool *s, uint64_t *id, uint8_t *type, const char **key, size_t *keylen,
               const char **payload, size_t *len)
{
	size_t i;
	struct segment *g;
	while ((g = cursor_segment(s, &i)) != NULL) {
		int64_t n = open_for_read(s, g) == 0 ? read_record(s, s->read_fd, s->cur_off, g->bytes) : -1;
		if (n <= 0) { /* changed under us (truncated, removed): what is left of it is lost */
			abandon_segment(s, i);
			continue;
		}
		uint64_t this_id = s->cur_id;
		uint8_t flag = g->flags[this_id - g->first_id];
		s->cur_id++;
		s->cur_off += (uint64_t)n;
		if (flag & FLAG_ACKED)
			continue;
		size_t klen = (size_t)s->buf[1] | (size_t)s->buf[2] << 8;
		size_t body = (size_t)n - HEADER_BYTES;
		*id = this_id;
		*type = s->buf[0];
		*key = (const char *)s->buf + BODY_FIXED;
		*keylen = klen;
		*payload = (const char *)s->buf + BODY_FIXED + klen;
		*len = body - BODY_FIXED - klen;
		return 0;
	}
	return -1;
}

void spool_rewind(struct spool *s)
{
	s->cur_id = s->nsegs ? s->segs[0].first_id : s->next_id;
	s->cur_off = 0;
	s->cur_seq = s->nsegs ? s->segs[0].seq : 0;
}

const struct spool_stats *spool_stats(const struct spool *s)
{
	return &s->st;
}

static int compare_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The sequence numbers of the segment files, sorted; leftovers of an interrupted compaction are removed. */
static int list_segments(struct spool *s, uint64_t **seqs, size_t *n)
{
	int fd = dup(s->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t cap = 0;
	struct dirent *e;
	*seqs = NULL;
	*n = 0;
	while ((e = readdir(d)) != NULL) {
		uint64_t seq;
		int used = 0;
		if (strlen(e->d_name) < 26 || strncmp(e->d_name, "spool-", 6) != 0 ||
		    sscanf(e->d_name + 6, "%16" SCNx64 "%n", &seq, &used) != 1 || used != 16)
			continue;
		if (strcmp(e->d_name + 22, ".seg.tmp") == 0) { /* an unfinished rewrite, the .seg is intact */
			unlinkat(s->dirfd, e->d_name, 0);      /* the name only: never followed */
			continue;
		}
		if (strcmp(e->d_name + 22, ".seg") != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *p = *n < MAX_SEGMENTS ? realloc(*seqs, cap * sizeof *p) : NULL;
			if (!p) {
				closedir(d);
				return -1;
			}
			*seqs = p;
		}
		(*seqs)[(*n)++] = seq;
	}
	closedir(d);
	if (*n)
		qsort(*seqs, *n, sizeof **seqs, compare_seq);
	return 0;
}

/*
 * Opens a segment found at start for recovery. An entry that is not a plain file of ours (a symbolic or
 * hard link, a fifo, someone else's file: planted, since the spool only ever creates plain files) is
 * counted as corrupt and its name removed, never followed: root must not read or truncate through it.
 * With a run user, the segment becomes theirs, so that it can be replayed after the drop.
 */
static int open_recovered(struct spool *s, uint64_t seq, struct stat *st)
{
	char name[NAME_CAP];
	segment_name(seq, "", name, sizeof name);
	int fd = open_segment(s, name, O_RDWR);
	if (fd < 0) {
		if (errno != ELOOP && errno != EPERM && errno != ENXIO && errno != EISDIR)
			return -1;
		s->st.corrupt++;
		unlinkat(s->dirfd, name, 0);
		return -2;
	}
	if (fstat(fd, st) != 0 ||
	    (s->owner.set && (st->st_uid != s->owner.uid || st->st_gid != s->owner.gid) &&
	     fchown(fd, s->owner.uid, s->owner.gid) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one segment file into the index; a torn or corrupt tail is counted and cut off. */
static int recover_segment(struct spool *s, uint64_t seq)
{
	struct stat st;
	int fd = open_recovered(s, seq, &st);
	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	struct segment *g = add_segment(s, seq);
	uint64_t off = 0, size = (uint64_t)st.st_size;
	int64_t n;
	while (g && (n = read_record(s, fd, off, size)) > 0) {
		if (push_flag(g, s->buf[0]) != 0)
			break;
		off += (uint64_t)n;
		s->next_id++;
		s->st.records++;
		s->st.recovered++;
		s->st.records_by_type[s->buf[0]]++;
		s->st.recovered_by_type[s->buf[0]]++;
	}
	if (off < size) { /* torn last record (a crash while writing), or damage: never read as an event */
		s->st.corrupt++;
		int cut = ftruncate(fd, (off_t)off);
		(void)cut;
	}
	close(fd);
	if (!g)
		return -1;
	g->bytes = off;
	s->st.bytes += off;
	if (g->nrecords == 0)
		remove_segment(s, s->nsegs - 1, false);
	return 0;
}

struct spool *spool_open(const char *dir, uint64_t max_bytes, uint64_t segment_bytes, char *err,
                         size_t errlen)
{
	return spool_open_owned(dir, max_bytes, segment_bytes, NULL, err, errlen);
}

struct spool *spool_open_owned(const char *dir, uint64_t max_bytes, uint64_t segment_bytes,
                               const struct private_dir_owner *owner, char *err, size_t errlen)
{
	struct spool *s = calloc(1, sizeof *s);
	if (!s || !(s->dir = strdup(dir))) {
		snprintf(err, errlen, "%s: out of memory", dir);
		free(s);
		return NULL;
	}
	if (owner)
		s->owner = *owner;
	s->max_bytes = max_bytes;
	s->segment_bytes = segment_bytes ? segment_bytes : 1;
	s->append_fd = s->read_fd = s->dirfd = -1;
	s->next_id = 1;
	uint64_t *seqs = NULL;
	size_t n = 0;
	if ((s->dirfd = private_dir_open(dir, true, 0750, &s->owner, err, errlen)) < 0)
		goto fail;
	if (list_segments(s, &seqs, &n) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (recover_segment(s, seqs[i]) != 0) {
			snprintf(err, errlen, "%s: segment %016" PRIx64 ": %s", dir, seqs[i],
			         strerror(errno));
			goto fail;
		}
	}
	free(seqs);
	spool_rewind(s);
	return s;
fail:
	free(seqs);
	spool_close(s);
	return NULL;
}

/* Rewrites a partly acked segment with only its unacked records, so a restart does not send the others again.
 */
static void compact_segment(struct spool *s, struct segment *g)
{
	char name[NAME_CAP], tmp[NAME_CAP];
	segment_name(g->seq, "", name, sizeof name);
	segment_name(g->seq, ".tmp", tmp, sizeof tmp);
	unlinkat(s->dirfd, tmp, 0);
	int in = open_segment(s, name, O_RDONLY);
	int out = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	uint64_t off = 0;
	bool ok = in >= 0 && out >= 0;
	for (uint32_t r = 0; ok && r < g->nrecords; r++) {
		int64_t n = read_record(s, in, off, g->bytes);
		ok = n > 0;
		if (ok && !(g->flags[r] & FLAG_ACKED)) {
			unsigned char h[HEADER_BYTES];
			ok = pread_full(in, h, HEADER_BYTES, off) == HEADER_BYTES &&
			     write_full(out, h, HEADER_BYTES) == 0 &&
			     write_full(out, s->buf, (size_t)n - HEADER_BYTES) == 0;
		}
		off += ok ? (uint64_t)n : 0;
	}
	ok = ok && fsync(out) == 0;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0)
		ok = false;
	if (out >= 0 && (!ok || renameat(s->dirfd, tmp, s->dirfd, name) != 0))
		unlinkat(s->dirfd, tmp, 0); /* the whole segment stays: its acked records may be sent twice */
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	if (s->append_fd >= 0) {
		fdatasync(s->append_fd);
		close(s->append_fd);
	}
	if (s->read_fd >= 0)
		close(s->read_fd);
	for (size_t i = 0; i < s->nsegs; i++) {
		struct segment *g = &s->segs[i];
		if (g->nrecords == 0) {
			char name[NAME_CAP];
			segment_name(g->seq, "", name, sizeof name);
			unlinkat(s->dirfd, name, 0);
		} else if (g->nacked > 0) {
			compact_segment(s, g);
		}
		free(g->flags);
	}
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->segs);
	free(s->buf);
	free(s->dir);
	free(s);
}
