/* Query threads (udp-workers): more UDP sockets on the same addresses
 * (SO_REUSEPORT), each read by a thread of its own, all answering from the
 * same zones.  The main thread keeps TCP, transfers, timers and NOTIFY.
 *
 * Zones and catalogs are read without locks; one the main thread replaces
 * is freed only when every query thread has since passed a quiescent point
 * (between two batches, or asleep): quiescent-state-based reclamation. */
#ifndef ICBIND_WORKERS_H
#define ICBIND_WORKERS_H

#include <stdint.h>

struct server;

/* Start udp-workers - 1 threads (the main thread is the first worker). */
int workers_start(struct server *s);
void workers_stop(struct server *s);

/* Free p with fn once no query thread can still read it (at once if there
 * are none). */
void workers_retire(struct server *s, void *p, void (*fn)(void *));

/* Free what is due; the main loop calls it now and then. */
void workers_reclaim(struct server *s);

/* Add the query threads' counters into sum[ST_N] (stats.h). */
void workers_stats(const struct server *s, uint64_t *sum);

/* A NOTIFY answered by a query thread, handed to the main thread. */
struct notify_event;
/* -1 when the queue is full: then the NOTIFY must go unanswered, so that
 * its sender sends it again (RFC 1996 3.6); an answered one is not. */
int workers_notify(struct server *s, const struct notify_event *ev);
void workers_notify_drain(struct server *s);

#endif
