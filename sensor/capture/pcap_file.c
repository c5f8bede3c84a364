/*
 * pcap_file.c: classic pcap files read in shared blocks (see pcap_file.h).
 * Owns the file descriptor, the block pool (freed with its last block) and
 * the private block.
 */
#include "sensor/capture/pcap_file.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Blocks kept for reuse rather than freed: as many as may be out (a spare is taken before a new block is
 * made, so no more are ever allocated), since freeing and allocating 512 KiB again costs page faults each
 * time. */
enum { POOL_SPARES = PCAP_FILE_SHARED_MAX };

struct block_pool {
	pthread_mutex_t lock;
	struct capture_block *spare;
	unsigned spares;
	unsigned out;      /* blocks taken and not back yet (the reader's current one included) */
	bool closed;       /* the file is closed: returning blocks are freed, the last one frees the pool */
	size_t block_size; /* the standard size: only those are kept as spares */
};

struct capture_block {
	atomic_uint refs;
	struct block_pool *pool; /* NULL: the private block, never handed out */
	struct capture_block *next;
	size_t cap;
	uint8_t data[];
};

struct pcap_file {
	int fd;
	struct pcap_format fmt;
	struct block_pool *pool;
	unsigned shared_max;
	struct capture_block *cur;  /* the block being read: the reader holds a reference to a shared one */
	struct capture_block *priv; /* copy mode's block (pool NULL), NULL until needed */
	size_t pos, end;            /* cur->data[pos, end): read from the file, not handed out yet */
	bool eof;
};

void capture_block_retain(struct capture_block *b)
{
	atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

static void pool_free(struct block_pool *p)
{
	while (p->spare) {
		struct capture_block *b = p->spare;
		p->spare = b->next;
		free(b);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void capture_block_release(struct capture_block *b)
{
	/* acq_rel: every holder's reads of the block come before the reader writes into it again */
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
		return;
	struct block_pool *p = b->pool;
	pthread_mutex_lock(&p->lock);
	p->out--;
	if (!p->closed && p->spares < POOL_SPARES && b->cap == p->block_size) {
		b->next = p->spare;
		p->spare = b;
		p->spares++;
		b = NULL;
	}
	bool last = p->closed && p->out == 0;
	pthread_mutex_unlock(&p->lock);
	free(b);
	if (last)
		pool_free(p);
}

static struct capture_block *block_alloc(size_t cap)
{
	struct capture_block *b = malloc(sizeof *b + cap);
	if (b) {
		atomic_init(&b->refs, 1);
		b->pool = NULL;
		b->next = NULL;
		b->cap = cap;
	}
	return b;
}

/* A shared block of at least need bytes (the reader's reference taken), or NULL when shared_max are out. */
static struct capture_block *pool_take(struct pcap_file *f, size_t need)
{
	struct block_pool *p = f->pool;
	struct capture_block *b = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->out >= f->shared_max) {
		pthread_mutex_unlock(&p->lock);
		return NULL;
	}
	if (p->spare && p->spare->cap >= need) {
		b = p->spare;
		p->spare = b->next;
		p->spares--;
	}
	p->out++;
	pthread_mutex_unlock(&p->lock);
	if (b) {
		atomic_store_explicit(&b->refs, 1, memory_order_relaxed);
		return b;
	}
	b = block_alloc(need > p->block_size ? need : p->block_size);
	if (b) {
		b->pool = p;
		return b;
	}
	pthread_mutex_lock(&p->lock);
	p->out--;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* The reader lets go of a block it read from (the private block stays). */
static void drop(struct capture_block *b)
{
	if (b && b->pool)
		capture_block_release(b);
}

/* cur is a shared block only the reader holds: it may be written over (the private block is taken only
 * when no shared one is to be had). */
static bool cur_is_ours_alone(const struct pcap_file *f)
{
	return f->cur && f->cur->pool && atomic_load_explicit(&f->cur->refs, memory_order_acquire) == 1;
}

/*
 * At least need bytes from pos on, unless the file ends first: the unread bytes move to the start of a
 * block (cur itself when no one else holds it and it is large enough; else a shared block; else the private
 * block, grown if need be) and the rest of it is read from the file. -1 on a read error or no memory.
 */
static int refill(struct pcap_file *f, size_t need, char *err, size_t errlen)
{
	size_t left = f->end - f->pos;
	struct capture_block *b = f->cur;
	if (cur_is_ours_alone(f) && b->cap >= need) {
		memmove(b->data, b->data + f->pos, left);
	} else {
		size_t size = need > f->pool->block_size ? need : f->pool->block_size;
		if (!(b = pool_take(f, size)))
			b = f->priv && f->priv->cap >= size ? f->priv : block_alloc(size);
		if (!b) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (f->cur)
			memmove(b->data, f->cur->data + f->pos, left); /* b may be cur: the private block */
		if (f->cur != b)
			drop(f->cur);
		if (!b->pool &&
		    b != f->priv) { /* a new private block: the old one (maybe cur) is copied from */
			free(f->priv);
			f->priv = b;
		}
	}
	f->cur = b;
	f->pos = 0;
	f->end = left;
	while (f->end < b->cap && !f->eof) {
		ssize_t n = read(f->fd, b->data + f->end, b->cap - f->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
		if (n == 0)
			f->eof = true;
		f->end += (size_t)n;
	}
	return 0;
}

struct pcap_file *pcap_file_from_fd(int fd, size_t block_size, unsigned shared_max, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	struct pcap_file *f = calloc(1, sizeof *f);
	struct block_pool *p = calloc(1, sizeof *p);
	if (!f || !p) {
		free(f);
		free(p);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->block_size = block_size ? block_size : PCAP_FILE_BLOCK;
	if (p->block_size < PCAP_FILE_HEADER_LEN)
		p->block_size = PCAP_FILE_HEADER_LEN;
	f->fd = fd;
	f->pool = p;
	f->shared_max = shared_max ? shared_max : PCAP_FILE_SHARED_MAX;
	if (refill(f, PCAP_FILE_HEADER_LEN, err, errlen) != 0 ||
	    !pcap_record_format(f->cur->data, f->end, &f->fmt)) {
		pcap_file_close(f); /* err: the read error, or "" (not ours) */
		return NULL;
	}
	f->pos = PCAP_FILE_HEADER_LEN;
	return f;
}

int pcap_file_next(struct pcap_file *f, struct pcap_file_packet *out, char *err, size_t errlen)
{
	if (f->end - f->pos < PCAP_RECORD_HEADER_LEN) {
		if (!f->eof && refill(f, PCAP_RECORD_HEADER_LEN, err, errlen) != 0)
			return -1;
		if (f->end == f->pos)
			return 0;
		if (f->end - f->pos < PCAP_RECORD_HEADER_LEN) {
			snprintf(err, errlen,
			         "truncated dump file; tried to read %d header bytes, only got %zu",
			         PCAP_RECORD_HEADER_LEN, f->end - f->pos);
			return -1;
		}
	}
	if (!pcap_record_header(&f->fmt, f->cur->data + f->pos, &out->rec)) {
		snprintf(err, errlen, "invalid packet capture length %u, bigger than snaplen of %u",
		         out->rec.stored, f->fmt.snaplen);
		return -1;
	}
	size_t need = PCAP_RECORD_HEADER_LEN + (size_t)out->rec.stored;
	if (f->end - f->pos < need) {
		if (!f->eof && refill(f, need, err, errlen) != 0)
			return -1;
		if (f->end - f->pos < need) {
			snprintf(err, errlen,
			         "truncated dump file; tried to read %u captured bytes, only got %zu",
			         out->rec.stored, f->end - f->pos - PCAP_RECORD_HEADER_LEN);
			return -1;
		}
	}
	out->data = f->cur->data + f->pos + PCAP_RECORD_HEADER_LEN;
	out->block = f->cur->pool ? f->cur : NULL;
	f->pos += need;
	return 1;
}

void pcap_file_close(struct pcap_file *f)
{
	if (!f)
		return;
	drop(f->cur);
	free(f->priv);
	struct block_pool *p = f->pool;
	pthread_mutex_lock(&p->lock);
	p->closed = true;
	bool last = p->out == 0;
	pthread_mutex_unlock(&p->lock);
	if (last)
		pool_free(p);
	close(f->fd);
	free(f);
}
