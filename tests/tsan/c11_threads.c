/*
 * c11_threads.c: C11 threads (thrd_*, mtx_*, cnd_*) on top of pthreads, linked into the ThreadSanitizer
 * build only (tests/tsan/CMakeLists.txt, the top CMakeLists.txt for tlsobs).
 *
 * librdkafka starts its threads with thrd_create and locks with mtx_lock (nm -D: thrd_create@GLIBC_2.34).
 * The TSan runtime of gcc 12 / clang 14 has no interceptors for these (LLVM added thrd_create's in 15): glibc
 * implements them by calling its internal pthread functions, which TSan never sees, so a librdkafka thread
 * has no TSan state and the first intercepted call in it crashes (SEGV at a low address in a librdkafka
 * thread: what kafka_mock_cluster and tlsobs -o kafka did here), and its locks order nothing for TSan.
 * Defined in the executable, these take precedence over glibc's for librdkafka (the executable comes first
 * in symbol lookup), and go through pthread_* calls that TSan intercepts. glibc's thrd_t is a pthread_t,
 * its mtx_t and cnd_t have the layout of pthread_mutex_t and pthread_cond_t.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "glibc's mtx_t is a pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "glibc's cnd_t is a pthread_cond_t");
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "glibc's thrd_t is a pthread_t");

struct start {
	thrd_start_t func;
	void *arg;
};

static void *trampoline(void *p)
{
	struct start s = *(struct start *)p;
	free(p);
	return (void *)(intptr_t)s.func(s.arg);
}

static int status(int err)
{
	return err == 0           ? thrd_success
	       : err == ENOMEM    ? thrd_nomem
	       : err == ETIMEDOUT ? thrd_timedout
	       : err == EBUSY     ? thrd_busy
	                          : thrd_error;
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
	struct start *s = malloc(sizeof *s);
	if (s == NULL)
		return thrd_nomem;
	*s = (struct start){func, arg};
	int err = pthread_create((pthread_t *)thr, NULL, trampoline, s);
	if (err)
		free(s);
	return status(err);
}

int thrd_join(thrd_t thr, int *res)
{
	void *ret;
	int err = pthread_join((pthread_t)thr, &ret);
	if (err == 0 && res)
		*res = (int)(intptr_t)ret;
	return status(err);
}

int thrd_detach(thrd_t thr)
{
	return status(pthread_detach((pthread_t)thr));
}

int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type & mtx_recursive ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL);
	int err = pthread_mutex_init((pthread_mutex_t *)m, &a);
	pthread_mutexattr_destroy(&a);
	return status(err);
}

int mtx_lock(mtx_t *m)
{
	return status(pthread_mutex_lock((pthread_mutex_t *)m));
}

int mtx_trylock(mtx_t *m)
{
	return status(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
	return status(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

int mtx_unlock(mtx_t *m)
{
	return status(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void mtx_destroy(mtx_t *m)
{
	pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
	return status(pthread_cond_init((pthread_cond_t *)c, NULL));
}

int cnd_signal(cnd_t *c)
{
	return status(pthread_cond_signal((pthread_cond_t *)c));
}

int cnd_broadcast(cnd_t *c)
{
	return status(pthread_cond_broadcast((pthread_cond_t *)c));
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
	return status(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts)
{
	return status(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts));
}

void cnd_destroy(cnd_t *c)
{
	pthread_cond_destroy((pthread_cond_t *)c);
}
