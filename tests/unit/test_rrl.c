/* Response rate limiting: token buckets per client network and response
 * class, the debt window, slips, and a table that is too small. */
#include <stdlib.h>
#include <string.h>

#include "core/rrl.h"
#include "test.h"

#define T0 5000000000ull /* ms: past 32 bits, as a long uptime would be */

static const uint8_t WWW[] = "\3www\7example\3com";
static const uint8_t WWW_UPPER[] = "\3WwW\7EXAMPLE\3com";
static const uint8_t MAIL[] = "\4mail\7example\3com";
static const uint8_t APEX[] = "\7example\3com";
static const uint8_t OTHER_APEX[] = "\7example\3org";

#define A 1     /* qtypes */
#define AAAA 28

static struct netaddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct netaddr n;
	memset(&n, 0, sizeof n);
	n.family = 4;
	n.addr[0] = a;
	n.addr[1] = b;
	n.addr[2] = c;
	n.addr[3] = d;
	n.port = 53000;
	return n;
}

/* 2001:db8:0:XXYY::ZZ */
static struct netaddr v6(uint8_t xx, uint8_t yy, uint8_t zz)
{
	struct netaddr n;
	memset(&n, 0, sizeof n);
	n.family = 6;
	n.addr[0] = 0x20;
	n.addr[1] = 0x01;
	n.addr[2] = 0x0d;
	n.addr[3] = 0xb8;
	n.addr[6] = xx;
	n.addr[7] = yy;
	n.addr[15] = zz;
	return n;
}

static struct rrl_config cfg_rate(uint32_t rate, uint32_t window, uint8_t slip)
{
	struct rrl_config c;
	rrl_config_default(&c);
	c.responses_per_second = rate;
	c.window = window;
	c.slip = slip;
	return c;
}

/* A fresh instance in a buffer of its own (freed by the caller). */
static struct rrl *make(const struct rrl_config *c, size_t entries, void **mem)
{
	size_t len = rrl_mem_size(entries);
	*mem = malloc(len);
	return *mem ? rrl_init(*mem, len, c, 0x0123456789ABCDEFull) : NULL;
}

static int answer(struct rrl *r, struct netaddr a, const uint8_t *name, uint16_t qtype,
		  uint64_t now)
{
	return rrl_check(r, &a, name, qtype, 0, RRL_ANSWER, now);
}

struct tally {
	unsigned sent, dropped, slipped;
};

static void count(struct tally *t, int action)
{
	if (action == RRL_SEND)
		t->sent++;
	else if (action == RRL_DROP)
		t->dropped++;
	else if (action == RRL_SLIP)
		t->slipped++;
}

static void test_config(void)
{
	struct rrl_config c;
	rrl_config_default(&c);
	CHECK_EQ(c.responses_per_second, 0);
	CHECK_EQ(c.window, 15);
	CHECK_EQ(c.slip, 2);
	CHECK_EQ(c.ipv4_prefix_length, 24);
	CHECK_EQ(c.ipv6_prefix_length, 56);
	CHECK_EQ(rrl_config_check(&c), 0);

	struct rrl_config bad = c;
	bad.responses_per_second = RRL_MAX_RATE + 1;
	CHECK_EQ(rrl_config_check(&bad), -1);
	bad = c;
	bad.window = RRL_MAX_WINDOW + 1;
	CHECK_EQ(rrl_config_check(&bad), -1);
	bad = c;
	bad.slip = RRL_MAX_SLIP + 1;
	CHECK_EQ(rrl_config_check(&bad), -1);
	bad = c;
	bad.ipv4_prefix_length = 33;
	CHECK_EQ(rrl_config_check(&bad), -1);
	bad = c;
	bad.ipv6_prefix_length = 129;
	CHECK_EQ(rrl_config_check(&bad), -1);

	/* Off: everything is sent, with or without an instance. */
	uint8_t small[256];
	CHECK(rrl_mem_size(0) <= sizeof small);
	struct rrl *r = rrl_init(small, rrl_mem_size(0), &c, 1);
	CHECK(r != NULL);
	CHECK_EQ(rrl_entries(r), 0);
	int all_sent = 1;
	for (unsigned i = 0; i < 1000; i++)
		all_sent &= answer(r, v4(192, 0, 2, 1), WWW, A, T0) == RRL_SEND;
	CHECK(all_sent);
	struct netaddr a = v4(192, 0, 2, 1);
	CHECK_EQ(rrl_check(NULL, &a, WWW, A, 0, RRL_ANSWER, T0), RRL_SEND);
	struct rrl_stats st;
	rrl_get_stats(NULL, &st);
	CHECK_EQ(st.sent, 0);

	/* On: memory for one bucket at least, and a valid configuration. */
	struct rrl_config on = cfg_rate(20, 15, 2);
	CHECK(rrl_init(NULL, 4096, &on, 1) == NULL);
	CHECK(rrl_init(small, 4, &c, 1) == NULL);
	CHECK(rrl_init(small, 8, &on, 1) == NULL);
	CHECK(rrl_init(small, sizeof small, &bad, 1) == NULL);
	CHECK(rrl_mem_size((size_t)-1) == 0);
	/* Any alignment of the memory. */
	static uint64_t buf[64];
	for (unsigned off = 0; off < 8; off++) {
		r = rrl_init((uint8_t *)buf + off, sizeof buf - 8, &on, 1);
		CHECK(r != NULL);
		CHECK(rrl_entries(r) >= 1);
		CHECK_EQ(answer(r, v4(192, 0, 2, 1), WWW, A, T0), RRL_SEND);
	}
	/* rrl_mem_size(n) holds n buckets. */
	void *mem;
	r = make(&on, 100, &mem);
	CHECK(r != NULL);
	CHECK(rrl_entries(r) >= 100);
	free(mem);
}

static void test_rates(void)
{
	void *mem;
	struct rrl_config c = cfg_rate(20, 15, 2);
	struct rrl *r = make(&c, 1000, &mem);
	CHECK(r != NULL);

	/* Under the rate (10 a second) and at it (20 a second, evenly), for
	 * half a minute: everything is sent. */
	struct tally t = {0, 0, 0};
	for (unsigned i = 0; i < 300; i++)
		count(&t, answer(r, v4(192, 0, 2, 1), WWW, A, T0 + i * 100u));
	CHECK_EQ(t.sent, 300);
	memset(&t, 0, sizeof t);
	for (unsigned i = 0; i < 600; i++)
		count(&t, answer(r, v4(198, 51, 100, 1), WWW, A, T0 + i * 50u));
	CHECK_EQ(t.sent, 600);

	/* A burst of 20 at once is sent; the 21st is not. */
	uint64_t now = T0 + 100000;
	memset(&t, 0, sizeof t);
	for (unsigned i = 0; i < 20; i++)
		count(&t, answer(r, v4(203, 0, 113, 9), WWW, A, now));
	CHECK_EQ(t.sent, 20);
	/* A twentieth of a second later there is one more token, and only
	 * one: then the first limited response is dropped, the second slips. */
	CHECK_EQ(answer(r, v4(203, 0, 113, 9), WWW, A, now + 50), RRL_SEND);
	CHECK_EQ(answer(r, v4(203, 0, 113, 9), WWW, A, now + 50), RRL_DROP);
	CHECK_EQ(answer(r, v4(203, 0, 113, 9), WWW, A, now + 50), RRL_SLIP);
	CHECK_EQ(answer(r, v4(203, 0, 113, 9), WWW, A, now + 50), RRL_DROP);
	free(mem);

	/* A rate that does not divide a second: a burst of exactly 3. */
	c = cfg_rate(3, 0, 0);
	r = make(&c, 100, &mem);
	memset(&t, 0, sizeof t);
	for (unsigned i = 0; i < 10; i++)
		count(&t, answer(r, v4(192, 0, 2, 1), WWW, A, T0));
	CHECK_EQ(t.sent, 3);
	CHECK_EQ(t.dropped, 7);
	/* Without a window a flood gets the rate: 3 a second over 100 s. */
	memset(&t, 0, sizeof t);
	for (unsigned i = 1; i <= 10000; i++)
		count(&t, answer(r, v4(192, 0, 2, 1), WWW, A, T0 + i * 10u));
	CHECK(t.sent >= 299 && t.sent <= 301);
	free(mem);
}

static void test_flood(void)
{
	void *mem;
	struct rrl_config c = cfg_rate(20, 15, 2);
	struct rrl *r = make(&c, 1000, &mem);

	/* 200 queries a second for 10 s from all over 192.0.2.0/24, and a
	 * query a second from elsewhere. */
	struct tally flood = {0, 0, 0}, first = {0, 0, 0};
	unsigned others_sent = 0, neighbours_sent = 0, total = 0;
	uint64_t now = T0;
	for (unsigned i = 0; i < 2000; i++, now += 5) {
		int act = answer(r, v4(192, 0, 2, (uint8_t)i), WWW, A, now);
		count(&flood, act);
		if (i < 200)
			count(&first, act);
		total++;
		if (i % 200 == 100) {
			others_sent += answer(r, v4(198, 51, 100, 7), WWW, A, now) == RRL_SEND;
			neighbours_sent += answer(r, v4(192, 0, 3, 1), WWW, A, now) == RRL_SEND;
		}
	}
	CHECK_EQ(others_sent, 10);
	CHECK_EQ(neighbours_sent, 10);
	/* The first second gets its burst (and what refills meanwhile), and
	 * then nothing more while the flood lasts: the debt keeps growing. */
	CHECK(first.sent >= 20 && first.sent <= 23);
	CHECK_EQ(flood.sent, first.sent);
	CHECK_EQ(flood.sent + flood.dropped + flood.slipped, total);
	/* Every other limited response slips. */
	CHECK(flood.slipped + 1 >= flood.dropped && flood.dropped + 1 >= flood.slipped);

	struct rrl_stats st;
	rrl_get_stats(r, &st);
	CHECK_EQ(st.sent, flood.sent + 20);
	CHECK_EQ(st.dropped, flood.dropped);
	CHECK_EQ(st.slipped, flood.slipped);
	CHECK_EQ(st.evicted, 0);

	/* Other names, types and kinds are other classes; case does not make
	 * a new one. */
	CHECK_EQ(answer(r, v4(192, 0, 2, 1), MAIL, A, now), RRL_SEND);
	CHECK_EQ(answer(r, v4(192, 0, 2, 1), WWW, AAAA, now), RRL_SEND);
	CHECK(answer(r, v4(192, 0, 2, 1), WWW_UPPER, A, now) != RRL_SEND);
	struct netaddr a = v4(192, 0, 2, 1);
	CHECK_EQ(rrl_check(r, &a, WWW, A, 0, RRL_NODATA, now), RRL_SEND);
	CHECK_EQ(rrl_check(r, &a, APEX, A, 3, RRL_NXDOMAIN, now), RRL_SEND);
	CHECK_EQ(rrl_check(r, &a, WWW, A, 0, RRL_REFERRAL, now), RRL_SEND);
	CHECK_EQ(rrl_check(r, &a, NULL, A, 5, RRL_ERROR, now), RRL_SEND);

	/* The debt: 15 s after the flood the class is still limited ... */
	now += 15000 - 100;
	CHECK(answer(r, v4(192, 0, 2, 1), WWW, A, now) != RRL_SEND);
	/* ... and a second later (the depth) it is served again, at the
	 * full rate. */
	now += 1200;
	struct tally after = {0, 0, 0};
	for (unsigned i = 0; i < 20; i++)
		count(&after, answer(r, v4(192, 0, 2, 1), WWW, A, now));
	CHECK_EQ(after.sent, 20);
	free(mem);

	/* Without the debt (window 0) a flood gets the rate, every second. */
	c = cfg_rate(20, 0, 2);
	r = make(&c, 1000, &mem);
	struct tally sec[10];
	memset(sec, 0, sizeof sec);
	for (unsigned i = 0; i < 2000; i++)
		count(&sec[i / 200], answer(r, v4(192, 0, 2, 1), WWW, A, T0 + i * 5u));
	CHECK(sec[0].sent >= 38 && sec[0].sent <= 42); /* the burst, and the rate */
	int each_ok = 1;
	for (unsigned s = 1; s < 10; s++)
		each_ok &= sec[s].sent >= 19 && sec[s].sent <= 21;
	CHECK(each_ok);
	free(mem);
}

static void test_slip(void)
{
	static const uint8_t ratios[] = {0, 1, 2, 3, 10};
	for (unsigned k = 0; k < sizeof ratios; k++) {
		void *mem;
		struct rrl_config c = cfg_rate(10, 15, ratios[k]);
		struct rrl *r = make(&c, 100, &mem);
		struct tally t = {0, 0, 0};
		for (unsigned i = 0; i < 10 + 300; i++)
			count(&t, answer(r, v4(192, 0, 2, 1), WWW, A, T0));
		CHECK_EQ(t.sent, 10);
		unsigned slip = ratios[k];
		CHECK_EQ(t.slipped, slip ? 300 / slip : 0);
		CHECK_EQ(t.dropped, 300 - t.slipped);
		free(mem);
	}
}

static void test_kinds(void)
{
	void *mem;
	struct rrl_config c = cfg_rate(5, 15, 0);
	struct rrl *r = make(&c, 1000, &mem);
	struct netaddr a = v4(192, 0, 2, 1);
	uint64_t now = T0;

	/* All NXDOMAINs in a zone share a bucket (the caller passes the
	 * apex), another zone has its own. */
	unsigned sent = 0;
	for (unsigned i = 0; i < 50; i++)
		sent += rrl_check(r, &a, APEX, (uint16_t)i, 3, RRL_NXDOMAIN, now) == RRL_SEND;
	CHECK_EQ(sent, 5);
	CHECK_EQ(rrl_check(r, &a, OTHER_APEX, A, 3, RRL_NXDOMAIN, now), RRL_SEND);
	/* An answer about the apex is not an NXDOMAIN. */
	CHECK_EQ(answer(r, a, APEX, A, now), RRL_SEND);

	/* Errors: one bucket per rcode, whatever the name and type. */
	sent = 0;
	for (unsigned i = 0; i < 50; i++)
		sent += rrl_check(r, &a, i & 1 ? WWW : MAIL, (uint16_t)i, 5, RRL_ERROR, now) ==
			RRL_SEND;
	CHECK_EQ(sent, 5);
	CHECK_EQ(rrl_check(r, &a, NULL, A, 5, RRL_ERROR, now), RRL_DROP);
	CHECK_EQ(rrl_check(r, &a, NULL, A, 1, RRL_ERROR, now), RRL_SEND);
	/* An unknown kind is taken as an error. */
	CHECK_EQ(rrl_check(r, &a, WWW, A, 5, 99, now), RRL_DROP);

	/* NODATA is keyed by the name alone: types do not spread it. */
	sent = 0;
	for (unsigned i = 0; i < 50; i++)
		sent += rrl_check(r, &a, MAIL, (uint16_t)(i + 1), 0, RRL_NODATA, now) == RRL_SEND;
	CHECK_EQ(sent, 5);
	free(mem);
}

static void test_prefixes(void)
{
	void *mem;
	struct rrl_config c = cfg_rate(5, 15, 0);
	struct rrl *r = make(&c, 1000, &mem);
	uint64_t now = T0;

	/* IPv6: 2001:db8:0:100::/56 by default. */
	for (unsigned i = 0; i < 20; i++)
		(void)answer(r, v6(0x01, 0x00, (uint8_t)i), WWW, A, now);
	CHECK_EQ(answer(r, v6(0x01, 0xFF, 0x99), WWW, A, now), RRL_DROP);
	CHECK_EQ(answer(r, v6(0x02, 0x00, 0x01), WWW, A, now), RRL_SEND);
	CHECK_EQ(answer(r, v6(0x00, 0xFF, 0x01), WWW, A, now), RRL_SEND);
	/* IPv4 and IPv6 are apart even when their octets agree. */
	CHECK_EQ(answer(r, v4(0x20, 0x01, 0x0d, 0xb8), WWW, A, now), RRL_SEND);

	/* An IPv4 client on an IPv6 socket is the same IPv4 client. */
	for (unsigned i = 0; i < 20; i++)
		(void)answer(r, v4(192, 0, 2, (uint8_t)i), WWW, A, now);
	struct netaddr mapped;
	memset(&mapped, 0, sizeof mapped);
	mapped.family = 6;
	mapped.addr[10] = 0xFF;
	mapped.addr[11] = 0xFF;
	mapped.addr[12] = 192;
	mapped.addr[14] = 2;
	mapped.addr[15] = 77;
	CHECK_EQ(rrl_check(r, &mapped, WWW, A, 0, RRL_ANSWER, now), RRL_DROP);
	mapped.addr[14] = 3;
	CHECK_EQ(rrl_check(r, &mapped, WWW, A, 0, RRL_ANSWER, now), RRL_SEND);
	free(mem);

	/* Other lengths, also not on an octet boundary. */
	c.ipv4_prefix_length = 20;
	c.ipv6_prefix_length = 64;
	r = make(&c, 1000, &mem);
	for (unsigned i = 0; i < 20; i++)
		(void)answer(r, v4(192, 0, 16, 1), WWW, A, now);
	CHECK_EQ(answer(r, v4(192, 0, 31, 200), WWW, A, now), RRL_DROP);
	CHECK_EQ(answer(r, v4(192, 0, 32, 1), WWW, A, now), RRL_SEND);
	CHECK_EQ(answer(r, v4(192, 0, 15, 1), WWW, A, now), RRL_SEND);
	for (unsigned i = 0; i < 20; i++)
		(void)answer(r, v6(0x01, 0x00, (uint8_t)i), WWW, A, now);
	CHECK_EQ(answer(r, v6(0x01, 0x00, 0xEE), WWW, A, now), RRL_DROP);
	CHECK_EQ(answer(r, v6(0x01, 0x01, 0x01), WWW, A, now), RRL_SEND);
	free(mem);

	/* /32 and /128: each host on its own; /0: everyone together. */
	c.ipv4_prefix_length = 32;
	c.ipv6_prefix_length = 128;
	r = make(&c, 1000, &mem);
	for (unsigned i = 0; i < 20; i++)
		(void)answer(r, v4(192, 0, 2, 1), WWW, A, now);
	CHECK_EQ(answer(r, v4(192, 0, 2, 1), WWW, A, now), RRL_DROP);
	CHECK_EQ(answer(r, v4(192, 0, 2, 2), WWW, A, now), RRL_SEND);
	for (unsigned i = 0; i < 20; i++)
		(void)answer(r, v6(0x01, 0x00, 1), WWW, A, now);
	CHECK_EQ(answer(r, v6(0x01, 0x00, 2), WWW, A, now), RRL_SEND);
	free(mem);
	c.ipv4_prefix_length = 0;
	c.ipv6_prefix_length = 0;
	r = make(&c, 1000, &mem);
	for (unsigned i = 0; i < 20; i++)
		(void)answer(r, v4(10, 0, 0, 1), WWW, A, now);
	CHECK_EQ(answer(r, v4(203, 0, 113, 1), WWW, A, now), RRL_DROP);
	CHECK_EQ(answer(r, v6(0x77, 0x00, 1), WWW, A, now), RRL_SEND);
	free(mem);
}

static void test_full_table(void)
{
	void *mem;
	struct rrl_config c = cfg_rate(20, 15, 2);

	/* The smallest table: one bucket, every class shares or replaces it. */
	uint8_t one[128];
	size_t len = rrl_mem_size(1);
	CHECK(len <= sizeof one);
	struct rrl *r = rrl_init(one, len, &c, 7);
	CHECK(r != NULL);
	CHECK(rrl_entries(r) >= 1);
	unsigned sent = 0;
	for (unsigned i = 0; i < 1000; i++)
		sent += answer(r, v4(10, (uint8_t)(i >> 8), (uint8_t)i, 1), WWW, A, T0) == RRL_SEND;
	CHECK_EQ(sent, 1000); /* each a new class: a fresh bucket each time */

	/* A small table and many networks: no crash, classes are pushed out. */
	r = make(&c, 8, &mem);
	CHECK(r != NULL);
	size_t n = rrl_entries(r);
	CHECK(n >= 8 && n < 16);
	/* One class in debt ... */
	uint64_t now = T0;
	for (unsigned i = 0; i < 200; i++)
		(void)answer(r, v4(192, 0, 2, 1), WWW, A, now);
	/* ... then 20000 networks with a query or two each, spread over 5 s. */
	struct tally t = {0, 0, 0};
	for (unsigned i = 0; i < 20000; i++) {
		struct netaddr a = v6((uint8_t)(i >> 8), (uint8_t)i, 1);
		a.addr[4] = (uint8_t)(i >> 4);
		count(&t, answer(r, a, WWW, A, now + i / 4));
		if (i % 3 == 0)
			count(&t, answer(r, a, MAIL, A, now + i / 4));
	}
	CHECK_EQ(t.sent + t.dropped + t.slipped, 20000 + 6667);
	CHECK(t.sent >= 20000 + 6667 - 2); /* fingerprints might meet, hardly */
	struct rrl_stats st;
	rrl_get_stats(r, &st);
	CHECK(st.evicted > 1000);
	/* The class in debt was the last to go: it is still limited. */
	now += 5000;
	CHECK(answer(r, v4(192, 0, 2, 1), WWW, A, now) != RRL_SEND);
	free(mem);

	/* A flood from many networks at once, over a small table: every
	 * response gets an answer among the three, the counts add up. */
	r = make(&c, 64, &mem);
	memset(&t, 0, sizeof t);
	for (unsigned i = 0; i < 50000; i++)
		count(&t, answer(r, v4(198, 51, (uint8_t)(i % 300), 1), i & 1 ? WWW : MAIL,
				  (uint16_t)(i % 5), T0 + i / 10));
	CHECK_EQ(t.sent + t.dropped + t.slipped, 50000);
	rrl_get_stats(r, &st);
	CHECK(st.evicted > 0);
	CHECK_EQ(st.sent, t.sent);
	free(mem);
}

void test_rrl(void);
void test_rrl(void)
{
	test_config();
	test_rates();
	test_flood();
	test_slip();
	test_kinds();
	test_prefixes();
	test_full_table();
}
