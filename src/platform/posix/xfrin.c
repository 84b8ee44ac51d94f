/* Keeping one zone fresh: SOA checks and transfers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getrandom() */
#endif
#include "xfrin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/rrtype.h"
#include "../../core/serial.h"
#include "../../core/zonepatch.h"
#include "log.h"
#include "snapshot.h"
#include "workers.h"

static void schedule(struct xfrin *x);

void zone_free_v(void *z)
{
	zone_free(z);
}

/* ---- the limit on checks and transfers under way (xfr-concurrency) -- */

static void release(struct xfrin *x)
{
	struct server *s = x->srv;
	if (!x->has_slot)
		return;
	x->has_slot = 0;
	s->xfr_active--;
	/* The longest waiting zone goes next. */
	struct xfrin *w = s->xfr_wait_head;
	if (w) {
		s->xfr_wait_head = w->wait_next;
		if (!s->xfr_wait_head)
			s->xfr_wait_tail = NULL;
		w->waiting = 0;
		w->wait_next = NULL;
		timer_set(&s->loop, &w->tick, loop_clock());
	}
}

static void wait_turn(struct xfrin *x)
{
	struct server *s = x->srv;
	if (x->waiting)
		return;
	x->waiting = 1;
	x->wait_next = NULL;
	if (s->xfr_wait_tail)
		s->xfr_wait_tail->wait_next = x;
	else
		s->xfr_wait_head = x;
	s->xfr_wait_tail = x;
}

static void unwait(struct xfrin *x)
{
	struct server *s = x->srv;
	struct xfrin **pp = &s->xfr_wait_head, *prev = NULL;
	while (*pp && *pp != x) {
		prev = *pp;
		pp = &(*pp)->wait_next;
	}
	if (*pp) {
		*pp = x->wait_next;
		if (s->xfr_wait_tail == x)
			s->xfr_wait_tail = prev;
	}
	x->waiting = 0;
}

static const char *zname(const struct xfrin *x)
{
	return x->text;
}

void xfrin_versions_changed(struct server *s)
{
	/* A catalog zone with a new version: the main loop serves what it
	 * lists once this callback has returned (zones may start and stop). */
	for (size_t i = 0; i < s->cat.n; i++) {
		struct xfrin *x = s->cat.zones[i].user;
		const struct zone *z = s->cat.zones[i].current;
		if (x && x->catalog && (z != x->catz_seen || (z && z->serial != x->catz_serial))) {
			x->catz_seen = z;
			x->catz_serial = z ? z->serial : 0;
			s->catalogs_dirty = 1;
			s->signalled = 1;
		}
	}
	/* Is a zone served past the caches?  Then batches of queries are
	 * looked up a step at a time (query.h). */
	int big = 0;
	for (size_t i = 0; i < s->cat.n && !big; i++) {
		const struct zone *z = s->cat.zones[i].current;
		big = z && (z->base ? z->base->bytes : z->bytes) >= ICB_PREFETCH_BYTES;
	}
	if (big != s->prefetch)
		log_msg(LOG_DEBUG_, big ? "a zone version of %u octets or more is served: UDP batches looked up a step at a time"
					: "no zone version of %u octets or more is served: UDP batches looked up one query at a time",
			(unsigned)ICB_PREFETCH_BYTES);
	s->prefetch = big;
	/* While a replaced version may still be read, its nodes and index
	 * are not given back yet: the new index waits, so that the two
	 * are never held at once (the peak of a big zone's transfer). */
	if (s->n_retired)
		return;
	for (size_t i = 0; i < s->cat.n; i++) {
		struct cat_zone *cz = &s->cat.zones[i];
		struct zone *z = cz->current;
		if (!z || z->hash || !z->hash_size)
			continue;
		const char *name = cz->user ? zname(cz->user) : "?";
		if (zone_index(z) < 0)
			log_msg(LOG_NOTICE_,
				"zone %s: no memory for the name index of serial %lu: names are looked up by binary search",
				name, (unsigned long)z->serial);
		else
			log_msg(LOG_DEBUG_, "zone %s: name index made for serial %lu (%zu octets)", name,
				(unsigned long)z->serial, (size_t)z->hash_size * 4);
	}
}

static uint16_t random_id(void)
{
	/* Unpredictable IDs make forged answers harder (RFC 5452 9.2). */
	uint16_t id = 0;
	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
		id = (uint16_t)(loop_clock() * 2654435761u >> 7);
	return id;
}

/* End whatever check or transfer is under way, freeing its state. */
static void op_end(struct xfrin *x)
{
	struct loop *l = &x->srv->loop;
	if (x->io.fd >= 0) {
		loop_del(l, &x->io);
		close(x->io.fd);
		x->io.fd = -1;
	}
	timer_cancel(l, &x->timeout);
	if (x->xp) {
		xfr_free(x->xp);
		free(x->xp);
		x->xp = NULL;
	}
	if (x->zb) {
		zb_free(x->zb);
		free(x->zb);
		x->zb = NULL;
	}
	if (x->ts_on) {
		tsig_stream_free(&x->ts);
		x->ts_on = 0;
	}
	x->op = RA_NONE;
}

static void op_failed(struct xfrin *x, const char *what, const char *why)
{
	log_msg(LOG_NOTICE_, "zone %s: %s from %s failed: %s", zname(x), what, x->peer, why);
	op_end(x);
	refresh_xfr_done(&x->r, loop_clock(), 0, 0, 0, 0);
	release(x);
	schedule(x);
}

/* No progress for xfr-timeout, or the whole of it over xfr-max-time: the
 * earlier of the two ends it. */
static void progress(struct xfrin *x)
{
	struct loop *l = &x->srv->loop;
	uint64_t now = loop_clock(), t = now + x->srv->cfg->xfr_timeout * 1000u;
	uint64_t cap = x->started + (uint64_t)x->srv->cfg->xfr_max_time * 1000u;
	if (x->srv->cfg->xfr_max_time && cap < t)
		t = cap;
	timer_set(l, &x->timeout, t);
}

static int ixfr_fallback(struct xfrin *x, const char *why);
static void start_soa(struct xfrin *x, int tcp);

/* An SOA query over UDP that got no answer (timed out, or the port is
 * closed): asked again over TCP at the same primary, as transfers go, for
 * a primary behind a filter that lets only TCP through (NSD and Knot DNS
 * reach it too).  0 if it was over TCP already. */
static int soa_over_tcp(struct xfrin *x, const char *why)
{
	if (x->op != RA_QUERY_SOA || x->soa_tcp)
		return 0;
	log_msg(LOG_INFO_, "zone %s: SOA query over UDP to %s failed: %s; asking over TCP", zname(x),
		x->peer, why);
	op_end(x);
	start_soa(x, 1);
	return 1;
}

static void on_timeout(struct loop *l, struct timer *t)
{
	(void)l;
	struct xfrin *x = t->arg;
	const struct cfg *c = x->srv->cfg;
	int total = c->xfr_max_time &&
		    loop_clock() >= x->started + (uint64_t)c->xfr_max_time * 1000u;
	/* A stall after the connection: AXFR at once. A connection that
	 * never came up is the primary's trouble, not IXFR's. */
	if (x->op == RA_TRANSFER && !total && x->connected && ixfr_fallback(x, "timed out"))
		return;
	if (soa_over_tcp(x, "timed out"))
		return;
	op_failed(x, x->op == RA_TRANSFER ? "transfer" : "SOA query",
		  total ? "took longer than xfr-max-time" : "timed out");
}

static int open_socket(struct xfrin *x, int type, io_fn fn, uint32_t events)
{
	const struct cfg_addr *p = &x->cfg->primary[x->primary];
	sockaddr_str((const struct sockaddr *)&p->sa, x->peer, sizeof(x->peer));
	int fd = socket(p->sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&p->sa, p->len) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	x->io.fd = fd;
	x->io.fn = fn;
	x->io.arg = x;
	const struct tsig_key *k = x->cz->primary_key[x->primary];
	x->signed_op = k != NULL;
	if (k)
		x->key = *k;
	if (loop_add(&x->srv->loop, &x->io, events) < 0) {
		close(fd);
		x->io.fd = -1;
		return -1;
	}
	x->id = random_id();
	x->started = loop_clock();
	progress(x);
	return 0;
}

/* Sign our request when the primary has a key; keep its MAC. */
static int sign_request(struct xfrin *x, uint8_t *msg, size_t *len, size_t cap)
{
	if (!x->signed_op)
		return 0;
	x->req_mac_len = 0;
	return tsig_sign(&x->key, msg, len, cap, (uint64_t)time(NULL), NULL, 0, 0, x->req_mac,
			 &x->req_mac_len);
}

/* ---- the transfer (AXFR over TCP) ---------------------------------- */

static void start_transfer(struct xfrin *x, int ixfr);

/* An IXFR that could not be used: a full transfer from the same primary. */
static int ixfr_fallback(struct xfrin *x, const char *why)
{
	if (!x->ixfr)
		return 0;
	log_msg(LOG_NOTICE_, "zone %s: IXFR from %s failed: %s; trying AXFR", zname(x), x->peer, why);
	op_end(x);
	start_transfer(x, 0);
	return 1;
}

static void xfr_finished(struct xfrin *x)
{
	struct zone *z = NULL;
	struct xfr_parser *xp = x->xp;
	const struct zone *cur = x->cz->current;
	if (xp->uptodate) {
		log_msg(LOG_INFO_, "zone %s: serial %lu is current at %s (IXFR)", zname(x),
			(unsigned long)xp->serial, x->peer);
		if (x->srv->cfg->data_dir[0])
			snapshot_checked(x->srv->cfg->data_dir, zname(x), time(NULL));
		op_end(x);
		refresh_xfr_done(&x->r, loop_clock(), 1, cur->refresh, cur->retry, cur->expire);
		x->cz->expired = 0;
		release(x);
		schedule(x);
		return;
	}
	/* Differences change the served version, sharing what they leave. */
	if (zb_finish_served(x->zb, cur, xp->incremental, &z) < 0) {
		if (!ixfr_fallback(x, x->zb->err))
			op_failed(x, "transfer", x->zb->err);
		return;
	}
	if (cur && !serial_newer(z->serial, cur->serial)) {
		log_msg(LOG_NOTICE_,
			"zone %s: transfer from %s has serial %lu, not newer than the %lu served: kept the served one",
			zname(x), x->peer, (unsigned long)z->serial, (unsigned long)cur->serial);
		zone_free(z);
		op_end(x);
		refresh_xfr_done(&x->r, loop_clock(), 1, cur->refresh, cur->retry, cur->expire);
		x->cz->expired = 0;
		release(x);
		schedule(x);
		return;
	}
	if (xp->dropped_class)
		log_msg(LOG_NOTICE_, "zone %s: transfer from %s: dropped %lu records of classes other than IN",
			zname(x), x->peer, xp->dropped_class);
	if (xp->dropped_dnssec)
		log_msg(LOG_NOTICE_, "zone %s: signed zone served unsigned (strip-dnssec): dropped %lu DNSSEC records",
			zname(x), xp->dropped_dnssec);
	const char *how = xp->incremental ? "IXFR" : x->ixfr ? "AXFR (the IXFR answer was the whole zone)" : "AXFR";
	struct zone *old = catalog_publish(x->cz, z);
	log_msg(LOG_NOTICE_,
		"zone %s: loaded serial %lu from %s by %s: %lu records, %zu bytes%s, %llu ms",
		zname(x), (unsigned long)z->serial, x->peer, how, (unsigned long)z->n_records, z->bytes,
		zone_patch_note(z),
		(unsigned long long)(loop_clock() - x->started));
	/* Query threads may still read the old version for a moment. */
	workers_retire(x->srv, old, zone_free_v);
	xfrin_versions_changed(x->srv);
	if (x->srv->cfg->data_dir[0] && snapshot_save(x->srv->cfg->data_dir, zname(x), z) < 0)
		log_msg(LOG_ERR_, "zone %s: cannot keep a copy in %s: %s", zname(x),
			x->srv->cfg->data_dir, strerror(errno));
	op_end(x);
	refresh_xfr_done(&x->r, loop_clock(), 1, z->refresh, z->retry, z->expire);
	release(x);
	schedule(x);
}

/* A TCP connection to the primary: wait for the connect, send our query.
 * 1 once it is all sent (then read), 0 while under way, -1 on failure
 * (reported as `what`). */
static int tcp_send_query(struct loop *l, struct io *io, struct xfrin *x, const char *what)
{
	if (!x->connected) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			op_failed(x, what, strerror(err));
			return -1;
		}
		x->connected = 1;
	}
	if (x->qsent == x->qlen)
		return 1;
	ssize_t n = send(io->fd, x->query + x->qsent, x->qlen - x->qsent, MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN) {
		op_failed(x, what, strerror(errno));
		return -1;
	}
	if (n > 0)
		x->qsent += (size_t)n;
	if (x->qsent == x->qlen)
		loop_mod(l, io, EPOLLIN);
	return 0;
}

static void xfr_io(struct loop *l, struct io *io, uint32_t events)
{
	struct xfrin *x = io->arg;
	if (tcp_send_query(l, io, x, "transfer") <= 0)
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	/* Read what is there, in bounded rounds, feeding the parser. */
	for (int round = 0; round < 16; round++) {
		ssize_t n = read(io->fd, x->srv->buf, sizeof(x->srv->buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (!ixfr_fallback(x, strerror(errno)))
				op_failed(x, "transfer", strerror(errno));
			return;
		}
		x->xp->now = (uint64_t)time(NULL);
		int rc = n == 0 ? xfr_end(x->xp) : xfr_feed(x->xp, x->srv->buf, (size_t)n);
		if (rc == XFR_FAIL) {
			/* Whatever ended the IXFR (a refusal, differences that do
			 * not apply, a lone SOA and a close, a reset), the whole
			 * zone is asked for at once: a primary whose IXFR is
			 * broken must not hold the zone back until it expires.
			 * RFC 1995 4 leaves the secondary that choice; Knot DNS
			 * makes it too. */
			if (!ixfr_fallback(x, x->xp->err))
				op_failed(x, "transfer", x->xp->err);
			return;
		}
		if (rc == XFR_DONE) {
			xfr_finished(x);
			return;
		}
		progress(x);
	}
}

static void start_transfer(struct xfrin *x, int ixfr)
{
	const struct zone *cur = x->cz->current;
	x->op = RA_TRANSFER;
	x->connected = 0;
	x->ixfr = ixfr && cur && x->cfg->request_ixfr && !x->cfg->xfr_drop_old;
	if (cur && x->cfg->xfr_drop_old) {
		/* For devices that cannot hold two versions: the zone answers
		 * SERVFAIL until the new one is in. */
		log_msg(LOG_NOTICE_, "zone %s: serial %lu dropped for the transfer (xfr-drop-old)",
			zname(x), (unsigned long)cur->serial);
		workers_retire(x->srv, catalog_publish(x->cz, NULL), zone_free_v);
		cur = NULL;
	}
	x->zb = malloc(sizeof(*x->zb));
	x->xp = malloc(sizeof(*x->xp));
	if (!x->zb || !x->xp) {
		op_failed(x, "transfer", "out of memory");
		return;
	}
	zb_init(x->zb, x->cz->apex, 0);
	/* A whole zone that comes for a zone served is kept as its
	 * differences from the version served (zonepatch.h). */
	if (cur && zb_against(x->zb, cur) < 0) {
		op_failed(x, "transfer", x->zb->err);
		return;
	}
	if (open_socket(x, SOCK_STREAM, xfr_io, EPOLLOUT) < 0) {
		op_failed(x, "transfer", strerror(errno));
		return;
	}
	xfr_init(x->xp, x->cz->apex, x->id, x->zb, x->cfg->strip_dnssec);
	x->xp->max_bytes = x->srv->cfg->xfr_max_size;
	x->xp->max_records = x->srv->cfg->xfr_max_records;
	size_t n;
	if (x->ixfr) {
		/* The builder holds the differences alone; they are applied
		 * to the version we serve at the end (zonepatch.h). */
		xfr_set_ixfr(x->xp, cur->serial);
		n = xfr_make_ixfr_query(x->query + 2, sizeof(x->query) - 2, x->id, cur);
	} else {
		n = xfr_make_query(x->query + 2, sizeof(x->query) - 2, x->id, x->cz->apex, T_AXFR);
	}
	if (n == 0 || sign_request(x, x->query + 2, &n, sizeof(x->query) - 2) < 0) {
		op_failed(x, "transfer", "request does not fit");
		return;
	}
	if (x->signed_op) {
		/* RFC 8945 5.3.1: every message of the answer is checked. */
		if (tsig_stream_init(&x->ts, &x->key, x->req_mac, x->req_mac_len) < 0) {
			op_failed(x, "transfer", "out of memory");
			return;
		}
		x->ts_on = 1;
		xfr_set_tsig(x->xp, &x->ts, (uint64_t)time(NULL));
	}
	x->query[0] = (uint8_t)(n >> 8);
	x->query[1] = (uint8_t)n;
	x->qlen = n + 2;
	x->qsent = 0;
	log_msg(LOG_INFO_, "zone %s: %s from %s%s", zname(x), x->ixfr ? "IXFR" : "AXFR", x->peer,
		x->signed_op ? " (TSIG)" : "");
}

/* ---- the SOA check (UDP) ------------------------------------------- */

/* The answer to our SOA query: checked, then compared with what we serve. */
static void soa_answer(struct xfrin *x, const uint8_t *msg, size_t n)
{
	uint32_t serial;
	if (x->signed_op) {
		struct tsig_rr rr;
		int st = tsig_verify(msg, n, &x->key, 1, (uint64_t)time(NULL), x->req_mac,
				     x->req_mac_len, &rr, NULL);
		if (st == TSIG_EPEER) {
			char why[64];
			snprintf(why, sizeof(why), "primary answered TSIG error %s",
				 tsig_rcode_text(rr.error));
			op_failed(x, "SOA query", why);
			return;
		}
		if (st != TSIG_OK) {
			op_failed(x, "SOA query", st == TSIG_UNSIGNED ? "the answer is not signed (TSIG)"
								  : tsig_strerror(st));
			return;
		}
	}
	/* Truncated over UDP: ask again over TCP (RFC 1035 4.2.1).  Refused
	 * over UDP: a primary may answer a zone over TCP only (Knot DNS so
	 * answers its catalog zones), as it answers transfers. */
	if (!x->soa_tcp && n >= 4 && ((msg[2] & 0x02) || (msg[3] & 0x0F) == 5)) {
		op_end(x);
		start_soa(x, 1);
		return;
	}
	if (refresh_parse_soa(msg, n, x->id, x->cz->apex, &serial) < 0) {
		op_failed(x, "SOA query", "no usable SOA in the answer");
		return;
	}
	const struct zone *cur = x->cz->current;
	uint32_t have = cur ? cur->serial : 0;
	op_end(x);
	int act = refresh_soa_done(&x->r, loop_clock(), 1, serial, have);
	if (act == RA_TRANSFER) {
		log_msg(LOG_INFO_, "zone %s: %s has serial %lu, newer than %lu", zname(x), x->peer,
			(unsigned long)serial, (unsigned long)have);
		start_transfer(x, 1);
		return;
	}
	if (serial != have)
		log_msg(LOG_NOTICE_, "zone %s: %s offers serial %lu, older than the %lu served: not followed",
			zname(x), x->peer, (unsigned long)serial, (unsigned long)have);
	else
		log_msg(LOG_INFO_, "zone %s: serial %lu is current at %s", zname(x),
			(unsigned long)serial, x->peer);
	if (x->srv->cfg->data_dir[0])
		snapshot_checked(x->srv->cfg->data_dir, zname(x), time(NULL));
	x->cz->expired = 0;
	release(x);
	schedule(x);
}

static void soa_io(struct loop *l, struct io *io, uint32_t events)
{
	(void)l;
	(void)events;
	struct xfrin *x = io->arg;
	for (int i = 0; i < 8; i++) {
		ssize_t n = recv(io->fd, x->srv->buf, sizeof(x->srv->buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (!soa_over_tcp(x, strerror(errno)))
				op_failed(x, "SOA query", strerror(errno));
			return;
		}
		if (n < 2 || ((x->srv->buf[0] << 8) | x->srv->buf[1]) != x->id)
			continue; /* not the answer to our query: keep waiting */
		soa_answer(x, x->srv->buf, (size_t)n);
		return;
	}
}

/* The SOA query over TCP: send it, gather the one answer. */
static void soa_tcp_io(struct loop *l, struct io *io, uint32_t events)
{
	struct xfrin *x = io->arg;
	(void)events;
	if (tcp_send_query(l, io, x, "SOA query") <= 0)
		return;
	size_t want = x->tcp_have < 2 ? 2 : 2 + (size_t)((x->tcp_len[0] << 8) | x->tcp_len[1]);
	for (;;) {
		ssize_t n;
		if (x->tcp_have < 2)
			n = read(io->fd, x->tcp_len + x->tcp_have, 2 - x->tcp_have);
		else
			n = read(io->fd, x->srv->buf + x->tcp_have - 2, want - x->tcp_have);
		if (n == 0) {
			op_failed(x, "SOA query", "connection closed before the answer");
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			op_failed(x, "SOA query", strerror(errno));
			return;
		}
		x->tcp_have += (size_t)n;
		progress(x);
		if (x->tcp_have == 2)
			want = 2 + (size_t)((x->tcp_len[0] << 8) | x->tcp_len[1]);
		if (x->tcp_have >= 2 && x->tcp_have == want)
			break;
	}
	soa_answer(x, x->srv->buf, want - 2);
}

static void start_soa(struct xfrin *x, int tcp)
{
	x->op = RA_QUERY_SOA;
	x->soa_tcp = tcp;
	x->connected = 0;
	x->tcp_have = 0;
	if (open_socket(x, tcp ? SOCK_STREAM : SOCK_DGRAM, tcp ? soa_tcp_io : soa_io,
			tcp ? EPOLLOUT : EPOLLIN) < 0) {
		op_failed(x, "SOA query", strerror(errno));
		return;
	}
	uint8_t *q = x->query + (tcp ? 2 : 0);
	size_t cap = sizeof(x->query) - 2;
	size_t n = xfr_make_query(q, cap, x->id, x->cz->apex, T_SOA);
	if (n == 0 || sign_request(x, q, &n, cap) < 0) {
		op_failed(x, "SOA query", "request does not fit");
		return;
	}
	if (tcp) {
		x->query[0] = (uint8_t)(n >> 8);
		x->query[1] = (uint8_t)n;
		x->qlen = n + 2;
		x->qsent = 0;
		return;
	}
	if (send(x->io.fd, x->query, n, 0) < 0)
		op_failed(x, "SOA query", strerror(errno));
}

/* ---- the schedule -------------------------------------------------- */

static void tick(struct loop *l, struct timer *t)
{
	(void)l;
	struct xfrin *x = t->arg;
	uint64_t now = loop_clock();
	if (refresh_expired(&x->r, now) && !x->cz->expired) {
		x->cz->expired = 1;
		log_msg(LOG_NOTICE_, "zone %s: expired (no successful check for %lu s): answering SERVFAIL",
			zname(x), (unsigned long)x->r.expire);
	}
	if (refresh_due(&x->r, now)) {
		if (x->srv->xfr_active >= x->srv->cfg->xfr_concurrency) {
			wait_turn(x); /* release() wakes us */
			return;
		}
		x->has_slot = 1;
		x->srv->xfr_active++;
		x->primary = x->r.primary;
		if (refresh_poll(&x->r, now) == RA_QUERY_SOA)
			start_soa(x, 0);
		else
			start_transfer(x, 1);
		return;
	}
	schedule(x);
}

static void schedule(struct xfrin *x)
{
	uint64_t d = refresh_deadline(&x->r, loop_clock());
	if (d != UINT64_MAX && x->op == RA_NONE)
		timer_set(&x->srv->loop, &x->tick, d);
}

void xfrin_init(struct xfrin *x, struct server *s, struct cat_zone *cz, struct zone_conf zc)
{
	const struct cfg_zone *cfg = zc.settings;
	memset(x, 0, sizeof(*x));
	x->srv = s;
	x->cz = cz;
	x->cfg = cfg;
	x->text = zc.text;
	x->catalog = zc.catalog;
	x->io.fd = -1;
	timer_init(&x->tick, tick, x);
	timer_init(&x->timeout, on_timeout, x);
	uint32_t seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint32_t)(uintptr_t)x;
	refresh_init(&x->r, (unsigned)cfg->n_primary, loop_clock(), seed);
	refresh_bounds(&x->r, cfg->min_refresh, cfg->max_refresh, cfg->min_retry, cfg->max_retry,
		       cfg->min_expire, cfg->max_expire);
}

/* Serve the copy kept by an earlier run, if it has not expired. */
static void restore(struct xfrin *x)
{
	const char *dir = x->srv->cfg->data_dir, *why = NULL;
	struct zone *z;
	time_t checked;
	int rc = snapshot_load(dir, zname(x), &z, &checked, &why);
	if (rc == 1)
		return;
	if (rc < 0) {
		log_msg(LOG_NOTICE_, "zone %s: the copy in %s is unusable (%s): transferring again",
			zname(x), dir, why);
		return;
	}
	time_t now = time(NULL);
	refresh_bounds(&x->r, x->cfg->min_refresh, x->cfg->max_refresh, x->cfg->min_retry,
		       x->cfg->max_retry, x->cfg->min_expire, x->cfg->max_expire);
	uint32_t expire = z->expire < x->cfg->min_expire ? x->cfg->min_expire :
			  z->expire > x->cfg->max_expire ? x->cfg->max_expire : z->expire;
	int64_t age = now > checked ? (int64_t)(now - checked) : 0;
	if (age >= (int64_t)expire) {
		log_msg(LOG_NOTICE_, "zone %s: the copy in %s (serial %lu) expired %lld s ago: not served",
			zname(x), dir, (unsigned long)z->serial, (long long)(age - expire));
		zone_free(z);
		return;
	}
	catalog_publish(x->cz, z);
	xfrin_versions_changed(x->srv);
	refresh_restore(&x->r, loop_clock(), z->refresh, z->retry, z->expire,
			(uint64_t)(expire - age) * 1000u);
	log_msg(LOG_NOTICE_, "zone %s: serving serial %lu from the copy in %s (checked %lld s ago), %lu records",
		zname(x), (unsigned long)z->serial, dir, (long long)age, (unsigned long)z->n_records);
}

void xfrin_start(struct xfrin *x)
{
	if (x->srv->cfg->data_dir[0])
		restore(x);
	timer_set(&x->srv->loop, &x->tick, loop_clock());
}

/* Where the primary that the operation under way talks to (in the
 * settings x still has) is in cfg's list, or -1. */
static int primary_kept(const struct xfrin *x, const struct cfg_zone *cfg)
{
	const struct cfg_addr *in_use = &x->cfg->primary[x->primary];
	for (size_t i = 0; i < cfg->n_primary; i++)
		if (cfg->primary[i].len == in_use->len &&
		    memcmp(&cfg->primary[i].sa, &in_use->sa, in_use->len) == 0)
			return (int)i;
	return -1;
}

void xfrin_reconfigure(struct xfrin *x, struct cat_zone *cz, struct zone_conf zc)
{
	const struct cfg_zone *cfg = zc.settings;
	/* A check or transfer under way at a primary the new settings no
	 * longer list is given up, and the new primaries asked at once: the
	 * operator has withdrawn that source, so nothing more is taken from
	 * it. */
	int kept = x->op != RA_NONE ? primary_kept(x, cfg) : -1;
	int withdrawn = x->op != RA_NONE && kept < 0;
	if (kept >= 0 && (unsigned)kept != x->primary) {
		/* Still listed, at another place: the rest of the operation
		 * (the transfer after the check, AXFR after IXFR) stays
		 * with it. */
		if (x->r.primary == x->primary)
			x->r.primary = (unsigned)kept;
		x->primary = (unsigned)kept;
	}
	if (withdrawn) {
		log_msg(LOG_NOTICE_, "zone %s: %s from %s given up: no longer a primary of the zone",
			zname(x), x->op == RA_TRANSFER ? "transfer" : "SOA query", x->peer);
		op_end(x);
		release(x);
	}
	x->cz = cz;
	x->cfg = cfg;
	x->text = zc.text;
	x->catalog = zc.catalog;
	cz->user = x;
	x->r.n_primary = (unsigned)cfg->n_primary;
	if (x->r.primary >= x->r.n_primary)
		x->r.primary = 0;
	if (x->primary >= cfg->n_primary)
		x->primary = 0;
	refresh_bounds(&x->r, cfg->min_refresh, cfg->max_refresh, cfg->min_retry, cfg->max_retry,
		       cfg->min_expire, cfg->max_expire);
	if (withdrawn) {
		uint64_t now = loop_clock();
		refresh_xfr_done(&x->r, now, 0, 0, 0, 0); /* no longer busy */
		refresh_notify(&x->r, now, 0);            /* the first new primary, now */
		schedule(x);
	}
}

void xfrin_stop(struct xfrin *x)
{
	if (x->waiting)
		unwait(x);
	op_end(x);
	release(x);
	timer_cancel(&x->srv->loop, &x->tick);
}

void xfrin_notify(struct xfrin *x, const struct netaddr *from)
{
	int idx = -1;
	for (size_t i = 0; i < x->cfg->n_primary; i++) {
		struct netaddr p;
		sockaddr_to_netaddr((const struct sockaddr *)&x->cfg->primary[i].sa, &p);
		if (p.family == from->family && memcmp(p.addr, from->addr, 16) == 0)
			idx = (int)i;
	}
	refresh_notify(&x->r, loop_clock(), idx);
	schedule(x);
}

/* Seconds from now to t (ms on the loop's clock), 0 if past. */
static unsigned long long secs_until(uint64_t now, uint64_t t)
{
	return t > now ? (unsigned long long)((t - now + 999) / 1000) : 0;
}

void xfrin_report(const struct xfrin *x, uint64_t now)
{
	const struct refresh *r = &x->r;
	const char *doing = !r->busy ? "" : x->op == RA_TRANSFER ? "; a transfer under way" : "; an SOA check under way";
	char next[48] = "";
	if (!r->busy && r->n_primary)
		snprintf(next, sizeof(next), "; next check in %llu s", secs_until(now, r->next));
	const struct zone *z = x->cz->current;
	if (!r->loaded || !z) {
		log_msg(LOG_NOTICE_, "zone %s: not loaded yet (answering SERVFAIL)%s%s", zname(x), doing, next);
		return;
	}
	/* A successful check set expire_at to its time plus EXPIRE; a copy
	 * from data-dir may have been checked before this clock's zero (a
	 * fresh boot), so the age is now + EXPIRE - expire_at, which cannot
	 * go below zero. */
	uint64_t age_ms = now + (uint64_t)r->expire * 1000u - r->expire_at;
	char when[64];
	if (atomic_load(&x->cz->expired))
		snprintf(when, sizeof(when), "expired (answering SERVFAIL)");
	else
		snprintf(when, sizeof(when), "expires in %llu s", secs_until(now, r->expire_at));
	log_msg(LOG_NOTICE_, "zone %s: serial %lu, %lu records, %zu bytes%s; last successful check %llu s ago%s%s; %s",
		zname(x), (unsigned long)z->serial, (unsigned long)z->n_records, z->bytes, zone_patch_note(z),
		(unsigned long long)(age_ms / 1000), doing, next, when);
}
