/* Queries through query_process() against a small zone: every branch of
 * RFC 1034 4.3.2 and the message-level rules, checked on the wire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/query.h"
#include "core/rrl.h"
#include "core/rrtype.h"
#include "core/tsig.h"
#include "core/xfr.h"
#include "test.h"
#include "testzone.h"

static struct catalog cat;
static struct cat_zone cz[2];
static uint8_t resp[65536];

struct reply {
	size_t len;
	uint16_t id, flags, qd, an, ns, ar;
	int rcode;           /* with the extended bits of OPT */
	int has_opt, opt_do;
	uint16_t first_type; /* type of the first answer record */
	uint32_t auth_ttl;   /* TTL of the first authority record */
	struct query_result res;
};

static size_t make_query(uint8_t *q, const char *name, uint16_t type, uint16_t flags)
{
	uint8_t n[NAME_MAXLEN];
	name_from_text(name, n);
	size_t len = xfr_make_query(q, 512, 0xBEEF, n, type);
	q[2] = (uint8_t)(flags >> 8);
	q[3] = (uint8_t)flags;
	return len;
}

static size_t add_opt(uint8_t *q, size_t len, uint16_t size, uint32_t ttl, const uint8_t *rd,
		      uint16_t rdlen)
{
	q[11]++;
	q[len++] = 0;
	q[len++] = 0;
	q[len++] = T_OPT;
	q[len++] = (uint8_t)(size >> 8);
	q[len++] = (uint8_t)size;
	put32(q + len, ttl);
	len += 4;
	put16(q + len, rdlen);
	len += 2;
	if (rdlen)
		memcpy(q + len, rd, rdlen);
	return len + rdlen;
}

static void parse_reply(struct reply *r)
{
	struct cursor c;
	uint8_t n[NAME_MAXLEN];
	cur_init(&c, resp, r->len);
	r->id = cur_u16(&c);
	r->flags = cur_u16(&c);
	r->qd = cur_u16(&c);
	r->an = cur_u16(&c);
	r->ns = cur_u16(&c);
	r->ar = cur_u16(&c);
	r->rcode = r->flags & 0xF;
	r->has_opt = r->opt_do = 0;
	r->first_type = 0;
	r->auth_ttl = 0;
	for (unsigned i = 0; i < r->qd; i++) {
		name_parse(&c, n, 1);
		cur_skip(&c, 4);
	}
	unsigned total = (unsigned)r->an + r->ns + r->ar;
	for (unsigned i = 0; i < total; i++) {
		CHECK(name_parse(&c, n, 1) > 0);
		uint16_t type = cur_u16(&c), cls = cur_u16(&c);
		uint32_t ttl = cur_u32(&c);
		uint16_t rdlen = cur_u16(&c);
		cur_skip(&c, rdlen);
		if (i == 0 && r->an)
			r->first_type = type;
		if (i == r->an && r->ns)
			r->auth_ttl = ttl;
		if (type == T_OPT) {
			r->has_opt = 1;
			r->opt_do = (ttl & 0x8000) != 0;
			r->rcode |= (int)((ttl >> 24) << 4);
			(void)cls;
		}
	}
	CHECK(!c.err);
	CHECK_EQ(c.pos, r->len); /* nothing after the counted records */
}

static void ask(struct reply *r, const uint8_t *q, size_t qlen, int tcp)
{
	struct query_env env = { tcp ? TRANSPORT_TCP : TRANSPORT_UDP, 1232, { 4, { 127, 0, 0, 1 }, 5353 }, 0, 0, 0 };
	r->len = query_process(&cat, q, qlen, &env, resp, sizeof(resp), &r->res);
	/* Answered again with the question read by the lookup hint (as the
	 * server does for a batch to a big zone): the same, octet for octet. */
	static struct query_hint h;
	static uint8_t again[65536];
	struct query_result res;
	query_hint_start(&cat, q, qlen, &h);
	for (int step = 0; step < 2 * NAME_MAXLEN && query_hint_next(&h); step++)
		;
	size_t n = query_process_hinted(&cat, &h, q, qlen, &env, again, sizeof(again), &res);
	CHECK(n == r->len && memcmp(again, resp, n) == 0);
	CHECK(res.rcode == r->res.rcode && res.action == r->res.action);
	/* A node that only shares the question's tag (here a neighbour, or
	 * one past the last) is checked by its key and not taken. */
	if (h.qz) {
		h.qnode = h.qnode + 1 < h.qz->n_nodes ? h.qnode + 1 : h.qnode - 1;
		n = query_process_hinted(&cat, &h, q, qlen, &env, again, sizeof(again), &res);
		CHECK(n == r->len && memcmp(again, resp, n) == 0);
		h.qnode = h.qz->n_nodes;
		n = query_process_hinted(&cat, &h, q, qlen, &env, again, sizeof(again), &res);
		CHECK(n == r->len && memcmp(again, resp, n) == 0);
	}
	/* A hint made from another message (the last one asked) is left
	 * alone: the answer is still this question's. */
	static uint8_t last[1024];
	static size_t last_len;
	if (last_len) {
		query_hint_start(&cat, last, last_len, &h);
		n = query_process_hinted(&cat, &h, q, qlen, &env, again, sizeof(again), &res);
		CHECK(n == r->len && memcmp(again, resp, n) == 0);
	}
	if (qlen <= sizeof(last)) {
		memcpy(last, q, qlen);
		last_len = qlen;
	}
	if (r->len)
		parse_reply(r);
}

static void q(struct reply *r, const char *name, uint16_t type)
{
	uint8_t b[512];
	size_t l = make_query(b, name, type, 0x0100);
	ask(r, b, l, 0);
}

/* The name response rate limiting counts a query by (rrl.h), made only
 * when the caller limits rates: check it is that, as text. */
static void rrl_name_is(const char *qname, uint16_t type, int kind, const char *want)
{
	uint8_t b[512], got[NAME_MAXLEN];
	size_t l = make_query(b, qname, type, 0);
	struct query_env env = { TRANSPORT_UDP, 1232, { 4, { 127, 0, 0, 1 }, 5353 }, 0, 1, 0 };
	struct query_result res;
	CHECK(query_process(&cat, b, l, &env, resp, sizeof(resp), &res) > 0);
	CHECK_EQ(res.rrl_kind, kind);
	CHECK(res.rrl_name != NULL);
	CHECK(name_from_text(want, got) > 0);
	CHECK(res.rrl_name && name_equal(res.rrl_name, got));
	env.rrl = 0; /* not limited: not made */
	CHECK(query_process(&cat, b, l, &env, resp, sizeof(resp), &res) > 0);
	CHECK(res.rrl_name == NULL);
}

/* The node of a name in z (its text below example.com), or ZONE_NONE. */
static uint32_t node_of(const struct zone *z, const char *text)
{
	uint8_t n[NAME_MAXLEN], key[NAME_KEY_MAX];
	if (name_from_text(text, n) < 0)
		return ZONE_NONE;
	size_t klen = name_key(n, name_labels(n) - z->apex_labels, key);
	uint32_t idx;
	return zone_find_exact(z, key, klen, &idx) ? idx : ZONE_NONE;
}

/* The lookup hints (query.h) walk to what the answer will read: the
 * closest encloser of an absent name, the names an RDATA holds (NS glue,
 * MX, SRV and SVCB targets, a CNAME's target).  Prefetches leave no trace
 * in the answer, so the walk is checked where it ends. */
static void hint_walks(const struct zone *z)
{
	static const struct {
		const char *name;
		uint16_t type;
		const char *node;    /* where the lookup ends */
		int exact;           /* ... at the name itself */
		const char *target;  /* the first name followed from its RDATA */
		unsigned n_t;
	} cases[] = {
		{ "host.example.com", T_A, "host.example.com", 1, NULL, 0 },
		{ "example.com", T_MX, "example.com", 1, "mail.example.com", 1 },
		{ "example.com", T_NS, "example.com", 1, "ns1.example.com", 1 },
		{ "srv.example.com", T_SRV, "srv.example.com", 1, "host.example.com", 1 },
		{ "svc.example.com", 64 + 1, "svc.example.com", 1, "host.example.com", 1 },
		{ "WWW.example.com", T_A, "www.example.com", 1, "web.example.com", 1 },
		{ "www.example.com", T_CNAME, "www.example.com", 1, NULL, 0 },
		{ "mail.example.com", T_TXT, "mail.example.com", 1, NULL, 0 },
		/* Below a cut: the climb ends at it, then its NS and the glue
		 * of the one target in the zone. */
		{ "a.b.sub.example.com", T_A, "sub.example.com", 0, "ns.sub.example.com", 1 },
		{ "sub.example.com", T_A, "sub.example.com", 1, "ns.sub.example.com", 1 },
		/* Absent, under an empty non-terminal and beside names. */
		{ "x.y.c.ent.example.com", T_A, "c.ent.example.com", 0, NULL, 0 },
		{ "nope.host.example.com", T_MX, "host.example.com", 0, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[512];
		size_t l = make_query(b, cases[i].name, cases[i].type, 0);
		static struct query_hint h;
		query_hint_start(&cat, b, l, &h);
		CHECK(h.z == z);
		unsigned steps = 0;
		while (query_hint_next(&h) && steps < 64)
			steps++;
		CHECK(steps < 12);
		CHECK_EQ(h.node, node_of(z, cases[i].node));
		CHECK_EQ(h.plen == h.klen, cases[i].exact);
		/* The node the answer may take for the question: only the
		 * name's own, never an ancestor's. */
		CHECK_EQ(h.qz == z, cases[i].exact);
		if (cases[i].exact)
			CHECK_EQ(h.qnode, node_of(z, cases[i].node));
		CHECK_EQ(h.n_t, cases[i].n_t);
		if (cases[i].target)
			CHECK_EQ(h.t_node[0], node_of(z, cases[i].target));
		if (h.node != node_of(z, cases[i].node) || h.n_t != cases[i].n_t)
			fprintf(stderr, "  hint for %s: node %u, %u targets\n", cases[i].name, h.node, h.n_t);
	}
	/* Not a question to a zone served: nothing to fetch. */
	uint8_t b[512];
	size_t l = make_query(b, "www.example.net", T_A, 0);
	static struct query_hint h;
	query_hint_start(&cat, b, l, &h);
	CHECK(h.z == NULL && !query_hint_next(&h));
}

/* Zones that need each other: a DNAME at an apex, a parent and its
 * child served side by side, an ANY too big for one TCP message. */
static void several_zones(void)
{
	static const char *const dn[] = { "@ 3600 SOA ns1 host 1 100 200 300 60",
					  "@ 3600 NS ns1.example.", "@ 3600 DNAME tgt.test.", NULL };
	static const char *const tgt[] = { "@ 3600 SOA ns1 host 1 100 200 300 60",
					   "@ 3600 NS ns1.example.", "www 3600 A 192.0.2.7", NULL };
	static const char *const parent[] = {
		"@ 3600 SOA ns1 host 1 100 200 300 60", "@ 3600 NS ns1.example.",
		"c 3600 NS ns.c", "ns.c 3600 A 192.0.2.53",
		"c 3600 TYPE43 30390D02F9C7AF7EBCBF098B9F5F37361D1B168BB2E5B98D930CEEF0F055377A8C94DB61",
		"u 3600 NS ns1.example.", "e 3600 NS ns1.example.",
		"e 3600 TYPE43 30390D02F9C7AF7EBCBF098B9F5F37361D1B168BB2E5B98D930CEEF0F055377A8C94DB61",
		NULL };
	static const char *const child[] = { "@ 3600 SOA ns1 host 9 100 200 300 60",
					     "@ 3600 NS ns1.example.", NULL };
	/* 3000 A (48 KB in an answer) and 2500 AAAA (70 KB: too big alone);
	 * not on the lx106, whose RAM holds no such zone. */
#ifndef TEST_SMALL_RAM
	static const char *big[5503];
	static char lines[5500][48];
#else
	static const char *big[3];
#endif
	size_t k = 0;
	big[k++] = "@ 3600 SOA ns1 host 1 100 200 300 60";
	big[k++] = "@ 3600 NS ns1.example.";
#ifndef TEST_SMALL_RAM
	for (unsigned i = 0; i < 5500; i++) {
		if (i < 3000)
			snprintf(lines[i], sizeof(lines[i]), "big 300 A 10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		else
			snprintf(lines[i], sizeof(lines[i]), "big 300 AAAA 2001:db8:0:0:0:0:0:%x", i);
		big[k++] = lines[i];
	}
#endif
	big[k] = NULL;
	struct cat_zone *zs = calloc(7, sizeof(*zs)); /* not static: the lx106's RAM */
	CHECK(zs != NULL);
	if (!zs)
		return;
	static const char *const names[] = { "dn.test", "tgt.test", "p.test", "c.p.test", "u.p.test", "any.test" };
	const char *const *texts[] = { dn, tgt, parent, child, child, big };
	for (int i = 0; i < 6; i++) {
		name_from_text(names[i], zs[i].apex);
		zs[i].current = tz_build(names[i], texts[i]);
		CHECK(zs[i].current != NULL);
	}
	struct catalog saved = cat;
	name_from_text("e.p.test", zs[6].apex); /* configured, not loaded */
	memset(&cat, 0, sizeof(cat));
	cat.zones = zs;
	cat.n = 7;
	CHECK_EQ(catalog_prepare(&cat), 0);
	struct reply r;

	/* A DNAME at the apex redirects every name below it (RFC 6672 2.3),
	 * into the other zone here; the apex itself is not redirected.  DS
	 * at a child's apex comes from its parent when both are served (RFC
	 * 4035 3.1.4.1): the DS, or the parent's NODATA (SOA TTL min(3600,
	 * 60)); everything else at the child's apex from the child. */
	static const struct {
		const char *name;
		uint16_t type;
		int rcode;
		uint16_t an, ns, first;
		uint32_t auth_ttl;
	} cases[] = {
		{ "www.dn.test", T_A, 0, 3, 0, T_DNAME, 0 }, /* DNAME, its CNAME, the A */
		{ "nx.dn.test", T_A, 3, 2, 1, T_DNAME, 60 }, /* the target's NXDOMAIN */
		{ "dn.test", T_SOA, 0, 1, 0, T_SOA, 0 },
		{ "dn.test", T_A, 0, 0, 1, 0, 60 },
		{ "c.p.test", T_DS, 0, 1, 0, T_DS, 0 },
		{ "u.p.test", T_DS, 0, 0, 1, 0, 60 },
		{ "c.p.test", T_SOA, 0, 1, 0, T_SOA, 0 },
		{ "e.p.test", T_DS, 0, 1, 0, T_DS, 0 }, /* the child not loaded */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		q(&r, cases[i].name, cases[i].type);
		CHECK_EQ(r.rcode, cases[i].rcode);
		CHECK_EQ(r.an, cases[i].an);
		CHECK_EQ(r.ns, cases[i].ns);
		CHECK_EQ(r.first_type, cases[i].first);
		CHECK_EQ(r.auth_ttl, cases[i].auth_ttl);
		CHECK(r.flags & 0x0400);
	}

	/* ANY whose RRsets do not all fit in a TCP message: those that fit,
	 * without TC (RFC 8482 4.1, RFC 2181 9); over UDP one that fits, or
	 * TC when none does. */
#ifndef TEST_SMALL_RAM
	uint8_t b[512];
	size_t l = make_query(b, "big.any.test", T_ANY, 0);
	ask(&r, b, l, 1);
	CHECK(!(r.flags & 0x0200));
	CHECK_EQ(r.an, 3000);
	CHECK_EQ(r.first_type, T_A);
	l = make_query(b, "big.any.test", T_AAAA, 0);
	ask(&r, b, l, 1); /* an RRset too big on its own is still TC */
	CHECK(r.flags & 0x0200);
	CHECK_EQ(r.an, 0);
#endif

	cat = saved;
	for (int i = 0; i < 7; i++) /* all: catalog_prepare() sorts them */
		if (zs[i].current)
			zone_free(zs[i].current);
	free(zs);
}

void test_answer(void);
void test_answer(void)
{
	static const char *const recs[] = {
		"@ 3600 SOA ns1 host 7 100 200 300 60",
		"@ 3600 NS ns1",
		"@ 3600 MX 10 mail",
		"ns1 3600 A 192.0.2.1",
		"mail 3600 A 192.0.2.2",
		"mail 3600 AAAA 2001:db8:0:0:0:0:0:2",
		"www 300 CNAME web",
		"web 300 CNAME host",
		"host 300 A 192.0.2.3",
		"out 300 CNAME www.example.net.",
		"loop1 300 CNAME loop2",
		"loop2 300 CNAME loop1",
		"*.wild 300 TXT wild",
		"real.wild 300 A 192.0.2.8",
		"a.b.c.ent 300 A 192.0.2.4",
		"sub 300 NS ns.sub",
		"sub 300 NS ns.example.net.",
		"ns.sub 300 A 192.0.2.9",
		"dn 300 DNAME example.net.",
		"longdn 300 DNAME aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.",
		"srv 300 SRV 1 2 443 host",
		"dx 300 DNAME dy",
		"back.dy 300 CNAME dx",
		/* SVCB and HTTPS (RFC 9460): targets in the zone, the owner
		 * itself ("."), outside it, below a delegation. */
		"svc 300 TYPE65 000104686F7374076578616D706C6503636F6D0000010003026832",
		"alias 300 TYPE65 0000046D61696C076578616D706C6503636F6D00",
		"self 300 TYPE64 0001000003000201bb",
		"far 300 TYPE64 000103777777076578616D706C65036E657400",
		"occl 300 TYPE64 0002026E7303737562076578616D706C6503636F6D00",
		NULL,
	};
	struct zone *z = tz_build("example.com", recs);
	CHECK(z != NULL);
	if (!z)
		return;
	/* A TXT RRset too big for 512 octets. */
	memset(cz, 0, sizeof(cz));
	name_from_text("example.com", cz[0].apex);
	cz[0].current = z;
	cz[0].primary[0].family = 4;
	memcpy(cz[0].primary[0].addr, "\x7f\0\0\1", 4);
	cz[0].n_primary = 1;
	name_from_text("example.org", cz[1].apex); /* configured, never loaded */
	cat.zones = cz;
	cat.n = 2;
	CHECK_EQ(catalog_prepare(&cat), 0);
	hint_walks(z);

	struct reply r;
	uint8_t b[1024];
	size_t l;

	/* An exact answer, case preserved, AA set, RD copied, RA clear. */
	l = make_query(b, "HoSt.Example.COM", T_A, 0x0100);
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 1);
	CHECK_EQ(r.id, 0xBEEF);
	CHECK((r.flags & 0x8000) && (r.flags & 0x0400) && (r.flags & 0x0100) && !(r.flags & 0x0080));
	CHECK(memcmp(resp + 12, b + 12, l - 12) == 0);
	CHECK_EQ(r.res.action, QA_REPLY);

	/* CNAME chain, a chain leaving the zone, a loop. */
	q(&r, "www.example.com", T_A);
	CHECK_EQ(r.an, 3);
	CHECK_EQ(r.first_type, T_CNAME);
	q(&r, "out.example.com", T_A);
	CHECK_EQ(r.an, 1);
	CHECK_EQ(r.rcode, 0);
	q(&r, "loop1.example.com", T_A);
	CHECK_EQ(r.an, 2);
	q(&r, "www.example.com", T_CNAME);
	CHECK_EQ(r.an, 1);

	/* NXDOMAIN and NODATA with the SOA at the RFC 2308 TTL. */
	q(&r, "nope.example.com", T_A);
	CHECK_EQ(r.rcode, 3);
	CHECK_EQ(r.ns, 1);
	CHECK_EQ(r.auth_ttl, 60);
	CHECK(r.flags & 0x0400);
	q(&r, "host.example.com", T_MX);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);
	CHECK_EQ(r.ns, 1);
	q(&r, "c.ent.example.com", T_A); /* an empty non-terminal: NODATA */
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.ns, 1);

	rrl_name_is("HOST.example.com", T_A, RRL_ANSWER, "host.example.com");
	rrl_name_is("nope.example.com", T_A, RRL_NXDOMAIN, "example.com");
	rrl_name_is("host.example.com", T_MX, RRL_NODATA, "host.example.com");
	rrl_name_is("x.y.wild.example.com", T_TXT, RRL_ANSWER, "*.wild.example.com");
	rrl_name_is("a.ns.sub.example.com", T_A, RRL_REFERRAL, "sub.example.com");

	/* Wildcards: synthesis, none at existing names or below them. */
	q(&r, "x.y.wild.example.com", T_TXT);
	CHECK_EQ(r.an, 1);
	CHECK_EQ(r.rcode, 0);
	q(&r, "real.wild.example.com", T_TXT);
	CHECK_EQ(r.an, 0);
	CHECK_EQ(r.ns, 1);
	q(&r, "x.real.wild.example.com", T_TXT);
	CHECK_EQ(r.rcode, 3);
	q(&r, "wild.example.com", T_TXT); /* an empty non-terminal */
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);

	/* Referrals: no AA, NS in authority, glue; DS from the parent. */
	q(&r, "www.sub.example.com", T_A);
	CHECK(!(r.flags & 0x0400));
	CHECK_EQ(r.an, 0);
	CHECK_EQ(r.ns, 2);
	CHECK_EQ(r.ar, 1);
	q(&r, "sub.example.com", T_NS);
	CHECK(!(r.flags & 0x0400));
	CHECK_EQ(r.ns, 2);
	q(&r, "ns.sub.example.com", T_A); /* glue is not an answer */
	CHECK(!(r.flags & 0x0400));
	CHECK_EQ(r.an, 0);
	q(&r, "sub.example.com", T_DS);
	CHECK(r.flags & 0x0400);
	CHECK_EQ(r.an, 0);
	CHECK_EQ(r.ns, 1);

	/* DNAME: the DNAME, the synthesised CNAME; YXDOMAIN if too long. */
	q(&r, "x.dn.example.com", T_A);
	CHECK_EQ(r.an, 2);
	CHECK_EQ(r.first_type, T_DNAME);
	q(&r, "dn.example.com", T_A); /* the owner itself is not redirected */
	CHECK_EQ(r.an, 0);
	q(&r, "dn.example.com", T_DNAME);
	CHECK_EQ(r.an, 1);
	q(&r, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy.longdn.example.com", T_A);
	CHECK_EQ(r.rcode, 6);

	/* A chain back to the owner of a DNAME it took: that name is not
	 * below its own DNAME (RFC 6672 2.3), so it is answered as any name:
	 * NODATA with the SOA, or the DNAME once (as NSD does). */
	static const struct {
		uint16_t type;
		uint16_t an, ns; /* an: the DNAME, its CNAME, the CNAME back */
	} back[] = { { T_TXT, 3, 1 }, { T_DNAME, 3, 0 }, { T_ANY, 3, 0 } };
	for (size_t i = 0; i < sizeof(back) / sizeof(back[0]); i++) {
		q(&r, "back.dx.example.com", back[i].type);
		CHECK_EQ(r.rcode, 0);
		CHECK_EQ(r.an, back[i].an);
		CHECK_EQ(r.ns, back[i].ns);
	}

	/* Additional section processing: MX and SRV targets. */
	q(&r, "example.com", T_MX);
	CHECK_EQ(r.an, 1);
	CHECK_EQ(r.ar, 2);
	q(&r, "srv.example.com", T_SRV);
	CHECK_EQ(r.ar, 1);
	{
		/* The target's address is owned by the target as written in the
		 * SRV (uncompressed there, RFC 2782): its owner is a pointer
		 * into that RDATA (RFC 1035 4.1.4), the name it names. */
		struct cursor c;
		uint8_t n[NAME_MAXLEN], want[NAME_MAXLEN];
		cur_init(&c, resp, r.len);
		cur_skip(&c, 12);
		name_parse(&c, n, 1);
		cur_skip(&c, 4);
		name_parse(&c, n, 1);
		cur_skip(&c, 8);
		size_t rd_at = c.pos + 2, rd_end = rd_at + cur_u16(&c);
		cur_skip(&c, rd_end - rd_at);
		size_t owner_at = c.pos;
		CHECK((resp[owner_at] & 0xC0) == 0xC0);
		size_t to = ((size_t)(resp[owner_at] & 0x3F) << 8) | resp[owner_at + 1];
		CHECK(to == rd_at + 6);
		CHECK(name_parse(&c, n, 1) > 0 && name_from_text("host.example.com", want) > 0 &&
		      name_equal(n, want));
		CHECK(!c.err);
	}
	/* RFC 9460 4.1: the addresses of an SVCB or HTTPS target in the zone
	 * (as Knot DNS gives them); none for ".", a name elsewhere, or one
	 * below a delegation (glue, which goes with referrals only). */
	q(&r, "svc.example.com", 65);
	CHECK_EQ(r.an, 1);
	CHECK_EQ(r.ar, 1);
	q(&r, "alias.example.com", 65);
	CHECK_EQ(r.ar, 2);
	q(&r, "self.example.com", 64);
	CHECK_EQ(r.an, 1);
	CHECK_EQ(r.ar, 0);
	q(&r, "far.example.com", 64);
	CHECK_EQ(r.an, 1);
	CHECK_EQ(r.ar, 0);
	q(&r, "occl.example.com", 64);
	CHECK_EQ(r.an, 1);
	CHECK_EQ(r.ar, 0);

	/* ANY: one RRset over UDP (RFC 8482), all over TCP. */
	q(&r, "example.com", T_ANY);
	CHECK_EQ(r.an, 1);
	l = make_query(b, "example.com", T_ANY, 0);
	ask(&r, b, l, 1);
	CHECK_EQ(r.an, 1 + 1 + 1); /* SOA, NS, MX */

	/* Outside our zones, a zone not loaded, other classes, transfers. */
	q(&r, "example.net", T_A);
	CHECK_EQ(r.rcode, 5);
	CHECK(!(r.flags & 0x0400));
	CHECK_EQ(r.an + r.ns + r.ar, 0);
	q(&r, "www.example.org", T_A);
	CHECK_EQ(r.rcode, 2);
	l = make_query(b, "example.com", T_A, 0);
	b[l - 1] = C_CH;
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 5);
	b[l - 1] = C_NONE;
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 5);
	/* QCLASS *: class IN's answer, never authoritative (RFC 1034 3.7.1). */
	l = make_query(b, "host.example.com", T_A, 0);
	ask(&r, b, l, 0);
	CHECK(r.flags & 0x0400);
	{
		struct reply in = r;
		uint8_t in_resp[512];
		memcpy(in_resp, resp, in.len);
		b[l - 1] = C_ANY;
		ask(&r, b, l, 0);
		CHECK_EQ(r.rcode, 0);
		CHECK(!(r.flags & 0x0400));
		CHECK_EQ(r.an, in.an);
		CHECK_EQ(r.len, in.len);
		CHECK(memcmp(resp + l, in_resp + l, in.len - l) == 0);
		CHECK_EQ(resp[l - 1], C_ANY); /* the question as asked */
	}
	l = make_query(b, "nothere.example.com", T_A, 0);
	b[l - 1] = C_ANY;
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 3);
	CHECK(!(r.flags & 0x0400));
	CHECK_EQ(r.ns, 1);
	q(&r, "example.com", T_AXFR);
	CHECK_EQ(r.rcode, 5);
	q(&r, "example.com", T_IXFR);
	CHECK_EQ(r.rcode, 5);

	/* EDNS: OPT answered, DO echoed, BADVERS, malformed options. */
	l = make_query(b, "host.example.com", T_A, 0);
	l = add_opt(b, l, 4096, 0x8000 | 0x4000, (const uint8_t *)"\0\x0a\0\2ab", 6);
	ask(&r, b, l, 0);
	CHECK(r.has_opt && r.opt_do);
	CHECK_EQ(r.an, 1);
	CHECK_EQ(r.ar, 1);
	l = make_query(b, "host.example.com", T_A, 0);
	l = add_opt(b, l, 4096, 0x00010000, NULL, 0);
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 16);
	CHECK_EQ(r.an, 0);
	CHECK(r.has_opt);
	l = make_query(b, "host.example.com", T_A, 0);
	l = add_opt(b, l, 4096, 0, (const uint8_t *)"\0\x0a\0\x09" "ab", 6);
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 1);
	l = make_query(b, "host.example.com", T_A, 0);
	l = add_opt(b, l, 4096, 0, NULL, 0);
	l = add_opt(b, l, 4096, 0, NULL, 0);
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 1);
	CHECK(r.has_opt); /* a problem with the OPT itself: FORMERR with one */
	CHECK_EQ(r.qd, 1);

	/* Any error answers an OPT with an OPT (RFC 6891 6.1.1, 7), also
	 * when it is found before the additional section. */
	l = make_query(b, "host.example.com", T_A, 0);
	l = add_opt(b, l, 4096, 0x8000, (const uint8_t *)"\0\x0a\0\x09" "ab", 6);
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 1);
	CHECK(r.has_opt && r.opt_do);
	CHECK_EQ(r.an + r.ns, 0);
	l = make_query(b, "host.example.com", T_A, 0);
	memcpy(b + l, "\1x\0\0\x29\x10\0\0\0\0\0\0\0", 13); /* an OPT owned by x. */
	l += 13;
	b[11] = 1;
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 1);
	CHECK(r.has_opt);
	l = make_query(b, "host.example.com", T_A, 0x1000); /* opcode 2 */
	l = add_opt(b, l, 4096, 0, NULL, 0);
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 4);
	CHECK(r.has_opt);
	CHECK_EQ(r.qd, 1);
	{
		/* No question, only an OPT (a client probing for cookies or
		 * EDNS, RFC 7873 5.4): FORMERR, with an OPT. */
		uint8_t nq[] = { 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
		memcpy(b, nq, 12);
		l = add_opt(b, 12, 4096, 0, (const uint8_t *)"\0\x0a\0\x08" "abcdefgh", 12);
		ask(&r, b, l, 0);
		CHECK_EQ(r.rcode, 1);
		CHECK(r.has_opt);
		CHECK_EQ(r.qd, 0);
	}
	l = make_query(b, "host.example.com", T_A, 0);
	size_t qend = l;
	memcpy(b + l, b + 12, qend - 12); /* the question again */
	l += qend - 12;
	b[5] = 2; /* QDCOUNT 2 */
	l = add_opt(b, l, 4096, 0, NULL, 0);
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 1);
	CHECK(r.has_opt);
	CHECK_EQ(r.qd, 0);
	l = make_query(b, "host.example.com", T_A, 0);
	memcpy(b + l, "\xC0\x0C\0\1\0\1\0\0\0\0\0\4\1\2\3\4", 16); /* an A record */
	l += 16;
	b[7] = 1; /* ANCOUNT 1 */
	l = add_opt(b, l, 4096, 0, NULL, 0);
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 1);
	CHECK(r.has_opt);
	l = make_query(b, "host.example.com", T_A, 0);
	l = add_opt(b, l, 4096, 0, NULL, 0);
	ask(&r, b, l - 1, 0); /* the OPT cut short: nothing of it is trusted */
	CHECK_EQ(r.rcode, 1);
	CHECK(!r.has_opt);

	/* An IXFR request carries its version's SOA in the authority
	 * section (RFC 1995 3): well formed, refused as a transfer. */
	static const uint8_t soa_rr[] = {
		0xC0, 12, 0, T_SOA, 0, 1, 0, 0, 0, 0, 0, 22, /* owner, type, class, TTL, RDLENGTH */
		0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* . . 1 0 0 0 0 */
	};
	for (int i = 0; i < 3; i++) {
		l = make_query(b, "example.com", i == 2 ? T_A : T_IXFR, 0);
		memcpy(b + l, soa_rr, sizeof(soa_rr));
		l += sizeof(soa_rr);
		b[9] = 1; /* NSCOUNT 1 */
		if (i == 1)
			l = add_opt(b, l, 4096, 0, NULL, 0);
		ask(&r, b, l, i == 1);
		CHECK_EQ(r.rcode, i == 2 ? 1 : 5); /* under an A question: FORMERR */
		CHECK_EQ(r.qd, 1);
		CHECK_EQ(r.has_opt, i == 1);
	}

	/* Malformed queries: dropped when there is no header to answer. */
	l = make_query(b, "host.example.com", T_A, 0);
	ask(&r, b, 11, 0);
	CHECK_EQ(r.len, 0);
	b[2] |= 0x80; /* QR */
	ask(&r, b, l, 0);
	CHECK_EQ(r.len, 0);
	l = make_query(b, "host.example.com", T_A, 0x1000); /* opcode 2 */
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 4);
	l = make_query(b, "host.example.com", T_A, 0);
	b[5] = 2; /* QDCOUNT 2 */
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 1);
	CHECK_EQ(r.qd, 0);
	l = make_query(b, "host.example.com", T_A, 0);
	b[7] = 1; /* ANCOUNT 1 with nothing there */
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 1);
	l = make_query(b, "host.example.com", T_A, 0);
	ask(&r, b, l - 2, 0); /* question cut short */
	CHECK_EQ(r.rcode, 1);
	uint8_t loopq[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1 };
	ask(&r, loopq, sizeof(loopq), 0);
	CHECK_EQ(r.rcode, 1);
	CHECK_EQ(r.qd, 0);

	/* NOTIFY: from the primary accepted, from a stranger refused. */
	l = make_query(b, "example.com", T_SOA, 0x2000);
	ask(&r, b, l, 0);
	CHECK_EQ(r.rcode, 0);
	CHECK(r.flags & 0x0400);
	CHECK_EQ(r.res.action, QA_NOTIFY);
	{
		struct query_env env = { TRANSPORT_UDP, 1232, { 4, { 127, 0, 0, 9 }, 5353 }, 0, 0, 0 };
		struct query_result res;
		size_t n = query_process(&cat, b, l, &env, resp, sizeof(resp), &res);
		CHECK(n > 0);
		CHECK_EQ(res.action, QA_NOTIFY_REFUSED);
		CHECK_EQ(res.rcode, 5);
	}
	l = make_query(b, "example.net", T_SOA, 0x2000);
	ask(&r, b, l, 0);
	CHECK_EQ(r.res.action, QA_NOTIFY_REFUSED);

	/* NOTIFY with TSIG (RFC 8945): a key on the primary makes a signature
	 * necessary; the answer is signed; a bad one gets NOTAUTH + BADSIG.
	 * Not in builds without HMAC (TEST_NO_TSIG: the lx106's). */
#ifndef TEST_NO_TSIG
	{
		static struct tsig_key key;
		memset(&key, 0, sizeof(key));
		name_from_text("xfr-key", key.name);
		key.alg = HMAC_SHA256;
		memcpy(key.secret, "0123456789abcdef", 16);
		key.secret_len = 16;
		cat.keys = &key;
		cat.n_keys = 1;
		cz[0].primary_key[0] = &key;
		uint64_t now = 1700000000;
		struct query_env env = { TRANSPORT_UDP, 1232, { 4, { 127, 0, 0, 1 }, 5353 }, now, 0, 0 };
		struct query_result res;
		uint8_t mac[HMAC_MAX_LEN];
		size_t mac_len = 0;

		l = make_query(b, "example.com", T_SOA, 0x2000);
		ask(&r, b, l, 0); /* unsigned, from the primary: now refused */
		CHECK_EQ(r.res.action, QA_NOTIFY_REFUSED);
		CHECK_EQ(r.rcode, 5);

		CHECK_EQ(tsig_sign(&key, b, &l, sizeof(b), now, NULL, 0, 0, mac, &mac_len), 0);
		size_t n = query_process(&cat, b, l, &env, resp, sizeof(resp), &res);
		CHECK_EQ(res.action, QA_NOTIFY);
		CHECK_EQ(res.rcode, 0);
		CHECK_EQ(tsig_verify(resp, n, &key, 1, now, mac, mac_len, NULL, NULL), TSIG_OK);

		env.now = now + 1000; /* outside the fudge: BADTIME, signed */
		n = query_process(&cat, b, l, &env, resp, sizeof(resp), &res);
		CHECK_EQ(res.rcode, 9);
		CHECK_EQ(res.action, QA_NOTIFY_REFUSED);
		struct tsig_rr rr;
		CHECK_EQ(tsig_verify(resp, n, &key, 1, now + 1000, mac, mac_len, &rr, NULL), TSIG_EPEER);
		CHECK_EQ(rr.error, TSIG_RC_BADTIME);

		env.now = now;
		b[l - 30] ^= 1; /* inside the MAC: BADSIG, unsigned */
		n = query_process(&cat, b, l, &env, resp, sizeof(resp), &res);
		CHECK_EQ(res.rcode, 9);
		CHECK(tsig_find(resp, n, &rr, &mac_len) == TSIG_OK && rr.error == TSIG_RC_BADSIG);
		CHECK_EQ(rr.mac_len, 0);

		/* A signed ordinary query gets a signed answer. */
		l = make_query(b, "host.example.com", T_A, 0);
		CHECK_EQ(tsig_sign(&key, b, &l, sizeof(b), now, NULL, 0, 0, mac, &mac_len), 0);
		n = query_process(&cat, b, l, &env, resp, sizeof(resp), &res);
		CHECK_EQ(res.rcode, 0);
		CHECK_EQ(tsig_verify(resp, n, &key, 1, now, mac, mac_len, NULL, NULL), TSIG_OK);

		/* Rate limiting's slip: TC, the question, our OPT and a valid
		 * TSIG (RFC 6891 6.1.1, RFC 8945 5.3), no records. */
		l = make_query(b, "host.example.com", T_A, 0);
		l = add_opt(b, l, 1232, 0x8000, NULL, 0);
		CHECK_EQ(tsig_sign(&key, b, &l, sizeof(b), now, NULL, 0, 0, mac, &mac_len), 0);
		env.slip = 1;
		n = query_process(&cat, b, l, &env, resp, sizeof(resp), &res);
		env.slip = 0;
		CHECK_EQ(tsig_verify(resp, n, &key, 1, now, mac, mac_len, NULL, NULL), TSIG_OK);
		CHECK_EQ(get16(resp + 2) & 0x020F, 0x0200); /* TC, NOERROR */
		CHECK_EQ(get16(resp + 4), 1);
		CHECK_EQ(get16(resp + 6) + get16(resp + 8), 0);
		CHECK_EQ(get16(resp + 10), 2); /* OPT, TSIG */
		CHECK(n <= l);

		/* A key with a long name over UDP without EDNS (512 octets):
		 * an answer that fits but not with its TSIG becomes the
		 * question with TC, signed (RFC 8945 5.3), not a bare header. */
		static const struct {
			const char *name;
			uint16_t type;
		} asks[] = { { "host.example.com", T_A },     { "example.com", T_MX },
			     { "example.com", T_NS },         { "srv.example.com", T_SRV },
			     { "mail.example.com", T_TXT },   { "example.com", T_SOA },
			     { "x.longdn.example.com", T_A }, { "a.b.sub.example.com", T_A } };
		unsigned truncated = 0;
		for (int len = 1; len <= 4; len++) {
			char kn[260] = "";
			for (int i = 0; i < len; i++)
				strcat(kn, "k123456789012345678901234567890123456789012345678901234567890.");
			name_from_text(kn, key.name);
			key.alg = HMAC_SHA512;
			for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
				l = make_query(b, asks[i].name, asks[i].type, 0);
				CHECK_EQ(tsig_sign(&key, b, &l, sizeof(b), now, NULL, 0, 0, mac, &mac_len), 0);
				n = query_process(&cat, b, l, &env, resp, sizeof(resp), &res);
				CHECK(n <= 512);
				CHECK_EQ(tsig_verify(resp, n, &key, 1, now, mac, mac_len, NULL, NULL), TSIG_OK);
				CHECK_EQ(get16(resp + 4), 1); /* the question, always */
				truncated += (resp[2] & 0x02) != 0;
			}
		}
		CHECK(truncated > 0); /* the case was met */
		name_from_text("xfr-key", key.name);
		key.alg = HMAC_SHA256;
		cz[0].primary_key[0] = NULL;
		cat.keys = NULL;
		cat.n_keys = 0;
	}
#endif

	/* Truncation: a large RRset over UDP without EDNS, whole over TCP. */
	{
		static const char *big[50];
		static char lines[40][80];
		size_t k = 0;
		big[k++] = "@ 3600 SOA ns1 host 7 100 200 300 60";
		tz_txt_records(big, &k, lines, "big", 40);
		big[k++] = "big 300 AAAA 2001:db8:0:0:0:0:0:7";
		/* A TXT bigger than the name's NSEC (next big., TXT RRSIG NSEC). */
		big[k++] = "spf 300 TXT v=spf1-ip4:192.0.2.0/24-ip6:2001:db8::/32-include:example.net-all";
		big[k++] = "spf 300 TYPE47 03626967076578616D706C6503636F6D00000600008000000003";
		big[k] = NULL;
		struct zone *bz = tz_build("example.com", big);
		CHECK(bz != NULL);
		struct zone *old = catalog_publish(&cz[0], bz);
		l = make_query(b, "big.example.com", T_TXT, 0);
		ask(&r, b, l, 0);
		CHECK(r.flags & 0x0200);
		CHECK(r.len <= 512);
		CHECK_EQ(r.an, 0);
		l = make_query(b, "big.example.com", T_TXT, 0);
		l = add_opt(b, l, 1232, 0, NULL, 0);
		ask(&r, b, l, 0);
		CHECK(r.flags & 0x0200);
		CHECK(r.len <= 1232);
		l = make_query(b, "big.example.com", T_TXT, 0);
		l = add_opt(b, l, 4096, 0, NULL, 0);
		struct query_env env = { TRANSPORT_UDP, 4096, { 4, { 127, 0, 0, 1 }, 1 }, 0, 0, 0 };
		r.len = query_process(&cat, b, l, &env, resp, sizeof(resp), &r.res);
		parse_reply(&r);
		CHECK(!(r.flags & 0x0200));
		CHECK_EQ(r.an, 40);
		l = make_query(b, "big.example.com", T_TXT, 0);
		ask(&r, b, l, 1);
		CHECK(!(r.flags & 0x0200));
		CHECK_EQ(r.an, 40);
		/* ANY over UDP: one RRset (RFC 8482 4.1), the one that fits
		 * rather than the TXT that would be TC; over TCP all of them. */
		l = make_query(b, "big.example.com", T_ANY, 0);
		ask(&r, b, l, 0);
		CHECK(!(r.flags & 0x0200));
		CHECK_EQ(r.an, 1);
		CHECK_EQ(r.first_type, T_AAAA);
		ask(&r, b, l, 1);
		CHECK_EQ(r.an, 41);
		/* Data before the NSEC, though the NSEC is smaller. */
		l = make_query(b, "spf.example.com", T_ANY, 0);
		ask(&r, b, l, 0);
		CHECK_EQ(r.an, 1);
		CHECK_EQ(r.first_type, T_TXT);
		ask(&r, b, l, 1);
		CHECK_EQ(r.an, 2);
		zone_free(catalog_publish(&cz[0], old));
	}
	/* ANY over UDP through a DNAME whose synthesised CNAME does not fit:
	 * TC, never the chain cut short without it (only over TCP may ANY
	 * leave RRsets out, and never a chain's). */
	{
		char longname[300] = "";
		for (int i = 0; i < 3; i++)
			strcat(longname, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
		strcat(longname, "bbbbbbbbbbbbbbbbbbbbbbbb.dn.example.com");
		q(&r, longname, T_ANY);
		CHECK(r.len > 0);
		CHECK((r.flags & 0x0200) || r.an == 2);
		CHECK_EQ(r.first_type, T_DNAME);
	}
	zone_free(z);
	several_zones();
}
