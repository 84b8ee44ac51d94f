/* DNSSEC answers (RFC 4035, 5155) over real zones signed by Knot DNS:
 * RRSIGs with DO, none without, and the denial proofs of each case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/nsec3.h"
#include "core/query.h"
#include "core/rrtype.h"
#include "core/xfr.h"
#include "test.h"
#include "testzone.h"

const char *test_data_dir(void);

static struct zone *load(const char *file, const char *apex_text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", test_data_dir(), file);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static uint8_t buf[1 << 17];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	uint8_t apex[NAME_MAXLEN];
	name_from_text(apex_text, apex);
	struct zone_builder zb;
	struct xfr_parser *p = malloc(sizeof(*p));
	struct zone *z = NULL;
	zb_init(&zb, apex, 0);
	xfr_init(p, apex, 0x1234, &zb, 0);
	if (xfr_feed(p, buf, n) != XFR_DONE || zb_finish(&zb, &z) < 0)
		z = NULL;
	zb_free(&zb);
	xfr_free(p);
	free(p);
	return z;
}

struct sections {
	int rcode, aa, tc;
	unsigned count[3][64]; /* per section, per type (types < 64) */
	unsigned total[3];
	/* Owners of the authority's NSEC and NSEC3 records, and of the
	 * RRSIGs that cover them. */
	uint8_t proof[4][NAME_MAXLEN], sig[4][NAME_MAXLEN];
	unsigned n_proof, n_sig;
};

/* The proofs are of different names (each its own, not one written twice),
 * each signed by an RRSIG of the same owner. */
static void proofs_distinct(const struct sections *s)
{
	for (unsigned i = 0; i < s->n_proof; i++) {
		for (unsigned j = i + 1; j < s->n_proof; j++)
			CHECK(!name_equal(s->proof[i], s->proof[j]));
		unsigned signed_by = 0;
		for (unsigned k = 0; k < s->n_sig; k++)
			signed_by += name_equal(s->proof[i], s->sig[k]);
		CHECK_EQ(signed_by, 1);
	}
}

static struct catalog cat;
static uint8_t resp[65536];

static void ask(struct sections *s, const char *name, uint16_t type, int dnssec_ok, int tcp)
{
	uint8_t q[512], n[NAME_MAXLEN];
	name_from_text(name, n);
	size_t l = xfr_make_query(q, sizeof(q), 7, n, type);
	q[11] = 1; /* OPT: 4096, DO as asked */
	static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0 };
	memcpy(q + l, opt, sizeof(opt));
	if (!dnssec_ok)
		q[l + 7] = 0;
	l += sizeof(opt);
	struct query_env env = { tcp ? TRANSPORT_TCP : TRANSPORT_UDP, 4096, { 4, { 127, 0, 0, 1 }, 1 }, 0, 0, 0 };
	struct query_result res;
	size_t len = query_process(&cat, q, l, &env, resp, sizeof(resp), &res);
	memset(s, 0, sizeof(*s));
	struct cursor c;
	cur_init(&c, resp, len);
	cur_u16(&c);
	uint16_t flags = cur_u16(&c);
	s->rcode = flags & 15;
	s->aa = (flags & 0x0400) != 0;
	s->tc = (flags & 0x0200) != 0;
	uint16_t qd = cur_u16(&c), cnt[3];
	for (int i = 0; i < 3; i++)
		cnt[i] = cur_u16(&c);
	for (uint16_t i = 0; i < qd; i++) {
		name_parse(&c, n, 1);
		cur_skip(&c, 4);
	}
	for (int sec = 0; sec < 3; sec++)
		for (uint16_t i = 0; i < cnt[sec]; i++) {
			name_parse(&c, n, 1);
			uint16_t t = cur_u16(&c);
			cur_skip(&c, 6);
			uint16_t rdlen = cur_u16(&c);
			const uint8_t *rd = cur_take(&c, rdlen);
			int covered = rd && rdlen >= 2 ? (rd[0] << 8 | rd[1]) : 0;
			if (sec == 1 && (t == T_NSEC || t == T_NSEC3) && s->n_proof < 4)
				memcpy(s->proof[s->n_proof++], n, name_len(n));
			if (sec == 1 && t == T_RRSIG && (covered == T_NSEC || covered == T_NSEC3) &&
			    s->n_sig < 4)
				memcpy(s->sig[s->n_sig++], n, name_len(n));
			if (t < 64) {
				s->count[sec][t]++;
				s->total[sec]++;
			}
		}
	CHECK(!c.err);
}

void test_dnssec(void);
void test_dnssec(void)
{
	/* RFC 5155 Appendix A: salt aabbccdd, 12 iterations. */
	struct nsec3_params p = { 1, 12, 4, { 0xaa, 0xbb, 0xcc, 0xdd } };
	uint8_t name[NAME_MAXLEN], h[SHA1_LEN], back[SHA1_LEN];
	char b32[33] = { 0 };
	name_from_text("example", name);
	CHECK_EQ(nsec3_hash(&p, name, h), 0);
	nsec3_b32(h, b32);
	CHECK(strcmp(b32, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom") == 0);
	name_from_text("A.EXAMPLE", name); /* hashed in lower case */
	nsec3_hash(&p, name, h);
	nsec3_b32(h, b32);
	CHECK(strcmp(b32, "35mthgpgcu1qg68fab165klnsnk3dpvl") == 0);
	CHECK_EQ(nsec3_unb32((const uint8_t *)b32, 32, back), 0);
	CHECK(memcmp(back, h, SHA1_LEN) == 0);
	CHECK_EQ(nsec3_unb32((const uint8_t *)"0p9mhaveqvm6t7vbl5lop2u3t2rp3toz", 32, back), -1);

	static struct cat_zone cz[2];
	memset(cz, 0, sizeof(cz));
	cz[0].current = load("signed.axfr", "signed.example");
	cz[1].current = load("nsec3.axfr", "nsec3.example");
	CHECK(cz[0].current && cz[1].current);
	if (!cz[0].current || !cz[1].current)
		return;
	CHECK_EQ(cz[0].current->dnssec, ZONE_NSEC);
	CHECK_EQ(cz[1].current->dnssec, ZONE_NSEC3);
	CHECK(cz[1].current->n_nsec3 > 100);
	name_from_text("signed.example", cz[0].apex);
	name_from_text("nsec3.example", cz[1].apex);
	struct zone *zs = cz[0].current, *z3 = cz[1].current;
	cat.zones = cz; /* (catalog_prepare sorts them) */
	cat.n = 2;
	catalog_prepare(&cat);

	struct sections s;
	/* Positive: the RRset and its RRSIG with DO, the RRset alone without. */
	ask(&s, "www.signed.example", T_A, 1, 0);
	CHECK_EQ(s.count[0][T_A], 1);
	CHECK_EQ(s.count[0][T_RRSIG], 1);
	ask(&s, "www.signed.example", T_A, 0, 0);
	CHECK_EQ(s.count[0][T_RRSIG], 0);
	CHECK_EQ(s.total[1], 0);

	/* NXDOMAIN: SOA, and NSECs for the name and the wildcard, signed. */
	ask(&s, "nothing.signed.example", T_A, 1, 0);
	CHECK_EQ(s.rcode, 3);
	CHECK_EQ(s.count[1][T_SOA], 1);
	CHECK(s.count[1][T_NSEC] >= 1 && s.count[1][T_NSEC] <= 2);
	CHECK_EQ(s.count[1][T_RRSIG], 1 + s.count[1][T_NSEC]);
	CHECK_EQ(s.n_proof, 2); /* the name's and the wildcard's, not the same here */
	proofs_distinct(&s);
	ask(&s, "nothing.signed.example", T_A, 0, 0);
	CHECK_EQ(s.total[1], 1);

	/* NODATA: SOA and the name's own NSEC; an empty non-terminal too. */
	ask(&s, "www.signed.example", T_MX, 1, 0);
	CHECK_EQ(s.rcode, 0);
	CHECK_EQ(s.count[1][T_NSEC], 1);
	CHECK_EQ(s.count[1][T_RRSIG], 2);
	ask(&s, "dyn.signed.example", T_A, 1, 0);
	CHECK_EQ(s.rcode, 0);
	CHECK_EQ(s.count[1][T_NSEC], 1);

	/* A wildcard answer: the expansion signed, and the NSEC that shows
	 * the name itself does not exist. */
	ask(&s, "x.dyn.signed.example", T_A, 1, 0);
	CHECK_EQ(s.count[0][T_A], 1);
	CHECK_EQ(s.count[0][T_RRSIG], 1);
	CHECK_EQ(s.count[1][T_NSEC], 1);
	ask(&s, "x.dyn.signed.example", T_TXT, 1, 0); /* wildcard NODATA */
	CHECK(s.count[1][T_NSEC] >= 1);
	/* ANY from the wildcard: its data, not its NSEC (RFC 4592 4.7), and
	 * the NSEC that shows the name does not exist in the authority. */
	ask(&s, "x.dyn.signed.example", T_ANY, 1, 1);
	CHECK_EQ(s.count[0][T_A], 1);
	CHECK_EQ(s.count[0][T_NSEC], 0);
	CHECK_EQ(s.count[0][T_RRSIG], 1);
	CHECK_EQ(s.count[1][T_NSEC], 1);
	CHECK_EQ(s.count[1][T_RRSIG], 1);
	ask(&s, "x.dyn.signed.example", T_ANY, 0, 1); /* without DO */
	CHECK_EQ(s.count[0][T_NSEC], 0);
	CHECK_EQ(s.count[0][T_RRSIG], 1); /* RRSIG A as data; not RRSIG NSEC */
	CHECK_EQ(s.total[1], 0);

	/* Referrals: to a signed child with its DS, to an unsigned one with
	 * the NSEC proving there is none. */
	ask(&s, "www.deleg.signed.example", T_A, 1, 0);
	CHECK(!s.aa);
	CHECK_EQ(s.count[1][T_NS], 1);
	CHECK_EQ(s.count[1][T_DS], 1);
	CHECK_EQ(s.count[1][T_RRSIG], 1);
	ask(&s, "www.insec.signed.example", T_A, 1, 0);
	CHECK_EQ(s.count[1][T_DS], 0);
	CHECK_EQ(s.count[1][T_NSEC], 1);
	ask(&s, "insec.signed.example", T_DS, 1, 0); /* DS NODATA, parent side */
	CHECK(s.aa);
	CHECK_EQ(s.count[1][T_NSEC], 1);

	/* NSEC3: NXDOMAIN has up to three NSEC3s (closest encloser, next
	 * closer, wildcard), NODATA the name's own. */
	ask(&s, "nothing.nsec3.example", T_A, 1, 0);
	CHECK_EQ(s.rcode, 3);
	CHECK(s.count[1][T_NSEC3] >= 2 && s.count[1][T_NSEC3] <= 3);
	CHECK_EQ(s.count[1][T_RRSIG], 1 + s.count[1][T_NSEC3]);
	proofs_distinct(&s);
	ask(&s, "nsec3.example", T_MX, 1, 0);
	CHECK_EQ(s.count[1][T_NSEC3], 1);
	/* The chain's own names answer as if absent (RFC 5155 7.2.8). */
	uint8_t n3name[NAME_MAXLEN];
	char t3[NAME_TEXT_MAX];
	zone_node_name(z3, z3->nsec3[0], n3name);
	name_to_text(n3name, t3, sizeof(t3));
	ask(&s, t3, T_NSEC3, 1, 0);
	CHECK_EQ(s.rcode, 3);

	/* An RRset of the additional section too big for the message is
	 * left out with its RRSIG: the signature never goes alone (RFC 4035
	 * 3.1.1). A referral whose name server is a sibling in the zone
	 * (authoritative, signed) with 300 addresses: no room for them, room
	 * for the AAAA and both signatures. */
	{
		static char lines[300][48];
		static const char *recs[320];
		size_t k = 0;
		recs[k++] = "@ 3600 SOA ns1 host 7 100 200 300 60";
		recs[k++] = "@ 3600 NS ns1";
		recs[k++] = "ns1 3600 A 192.0.2.1";
		recs[k++] = "sub 3600 NS big";
		/* One NSEC makes it a signed zone (NSEC mode). */
		recs[k++] = "@ 60 TYPE47 03626967067369676e6564076578616d706c6500000162";
		for (int i = 0; i < 300; i++) {
			snprintf(lines[i], sizeof(lines[i]), "big 300 A 10.0.%d.%d", i / 250, i % 250);
			recs[k++] = lines[i];
		}
		recs[k++] = "big 300 AAAA 2001:0db8:0000:0000:0000:0000:0000:0001";
		/* RRSIG A and RRSIG AAAA: algorithm 13, 3 labels, TTL 300,
		 * signer signed.example, 64 octets of signature. */
		recs[k++] = "big 300 TYPE46 0001" "0d03" "0000012c" "6a000000" "60000000" "1234"
			    "067369676e6564076578616d706c6500"
			    "abababababababababababababababababababababababababababababababab"
			    "abababababababababababababababababababababababababababababababab";
		recs[k++] = "big 300 TYPE46 001c" "0d03" "0000012c" "6a000000" "60000000" "1234"
			    "067369676e6564076578616d706c6500"
			    "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
			    "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";
		recs[k] = NULL;
		struct zone *big = tz_build("signed.example", recs);
		CHECK(big != NULL);
		uint8_t apex[NAME_MAXLEN];
		name_from_text("signed.example", apex);
		struct cat_zone *sz = catalog_exact(&cat, apex);
		struct zone *old = catalog_publish(sz, big);
		ask(&s, "www.sub.signed.example", T_A, 1, 0);
		CHECK(!s.tc);
		CHECK_EQ(s.count[1][T_NS], 1);
		CHECK_EQ(s.count[2][T_A], 0);
		CHECK_EQ(s.count[2][T_AAAA], 1);
		CHECK_EQ(s.count[2][T_RRSIG], 1);
		ask(&s, "www.sub.signed.example", T_A, 1, 1); /* TCP: all of them */
		CHECK_EQ(s.count[2][T_A], 300);
		CHECK_EQ(s.count[2][T_RRSIG], 2);
		catalog_publish(sz, old);
		zone_free(big);
	}

	zone_free(zs);
	zone_free(z3);
}
