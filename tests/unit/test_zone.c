/* The zone store and builder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/limits.h"
#include "core/rrtype.h"
#include "core/zone.h"
#include "core/zonebuilder.h"
#include "test.h"
#include "testzone.h"

static uint32_t find(const struct zone *z, const char *name, int *exact)
{
	uint8_t n[NAME_MAXLEN], key[NAME_KEY_MAX];
	tz_name(name, "example.com", n);
	size_t kl = name_key(n, (unsigned)name_in_zone(n, z->apex), key);
	uint32_t idx;
	*exact = zone_find(z, key, kl, &idx);
	return *exact ? idx : zone_encloser(z, key, kl, idx);
}

/* The zone built from the same records whatever order they came in: a
 * primary's canonical order with each owner's types out of order (the
 * insertion sort's case), that order reversed and shuffled (past its
 * budget of moves: qsort from where it got to). */
static void test_zone_order(void)
{
	/* 901 records: reversed or shuffled they take far more moves than
	 * the budget (n/8 + 1024).  On the heap: the lx106's DRAM is full. */
	enum { OWNERS = 300, PER = 3, N = 1 + OWNERS * PER, W = 40 };
	char (*lines)[W] = malloc(N * sizeof(*lines));
	const char *(*in)[N + 1] = malloc(4 * sizeof(*in));
	CHECK(lines && in);
	if (!lines || !in) {
		free(lines);
		free(in);
		return;
	}
	for (int i = 0; i < OWNERS; i++) {
		snprintf(lines[1 + PER * i], W, "h%04d 300 A 192.0.2.%d", i, i % 250);
		snprintf(lines[2 + PER * i], W, "h%04d 300 TXT t%d", i, i);
		snprintf(lines[3 + PER * i], W, "h%04d 300 MX %d mx.h%04d", i, i % 7, i);
	}
	snprintf(lines[0], W, "@ 3600 SOA ns1 host 7 100 200 300 60");
	uint32_t r = 12345;
	for (int i = 0; i < N; i++) {
		in[0][i] = lines[i];
		in[1][i] = lines[N - 1 - i];
		in[2][i] = lines[i];
	}
	for (int i = N - 1; i > 0; i--) {
		r = r * 1103515245u + 12345u;
		int j = (int)((r >> 8) % (uint32_t)(i + 1));
		const char *t = in[2][i];
		in[2][i] = in[2][j];
		in[2][j] = t;
	}
	/* Sorted but for one record of the middle sent first: one long move. */
	in[3][0] = lines[N / 2];
	for (int i = 0, k = 1; i < N; i++)
		if (i != N / 2)
			in[3][k++] = lines[i];
	for (int o = 0; o < 4; o++)
		in[o][N] = NULL;
	struct zone *z[4];
	for (int o = 0; o < 4; o++)
		z[o] = tz_build("example.com", in[o]);
	CHECK(z[0] && z[0]->n_records == N && z[0]->n_nodes == 1 + OWNERS);
	for (int o = 1; o < 4; o++) {
		CHECK(z[0] && z[o]);
		if (!z[0] || !z[o])
			continue;
		CHECK(z[o]->n_nodes == z[0]->n_nodes && z[o]->n_rrsets == z[0]->n_rrsets &&
		      z[o]->n_records == z[0]->n_records && z[o]->bytes == z[0]->bytes);
		size_t d = (size_t)(z[0]->data - (const uint8_t *)z[0]);
		CHECK(z[o]->bytes == z[0]->bytes &&
		      memcmp(z[o]->nodes, z[0]->nodes, z[0]->n_nodes * sizeof(*z[0]->nodes)) == 0 &&
		      memcmp(z[o]->rrsets, z[0]->rrsets, z[0]->n_rrsets * sizeof(*z[0]->rrsets)) == 0 &&
		      memcmp(z[o]->data, z[0]->data, z[0]->bytes - d) == 0);
	}
	/* Canonical order: keys ascend. */
	for (uint32_t i = 1; z[2] && i < z[2]->n_nodes; i++) {
		size_t al, bl;
		const uint8_t *a = zone_key(z[2], i - 1, &al), *b = zone_key(z[2], i, &bl);
		int c = memcmp(a, b, al < bl ? al : bl);
		CHECK(c < 0 || (c == 0 && al < bl));
	}
	for (int o = 0; o < 4; o++)
		zone_free(z[o]);
	free(lines);
	free(in);
}

/* ---- a zone laid out as it arrives (zonebuilder.h) ------------------ */

struct srec {
	uint8_t owner[NAME_MAXLEN];
	uint16_t type;
	uint32_t ttl;
	uint8_t rd[64];
	size_t len;
};
struct srecs {
	struct srec *v;
	size_t n, cap;
};

static void srec_add(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
		     const uint8_t *rd, size_t len)
{
	struct srecs *s = ctx;
	if (s->n == s->cap || len > sizeof(s->v[0].rd))
		return;
	struct srec *r = &s->v[s->n++];
	memcpy(r->owner, owner, name_len(owner));
	r->type = type;
	r->ttl = ttl;
	memcpy(r->rd, rd, len);
	r->len = len;
}

/* The zone of the records in this order; laid out as they come unless
 * stream is 0.  *state: the builder's stream state after the last
 * record; *freed: chunks already given back then; *len: octets counted. */
static struct zone *stream_build(const uint8_t *apex, struct srec *const *order, size_t n,
				 int stream, size_t max_bytes, uint8_t *state, size_t *freed,
				 size_t *len)
{
	static struct zone_builder zb;
	zb_init(&zb, apex, max_bytes);
	if (!stream)
		zb.stream = ZB_STREAM_OFF;
	int ok = 1;
	for (size_t i = 0; i < n && ok; i++)
		ok = zb_begin(&zb, order[i]->owner, order[i]->type, order[i]->ttl) == 0 &&
		     zb_rdata(&zb, order[i]->rd, order[i]->len) == 0 && zb_end(&zb) == 0;
	*state = zb.stream;
	*freed = 0;
	for (size_t c = 0; c < zb.n_chunks; c++)
		*freed += zb.chunk[c] == NULL;
	*len = zb.len;
	struct zone *z = NULL;
	if (!ok || zb_finish(&zb, &z) < 0)
		printf("stream_build: %s\n", zb.err ? zb.err : "?");
	zb_free(&zb);
	return z;
}

static int same_zone(const struct zone *a, const struct zone *b)
{
	if (!a || !b || a->n_nodes != b->n_nodes || a->n_rrsets != b->n_rrsets ||
	    a->n_records != b->n_records || a->bytes != b->bytes || a->dnssec != b->dnssec)
		return 0;
	size_t d = (size_t)(a->data - (const uint8_t *)a);
	return memcmp(a->nodes, b->nodes, a->n_nodes * sizeof(*a->nodes)) == 0 &&
	       memcmp(a->rrsets, b->rrsets, a->n_rrsets * sizeof(*a->rrsets)) == 0 &&
	       memcmp(a->data, b->data, a->bytes - d) == 0;
}

/* Whatever order the records come in, and whether or not the builder lays
 * them out as they come, the zone is the same, octet for octet: records
 * in a primary's canonical order (laid out as they come, chunks given back
 * on the way), each owner's records out of order among themselves (still
 * so), and orders that break off (an early record last, the apex's
 * records last, a shuffle: what was laid out goes back among the records,
 * counted once against the size limit). */
static void test_zone_stream(void)
{
	/* Records of 30-40 octets: those of a few chunks of the builder. */
	enum { OWNERS = (int)(ZB_CHUNK / 64) + 16 };
	enum { W = 120, LINES = 8 + 3 * OWNERS };
	char (*lines)[W] = malloc(LINES * sizeof(*lines));
	const char **in = malloc((LINES + 1) * sizeof(*in));
	struct srecs s = { malloc(2 * LINES * sizeof(struct srec)), 0, 2 * LINES };
	struct srec **order = malloc(2 * LINES * sizeof(*order)), **o2 = malloc(2 * LINES * sizeof(*o2));
	CHECK(lines && in && s.v && order && o2);
	if (!lines || !in || !s.v || !order || !o2)
		goto out;
	size_t k = 0;
	snprintf(lines[k++], W, "@ 3600 SOA ns1 host 7 100 200 300 60");
	snprintf(lines[k++], W, "@ 3600 NS ns1");
	snprintf(lines[k++], W, "ns1 3600 A 192.0.2.1");
	snprintf(lines[k++], W, "a.b.c.d.deep 300 A 192.0.2.4");
	snprintf(lines[k++], W, "*.wild 300 TXT w");
	snprintf(lines[k++], W, "sub 300 NS ns.sub");
	snprintf(lines[k++], W, "ns.sub 300 A 192.0.2.9");
	/* RRSIGs over A and TXT at one name: two sets (RFC 4034 3). */
	snprintf(lines[k++], W, "h0000.g0 300 TYPE46 000108020000012c00000000000000001234"
				"076578616d706c6503636f6d00aabbcc");
	for (int i = 0; i < OWNERS; i++) {
		snprintf(lines[k++], W, "h%04d.g%d 300 A 192.0.2.%d", i, i % 7, i % 250);
		snprintf(lines[k++], W, "h%04d.g%d 300 TXT t%d", i, i % 7, i);
		if (i % 2)
			snprintf(lines[k++], W, "h%04d.g%d 300 MX %d mx", i, i % 7, i % 5);
		else /* an RRSIG over the TXT */
			snprintf(lines[k++], W, "h%04d.g%d 300 TYPE46 001008020000012c0000000000000000"
				 "1234076578616d706c6503636f6d00aabbcc", i, i % 7);
	}
	for (size_t i = 0; i < k; i++)
		in[i] = lines[i];
	in[k] = NULL;
	struct zone *canon = tz_build("example.com", in);
	CHECK(canon != NULL);
	if (!canon)
		goto out;
	zone_walk(canon, srec_add, &s); /* canonical order */
	size_t n = s.n;
	CHECK_EQ(n, canon->n_records);
	/* Copies of some records, next to them: a higher TTL (dropped with
	 * the copy) and a lower one (the RRset's TTL). */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		order[m++] = &s.v[i];
		if (i % 13 == 5 && s.n < s.cap) {
			s.v[s.n] = s.v[i];
			s.v[s.n].ttl = s.v[i].ttl + (i % 26 == 5 ? 50 : -10u);
			order[m++] = &s.v[s.n++];
		}
	}
	uint8_t apex[NAME_MAXLEN];
	name_from_text("example.com", apex);
	uint8_t st;
	size_t freed, len, len_all;
	/* The reference: a shuffle, laid out at the end. */
	memcpy(o2, order, m * sizeof(*o2));
	uint32_t r = 777;
	for (size_t i = m - 1; i > 0; i--) {
		r = r * 1103515245u + 12345u;
		size_t j = (r >> 8) % (i + 1);
		struct srec *t = o2[i];
		o2[i] = o2[j];
		o2[j] = t;
	}
	struct zone *ref = stream_build(apex, o2, m, 0, 0, &st, &freed, &len);
	CHECK(ref && st == ZB_STREAM_OFF);
	CHECK(ref && ref->n_records == canon->n_records);
	/* The same shuffle, streaming allowed: it breaks off early. */
	struct zone *z = stream_build(apex, o2, m, 1, 0, &st, &freed, &len);
	CHECK(same_zone(ref, z) && st == ZB_STREAM_OFF);
	zone_free(z);
	/* Canonical order, copies next to their records. */
	z = stream_build(apex, order, m, 1, 0, &st, &freed, &len_all);
	CHECK(same_zone(ref, z));
	CHECK_EQ(st, ICB_ZB_STREAM ? ZB_STREAM_ON : ZB_STREAM_OFF);
	CHECK(ICB_ZB_STREAM ? freed > 0 : freed == 0);
	zone_free(z);
	/* Each owner's records reversed among themselves. */
	for (size_t i = 0, j; i < m; i = j) {
		for (j = i; j < m && name_equal(order[j]->owner, order[i]->owner); j++)
			;
		for (size_t a = 0; a < j - i; a++)
			o2[i + a] = order[j - 1 - a];
	}
	z = stream_build(apex, o2, m, 1, 0, &st, &freed, &len);
	CHECK(same_zone(ref, z));
	CHECK_EQ(st, ICB_ZB_STREAM ? ZB_STREAM_ON : ZB_STREAM_OFF);
	zone_free(z);
	/* An early record last: most of the zone is laid out when the order
	 * breaks; within the size limit that all the records take. */
	memcpy(o2, order, 10 * sizeof(*o2));
	memcpy(o2 + 10, order + 11, (m - 11) * sizeof(*o2));
	o2[m - 1] = order[10];
	z = stream_build(apex, o2, m, 1, len_all, &st, &freed, &len);
	CHECK(same_zone(ref, z) && st == ZB_STREAM_OFF && len == len_all);
	zone_free(z);
	/* The apex's records last: the zone starts without its apex. */
	size_t a = 0;
	while (a < m && name_equal(order[a]->owner, apex))
		a++;
	CHECK(a >= 2);
	memcpy(o2, order + a, (m - a) * sizeof(*o2));
	memcpy(o2 + m - a, order, a * sizeof(*o2));
	z = stream_build(apex, o2, m, 1, 0, &st, &freed, &len);
	CHECK(same_zone(ref, z) && st == ZB_STREAM_OFF);
	zone_free(z);

	/* zb_sort() on a builder laying out as it goes puts it all back;
	 * the old records of an IXFR are never laid out as they come. */
	{
		static struct zone_builder zb;
		zb_init(&zb, apex, 0);
		int ok = 1;
		for (size_t i = 0; i < m && ok; i++)
			ok = zb_begin(&zb, order[i]->owner, order[i]->type, order[i]->ttl) == 0 &&
			     zb_rdata(&zb, order[i]->rd, order[i]->len) == 0 && zb_end(&zb) == 0;
		CHECK(ok && zb.stream == (ICB_ZB_STREAM ? ZB_STREAM_ON : ZB_STREAM_OFF));
		/* Laid out as they came, only the last owner's records are
		 * still indexed (at most three and a copy). */
		CHECK(ICB_ZB_STREAM ? zb.n >= 1 && zb.n <= 4 && zb.idx_cap <= 64 : zb.n == m);
		CHECK(zb_sort(&zb) == 0 && zb.stream == ZB_STREAM_OFF);
		struct zb_rec a1, b1;
		int sorted = 1;
		for (size_t i = 1; i < zb.n && sorted; i++) {
			zb_record(&zb, i - 1, &a1);
			zb_record(&zb, i, &b1);
			int c = memcmp(a1.key, b1.key, a1.klen < b1.klen ? a1.klen : b1.klen);
			sorted = c < 0 || (c == 0 && a1.klen <= b1.klen);
		}
		CHECK(sorted && zb.n >= canon->n_records);
		z = NULL;
		CHECK(zb_finish(&zb, &z) == 0 && same_zone(ref, z));
		zone_free(z);
		zb_init(&zb, apex, 0);
		CHECK(zb_load(&zb, ref) == 0 && zb.stream == ZB_STREAM_OFF);
		zb_free(&zb);
	}
	/* Once records are laid out, a deletion or a later difference is
	 * refused (the layout keeps RRset TTLs, not each record's), and so is
	 * everything after it; laid out at the end, the same calls build. */
	for (int st2 = 0; st2 < 2 && ICB_ZB_STREAM; st2++) {
		static struct zone_builder zb;
		zb_init(&zb, apex, 0);
		if (!st2)
			zb.stream = ZB_STREAM_OFF;
		int ok = 1;
		for (size_t i = 0; i < 40 && ok; i++)
			ok = zb_begin(&zb, order[i]->owner, order[i]->type, order[i]->ttl) == 0 &&
			     zb_rdata(&zb, order[i]->rd, order[i]->len) == 0 && zb_end(&zb) == 0;
		CHECK(ok);
		zb.op = ZB_DEL;
		zb.seq = 1;
		ok = zb_begin(&zb, order[30]->owner, order[30]->type, order[30]->ttl) == 0 &&
		     zb_rdata(&zb, order[30]->rd, order[30]->len) == 0 && zb_end(&zb) == 0;
		CHECK_EQ(ok, !st2);
		CHECK(st2 ? zb.stream == ZB_STREAM_FAILED && strstr(zb.err, "differences") : 1);
		zb.op = ZB_ADD;
		zb.seq = 0;
		CHECK_EQ(zb_begin(&zb, order[50]->owner, order[50]->type, order[50]->ttl), st2 ? -1 : 0);
		if (!st2)
			CHECK(zb_rdata(&zb, order[50]->rd, order[50]->len) == 0 && zb_end(&zb) == 0);
		z = NULL;
		CHECK_EQ(zb_finish(&zb, &z), st2 ? -1 : 0);
		CHECK(st2 ? z == NULL && strstr(zb.err, "differences") : z != NULL);
		zone_free(z);
		zb_free(&zb);
	}
#if ZB_CHUNK_SHIFT >= 16
	/* A layout that fails on the way (an RRset of 65536 records, laid out
	 * when the next owner starts): that call fails, and every later one,
	 * with the same reason, as the build at the end fails. */
	for (int st2 = 0; st2 < 2; st2++) {
		static struct zone_builder zb;
		zb_init(&zb, apex, 0);
		if (!st2)
			zb.stream = ZB_STREAM_OFF;
		uint8_t big[NAME_MAXLEN], next[NAME_MAXLEN], a4[4] = { 10, 0, 0, 0 };
		tz_name("big", "example.com", big);
		tz_name("next", "example.com", next);
		int ok = zb_begin(&zb, order[0]->owner, order[0]->type, order[0]->ttl) == 0 &&
			 zb_rdata(&zb, order[0]->rd, order[0]->len) == 0 && zb_end(&zb) == 0;
		for (uint32_t i = 0; i < 65536 && ok; i++) {
			a4[1] = (uint8_t)(i >> 16);
			a4[2] = (uint8_t)(i >> 8);
			a4[3] = (uint8_t)i;
			ok = zb_begin(&zb, big, T_A, 300) == 0 && zb_rdata(&zb, a4, 4) == 0 &&
			     zb_end(&zb) == 0;
		}
		CHECK(ok);
		ok = zb_begin(&zb, next, T_A, 300) == 0 && zb_rdata(&zb, a4, 4) == 0 && zb_end(&zb) == 0;
		CHECK_EQ(ok, !st2);
		if (st2) {
			CHECK(zb.stream == ZB_STREAM_FAILED && strstr(zb.err, "65535 records"));
			CHECK_EQ(zb_begin(&zb, next, T_TXT, 300), -1);
			CHECK_EQ(zb_sort(&zb), -1);
		}
		z = NULL;
		CHECK_EQ(zb_finish(&zb, &z), -1);
		CHECK(z == NULL && zb.err && strstr(zb.err, "65535 records"));
		zb_free(&zb);
	}
#endif
	zone_free(ref);
	zone_free(canon);
out:
	free(lines);
	free(in);
	free(s.v);
	free(order);
	free(o2);
}

void test_zone(void);
void test_zone(void)
{
	test_zone_order();
	test_zone_stream();
	static const char *const recs[] = {
		"@ 3600 SOA ns1 host 7 100 200 300 60",
		"@ 3600 NS ns1",
		"ns1 3600 A 192.0.2.1",
		"a.b.c.ent 300 A 192.0.2.4",
		"dup 300 A 192.0.2.5",
		"dup 300 A 192.0.2.5",   /* a duplicate RR: dropped */
		"dup 100 A 192.0.2.6",   /* a lower TTL: the RRset's TTL */
		"sub 300 NS ns.sub",
		"ns.sub 300 A 192.0.2.9",
		"*.wild 300 TXT w",
		"Mixed.Case 300 A 192.0.2.7",
		"dn 300 DNAME example.net.",
		NULL,
	};
	struct zone *z = tz_build("example.com", recs);
	CHECK(z != NULL);
	if (!z)
		return;
	CHECK_EQ(z->serial, 7);
	CHECK_EQ(z->refresh, 100);
	CHECK_EQ(z->retry, 200);
	CHECK_EQ(z->expire, 300);
	CHECK_EQ(z->neg_ttl, 60);
	CHECK_EQ(z->n_records, 11);

	int exact;
	uint32_t n = find(z, "dup", &exact);
	CHECK(exact);
	const struct zone_rrset *rs = zone_rrset(z, n, T_A);
	CHECK(rs && rs->count == 2 && rs->ttl == 100);

	/* Empty non-terminals exist and have no RRsets. */
	n = find(z, "b.c.ent", &exact);
	CHECK(exact);
	CHECK_EQ(z->nodes[n].n_rrsets, 0);
	n = find(z, "ent", &exact);
	CHECK(exact);
	n = find(z, "x.b.c.ent", &exact);
	CHECK(!exact);
	uint8_t nm[NAME_MAXLEN], want[NAME_MAXLEN];
	zone_node_name(z, n, nm);
	tz_name("b.c.ent", "example.com", want);
	CHECK(name_equal(nm, want));
	/* Closest encloser of a name next to an existing subtree. */
	n = find(z, "zzz.c.ent", &exact);
	zone_node_name(z, n, nm);
	tz_name("c.ent", "example.com", want);
	CHECK(!exact && name_equal(nm, want));
	n = find(z, "nothing", &exact);
	CHECK(!exact && n == 0);

	/* Case-insensitive lookup. */
	n = find(z, "MIXED.case", &exact);
	CHECK(exact);

	/* Flags: the cut, what is under it, the wildcard parent, DNAME. */
	n = find(z, "sub", &exact);
	CHECK(z->nodes[n].flags & NODE_DELEG);
	n = find(z, "ns.sub", &exact);
	CHECK(exact && (z->nodes[n].flags & NODE_UNDER));
	n = find(z, "wild", &exact);
	CHECK(exact && (z->nodes[n].flags & NODE_WILDCHILD));
	n = find(z, "dn", &exact);
	CHECK(z->nodes[n].flags & NODE_DNAME);
	CHECK(!(z->nodes[0].flags & NODE_DELEG)); /* the apex NS is no cut */

	/* Canonical order: every node after its parent, keys ascending. */
	for (uint32_t i = 1; i < z->n_nodes; i++) {
		size_t al, bl;
		const uint8_t *a = zone_key(z, i - 1, &al), *b = zone_key(z, i, &bl);
		int c = memcmp(a, b, al < bl ? al : bl);
		CHECK(c < 0 || (c == 0 && al < bl));
		CHECK(z->nodes[i].parent < i);
	}
	/* The block can be copied elsewhere (a file) and taken back. */
	{
		struct zone *copy = malloc(z->bytes);
		memcpy(copy, z, z->bytes);
		copy->nodes = NULL;
		copy->rrsets = NULL;
		copy->data = NULL;
		CHECK_EQ(zone_adopt(copy, z->bytes), 0);
		n = 0;
		CHECK(copy->n_nodes == z->n_nodes && memcmp(copy->data, z->data, 16) == 0);
		uint8_t k1[NAME_MAXLEN], k2[NAME_MAXLEN];
		for (uint32_t i = 0; i < z->n_nodes; i++) {
			zone_node_name(z, i, k1);
			zone_node_name(copy, i, k2);
			CHECK(name_equal(k1, k2));
		}
		CHECK_EQ(zone_adopt(copy, z->bytes - 1), -1);   /* truncated */
		struct zone_node *bad = (struct zone_node *)(void *)((uint8_t *)copy +
			((uint8_t *)z->nodes - (uint8_t *)z));
		uint32_t save = bad[1].key;
		bad[1].key = 0x7FFFFFFF;                            /* out of the block */
		CHECK_EQ(zone_adopt(copy, z->bytes), -1);
		bad[1].key = save;
		bad[2].parent = 5;                                  /* a parent after its child */
		CHECK_EQ(zone_adopt(copy, z->bytes), -1);
		free(copy);
	}
	zone_free(z);

	/* The type table: the quick index agrees with the table itself. */
	for (unsigned t = 0; t < 70000; t += (t < 300 ? 1 : 997)) {
		const struct rrtype *d = rrtype_get((uint16_t)t);
		CHECK(d->name == NULL || d->type == t);
	}
	CHECK_EQ(rrtype_get(T_A)->type, T_A);
	CHECK_EQ(rrtype_get(T_NSEC3PARAM)->type, T_NSEC3PARAM);
	CHECK_EQ(rrtype_get(99)->type, 99); /* SPF */
	CHECK(rrtype_get(22)->name == NULL); /* NSAP: opaque */
	CHECK(rrtype_get(257)->fields[0] == RD_FIX(1)); /* CAA */

	/* Refusals: no SOA, two SOAs, a record outside the zone, bad RDATA. */
	static const char *const nosoa[] = { "www 300 A 192.0.2.1", NULL };
	CHECK(tz_build("example.com", nosoa) == NULL);
	static const char *const twosoa[] = { "@ 1 SOA a b 1 2 3 4 5", "@ 1 SOA a b 2 2 3 4 5", NULL };
	CHECK(tz_build("example.com", twosoa) == NULL);
	static const char *const outside[] = { "@ 1 SOA a b 1 2 3 4 5", "x.example.org. 1 A 1.2.3.4", NULL };
	CHECK(tz_build("example.com", outside) == NULL);
	static const char *const bad_a[] = { "@ 1 SOA a b 1 2 3 4 5", "x 1 TYPE1 0102030405", NULL };
	CHECK(tz_build("example.com", bad_a) == NULL);
	static const char *const bad_mx[] = { "@ 1 SOA a b 1 2 3 4 5", "x 1 TYPE15 000A", NULL };
	CHECK(tz_build("example.com", bad_mx) == NULL);

	/* zone_find_wildcard() against zone_find() of the key built with
	 * "*" appended, at every node: labels that sort before "*" (octets
	 * under 0x2a, escaped 0x00/0x01), after it, nested wildcards. */
	static const char *const wild[] = {
		"@ 1 SOA a b 1 2 3 4 5",
		"*.w 1 A 192.0.2.1",
		"!.w 1 A 192.0.2.2",
		"\\000.w 1 A 192.0.2.3",
		"\\001x.w 1 A 192.0.2.4",
		")).w 1 A 192.0.2.5",
		"+.w 1 A 192.0.2.6",
		"a.w 1 A 192.0.2.7",
		"*.a.w 1 A 192.0.2.8",
		"b.*.a.w 1 A 192.0.2.9",
		"z.nowild 1 A 192.0.2.10",
		"!.nowild 1 A 192.0.2.11",
		"*x.nowild 1 A 192.0.2.12",
		NULL,
	};
	struct zone *wz = tz_build("example.com", wild);
	CHECK(wz != NULL);
	if (wz) {
		unsigned found = 0;
		for (uint32_t i = 0; i < wz->n_nodes; i++) {
			size_t kl;
			const uint8_t *k = zone_key(wz, i, &kl);
			uint8_t wk[NAME_KEY_MAX + 2];
			memcpy(wk, k, kl);
			wk[kl] = '*';
			wk[kl + 1] = 0;
			uint32_t want_idx, got_idx;
			int want = zone_find(wz, wk, kl + 2, &want_idx);
			int got = zone_find_wildcard(wz, i, &got_idx);
			CHECK_EQ(got, want);
			CHECK_EQ(got_idx, want_idx); /* the node, or the same predecessor */
			found += (unsigned)got;
		}
		CHECK_EQ(found, 2); /* *.w and *.a.w */

		/* The hash index: at least 1.5 slots per node, a power of two,
		 * every node in it; zone_adopt() makes it again (a copy with the
		 * index emptied, or with a slot naming no node, finds every name
		 * by it), and refuses a copy whose index has the wrong size. */
		CHECK(wz->hash_size == 0 || (wz->hash_size & (wz->hash_size - 1)) == 0);
		if (ICB_ZONE_HASH) {
			CHECK(wz->hash_size >= wz->n_nodes + wz->n_nodes / 2);
			unsigned in_index = 0;
			for (uint32_t i = 0; i < wz->hash_size; i++)
				in_index += wz->hash[i] != ZONE_NONE;
			CHECK_EQ(in_index, wz->n_nodes);
		}
		struct zone *cp = malloc(wz->bytes);
		if (cp && wz->hash_size) {
			memcpy(cp, wz, wz->bytes);
			CHECK_EQ(zone_adopt(cp, wz->bytes), 0);
			uint32_t *slots = (uint32_t *)(void *)((uint8_t *)cp + ((const uint8_t *)wz->hash - (const uint8_t *)wz));
			for (int spoil = 0; spoil < 2; spoil++) {
				for (uint32_t i = 0; i < cp->hash_size; i++)
					slots[i] = spoil ? cp->n_nodes : ZONE_NONE;
				CHECK_EQ(zone_adopt(cp, wz->bytes), 0);
				CHECK(memcmp(slots, wz->hash, wz->hash_size * 4) == 0);
				for (uint32_t i = 0; i < cp->n_nodes; i++) {
					size_t kl;
					const uint8_t *k = zone_key(cp, i, &kl);
					uint32_t got;
					CHECK(zone_find_exact(cp, k, kl, &got) && got == i);
				}
			}
			cp->hash_size /= 2;
			CHECK_EQ(zone_adopt(cp, wz->bytes), -1);
		}
		free(cp);
		zone_free(wz);
	}

	/* A record far bigger than a chunk of the builder, arriving an
	 * octet at a time (as the transfer parser gives a TXT's strings), and
	 * records around it: the zone has them all, intact.  (The lx106 tests
	 * build with 256-octet chunks: there this also bounds the copies a
	 * growing record makes, under that build's heap.) */
	{
		static struct zone_builder zb;
		uint8_t apex[NAME_MAXLEN], owner[NAME_MAXLEN];
		name_from_text("big.example", apex);
		zb_init(&zb, apex, 0);
		static const uint8_t soa[] = { 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 };
		CHECK(zb_begin(&zb, apex, T_SOA, 60) == 0 && zb_rdata(&zb, soa, sizeof(soa)) == 0 &&
		      zb_end(&zb) == 0);
		static uint8_t txt[8000];
		for (size_t i = 0; i < sizeof(txt); i++)
			txt[i] = (i % 200 == 0) ? 199 : (uint8_t)('a' + i % 26);
		int ok = 1;
		for (int r = 0; r < 3 && ok; r++) {
			char t[40];
			snprintf(t, sizeof(t), "r%d.big.example", r);
			name_from_text(t, owner);
			ok = zb_begin(&zb, owner, T_TXT, 60) == 0;
			for (size_t i = 0; ok && i < sizeof(txt); i++)
				ok = zb_rdata(&zb, txt + i, 1) == 0;
			ok = ok && zb_end(&zb) == 0;
			ok = ok && zb_begin(&zb, owner, T_A, 60) == 0 &&
			     zb_rdata(&zb, "\xc0\x00\x02\x01", 4) == 0 && zb_end(&zb) == 0;
		}
		CHECK(ok);
		struct zone *bz = NULL;
		CHECK(ok && zb_finish(&zb, &bz) == 0);
		if (bz) {
			CHECK_EQ(bz->n_records, 7);
			int exact;
			uint8_t key[NAME_KEY_MAX];
			name_from_text("r1.big.example", owner);
			size_t kl = name_key(owner, 1, key);
			uint32_t n;
			exact = zone_find(bz, key, kl, &n);
			const struct zone_rrset *rs = exact ? zone_rrset(bz, n, T_TXT) : NULL;
			CHECK(rs && rs->count == 1 && rdata_len(zone_rdata(bz, rs)) == sizeof(txt) &&
			      memcmp(zone_rdata(bz, rs) + 2, txt, sizeof(txt)) == 0);
			zone_free(bz);
		}
		zb_free(&zb);
	}

	/* zone_find_encloser() and zone_find_exact() (the hash index, one
	 * probe per label climbed) against the binary search of the same
	 * zone with its index hidden: every node, names below each node one
	 * and three labels deep, "*" below each, a sibling sorting next to
	 * it, on a zone of empty non-terminals, wildcards and escaped labels
	 * and on a random one of ENC_NAMES names (its index sees collisions). */
#ifdef __XTENSA__
#define ENC_NAMES 200 /* the ESP8266's RAM; its build has no hash index */
#else
#define ENC_NAMES 3000
#endif
	for (int which = 0; which < 2; which++) {
		struct zone *ez = NULL;
		if (which == 0) {
			ez = tz_build("example.com", wild);
		} else {
			static char lines[ENC_NAMES + 1][64];
			static const char *rl[ENC_NAMES + 2];
			uint32_t seed = 12345;
			snprintf(lines[0], sizeof(lines[0]), "@ 1 SOA a b 1 2 3 4 5");
			rl[0] = lines[0];
			for (int i = 1; i <= ENC_NAMES; i++) {
				char lab[3][8];
				for (int j = 0; j < 3; j++) {
					seed = seed * 1103515245u + 12345u;
					snprintf(lab[j], sizeof(lab[j]), "%c%u", 'a' + (seed >> 16) % 5,
						 (seed >> 8) % (j == 2 ? 40u : 7u));
				}
				seed = seed * 1103515245u + 12345u;
				unsigned depth = 1 + (seed >> 16) % 3;
				snprintf(lines[i], sizeof(lines[i]), "%s%s%s%s%s 1 A 192.0.2.1",
					 depth > 2 ? lab[0] : "", depth > 2 ? "." : "",
					 depth > 1 ? lab[1] : "", depth > 1 ? "." : "", lab[2]);
				rl[i] = lines[i];
			}
			rl[ENC_NAMES + 1] = NULL;
			ez = tz_build("example.com", rl);
		}
		CHECK(ez != NULL);
		if (!ez)
			continue;
		struct zone plain = *ez; /* the same nodes, looked up without the index */
		plain.hash = NULL;
		unsigned asked = 0, deeper = 0;
		for (uint32_t i = 0; i < ez->n_nodes; i++) {
			size_t kl;
			const uint8_t *k = zone_key(ez, i, &kl);
			/* Label octets, then a terminator (0); "\1\2" is an
			 * escaped octet 1 (name_key). */
			static const struct { const char *o; size_t n; } tails[] = {
				{ "", 0 }, { "q\0", 2 }, { "*\0", 2 }, { "zz\0y\0\1\2x\0", 9 },
			};
			for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
				uint8_t key[NAME_KEY_MAX + 16];
				size_t l = kl + tails[t].n;
				memcpy(key, k, kl);
				memcpy(key + kl, tails[t].o, tails[t].n);
				uint32_t want, got;
				int we = zone_find(&plain, key, l, &want);
				if (!we)
					want = zone_encloser(&plain, key, l, want);
				int ge = zone_find_encloser(ez, key, l, &got);
				CHECK_EQ(ge, we);
				CHECK_EQ(got, want);
				uint32_t x = ZONE_NONE, px = ZONE_NONE;
				CHECK_EQ(zone_find_exact(ez, key, l, &x), we);
				CHECK_EQ(zone_find_exact(&plain, key, l, &px), we);
				if (we)
					CHECK(x == want && px == want);
				/* A name that sorts next to this one, one label
				 * shorter at the end (its last label cut short). */
				if (kl >= 2 && t == 0) {
					key[kl - 2] = 0;
					we = zone_find(&plain, key, kl - 1, &want);
					if (!we)
						want = zone_encloser(&plain, key, kl - 1, want);
					ge = zone_find_encloser(ez, key, kl - 1, &got);
					CHECK_EQ(ge, we);
					CHECK_EQ(got, want);
				}
				asked++;
				deeper += !we && want != 0;
			}
		}
		CHECK(asked >= 4 * ez->n_nodes);
		/* The lookup a step at a time (prefetch hints): from its home
		 * slot on, past other names' slots, a name's own node is found
		 * (another's only when the 8-bit tags match, or past 8 slots),
		 * and never a node that is not there; no index, no hint. */
		unsigned direct = 0;
		for (uint32_t i = 0; i < ez->n_nodes; i++) {
			size_t kl;
			const uint8_t *k = zone_key(ez, i, &kl);
			uint32_t slot, tag;
			CHECK_EQ(zone_hint_slot(&plain, k, kl, &slot, &tag), 0);
			if (!zone_hint_slot(ez, k, kl, &slot, &tag))
				continue;
			uint32_t n = zone_hint_node(ez, &slot, tag);
			CHECK(n == ZONE_NONE || n < ez->n_nodes);
			direct += n == i;
			zone_hint_data(ez, n);
		}
		CHECK(!ICB_ZONE_HASH || direct >= ez->n_nodes - ez->n_nodes / 32);
		/* By owner name: the name's key below the apex, nothing for a
		 * name outside the zone (nor one that only ends like it). */
		uint8_t nm[NAME_MAXLEN];
		uint32_t s1, t1, s2, t2;
		static const uint8_t www_key[] = { 'w', 'w', 'w', 0 };
		name_from_text("WWW.example.com", nm);
		CHECK_EQ(zone_hint_name(ez, nm, &s1, &t1), ICB_ZONE_HASH);
		CHECK_EQ(zone_hint_slot(ez, www_key, sizeof(www_key), &s2, &t2), ICB_ZONE_HASH);
		CHECK(!ICB_ZONE_HASH || (s1 == s2 && t1 == t2));
		name_from_text("example.com", nm);
		CHECK_EQ(zone_hint_name(ez, nm, &s1, &t1), ICB_ZONE_HASH);
		CHECK_EQ(zone_hint_name(&plain, nm, &s1, &t1), 0);
		name_from_text("www.example.net", nm);
		CHECK_EQ(zone_hint_name(ez, nm, &s1, &t1), 0);
		name_from_text("www.anexample.com", nm);
		CHECK_EQ(zone_hint_name(ez, nm, &s1, &t1), 0);
		name_from_text("com", nm);
		CHECK_EQ(zone_hint_name(ez, nm, &s1, &t1), 0);
		CHECK(deeper > ez->n_nodes); /* encloser below the apex: a climb of several probes */
		zone_free(ez);
	}

	/* catalog_find: the longest apex wins, and the key returned is the
	 * name's key in that zone; the same with a few zones (compared name
	 * by name) and with many (binary search over keys). */
	static const char *const apexes[] = { "example.com", "sub.example.com", "other.net", "." };
	static const char *const asks[][2] = {
		{ "www.example.com", "example.com" }, { "a.b.SUB.example.com", "sub.example.com" },
		{ "sub.example.com", "sub.example.com" }, { "example.com", "example.com" },
		{ "xsub.example.com", "example.com" }, { "other.net", "other.net" },
		{ "www.other.org", "." }, { "com", "." },
	};
	for (int many = 0; many < 2; many++) {
		static struct cat_zone zones[24];
		memset(zones, 0, sizeof(zones));
		size_t nz = 0;
		for (size_t i = 0; i < 4; i++)
			name_from_text(apexes[i], zones[nz++].apex);
		for (int i = 0; many && i < 20; i++) {
			char t[32];
			snprintf(t, sizeof(t), "filler%d.example.org", i);
			name_from_text(t, zones[nz++].apex);
		}
		struct catalog c = { .zones = zones, .n = nz };
		CHECK_EQ(catalog_prepare(&c), 0);
		for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
			uint8_t q[NAME_MAXLEN], want[NAME_MAXLEN], key[NAME_KEY_MAX], wkey[NAME_KEY_MAX];
			name_from_text(asks[i][0], q);
			name_from_text(asks[i][1], want);
			size_t kl = 99;
			struct cat_zone *z = catalog_find(&c, q, key, &kl);
			CHECK(z && name_equal(z->apex, want));
			if (!z)
				continue;
			size_t wl = name_key(q, name_labels(q) - name_labels(want), wkey);
			CHECK(kl == wl && memcmp(key, wkey, wl) == 0);
			CHECK(catalog_find(&c, q, NULL, NULL) == z);
		}
	}
}
