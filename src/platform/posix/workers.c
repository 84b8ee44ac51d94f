/* Query threads and the reclamation of what they read. */
#define _GNU_SOURCE /* recvmmsg, SO_REUSEPORT, eventfd */
#include "workers.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "xfrin.h"

#define OFFLINE UINT64_MAX /* asleep: holds nothing */

struct worker {
	struct server *s;
	pthread_t thread;
	int started;
	int fds[2 * CFG_MAX_LISTEN];
	unsigned n_fds;
	struct udp_batch *b;
	_Atomic uint64_t seen; /* the generation it last started a batch in */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *s = w->s;
	/* poll(), not epoll: see loop_add_polled(). */
	struct pollfd pf[2 * CFG_MAX_LISTEN];
	for (unsigned k = 0; k < w->n_fds; k++) {
		pf[k].fd = w->fds[k];
		pf[k].events = POLLIN;
	}
	while (!atomic_load(&s->workers_stop)) {
		atomic_store(&w->seen, OFFLINE);
		/* A bounded sleep, so a stop request is seen. */
		int n = poll(pf, w->n_fds, 200);
		atomic_store(&w->seen, atomic_load(&s->gen));
		const struct catalog *cat = atomic_load(&s->live);
		for (unsigned k = 0; n > 0 && k < w->n_fds; k++)
			if (pf[k].revents)
				udp_drain(s, pf[k].fd, w->b, cat, 0);
	}
	atomic_store(&w->seen, OFFLINE);
	return NULL;
}

/* The main thread takes the NOTIFYs the query threads answered. */
static void notify_ready(struct loop *l, struct io *io, uint32_t events)
{
	(void)l;
	(void)events;
	uint64_t v;
	if (read(io->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	workers_notify_drain(io->arg);
}

int workers_notify(struct server *s, const struct notify_event *ev)
{
	pthread_mutex_lock(&s->notify_lock);
	int queued = s->notify_n < sizeof(s->notify_q) / sizeof(s->notify_q[0]);
	if (queued)
		s->notify_q[s->notify_n++] = *ev;
	pthread_mutex_unlock(&s->notify_lock);
	if (!queued)
		return -1;
	uint64_t one = 1;
	if (write(s->notify_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: the main thread is waking anyway */
	}
	return 0;
}

void workers_stats(const struct server *s, uint64_t *sum)
{
	/* Worker 0 is the main thread, whose batches are s->udp. */
	for (unsigned i = 1; i < s->n_workers; i++)
		server_udp_stats(s->workers[i].b, sum);
}

void workers_notify_drain(struct server *s)
{
	struct notify_event q[64];
	pthread_mutex_lock(&s->notify_lock);
	unsigned n = s->notify_n;
	memcpy(q, s->notify_q, n * sizeof(q[0]));
	s->notify_n = 0;
	pthread_mutex_unlock(&s->notify_lock);
	for (unsigned i = 0; i < n; i++)
		notify_handle(s, &q[i]);
}

static void reclaim_tick(struct loop *l, struct timer *t)
{
	struct server *s = t->arg;
	workers_reclaim(s);
	if (s->n_retired)
		timer_set(l, t, loop_clock() + 50);
}

void workers_retire(struct server *s, void *p, void (*fn)(void *))
{
	if (!p)
		return;
	if (s->n_workers <= 1) {
		fn(p); /* one thread: nothing else can hold it */
		return;
	}
	if (s->n_retired == s->cap_retired) {
		size_t nc = s->cap_retired ? 2 * s->cap_retired : 16;
		struct retired *r = realloc(s->retired, nc * sizeof(*r));
		if (!r) {
			/* Cannot wait: wait for every thread right here. */
			uint64_t t = atomic_fetch_add(&s->gen, 1) + 1;
			for (unsigned i = 1; i < s->n_workers; i++)
				while (atomic_load(&s->workers[i].seen) < t)
					sched_yield();
			fn(p);
			return;
		}
		s->retired = r;
		s->cap_retired = nc;
	}
	/* Readers that started before this generation may hold p. */
	uint64_t ticket = atomic_fetch_add(&s->gen, 1) + 1;
	s->retired[s->n_retired++] = (struct retired){ p, fn, ticket };
	/* A sweep 50 ms after the first of them, not pushed back by each
	 * later one: versions replaced every few milliseconds (reloads,
	 * NOTIFY storms) would otherwise never be freed. */
	if (!timer_pending(&s->reclaim))
		timer_set(&s->loop, &s->reclaim, loop_clock() + 50);
}

void workers_reclaim(struct server *s)
{
	uint64_t oldest = OFFLINE;
	for (unsigned i = 1; i < s->n_workers; i++) {
		uint64_t v = atomic_load(&s->workers[i].seen);
		if (v < oldest)
			oldest = v;
	}
	size_t keep = 0;
	for (size_t i = 0; i < s->n_retired; i++) {
		if (s->retired[i].ticket <= oldest)
			s->retired[i].fn(s->retired[i].p);
		else
			s->retired[keep++] = s->retired[i];
	}
	size_t freed = s->n_retired - keep;
	s->n_retired = keep;
	if (freed && !keep)
		xfrin_versions_changed(s); /* versions served without their index */
}

int workers_start(struct server *s)
{
	unsigned n = s->cfg->udp_workers;
	s->n_workers = 1;
	pthread_mutex_init(&s->notify_lock, NULL);
	timer_init(&s->reclaim, reclaim_tick, s);
	s->notify_fd = -1;
	if (n <= 1)
		return 0;
	s->workers = calloc(n, sizeof(*s->workers));
	s->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!s->workers || s->notify_fd < 0)
		return -1;
	s->notify_io.fd = s->notify_fd;
	s->notify_io.fn = notify_ready;
	s->notify_io.arg = s;
	if (loop_add(&s->loop, &s->notify_io, EPOLLIN) < 0)
		return -1;
	for (unsigned i = 1; i < n; i++) {
		struct worker *w = &s->workers[i];
		w->s = s;
		atomic_store(&w->seen, OFFLINE);
		w->b = udp_batch_new();
		if (!w->b)
			return -1;
		/* Its own socket on every UDP address (SO_REUSEPORT). */
		if (server_udp_sockets(s, w->fds, &w->n_fds) < 0)
			return -1;
		/* Signals go to the main thread, whose wait for events they
		 * interrupt: a query thread starts with them all blocked. */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		int rc = pthread_create(&w->thread, NULL, worker_main, w);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != 0)
			return -1;
		w->started = 1;
		s->n_workers = i + 1;
	}
	log_msg(LOG_INFO_, "%u query threads", n);
	return 0;
}

void workers_stop(struct server *s)
{
	atomic_store(&s->workers_stop, 1);
	for (unsigned i = 1; s->workers && i < s->cfg->udp_workers; i++) {
		struct worker *w = &s->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		for (unsigned k = 0; k < w->n_fds; k++)
			close(w->fds[k]);
		free(w->b);
	}
	/* No reader is left: everything retired can go. */
	for (size_t i = 0; i < s->n_retired; i++)
		s->retired[i].fn(s->retired[i].p);
	s->n_retired = 0;
	free(s->retired);
	s->retired = NULL;
	free(s->workers);
	s->workers = NULL;
	s->n_workers = 1;
	if (s->notify_fd >= 0) {
		loop_del(&s->loop, &s->notify_io);
		close(s->notify_fd);
		s->notify_fd = -1;
	}
	timer_cancel(&s->loop, &s->reclaim);
	pthread_mutex_destroy(&s->notify_lock);
}
