/* Answering queries over UDP and TCP. */
/* IP_PKTINFO and struct in6_pktinfo are GNU/Linux extensions: they let a
 * socket bound to a wildcard address answer from the address it was asked
 * on, which a multi-homed server needs. */
#define _GNU_SOURCE
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../../core/query.h"
#include "../../core/rrl.h"
#include "log.h"
#include "workers.h"
#include "xfrin.h"

#define MAX_TCP_MSG (65535 + 2)

void sockaddr_to_netaddr(const struct sockaddr *sa, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		out->family = 4;
		memcpy(out->addr, &s4->sin_addr, 4);
		out->port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		out->port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			out->family = 4;
			memcpy(out->addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			out->family = 6;
			memcpy(out->addr, &s6->sin6_addr, 16);
		}
	}
}

const char *sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	return cfg_addr_str(sa, buf, len);
}

/* ---- UDP ----------------------------------------------------------- */

/* Received and sent in batches (recvmmsg/sendmmsg): one system call for
 * many queries is most of the speed of a UDP server. */
#define UDP_QMAX 4096 /* larger queries are cut and answered TC (udp_serve()) */

union udp_ctl {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(20)]; /* struct in6_pktinfo, the larger */
};

struct udp_batch {
	struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
	struct iovec iin[UDP_BATCH], iout[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	union udp_ctl ctl[UDP_BATCH];
	uint8_t q[UDP_BATCH][UDP_QMAX];
	uint8_t r[UDP_BATCH][4096];
	struct query_hint hint[UDP_BATCH]; /* for a big zone (udp_serve()) */
	int used; /* entries of in[] that the last recvmmsg() filled */
	struct stats st; /* written by the thread that owns the batch */
};

void server_udp_stats(const struct udp_batch *b, uint64_t *sum)
{
	if (b)
		stats_sum(&b->st, sum);
}

struct udp_batch *udp_batch_new(void)
{
	struct udp_batch *b = malloc(sizeof(struct udp_batch));
	if (!b)
		return NULL;
	stats_init(&b->st);
	for (int i = 0; i < UDP_BATCH; i++) {
		b->iin[i].iov_base = b->q[i];
		b->iin[i].iov_len = UDP_QMAX;
		struct msghdr *mh = &b->in[i].msg_hdr;
		mh->msg_name = &b->from[i];
		mh->msg_namelen = sizeof(b->from[i]);
		mh->msg_iov = &b->iin[i];
		mh->msg_iovlen = 1;
		mh->msg_control = b->ctl[i].buf;
		mh->msg_controllen = sizeof(b->ctl[i].buf);
		mh->msg_flags = 0;
	}
	b->used = 0;
	return b;
}

_Static_assert(sizeof(union udp_ctl) >= CMSG_SPACE(sizeof(struct in6_pktinfo)),
	       "room for the destination address of a query");

/* Keep only the destination of the query, to answer from that address. */
static size_t reply_from(struct msghdr *mh, union udp_ctl *ctl)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t len = 0;
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (struct in_pktinfo *)(void *)CMSG_DATA(cm);
			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0;
			len = CMSG_SPACE(sizeof(struct in_pktinfo));
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			len = CMSG_SPACE(sizeof(struct in6_pktinfo));
		} else {
			continue;
		}
		if (cm != (struct cmsghdr *)(void *)ctl->buf)
			memmove(ctl->buf, cm, cm->cmsg_len); /* the one we keep goes first */
		return len;
	}
	return 0;
}

int udp_serve(struct server *s, int fd, struct udp_batch *b, const struct catalog *cat,
	      int main_thread)
{
	uint16_t udp_max = (uint16_t)atomic_load_explicit(&s->cfg_udp_max, memory_order_relaxed);
	/* The kernel shortened the lengths of the entries it filled last
	 * time (and reply_from() moved their control data); the rest of each
	 * header stays as udp_batch_new() set it. */
	for (int i = 0; i < b->used; i++) {
		b->in[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		b->in[i].msg_hdr.msg_controllen = sizeof(b->ctl[i].buf);
	}
	int n = recvmmsg(fd, b->in, UDP_BATCH, MSG_DONTWAIT, NULL);
	b->used = n > 0 ? n : 0;
	if (n <= 0)
		return 0; /* EAGAIN, or an ICMP error reported late */
	stats_add(&b->st, ST_UDP, (uint64_t)n);
	uint64_t now = (uint64_t)time(NULL);
	int hinted = s->prefetch && n >= ICB_PREFETCH_BATCH;
	if (hinted) {
		/* A big zone: the batch's lookups a step at a time, each
		 * step's cache misses overlapping (query.h). */
		for (int i = 0; i < n; i++)
			query_hint_start(cat, b->q[i], b->in[i].msg_len, &b->hint[i]);
		for (int i = 0; i < n; i++)
			query_hint_next(&b->hint[i]);
	}
	int out = 0;
	for (int i = 0; i < n; i++) {
		/* The next few queries' lookups go a step further while this
		 * one is answered: a step's load has an answer's time to come. */
		for (int j = i; hinted && j < n && j < i + ICB_PREFETCH_AHEAD; j++)
			query_hint_next(&b->hint[j]);
		struct msghdr *mh = &b->in[i].msg_hdr;
		size_t qlen = b->in[i].msg_len;
		struct query_env env = { TRANSPORT_UDP, udp_max, { 0 }, now, s->rrl != NULL, 0 };
		sockaddr_to_netaddr((struct sockaddr *)&b->from[i], &env.client);
		int cut = (mh->msg_flags & MSG_TRUNC) && qlen >= 12;
		if (cut) {
			/* Longer than UDP_QMAX: what follows the question is
			 * lost. The question with TC, nothing more: the client
			 * asks again over TCP, which takes any size. */
			memset(b->q[i] + 6, 0, 6);
			env.slip = 1;
		}
		struct query_result res;
		size_t rlen = query_process_hinted(cat, hinted && !cut ? &b->hint[i] : NULL, b->q[i],
						   qlen, &env, b->r[out], sizeof(b->r[out]), &res);
		if (res.action == QA_NOTIFY || res.action == QA_NOTIFY_REFUSED) {
			struct notify_event ev;
			notify_event_make(&ev, &res, (struct sockaddr *)&b->from[i], mh->msg_namelen,
					  b->q[i], qlen);
			if (main_thread)
				notify_handle(s, &ev);
			else if (workers_notify(s, &ev) < 0)
				rlen = 0; /* not taken: unanswered, its sender tries again */
		}
		if (rlen == 0) {
			stats_add(&b->st, ST_DROPPED, 1);
			continue;
		}
		if (s->rrl) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
			pthread_mutex_lock(&s->rrl_lock);
			int act = rrl_check(s->rrl, &env.client, res.rrl_name, res.qtype, res.rcode,
					    res.rrl_kind, ms);
			pthread_mutex_unlock(&s->rrl_lock);
			if (act == RRL_DROP) {
				stats_add(&b->st, ST_RRL_DROP, 1);
				continue;
			}
			if (act == RRL_SLIP) {
				stats_add(&b->st, ST_RRL_SLIP, 1);
				/* Answered again as a slip: TC, the question, our
				 * OPT and TSIG, nothing more (query.h). */
				struct query_result slip;
				env.slip = 1;
				env.rrl = 0;
				rlen = query_process(cat, b->q[i], qlen, &env, b->r[out],
						     sizeof(b->r[out]), &slip);
				if (rlen == 0)
					continue;
			}
		}
		stats_response(&b->st, res.rcode, (b->r[out][2] & 0x02) != 0);
		size_t ctl_len = reply_from(mh, &b->ctl[i]);
		b->iout[out].iov_base = b->r[out];
		b->iout[out].iov_len = rlen;
		struct msghdr *om = &b->out[out].msg_hdr;
		om->msg_name = &b->from[i];
		om->msg_namelen = mh->msg_namelen;
		om->msg_iov = &b->iout[out];
		om->msg_iovlen = 1;
		om->msg_control = ctl_len ? b->ctl[i].buf : NULL;
		om->msg_controllen = ctl_len;
		om->msg_flags = 0;
		out++;
	}
	for (int sent = 0; sent < out;) {
		int k = sendmmsg(fd, b->out + sent, (unsigned)(out - sent), 0);
		if (k <= 0) {
			sent++; /* a peer that cannot be reached: skip its answer */
			continue;
		}
		sent += k;
	}
	return n;
}

void udp_drain(struct server *s, int fd, struct udp_batch *b, const struct catalog *cat,
	       int main_thread)
{
	/* Under load more queries have come while a batch was answered:
	 * reading again until the socket is empty saves a return to the wait
	 * for events per batch (measured: about 4% less system time per
	 * query at full load). */
	for (int round = 0; round < 4; round++)
		if (udp_serve(s, fd, b, cat, main_thread) == 0)
			return;
}

static void udp_ready(struct loop *l, struct io *io, uint32_t events)
{
	(void)l;
	(void)events;
	struct listener *ls = io->arg;
	struct server *s = ls->srv;
	udp_drain(s, io->fd, s->udp, &s->cat, 1);
}

/* ---- TCP (RFC 7766) ------------------------------------------------ */

struct tcp_conn {
	struct io io;
	struct tcp_conn *prev, *next; /* all open connections, to close at exit */
	struct server *srv;
	struct timer idle;
	struct sockaddr_storage peer;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
};

static void tcp_close(struct loop *l, struct tcp_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	loop_del(l, &c->io);
	timer_cancel(l, &c->idle);
	close(c->io.fd);
	c->srv->tcp_count--;
	free(c->in);
	free(c->out);
	free(c);
}

static void tcp_idle(struct loop *l, struct timer *t)
{
	struct tcp_conn *c = t->arg;
	if (log_enabled(LOG_DEBUG_)) {
		char a[80];
		log_msg(LOG_DEBUG_, "TCP client %s idle: closed",
			sockaddr_str((struct sockaddr *)&c->peer, a, sizeof(a)));
	}
	tcp_close(l, c);
}

static int tcp_flush(struct tcp_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->io.fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

static int tcp_queue(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	size_t need = c->out_len + 2 + len;
	if (need > c->out_cap) {
		size_t nc = c->out_cap ? c->out_cap : 1024;
		while (nc < need)
			nc *= 2;
		uint8_t *n = realloc(c->out, nc);
		if (!n)
			return -1;
		c->out = n;
		c->out_cap = nc;
	}
	c->out[c->out_len] = (uint8_t)(len >> 8);
	c->out[c->out_len + 1] = (uint8_t)len;
	memcpy(c->out + c->out_len + 2, msg, len);
	c->out_len += 2 + len;
	return 0;
}

/* Answers the complete messages read so far, in order, until the output
 * holds TCP_OUT_BUDGET octets; keeps a partial message.  1: messages
 * remain (the budget was reached), 0: all answered, -1: close (a zero
 * length, which cannot hold a header: nothing sensible follows on this
 * stream, or no memory). */
#define TCP_OUT_BUDGET 65536
static int tcp_answer(struct server *s, struct tcp_conn *c)
{
	size_t off = 0;
	int more = 0;
	while (c->in_len - off >= 2) {
		size_t mlen = (size_t)((c->in[off] << 8) | c->in[off + 1]);
		if (mlen == 0)
			return -1;
		if (c->in_len - off < 2 + mlen)
			break;
		if (c->out_len >= TCP_OUT_BUDGET) {
			more = 1;
			break;
		}
		const uint8_t *q = c->in + off + 2;
		struct query_env env = { TRANSPORT_TCP, (uint16_t)s->cfg->udp_max_payload, { 0 },
					 (uint64_t)time(NULL), 0, 0 };
		sockaddr_to_netaddr((struct sockaddr *)&c->peer, &env.client);
		struct query_result res;
		size_t rlen = query_process(&s->cat, q, mlen, &env, s->buf, 65535, &res);
		stats_add(&s->tcp_stats, ST_TCP, 1);
		if (rlen)
			stats_response(&s->tcp_stats, res.rcode, (s->buf[2] & 0x02) != 0);
		else
			stats_add(&s->tcp_stats, ST_DROPPED, 1);
		if (res.action == QA_NOTIFY || res.action == QA_NOTIFY_REFUSED) {
			struct notify_event ev;
			notify_event_make(&ev, &res, (struct sockaddr *)&c->peer, sizeof(c->peer), q, mlen);
			notify_handle(s, &ev);
		}
		if (rlen && tcp_queue(c, s->buf, rlen) < 0)
			return -1;
		off += 2 + mlen;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	/* Room for the rest of a message begun (its length read), and
	 * for a few small ones besides. */
	size_t want = c->in_len >= 2 ? 2 + (size_t)((c->in[0] << 8) | c->in[1]) : 0;
	if (want < 4096)
		want = 4096;
	if (want > c->in_cap) {
		uint8_t *n = realloc(c->in, want);
		if (!n)
			return -1;
		c->in = n;
		c->in_cap = want;
	}
	return more;
}

static void tcp_ready(struct loop *l, struct io *io, uint32_t events)
{
	struct tcp_conn *c = io->arg;
	struct server *s = c->srv;

	if (events & (EPOLLERR | EPOLLHUP)) {
		tcp_close(l, c);
		return;
	}
	/* Pipelined queries (RFC 7766 6.2.1.1): what has arrived is read in
	 * one go, answered in order and sent in one write; no more is read
	 * while output is pending (a client that does not read its answers
	 * is not given more).  A bounded number of reads per wake-up, so
	 * that one busy client does not starve the rest. */
	for (int reads = 0;;) {
		if (c->out_len && tcp_flush(c) < 0) {
			tcp_close(l, c);
			return;
		}
		if (c->out_len) {
			loop_mod(l, io, EPOLLOUT);
			return;
		}
		int more = tcp_answer(s, c);
		if (more < 0) {
			tcp_close(l, c);
			return;
		}
		if (more || c->out_len)
			continue; /* send, then answer the rest */
		if (reads++ == 4)
			break;
		ssize_t n = read(io->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			tcp_close(l, c);
			return;
		}
		if (n < 0)
			break;
		c->in_len += (size_t)n;
		timer_set(l, &c->idle, l->now + s->cfg->tcp_idle_timeout * 1000u);
	}
	loop_mod(l, io, EPOLLIN);
}

/* The pause is over: the TCP listeners accept again. */
static void accept_resume(struct loop *l, struct timer *t)
{
	struct server *s = t->arg;
	for (unsigned i = 0; i < s->n_listeners; i++) {
		struct listener *ls = &s->listeners[i];
		if (ls->paused && loop_mod(l, &ls->io, EPOLLIN) == 0)
			ls->paused = 0;
	}
}

/* Out of descriptors (or memory): the connection waits in the kernel's
 * queue, and the listener, still readable, would be called again at once
 * for as long as it lasts (a core spent, transfers starved).  Not
 * accepting for a quarter of a second lets closes and transfers go on;
 * logged once a minute. */
static void accept_pause(struct server *s, struct listener *ls, int err)
{
	if (loop_mod(&s->loop, &ls->io, 0) == 0)
		ls->paused = 1;
	if (!timer_pending(&s->accept_again))
		timer_set(&s->loop, &s->accept_again, s->loop.now + 250);
	uint64_t now = s->loop.now;
	if (!s->accept_logged || now - s->accept_logged >= 60000) {
		s->accept_logged = now;
		struct rlimit rl;
		unsigned long long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (unsigned long long)rl.rlim_cur : 0;
		log_msg(LOG_ERR_, "TCP: cannot accept connections: %s (%u clients open, descriptor limit %llu): not accepting for 250 ms",
			strerror(err), s->tcp_count, lim);
	}
}

void server_fd_budget(struct server *s)
{
	const struct cfg *c = s->cfg;
	unsigned workers = c->udp_workers ? c->udp_workers : 1;
	rlim_t reserve = 32 + (rlim_t)s->n_listeners * workers * 2 + (rlim_t)c->xfr_concurrency * 2;
	rlim_t want = reserve + c->tcp_clients;
	unsigned room = c->tcp_clients;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rlim_t to = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
		struct rlimit raised = { to, rl.rlim_max };
		if (to > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl.rlim_cur = to;
		if (rl.rlim_cur < want)
			room = rl.rlim_cur > reserve + 1 ? (unsigned)(rl.rlim_cur - reserve) : 1;
	}
	if (room < c->tcp_clients && room != s->tcp_room)
		log_msg(LOG_NOTICE_, "tcp-clients %u lowered to %u: the descriptor limit (ulimit -n) is %llu, and %llu are kept for sockets, transfers and files",
			c->tcp_clients, room, (unsigned long long)rl.rlim_cur, (unsigned long long)reserve);
	s->tcp_room = room;
}

static void tcp_accept(struct loop *l, struct io *io, uint32_t events)
{
	(void)events;
	struct listener *ls = io->arg;
	struct server *s = ls->srv;
	unsigned limit = s->tcp_room; /* tcp-clients, or less (server_fd_budget(), before the loop) */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(io->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_pause(s, ls, errno);
			return;
		}
		if (s->tcp_count >= limit) {
			/* RFC 7766 6.2.2: over the limit, close at once. */
			close(fd);
			if (log_enabled(LOG_INFO_)) {
				char a[80];
				log_msg(LOG_INFO_, "TCP client %s refused: %u connections open",
					sockaddr_str((struct sockaddr *)&peer, a, sizeof(a)), s->tcp_count);
			}
			continue;
		}
		struct tcp_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		/* Answers go out in one write per read (tcp_ready): Nagle's
		 * wait for an acknowledgement would only delay them. */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->srv = s;
		c->peer = peer;
		c->io.fd = fd;
		c->io.fn = tcp_ready;
		c->io.arg = c;
		timer_init(&c->idle, tcp_idle, c);
		if (loop_add(l, &c->io, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		s->tcp_count++;
		c->next = s->conns;
		if (c->next)
			c->next->prev = c;
		s->conns = c;
		timer_set(l, &c->idle, l->now + s->cfg->tcp_idle_timeout * 1000u);
	}
}

/* ---- NOTIFY -------------------------------------------------------- */

/* What a NOTIFY came to, kept by value: a query thread hands it to the
 * main thread, where the catalog may have changed in between. */
void notify_event_make(struct notify_event *ev, const struct query_result *res,
		       const struct sockaddr *from, socklen_t fromlen, const uint8_t *q,
		       size_t qlen)
{
	memset(ev, 0, sizeof(*ev));
	ev->action = res->action;
	ev->why = res->why;
	ev->has_serial = res->has_serial;
	ev->serial = res->serial;
	memcpy(&ev->from, from, fromlen < sizeof(ev->from) ? fromlen : sizeof(ev->from));
	/* The question names the zone; query_process checked it. */
	struct cursor c;
	cur_init(&c, q, qlen);
	c.pos = 12;
	if (name_parse(&c, ev->name, 1) < 0)
		ev->name[0] = 0;
}

void notify_handle(struct server *s, const struct notify_event *ev)
{
	char a[80], zt[NAME_TEXT_MAX];
	sockaddr_str((const struct sockaddr *)&ev->from, a, sizeof(a));
	if (name_to_text(ev->name, zt, sizeof(zt)) < 0)
		snprintf(zt, sizeof(zt), "?");
	size_t zl = strlen(zt);
	if (zl > 1 && zt[zl - 1] == '.')
		zt[zl - 1] = '\0';
	struct cat_zone *cz = catalog_exact(&s->cat, ev->name);
	if (ev->action == QA_NOTIFY_REFUSED || !cz || !cz->user) {
		log_msg(LOG_NOTICE_, "zone %s: NOTIFY from %s refused: %s", zt, a,
			ev->why ? ev->why : "zone not served");
		return;
	}
	if (ev->has_serial)
		log_msg(LOG_NOTICE_, "zone %s: NOTIFY from %s accepted, serial %lu", zt, a,
			(unsigned long)ev->serial);
	else
		log_msg(LOG_NOTICE_, "zone %s: NOTIFY from %s accepted", zt, a);
	struct netaddr na;
	sockaddr_to_netaddr((const struct sockaddr *)&ev->from, &na);
	xfrin_notify(cz->user, &na);
}

/* ---- listening ----------------------------------------------------- */

static int sockaddr_is_any(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return 0;
}

/* A bound socket for a listen address; -1 after logging why not. */
static int bound_socket(struct server *s, const struct cfg_addr *a, int tcp)
{
	char txt[80];
	sockaddr_str((const struct sockaddr *)&a->sa, txt, sizeof(txt));
	int fam = a->sa.ss_family;
	int fd = socket(fam, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* With query threads, each has its own UDP socket on the address and
	 * the kernel spreads the queries (SO_REUSEPORT, Linux 3.9). */
	if (!tcp && s->cfg->udp_workers > 1)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/* On a wildcard address, answer from the address the query came to
	 * (its destination, IP_PKTINFO); bound to one address the kernel
	 * does that already, and the control message would cost every
	 * datagram a parse on the way in and out. */
	if (!tcp && sockaddr_is_any((const struct sockaddr *)&a->sa)) {
		if (fam == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) < 0)
		goto fail;
	if (tcp && listen(fd, 128) < 0)
		goto fail;
	return fd;
fail:
	log_msg(LOG_ERR_, "cannot listen on %s (%s): %s", txt, tcp ? "TCP" : "UDP", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int open_one(struct server *s, const struct cfg_addr *a, int tcp)
{
	int fd = bound_socket(s, a, tcp);
	if (fd < 0)
		return -1;
	struct listener *ls = &s->listeners[s->n_listeners];
	ls->srv = s;
	ls->tcp = tcp;
	ls->family = a->sa.ss_family;
	ls->io.fd = fd;
	ls->io.fn = tcp ? tcp_accept : udp_ready;
	ls->io.arg = ls;
	if ((tcp ? loop_add(&s->loop, &ls->io, EPOLLIN) : loop_add_polled(&s->loop, &ls->io)) < 0) {
		close(fd);
		return -1;
	}
	s->n_listeners++;
	return 0;
}

/* The listen addresses in use (the defaults when none is configured). */
static const struct cfg_addr *listen_list(const struct server *s, struct cfg_addr *defaults,
					  size_t *n)
{
	if (s->cfg->n_listen) {
		*n = s->cfg->n_listen;
		return s->cfg->listen;
	}
	cfg_parse_addr("0.0.0.0", 53, &defaults[0]);
	cfg_parse_addr("::", 53, &defaults[1]);
	*n = 2;
	return defaults;
}

int server_udp_sockets(struct server *s, int *fds, unsigned *n_fds)
{
	struct cfg_addr defaults[2];
	size_t n;
	const struct cfg_addr *list = listen_list(s, defaults, &n);
	*n_fds = 0;
	for (size_t i = 0; i < n; i++) {
		int fd = bound_socket(s, &list[i], 0);
		if (fd < 0)
			return -1;
		fds[(*n_fds)++] = fd;
	}
	return 0;
}

int server_listen(struct server *s)
{
	timer_init(&s->accept_again, accept_resume, s);
	if (!s->udp && !(s->udp = udp_batch_new())) {
		log_msg(LOG_ERR_, "cannot start: out of memory");
		return -1;
	}
	struct cfg_addr defaults[2];
	size_t n;
	const struct cfg_addr *list = listen_list(s, defaults, &n);
	for (size_t i = 0; i < n; i++)
		if (open_one(s, &list[i], 0) < 0 || open_one(s, &list[i], 1) < 0)
			return -1;
	return 0;
}

void server_close(struct server *s)
{
	timer_cancel(&s->loop, &s->accept_again);
	while (s->conns)
		tcp_close(&s->loop, s->conns);
	for (unsigned i = 0; i < s->n_listeners; i++) {
		loop_del(&s->loop, &s->listeners[i].io);
		close(s->listeners[i].io.fd);
	}
	s->n_listeners = 0;
	free(s->udp);
	s->udp = NULL;
}
