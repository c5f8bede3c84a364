/*
 * sealed_session.c: a session record and what it points to, copied into one
 * heap block (see sealed_session.h). Owns each block it makes.
 */
#include "sensor/workers/sealed_session.h"

#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/smtp.h"
#include "parsers/tls.h"
#include "sensor/app/classify.h"
#include "sensor/app/zero_pack.h"

/* The record up to its alert list: the rules fill that on the finisher, and it is most of the record. */
#define SEALED_HEAD offsetof(struct session, alerts)
_Static_assert(SEALED_HEAD + sizeof(struct alert_list) <= sizeof(struct session) &&
                   sizeof(struct session) - SEALED_HEAD - sizeof(struct alert_list) < 16,
               "the alert list is the record's last member");

enum {
	SEALED_NAME_MAX = 64,     /* an nDPI risk name ("Known Protocol on Non Standard Port": 36) */
	SEALED_INGRESS_MAX = 256, /* an interface name as events keep it (PCAPNG_NAME_MAX) */
};

struct sealed_recycler {
	pthread_mutex_t lock;
	struct sealed_session *spare;
	unsigned count, max;
};

struct sealed_session {
	struct sealed_session *next; /* the list it is on (worker_pool's outboxes, a recycler's spares) */
	struct sealed_recycler *recycler; /* where it goes back, NULL: freed */
	size_t cap;                       /* bytes of the block */
	uint64_t order_us;
	uint64_t flow_seq;
	uint64_t start_us; /* the tie-breakers of sealed_session_compare, beside the packed record */
	struct ip_addr client_ip, server_ip;
	uint16_t client_port, server_port;
	unsigned worker;
	bool mail, has_ingress, has_smtp, has_tls, has_application, has_other;
	size_t size;
	char ingress[SEALED_INGRESS_MAX];
	char application[CLASSIFY_PROTOCOL_MAX];
	char other_protocol[CLASSIFY_PROTOCOL_MAX];
	char risk_names[CLASSIFY_MAX_RISKS][SEALED_NAME_MAX];
	const char *risks[CLASSIFY_MAX_RISKS];
	size_t n_risks;
	uint8_t *
	    tail; /* the TLS observation's DER chain and fingerprint lists (its own heap block), NULL: none */
	/* the record up to its alerts, the SMTP and the TLS observation, each without its zero runs
	 * (zero_pack: a session's are mostly zeros, 36 KB in all, 1 to 3 KB packed) */
	size_t head_len, smtp_len, tls_len;
	uint8_t packed[];
};

/* The TLS observation's fingerprint lists, in one order for sizing and copying. */
static struct tls_value_list *fp_list(struct tls_fingerprint_input *fp, int i)
{
	struct tls_value_list *all[] = {
	    &fp->ciphers,          &fp->extensions,           &fp->groups,
	    &fp->point_formats,    &fp->signature_algorithms, &fp->supported_versions,
	    &fp->server_extensions};
	return i < (int)(sizeof all / sizeof all[0]) ? all[i] : NULL;
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Bytes the tail needs: every certificate, then every list's values. */
static size_t tail_size(const struct tls_observation *t)
{
	if (!t)
		return 0;
	size_t n = 0;
	for (unsigned i = 0; i < t->cert_count && i < TLS_MAX_CERTS; i++)
		if (t->cert_der[i])
			n += align8(t->cert_len[i]);
	struct tls_fingerprint_input fp = t->fp;
	struct tls_value_list *l;
	for (int i = 0; (l = fp_list(&fp, i)) != NULL; i++)
		if (l->v)
			n += align8((size_t)l->count * sizeof l->v[0]);
	return n;
}

/* t is a copy of an observation: its pointers are moved into tail (tail_size bytes). */
static void copy_tls_pointers(struct tls_observation *t, uint8_t *tail)
{
	uint8_t *at = tail;
	for (unsigned i = 0; i < TLS_MAX_CERTS; i++) {
		if (i >= t->cert_count || !t->cert_der[i]) {
			t->cert_der[i] = NULL;
			continue;
		}
		memcpy(at, t->cert_der[i], t->cert_len[i]);
		t->cert_der[i] = at;
		at += align8(t->cert_len[i]);
	}
	struct tls_value_list *l;
	for (int i = 0; (l = fp_list(&t->fp, i)) != NULL; i++) {
		if (!l->v) {
			l->count = l->cap = 0;
			continue;
		}
		uint16_t *v = (uint16_t *)(void *)at;
		memcpy(v, l->v, (size_t)l->count * sizeof l->v[0]);
		l->v = v;
		l->cap = l->count;
		at += align8((size_t)l->count * sizeof l->v[0]);
	}
}

/* nDPI's names and the ingress, which live in the worker's buffers and its interned names. */
static void copy_names(struct sealed_session *ss, const struct session *sess, const char *ingress)
{
	if ((ss->has_ingress = ingress != NULL))
		snprintf(ss->ingress, sizeof ss->ingress, "%s", ingress);
	if ((ss->has_application = sess->application != NULL))
		snprintf(ss->application, sizeof ss->application, "%s", sess->application);
	if ((ss->has_other = sess->other_protocol != NULL))
		snprintf(ss->other_protocol, sizeof ss->other_protocol, "%s", sess->other_protocol);
	ss->n_risks =
	    sess->n_application_risks < CLASSIFY_MAX_RISKS ? sess->n_application_risks : CLASSIFY_MAX_RISKS;
	for (size_t i = 0; i < ss->n_risks; i++) {
		snprintf(ss->risk_names[i], sizeof ss->risk_names[i], "%s",
		         sess->application_risks[i] ? sess->application_risks[i] : "");
		ss->risks[i] = ss->risk_names[i];
	}
}

struct sealed_recycler *sealed_recycler_new(unsigned max)
{
	struct sealed_recycler *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->max = max;
	return r;
}

void sealed_recycler_free(struct sealed_recycler *r)
{
	if (!r)
		return;
	while (r->spare) {
		struct sealed_session *next = r->spare->next;
		free(r->spare);
		r->spare = next;
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* A block of at least need bytes: a spare when the first one is large enough (blocks vary by their tail). */
static struct sealed_session *take_block(struct sealed_recycler *r, size_t need, size_t *cap)
{
	struct sealed_session *ss = NULL;
	if (r) {
		pthread_mutex_lock(&r->lock);
		if ((ss = r->spare) != NULL) {
			r->spare = ss->next;
			r->count--;
		}
		pthread_mutex_unlock(&r->lock);
	}
	if (ss && ss->cap >= need && ss->cap <= 2 * need) {
		*cap = ss->cap;
		return ss;
	}
	free(ss);
	*cap = (need + 1023) & ~(size_t)1023; /* whole KiB: the next sessions can mostly reuse it */
	return malloc(*cap);
}

struct sealed_session *sealed_session_new(const struct session *sess, bool mail, const char *ingress,
                                          struct sealed_order order, unsigned worker)
{
	return sealed_session_new_from(NULL, sess, mail, ingress, order, worker);
}

/* The three parts packed, each into a heap buffer (freed by the caller). false: out of memory. */
static bool pack_parts(const struct session *sess, const struct tls_observation *tls, uint8_t *part[3],
                       size_t len[3])
{
	part[0] = zero_pack(sess, SEALED_HEAD, &len[0]);
	part[1] = sess->smtp ? zero_pack(sess->smtp, sizeof *sess->smtp, &len[1]) : NULL;
	part[2] = tls ? zero_pack(tls, sizeof *tls, &len[2]) : NULL;
	if (!sess->smtp)
		len[1] = 0;
	if (!tls)
		len[2] = 0;
	return part[0] && (part[1] || !sess->smtp) && (part[2] || !tls);
}

static void fill_keys(struct sealed_session *ss, const struct session *sess, struct sealed_order order,
                      unsigned worker, bool mail)
{
	ss->next = NULL;
	ss->order_us = order.us;
	ss->flow_seq = order.flow_seq;
	ss->worker = worker;
	ss->mail = mail;
	ss->start_us = sess->start_us;
	ss->client_ip = sess->client.ip;
	ss->server_ip = sess->server.ip;
	ss->client_port = sess->client.port;
	ss->server_port = sess->server.port;
}

struct sealed_session *sealed_session_new_from(struct sealed_recycler *r, const struct session *sess,
                                               bool mail, const char *ingress, struct sealed_order order,
                                               unsigned worker)
{
	size_t tail = tail_size(sess->tls), cap, len[3] = {0, 0, 0};
	uint8_t *tail_block = tail ? malloc(tail) : NULL, *part[3] = {NULL, NULL, NULL};
	struct tls_observation tls;
	if (sess->tls) {
		tls = *sess->tls;
		copy_tls_pointers(&tls, tail_block);
	}
	struct sealed_session *ss = NULL;
	if ((tail && !tail_block) || !pack_parts(sess, sess->tls ? &tls : NULL, part, len) ||
	    !(ss = take_block(r, sizeof *ss + len[0] + len[1] + len[2], &cap)))
		goto fail;
	ss->recycler = r;
	ss->cap = cap;
	ss->size = sizeof *ss + len[0] + len[1] + len[2] + tail;
	fill_keys(ss, sess, order, worker, mail);
	copy_names(ss, sess, ingress);
	ss->has_smtp = sess->smtp != NULL;
	ss->has_tls = sess->tls != NULL;
	ss->tail = tail_block;
	ss->head_len = len[0];
	ss->smtp_len = len[1];
	ss->tls_len = len[2];
	size_t at = 0;
	for (int k = 0; k < 3; k++) {
		if (len[k])
			memcpy(ss->packed + at, part[k], len[k]);
		at += len[k];
		free(part[k]);
	}
	return ss;
fail:
	for (int k = 0; k < 3; k++)
		free(part[k]);
	free(tail_block);
	return NULL;
}

void sealed_session_open(struct sealed_session *ss, struct sealed_opened *out)
{
	struct session *sess = &out->sess;
	const uint8_t *p = ss->packed;
	/* Packed by us from these very sizes: an unpack cannot fail but on a bug. */
	bool ok = zero_unpack(p, ss->head_len, sess, SEALED_HEAD);
	p += ss->head_len;
	if (ss->has_smtp)
		ok = zero_unpack(p, ss->smtp_len, &out->smtp, sizeof out->smtp) && ok;
	p += ss->smtp_len;
	if (ss->has_tls)
		ok = zero_unpack(p, ss->tls_len, &out->tls, sizeof out->tls) && ok;
	assert(ok);
	(void)ok;
	sess->alerts.count = 0;
	sess->alerts.dropped = 0;
	sess->smtp = ss->has_smtp ? &out->smtp : NULL;
	sess->tls = ss->has_tls ? &out->tls : NULL; /* its DER and lists: in ss's tail */
	sess->application = ss->has_application ? ss->application : NULL;
	sess->other_protocol = ss->has_other ? ss->other_protocol : NULL;
	sess->application_risks = ss->n_risks ? ss->risks : NULL;
	sess->n_application_risks = ss->n_risks;
	sess->partner = NULL; /* the rules' to find */
}

bool sealed_session_mail(const struct sealed_session *ss)
{
	return ss->mail;
}

const char *sealed_session_ingress(const struct sealed_session *ss)
{
	return ss->has_ingress ? ss->ingress : NULL;
}

unsigned sealed_session_worker(const struct sealed_session *ss)
{
	return ss->worker;
}

uint64_t sealed_session_order_us(const struct sealed_session *ss)
{
	return ss->order_us;
}

size_t sealed_session_size(const struct sealed_session *ss)
{
	return ss->size;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

int sealed_session_compare(const struct sealed_session *a, const struct sealed_session *b)
{
	int c;
	if ((c = cmp_u64(a->order_us, b->order_us)) || (c = cmp_u64(a->start_us, b->start_us)) ||
	    (c = cmp_u64(a->flow_seq, b->flow_seq)) || (c = ip_addr_compare(&a->client_ip, &b->client_ip)) ||
	    (c = cmp_u64(a->client_port, b->client_port)) ||
	    (c = ip_addr_compare(&a->server_ip, &b->server_ip)))
		return c;
	return cmp_u64(a->server_port, b->server_port);
}

void sealed_session_free(struct sealed_session *ss)
{
	if (!ss)
		return;
	free(ss->tail);
	ss->tail = NULL;
	struct sealed_recycler *r = ss->recycler;
	if (r) {
		pthread_mutex_lock(&r->lock);
		bool kept = r->count < r->max;
		if (kept) {
			ss->next = r->spare;
			r->spare = ss;
			r->count++;
		}
		pthread_mutex_unlock(&r->lock);
		if (kept)
			return;
	}
	free(ss);
}

struct sealed_session *sealed_session_next(const struct sealed_session *ss)
{
	return ss->next;
}

void sealed_session_set_next(struct sealed_session *ss, struct sealed_session *next)
{
	ss->next = next;
}
