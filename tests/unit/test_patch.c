/* IXFR differences applied by patch (zonepatch.h) against the whole build
 * that was there before: random zones, signed and unsigned, random chains
 * of differences (contents, TTLs, records added to and taken from RRsets,
 * signatures, and now and then a new name, a lost RRset or a deletion of
 * something absent).  After every step both versions must hold the same
 * records, give the same answer to every question, octet for octet, and
 * flatten to the same block; a patched version must survive its base
 * being given up. */
#include <stdlib.h>
#include <string.h>

#include "core/query.h"
#include "core/rrtype.h"
#include "core/wire.h"
#include "core/zonepatch.h"
#include "test.h"

static uint32_t rng;

static uint32_t rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

/* ---- the records of a version (for choosing what to change) ---------- */

struct rec {
	uint8_t owner[64];
	uint16_t type;
	uint32_t ttl;
	uint8_t rd[64];
	uint8_t len;
};

#define MAX_RECS 300
static struct rec recs[MAX_RECS];
static size_t n_recs;

static void collect(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
		    size_t len)
{
	(void)ctx;
	if (n_recs == MAX_RECS || name_len(owner) > sizeof(recs[0].owner) || len > sizeof(recs[0].rd))
		return;
	struct rec *r = &recs[n_recs++];
	memcpy(r->owner, owner, name_len(owner));
	r->type = type;
	r->ttl = ttl;
	memcpy(r->rd, rd, len);
	r->len = (uint8_t)len;
}

/* Every record of a version, summed (owner, type, TTL, RDATA, in order). */
struct sum {
	uint64_t h;
	uint32_t n;
};

static void sum_one(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
		    size_t len)
{
	struct sum *s = ctx;
	uint8_t fix[8];
	put16(fix, type);
	put32(fix + 2, ttl);
	put16(fix + 6, (uint16_t)len);
	const uint8_t *parts[3] = { owner, fix, rd };
	size_t lens[3] = { name_len(owner), 8, len };
	for (int p = 0; p < 3; p++)
		for (size_t i = 0; i < lens[p]; i++)
			s->h = (s->h ^ parts[p][i]) * 0x100000001b3ull;
	s->n++;
}

static struct sum sum_of(const struct zone *z)
{
	struct sum s = { 0xcbf29ce484222325ull, 0 };
	zone_walk(z, sum_one, &s);
	return s;
}

/* ---- making records ------------------------------------------------- */

static const uint8_t *apex(void)
{
	static uint8_t a[NAME_MAXLEN];
	name_from_text("example.com", a);
	return a;
}

static void add(struct zone_builder *b, const uint8_t *owner, uint16_t type, uint32_t ttl,
		const uint8_t *rd, size_t len)
{
	int ok = zb_begin(b, owner, type, ttl) == 0 && zb_rdata(b, rd, len) == 0 && zb_end(b) == 0;
	CHECK(ok);
	if (!ok)
		printf("  (%s)\n", b->err);
}

static void soa(struct zone_builder *b, uint32_t serial, uint32_t minimum)
{
	uint8_t rd[64];
	size_t n = 0;
	n += (size_t)name_from_text("ns1.example.com", rd + n);
	n += (size_t)name_from_text("host.example.com", rd + n);
	put32(rd + n, serial);
	put32(rd + n + 4, 3600);
	put32(rd + n + 8, 600);
	put32(rd + n + 12, 86400);
	put32(rd + n + 16, minimum);
	add(b, apex(), T_SOA, 3600, rd, n + 20);
}

/* Fresh RDATA for a type; an RRSIG keeps the covered type of like. */
static size_t make_rdata(uint16_t type, const uint8_t *like, size_t like_len, uint8_t *rd)
{
	switch (type) {
	case T_A:
		for (int i = 0; i < 4; i++)
			rd[i] = (uint8_t)rnd(4) + (i == 0 ? 192 : 0);
		return 4;
	case T_AAAA:
		memset(rd, 0, 16);
		rd[0] = 0x20;
		rd[1] = 0x01;
		rd[15] = (uint8_t)rnd(6);
		return 16;
	case T_TXT: {
		size_t n = 1 + rnd(5);
		rd[0] = (uint8_t)n;
		for (size_t i = 0; i < n; i++)
			rd[1 + i] = (uint8_t)('a' + rnd(3));
		return n + 1;
	}
	case T_CNAME: {
		char t[32];
		snprintf(t, sizeof(t), "h%u.example.com", rnd(4));
		return (size_t)name_from_text(t, rd);
	}
	case T_MX:
		put16(rd, (uint16_t)(10 * (1 + rnd(3))));
		return 2 + (size_t)name_from_text(rnd(2) ? "mail.example.com" : "mx.example.net", rd + 2);
	case T_RRSIG: {
		memset(rd, 0, 18);
		if (like && like_len >= 2)
			memcpy(rd, like, 2);
		rd[2] = 8;
		put32(rd + 8, 1000 + rnd(5));
		size_t n = 18 + (size_t)name_from_text("example.com", rd + 18);
		for (int i = 0; i < 8; i++)
			rd[n++] = (uint8_t)rnd(3);
		return n;
	}
	case T_NSEC: {
		size_t n = (size_t)name_from_text(rnd(2) ? "example.com" : "h1.example.com", rd);
		rd[n++] = 0;
		rd[n++] = 1;
		rd[n++] = (uint8_t)(0x40 | rnd(64));
		return n;
	}
	default:
		return 0;
	}
}

static void owner_of(unsigned i, uint8_t *out)
{
	char t[64];
	if (i % 5 == 4)
		snprintf(t, sizeof(t), "a.h%u.example.com", i); /* an empty non-terminal above */
	else if (i == 3)
		snprintf(t, sizeof(t), "*.w.example.com");
	else
		snprintf(t, sizeof(t), "h%u.example.com", i);
	name_from_text(t, out);
}

/* A random zone: names with A/AAAA/TXT/MX RRsets of one to three records,
 * a delegation with glue, and if signed an RRSIG per RRset and NSECs. */
static void random_zone(struct zone_builder *b, int sign)
{
	static const uint16_t types[] = { T_A, T_AAAA, T_TXT, T_MX };
	uint8_t o[NAME_MAXLEN], rd[128], ns[NAME_MAXLEN];
	soa(b, 1, 300);
	name_from_text("ns1.example.com", ns);
	add(b, apex(), T_NS, 3600, ns, name_len(ns));
	name_from_text("sub.example.com", o);
	add(b, o, T_NS, 3600, ns, name_len(ns));
	name_from_text("cn.example.com", o);
	size_t cl = make_rdata(T_CNAME, NULL, 0, rd);
	add(b, o, T_CNAME, 300, rd, cl);
	unsigned names = 6 + rnd(12);
	for (unsigned i = 0; i <= names; i++) {
		if (i == names)
			name_from_text("ns1.example.com", o);
		else
			owner_of(i, o);
		unsigned have = 0;
		for (unsigned t = 0; t < 4; t++) {
			if (i != names && rnd(3) == 0 && !(t == 3 && have == 0))
				continue;
			have++;
			uint32_t ttl = 60 * (1 + rnd(3));
			for (unsigned k = 0, n = 1 + rnd(3); k < n; k++) {
				size_t l = make_rdata(types[t], NULL, 0, rd);
				add(b, o, types[t], ttl + rnd(2), rd, l);
			}
			if (sign) {
				uint8_t cov[2];
				put16(cov, types[t]);
				size_t l = make_rdata(T_RRSIG, cov, 2, rd);
				add(b, o, T_RRSIG, ttl, rd, l);
			}
		}
		if (sign) {
			size_t l = make_rdata(T_NSEC, NULL, 0, rd);
			add(b, o, T_NSEC, 300, rd, l);
			uint8_t cov[2];
			put16(cov, T_NSEC);
			l = make_rdata(T_RRSIG, cov, 2, rd);
			add(b, o, T_RRSIG, 300, rd, l);
		}
	}
	if (sign) {
		uint8_t cov[2];
		put16(cov, T_SOA);
		size_t l = make_rdata(T_RRSIG, cov, 2, rd);
		add(b, apex(), T_RRSIG, 3600, rd, l);
	}
}

/* ---- differences ----------------------------------------------------- */

struct counts {
	unsigned patched, whole, failed, chained, axfr_patched, axfr_whole, reshaped, indexed;
};

/* A name that was not there, or an RRset of a type its owner had not:
 * beside others, under empty non-terminals, at one, a delegation with
 * glue, a DNAME, a wildcard, a new type at an existing name. */
static void new_name(struct zone_builder *b)
{
	uint8_t rd[128], o[NAME_MAXLEN], t[NAME_MAXLEN];
	char s[64];
	unsigned n = rnd(50);
	size_t l;
	switch (rnd(7)) {
	case 0:
		snprintf(s, sizeof(s), "x.y%u.deep.example.com", n);
		break;
	case 1: /* h4.example.com and the like are empty non-terminals */
		snprintf(s, sizeof(s), "h%u.example.com", 5 * (n % 4) + 4);
		break;
	case 2:
		snprintf(s, sizeof(s), "d%u.example.com", n);
		name_from_text(s, o);
		snprintf(s, sizeof(s), "ns.d%u.example.com", n);
		name_from_text(s, t);
		add(b, o, T_NS, 3600, t, name_len(t));
		l = make_rdata(T_A, NULL, 0, rd);
		add(b, t, T_A, 3600, rd, l);
		return;
	case 3:
		snprintf(s, sizeof(s), "dn%u.example.com", n);
		name_from_text(s, o);
		name_from_text("example.net", t);
		add(b, o, T_DNAME, 300, t, name_len(t));
		return;
	case 4:
		snprintf(s, sizeof(s), "*.new%u.example.com", n);
		break;
	case 5: /* a type the name may not have had */
		snprintf(s, sizeof(s), "h%u.example.com", n % 12);
		name_from_text(s, o);
		l = make_rdata(T_TXT, NULL, 0, rd);
		add(b, o, T_TXT, 60, rd, l);
		return;
	default:
		snprintf(s, sizeof(s), "new%u.example.com", n);
		break;
	}
	name_from_text(s, o);
	l = make_rdata(T_A, NULL, 0, rd);
	add(b, o, T_A, 60, rd, l);
}

/* One IXFR: the SOA from serial to serial + 1 and a few changes chosen
 * from the records of the version they apply to (recs). */
static void random_diff(struct zone_builder *b, uint32_t serial, int seqs)
{
	uint8_t rd[128];
	uint32_t minimum = 0;
	for (size_t i = 0; i < n_recs; i++)
		if (recs[i].type == T_SOA)
			minimum = get32(recs[i].rd + recs[i].len - 4);
	for (int s = 1; s <= seqs; s++) {
		b->seq = (uint32_t)s;
		b->op = ZB_DEL;
		soa(b, serial + (uint32_t)s - 1, minimum);
		unsigned changes = 1 + rnd(4);
		struct rec *pick[8];
		for (unsigned c = 0; c < changes; c++) {
			do
				pick[c] = &recs[rnd((uint32_t)n_recs)];
			while (pick[c]->type == T_SOA);
		}
		/* Deletions first, then additions (RFC 1995 4). */
		for (unsigned c = 0; c < changes; c++) {
			struct rec *r = pick[c];
			switch (rnd(8)) {
			case 0: /* a deletion of a record that is not there */
				if (rnd(4) == 0) {
					size_t l = make_rdata(r->type, r->rd, r->len, rd);
					if (l)
						add(b, r->owner, r->type, r->ttl, rd, l);
				}
				break;
			case 1: /* a record added, none deleted; or the whole
				 * name goes (its node: a reshaped version) */
				if (rnd(2) == 0 && name_len(r->owner) != name_len(apex()))
					for (size_t q = 0; q < n_recs; q++)
						if (recs[q].type != T_SOA &&
						    name_equal(recs[q].owner, r->owner))
							add(b, recs[q].owner, recs[q].type, recs[q].ttl,
							    recs[q].rd, recs[q].len);
				break;
			default:
				add(b, r->owner, r->type, r->ttl, r->rd, r->len);
				break;
			}
		}
		b->op = ZB_ADD;
		minimum = rnd(8) == 0 ? 60 : 300;
		soa(b, serial + (uint32_t)s, minimum);
		for (unsigned c = 0; c < changes; c++) {
			struct rec *r = pick[c];
			switch (rnd(6)) {
			case 0: /* the same record, another TTL */
				add(b, r->owner, r->type, r->ttl + 1 + rnd(100), r->rd, r->len);
				break;
			case 1: /* a new name (a new node: a reshaped version) */
				if (rnd(3) != 2)
					new_name(b);
				break;
			default: { /* new contents */
				size_t l = make_rdata(r->type, r->rd, r->len, rd);
				if (l)
					add(b, r->owner, r->type, r->ttl, rd, l);
				break;
			}
			}
		}
	}
}

/* ---- answers ---------------------------------------------------------- */

static struct catalog cat;
static struct cat_zone cz;

static size_t ask(const struct zone *z, const uint8_t *qname, uint16_t type, int dnssec, uint8_t *out,
		  size_t cap)
{
	uint8_t q[NAME_MAXLEN + 40];
	memset(q, 0, 12);
	q[0] = 0x12;
	q[1] = 0x34;
	q[5] = 1;
	q[11] = 1; /* an OPT */
	size_t n = 12 + name_len(qname);
	memcpy(q + 12, qname, name_len(qname));
	put16(q + n, type);
	put16(q + n + 2, C_IN);
	n += 4;
	static const uint8_t opt[11] = { 0, 0, 41, 4, 0xD0, 0, 0, 0x80, 0, 0, 0 };
	memcpy(q + n, opt, sizeof(opt));
	if (!dnssec)
		q[n + 7] = 0;
	n += sizeof(opt);
	cz.current = (struct zone *)(uintptr_t)z;
	struct query_env env = { .transport = TRANSPORT_TCP, .udp_max = 1232 };
	struct query_result res;
	return query_process(&cat, q, n, &env, out, cap, &res);
}

/* Every name of ref (and a name below each) asked every type, with and
 * without DNSSEC: the same octets from both versions. */
static void same_answers(const struct zone *ref, const struct zone *z)
{
	static const uint16_t types[] = { T_A, T_AAAA, T_TXT, T_MX, T_NS, T_SOA, T_ANY,
					  T_RRSIG, T_NSEC, T_CNAME };
	static uint8_t ra[4096], rb[4096];
	uint8_t name[NAME_MAXLEN + 3];
	unsigned bad = 0;
	for (uint32_t i = 0; i < ref->n_nodes && bad < 3; i++) {
		/* "\002zz" in front: a name below the node. */
		zone_node_name(ref, i, name + 3);
		name[0] = 2;
		name[1] = name[2] = 'z';
		for (int below = 0; below < 2; below++) {
			const uint8_t *qn = below ? name : name + 3;
			for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
				for (int d = 0; d < 2; d++) {
					size_t la = ask(ref, qn, types[t], d, ra, sizeof(ra));
					size_t lb = ask(z, qn, types[t], d, rb, sizeof(rb));
					if (la != lb || memcmp(ra, rb, la) != 0) {
						bad++;
						printf("  node %u type %u dnssec %d below %d: %zu vs %zu octets\n",
						       (unsigned)i, types[t], d, below, la, lb);
					}
				}
		}
	}
	CHECK_EQ(bad, 0);
}

/* ---- flattening --------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t n;
};

static void buf_put(void *ctx, const void *p, size_t n)
{
	struct buf *b = ctx;
	if (b->p && n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static struct buf flat(const struct zone *z)
{
	struct buf b = { NULL, 0 };
	size_t len = zone_flatten(z, buf_put, &b);
	CHECK_EQ(len, b.n);
	b.p = malloc(len);
	b.n = 0;
	zone_flatten(z, buf_put, &b);
	return b;
}

/* ---- a whole zone as it comes by AXFR ----------------------------------- */

/* The records of a version fed to a builder, not in canonical order: half
 * of them (by a hash of their place), then the rest, then some again
 * (copies, RFC 2181 5). */
struct feed {
	struct zone_builder *b;
	unsigned pass, i;
};

static void feed_one(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
		     size_t len)
{
	struct feed *f = ctx;
	unsigned h = (f->i++ * 2654435761u) >> 28;
	if ((f->pass == 0 && h % 2 == 0) || (f->pass == 1 && h % 2 == 1) || (f->pass == 2 && h == 5))
		add(f->b, owner, type, ttl, rd, len);
}

static void feed_axfr(struct zone_builder *b, const struct zone *z)
{
	struct feed f = { b, 0, 0 };
	for (f.pass = 0; f.pass < 3; f.pass++) {
		f.i = 0;
		zone_walk(z, feed_one, &f);
	}
}

/* ---- the chains ------------------------------------------------------- */

static void same_version(const struct zone *ref, const struct zone *z)
{
	struct sum a = sum_of(ref), b = sum_of(z);
	CHECK(a.h == b.h && a.n == b.n);
	CHECK_EQ(z->n_records, ref->n_records);
	CHECK_EQ(z->n_records, b.n);
	CHECK(z->serial == ref->serial && z->neg_ttl == ref->neg_ttl && z->refresh == ref->refresh &&
	      z->retry == ref->retry && z->expire == ref->expire);
	CHECK(z->n_nodes == ref->n_nodes && z->n_rrsets == ref->n_rrsets && z->dnssec == ref->dnssec);
	same_answers(ref, z);
	/* Both flatten to the same block, which is a sound whole version. */
	struct buf fa = flat(ref), fb = flat(z);
	CHECK(fa.n == fb.n && memcmp(fa.p, fb.p, fa.n) == 0);
	struct zone *back = (struct zone *)(void *)fb.p;
	CHECK_EQ(zone_adopt(back, fb.n), 0);
	struct sum c = sum_of(back);
	CHECK(c.h == a.h && c.n == a.n);
	free(fa.p);
	free(fb.p);
}

/* The parts of a whole version nothing reads any more (zone_unused):
 * spoilt, so that a version still reading them answers wrongly. */
static unsigned unused_calls;
static size_t unused_octets;
static void spoil(void *p, size_t len)
{
	memset(p, 0xA5, len);
	unused_calls++;
	unused_octets += len;
}

static void chain(uint32_t seed, int sign, struct counts *k)
{
	rng = seed;
	struct zone_builder b;
	struct zone *ref = NULL, *cur = NULL, *ax = NULL;
	zb_init(&b, apex(), 0);
	random_zone(&b, sign);
	CHECK_EQ(zb_finish(&b, &ref), 0);
	if (!ref)
		return;
	/* The same zone twice: one chain by whole builds, one by patches. */
	zb_init(&b, apex(), 0);
	rng = seed;
	random_zone(&b, sign);
	CHECK_EQ(zb_finish(&b, &cur), 0);
	zb_init(&b, apex(), 0);
	feed_axfr(&b, ref);
	CHECK_EQ(zb_finish(&b, &ax), 0);
	rng = seed * 7u + 1u;
	for (int step = 0; step < 24 && cur; step++) {
		n_recs = 0;
		zone_walk(ref, collect, NULL);
		uint32_t state = rng;
		int seqs = 1 + (int)rnd(4) / 3;
		struct zone_builder whole, diff;
		zb_init(&whole, apex(), 0);
		zb_init(&diff, apex(), 0);
		CHECK_EQ(zb_load(&whole, ref), 0);
		random_diff(&whole, ref->serial, seqs);
		rng = state; /* the same differences again */
		(void)rnd(4);
		random_diff(&diff, ref->serial, seqs);
		struct zone *nref = NULL, *ncur = NULL;
		int ra = zb_finish(&whole, &nref);
		int rb = zb_finish_ixfr(&diff, cur, &ncur);
		CHECK_EQ(ra, rb);
		if (ra < 0 || rb < 0) {
			CHECK(ra == rb && strcmp(whole.err, diff.err) == 0);
			k->failed++;
			zone_free(nref);
			zone_free(ncur);
			zb_free(&whole);
			zb_free(&diff);
			continue;
		}
		if (ncur->base) {
			k->patched++;
			if (cur->base)
				k->chained++;
			if (ncur->nodes != ncur->base->nodes) {
				k->reshaped++;
				/* Names and RDATA stay shared: less than a
				 * whole version (its own copy of the nodes and
				 * indexes, the new RRsets). */
				if (!cur->base)
					CHECK(ncur->bytes < nref->bytes);
			}
			/* The base is kept for the new version and cur. */
			CHECK(ncur->base->refs >= 2);
			CHECK(ncur->n_patch <= ncur->base->n_rrsets / 8 + 16);
		} else {
			k->whole++;
		}
		same_version(nref, ncur);
		/* The new version as a whole zone, compared with the one
		 * before it as it comes (AXFR): the same again. */
		struct zone_builder axb;
		struct zone *nax = NULL;
		zb_init(&axb, apex(), 0);
		CHECK_EQ(zb_against(&axb, ax), 0);
		feed_axfr(&axb, nref);
		CHECK(axb.n < nref->n_records); /* what ax holds is not kept */
		CHECK_EQ(zb_finish_axfr(&axb, ax, &nax), 0);
		if (nax) {
			if (nax->base)
				k->axfr_patched++;
			else
				k->axfr_whole++;
			same_version(nref, nax);
		}
		/* The old versions go (as after a grace period): the new one
		 * still reads its base. */
		zone_free(ref);
		zone_free(cur);
		zone_free(ax);
		ref = nref;
		cur = ncur;
		ax = nax;
		/* Served: its hash index now (a reshaped version, or a patch
		 * over one, has none until then), on two steps of three; on
		 * the third it answers by binary search and the next version
		 * is made over one without it. */
		if (step % 3) {
			int had = cur->hash != NULL;
			CHECK_EQ(zone_index(cur), 0);
			CHECK(!ICB_ZONE_HASH || cur->hash != NULL);
			k->indexed += !had && cur->hash != NULL;
		}
		same_answers(ref, cur);
	}
	zone_free(ref);
	zone_free(cur);
	zone_free(ax);
}

void test_patch(void);
void test_patch(void)
{
	memset(&cz, 0, sizeof(cz));
	memcpy(cz.apex, apex(), name_len(apex()));
	cat.zones = &cz;
	cat.n = 1;
	CHECK_EQ(catalog_prepare(&cat), 0);
	struct counts k = { 0, 0, 0, 0, 0, 0, 0, 0 };
	zone_unused = spoil;
	for (uint32_t seed = 1; seed <= 12; seed++)
		chain(seed, (int)(seed & 1), &k);
	printf("patch: %u patched (%u over a patch, %u with other names), %u whole, %u refused; "
	       "by AXFR %u patched, %u whole; %u indexed once served\n",
	       k.patched, k.chained, k.reshaped, k.whole, k.failed, k.axfr_patched, k.axfr_whole,
	       k.indexed);
	/* Every road was taken. */
	CHECK(k.patched > 20 && k.chained > 10 && k.whole > 10 && k.failed > 2 && k.reshaped > 20);
	CHECK(k.axfr_patched > 20 && k.axfr_whole > 10);
	CHECK(!ICB_ZONE_HASH || k.indexed > 20);
	/* Whole versions replaced by reshaped ones gave their nodes up, and
	 * the versions after them answered the same all the same. */
	printf("patch: nodes and indexes of %u whole versions given up early, %zu octets\n",
	       unused_calls / 2, unused_octets);
	CHECK(unused_calls > 20);
	zone_unused = NULL;

#ifndef __XTENSA__ /* 65,536 records: more than the lx106 tests' heap */
	/* An RRset's count is 16 bits: 65,535 records fit, and an IXFR that
	 * adds one more is refused with the reason (not "out of memory"). */
	{
		struct zone_builder b;
		uint8_t o[NAME_MAXLEN];
		name_from_text("many.example.com", o);
		zb_init(&b, apex(), 0);
		soa(&b, 1, 300);
		int ok = 1;
		for (uint32_t i = 0; i < 65535 && ok; i++) {
			uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
			ok = zb_begin(&b, o, T_A, 60) == 0 && zb_rdata(&b, a, 4) == 0 && zb_end(&b) == 0;
		}
		CHECK(ok);
		struct zone *full = NULL, *more = NULL;
		CHECK_EQ(zb_finish(&b, &full), 0);
		if (full) {
			zb_init(&b, apex(), 0);
			b.seq = 1;
			b.op = ZB_DEL;
			soa(&b, 1, 300);
			b.op = ZB_ADD;
			soa(&b, 2, 300);
			static const uint8_t a[4] = { 11, 0, 0, 1 };
			add(&b, o, T_A, 60, a, 4);
			CHECK_EQ(zb_finish_ixfr(&b, full, &more), -1);
			CHECK(more == NULL && b.err && strcmp(b.err, "more than 65535 records in one RRset") == 0);
			zone_free(full);
		}
	}
#endif

	/* A whole zone unlike the one served (most records new): built
	 * whole from what came, the shared records taken back from cur. */
	for (uint32_t seed = 1; seed <= 4; seed++) {
		struct zone_builder b;
		struct zone *a = NULL, *z = NULL, *got = NULL;
		rng = seed;
		zb_init(&b, apex(), 0);
		random_zone(&b, (int)(seed & 1));
		CHECK_EQ(zb_finish(&b, &a), 0);
		rng = seed + 50;
		zb_init(&b, apex(), 0);
		random_zone(&b, (int)(seed & 1));
		CHECK_EQ(zb_finish(&b, &z), 0);
		if (!a || !z)
			continue;
		zb_init(&b, apex(), 0);
		CHECK_EQ(zb_against(&b, a), 0);
		feed_axfr(&b, z);
		CHECK(b.n_seen > 0); /* the SOA's owner and NS, at least */
		CHECK_EQ(zb_finish_axfr(&b, a, &got), 0);
		CHECK(got && got->base == NULL);
		if (got)
			same_version(z, got);
		/* And one that is not for the version it was compared with. */
		zb_init(&b, apex(), 0);
		CHECK_EQ(zb_against(&b, a), 0);
		feed_axfr(&b, z);
		struct zone *none = NULL;
		CHECK_EQ(zb_finish_axfr(&b, z, &none), -1);
		CHECK(none == NULL && b.seen == NULL);
		zone_free(a);
		zone_free(z);
		zone_free(got);
	}

	/* A patch changes nothing but what it must: one TXT of a big zone. */
	{
		struct zone_builder b;
		struct zone *z0 = NULL, *z1 = NULL;
		uint8_t o[NAME_MAXLEN], rd[8] = { 1, 'a' };
		zb_init(&b, apex(), 0);
		soa(&b, 1, 300);
		for (unsigned i = 0; i < 1000; i++) {
			char t[32];
			snprintf(t, sizeof(t), "n%u.example.com", i);
			name_from_text(t, o);
			add(&b, o, T_TXT, 60, rd, 2);
		}
		CHECK_EQ(zb_finish(&b, &z0), 0);
		zb_init(&b, apex(), 0);
		b.seq = 1;
		b.op = ZB_DEL;
		soa(&b, 1, 300);
		name_from_text("n7.example.com", o);
		add(&b, o, T_TXT, 60, rd, 2);
		b.op = ZB_ADD;
		soa(&b, 2, 300);
		rd[1] = 'b';
		add(&b, o, T_TXT, 60, rd, 2);
		CHECK_EQ(zb_finish_ixfr(&b, z0, &z1), 0);
		CHECK(z1 && z1->base == z0 && z1->n_patch == 2 && z1->serial == 2);
		/* Its own block: the header, a bit per RRset and two RRsets. */
		CHECK(z1 && z1->bytes < sizeof(struct zone) + 128 + z0->n_rrsets / 8);
		CHECK(z1 && z1->bytes * 20 < z0->bytes);
		zone_free(z0); /* given up first: z1 keeps it */
		uint32_t n = 0;
		uint8_t key[NAME_KEY_MAX];
		size_t kl = name_key(o, (unsigned)name_in_zone(o, apex()), key);
		CHECK_EQ(zone_find(z1, key, kl, &n), 1);
		const struct zone_rrset *rs = zone_rrset(z1, n, T_TXT);
		CHECK(rs && rs->count == 1 && zone_rdata(z1, rs)[3] == 'b');
		zone_free(z1);
	}
}
