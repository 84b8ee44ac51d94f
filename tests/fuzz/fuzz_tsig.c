/* libFuzzer harness: TSIG (tsig.c), the single-message verifier and the
 * stream verifier of transfers.
 *
 * Input: one octet of settings, then the bytes.
 *
 *   octet 0  bits 0-3: the request MAC (0 none; 1-6 the query MACs of
 *            dnspython's hmac-md5 ... hmac-sha512 vectors; 7 dnspython's
 *            "multi" AXFR query; 8 Knot's AXFR query; 9-11 the queries of
 *            Knot's badkey, badsig and badtime answers; more: none);
 *            bit 4: the clock (0: 1700000000, dnspython's; 1: Knot's
 *            transfer time); bits 5-7: with the request MAC choice, the
 *            key of the stream verifier and of the signing round trip
 *
 * Every input goes through
 *   1. tsig_verify() over the bytes as one message, with every key of
 *      fuzz_common.h; its outcome must be one of the documented ones,
 *      *used set exactly when the key is known, and the TSIG RR returned
 *      consistent;
 *   2. the stream verifier over the bytes read as a transfer (messages
 *      after 2-octet lengths), each message fed whole and then again in
 *      small random pieces: both must give the same status, message
 *      after message; on the first message, with the key the stream uses,
 *      the stream and tsig_verify() must agree on TSIG_OK when the TSIG's
 *      original ID is the message's;
 *   3. a round trip: an unsigned well-formed message (nothing after its
 *      records, no owner name compressed into the header, whose counts
 *      signing changes) is signed with
 *      tsig_sign() and must then verify (tsig_verify() and a one-message
 *      stream) with TSIG_OK; flipping one octet of the signed part must
 *      make it fail. */
#include "fuzz_common.h"

struct ctx {
	const uint8_t *mac;
	size_t mac_len;
	uint64_t now;
	const struct tsig_key *key;
};

static uint8_t macs[12][HMAC_MAX_LEN];
static size_t mac_lens[12];
static uint64_t knot_now;

static void init(void)
{
	fuzz_keys_init();
	static const char *const sets[12] = { NULL, "hmac-md5", "hmac-sha1", "hmac-sha224",
					      "hmac-sha256", "hmac-sha384", "hmac-sha512",
					      "multi", "knot", "badkey", "badsig", "badtime" };
	for (int i = 1; i < 12; i++)
		mac_lens[i] = fuzz_vector(i >= 8 ? "tsig-knot.txt" : "tsig/dnspython.txt",
					  "query_mac", sets[i], macs[i], HMAC_MAX_LEN);
	knot_now = fuzz_vector_num("tsig-knot.txt", "now", "knot");
}

static int status_known(int st)
{
	return st == TSIG_OK || st == TSIG_UNSIGNED || st == TSIG_EFORMERR ||
	       st == TSIG_EBADKEY || st == TSIG_EBADSIG || st == TSIG_EBADTIME ||
	       st == TSIG_EBADTRUNC || st == TSIG_EPEER;
}

/* 1. One message. */
static int verify_one(const uint8_t *m, size_t len, const struct ctx *c, struct tsig_rr *r)
{
	const struct tsig_key *used = (const struct tsig_key *)1;
	int st = tsig_verify(m, len, fuzz_keys, FK_N, c->now, c->mac, c->mac_len, r, &used);
	FUZZ_CHECK(status_known(st), "tsig_verify gave %d", st);
	if (st == TSIG_UNSIGNED || st == TSIG_EFORMERR)
		return st; /* *used may be NULL or stale-free: checked below */
	if (st == TSIG_EBADKEY) {
		FUZZ_CHECK(used == NULL, "BADKEY with a key");
		return st;
	}
	FUZZ_CHECK(used != NULL && used >= fuzz_keys && used < fuzz_keys + FK_N,
		   "status %d without the key", st);
	FUZZ_CHECK(name_equal(used->name, r->key), "the key used is not the TSIG's");
	FUZZ_CHECK(tsig_alg_from_name(r->alg) == used->alg, "algorithm mismatch");
	FUZZ_CHECK(r->mac_len <= HMAC_MAX_LEN && r->other_len <= sizeof(r->other),
		   "TSIG RR fields out of bounds");
	if (st == TSIG_OK) {
		size_t h = hmac_len(used->alg);
		FUZZ_CHECK(r->mac_len <= h && r->mac_len >= (h / 2 > 10 ? h / 2 : 10),
			   "accepted a MAC of %u octets", r->mac_len);
		FUZZ_CHECK(r->error == 0, "accepted a TSIG with error %u", r->error);
		FUZZ_CHECK(r->mac_len >= used->min_mac_len || used->min_mac_len > h,
			   "accepted a MAC shorter than the key's policy");
	}
	return st;
}

/* 2. The stream.  pieces: 0 whole, else random pieces from seed.  Writes
 * the status of each message to st[] (at most max); returns how many. */
static size_t stream_run(const uint8_t *d, size_t len, const struct ctx *c, int pieces,
			 int *st, size_t max, int *finish)
{
	struct tsig_stream s;
	uint32_t rng = 0x9e3779b9u ^ (uint32_t)len;
	size_t n = 0;
	int rc = tsig_stream_init(&s, c->key, c->mac, c->mac_len);
	FUZZ_CHECK(rc == TSIG_OK, "tsig_stream_init: %d", rc);
	for (size_t pos = 0; pos + 2 <= len && n < max;) {
		size_t ml = get16(d + pos);
		pos += 2;
		if (ml > len - pos)
			ml = len - pos; /* a short last message: what there is */
		const uint8_t *m = d + pos;
		pos += ml;
		if (ml < 12)
			break; /* the transfer parser stops there too */
		struct tsig_rr t;
		size_t start = ml;
		int f = tsig_find(m, ml, &t, &start);
		if (f == TSIG_EFORMERR)
			break; /* the transfer parser fails the message first */
		if (f != TSIG_OK)
			start = ml;
		FUZZ_CHECK(start >= 12 && start <= ml, "TSIG at %zu of %zu", start, ml);
		tsig_stream_begin(&s, m);
		for (size_t p = 12; p < start;) {
			size_t k = start - p;
			if (pieces) {
				rng = rng * 1103515245u + 12345u;
				size_t r = 1 + (rng >> 16) % 97;
				k = r < k ? r : k;
			}
			tsig_stream_data(&s, m + p, k);
			p += k;
		}
		st[n] = tsig_stream_end(&s, f == TSIG_OK ? &t : NULL, c->now);
		FUZZ_CHECK(status_known(st[n]) || st[n] == TSIG_EUNSIGNED,
			   "tsig_stream_end gave %d", st[n]);
		n++;
	}
	*finish = tsig_stream_finish(&s);
	FUZZ_CHECK(*finish == TSIG_OK || *finish < 0, "tsig_stream_finish gave %d", *finish);
	FUZZ_CHECK(*finish != TSIG_OK || (n > 0 && st[n - 1] == TSIG_OK),
		   "finished OK, but the last message was not verified");
	tsig_stream_free(&s);
	return n;
}

/* 3. Sign, verify, break. */
static void round_trip(const uint8_t *m, size_t len, const struct ctx *c)
{
	static uint8_t buf[65536 + 512];
	struct tsig_rr t;
	size_t start;
	struct fuzz_msg pm;
	if (len < 12 || len > 65535 || tsig_find(m, len, &t, &start) != TSIG_UNSIGNED ||
	    get16(m + 10) == 0xFFFF)
		return;
	/* Only a message that ends with its last record: tsig_find() does not
	 * look past the records, and a TSIG appended after trailing octets is
	 * not found where it stands. */
	fuzz_parse_msg(m, len, &pm);
	if (!pm.ok || pm.ptr_header)
		return;
	memcpy(buf, m, len);
	size_t l = len;
	uint8_t mac[HMAC_MAX_LEN];
	size_t mac_len = 0;
	int rc = tsig_sign(c->key, buf, &l, sizeof(buf), c->now, c->mac, c->mac_len, 0, mac,
			   &mac_len);
	FUZZ_CHECK(rc == 0, "tsig_sign failed on a well-formed unsigned message");
	FUZZ_CHECK(mac_len == hmac_len(c->key->alg), "MAC of %zu octets", mac_len);
	struct tsig_rr r;
	const struct tsig_key *used = NULL;
	int st = tsig_verify(buf, l, c->key, 1, c->now, c->mac, c->mac_len, &r, &used);
	FUZZ_CHECK(st == TSIG_OK && used == c->key, "a message we signed does not verify: %s",
		   tsig_strerror(st));
	FUZZ_CHECK(r.mac_len == mac_len && memcmp(r.mac, mac, mac_len) == 0,
		   "the MAC read back differs");
	/* The same message as a one-message transfer. */
	if (l <= 65535) {
		static uint8_t s[65537 + 512];
		put16(s, (uint16_t)l);
		memcpy(s + 2, buf, l);
		int one, fin;
		size_t n = stream_run(s, l + 2, c, 1, &one, 1, &fin);
		FUZZ_CHECK(n == 1 && one == TSIG_OK && fin == TSIG_OK,
			   "the stream verifier refuses a message we signed: %d", one);
	}
	/* One octet changed anywhere before the MAC: no longer verifies.  The
	 * header's ID is not digested as received (the original ID is), and
	 * changing ARCOUNT or a count makes the message malformed instead. */
	size_t pos = 12 + (c->now + len) % (len - 12 + 1);
	if (pos < len) {
		buf[pos] ^= 0x20;
		st = tsig_verify(buf, l, c->key, 1, c->now, c->mac, c->mac_len, &r, &used);
		FUZZ_CHECK(st != TSIG_OK, "verified after octet %zu of %zu changed", pos, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		init();
		ready = 1;
	}
	if (size < 1)
		return 0;
	unsigned sel = data[0] & 15;
	struct ctx c;
	c.mac = sel < 12 ? macs[sel] : NULL;
	c.mac_len = sel < 12 ? mac_lens[sel] : 0;
	c.now = (data[0] & 16) ? knot_now : 1700000000;
	/* the key of the request MAC's vector, varied by bits 5-7 */
	static const int key_of[12] = { FK_XFR, FK_MD5, FK_SHA1, FK_SHA224, FK_SHA256, FK_SHA384,
					FK_SHA512, FK_MULTI, FK_KNOT, FK_KNOT, FK_KNOT, FK_KNOT };
	int k = sel < 12 ? key_of[sel] : FK_TRUNC;
	c.key = &fuzz_keys[(k + (data[0] >> 5)) % FK_N];
	const uint8_t *d = data + 1;
	size_t len = size - 1;

	/* 1 */
	struct tsig_rr r;
	int one = verify_one(d, len, &c, &r);

	/* 2 */
	int st1[64], st2[64], f1, f2;
	size_t n1 = stream_run(d, len, &c, 0, st1, 64, &f1);
	size_t n2 = stream_run(d, len, &c, 1, st2, 64, &f2);
	FUZZ_CHECK(n1 == n2 && f1 == f2, "stream: %zu/%zu messages, finish %d/%d", n1, n2, f1,
		   f2);
	for (size_t i = 0; i < n1; i++)
		FUZZ_CHECK(st1[i] == st2[i], "stream message %zu: %d whole, %d in pieces", i,
			   st1[i], st2[i]);
	if (n1 >= 1 && len >= 2) {
		size_t ml = get16(d);
		if (ml <= len - 2) {
			const uint8_t *m = d + 2;
			struct tsig_rr t;
			int v = tsig_verify(m, ml, c.key, 1, c.now, c.mac, c.mac_len, &t, NULL);
			if (v == TSIG_OK || st1[0] == TSIG_OK) {
				if (t.orig_id == get16(m))
					FUZZ_CHECK(v == st1[0],
						   "first message: tsig_verify %d, stream %d", v,
						   st1[0]);
			}
		}
	}
	(void)one;

	/* 3 */
	round_trip(d, len, &c);
	return 0;
}
