/* The running server: its event loop, its zones, its listening sockets. */
#ifndef ICBIND_SERVER_H
#define ICBIND_SERVER_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <stdatomic.h>

#include "../../core/catalog.h"
#include "../../core/netaddr.h"
#include "config.h"
#include "loop.h"
#include "members.h"
#include "stats.h"

struct xfrin;
struct tcp_conn;
struct worker;

/* The buffers of a batch of UDP queries and answers (server.c). */
#define UDP_BATCH 32
struct udp_batch;
struct udp_batch *udp_batch_new(void);

/* A NOTIFY, by value (see notify_event_make()). */
struct notify_event {
	int action;
	const char *why;
	int has_serial;
	uint32_t serial;
	uint8_t name[NAME_MAXLEN];
	struct sockaddr_storage from;
};

struct retired {
	void *p;
	void (*fn)(void *);
	uint64_t ticket;
};

struct listener {
	struct io io;
	struct server *srv;
	int tcp;
	int family;
	int paused;      /* TCP: not accepting for a moment (out of descriptors) */
};

struct server {
	struct loop loop;
	const struct cfg *cfg;
	struct catalog cat;
	/* Each catalog zone's user pointer is its struct xfrin. */
	struct listener listeners[2 * CFG_MAX_LISTEN];
	unsigned n_listeners;
	unsigned tcp_count;
	unsigned tcp_room;              /* tcp-clients, as the descriptor limit allows (server_fd_budget) */
	struct timer accept_again;      /* ends a pause of the TCP listeners */
	uint64_t accept_logged;         /* when the last pause was logged (ms) */
	struct tcp_conn *conns;         /* open inbound TCP connections */
	unsigned xfr_active;            /* SOA checks and transfers under way */
	struct xfrin *xfr_wait_head, *xfr_wait_tail; /* zones waiting for a slot */
	volatile sig_atomic_t signalled, stop, reload, report;
	time_t started;                 /* for the SIGUSR1 report */
	struct member_set members;      /* zones catalog zones list (members.h) */
	int catalogs_dirty;             /* a catalog zone has a new version */
	struct stats tcp_stats;         /* TCP queries (main thread) */
	struct udp_batch *udp;          /* buffers for the main thread's UDP batches */
	_Atomic unsigned cfg_udp_max;   /* udp-max-payload: a reload writes it, every thread reads */
	struct rrl *rrl;                /* response rate limiting, or NULL */
	_Atomic int prefetch;           /* a zone served is past the caches (query_hint_start) */
	void *rrl_mem;
	pthread_mutex_t rrl_lock;       /* one table for all threads: an exact limit */

	/* Query threads (workers.c): the catalog they read, the generation
	 * count and what waits to be freed, the NOTIFYs they hand over. */
	struct catalog *_Atomic live;
	struct worker *workers;
	unsigned n_workers;
	_Atomic uint64_t gen;
	_Atomic int workers_stop;
	struct retired *retired;
	size_t n_retired, cap_retired;
	struct timer reclaim;
	int notify_fd;
	struct io notify_io;
	pthread_mutex_t notify_lock;
	struct notify_event notify_q[64];
	unsigned notify_n;
	uint8_t buf[65536 + 2];         /* TCP responses, and transfer reads */
};

/* Open every listening socket; -1 after logging which one failed. */
int server_listen(struct server *s);
/* The TCP clients the descriptor limit (RLIMIT_NOFILE, raised to the hard
 * limit if tcp-clients needs it) leaves room for beside the listening and
 * query threads' sockets, transfers and files: s->tcp_room.  At start and
 * on reload; logged when it is less than tcp-clients. */
void server_fd_budget(struct server *s);
void server_close(struct server *s);

/* One more bound UDP socket on every listen address (for a query thread). */
int server_udp_sockets(struct server *s, int *fds, unsigned *n_fds);

/* Add the counters of a thread's UDP batches into sum[ST_N] (stats.h). */
void server_udp_stats(const struct udp_batch *b, uint64_t *sum);

/* Answer one batch of UDP queries from fd with cat; returns how many came
 * in.  NOTIFYs are handled at once on the main thread, else handed over. */
int udp_serve(struct server *s, int fd, struct udp_batch *b, const struct catalog *cat,
	      int main_thread);
/* udp_serve() again while batches come, a bounded number of times (so
 * that TCP and timers are not starved). */
void udp_drain(struct server *s, int fd, struct udp_batch *b, const struct catalog *cat,
	       int main_thread);
struct query_result;
void notify_event_make(struct notify_event *ev, const struct query_result *res,
		       const struct sockaddr *from, socklen_t fromlen, const uint8_t *q,
		       size_t qlen);
void notify_handle(struct server *s, const struct notify_event *ev);

/* Socket addresses and the core's netaddr. */
void sockaddr_to_netaddr(const struct sockaddr *sa, struct netaddr *out);
const char *sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);

#endif
