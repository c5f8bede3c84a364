/*
 * sealed_session.c: a session record and what it points to, copied into one
 * heap block (see sealed_session.h). Owns each block it makes.
 */
#include "sensor/workers/sealed_session.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/smtp.h"
#include "parsers/tls.h"
#include "sensor/app/classify.h"

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
	unsigned worker;
	bool mail, has_ingress, has_smtp, has_tls, has_application, has_other;
	size_t size;
	uint64_t start_us; /* the tie-breakers of sealed_session_compare, beside the record's bytes */
	struct ip_addr client_ip, server_ip;
	uint16_t client_port, server_port;
	char ingress[SEALED_INGRESS_MAX];
	char application[CLASSIFY_PROTOCOL_MAX];
	char other_protocol[CLASSIFY_PROTOCOL_MAX];
	char risk_names[CLASSIFY_MAX_RISKS][SEALED_NAME_MAX];
	const char *risks[CLASSIFY_MAX_RISKS];
	size_t n_risks;
	struct smtp_observation smtp;
	struct tls_observation tls;
	_Alignas(max_align_t) unsigned char head[SEALED_HEAD];
	_Alignas(max_align_t) uint8_t tail[]; /* the DER chain, then the fingerprint lists */
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

/* ss->tls is a copy of t: its pointers are moved into the tail. */
static void copy_tls_pointers(struct sealed_session *ss)
{
	struct tls_observation *t = &ss->tls;
	uint8_t *at = ss->tail;
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
	if (ss && ss->cap >= need) {
		*cap = ss->cap;
		return ss;
	}
	free(ss);
	/* Room for a usual chain: the next sessions can reuse it. */
	*cap = need < sizeof *ss + 8192 ? sizeof *ss + 8192 : need;
	return malloc(*cap);
}

struct sealed_session *sealed_session_new(const struct session *sess, bool mail, const char *ingress,
                                          uint64_t order_us, unsigned worker)
{
	return sealed_session_new_from(NULL, sess, mail, ingress, order_us, worker);
}

struct sealed_session *sealed_session_new_from(struct sealed_recycler *r, const struct session *sess,
                                               bool mail, const char *ingress, uint64_t order_us,
                                               unsigned worker)
{
	size_t tail = tail_size(sess->tls), cap;
	struct sealed_session *ss = take_block(r, sizeof *ss + tail, &cap);
	if (!ss)
		return NULL;
	ss->next = NULL;
	ss->recycler = r;
	ss->cap = cap;
	ss->order_us = order_us;
	ss->worker = worker;
	ss->mail = mail;
	ss->size = sizeof *ss + tail;
	memcpy(ss->head, sess, SEALED_HEAD);
	ss->start_us = sess->start_us;
	ss->client_ip = sess->client.ip;
	ss->server_ip = sess->server.ip;
	ss->client_port = sess->client.port;
	ss->server_port = sess->server.port;
	copy_names(ss, sess, ingress);
	if ((ss->has_smtp = sess->smtp != NULL))
		ss->smtp = *sess->smtp;
	if ((ss->has_tls = sess->tls != NULL)) {
		ss->tls = *sess->tls;
		copy_tls_pointers(ss);
	}
	return ss;
}

void sealed_session_open(struct sealed_session *ss, struct session *out)
{
	memcpy(out, ss->head, SEALED_HEAD);
	out->alerts.count = 0;
	out->alerts.dropped = 0;
	out->smtp = ss->has_smtp ? &ss->smtp : NULL;
	out->tls = ss->has_tls ? &ss->tls : NULL;
	out->application = ss->has_application ? ss->application : NULL;
	out->other_protocol = ss->has_other ? ss->other_protocol : NULL;
	out->application_risks = ss->n_risks ? ss->risks : NULL;
	out->n_application_risks = ss->n_risks;
	out->partner = NULL; /* the rules' to find */
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
	    (c = ip_addr_compare(&a->client_ip, &b->client_ip)) ||
	    (c = cmp_u64(a->client_port, b->client_port)) ||
	    (c = ip_addr_compare(&a->server_ip, &b->server_ip)))
		return c;
	return cmp_u64(a->server_port, b->server_port);
}

void sealed_session_free(struct sealed_session *ss)
{
	if (!ss)
		return;
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
