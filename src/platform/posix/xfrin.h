/* Keeping one zone fresh: the refresh state machine's I/O, that is the SOA
 * check over UDP and the transfer over TCP, without blocking the loop. */
#ifndef ICBIND_XFRIN_H
#define ICBIND_XFRIN_H

#include <stddef.h>
#include <stdint.h>

#include "../../core/refresh.h"
#include "../../core/xfr.h"
#include "../../core/zonebuilder.h"
#include "loop.h"
#include "server.h"

struct xfrin {
	struct server *srv;
	struct cat_zone *cz;
	const struct cfg_zone *cfg;
	struct refresh r;
	struct timer tick;     /* the refresh state machine's next deadline */
	struct timer timeout;  /* no progress for xfr-timeout seconds */
	struct io io;          /* the socket of the check or transfer, fd -1 if none */
	int op;                /* RA_QUERY_SOA or RA_TRANSFER while busy */
	int connected;
	int ixfr;              /* this transfer asked for IXFR */
	uint16_t id;
	unsigned primary;
	uint8_t query[2 + 512];
	size_t qlen, qsent;
	struct zone_builder *zb;
	struct xfr_parser *xp;
	uint64_t started;
	char peer[80];
};

void xfrin_init(struct xfrin *x, struct server *s, struct cat_zone *cz, const struct cfg_zone *cfg);
void xfrin_start(struct xfrin *x);
void xfrin_stop(struct xfrin *x);
/* A NOTIFY was accepted from this peer. */
void xfrin_notify(struct xfrin *x, const struct netaddr *from);

#endif
