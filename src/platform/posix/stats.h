/* Query counters, and the report SIGUSR1 writes to the log: the counters
 * since start and each zone's state (as NSD logs its statistics on
 * SIGUSR1).
 *
 * Each thread that answers counts in a set of its own, which only it
 * writes and the main thread reads for the report: relaxed atomic loads
 * and stores, no lock and no locked instruction on the query path. */
#ifndef ICBIND_STATS_H
#define ICBIND_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum stat_kind {
	ST_UDP,       /* queries received over UDP */
	ST_TCP,       /* over TCP */
	ST_NOERROR,   /* responses by rcode */
	ST_FORMERR,
	ST_SERVFAIL,
	ST_NXDOMAIN,
	ST_NOTIMP,
	ST_REFUSED,
	ST_RCODE_OTHER, /* NOTAUTH (TSIG errors), BADVERS */
	ST_TRUNCATED, /* responses sent with TC */
	ST_DROPPED,   /* queries answered with nothing (not a query, malformed header) */
	ST_RRL_DROP,  /* responses rate limiting dropped */
	ST_RRL_SLIP,  /* and sent truncated instead */
	ST_N
};

struct stats {
	_Atomic uint64_t n[ST_N];
};

/* Add by to counter k of a set that only the calling thread writes. */
static inline void stats_add(struct stats *st, enum stat_kind k, uint64_t by)
{
	uint64_t v = atomic_load_explicit(&st->n[k], memory_order_relaxed);
	atomic_store_explicit(&st->n[k], v + by, memory_order_relaxed);
}

/* Zero counters, before the set is shared. */
static inline void stats_init(struct stats *st)
{
	for (int k = 0; k < ST_N; k++)
		atomic_init(&st->n[k], 0);
}

/* Count a response sent: its rcode (with the extended bits, RFC 6891
 * 6.1.3) and whether it has TC. */
void stats_response(struct stats *st, unsigned rcode, int truncated);

/* Add a set's counters into sum[ST_N]. */
void stats_sum(const struct stats *st, uint64_t *sum);

struct server;
/* Log the counters of every thread and the state of every zone. */
void stats_report(struct server *s);

#endif
