/*
 * timed_wait.h: the sensor threads' waits with a deadline (worker_pool.c, history_feed.c,
 * history_handover.c): condition variables on the monotonic clock, so a step of the wall clock (NTP, an
 * operator's date) neither cuts a wait short nor stretches it, and the deadline a wait of N ms ends at.
 */
#ifndef TLSOBS_TIMED_WAIT_H
#define TLSOBS_TIMED_WAIT_H

#include <pthread.h>
#include <time.h>

/* pthread_cond_init on CLOCK_MONOTONIC: its pthread_cond_timedwait takes timed_wait_deadline's times. */
void timed_wait_cond_init(pthread_cond_t *c);
/* Now on CLOCK_MONOTONIC plus ms. */
struct timespec timed_wait_deadline(unsigned ms);

#endif
