/*
 * test_pcap_file.c: classic pcap files read in shared blocks give what
 * libpcap gives, packet for packet (time, lengths, bytes) and error for error
 * ("truncated dump file; ...", "invalid packet capture length ..."), over every
 * fixture and synthetic files (big-endian, nanoseconds, records above the
 * snapshot length), whatever the block size (records straddling blocks,
 * records larger than a block); blocks a consumer holds stay valid after the
 * file is closed, and past shared_max held blocks the reader goes on in copy
 * mode (packets without a block) until blocks come back.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/capture/pcap_file.h"
#include "test_support.h"

struct packet_copy {
	uint64_t ts_us;
	uint32_t caplen, len;
	uint8_t *data;
};

struct reading {
	struct packet_copy *p;
	size_t n, cap;
	int end; /* 0: the end of the file; -1: an error */
	char err[512];
};

static void keep(struct reading *r, uint64_t ts, uint32_t caplen, uint32_t len, const uint8_t *data)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->p = realloc(r->p, r->cap * sizeof *r->p);
		cr_assert_not_null(r->p);
	}
	uint8_t *copy = malloc(caplen ? caplen : 1);
	cr_assert_not_null(copy);
	memcpy(copy, data, caplen);
	r->p[r->n++] = (struct packet_copy){ts, caplen, len, copy};
}

static void reading_free(struct reading *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->p[i].data);
	free(r->p);
	memset(r, 0, sizeof *r);
}

static void read_with_libpcap(const char *path, struct reading *r)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	cr_assert_not_null(p, "%s: %s", path, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1)
		keep(r, (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec, h->caplen, h->len, data);
	r->end = rc == PCAP_ERROR_BREAK ? 0 : -1;
	if (rc == PCAP_ERROR)
		snprintf(r->err, sizeof r->err, "%s", pcap_geterr(p));
	pcap_close(p);
}

/* false: not a file pcap_file takes */
static bool read_in_blocks(const char *path, size_t block_size, unsigned shared_max, struct reading *r)
{
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	char err[512];
	struct pcap_file *f = pcap_file_from_fd(fd, block_size, shared_max, err, sizeof err);
	if (!f) {
		cr_assert_str_empty(err, "%s: %s", path, err);
		return false;
	}
	struct pcap_file_packet p;
	int rc;
	while ((rc = pcap_file_next(f, &p, r->err, sizeof r->err)) == 1) {
		cr_assert_leq(p.rec.caplen, p.rec.stored);
		keep(r, p.rec.ts_us, p.rec.caplen, p.rec.len, p.data);
	}
	r->end = rc;
	if (rc == -1)
		cr_assert(r->err[0], "an error says why");
	pcap_file_close(f);
	return true;
}

static void assert_same(const char *what, const struct reading *a, const struct reading *b)
{
	cr_assert_eq(a->n, b->n, "%s: %zu packets from libpcap, %zu in blocks", what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		cr_assert_eq(a->p[i].ts_us, b->p[i].ts_us, "%s: packet %zu time", what, i);
		cr_assert_eq(a->p[i].caplen, b->p[i].caplen, "%s: packet %zu caplen", what, i);
		cr_assert_eq(a->p[i].len, b->p[i].len, "%s: packet %zu len", what, i);
		cr_assert(memcmp(a->p[i].data, b->p[i].data, a->p[i].caplen) == 0, "%s: packet %zu bytes",
		          what, i);
	}
	cr_assert_eq(a->end, b->end, "%s: libpcap ends %d (%s), blocks %d (%s)", what, a->end, a->err, b->end,
	             b->err);
	if (a->end < 0)
		cr_assert_str_eq(a->err, b->err, "%s: the same words as libpcap", what);
}

static const size_t BLOCK_SIZES[] = {0, 40, 1000, 4096, 65536};

static void assert_like_libpcap(const char *path)
{
	struct reading want = {0};
	read_with_libpcap(path, &want);
	for (size_t i = 0; i < sizeof BLOCK_SIZES / sizeof BLOCK_SIZES[0]; i++) {
		struct reading got = {0};
		char what[600];
		snprintf(what, sizeof what, "%s, blocks of %zu", path, BLOCK_SIZES[i]);
		cr_assert(read_in_blocks(path, BLOCK_SIZES[i], 0, &got), "%s: a classic pcap file", what);
		assert_same(what, &want, &got);
		reading_free(&got);
	}
	reading_free(&want);
}

/* Every classic pcap file under dir (and its subdirectories, to depth levels): how many were compared. */
static unsigned compare_tree(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	unsigned files = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			if (depth > 0)
				files += compare_tree(path, depth - 1);
			continue;
		}
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".pcap") != 0)
			continue;
		uint8_t hdr[PCAP_FILE_HEADER_LEN];
		struct pcap_format fmt;
		FILE *f = fopen(path, "rb");
		bool classic = f && fread(hdr, 1, sizeof hdr, f) == sizeof hdr &&
		               pcap_record_format(hdr, sizeof hdr, &fmt);
		if (f)
			fclose(f);
		if (!classic)
			continue;
		assert_like_libpcap(path);
		files++;
	}
	closedir(d);
	return files;
}

Test(pcap_file, every_fixture_and_corpus_capture_reads_as_libpcap_reads_it)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s", test_source_path("tests/fixtures"));
	cr_assert_gt(compare_tree(dir, 0), 20, "the fixtures are classic pcap files");
	/* The shared corpus (Zeek's, nDPI's, the JA4 project's captures: other link types, byte orders, snap
	 * lengths), when this machine has it, as tests/integration/workers_equivalence.sh finds it. */
	const char *corpus = getenv("TLSOBS_CORPUS") ? getenv("TLSOBS_CORPUS") : "/work/shared/corpus";
	unsigned more = compare_tree(corpus, 3);
	cr_log_info("%u corpus captures compared", more);
}

/* A synthetic capture: records of the given stored lengths, each byte from its record and offset. */
static void write_capture(const char *path, uint32_t magic, bool little, uint32_t snaplen,
                          const uint32_t *stored, size_t n, size_t cut_at)
{
	uint8_t *buf = malloc(PCAP_FILE_HEADER_LEN + n * (PCAP_RECORD_HEADER_LEN + 300000));
	cr_assert_not_null(buf);
	size_t at = 0;
	uint32_t words[] = {magic, 2u | 4u << 16, 0, 0, snaplen, 1};
	for (size_t w = 0; w < 6; w++) {
		uint32_t v = words[w];
		if (w == 1) { /* major, minor: two 16-bit fields */
			uint8_t *p = buf + at;
			p[little ? 0 : 1] = 2, p[little ? 1 : 0] = 0, p[little ? 2 : 3] = 4,
			               p[little ? 3 : 2] = 0;
			at += 4;
			continue;
		}
		for (int i = 0; i < 4; i++)
			buf[at + (little ? i : 3 - i)] = (uint8_t)(v >> (8 * i));
		at += 4;
	}
	for (size_t k = 0; k < n; k++) {
		uint32_t fields[] = {1700000000u + (uint32_t)k, magic == 0xa1b23c4du ? 999999999u : 999999u,
		                     stored[k], stored[k] + 10};
		for (size_t w = 0; w < 4; w++, at += 4)
			for (int i = 0; i < 4; i++)
				buf[at + (little ? i : 3 - i)] = (uint8_t)(fields[w] >> (8 * i));
		if (stored[k] > 270000)
			break; /* a record libpcap refuses: its header is enough */
		for (uint32_t i = 0; i < stored[k]; i++)
			buf[at + i] = (uint8_t)(k * 31 + i);
		at += stored[k];
	}
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(buf, 1, cut_at && cut_at < at ? cut_at : at, f),
	             cut_at && cut_at < at ? cut_at : at);
	fclose(f);
	free(buf);
}

static char *temp_path(const char *name)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/test_pcap_file.XXXXXX");
		cr_assert_not_null(mkdtemp(dir));
	}
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

Test(pcap_file, byte_orders_time_units_snapshot_cuts_and_damage_read_as_libpcap_reads_them)
{
	const uint32_t sizes[] = {60, 1514, 0, 200, 70000, 40, 262144, 3};
	const size_t n = sizeof sizes / sizeof sizes[0];
	for (int little = 0; little < 2; little++) {
		for (int nano = 0; nano < 2; nano++) {
			char *path = temp_path("synthetic.pcap");
			write_capture(path, nano ? 0xa1b23c4du : 0xa1b2c3d4u, little, 65535, sizes, n, 0);
			assert_like_libpcap(path);
		}
	}
	/* a snapshot length below the records: cut to it */
	char *path = temp_path("snap100.pcap");
	write_capture(path, 0xa1b2c3d4u, true, 100, sizes, n, 0);
	assert_like_libpcap(path);
	/* a record libpcap refuses */
	const uint32_t absurd[] = {60, 300000, 60};
	path = temp_path("absurd.pcap");
	write_capture(path, 0xa1b2c3d4u, true, 65535, absurd, 3, 0);
	assert_like_libpcap(path);
	/* cut inside a record's header, and inside its bytes */
	size_t whole = PCAP_FILE_HEADER_LEN + 2 * PCAP_RECORD_HEADER_LEN + 60 + 1514;
	const size_t cuts[] = {whole + 5, whole + PCAP_RECORD_HEADER_LEN, whole - 100, PCAP_FILE_HEADER_LEN};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		path = temp_path("cut.pcap");
		write_capture(path, 0xa1b2c3d4u, true, 65535, sizes, n, cuts[i]);
		assert_like_libpcap(path);
	}
}

Test(pcap_file, held_blocks_outlive_the_file_and_copy_mode_takes_over_past_shared_max)
{
	uint32_t sizes[400];
	for (size_t i = 0; i < 400; i++)
		sizes[i] = (uint32_t)(50 + i * 7 % 900);
	char *path = temp_path("held.pcap");
	write_capture(path, 0xa1b2c3d4u, true, 65535, sizes, 400, 0);
	struct reading want = {0};
	read_with_libpcap(path, &want);

	int fd = open(path, O_RDONLY);
	char err[256];
	struct pcap_file *f = pcap_file_from_fd(fd, 4096, 3, err, sizeof err);
	cr_assert_not_null(f, "%s", err);
	struct {
		struct capture_block *block;
		const uint8_t *data;
		size_t index;
	} held[400];
	size_t nheld = 0, copies = 0, shared_after_release = 0, i = 0;
	struct pcap_file_packet p;
	while (pcap_file_next(f, &p, err, sizeof err) == 1) {
		cr_assert(memcmp(p.data, want.p[i].data, want.p[i].caplen) == 0, "packet %zu", i);
		if (!p.block)
			copies++;
		else if (i >= 300)
			shared_after_release++;
		else if (i < 200) { /* held: the reader runs out of shared blocks */
			capture_block_retain(p.block);
			held[nheld++] = (typeof(held[0])){p.block, p.data, i};
		}
		if (i == 299) /* all but one let go: the reader gets shared blocks again */
			for (size_t k = 1; k < nheld; k++)
				capture_block_release(held[k].block), held[k].block = NULL;
		i++;
	}
	cr_assert_eq(i, 400);
	cr_assert_gt(copies, 0, "past 3 blocks out: copy mode");
	cr_assert_gt(shared_after_release, 0, "blocks came back: shared again");
	cr_assert_gt(nheld, 1);
	pcap_file_close(f);
	for (size_t k = 0; k < nheld; k++) { /* still there after the close, until released */
		if (!held[k].block)
			continue;
		cr_assert(memcmp(held[k].data, want.p[held[k].index].data, want.p[held[k].index].caplen) ==
		          0);
		capture_block_release(held[k].block);
	}
	reading_free(&want);
}

Test(pcap_file, a_file_that_is_not_classic_pcap_is_left_to_libpcap)
{
	int fd = open(test_source_path("tests/fixtures/demo.pcap"), O_RDONLY);
	cr_assert_geq(fd, 0);
	char err[256];
	struct pcap_file *f = pcap_file_from_fd(fd, 0, 0, err, sizeof err);
	cr_assert_not_null(f);
	pcap_file_close(f);
	char *path = temp_path("ng.pcapng");
	FILE *out = fopen(path, "wb");
	const uint8_t shb[28] = {0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0,    0,    0x4d, 0x3c,
	                         0x2b, 0x1a, 1,    0,    0,  0, 0xff, 0xff, 0xff, 0xff,
	                         0xff, 0xff, 0xff, 0xff, 28, 0, 0,    0};
	fwrite(shb, 1, sizeof shb, out);
	fclose(out);
	fd = open(path, O_RDONLY);
	cr_assert_null(pcap_file_from_fd(fd, 0, 0, err, sizeof err));
	cr_assert_str_empty(err, "not ours, not an error");
	path = temp_path("short.pcap");
	out = fopen(path, "wb");
	fwrite(shb, 1, 10, out);
	fclose(out);
	fd = open(path, O_RDONLY);
	cr_assert_null(pcap_file_from_fd(fd, 0, 0, err, sizeof err));
	cr_assert_str_empty(err);
}
