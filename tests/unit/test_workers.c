/* Reclaiming replaced zone versions (workers.c): a stream of retirements
 * must not keep postponing the sweep that frees them. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform/posix/loop.h"
#include "platform/posix/server.h"
#include "platform/posix/workers.h"
#include "test.h"

static int freed;

static void count_free(void *p)
{
	free(p);
	freed++;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

void test_workers(void)
{
	struct server *s = calloc(1, sizeof(*s));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(loop_init(&s->loop), 0);
	timer_init(&s->reclaim, NULL, s); /* never run here: only its deadline is looked at */

	/* One thread: freed at once. */
	s->n_workers = 1;
	workers_retire(s, malloc(8), count_free);
	CHECK_EQ(freed, 1);
	CHECK(!timer_pending(&s->reclaim));

	/* Query threads: kept, and a sweep set 50 ms after the first. */
	s->n_workers = 2;
	workers_retire(s, malloc(8), count_free);
	CHECK_EQ(s->n_retired, 1);
	CHECK(timer_pending(&s->reclaim));
	uint64_t first = s->reclaim.when;
	CHECK(first >= loop_clock() && first <= loop_clock() + 50);
	/* More retirements, each a few milliseconds after the last (a storm
	 * of reloads or NOTIFYs): the sweep stays where it was. */
	for (int i = 0; i < 5; i++) {
		sleep_ms(3);
		workers_retire(s, malloc(8), count_free);
		CHECK_EQ(s->reclaim.when, first);
	}
	CHECK_EQ(s->n_retired, 6);
	CHECK_EQ(freed, 1);
	/* Each retirement has its own, later generation. */
	for (size_t i = 1; i < s->n_retired; i++)
		CHECK(s->retired[i].ticket > s->retired[i - 1].ticket);

	/* Cancelled (the sweep ran): the next retirement sets it anew. */
	timer_cancel(&s->loop, &s->reclaim);
	CHECK(!timer_pending(&s->reclaim));
	sleep_ms(2);
	workers_retire(s, malloc(8), count_free);
	CHECK(timer_pending(&s->reclaim));
	CHECK(s->reclaim.when > first);

	/* A NOTIFY a query thread cannot hand over (the queue is full) is
	 * reported, so that it goes unanswered and its sender tries again
	 * (RFC 1996 3.6); an answered one would be lost. */
	pthread_mutex_init(&s->notify_lock, NULL);
	s->notify_fd = -1;
	struct notify_event ev;
	memset(&ev, 0, sizeof(ev));
	size_t cap = sizeof(s->notify_q) / sizeof(s->notify_q[0]);
	for (size_t i = 0; i < cap; i++)
		CHECK_EQ(workers_notify(s, &ev), 0);
	CHECK_EQ(workers_notify(s, &ev), -1);
	CHECK_EQ(s->notify_n, cap);
	s->notify_n = 0;
	CHECK_EQ(workers_notify(s, &ev), 0);
	s->notify_n = 0;
	pthread_mutex_destroy(&s->notify_lock);

	for (size_t i = 0; i < s->n_retired; i++)
		s->retired[i].fn(s->retired[i].p);
	CHECK_EQ(freed, 8);
	free(s->retired);
	loop_free(&s->loop);
	free(s);
}
