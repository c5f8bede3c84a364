/*
 * state_db_peek.h: reads what a sensor/state/state_db.h database file holds,
 * with SQLite directly, for the tests of what the sensor writes there (sensor
 * layer: only sensor tests may call it). The product never reads these back,
 * so they live here, not in state_db. A failing query fails the test.
 */
#ifndef TLSOBS_STATE_DB_PEEK_H
#define TLSOBS_STATE_DB_PEEK_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/state/state_db.h"

/* 1 and *when_us (the last time offered, when not NULL) if the server offered STARTTLS, else 0. */
int state_db_peek_starttls(const char *path, const char *ip, uint16_t port, uint64_t *when_us);

/* The values of one set seen on a server, in first-seen order, into out[0..max); returns how many. */
size_t state_db_peek_values(const char *path, const char *ip, uint16_t port, enum state_server_value kind,
                            char out[][64], size_t max);

#endif
