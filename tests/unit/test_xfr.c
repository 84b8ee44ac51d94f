/* The AXFR stream parser: real transfers captured from Knot DNS, fed whole,
 * one octet at a time and in random chunks, must give the same zone as
 * dnspython read from the same bytes; hostile transfers must fail with the
 * right reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rrtype.h"
#include "core/wire.h"
#include "core/xfr.h"
#include "core/zonepatch.h"
#include "test.h"
#include "testzone.h"

const char *test_data_dir(void);

static uint8_t *read_file(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", test_data_dir(), name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("cannot open %s\n", path);
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return buf;
}

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_add(struct lines *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
	}
	size_t n = strlen(s);
	l->v[l->n] = malloc(n + 1);
	memcpy(l->v[l->n++], s, n + 1);
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
		    const uint8_t *rd, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char text[NAME_TEXT_MAX], *line = malloc(NAME_TEXT_MAX + 32 + 2 * len + 2);
	name_to_text(owner, text, sizeof(text));
	int o = sprintf(line, "%s %lu %u ", text, (unsigned long)ttl, (unsigned)type);
	if (len == 0)
		line[o++] = '-';
	for (size_t i = 0; i < len; i++) {
		line[o++] = hex[rd[i] >> 4];
		line[o++] = hex[rd[i] & 15];
	}
	line[o] = 0;
	lines_add(ctx, line);
	free(line);
}

/* Parse a whole stream (testzone.h), unsigned. */
static int run(const uint8_t *stream, size_t len, const uint8_t *apex, int mode, int strip,
	       struct zone **out, struct xfr_parser *p, unsigned long seed)
{
	return tz_transfer(stream, len, apex, mode, seed, strip, NULL, 0, out, p);
}

static void dump(const struct zone *z, struct lines *l)
{
	zone_walk(z, collect, l);
	qsort(l->v, l->n, sizeof(*l->v), str_cmp);
}

static void capture(const char *base, const char *apex_text)
{
	char fn[128];
	size_t len, rlen;
	snprintf(fn, sizeof(fn), "%s.axfr", base);
	uint8_t *stream = read_file(fn, &len);
	snprintf(fn, sizeof(fn), "%s.rrs", base);
	uint8_t *rrs = read_file(fn, &rlen);
	CHECK(stream && rrs);
	if (!stream || !rrs) {
		free(stream);
		free(rrs);
		return;
	}
	struct lines want = { 0 };
	rrs = realloc(rrs, rlen + 1);
	rrs[rlen] = 0;
	for (char *s = strtok((char *)rrs, "\n"); s; s = strtok(NULL, "\n"))
		lines_add(&want, s);
	qsort(want.v, want.n, sizeof(*want.v), str_cmp);

	uint8_t apex[NAME_MAXLEN];
	name_from_text(apex_text, apex);
	struct xfr_parser *p = malloc(sizeof(*p));
	struct lines first = { 0 };
	/* Whole, one octet at a time, then chunks of 1-7 and 1-3000 octets. */
	for (int mode = 0; mode < 6; mode++) {
		struct zone *z;
		int rc = run(stream, len, apex, mode > 3 ? 3 : mode, 0, &z, p, (unsigned long)mode * 7919u);
		CHECK_EQ(rc, XFR_DONE);
		if (rc != XFR_DONE) {
			printf("%s mode %d: %s\n", base, mode, p->err);
			continue;
		}
		struct lines got = { 0 };
		dump(z, &got);
		if (mode == 0) {
			CHECK_EQ(got.n, want.n);
			size_t bad = 0;
			for (size_t i = 0; i < got.n && i < want.n; i++)
				if (strcmp(got.v[i], want.v[i]) != 0 && bad++ < 3)
					printf("%s: got  %s\n%s: want %s\n", base, got.v[i], base, want.v[i]);
			CHECK_EQ(bad, 0);
			first = got;
		} else {
			int same = got.n == first.n;
			for (size_t i = 0; same && i < got.n; i++)
				same = strcmp(got.v[i], first.v[i]) == 0;
			CHECK(same);
			lines_free(&got);
		}
		zone_free(z);
	}
	/* Stripped: no DNSSEC records remain, everything else does. */
	struct zone *z;
	CHECK_EQ(run(stream, len, apex, 0, 1, &z, p, 0), XFR_DONE);
	if (z) {
		struct lines got = { 0 };
		dump(z, &got);
		size_t dnssec = 0;
		for (size_t i = 0; i < want.n; i++) {
			unsigned t = 0;
			sscanf(strchr(strchr(want.v[i], ' ') + 1, ' ') + 1, "%u", &t);
			if (rrtype_get((uint16_t)t)->flags & RRT_DNSSEC)
				dnssec++;
		}
		CHECK_EQ(got.n, want.n - dnssec);
		CHECK_EQ(p->dropped_dnssec, dnssec);
		lines_free(&got);
		zone_free(z);
	}
	lines_free(&first);
	lines_free(&want);
	free(p);
	free(stream);
	free(rrs);
}

/* ---- hand-made hostile transfers ----------------------------------- */

struct msg {
	uint8_t b[1024];
	size_t n;
};

static void m_bytes(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}
static void m_u16(struct msg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}
static void m_u32(struct msg *m, unsigned long v)
{
	m_u16(m, (unsigned)(v >> 16));
	m_u16(m, (unsigned)(v & 0xFFFF));
}
static void m_header(struct msg *m, unsigned id, unsigned flags, unsigned an)
{
	m->n = 0;
	m_u16(m, id);
	m_u16(m, flags);
	m_u16(m, 0);
	m_u16(m, an);
	m_u16(m, 0);
	m_u16(m, 0);
}
/* An SOA for example.com; the owner at offset 12 when it comes first. */
static void m_soa(struct msg *m, unsigned long serial, int first)
{
	if (first)
		m_bytes(m, "\7example\3com\0", 13);
	else
		m_bytes(m, "\xC0\x0C", 2);
	m_u16(m, T_SOA);
	m_u16(m, C_IN);
	m_u32(m, 3600);
	m_u16(m, 3 + 2 + 20);
	m_bytes(m, "\1a\0", 3);
	m_bytes(m, "\xC0\x0C", 2);
	m_u32(m, serial);
	m_u32(m, 1);
	m_u32(m, 2);
	m_u32(m, 3);
	m_u32(m, 4);
}
static void m_rr(struct msg *m, const void *owner, size_t olen, unsigned type, unsigned cls,
		 const void *rd, size_t rdlen, size_t claimed)
{
	m_bytes(m, owner, olen);
	m_u16(m, type);
	m_u16(m, cls);
	m_u32(m, 300);
	m_u16(m, (unsigned)claimed);
	m_bytes(m, rd, rdlen);
}

/* Feed one message (with its length prefix), then end the stream. */
static int feed(const struct msg *m, int extra, char *err, size_t errlen)
{
	uint8_t apex[NAME_MAXLEN], s[1100];
	name_from_text("example.com", apex);
	s[0] = (uint8_t)(m->n >> 8);
	s[1] = (uint8_t)m->n;
	memcpy(s + 2, m->b, m->n);
	size_t len = m->n + 2;
	if (extra)
		s[len++] = 0x55;
	struct zone *z;
	struct xfr_parser *p = malloc(sizeof(*p));
	/* One octet at a time, but whole when data follows the end:
	 * the parser stops taking octets once the transfer is done. */
	int rc = run(s, len, apex, extra ? 0 : 1, 0, &z, p, 0);
	snprintf(err, errlen, "%s", p->err);
	free(p);
	if (z)
		zone_free(z);
	return rc;
}

#define EXPECT_FAIL(m, extra, text)                                                  \
	do {                                                                         \
		char e_[256];                                                        \
		int r_ = feed(m, extra, e_, sizeof(e_));                             \
		CHECK_EQ(r_, XFR_FAIL);                                              \
		if (!strstr(e_, text)) {                                             \
			printf("expected '%s' in '%s'\n", text, e_);                 \
			CHECK(0);                                                    \
		}                                                                    \
	} while (0)

static void hostile(void)
{
	struct msg m;
	char e[256];
	const uint8_t a4[4] = { 192, 0, 2, 1 };

	/* The good one first: SOA, www A, SOA. */
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	m_rr(&m, "\3www\xC0\x0C", 6, T_A, C_IN, a4, 4, 4);
	m_soa(&m, 5, 0);
	CHECK_EQ(feed(&m, 0, e, sizeof(e)), XFR_DONE);
	EXPECT_FAIL(&m, 1, "data after the end");

	/* A pointer to itself, a forward one, one past the message. */
	static const uint8_t self_ptr[] = { 0xC0, 44 };
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	size_t at = m.n;
	uint8_t selfp[2] = { 0xC0, (uint8_t)at };
	(void)self_ptr;
	m_rr(&m, selfp, 2, T_A, C_IN, a4, 4, 4);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "does not point backwards");
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	uint8_t fwd[2] = { 0xC0, 200 };
	m_rr(&m, fwd, 2, T_A, C_IN, a4, 4, 4);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "does not point backwards");
	/* Backwards but into the middle of a label. */
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	uint8_t mid[2] = { 0xC0, 14 };
	m_rr(&m, mid, 2, T_A, C_IN, a4, 4, 4);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "no name starts");

	/* A label of 64 octets (a reserved label type) and a name over 255. */
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	uint8_t l64[70];
	l64[0] = 64;
	memset(l64 + 1, 'x', 64);
	l64[65] = 0xC0;
	l64[66] = 12;
	m_rr(&m, l64, 67, T_A, C_IN, a4, 4, 4);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "reserved type");
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	uint8_t lng[300];
	size_t ln = 0;
	for (int i = 0; i < 4; i++) {
		lng[ln++] = 62;
		memset(lng + ln, 'y', 62);
		ln += 62;
	}
	lng[ln++] = 0xC0;
	lng[ln++] = 12; /* 252 + 13 > 255 */
	m_rr(&m, lng, ln, T_A, C_IN, a4, 4, 4);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "longer than 255");

	/* RDLENGTH: past the end, wrong for A, MX without its name. */
	m_header(&m, 0x1234, 0x8400, 2);
	m_soa(&m, 5, 1);
	m_rr(&m, "\xC0\x0C", 2, T_TXT, C_IN, "\3abc", 4, 40);
	EXPECT_FAIL(&m, 0, "past the end of the message");
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	m_rr(&m, "\xC0\x0C", 2, T_A, C_IN, "\1\2\3\4\5", 5, 5);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "longer than its type");
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	m_rr(&m, "\xC0\x0C", 2, T_MX, C_IN, "\0\12", 2, 2);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "name runs past the RDATA");
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	m_rr(&m, "\xC0\x0C", 2, T_AAAA, C_IN, a4, 4, 4);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "shorter than its type");

	/* Counts that lie. */
	m_header(&m, 0x1234, 0x8400, 4);
	m_soa(&m, 5, 1);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "past the end of the message");
	m_header(&m, 0x1234, 0x8400, 1);
	m_soa(&m, 5, 1);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "counts do not match");

	/* No final SOA, a different one, records after it. */
	m_header(&m, 0x1234, 0x8400, 2);
	m_soa(&m, 5, 1);
	m_rr(&m, "\3www\xC0\x0C", 6, T_A, C_IN, a4, 4, 4);
	EXPECT_FAIL(&m, 0, "before the final SOA");
	m_header(&m, 0x1234, 0x8400, 2);
	m_soa(&m, 5, 1);
	m_soa(&m, 6, 0);
	EXPECT_FAIL(&m, 0, "final SOA differs");
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	m_soa(&m, 5, 0);
	m_rr(&m, "\3www\xC0\x0C", 6, T_A, C_IN, a4, 4, 4);
	EXPECT_FAIL(&m, 0, "after the final SOA");

	/* Out of zone, not starting with the SOA, other classes dropped. */
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	m_rr(&m, "\3www\7example\3org\0", 17, T_A, C_IN, a4, 4, 4);
	m_soa(&m, 5, 0);
	EXPECT_FAIL(&m, 0, "outside the zone");
	m_header(&m, 0x1234, 0x8400, 1);
	m_rr(&m, "\7example\3com\0", 13, T_A, C_IN, a4, 4, 4);
	EXPECT_FAIL(&m, 0, "does not start with the zone's SOA");
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 5, 1);
	m_rr(&m, "\3www\xC0\x0C", 6, T_A, C_CH, a4, 4, 4);
	m_soa(&m, 5, 0);
	CHECK_EQ(feed(&m, 0, e, sizeof(e)), XFR_DONE);

	/* The header: an error rcode, another ID, QR clear, TC set. */
	m_header(&m, 0x1234, 0x8405, 0);
	EXPECT_FAIL(&m, 0, "REFUSED");
	m_header(&m, 0x4321, 0x8400, 0);
	EXPECT_FAIL(&m, 0, "does not match");
	m_header(&m, 0x1234, 0x0400, 0);
	EXPECT_FAIL(&m, 0, "not a response");
	m_header(&m, 0x1234, 0x8600, 0);
	EXPECT_FAIL(&m, 0, "TC set");
	m.n = 5;
	EXPECT_FAIL(&m, 0, "shorter than a header");

	/* A pointer may not reach into an earlier message. */
	{
		uint8_t apex[NAME_MAXLEN], s[2048];
		struct msg a, b;
		m_header(&a, 0x1234, 0x8400, 1);
		m_soa(&a, 5, 1);
		m_header(&b, 0x1234, 0x8400, 1);
		m_rr(&b, "\3www\xC0\x0C", 6, T_A, C_IN, a4, 4, 4); /* 12 is not a name here */
		size_t n = 0;
		s[n++] = (uint8_t)(a.n >> 8);
		s[n++] = (uint8_t)a.n;
		memcpy(s + n, a.b, a.n);
		n += a.n;
		s[n++] = (uint8_t)(b.n >> 8);
		s[n++] = (uint8_t)b.n;
		memcpy(s + n, b.b, b.n);
		n += b.n;
		name_from_text("example.com", apex);
		struct zone *z;
		struct xfr_parser *p = malloc(sizeof(*p));
		CHECK_EQ(run(s, n, apex, 0, 0, &z, p, 0), XFR_FAIL);
		CHECK(strstr(p->err, "message 2") != NULL);
		free(p);
	}
}

/* ---- IXFR (RFC 1995) ------------------------------------------------ */

/* The zone v5: SOA 5, www A 192.0.2.1, old TXT "x". */
static struct zone *zone_v5(void)
{
	struct msg m;
	char e[256];
	(void)e;
	uint8_t apex[NAME_MAXLEN], s[1100];
	const uint8_t a4[4] = { 192, 0, 2, 1 };
	m_header(&m, 0x1234, 0x8400, 4);
	m_soa(&m, 5, 1);
	m_rr(&m, "\3www\xC0\x0C", 6, T_A, C_IN, a4, 4, 4);
	m_rr(&m, "\3old\xC0\x0C", 6, T_TXT, C_IN, "\1x", 2, 2);
	m_soa(&m, 5, 0);
	s[0] = (uint8_t)(m.n >> 8);
	s[1] = (uint8_t)m.n;
	memcpy(s + 2, m.b, m.n);
	name_from_text("example.com", apex);
	struct zone *z;
	struct xfr_parser *p = malloc(sizeof(*p));
	run(s, m.n + 2, apex, 0, 0, &z, p, 0);
	free(p);
	return z;
}

/* Apply an IXFR answer to v5 as the server does (the builder holds the
 * differences alone, zb_finish_ixfr applies them); returns the XFR_* code,
 * the new zone's records in got (if any) and the parser's verdicts.  The
 * same answer applied to v5's records loaded first, then built whole,
 * must give the same. */
static int ixfr_one(const struct msg *m, struct lines *got, char *err, int *incremental, int *uptodate,
		    int whole);
static int ixfr(const struct msg *m, struct lines *got, char *err, int *incremental, int *uptodate)
{
	struct lines ref = { 0 };
	char rerr[256];
	int ri, ru;
	int rrc = ixfr_one(m, &ref, rerr, &ri, &ru, 1);
	int rc = ixfr_one(m, got, err, incremental, uptodate, 0);
	CHECK(rc == rrc && ri == *incremental && ru == *uptodate && strcmp(rerr, err) == 0 &&
	      ref.n == got->n);
	for (size_t i = 0; i < ref.n && i < got->n; i++)
		CHECK(strcmp(ref.v[i], got->v[i]) == 0);
	lines_free(&ref);
	return rc;
}

static int ixfr_one(const struct msg *m, struct lines *got, char *err, int *incremental, int *uptodate,
		    int whole)
{
	uint8_t apex[NAME_MAXLEN], s[1100];
	struct zone *old = zone_v5(), *z = NULL;
	name_from_text("example.com", apex);
	s[0] = (uint8_t)(m->n >> 8);
	s[1] = (uint8_t)m->n;
	memcpy(s + 2, m->b, m->n);
	struct zone_builder zb;
	struct xfr_parser *p = malloc(sizeof(*p));
	zb_init(&zb, apex, 0);
	if (whole)
		CHECK_EQ(zb_load(&zb, old), 0);
	xfr_init(p, apex, 0x1234, &zb, 0);
	xfr_set_ixfr(p, old->serial);
	int rc = XFR_MORE;
	for (size_t i = 0; i < m->n + 2 && rc == XFR_MORE; i++) /* one octet at a time */
		rc = xfr_feed(p, s + i, 1);
	if (rc == XFR_MORE)
		rc = xfr_end(p);
	if (rc == XFR_DONE && !p->uptodate &&
	    (whole || !p->incremental ? zb_finish(&zb, &z) : zb_finish_ixfr(&zb, old, &z)) < 0) {
		snprintf(p->err, sizeof(p->err), "%s", zb.err);
		rc = XFR_FAIL;
	}
	snprintf(err, 256, "%s", p->err);
	*incremental = p->incremental;
	*uptodate = p->uptodate;
	if (z) {
		dump(z, got);
		zone_free(z);
	}
	zb_free(&zb);
	xfr_free(p);
	free(p);
	zone_free(old);
	return rc;
}

static int has(const struct lines *l, const char *prefix)
{
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->v[i], prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

static void ixfr_tests(void)
{
	struct msg m;
	struct lines got = { 0 };
	char e[256];
	int inc, cur;
	const uint8_t a4[4] = { 192, 0, 2, 1 }, b4[4] = { 192, 0, 2, 2 };

	/* Two differences: 5->6 deletes old TXT, adds new A; 6->7 changes
	 * www's address. */
	m_header(&m, 0x1234, 0x8400, 10);
	m_soa(&m, 7, 1);
	m_soa(&m, 5, 0);
	m_rr(&m, "\3old\xC0\x0C", 6, T_TXT, C_IN, "\1x", 2, 2);
	m_soa(&m, 6, 0);
	m_rr(&m, "\3new\xC0\x0C", 6, T_A, C_IN, b4, 4, 4);
	m_soa(&m, 6, 0);
	m_rr(&m, "\3www\xC0\x0C", 6, T_A, C_IN, a4, 4, 4);
	m_soa(&m, 7, 0);
	m_rr(&m, "\3www\xC0\x0C", 6, T_A, C_IN, b4, 4, 4);
	m_soa(&m, 7, 0);
	CHECK_EQ(ixfr(&m, &got, e, &inc, &cur), XFR_DONE);
	CHECK(inc && !cur);
	CHECK_EQ(got.n, 3);
	CHECK(has(&got, "example.com. 3600 6 "));
	CHECK(has(&got, "www.example.com. 300 1 C0000202"));
	CHECK(has(&got, "new.example.com. 300 1 C0000202"));
	CHECK(!has(&got, "old.example.com."));
	CHECK(!has(&got, "www.example.com. 300 1 C0000201"));
	lines_free(&got);

	/* Up to date: just our SOA. */
	m_header(&m, 0x1234, 0x8400, 1);
	m_soa(&m, 5, 1);
	CHECK_EQ(ixfr(&m, &got, e, &inc, &cur), XFR_DONE);
	CHECK(cur);
	CHECK_EQ(got.n, 0);

	/* A whole zone instead of differences: the old one is not kept. */
	m_header(&m, 0x1234, 0x8400, 3);
	m_soa(&m, 8, 1);
	m_rr(&m, "\3abc\xC0\x0C", 6, T_A, C_IN, a4, 4, 4);
	m_soa(&m, 8, 0);
	CHECK_EQ(ixfr(&m, &got, e, &inc, &cur), XFR_DONE);
	CHECK(!inc && !cur);
	CHECK_EQ(got.n, 2);
	CHECK(has(&got, "abc.example.com."));
	CHECK(!has(&got, "www.example.com."));
	lines_free(&got);

	/* A deletion of something not there. */
	m_header(&m, 0x1234, 0x8400, 5);
	m_soa(&m, 6, 1);
	m_soa(&m, 5, 0);
	m_rr(&m, "\3www\xC0\x0C", 6, T_A, C_IN, b4, 4, 4);
	m_soa(&m, 6, 0);
	m_soa(&m, 6, 0);
	CHECK_EQ(ixfr(&m, &got, e, &inc, &cur), XFR_FAIL);
	CHECK(strstr(e, "deletes a record that is not in the zone") != NULL);

	/* A broken serial chain, a difference from another version. */
	m_header(&m, 0x1234, 0x8400, 4);
	m_soa(&m, 7, 1);
	m_soa(&m, 4, 0);
	m_soa(&m, 7, 0);
	m_soa(&m, 7, 0);
	CHECK_EQ(ixfr(&m, &got, e, &inc, &cur), XFR_FAIL);
	CHECK(strstr(e, "serial chain broken") != NULL);
	m_header(&m, 0x1234, 0x8400, 7);
	m_soa(&m, 8, 1);
	m_soa(&m, 5, 0);
	m_soa(&m, 6, 0);
	m_soa(&m, 7, 0); /* 6 expected */
	m_soa(&m, 8, 0);
	m_soa(&m, 8, 0);
	m_soa(&m, 8, 0);
	CHECK_EQ(ixfr(&m, &got, e, &inc, &cur), XFR_FAIL);
	CHECK(strstr(e, "serial chain broken") != NULL);

	/* An older serial offered; a final SOA that is not the first. */
	m_header(&m, 0x1234, 0x8400, 1);
	m_soa(&m, 4, 1);
	CHECK_EQ(ixfr(&m, &got, e, &inc, &cur), XFR_FAIL);
	CHECK(strstr(e, "older than ours") != NULL);
	m_header(&m, 0x1234, 0x8400, 4);
	m_soa(&m, 6, 1);
	m_soa(&m, 5, 0);
	m_soa(&m, 6, 0);
	m_soa(&m, 9, 0);
	CHECK_EQ(ixfr(&m, &got, e, &inc, &cur), XFR_FAIL);
}

void test_xfr(void);
void test_xfr(void)
{
	ixfr_tests();
	capture("example", "example.com");
	capture("example-nsd", "example.com");  /* the same zone, as NSD sends it */
	capture("example-bind", "example.com"); /* and as BIND does */
	capture("signed", "signed.example");
	capture("nsec3", "nsec3.example");
	capture("multi", "multi.example");
	hostile();
}
