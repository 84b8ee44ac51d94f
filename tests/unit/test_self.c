/* What the server says of itself: CH TXT id.server. and friends (RFC 4892)
 * and the NSID option (RFC 5001), checked on the wire. */
#include <string.h>

#include "core/catalog.h"
#include "core/query.h"
#include "core/rrtype.h"
#include "core/xfr.h"
#include "test.h"
#include "testzone.h"

static struct catalog cat;
static struct cat_zone cz[1];
static uint8_t out[4096];

/* A query for name/type in class cls, with an OPT if opt (its EDNS size)
 * and, if nsid, an NSID option (1: empty, 2: with two octets of data). */
static size_t query(uint8_t *q, const char *name, uint16_t type, uint16_t cls, uint16_t opt,
		    int nsid)
{
	uint8_t n[NAME_MAXLEN];
	name_from_text(name, n);
	size_t len = xfr_make_query(q, 512, 0x1234, n, type);
	put16(q + len - 2, cls);
	if (!opt)
		return len;
	q[11] = 1;
	static const uint8_t root_opt[] = { 0, 0, 41, 0, 0, 0, 0, 0, 0 };
	memcpy(q + len, root_opt, sizeof(root_opt));
	put16(q + len + 3, opt);
	len += sizeof(root_opt);
	uint16_t rdlen = nsid == 0 ? 0 : nsid == 1 ? 4 : 6;
	put16(q + len, rdlen);
	len += 2;
	if (nsid) {
		put16(q + len, 3);
		put16(q + len + 2, (uint16_t)(rdlen - 4));
		memset(q + len + 4, 0xAB, rdlen - 4u);
		len += rdlen;
	}
	return len;
}

struct seen {
	size_t len;
	uint16_t flags, an, ar;
	uint16_t type, cls;   /* of the first answer */
	uint32_t ttl;
	uint8_t txt[256];     /* its first character-string, NUL-ended */
	size_t owner_at;      /* where its owner name starts */
	int opt;              /* an OPT came back */
	uint8_t nsid[256];    /* the NSID option's data */
	int nsid_len;         /* -1: none */
};

static void ask(struct seen *s, const uint8_t *q, size_t qlen, int tcp)
{
	struct query_env env = { tcp ? TRANSPORT_TCP : TRANSPORT_UDP, 1232, { 4, { 127, 0, 0, 1 }, 53 }, 0, 0, 0 };
	struct query_result res;
	memset(s, 0, sizeof(*s));
	s->nsid_len = -1;
	s->len = query_process(&cat, q, qlen, &env, out, sizeof(out), &res);
	CHECK(s->len >= 12);
	if (s->len < 12)
		return;
	struct cursor c;
	uint8_t n[NAME_MAXLEN];
	cur_init(&c, out, s->len);
	cur_u16(&c);
	s->flags = cur_u16(&c);
	uint16_t qd = cur_u16(&c);
	s->an = cur_u16(&c);
	uint16_t ns = cur_u16(&c);
	s->ar = cur_u16(&c);
	for (unsigned i = 0; i < qd; i++) {
		name_parse(&c, n, 1);
		cur_skip(&c, 4);
	}
	for (unsigned i = 0; i < (unsigned)s->an + ns + s->ar; i++) {
		size_t at = c.pos;
		CHECK(name_parse(&c, n, 1) > 0);
		uint16_t type = cur_u16(&c), cls = cur_u16(&c);
		uint32_t ttl = cur_u32(&c);
		uint16_t rdlen = cur_u16(&c);
		const uint8_t *rd = cur_take(&c, rdlen);
		if (c.err)
			break;
		if (i == 0 && s->an) {
			s->owner_at = at;
			s->type = type;
			s->cls = cls;
			s->ttl = ttl;
			if (type == T_TXT && rdlen >= 1 && rd[0] + 1u <= rdlen) {
				CHECK_EQ(rd[0] + 1u, rdlen); /* one string */
				memcpy(s->txt, rd + 1, rd[0]);
				s->txt[rd[0]] = 0;
			}
		}
		if (type == T_OPT) {
			s->opt = 1;
			struct cursor oc;
			cur_init(&oc, rd, rdlen);
			while (cur_left(&oc) && !oc.err) {
				uint16_t code = cur_u16(&oc), olen = cur_u16(&oc);
				const uint8_t *od = cur_take(&oc, olen);
				if (!oc.err && code == 3) {
					CHECK_EQ(s->nsid_len, -1); /* once */
					memcpy(s->nsid, od, olen);
					s->nsid_len = olen;
				}
			}
			CHECK(!oc.err);
		}
	}
	CHECK(!c.err);
	CHECK_EQ(c.pos, s->len);
}

static void set(struct cat_text *t, const char *text)
{
	t->data = (const uint8_t *)text;
	t->len = (uint8_t)strlen(text);
}

void test_self(void);
void test_self(void)
{
	static const char *const recs[] = {
		"@ 3600 SOA ns1 host 7 100 200 300 60",
		"@ 3600 NS ns1",
		"ns1 3600 A 192.0.2.1",
		NULL,
	};
	struct zone *z = tz_build("example.com", recs);
	CHECK(z != NULL);
	if (!z)
		return;
	memset(&cat, 0, sizeof(cat));
	memset(cz, 0, sizeof(cz));
	name_from_text("example.com", cz[0].apex);
	cz[0].current = z;
	cat.zones = cz;
	cat.n = 1;
	CHECK_EQ(catalog_prepare(&cat), 0);

	struct seen s;
	uint8_t q[600];

	/* Nothing configured: every CH question is refused, no NSID. */
	static const char *const names[] = { "id.server", "hostname.bind", "version.server",
					     "version.bind" };
	for (int i = 0; i < 4; i++) {
		ask(&s, q, query(q, names[i], T_TXT, C_CH, 1232, 1), 0);
		CHECK_EQ(s.flags & 0xF, 5);
		CHECK_EQ(s.an, 0);
		CHECK(s.opt);
		CHECK_EQ(s.nsid_len, -1);
	}

	set(&cat.identity, "ns1.fleet.example");
	set(&cat.version, "icbind test");
	static const uint8_t nsid[] = { 'n', 'o', 'd', 'e', 0, 0xFF, '7' };
	cat.nsid.data = nsid;
	cat.nsid.len = sizeof(nsid);

	/* The four names, any letter case, UDP and TCP: one TXT in class CH,
	 * TTL 0, owned by a pointer to the question, not authoritative. */
	static const char *const asked[] = { "id.server", "HOSTNAME.Bind", "Version.SERVER",
					     "version.bind" };
	for (int i = 0; i < 4; i++) {
		for (int tcp = 0; tcp < 2; tcp++) {
			ask(&s, q, query(q, asked[i], T_TXT, C_CH, 0, 0), tcp);
			CHECK_EQ(s.flags & 0xF, 0);
			CHECK(!(s.flags & 0x0400));
			CHECK(s.flags & 0x8000);
			CHECK_EQ(s.an, 1);
			CHECK_EQ(s.ar, 0); /* no EDNS asked, none given */
			CHECK_EQ(s.type, T_TXT);
			CHECK_EQ(s.cls, C_CH);
			CHECK_EQ(s.ttl, 0);
			CHECK_EQ(out[s.owner_at], 0xC0);
			CHECK_EQ(out[s.owner_at + 1], 12);
			CHECK(strcmp((const char *)s.txt,
				     i < 2 ? "ns1.fleet.example" : "icbind test") == 0);
		}
	}
	/* ANY is answered with the TXT; other types, other names, names
	 * below and above these, and a zone of ours in class CH are refused. */
	ask(&s, q, query(q, "id.server", T_ANY, C_CH, 0, 0), 0);
	CHECK_EQ(s.flags & 0xF, 0);
	CHECK_EQ(s.type, T_TXT);
	static const struct {
		const char *name;
		uint16_t type;
	} refused[] = {
		{ "id.server", T_A }, { "version.bind", T_SOA }, { "id.server", T_NS },
		{ "x.id.server", T_TXT }, { "server", T_TXT }, { "bind", T_TXT },
		{ "authors.bind", T_TXT }, { "example.com", T_SOA }, { "id.server.example.com", T_TXT },
		{ "id.server", T_AXFR }, { "id.server", T_IXFR },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		ask(&s, q, query(q, refused[i].name, refused[i].type, C_CH, 0, 0), 0);
		CHECK_EQ(s.flags & 0xF, 5);
		CHECK_EQ(s.an, 0);
	}
	/* Other classes stay refused; class IN at these names is a name
	 * outside our zones. */
	ask(&s, q, query(q, "id.server", T_TXT, C_HS, 0, 0), 0);
	CHECK_EQ(s.flags & 0xF, 5);
	ask(&s, q, query(q, "id.server", T_TXT, C_IN, 0, 0), 0);
	CHECK_EQ(s.flags & 0xF, 5);
	ask(&s, q, query(q, "id.server", T_OPT, C_CH, 0, 0), 0);
	CHECK_EQ(s.flags & 0xF, 5);

	/* NSID: only when asked, with EDNS; on any answer, refusals too;
	 * asked with data (not the RFC's way) is taken as asked. */
	ask(&s, q, query(q, "ns1.example.com", T_A, C_IN, 1232, 0), 0);
	CHECK(s.opt);
	CHECK_EQ(s.nsid_len, -1);
	for (int withdata = 1; withdata <= 2; withdata++) {
		ask(&s, q, query(q, "ns1.example.com", T_A, C_IN, 1232, withdata), 0);
		CHECK_EQ(s.flags & 0xF, 0);
		CHECK_EQ(s.an, 1);
		CHECK_EQ(s.nsid_len, (int)sizeof(nsid));
		CHECK(memcmp(s.nsid, nsid, sizeof(nsid)) == 0);
	}
	ask(&s, q, query(q, "www.example.net", T_A, C_IN, 1232, 1), 1);
	CHECK_EQ(s.flags & 0xF, 5);
	CHECK_EQ(s.nsid_len, (int)sizeof(nsid));
	ask(&s, q, query(q, "version.bind", T_TXT, C_CH, 1232, 1), 0);
	CHECK_EQ(s.flags & 0xF, 0);
	CHECK_EQ(s.an, 1);
	CHECK_EQ(s.nsid_len, (int)sizeof(nsid));

	/* The longest NSID and the longest identity with the longest question
	 * over UDP without room to spare (512 octets): it all fits. */
	static uint8_t long_nsid[CAT_NSID_MAX];
	static char long_id[256];
	memset(long_nsid, 'n', sizeof(long_nsid));
	memset(long_id, 'i', 255);
	cat.nsid.data = long_nsid;
	cat.nsid.len = CAT_NSID_MAX;
	set(&cat.identity, long_id);
	ask(&s, q, query(q, "HOSTNAME.BIND", T_TXT, C_CH, 512, 1), 0);
	CHECK(s.len <= 512);
	CHECK_EQ(s.flags & 0x0200, 0);
	CHECK_EQ(s.an, 1);
	CHECK_EQ(strlen((const char *)s.txt), 255);
	CHECK_EQ(s.nsid_len, CAT_NSID_MAX);

	/* A big answer truncated for room leaves room for the NSID too. */
	{
		static const char *big[48];
		static char lines[46][80];
		size_t k = 0;
		big[k++] = "@ 3600 SOA ns1 host 7 100 200 300 60";
		tz_txt_records(big, &k, lines, "big", 40);
		/* 6 of them fit 512 octets with an OPT, not with the NSID too. */
		tz_txt_records(big, &k, lines + 40, "mid", 6);
		big[k] = NULL;
		struct zone *bz = tz_build("example.com", big);
		CHECK(bz != NULL);
		struct zone *old = catalog_publish(&cz[0], bz);
		for (int size = 512; size <= 1232; size += 240) {
			ask(&s, q, query(q, "big.example.com", T_TXT, C_IN, (uint16_t)size, 1), 0);
			CHECK(s.len <= (size_t)size);
			CHECK(s.flags & 0x0200);
			CHECK_EQ(s.nsid_len, CAT_NSID_MAX);
		}
		ask(&s, q, query(q, "mid.example.com", T_TXT, C_IN, 512, 0), 0);
		CHECK(!(s.flags & 0x0200));
		CHECK_EQ(s.an, 6);
		ask(&s, q, query(q, "mid.example.com", T_TXT, C_IN, 512, 1), 0);
		CHECK(s.len <= 512);
		CHECK(s.flags & 0x0200);
		CHECK_EQ(s.nsid_len, CAT_NSID_MAX);
		zone_free(catalog_publish(&cz[0], old));
	}
	zone_free(catalog_publish(&cz[0], NULL));
}
