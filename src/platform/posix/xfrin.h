/* Keeping one zone fresh: the refresh state machine's I/O, that is the SOA
 * check over UDP and the transfer over TCP, without blocking the loop. */
#ifndef ICBIND_XFRIN_H
#define ICBIND_XFRIN_H

#include <stddef.h>
#include <stdint.h>

#include "../../core/refresh.h"
#include "../../core/tsig.h"
#include "../../core/xfr.h"
#include "../../core/zonebuilder.h"
#include "loop.h"
#include "server.h"

struct xfrin {
	struct server *srv;
	struct cat_zone *cz;
	const struct cfg_zone *cfg;  /* its settings (a member: its catalog zone's) */
	const char *text;            /* its name, for the log */
	int catalog;                 /* a catalog zone: its members are served */
	struct refresh r;
	struct timer tick;     /* the refresh state machine's next deadline */
	/* A catalog zone: the version its members came from (address and
	 * serial: a freed version's address may come back for the next). */
	const struct zone *catz_seen;
	uint32_t catz_serial;
	struct timer timeout;  /* no progress for xfr-timeout seconds */
	struct io io;          /* the socket of the check or transfer, fd -1 if none */
	int op;                /* RA_QUERY_SOA or RA_TRANSFER while busy */
	int connected;
	int ixfr;              /* this transfer asked for IXFR */
	int has_slot;          /* counts against xfr-concurrency */
	int waiting;           /* in the queue for a slot */
	struct xfrin *wait_next;
	uint16_t id;
	unsigned primary;
	uint8_t query[2 + 512];
	size_t qlen, qsent;
	struct zone_builder *zb;
	struct xfr_parser *xp;
	/* TSIG with this primary: a copy of its key (a reload may free the
	 * configuration's), our request's MAC, the transfer's verifier. */
	int soa_tcp;           /* the SOA query goes over TCP (UDP was truncated) */
	uint8_t tcp_len[2];
	size_t tcp_have;
	int signed_op;
	struct tsig_key key;
	uint8_t req_mac[HMAC_MAX_LEN];
	size_t req_mac_len;
	struct tsig_stream ts;
	int ts_on;
	uint64_t started;
	char peer[80];
};

/* zone_free() for workers_retire(). */
void zone_free_v(void *z);

/* After a version is served: notes whether a zone served is past the
 * caches (server.prefetch), and gives each served version that has none
 * its hash index (zone.h zone_index()) once no replaced version is
 * waiting to be freed. */
void xfrin_versions_changed(struct server *s);

void xfrin_init(struct xfrin *x, struct server *s, struct cat_zone *cz, struct zone_conf zc);
void xfrin_start(struct xfrin *x);
/* The configuration was reloaded: the zone's settings and catalog entry
 * are new (the served version and the refresh state are kept). */
void xfrin_reconfigure(struct xfrin *x, struct cat_zone *cz, struct zone_conf zc);
void xfrin_stop(struct xfrin *x);
/* A NOTIFY was accepted from this peer. */
void xfrin_notify(struct xfrin *x, const struct netaddr *from);

/* Log the zone's state: serial, size, the last successful check, the
 * next one, expiry (the SIGUSR1 report, stats.h); now on loop_clock(). */
void xfrin_report(const struct xfrin *x, uint64_t now);

#endif
