/* libFuzzer harness: the transfer stream parser (xfr.c) and the zone
 * builder behind it.
 *
 * Input: three octets of settings, then the TCP byte stream of a transfer
 * answer (messages after their 2-octet lengths, as tests/data/NAME.axfr):
 *
 *   octet 0  the zone (mod 6): 0 example.com, 1 signed.example,
 *            2 nsec3.example, 3 multi.example (message ID 0x1234, as
 *            the captures of tests/data), 4 example. (ID 0x2222, the
 *            dnspython TSIG transfer), 5 tsig.example (ID 0x1234, Knot's
 *            TSIG transfer)
 *   octet 1  bit 0: IXFR over the zone's captured version (xfr_set_ixfr;
 *            the first 120 records of the big captures); bit 1:
 *            strip-dnssec; bit 2: TSIG (the zone's key and request MAC:
 *            dnspython's "multi" for 4, Knot's for 5, xfr-key without a
 *            request MAC otherwise); bits 3-4: chunk sizes 1-7, 1-64,
 *            1-3000 octets, or one octet at a time; bit 5: an AXFR for a
 *            zone served, the captured version
 *   octet 2  the seed of the chunk sizes
 *
 * The stream is parsed twice: in chunks, every chunk fed even after
 * XFR_DONE (more data then is an error, as in one piece), the way the
 * server does it (a zone served: the builder keeps only the differences
 * from it, zb_against, and finishes with zb_finish_served, a patch
 * when it can); and in one piece, the served
 * version's records loaded first and the zone built whole.  Both must
 * give the same outcome, the same record counts and, when done, the same
 * zone (a hash over zone_walk(), and the same octets flattened).  A
 * finished zone is walked, every owner
 * found again with zone_find(), flattened and taken back with
 * zone_adopt() (as a snapshot is written and read), and a few queries are
 * answered from it through query_process() with the response checks of
 * fuzz_common.h.  ASan/LSan catch the rest. */
#include "fuzz_common.h"
#include "core/catz.h"
#include "core/zonepatch.h"

#define N_ZONES 6

static const struct {
	const char *file, *apex;
	uint16_t id;
	int key;          /* fuzz_keys index for TSIG */
	const char *mac;  /* vector set with the request MAC, or NULL */
	const char *vecs; /* its file */
} zones[N_ZONES] = {
	{ "example.axfr", "example.com", 0x1234, FK_XFR, NULL, NULL },
	{ "signed.axfr", "signed.example", 0x1234, FK_XFR, NULL, NULL },
	{ "nsec3.axfr", "nsec3.example", 0x1234, FK_XFR, NULL, NULL },
	{ "multi.axfr", "multi.example", 0x1234, FK_XFR, NULL, NULL },
	{ "tsig/dnspython-multi.axfr", "example", 0x2222, FK_MULTI, "multi", "tsig/dnspython.txt" },
	{ "tsig-knot.axfr", "tsig.example", 0x1234, FK_KNOT, "knot", "tsig-knot.txt" },
};

static struct zone *base[N_ZONES];
static uint8_t req_mac[N_ZONES][HMAC_MAX_LEN];
static size_t req_mac_len[N_ZONES];
static uint64_t now_of[N_ZONES];

/* The first max records (canonical order, so the apex SOA first) of z, as
 * a zone of their own: the big captures make IXFR bases too slow to load
 * for every input. */
struct shrink {
	struct zone_builder b;
	unsigned left;
};

static void shrink_one(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
		       const uint8_t *rdata, size_t len)
{
	struct shrink *s = ctx;
	if (s->left == 0)
		return;
	s->left--;
	if (zb_begin(&s->b, owner, type, ttl) < 0 || zb_rdata(&s->b, rdata, len) < 0 ||
	    zb_end(&s->b) < 0)
		zb_cancel(&s->b);
}

static struct zone *shrink(struct zone *z, unsigned max)
{
	struct shrink s;
	struct zone *out;
	zb_init(&s.b, z->apex, 0);
	s.left = max;
	zone_walk(z, shrink_one, &s);
	if (zb_finish(&s.b, &out) < 0) {
		fprintf(stderr, "fuzz: cannot shrink %s\n", s.b.err);
		exit(2);
	}
	zb_free(&s.b);
	zone_free(z);
	return out;
}

static void init(void)
{
	fuzz_keys_init();
	for (int i = 0; i < N_ZONES; i++) {
		now_of[i] = 1700000000;
		if (zones[i].mac) {
			req_mac_len[i] = fuzz_vector(zones[i].vecs, "query_mac", zones[i].mac,
						     req_mac[i], HMAC_MAX_LEN);
			if (i == 5)
				now_of[i] = fuzz_vector_num(zones[i].vecs, "now", "knot");
		}
		int signed_capture = zones[i].mac != NULL;
		base[i] = fuzz_load_axfr(zones[i].file, zones[i].apex, zones[i].id,
					 signed_capture ? &fuzz_keys[zones[i].key] : NULL,
					 req_mac[i], req_mac_len[i], now_of[i]);
		if (base[i]->n_records > 120)
			base[i] = shrink(base[i], 120);
	}
}

struct outcome {
	int rc;
	int uptodate, incremental;
	unsigned long records, dropped_class, dropped_dnssec, msgs;
	struct zone *z;  /* when done and not up to date */
	int finish_failed;
	char err[256];
};

static uint32_t rng;
static size_t next_chunk(int mode, size_t left)
{
	size_t n;
	rng = rng * 1103515245u + 12345u;
	switch (mode) {
	case 0: n = 1 + (rng >> 16) % 7; break;
	case 1: n = 1 + (rng >> 16) % 64; break;
	case 2: n = 1 + (rng >> 16) % 3000; break;
	default: n = 1; break;
	}
	return n < left ? n : left;
}

static void parse(int zi, int flags, int chunked, int seed, const uint8_t *s, size_t len,
		  struct outcome *o)
{
	static struct xfr_parser p; /* large: not on the stack */
	uint8_t apex[NAME_MAXLEN];
	struct zone_builder zb;
	struct tsig_stream ts;
	int use_tsig = flags & 4;
	memset(o, 0, sizeof(*o));
	name_from_text(zones[zi].apex, apex);
	/* The server's way (chunked) keeps differences from the version
	 * served; the other loads that version whole. */
	const struct zone *cur = (flags & 0x21) ? base[zi] : NULL;
	zb_init(&zb, apex, 0);
	xfr_init(&p, apex, zones[zi].id, &zb, (flags & 2) != 0);
	if (cur && chunked)
		FUZZ_CHECK(zb_against(&zb, cur) == 0, "zb_against: %s", zb.err);
	if (cur && !chunked)
		FUZZ_CHECK(zb_load(&zb, cur) == 0, "zb_load: %s", zb.err);
	if (flags & 1)
		xfr_set_ixfr(&p, base[zi]->serial);
	if (use_tsig) {
		tsig_stream_init(&ts, &fuzz_keys[zones[zi].key], req_mac[zi], req_mac_len[zi]);
		xfr_set_tsig(&p, &ts, now_of[zi]);
	}
	int rc = XFR_MORE;
	if (!chunked) {
		if (len)
			rc = xfr_feed(&p, s, len);
	} else {
		rng = (uint32_t)seed * 2654435761u + 1;
		for (size_t pos = 0; pos < len && rc != XFR_FAIL;) {
			size_t n = next_chunk((flags >> 3) & 3, len - pos);
			rc = xfr_feed(&p, s + pos, n);
			pos += n;
		}
	}
	if (rc == XFR_MORE)
		rc = xfr_end(&p);
	o->rc = rc;
	o->uptodate = p.uptodate;
	o->incremental = p.incremental;
	o->records = p.records;
	o->dropped_class = p.dropped_class;
	o->dropped_dnssec = p.dropped_dnssec;
	o->msgs = p.msgs;
	memcpy(o->err, p.err, sizeof(o->err));
	FUZZ_CHECK(rc == XFR_FAIL || rc == XFR_DONE, "xfr_end gave %d", rc);
	FUZZ_CHECK(rc != XFR_FAIL || p.err[0], "failed without a reason");
	if (rc == XFR_DONE && !p.uptodate) {
		if (!chunked && cur && !p.incremental && !zb.ignore_old) {
			/* An AXFR for a zone served replaces it whole. */
			zb.ignore_old = 1;
		}
		int built = chunked ? zb_finish_served(&zb, cur, p.incremental, &o->z)
				    : zb_finish(&zb, &o->z);
		if (built < 0) {
			o->finish_failed = 1;
			o->z = NULL;
			FUZZ_CHECK(zb.err != NULL, "zb_finish failed without a reason");
		}
	}
	if (use_tsig)
		tsig_stream_free(&ts);
	zb_free(&zb);
	xfr_free(&p);
}

/* ---- what a zone holds ---------------------------------------------- */

struct walk {
	uint64_t hash;
	unsigned long n;
	const struct zone *z;
	int bad;
	uint8_t names[8][NAME_MAXLEN];
	uint16_t types[8];
	unsigned n_names;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void walk_fn(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
		    const uint8_t *rdata, size_t len)
{
	struct walk *w = ctx;
	uint8_t fix[8];
	put16(fix, type);
	put32(fix + 2, ttl);
	put16(fix + 6, (uint16_t)len);
	size_t ol = name_len(owner);
	w->hash = fnv(w->hash, owner, ol);
	w->hash = fnv(w->hash, fix, 8);
	w->hash = fnv(w->hash, rdata, len);
	/* Every owner is found again by a lookup. */
	int labels = name_in_zone(owner, w->z->apex);
	if (labels < 0) {
		w->bad = 1;
		return;
	}
	uint8_t key[NAME_KEY_MAX];
	size_t klen = name_key(owner, (unsigned)labels, key);
	uint32_t idx;
	if (!zone_find(w->z, key, klen, &idx) || !zone_rrset(w->z, idx, type))
		w->bad = 2;
	if (w->n_names < 8 && (w->n % 7 == 0 || w->n < 2)) {
		memcpy(w->names[w->n_names], owner, ol);
		w->types[w->n_names++] = type;
	}
	w->n++;
}

static void walk_zone(const struct zone *z, struct walk *w)
{
	memset(w, 0, sizeof(*w));
	w->hash = 0xcbf29ce484222325ull;
	w->z = z;
	zone_walk(z, walk_fn, w);
	FUZZ_CHECK(w->bad == 0, "an owner of the walk is %s",
		   w->bad == 1 ? "outside the zone" : "not found by zone_find");
	FUZZ_CHECK(w->n == z->n_records, "walk gave %lu records, the zone says %u", w->n,
		   (unsigned)z->n_records);
}

/* Queries for a few of the zone's names, answered from it. */
static void ask(const struct zone *z, const struct walk *w)
{
	static uint8_t out[65535];
	struct cat_zone cz;
	struct catalog cat;
	memset(&cz, 0, sizeof(cz));
	memcpy(cz.apex, z->apex, z->apex_len);
	cz.current = (struct zone *)z;
	cat.zones = &cz;
	cat.n = 1;
	cat.keys = fuzz_keys;
	cat.n_keys = FK_N;
	FUZZ_CHECK(catalog_prepare(&cat) == 0, "catalog_prepare");
	for (unsigned i = 0; i <= w->n_names; i++) {
		uint8_t q[512];
		const uint8_t *name = i < w->n_names ? w->names[i] : z->apex;
		uint16_t type = i < w->n_names ? w->types[i] : T_ANY;
		size_t l = xfr_make_query(q, sizeof(q), 0x4242, name, type);
		FUZZ_CHECK(l > 0, "xfr_make_query");
		for (int t = 0; t < 2; t++) {
			struct query_env env = { t ? TRANSPORT_TCP : TRANSPORT_UDP, 1232,
						 { 4, { 192, 0, 2, 1 }, 1 }, 1700000000, 0 };
			struct query_result res;
			size_t n = query_process(&cat, q, l, &env, out, sizeof(out), &res);
			fuzz_check_response(&cat, q, l, out, n, sizeof(out), &env, &res);
			/* a name of the zone is answered from it: NOERROR,
			 * or where a chain ends NXDOMAIN or YXDOMAIN */
			uint16_t rcode = get16(out + 2) & 15;
			FUZZ_CHECK(n > 0 && (rcode == 0 || rcode == 3 || rcode == 6),
				   "rcode %u for a name of the zone", rcode);
		}
	}
}

/* A flattened copy of the version, taken back as snapshot.c does. */
struct flat {
	uint8_t *p;
	size_t n;
};

static void flat_put(void *ctx, const void *p, size_t n)
{
	struct flat *f = ctx;
	if (f->p && n)
		memcpy(f->p + f->n, p, n);
	f->n += n;
}

static struct flat flat_of(const struct zone *z)
{
	struct flat f = { NULL, 0 };
	size_t len = zone_flatten(z, flat_put, &f);
	FUZZ_CHECK(len == f.n, "zone_flatten: %zu octets said, %zu given", len, f.n);
	f.p = malloc(len);
	f.n = 0;
	zone_flatten(z, flat_put, &f);
	return f;
}

static void adopt(const struct zone *z, const struct walk *w)
{
	struct flat f = flat_of(z);
	size_t len = f.n;
	struct zone *c = (struct zone *)(void *)f.p;
	FUZZ_CHECK(zone_adopt(c, len) == 0, "zone_adopt refused a zone we built");
	struct walk w2;
	walk_zone(c, &w2);
	FUZZ_CHECK(w2.hash == w->hash && w2.n == w->n, "adopted copy differs");
	zone_free(c);
}

/* Read as a catalog zone (RFC 9432): any zone is one, or is refused; a
 * member read is a name of the PTR's, under a unique label of one label. */
static void catalog_of(const struct zone *z)
{
	struct catz c;
	if (catz_read(z, &c) == 0)
		for (size_t i = 0; i < c.n; i++)
			FUZZ_CHECK(name_len(c.m[i].name) <= NAME_MAXLEN && c.m[i].unique[0] >= 1 &&
					   c.m[i].unique[0] <= 63,
				   "a member read is not a name");
	else
		FUZZ_CHECK(c.err[0] != '\0', "a catalog refused without a reason");
	catz_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		init();
		ready = 1;
	}
	if (size < 3)
		return 0;
	int zi = data[0] % N_ZONES, flags = data[1], seed = data[2];
	const uint8_t *s = data + 3;
	size_t len = size - 3;

	struct outcome a, b;
	parse(zi, flags, 1, seed, s, len, &a);
	parse(zi, flags, 0, seed, s, len, &b);
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "zone %s flags %02x: %s%s%s, %lu records, %lu messages%s%s\n",
			zones[zi].apex, flags, b.rc == XFR_DONE ? "DONE" : "FAIL",
			b.uptodate ? " (up to date)" : "", b.incremental ? " (incremental)" : "",
			b.records, b.msgs, b.err[0] ? ": " : "", b.err);
	FUZZ_CHECK(a.rc == b.rc, "chunked %s, whole %s", a.rc == XFR_DONE ? "DONE" : "FAIL",
		   b.rc == XFR_DONE ? "DONE" : "FAIL");
	FUZZ_CHECK(a.records == b.records && a.dropped_class == b.dropped_class &&
			   a.dropped_dnssec == b.dropped_dnssec && a.msgs == b.msgs,
		   "counts differ: records %lu/%lu msgs %lu/%lu", a.records, b.records, a.msgs,
		   b.msgs);
	FUZZ_CHECK(a.uptodate == b.uptodate && a.incremental == b.incremental &&
			   a.finish_failed == b.finish_failed,
		   "verdicts differ");
	FUZZ_CHECK((a.z == NULL) == (b.z == NULL), "one zone built, not the other");
	if (a.z) {
		struct walk wa, wb;
		walk_zone(a.z, &wa);
		walk_zone(b.z, &wb);
		FUZZ_CHECK(wa.hash == wb.hash && wa.n == wb.n,
			   "chunked and whole give different zones (%lu/%lu records)", wa.n, wb.n);
		FUZZ_CHECK(a.z->serial == b.z->serial, "serials differ");
		/* A patched or reshaped version is the same zone, octet for
		 * octet, once flattened. */
		struct flat fa = flat_of(a.z), fb = flat_of(b.z);
		FUZZ_CHECK(fa.n == fb.n && memcmp(fa.p, fb.p, fa.n) == 0,
			   "the server's version and the whole build flatten differently");
		free(fa.p);
		free(fb.p);
		adopt(a.z, &wa);
		ask(a.z, &wa);
		catalog_of(a.z);
		zone_free(a.z);
		zone_free(b.z);
	}
	return 0;
}
