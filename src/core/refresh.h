/* The refresh state machine of one zone (RFC 1034 4.3.5, RFC 1996).
 *
 * It is fed the time (milliseconds on any monotonic clock) and the outcome
 * of each SOA check and transfer, and says what to do next: check the
 * primary's SOA, transfer, or wait.  The platform does the I/O. */
#ifndef ICBIND_REFRESH_H
#define ICBIND_REFRESH_H

#include <stddef.h>
#include <stdint.h>

enum refresh_action { RA_NONE, RA_QUERY_SOA, RA_TRANSFER };

struct refresh {
	int busy;            /* a check or transfer is under way */
	int loaded;          /* a version is being served */
	int pending;         /* a NOTIFY came during the check: check again */
	uint64_t next;       /* when to start the next check */
	uint64_t expire_at;  /* when the served version expires */
	uint32_t refresh, retry, expire; /* seconds, from the served SOA */
	uint32_t backoff;    /* seconds, before the first version is loaded */
	unsigned n_primary;
	unsigned primary;    /* the primary to use now */
	unsigned tried;      /* primaries tried in this round */
	/* Operator bounds on the SOA timers (seconds). */
	uint32_t min_refresh, max_refresh, min_retry, max_retry, min_expire, max_expire;
	uint32_t rng;        /* xorshift state for the jitter */
};

/* seed: any non-zero number, different per zone, to spread the checks. */
void refresh_init(struct refresh *r, unsigned n_primary, uint64_t now, uint32_t seed);
void refresh_bounds(struct refresh *r, uint32_t min_refresh, uint32_t max_refresh,
		    uint32_t min_retry, uint32_t max_retry, uint32_t min_expire,
		    uint32_t max_expire);

/* Would refresh_poll() start something now? */
static inline int refresh_due(const struct refresh *r, uint64_t now)
{
	return !r->busy && now >= r->next && r->n_primary > 0;
}

/* A version kept from an earlier run is served: it expires after
 * remaining_ms; check the primary at once. */
void refresh_restore(struct refresh *r, uint64_t now, uint32_t refresh, uint32_t retry,
		     uint32_t expire, uint64_t remaining_ms);

/* What to start now, if anything. */
int refresh_poll(struct refresh *r, uint64_t now);

/* When refresh_poll() or refresh_expired() next has something to say. */
uint64_t refresh_deadline(const struct refresh *r, uint64_t now);

/* A NOTIFY from primary index i (or -1: another allowed sender). */
void refresh_notify(struct refresh *r, uint64_t now, int primary);

/* The SOA check ended: ok with the primary's serial.  Returns RA_TRANSFER
 * when the primary has a newer version (RFC 1982), else RA_NONE. */
int refresh_soa_done(struct refresh *r, uint64_t now, int ok, uint32_t serial,
		     uint32_t have_serial);

/* The transfer ended; on success, the new version's SOA timers. */
void refresh_xfr_done(struct refresh *r, uint64_t now, int ok, uint32_t refresh,
		      uint32_t retry, uint32_t expire);

/* Has the served version expired (SOA EXPIRE without a successful check)? */
static inline int refresh_expired(const struct refresh *r, uint64_t now)
{
	return r->loaded && now >= r->expire_at;
}

/* Parse a response to our SOA query for apex with id: 0 and *serial, or -1. */
int refresh_parse_soa(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *apex,
		      uint32_t *serial);

#endif
