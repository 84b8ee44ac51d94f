/* ICBIND over lwIP's raw API: queries over UDP and TCP, and each zone's
 * refresh (SOA check over UDP, over TCP when truncated, AXFR over TCP),
 * driven by one lwIP timeout.  See icb_lwip.h. */
#include "icb_lwip.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/opt.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

#include "../../core/query.h"
#include "../../core/rrtype.h"
#include "../../core/serial.h"
#include "../../core/tsig.h"
#include "../../core/wire.h"
#include "../../core/xfr.h"
#include "../../core/zonebuilder.h"
#include "../../core/zonepatch.h"

#if !LWIP_UDP || !LWIP_TCP || !LWIP_TIMERS
#error "ICBIND needs lwIP with UDP, TCP and timeouts (LWIP_UDP, LWIP_TCP, LWIP_TIMERS)"
#endif

#define POLL_TICKS 2       /* tcp_poll interval: coarse timer ticks of 500 ms */
#define CLIENT_IDLE 10     /* polls (10 s) a TCP client may wait between queries */
#define TICK_MAX_MS 60000u /* the timer wakes at least once a minute */
#define QUERY_MAX 512      /* our own SOA and AXFR queries, TSIG included */

void icb_lwip_config_default(struct icb_lwip_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port = 53;
	c->tcp = 1;
	c->tcp_clients = ICB_TCP_CLIENTS;
	c->udp_max = ICB_UDP_MAX;
	c->zone_max_bytes = ICB_ZONE_MAX_BYTES;
	c->xfr_concurrency = 1;
	c->xfr_timeout_ms = 10000;
}

/* ---- addresses and logging ------------------------------------------ */

static void to_netaddr(const ip_addr_t *ip, uint16_t port, struct netaddr *n)
{
	memset(n, 0, sizeof(*n));
	n->port = port;
#if LWIP_IPV6
	if (IP_IS_V6(ip)) {
		n->family = 6;
		memcpy(n->addr, ip_2_ip6(ip)->addr, 16);
		return;
	}
#endif
#if LWIP_IPV4
	n->family = 4;
	memcpy(n->addr, &ip_2_ip4(ip)->addr, 4);
#endif
}

static int from_netaddr(const struct netaddr *n, ip_addr_t *ip)
{
#if LWIP_IPV6
	if (n->family == 6) {
		ip_addr_set_zero_ip6(ip);
		memcpy(ip_2_ip6(ip)->addr, n->addr, 16);
		return 0;
	}
#endif
#if LWIP_IPV4
	if (n->family == 4) {
		ip_addr_set_zero_ip4(ip);
		memcpy(&ip_2_ip4(ip)->addr, n->addr, 4);
		return 0;
	}
#endif
	return -1;
}

static const char *addr_text(const struct netaddr *n, char *buf, int len)
{
	ip_addr_t ip;
	if (from_netaddr(n, &ip) < 0 || !ipaddr_ntoa_r(&ip, buf, len))
		snprintf(buf, (size_t)len, "?");
	return buf;
}

/* A log line about a zone: "zone NAME: ...". */
static void zlog(const struct icb_lwip_zone *z, int level, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
static void zlog(const struct icb_lwip_zone *z, int level, const char *fmt, ...)
{
	char name[128], msg[192];
	if (name_to_text(z->cz->apex, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "(a long name)");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	icb_bsp_log(level, "zone %s: %s", name, msg);
}

static const char *tcp_err_text(err_t e)
{
	switch (e) {
	case ERR_RST: return "connection reset";
	case ERR_ABRT: return "connection aborted (no answer)";
	case ERR_CLSD: return "connection closed";
	case ERR_MEM: return "out of memory";
	case ERR_RTE: return "no route";
	case ERR_CONN: return "not connected";
	default: return "connection failed";
	}
}

/* ---- inbound queries ------------------------------------------------- */

static void schedule(struct icb_lwip *s);

/* After a query: a NOTIFY starts a check of the zone (RFC 1996). */
static void after_query(struct icb_lwip *s, const struct query_result *res,
			const struct netaddr *from)
{
	char peer[48];
	if (res->action == QA_NOTIFY_REFUSED) {
		icb_bsp_log(ICB_LOG_NOTICE, "NOTIFY from %s refused: %s",
			    addr_text(from, peer, sizeof(peer)), res->why ? res->why : "not allowed");
		return;
	}
	if (res->action != QA_NOTIFY || !res->zone || !res->zone->user)
		return;
	struct icb_lwip_zone *z = res->zone->user;
	int idx = -1;
	for (unsigned i = 0; i < z->cz->n_primary; i++) {
		const struct netaddr *p = &z->cz->primary[i];
		if (p->family == from->family &&
		    memcmp(p->addr, from->addr, p->family == 4 ? 4 : 16) == 0)
			idx = (int)i;
	}
	if (res->has_serial)
		zlog(z, ICB_LOG_NOTICE, "NOTIFY from %s accepted, serial %lu",
		     addr_text(from, peer, sizeof(peer)), (unsigned long)res->serial);
	else
		zlog(z, ICB_LOG_NOTICE, "NOTIFY from %s accepted", addr_text(from, peer, sizeof(peer)));
	refresh_notify(&z->r, icb_bsp_now_ms(), idx);
	schedule(s);
}

/* A query over UDP: the answer is written straight into the pbuf sent. */
static void udp_query(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		      u16_t port)
{
	struct icb_lwip *s = arg;
	struct query_env env;
	env.transport = TRANSPORT_UDP;
	env.udp_max = s->cfg.udp_max;
	env.now = icb_bsp_time();
	env.rrl = 0;
	env.slip = 0;
	to_netaddr(addr, port, &env.client);
	ip_addr_t to;
	ip_addr_copy(to, *addr);
	s->queries++;

	const uint8_t *q = p->payload;
	uint8_t *copy = NULL;
	if (p->len != p->tot_len) {
		/* A chain (rare for a query): made whole. */
		copy = malloc(p->tot_len);
		if (!copy) {
			s->dropped++;
			pbuf_free(p);
			return;
		}
		pbuf_copy_partial(p, copy, p->tot_len, 0);
		q = copy;
	}
	struct pbuf *r = pbuf_alloc(PBUF_TRANSPORT, s->cfg.udp_max, PBUF_RAM);
	struct query_result res;
	size_t len = 0;
	if (r)
		len = query_process(&s->cat, q, p->tot_len, &env, r->payload, r->len, &res);
	else
		s->dropped++;
	free(copy);
	pbuf_free(p);
	if (!r)
		return;
	if (len > 0) {
		pbuf_realloc(r, (u16_t)len);
		if (udp_sendto(pcb, r, &to, port) != ERR_OK)
			s->dropped++;
	}
	pbuf_free(r);
	after_query(s, &res, &env.client);
}

static void client_free(struct icb_lwip_client *c)
{
	c->srv->tcp_clients--;
	free(c->q);
	free(c);
}

/* Close a client's connection; ERR_ABRT if it had to be aborted (the
 * caller, a callback of this pcb, must return that). */
static err_t client_close(struct icb_lwip_client *c)
{
	struct tcp_pcb *pcb = c->pcb;
	client_free(c);
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
	if (tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

/* A whole query from a TCP client: answer it.  -1 if the connection must
 * close. */
static int client_answer(struct icb_lwip_client *c)
{
	struct icb_lwip *s = c->srv;
	size_t cap = tcp_sndbuf(c->pcb);
	if (cap > 65535 + 2)
		cap = 65535 + 2;
	if (cap < 2 + 512)
		return -1; /* answers not taken yet: no pipelining that deep */
	uint8_t *out = malloc(cap);
	if (!out)
		return -1;
	struct query_env env;
	env.transport = TRANSPORT_TCP;
	env.udp_max = s->cfg.udp_max;
	env.now = icb_bsp_time();
	env.rrl = 0;
	env.slip = 0;
	to_netaddr(&c->pcb->remote_ip, c->pcb->remote_port, &env.client);
	struct query_result res;
	s->queries++;
	size_t len = query_process(&s->cat, c->q, c->need, &env, out + 2, cap - 2, &res);
	int rc = 0;
	if (len > 0) {
		out[0] = (uint8_t)(len >> 8);
		out[1] = (uint8_t)len;
		if (tcp_write(c->pcb, out, (u16_t)(len + 2), TCP_WRITE_FLAG_COPY) != ERR_OK)
			rc = -1;
		else
			tcp_output(c->pcb);
	}
	free(out);
	after_query(s, &res, &env.client);
	return rc;
}

static err_t client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct icb_lwip_client *c = arg;
	if (!p)
		return client_close(c); /* the client is done */
	if (err != ERR_OK) {
		pbuf_free(p);
		return err;
	}
	c->idle = 0;
	u16_t total = p->tot_len;
	int close = 0;
	for (struct pbuf *b = p; b && !close; b = b->next) {
		const uint8_t *d = b->payload;
		size_t n = b->len;
		while (n > 0 && !close) {
			if (c->len_have < 2) {
				c->len_buf[c->len_have++] = *d++;
				n--;
				if (c->len_have < 2)
					continue;
				c->need = (uint16_t)((c->len_buf[0] << 8) | c->len_buf[1]);
				c->have = 0;
				/* A query is small; anything else ends the connection. */
				if (c->need < 12 || c->need > c->srv->cfg.udp_max ||
				    !(c->q = malloc(c->need))) {
					close = 1;
					break;
				}
				continue;
			}
			size_t left = (size_t)(c->need - c->have), take = left < n ? left : n;
			memcpy(c->q + c->have, d, take);
			c->have = (uint16_t)(c->have + take);
			d += take;
			n -= take;
			if (c->have == c->need) {
				close = client_answer(c) < 0;
				free(c->q);
				c->q = NULL;
				c->len_have = 0;
			}
		}
	}
	pbuf_free(p);
	if (close)
		return client_close(c);
	tcp_recved(pcb, total);
	return ERR_OK;
}

static void client_err(void *arg, err_t err)
{
	(void)err;
	struct icb_lwip_client *c = arg;
	if (c)
		client_free(c); /* lwIP has freed the pcb */
}

static err_t client_poll(void *arg, struct tcp_pcb *pcb)
{
	(void)pcb;
	struct icb_lwip_client *c = arg;
	if (c && ++c->idle >= CLIENT_IDLE)
		return client_close(c);
	return ERR_OK;
}

static err_t client_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct icb_lwip *s = arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct icb_lwip_client *c = NULL;
	if (s->tcp_clients >= s->cfg.tcp_clients || !(c = calloc(1, sizeof(*c)))) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->srv = s;
	c->pcb = pcb;
	s->tcp_clients++;
	tcp_arg(pcb, c);
	tcp_recv(pcb, client_recv);
	tcp_err(pcb, client_err);
	tcp_poll(pcb, client_poll, POLL_TICKS);
	tcp_nagle_disable(pcb);
	return ERR_OK;
}

/* ---- keeping the zones fresh ----------------------------------------- */

static int primary_addr(const struct icb_lwip_zone *z, ip_addr_t *ip, u16_t *port)
{
	const struct netaddr *n = &z->cz->primary[z->primary];
	*port = n->port ? n->port : 53;
	return from_netaddr(n, ip);
}

static const char *peer_text(const struct icb_lwip_zone *z, char *buf, int len)
{
	char a[46];
	const struct netaddr *n = &z->cz->primary[z->primary];
	snprintf(buf, (size_t)len, "%s@%u", addr_text(n, a, sizeof(a)), n->port ? n->port : 53u);
	return buf;
}

static void release(struct icb_lwip_zone *z)
{
	if (z->has_slot) {
		z->has_slot = 0;
		z->srv->xfr_active--;
	}
}

/* Let go of a TCP connection of ours; ERR_ABRT if it had to be aborted. */
static err_t tcp_shut(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

/* End the check or transfer under way, freeing its state.  current is the
 * pcb whose callback we are in (or NULL): the result is what it returns. */
static err_t op_end(struct icb_lwip_zone *z, const struct tcp_pcb *current)
{
	err_t rc = ERR_OK;
	if (z->udp) {
		udp_remove(z->udp);
		z->udp = NULL;
	}
	if (z->tcp) {
		err_t e = tcp_shut(z->tcp);
		if (z->tcp == current)
			rc = e;
		z->tcp = NULL;
	}
	if (z->xp) {
		xfr_free(z->xp);
		free(z->xp);
		z->xp = NULL;
	}
	if (z->zb) {
		zb_free(z->zb);
		free(z->zb);
		z->zb = NULL;
	}
	if (z->ts) {
		tsig_stream_free(z->ts);
		free(z->ts);
		z->ts = NULL;
	}
	free(z->msg);
	z->msg = NULL;
	z->op = RA_NONE;
	return rc;
}

static err_t op_failed(struct icb_lwip_zone *z, const char *why, const struct tcp_pcb *current)
{
	char peer[64];
	zlog(z, ICB_LOG_NOTICE, "%s from %s failed: %s",
	     z->op == RA_TRANSFER ? "transfer" : "SOA query", peer_text(z, peer, sizeof(peer)), why);
	err_t rc = op_end(z, current);
	refresh_xfr_done(&z->r, icb_bsp_now_ms(), 0, 0, 0, 0);
	release(z);
	schedule(z->srv);
	return rc;
}

/* Progress: no more for xfr_timeout_ms, or the whole over xfr_max_time_ms,
 * and the operation fails. */
static void progress(struct icb_lwip_zone *z)
{
	const struct icb_lwip_config *c = &z->srv->cfg;
	uint64_t t = icb_bsp_now_ms() + c->xfr_timeout_ms;
	if (c->xfr_max_time_ms && z->op == RA_TRANSFER && z->started + c->xfr_max_time_ms < t)
		t = z->started + c->xfr_max_time_ms;
	z->deadline = t;
}

/* Sign our request when the primary has a key, keeping its MAC. */
static int sign_request(struct icb_lwip_zone *z, uint8_t *msg, size_t *len, size_t cap)
{
	const struct tsig_key *k = z->cz->primary_key[z->primary];
	if (!k)
		return 0;
	z->req_mac_len = 0;
	return tsig_sign(k, msg, len, cap, icb_bsp_time(), NULL, 0, 0, z->req_mac, &z->req_mac_len);
}

static void start_soa(struct icb_lwip_zone *z, int tcp);
static void start_transfer(struct icb_lwip_zone *z);

static void op_tcp_err(void *arg, err_t err)
{
	struct icb_lwip_zone *z = arg;
	if (!z)
		return;
	z->tcp = NULL; /* lwIP has freed it */
	op_failed(z, tcp_err_text(err), NULL);
}

/* The answer to our SOA query: checked, then compared with what we serve. */
static err_t soa_answer(struct icb_lwip_zone *z, const uint8_t *msg, size_t n,
			const struct tcp_pcb *current)
{
	const struct tsig_key *k = z->cz->primary_key[z->primary];
	uint32_t serial;
	if (k) {
		struct tsig_rr rr;
		int st = tsig_verify(msg, n, k, 1, icb_bsp_time(), z->req_mac, z->req_mac_len, &rr,
				     NULL);
		if (st != TSIG_OK)
			return op_failed(z, st == TSIG_UNSIGNED ? "the answer is not signed (TSIG)" :
					    st == TSIG_EPEER ? tsig_rcode_text(rr.error) : tsig_strerror(st),
					 current);
	}
	if (!z->soa_tcp && n >= 4 && (msg[2] & 0x02)) {
		/* Truncated: ask again over TCP (RFC 1035 4.2.1). */
		err_t rc = op_end(z, current);
		start_soa(z, 1);
		return rc;
	}
	if (refresh_parse_soa(msg, n, z->id, z->cz->apex, &serial) < 0)
		return op_failed(z, "no usable SOA in the answer", current);
	const struct zone *cur = z->cz->current;
	uint32_t have = cur ? cur->serial : 0;
	err_t rc = op_end(z, current);
	char peer[64];
	peer_text(z, peer, sizeof(peer));
	if (refresh_soa_done(&z->r, icb_bsp_now_ms(), 1, serial, have) == RA_TRANSFER) {
		zlog(z, ICB_LOG_INFO, "%s has serial %lu, newer than %lu", peer, (unsigned long)serial,
		     (unsigned long)have);
		start_transfer(z);
		return rc;
	}
	if (serial != have)
		zlog(z, ICB_LOG_NOTICE, "%s offers serial %lu, older than the %lu served: not followed",
		     peer, (unsigned long)serial, (unsigned long)have);
	else
		zlog(z, ICB_LOG_INFO, "serial %lu is current at %s", (unsigned long)serial, peer);
	z->cz->expired = 0;
	release(z);
	schedule(z->srv);
	return rc;
}

static void soa_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		     u16_t port)
{
	(void)pcb;
	struct icb_lwip_zone *z = arg;
	ip_addr_t want;
	u16_t want_port;
	/* Only the primary's answer with our ID; anything else is ignored. */
	if (z->op != RA_QUERY_SOA || primary_addr(z, &want, &want_port) < 0 ||
	    !ip_addr_cmp(addr, &want) || port != want_port || p->tot_len < 12) {
		pbuf_free(p);
		return;
	}
	uint8_t *msg = malloc(p->tot_len);
	if (!msg) {
		pbuf_free(p);
		return;
	}
	size_t n = pbuf_copy_partial(p, msg, p->tot_len, 0);
	pbuf_free(p);
	if (((msg[0] << 8) | msg[1]) == z->id)
		soa_answer(z, msg, n, NULL);
	free(msg);
}

/* Connected to the primary: send the query (AXFR, or SOA after a
 * truncated UDP answer). */
static err_t op_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct icb_lwip_zone *z = arg;
	if (err != ERR_OK)
		return op_failed(z, tcp_err_text(err), pcb);
	uint8_t q[2 + QUERY_MAX];
	size_t n = xfr_make_query(q + 2, QUERY_MAX, z->id, z->cz->apex,
				  z->op == RA_TRANSFER ? T_AXFR : T_SOA);
	if (n == 0 || sign_request(z, q + 2, &n, QUERY_MAX) < 0)
		return op_failed(z, "request does not fit", pcb);
	const struct tsig_key *k = z->cz->primary_key[z->primary];
	if (k && z->op == RA_TRANSFER) {
		/* RFC 8945 5.3.1: every message of the answer is checked. */
		z->ts = malloc(sizeof(*z->ts));
		if (!z->ts || tsig_stream_init(z->ts, k, z->req_mac, z->req_mac_len) < 0) {
			free(z->ts);
			z->ts = NULL;
			return op_failed(z, "out of memory", pcb);
		}
		xfr_set_tsig(z->xp, z->ts, icb_bsp_time());
	}
	q[0] = (uint8_t)(n >> 8);
	q[1] = (uint8_t)n;
	if (tcp_write(pcb, q, (u16_t)(n + 2), TCP_WRITE_FLAG_COPY) != ERR_OK)
		return op_failed(z, "out of memory", pcb);
	tcp_output(pcb);
	progress(z);
	return ERR_OK;
}

static err_t xfr_finished(struct icb_lwip_zone *z, struct tcp_pcb *pcb);

static err_t op_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct icb_lwip_zone *z = arg;
	if (!p) {
		/* The primary closed the connection. */
		if (z->op == RA_TRANSFER)
			return xfr_end(z->xp) == XFR_DONE ? xfr_finished(z, pcb)
							  : op_failed(z, z->xp->err, pcb);
		return op_failed(z, "connection closed before the answer", pcb);
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return op_failed(z, tcp_err_text(err), pcb);
	}
	u16_t total = p->tot_len;
	if (z->op == RA_TRANSFER) {
		/* Straight from the segments to the parser: nothing else is
		 * kept of the stream. */
		int rc = XFR_MORE;
		z->xp->now = icb_bsp_time();
		for (struct pbuf *b = p; b && rc == XFR_MORE; b = b->next)
			rc = xfr_feed(z->xp, b->payload, b->len);
		pbuf_free(p);
		if (rc == XFR_DONE)
			return xfr_finished(z, pcb);
		if (rc == XFR_FAIL)
			return op_failed(z, z->xp->err, pcb);
		tcp_recved(pcb, total);
		progress(z);
		return ERR_OK;
	}
	/* The SOA answer over TCP: its length, then the message, gathered. */
	for (struct pbuf *b = p; b; b = b->next) {
		const uint8_t *d = b->payload;
		size_t n = b->len;
		while (n > 0) {
			if (z->len_have < 2) {
				z->len_buf[z->len_have++] = *d++;
				n--;
				if (z->len_have == 2) {
					z->msg_len = (uint16_t)((z->len_buf[0] << 8) | z->len_buf[1]);
					z->msg_have = 0;
					if (z->msg_len < 12 || !(z->msg = malloc(z->msg_len))) {
						pbuf_free(p);
						return op_failed(z, "bad answer", pcb);
					}
				}
				continue;
			}
			size_t left = (size_t)(z->msg_len - z->msg_have), take = left < n ? left : n;
			memcpy(z->msg + z->msg_have, d, take);
			z->msg_have = (uint16_t)(z->msg_have + take);
			d += take;
			n -= take;
			if (z->msg_have == z->msg_len) {
				pbuf_free(p);
				uint8_t *msg = z->msg;
				z->msg = NULL;
				err_t rc = soa_answer(z, msg, z->msg_len, pcb);
				free(msg);
				return rc;
			}
		}
	}
	pbuf_free(p);
	tcp_recved(pcb, total);
	progress(z);
	return ERR_OK;
}

/* Connect to the current primary for the operation under way. */
static int op_connect(struct icb_lwip_zone *z)
{
	ip_addr_t ip;
	u16_t port;
	if (primary_addr(z, &ip, &port) < 0)
		return -1;
	struct tcp_pcb *pcb = tcp_new_ip_type(IP_GET_TYPE(&ip));
	if (!pcb)
		return -1;
	tcp_arg(pcb, z);
	tcp_err(pcb, op_tcp_err);
	tcp_recv(pcb, op_recv);
	z->tcp = pcb;
	if (tcp_connect(pcb, &ip, port, op_connected) != ERR_OK) {
		tcp_shut(pcb);
		z->tcp = NULL;
		return -1;
	}
	return 0;
}

static void start_soa(struct icb_lwip_zone *z, int tcp)
{
	z->op = RA_QUERY_SOA;
	z->soa_tcp = tcp;
	z->len_have = 0;
	z->id = (uint16_t)icb_bsp_random();
	z->started = icb_bsp_now_ms();
	progress(z);
	if (tcp) {
		if (op_connect(z) < 0)
			op_failed(z, "cannot connect", NULL);
		return;
	}
	ip_addr_t ip;
	u16_t port;
	struct pbuf *p = NULL;
	size_t n = 0;
	if (primary_addr(z, &ip, &port) < 0 || !(z->udp = udp_new_ip_type(IP_GET_TYPE(&ip))) ||
	    !(p = pbuf_alloc(PBUF_TRANSPORT, QUERY_MAX, PBUF_RAM))) {
		op_failed(z, "out of memory", NULL);
		return;
	}
	udp_recv(z->udp, soa_recv, z);
	n = xfr_make_query(p->payload, QUERY_MAX, z->id, z->cz->apex, T_SOA);
	if (n == 0 || sign_request(z, p->payload, &n, QUERY_MAX) < 0) {
		pbuf_free(p);
		op_failed(z, "request does not fit", NULL);
		return;
	}
	pbuf_realloc(p, (u16_t)n);
	err_t e = udp_sendto(z->udp, p, &ip, port);
	pbuf_free(p);
	if (e != ERR_OK)
		op_failed(z, tcp_err_text(e), NULL);
}

static void start_transfer(struct icb_lwip_zone *z)
{
	struct icb_lwip *s = z->srv;
	z->op = RA_TRANSFER;
	z->id = (uint16_t)icb_bsp_random();
	z->started = icb_bsp_now_ms();
	progress(z);
	const struct zone *cur = z->cz->current;
	if (cur && s->cfg.xfr_drop_old) {
		/* For a device that cannot hold two versions: the zone answers
		 * SERVFAIL until the new one is in. */
		zlog(z, ICB_LOG_NOTICE, "serial %lu dropped for the transfer (xfr-drop-old)",
		     (unsigned long)cur->serial);
		zone_free(catalog_publish(z->cz, NULL));
	}
	z->zb = malloc(sizeof(*z->zb));
	z->xp = malloc(sizeof(*z->xp));
	if (!z->zb || !z->xp) {
		free(z->zb);
		free(z->xp);
		z->zb = NULL;
		z->xp = NULL;
		op_failed(z, "out of memory", NULL);
		return;
	}
	zb_init(z->zb, z->cz->apex, s->cfg.zone_max_bytes);
	/* A refresh is compared with the served version as it arrives: the
	 * records it still holds are only marked, and the new version shares
	 * what did not change (zonepatch.h).  Without room for the marks,
	 * the whole zone is kept and built. */
	const struct zone *served = z->cz->current;
	if (served && zb_against(z->zb, served) < 0)
		z->zb->err = NULL;
	xfr_init(z->xp, z->cz->apex, z->id, z->zb, z->cz->strip_dnssec);
	z->xp->max_bytes = s->cfg.xfr_max_bytes;
	z->xp->max_records = s->cfg.xfr_max_records;
	char peer[64];
	zlog(z, ICB_LOG_INFO, "AXFR from %s%s", peer_text(z, peer, sizeof(peer)),
	     z->cz->primary_key[z->primary] ? " (TSIG)" : "");
	if (op_connect(z) < 0)
		op_failed(z, "cannot connect", NULL);
}

static err_t xfr_finished(struct icb_lwip_zone *z, struct tcp_pcb *pcb)
{
	struct icb_lwip *s = z->srv;
	unsigned long dropped_class = z->xp->dropped_class, dropped_dnssec = z->xp->dropped_dnssec;
	/* The connection and the parser go first: laying the new version out
	 * takes the most memory. */
	xfr_free(z->xp);
	free(z->xp);
	z->xp = NULL;
	err_t rc = tcp_shut(pcb);
	z->tcp = NULL;
	struct zone *nz = NULL;
	const struct zone *cur = z->cz->current;
	if (zb_finish_served(z->zb, cur, 0, &nz) < 0) {
		op_failed(z, z->zb->err, NULL);
		return rc;
	}
	char peer[64];
	peer_text(z, peer, sizeof(peer));
	uint64_t now = icb_bsp_now_ms();
	if (cur && !serial_newer(nz->serial, cur->serial)) {
		zlog(z, ICB_LOG_NOTICE,
		     "transfer from %s has serial %lu, not newer than the %lu served: kept the served one",
		     peer, (unsigned long)nz->serial, (unsigned long)cur->serial);
		zone_free(nz);
		op_end(z, NULL);
		refresh_xfr_done(&z->r, now, 1, cur->refresh, cur->retry, cur->expire);
		z->cz->expired = 0;
		release(z);
		schedule(s);
		return rc;
	}
	if (dropped_class)
		zlog(z, ICB_LOG_NOTICE, "dropped %lu records of classes other than IN", dropped_class);
	if (dropped_dnssec)
		zlog(z, ICB_LOG_NOTICE, "signed zone served unsigned (strip-dnssec): dropped %lu DNSSEC records",
		     dropped_dnssec);
	/* One thread: the version replaced goes at once, and with it its
	 * nodes and index; then the new one gets its index if it has none
	 * (zone.h zone_index()). */
	zone_free(catalog_publish(z->cz, nz));
	if (zone_index(nz) < 0)
		zlog(z, ICB_LOG_NOTICE, "no memory for the name index: names are looked up by binary search");
	zlog(z, ICB_LOG_NOTICE, "loaded serial %lu from %s by AXFR: %lu records, %lu bytes%s, %lu ms",
	     (unsigned long)nz->serial, peer, (unsigned long)nz->n_records, (unsigned long)nz->bytes,
	     zone_patch_note(nz),
	     (unsigned long)(now - z->started));
	op_end(z, NULL);
	refresh_xfr_done(&z->r, now, 1, nz->refresh, nz->retry, nz->expire);
	release(z);
	schedule(s);
	return rc;
}

/* ---- the timer ---------------------------------------------------------- */

static void tick(void *arg)
{
	struct icb_lwip *s = arg;
	s->timer_armed = 0;
	uint64_t now = icb_bsp_now_ms();
	for (size_t i = 0; i < s->cat.n; i++) {
		struct icb_lwip_zone *z = &s->zones[i];
		if (refresh_expired(&z->r, now) && !z->cz->expired) {
			z->cz->expired = 1;
			zlog(z, ICB_LOG_NOTICE, "expired (no successful check for %lu s): answering SERVFAIL",
			     (unsigned long)z->r.expire);
		}
		if (z->op != RA_NONE) {
			if (now >= z->deadline)
				op_failed(z, s->cfg.xfr_max_time_ms && z->op == RA_TRANSFER &&
						     now >= z->started + s->cfg.xfr_max_time_ms
						     ? "took longer than xfr-max-time" : "timed out",
					  NULL);
			continue;
		}
		if (!refresh_due(&z->r, now) || s->xfr_active >= s->cfg.xfr_concurrency)
			continue;
		z->has_slot = 1;
		s->xfr_active++;
		z->primary = z->r.primary;
		if (refresh_poll(&z->r, now) == RA_QUERY_SOA)
			start_soa(z, 0);
		else
			start_transfer(z);
	}
	schedule(s);
}

/* Arm the timer for the earliest thing to do.  A zone that is due but has
 * to wait for a slot is woken when one is released. */
static void schedule(struct icb_lwip *s)
{
	uint64_t now = icb_bsp_now_ms(), next = now + TICK_MAX_MS;
	int full = s->xfr_active >= s->cfg.xfr_concurrency;
	for (size_t i = 0; i < s->cat.n; i++) {
		const struct icb_lwip_zone *z = &s->zones[i];
		uint64_t d;
		if (z->op != RA_NONE)
			d = z->deadline;
		else if (full && refresh_due(&z->r, now))
			d = z->r.loaded && z->r.expire_at > now ? z->r.expire_at : UINT64_MAX;
		else
			d = refresh_deadline(&z->r, now);
		if (d < next)
			next = d;
	}
	if (s->timer_armed)
		sys_untimeout(tick, s);
	sys_timeout((u32_t)(next > now ? next - now : 0), tick, s);
	s->timer_armed = 1;
}

/* ---- start and stop ------------------------------------------------------ */

int icb_lwip_start(struct icb_lwip *s, const struct icb_lwip_config *cfg, struct cat_zone *zones,
		   struct icb_lwip_zone *zstate, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (s->cfg.udp_max < 512)
		s->cfg.udp_max = 512;
	if (s->cfg.xfr_concurrency == 0)
		s->cfg.xfr_concurrency = 1;
	if (s->cfg.xfr_timeout_ms == 0)
		s->cfg.xfr_timeout_ms = 10000;
	s->cat.zones = zones;
	s->cat.n = n;
	s->cat.keys = cfg->keys;
	s->cat.n_keys = cfg->n_keys;
	if (catalog_prepare(&s->cat) < 0) {
		icb_bsp_log(ICB_LOG_ERR, "two zones with the same name");
		return -1;
	}
	/* catalog_prepare sorted the zones: the state follows that order. */
	s->zones = zstate;
	uint64_t now = icb_bsp_now_ms();
	for (size_t i = 0; i < n; i++) {
		struct icb_lwip_zone *z = &zstate[i];
		memset(z, 0, sizeof(*z));
		z->srv = s;
		z->cz = &zones[i];
		z->cz->user = z;
		refresh_init(&z->r, zones[i].n_primary, now, icb_bsp_random() | 1u);
	}
	s->udp = udp_new_ip_type(IPADDR_TYPE_ANY);
	if (!s->udp || udp_bind(s->udp, IP_ANY_TYPE, s->cfg.port) != ERR_OK) {
		icb_bsp_log(ICB_LOG_ERR, "cannot listen on UDP port %u", s->cfg.port);
		icb_lwip_stop(s);
		return -1;
	}
	udp_recv(s->udp, udp_query, s);
	if (s->cfg.tcp) {
		struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
		if (!pcb || tcp_bind(pcb, IP_ANY_TYPE, s->cfg.port) != ERR_OK) {
			if (pcb)
				tcp_close(pcb);
			icb_bsp_log(ICB_LOG_ERR, "cannot listen on TCP port %u", s->cfg.port);
			icb_lwip_stop(s);
			return -1;
		}
		s->listen = tcp_listen(pcb);
		if (!s->listen) {
			tcp_close(pcb);
			icb_bsp_log(ICB_LOG_ERR, "cannot listen on TCP port %u", s->cfg.port);
			icb_lwip_stop(s);
			return -1;
		}
		tcp_arg(s->listen, s);
		tcp_accept(s->listen, client_accept);
	}
	icb_bsp_log(ICB_LOG_NOTICE, "serving %lu zones on port %u (UDP%s)", (unsigned long)n,
		    s->cfg.port, s->cfg.tcp ? " and TCP" : "");
	schedule(s);
	return 0;
}

void icb_lwip_stop(struct icb_lwip *s)
{
	if (s->timer_armed)
		sys_untimeout(tick, s);
	s->timer_armed = 0;
	for (size_t i = 0; s->zones && i < s->cat.n; i++) {
		struct icb_lwip_zone *z = &s->zones[i];
		op_end(z, NULL);
		release(z);
		zone_free(catalog_publish(z->cz, NULL));
	}
	if (s->udp)
		udp_remove(s->udp);
	s->udp = NULL;
	if (s->listen)
		tcp_close(s->listen);
	s->listen = NULL;
	/* Connected clients go when they close or idle out. */
}
