/* Keeping one zone fresh: SOA checks and transfers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getrandom() */
#endif
#include "xfrin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../core/rrtype.h"
#include "../../core/serial.h"
#include "log.h"

static void schedule(struct xfrin *x);

static const char *zname(const struct xfrin *x)
{
	return x->cfg->text;
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
	x->op = RA_NONE;
}

static void op_failed(struct xfrin *x, const char *what, const char *why)
{
	log_msg(LOG_NOTICE_, "zone %s: %s from %s failed: %s", zname(x), what, x->peer, why);
	op_end(x);
	refresh_xfr_done(&x->r, loop_clock(), 0, 0, 0, 0);
	schedule(x);
}

static void progress(struct xfrin *x)
{
	struct loop *l = &x->srv->loop;
	timer_set(l, &x->timeout, loop_clock() + x->srv->cfg->xfr_timeout * 1000u);
}

static void on_timeout(struct loop *l, struct timer *t)
{
	(void)l;
	struct xfrin *x = t->arg;
	op_failed(x, x->op == RA_TRANSFER ? "transfer" : "SOA query", "timed out");
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
		op_end(x);
		refresh_xfr_done(&x->r, loop_clock(), 1, cur->refresh, cur->retry, cur->expire);
		x->cz->expired = 0;
		schedule(x);
		return;
	}
	if (zb_finish(x->zb, &z) < 0) {
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
		"zone %s: loaded serial %lu from %s by %s: %lu records, %zu bytes, %llu ms",
		zname(x), (unsigned long)z->serial, x->peer, how, (unsigned long)z->n_records, z->bytes,
		(unsigned long long)(loop_clock() - x->started));
	if (old)
		zone_free(old);
	op_end(x);
	refresh_xfr_done(&x->r, loop_clock(), 1, z->refresh, z->retry, z->expire);
	schedule(x);
}

static void xfr_io(struct loop *l, struct io *io, uint32_t events)
{
	struct xfrin *x = io->arg;
	if (!x->connected) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			op_failed(x, "transfer", strerror(err));
			return;
		}
		x->connected = 1;
	}
	if (x->qsent < x->qlen) {
		ssize_t n = send(io->fd, x->query + x->qsent, x->qlen - x->qsent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			op_failed(x, "transfer", strerror(errno));
			return;
		}
		if (n > 0)
			x->qsent += (size_t)n;
		if (x->qsent == x->qlen)
			loop_mod(l, io, EPOLLIN);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	/* Read what is there, in bounded rounds, feeding the parser. */
	for (int round = 0; round < 16; round++) {
		ssize_t n = read(io->fd, x->srv->buf, sizeof(x->srv->buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			op_failed(x, "transfer", strerror(errno));
			return;
		}
		int rc = n == 0 ? xfr_end(x->xp) : xfr_feed(x->xp, x->srv->buf, (size_t)n);
		if (rc == XFR_FAIL) {
			/* A broken connection is the primary's trouble, not
			 * IXFR's; a refusal or bad differences get an AXFR. */
			if (n == 0 || !ixfr_fallback(x, x->xp->err))
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
	x->ixfr = ixfr && cur && x->cfg->request_ixfr;
	x->zb = malloc(sizeof(*x->zb));
	x->xp = malloc(sizeof(*x->xp));
	if (!x->zb || !x->xp) {
		op_failed(x, "transfer", "out of memory");
		return;
	}
	zb_init(x->zb, x->cz->apex, 0);
	if (open_socket(x, SOCK_STREAM, xfr_io, EPOLLOUT) < 0) {
		op_failed(x, "transfer", strerror(errno));
		return;
	}
	xfr_init(x->xp, x->cz->apex, x->id, x->zb, x->cfg->strip_dnssec);
	size_t n;
	if (x->ixfr) {
		/* The differences apply to the version we serve. */
		if (zb_load(x->zb, cur) < 0) {
			op_failed(x, "transfer", x->zb->err);
			return;
		}
		xfr_set_ixfr(x->xp, cur->serial);
		n = xfr_make_ixfr_query(x->query + 2, sizeof(x->query) - 2, x->id, cur);
	} else {
		n = xfr_make_query(x->query + 2, sizeof(x->query) - 2, x->id, x->cz->apex, T_AXFR);
	}
	x->query[0] = (uint8_t)(n >> 8);
	x->query[1] = (uint8_t)n;
	x->qlen = n + 2;
	x->qsent = 0;
	log_msg(LOG_INFO_, "zone %s: %s from %s", zname(x), x->ixfr ? "IXFR" : "AXFR", x->peer);
}

/* ---- the SOA check (UDP) ------------------------------------------- */

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
			op_failed(x, "SOA query", strerror(errno));
			return;
		}
		uint32_t serial;
		if (n < 2 || ((x->srv->buf[0] << 8) | x->srv->buf[1]) != x->id)
			continue; /* not the answer to our query: keep waiting */
		if (refresh_parse_soa(x->srv->buf, (size_t)n, x->id, x->cz->apex, &serial) < 0) {
			op_failed(x, "SOA query", "no usable SOA in the answer");
			return;
		}
		const struct zone *cur = x->cz->current;
		uint32_t have = cur ? cur->serial : 0;
		op_end(x);
		int act = refresh_soa_done(&x->r, loop_clock(), 1, serial, have);
		if (act == RA_TRANSFER) {
			log_msg(LOG_INFO_, "zone %s: %s has serial %lu, newer than %lu", zname(x),
				x->peer, (unsigned long)serial, (unsigned long)have);
			start_transfer(x, 1);
			return;
		}
		if (serial != have)
			log_msg(LOG_NOTICE_, "zone %s: %s offers serial %lu, older than the %lu served: not followed",
				zname(x), x->peer, (unsigned long)serial, (unsigned long)have);
		else
			log_msg(LOG_INFO_, "zone %s: serial %lu is current at %s", zname(x),
				(unsigned long)serial, x->peer);
		x->cz->expired = 0;
		schedule(x);
		return;
	}
}

static void start_soa(struct xfrin *x)
{
	x->op = RA_QUERY_SOA;
	if (open_socket(x, SOCK_DGRAM, soa_io, EPOLLIN) < 0) {
		op_failed(x, "SOA query", strerror(errno));
		return;
	}
	size_t n = xfr_make_query(x->query, sizeof(x->query), x->id, x->cz->apex, T_SOA);
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
	x->primary = x->r.primary;
	switch (refresh_poll(&x->r, now)) {
	case RA_QUERY_SOA:
		start_soa(x);
		return;
	case RA_TRANSFER:
		start_transfer(x, 1);
		return;
	}
	schedule(x);
}

static void schedule(struct xfrin *x)
{
	uint64_t d = refresh_deadline(&x->r);
	if (d != UINT64_MAX && x->op == RA_NONE)
		timer_set(&x->srv->loop, &x->tick, d);
}

void xfrin_init(struct xfrin *x, struct server *s, struct cat_zone *cz, const struct cfg_zone *cfg)
{
	memset(x, 0, sizeof(*x));
	x->srv = s;
	x->cz = cz;
	x->cfg = cfg;
	x->io.fd = -1;
	timer_init(&x->tick, tick, x);
	timer_init(&x->timeout, on_timeout, x);
	refresh_init(&x->r, (unsigned)cfg->n_primary, loop_clock());
}

void xfrin_start(struct xfrin *x)
{
	timer_set(&x->srv->loop, &x->tick, loop_clock());
}

void xfrin_stop(struct xfrin *x)
{
	op_end(x);
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
