/* The event loop: descriptors in epoll and polled ones, timers, removal. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "platform/posix/loop.h"
#include "test.h"

struct probe {
	struct io io;
	int calls;
	char last;
	struct loop *l;
	struct io *drop; /* removed by the first call, if set */
};

static volatile sig_atomic_t stop_flag;

static void on_readable(struct loop *l, struct io *io, uint32_t events)
{
	struct probe *p = io->arg;
	CHECK(events & EPOLLIN);
	char c;
	if (read(io->fd, &c, 1) == 1)
		p->last = c;
	p->calls++;
	if (p->drop) {
		loop_del(l, p->drop);
		p->drop = NULL;
	}
}

static void on_stop(struct loop *l, struct timer *t)
{
	(void)l;
	(void)t;
	stop_flag = 1;
}

static int writes(int fd, char c)
{
	return write(fd, &c, 1) == 1;
}

static void probe_init(struct probe *p, int fd)
{
	p->io.fd = fd;
	p->io.fn = on_readable;
	p->io.arg = p;
	p->calls = 0;
	p->last = 0;
	p->drop = NULL;
}

/* A timer that sets itself again in the past each time it runs (as a
 * zone's refresh once did after it expired), 1000 times, noting when the
 * probe's descriptor was first served. */
struct rogue {
	struct timer t;
	int fired, served_at;
	struct probe *p;
};

static void on_rogue(struct loop *l, struct timer *t)
{
	struct rogue *r = t->arg;
	r->fired++;
	if (r->p->calls && !r->served_at)
		r->served_at = r->fired;
	if (r->fired < 1000)
		timer_set(l, t, 0);
	else
		stop_flag = 1;
}

/* Run until a timer 30 ms from now: long enough for what is readable. */
static void run_a_while(struct loop *l, struct timer *t)
{
	stop_flag = 0;
	timer_set(l, t, loop_clock() + 30);
	CHECK_EQ(loop_run(l, &stop_flag), 0);
}

/* An octet into each of two pipes (fd -1: none), then a run. */
static void write_run(struct loop *l, struct timer *t, int fd1, char c1, int fd2, char c2)
{
	CHECK(writes(fd1, c1));
	if (fd2 >= 0)
		CHECK(writes(fd2, c2));
	run_a_while(l, t);
}

void test_loop(void)
{
	struct loop l;
	CHECK_EQ(loop_init(&l), 0);
	int a[2], b[2], c[2];
	CHECK_EQ(pipe(a), 0);
	CHECK_EQ(pipe(b), 0);
	CHECK_EQ(pipe(c), 0);
	struct probe pa, pb, pc;
	probe_init(&pa, a[0]); /* in epoll */
	probe_init(&pb, b[0]); /* polled */
	probe_init(&pc, c[0]); /* polled */
	CHECK_EQ(loop_add(&l, &pa.io, EPOLLIN), 0);
	CHECK_EQ(loop_add_polled(&l, &pb.io), 0);
	CHECK_EQ(loop_add_polled(&l, &pc.io), 0);
	/* The polled ones are not in epoll (that is their point); the
	 * other is. */
	CHECK(epoll_ctl(l.epfd, EPOLL_CTL_DEL, b[0], NULL) < 0 && errno == ENOENT);
	CHECK(epoll_ctl(l.epfd, EPOLL_CTL_DEL, c[0], NULL) < 0 && errno == ENOENT);
	struct epoll_event probe_ev = { .events = EPOLLIN, .data.ptr = &pa.io };
	CHECK(epoll_ctl(l.epfd, EPOLL_CTL_MOD, a[0], &probe_ev) == 0);
	struct timer t;
	timer_init(&t, on_stop, NULL);

	/* Nothing readable: only the timer ends the run. */
	run_a_while(&l, &t);
	CHECK_EQ(pa.calls + pb.calls + pc.calls, 0);

	/* Each kind is served, together and apart. */
	write_run(&l, &t, a[1], 'x', b[1], 'y');
	CHECK_EQ(pa.calls, 1);
	CHECK_EQ(pa.last, 'x');
	CHECK_EQ(pb.calls, 1);
	CHECK_EQ(pb.last, 'y');
	CHECK_EQ(pc.calls, 0);
	write_run(&l, &t, a[1], 'p', -1, 0);
	CHECK_EQ(pa.calls, 2);
	CHECK_EQ(pb.calls, 1);
	write_run(&l, &t, c[1], 'z', -1, 0);
	CHECK_EQ(pc.calls, 1);
	CHECK_EQ(pc.last, 'z');

	/* A polled io removed from inside a callback is not called again,
	 * and the one that took its place still is. */
	pb.drop = &pb.io;
	write_run(&l, &t, b[1], '1', -1, 0);
	CHECK_EQ(pb.calls, 2);
	write_run(&l, &t, b[1], '2', c[1], '3');
	CHECK_EQ(pb.calls, 2);
	CHECK_EQ(pc.calls, 2);
	CHECK_EQ(pc.last, '3');

	/* One removed by another's callback in the same wake-up is not
	 * called: both readable, the first served drops the other. */
	struct probe pd, pe;
	int d[2], f[2];
	CHECK_EQ(pipe(d), 0);
	CHECK_EQ(pipe(f), 0);
	probe_init(&pd, d[0]);
	probe_init(&pe, f[0]);
	CHECK_EQ(loop_add_polled(&l, &pd.io), 0);
	CHECK_EQ(loop_add_polled(&l, &pe.io), 0);
	pd.drop = &pe.io;
	pe.drop = &pd.io;
	write_run(&l, &t, d[1], 'd', f[1], 'e');
	CHECK_EQ(pd.calls + pe.calls, 1);
	loop_del(&l, pd.calls ? &pd.io : &pe.io);
	for (int i = 0; i < 2; i++) {
		close(d[i]);
		close(f[i]);
	}

	/* With no polled io left the loop waits in epoll alone. */
	loop_del(&l, &pc.io);
	write_run(&l, &t, c[1], '4', a[1], '5');
	CHECK_EQ(pc.calls, 2);
	CHECK_EQ(pa.calls, 3);
	CHECK_EQ(pa.last, '5');

	/* Past LOOP_POLLED the io goes into epoll, and is still served. */
	struct probe many[LOOP_POLLED + 1];
	int m[2], e[2];
	CHECK_EQ(pipe(m), 0);
	CHECK_EQ(pipe(e), 0);
	for (int i = 0; i < LOOP_POLLED; i++) {
		probe_init(&many[i], e[0]); /* never readable */
		CHECK_EQ(loop_add_polled(&l, &many[i].io), 0);
	}
	probe_init(&many[LOOP_POLLED], m[0]);
	CHECK_EQ(loop_add_polled(&l, &many[LOOP_POLLED].io), 0);
	CHECK_EQ(l.n_polled, LOOP_POLLED);
	probe_ev.data.ptr = &many[LOOP_POLLED].io;
	CHECK(epoll_ctl(l.epfd, EPOLL_CTL_MOD, m[0], &probe_ev) == 0); /* in epoll */
	write_run(&l, &t, m[1], 'm', -1, 0);
	CHECK_EQ(many[LOOP_POLLED].calls, 1);
	CHECK_EQ(many[0].calls + many[LOOP_POLLED - 1].calls, 0);
	loop_del(&l, &many[LOOP_POLLED].io);
	for (int i = 0; i < LOOP_POLLED; i++)
		loop_del(&l, &many[i].io);

	/* A timer always due does not keep the loop from its descriptors:
	 * they are served after a bounded number of its runs. */
	{
		struct rogue r = { .fired = 0, .served_at = 0, .p = &pa };
		timer_init(&r.t, on_rogue, &r);
		pa.calls = 0;
		CHECK(writes(a[1], 'r'));
		stop_flag = 0;
		timer_set(&l, &r.t, 0);
		CHECK_EQ(loop_run(&l, &stop_flag), 0);
		CHECK_EQ(r.fired, 1000);
		CHECK(r.served_at > 0 && r.served_at <= 300);
		CHECK_EQ(pa.last, 'r');
	}

	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
		close(c[i]);
		close(m[i]);
		close(e[i]);
	}
	loop_free(&l);
}
