/* The running server: its event loop, its zones, its listening sockets. */
#ifndef ICBIND_SERVER_H
#define ICBIND_SERVER_H

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../../core/catalog.h"
#include "../../core/netaddr.h"
#include "config.h"
#include "loop.h"

struct xfrin;
struct tcp_conn;
struct udp_batch;

struct listener {
	struct io io;
	struct server *srv;
	int tcp;
	int family;
};

struct server {
	struct loop loop;
	const struct cfg *cfg;
	struct catalog cat;
	/* Each catalog zone's user pointer is its struct xfrin. */
	struct listener listeners[2 * CFG_MAX_LISTEN];
	unsigned n_listeners;
	unsigned tcp_count;
	struct tcp_conn *conns;         /* open inbound TCP connections */
	unsigned xfr_active;            /* SOA checks and transfers under way */
	struct xfrin *xfr_wait_head, *xfr_wait_tail; /* zones waiting for a slot */
	volatile sig_atomic_t signalled, stop, reload;
	struct udp_batch *udp;          /* buffers for UDP batches */
	uint8_t buf[65536 + 2];         /* TCP responses, and transfer reads */
};

/* Open every listening socket; -1 after logging which one failed. */
int server_listen(struct server *s);
void server_close(struct server *s);

/* Socket addresses and the core's netaddr. */
void sockaddr_to_netaddr(const struct sockaddr *sa, struct netaddr *out);
const char *sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);

#endif
