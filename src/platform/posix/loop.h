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

struct loop {
	int epfd;
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

void timer_init(struct timer *t, timer_fn fn, void *arg);
int timer_set(struct loop *l, struct timer *t, uint64_t when);
void timer_cancel(struct loop *l, struct timer *t);

/* Run until *stop becomes non-zero. */
int loop_run(struct loop *l, volatile sig_atomic_t *stop);

#endif
