/* Query counters and the SIGUSR1 report (stats.h). */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "server.h"
#include "workers.h"
#include "xfrin.h"

void stats_response(struct stats *st, unsigned rcode, int truncated)
{
	static const uint8_t by_rcode[6] = { ST_NOERROR, ST_FORMERR, ST_SERVFAIL,
					     ST_NXDOMAIN, ST_NOTIMP,  ST_REFUSED };
	stats_add(st, rcode < 6 ? (enum stat_kind)by_rcode[rcode] : ST_RCODE_OTHER, 1);
	if (truncated)
		stats_add(st, ST_TRUNCATED, 1);
}

void stats_sum(const struct stats *st, uint64_t *sum)
{
	for (int k = 0; k < ST_N; k++)
		sum[k] += atomic_load_explicit(&st->n[k], memory_order_relaxed);
}

void stats_report(struct server *s)
{
	uint64_t n[ST_N];
	memset(n, 0, sizeof(n));
	stats_sum(&s->tcp_stats, n);
	server_udp_stats(s->udp, n);
	workers_stats(s, n);
	time_t up = time(NULL) - s->started;
	log_msg(LOG_NOTICE_,
		"stats: %" PRIu64 " queries (%" PRIu64 " UDP, %" PRIu64 " TCP) in %lld s; answered NOERROR %" PRIu64
		", NXDOMAIN %" PRIu64 ", REFUSED %" PRIu64 ", SERVFAIL %" PRIu64 ", FORMERR %" PRIu64
		", NOTIMP %" PRIu64 ", other rcodes %" PRIu64 "; truncated %" PRIu64 "; not answered %" PRIu64
		"; rate limited: dropped %" PRIu64 ", slipped %" PRIu64,
		n[ST_UDP] + n[ST_TCP], n[ST_UDP], n[ST_TCP], (long long)up, n[ST_NOERROR], n[ST_NXDOMAIN],
		n[ST_REFUSED], n[ST_SERVFAIL], n[ST_FORMERR], n[ST_NOTIMP], n[ST_RCODE_OTHER],
		n[ST_TRUNCATED], n[ST_DROPPED], n[ST_RRL_DROP], n[ST_RRL_SLIP]);
	for (size_t i = 0; i < s->cat.n; i++)
		if (s->cat.zones[i].user)
			xfrin_report(s->cat.zones[i].user, loop_clock());
}
