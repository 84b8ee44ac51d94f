/* The event loop: epoll for descriptors, a binary heap for timers. */
#ifndef ICBIND_LOOP_H
#define ICBIND_LOOP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct io;
struct timer;

typedef void (*io_fn)(struct loop *l, struct io *io, uint32_t events);
typedef void (*timer_fn)(struct loop *l, struct timer *t);

struct io {
	int fd;
	io_fn fn;
	void *arg;
};

struct timer {
	uint64_t when;   /* ms, loop_now() clock */
	timer_fn fn;
	void *arg;
	size_t slot;     /* position in the heap, or (size_t)-1 */
};

/* Descriptors waited for with poll() rather than epoll (loop_add_polled()). */
#define LOOP_POLLED 16

struct loop {
	int epfd;
	struct io *polled[LOOP_POLLED];
	unsigned n_polled;
	struct timer **heap;
	size_t n_timers, cap_timers;
	uint64_t now;
};

int loop_init(struct loop *l);
void loop_free(struct loop *l);

/* Milliseconds on the monotonic clock. */
uint64_t loop_clock(void);

/* events: EPOLLIN / EPOLLOUT. */
int loop_add(struct loop *l, struct io *io, uint32_t events);
int loop_mod(struct loop *l, struct io *io, uint32_t events);
void loop_del(struct loop *l, struct io *io);

/* Readable io waited for by poll() with the epoll descriptor, for the
 * busiest sockets: epoll keeps its entry on a socket's wait queue, and
 * every datagram received or sent then pays a wake-up call through it
 * (loop.c).  Removed by loop_del(). */
int loop_add_polled(struct loop *l, struct io *io);

void timer_init(struct timer *t, timer_fn fn, void *arg);
int timer_set(struct loop *l, struct timer *t, uint64_t when);
void timer_cancel(struct loop *l, struct timer *t);
/* Is t set (and not yet run or cancelled)? */
int timer_pending(const struct timer *t);

/* Run until *stop becomes non-zero. */
int loop_run(struct loop *l, volatile sig_atomic_t *stop);

#endif
