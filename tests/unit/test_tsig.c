/* TSIG (RFC 8945) against real peers' bytes: queries and answers signed by
 * dnspython for every algorithm and a multi-message answer with unsigned
 * messages in it (tests/tools/make_tsig_vectors.py), and a signed AXFR and
 * three TSIG error answers captured from Knot DNS
 * (tests/tools/capture_tsig_axfr.py).  What we sign must come out as they
 * signed it, octet for octet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hmac.h"
#include "core/tsig.h"
#include "core/wire.h"
#include "core/xfr.h"
#include "test.h"
#include "testzone.h"

const char *test_data_dir(void);

/* ---- test data ---- */

static uint8_t *load(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", test_data_dir(), name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("cannot open %s\n", path);
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap + 1);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* "FIELD SET VALUE" lines (tests/data/README.md). */
#define VEC_MAX 128
struct vectors {
	char *text;
	unsigned n;
	const char *field[VEC_MAX], *set[VEC_MAX], *value[VEC_MAX];
};

static int vec_load(struct vectors *v, const char *name)
{
	size_t len;
	memset(v, 0, sizeof(*v));
	v->text = (char *)load(name, &len);
	if (!v->text)
		return -1;
	for (char *line = strtok(v->text, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#' || v->n == VEC_MAX)
			continue;
		char *a = line, *b = strchr(a, ' ');
		if (!b)
			continue;
		*b++ = 0;
		char *c = strchr(b, ' ');
		if (!c)
			continue;
		*c++ = 0;
		v->field[v->n] = a;
		v->set[v->n] = b;
		v->value[v->n++] = c;
	}
	return 0;
}

static const char *vec_get(const struct vectors *v, const char *field, const char *set)
{
	for (unsigned i = 0; i < v->n; i++)
		if (!strcmp(v->field[i], field) && !strcmp(v->set[i], set))
			return v->value[i];
	printf("no vector %s %s\n", field, set);
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex value of FIELD SET into out; its length, 0 if missing. */
static size_t vec_hex(const struct vectors *v, const char *field, const char *set, uint8_t *out,
		      size_t cap)
{
	const char *s = vec_get(v, field, set);
	size_t n = 0;
	if (!s)
		return 0;
	while (s[0] && s[1] && n < cap) {
		int hi = hexval(s[0]), lo = hexval(s[1]);
		if (hi < 0 || lo < 0)
			break;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return n;
}

static uint64_t vec_u64(const struct vectors *v, const char *field, const char *set)
{
	const char *s = vec_get(v, field, set);
	return s ? strtoull(s, NULL, 10) : 0;
}

static void vec_key(const struct vectors *v, const char *set, enum hmac_alg alg,
		    struct tsig_key *k)
{
	memset(k, 0, sizeof(*k));
	vec_hex(v, "keyname", set, k->name, sizeof(k->name));
	k->secret_len = vec_hex(v, "secret", set, k->secret, sizeof(k->secret));
	k->alg = alg;
}

static int hex_is(const uint8_t *p, size_t n, const char *hex)
{
	if (strlen(hex) != 2 * n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1])))
			return 0;
	return 1;
}

/* A capture: messages each with its 2-octet length. */
#define MSGS_MAX 32
struct capture {
	uint8_t *buf;
	size_t len;
	unsigned n;
	size_t off[MSGS_MAX], mlen[MSGS_MAX];
};

static int capture_load(struct capture *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->buf = load(name, &c->len);
	if (!c->buf)
		return -1;
	for (size_t p = 0; p + 2 <= c->len && c->n < MSGS_MAX;) {
		size_t l = get16(c->buf + p);
		if (p + 2 + l > c->len)
			return -1;
		c->off[c->n] = p + 2;
		c->mlen[c->n++] = l;
		p += 2 + l;
	}
	return 0;
}

/* ---- helpers ---- */

static unsigned rng_state = 12345;
static unsigned rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 16) & 0x7fff;
}

/* One message through the stream verifier, as the transfer parser will do
 * it: the header, the octets before the TSIG RR in chunks (whole, 1 octet,
 * or random), then the TSIG RR parsed. */
static int stream_msg(struct tsig_stream *s, const uint8_t *msg, size_t len, int mode,
		      uint64_t now)
{
	struct tsig_rr t;
	size_t start = len;
	int f = tsig_find(msg, len, &t, &start);
	if (f < 0)
		return f;
	if (f != TSIG_OK)
		start = len;
	tsig_stream_begin(s, msg);
	for (size_t pos = 12; pos < start;) {
		size_t n = mode == 0 ? start - pos : mode == 1 ? 1 : 1 + rng() % 700;
		if (n > start - pos)
			n = start - pos;
		tsig_stream_data(s, msg + pos, n);
		pos += n;
	}
	return tsig_stream_end(s, f == TSIG_OK ? &t : NULL, now);
}

/* Rewrite the MAC of the message's TSIG to its first n octets (n may be
 * one more than there is: a zero octet is added). */
static size_t set_mac_len(uint8_t *msg, size_t len, size_t n)
{
	struct tsig_rr t;
	size_t start;
	if (tsig_find(msg, len, &t, &start) != TSIG_OK)
		return 0;
	struct cursor c;
	uint8_t name[NAME_MAXLEN];
	cur_init(&c, msg, len);
	c.pos = start;
	name_parse(&c, name, 1);
	size_t rdlen_at = c.pos + 8, rd = c.pos + 10;
	size_t mac_at = rd + name_len(t.alg) + 8; /* time 6 + fudge 2 */
	uint8_t tail[16];
	size_t tail_len = len - (mac_at + 2 + t.mac_len);
	memcpy(tail, msg + mac_at + 2 + t.mac_len, tail_len);
	put16(msg + mac_at, (uint16_t)n);
	if (n > t.mac_len)
		msg[mac_at + 2 + t.mac_len] = 0;
	memcpy(msg + mac_at + 2 + n, tail, tail_len);
	put16(msg + rdlen_at, (uint16_t)(get16(msg + rdlen_at) + n - t.mac_len));
	return mac_at + 2 + n + tail_len;
}

/* Is what we signed the same message as the peer's?  Octet for octet but
 * for the case of the algorithm name (dnspython writes
 * HMAC-MD5.SIG-ALG.REG.INT in capitals; the MAC does not depend on it). */
static int same_signed(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	struct tsig_rr ta, tb;
	size_t sa, sb;
	if (alen != blen || tsig_find(a, alen, &ta, &sa) != TSIG_OK ||
	    tsig_find(b, blen, &tb, &sb) != TSIG_OK || sa != sb)
		return 0;
	if (memcmp(a, b, sa) != 0 || !name_equal(ta.key, tb.key) || !name_equal(ta.alg, tb.alg))
		return 0;
	if (ta.time_signed != tb.time_signed || ta.fudge != tb.fudge || ta.mac_len != tb.mac_len ||
	    memcmp(ta.mac, tb.mac, ta.mac_len) != 0 || ta.orig_id != tb.orig_id ||
	    ta.error != tb.error || ta.other_len != tb.other_len ||
	    memcmp(ta.other, tb.other, ta.other_len) != 0)
		return 0;
	for (size_t i = sa; i < alen; i++) {
		uint8_t x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y + 32);
		if (x != y)
			return 0;
	}
	return 1;
}

/* The message without its TSIG RR, ARCOUNT one less: what was signed. */
static size_t strip_tsig(const uint8_t *msg, size_t len, uint8_t *out, struct tsig_rr *t)
{
	size_t start;
	if (tsig_find(msg, len, t, &start) != TSIG_OK)
		return 0;
	memcpy(out, msg, start);
	put16(out + 10, (uint16_t)(get16(out + 10) - 1));
	return start;
}

/* ---- the tests ---- */

static void test_names(void)
{
	static const char *texts[] = { "hmac-md5", "hmac-sha1", "hmac-sha224",
				       "hmac-sha256", "hmac-sha384", "hmac-sha512" };
	static const enum hmac_alg ids[] = { HMAC_MD5, HMAC_SHA1, HMAC_SHA224,
					     HMAC_SHA256, HMAC_SHA384, HMAC_SHA512 };
	static const size_t lens[] = { 16, 20, 28, 32, 48, 64 };
	for (unsigned i = 0; i < 6; i++) {
		CHECK_EQ(tsig_alg_from_text(texts[i]), ids[i]);
		CHECK(!strcmp(tsig_alg_text(ids[i]), texts[i]));
		CHECK_EQ(tsig_alg_from_name(tsig_alg_name(ids[i])), ids[i]);
		CHECK_EQ(hmac_len(ids[i]), lens[i]);
	}
	CHECK_EQ(tsig_alg_from_text("HMAC-SHA256"), HMAC_SHA256);
	CHECK_EQ(tsig_alg_from_text("hmac-sha256."), HMAC_SHA256);
	CHECK_EQ(tsig_alg_from_text("hmac-md5.sig-alg.reg.int."), HMAC_MD5);
	CHECK_EQ(tsig_alg_from_text("HMAC-MD5.SIG-ALG.REG.INT"), HMAC_MD5);
	CHECK_EQ(tsig_alg_from_text("hmac-sha256-128"), HMAC_NONE);
	CHECK_EQ(tsig_alg_from_text("gss-tsig"), HMAC_NONE);
	CHECK_EQ(tsig_alg_from_text(""), HMAC_NONE);
	CHECK(tsig_alg_name(HMAC_NONE) == NULL);
	CHECK_EQ(hmac_len(HMAC_NONE), 0);
	/* RFC 8945 6: the MD5 name is the old long one. */
	uint8_t md5[NAME_MAXLEN];
	name_from_text("HMAC-MD5.SIG-ALG.REG.INT.", md5);
	CHECK_EQ(tsig_alg_from_name(md5), HMAC_MD5);
	CHECK(!strcmp(tsig_strerror(TSIG_EBADSIG), "bad signature (BADSIG)"));
	CHECK(!strcmp(tsig_strerror(TSIG_EBADKEY), "unknown key (BADKEY)"));
	CHECK(!strcmp(tsig_strerror(TSIG_EBADTIME), "time outside fudge (BADTIME)"));
	CHECK(strstr(tsig_strerror(TSIG_EBADTRUNC), "BADTRUNC") != NULL);
	CHECK(strstr(tsig_strerror(TSIG_EFORMERR), "FORMERR") != NULL);
	CHECK(!strcmp(tsig_rcode_text(TSIG_RC_BADTIME), "BADTIME"));
}

/* The platform's HMAC on the published vectors: RFC 2202 2 (MD5) and
 * RFC 4231 4.3 (SHA-256), "Jefe" / "what do ya want for nothing?". */
static void test_hmac(void)
{
	static const char data[] = "what do ya want for nothing?";
	uint8_t out[HMAC_MAX_LEN];
	struct hmac_ctx *h = hmac_new(HMAC_MD5, (const uint8_t *)"Jefe", 4);
	CHECK(h != NULL);
	hmac_update(h, data, sizeof(data) - 1);
	CHECK_EQ(hmac_final(h, out), 16);
	CHECK(hex_is(out, 16, "750c783e6ab0b503eaa86e310a5db738"));

	h = hmac_new(HMAC_SHA256, (const uint8_t *)"Jefe", 4);
	hmac_update(h, data, 10);
	struct hmac_ctx *d = hmac_dup(h); /* the copy goes on alone */
	hmac_update(h, "garbage", 7);
	hmac_free(h);
	CHECK(d != NULL);
	hmac_update(d, data + 10, sizeof(data) - 11);
	CHECK_EQ(hmac_final(d, out), 32);
	CHECK(hex_is(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
	CHECK(hmac_new(HMAC_NONE, (const uint8_t *)"x", 1) == NULL);
}

/* One algorithm's dnspython query and answer. */
static void test_dnspython_alg(const struct vectors *v, const char *set, enum hmac_alg alg)
{
	uint8_t q[512], qp[512], r[1024], rp[1024], qmac[HMAC_MAX_LEN], rmac[HMAC_MAX_LEN];
	uint8_t buf[1024], mac[HMAC_MAX_LEN];
	size_t ql = vec_hex(v, "query", set, q, sizeof(q));
	size_t qpl = vec_hex(v, "query_plain", set, qp, sizeof(qp));
	size_t rl = vec_hex(v, "response", set, r, sizeof(r));
	size_t rpl = vec_hex(v, "response_plain", set, rp, sizeof(rp));
	size_t qml = vec_hex(v, "query_mac", set, qmac, sizeof(qmac));
	size_t rml = vec_hex(v, "response_mac", set, rmac, sizeof(rmac));
	uint64_t now = vec_u64(v, "now", "-");
	size_t hl = hmac_len(alg), least = hl / 2 > 10 ? hl / 2 : 10;
	struct tsig_key keys[3];
	struct tsig_rr t;
	const struct tsig_key *used;
	size_t len, ml;

	CHECK(ql && qpl && rl && rpl && qml == hl && rml == hl);
	/* Other keys first: the one named in the TSIG is picked. */
	vec_key(v, set, alg, &keys[2]);
	keys[0] = keys[2];
	name_from_text("other.key.test.", keys[0].name);
	keys[1] = keys[2];
	name_from_text("another.key.test.", keys[1].name);

	/* 5.2: dnspython's signed query and answer verify. */
	CHECK_EQ(tsig_verify(q, ql, keys, 3, now, NULL, 0, &t, &used), TSIG_OK);
	CHECK(used == &keys[2]);
	CHECK_EQ(t.mac_len, hl);
	CHECK(!memcmp(t.mac, qmac, hl));
	CHECK_EQ(t.orig_id, get16(q));
	CHECK_EQ(t.fudge, 300);
	CHECK_EQ(t.time_signed, now);
	CHECK_EQ(tsig_verify(r, rl, keys, 3, now, qmac, qml, &t, &used), TSIG_OK);
	CHECK(!memcmp(t.mac, rmac, hl));
	/* An answer needs the request's MAC (4.3.1). */
	CHECK_EQ(tsig_verify(r, rl, keys, 3, now, NULL, 0, &t, &used), TSIG_EBADSIG);
	CHECK_EQ(tsig_verify(r, rl, keys, 3, now, rmac, rml, &t, &used), TSIG_EBADSIG);

	/* A flipped octet: in the question, in the MAC, in the time. */
	memcpy(buf, q, ql);
	buf[13] ^= 0x01;
	CHECK_EQ(tsig_verify(buf, ql, keys, 3, now, NULL, 0, &t, &used), TSIG_EBADSIG);
	CHECK(used == &keys[2]);
	memcpy(buf, r, rl);
	buf[rl - 7] ^= 0x80; /* the MAC's last octet: orig ID, error, other len follow */
	CHECK_EQ(tsig_verify(buf, rl, keys, 3, now, qmac, qml, &t, &used), TSIG_EBADSIG);
	/* 4.3.2: the original ID is digested, not the ID (a forwarder may
	 * change that). */
	memcpy(buf, q, ql);
	put16(buf, 0xBEEF);
	CHECK_EQ(tsig_verify(buf, ql, keys, 3, now, NULL, 0, &t, &used), TSIG_OK);

	/* 5.2.1: unknown key name, or the name with another algorithm. */
	CHECK_EQ(tsig_verify(q, ql, keys, 2, now, NULL, 0, &t, &used), TSIG_EBADKEY);
	CHECK(used == NULL);
	struct tsig_key wrong = keys[2];
	wrong.alg = alg == HMAC_SHA256 ? HMAC_SHA512 : HMAC_SHA256;
	CHECK_EQ(tsig_verify(q, ql, &wrong, 1, now, NULL, 0, &t, &used), TSIG_EBADKEY);
	wrong = keys[2];
	wrong.secret[0] ^= 1;
	CHECK_EQ(tsig_verify(q, ql, &wrong, 1, now, NULL, 0, &t, &used), TSIG_EBADSIG);

	/* 5.2.3: now within time signed +- fudge, and checked after the MAC. */
	CHECK_EQ(tsig_verify(q, ql, keys, 3, now + 300, NULL, 0, &t, &used), TSIG_OK);
	CHECK_EQ(tsig_verify(q, ql, keys, 3, now - 300, NULL, 0, &t, &used), TSIG_OK);
	CHECK_EQ(tsig_verify(q, ql, keys, 3, now + 301, NULL, 0, &t, &used), TSIG_EBADTIME);
	CHECK(used == &keys[2]);
	CHECK_EQ(tsig_verify(q, ql, keys, 3, now - 301, NULL, 0, &t, &used), TSIG_EBADTIME);
	memcpy(buf, q, ql);
	buf[13] ^= 0x01;
	CHECK_EQ(tsig_verify(buf, ql, keys, 3, now + 1000, NULL, 0, &t, &used), TSIG_EBADSIG);

	/* 5.2.2.1: a MAC truncated to the floor (10 octets and half the hash)
	 * verifies; shorter or longer than the hash is FORMERR; 5.2.4: a
	 * local minimum above it gives BADTRUNC, after the time check. */
	memcpy(buf, q, ql);
	len = set_mac_len(buf, ql, least);
	CHECK_EQ(tsig_verify(buf, len, keys, 3, now, NULL, 0, &t, &used), TSIG_OK);
	CHECK_EQ(t.mac_len, least);
	keys[2].min_mac_len = (uint16_t)hl;
	CHECK_EQ(tsig_verify(buf, len, keys, 3, now, NULL, 0, &t, &used), TSIG_EBADTRUNC);
	CHECK_EQ(tsig_verify(buf, len, keys, 3, now + 301, NULL, 0, &t, &used), TSIG_EBADTIME);
	CHECK_EQ(tsig_verify(q, ql, keys, 3, now, NULL, 0, &t, &used), TSIG_OK);
	keys[2].min_mac_len = 0;
	buf[len - 7] ^= 1; /* the truncated MAC's last octet */
	CHECK_EQ(tsig_verify(buf, len, keys, 3, now, NULL, 0, &t, &used), TSIG_EBADSIG);
	memcpy(buf, q, ql);
	len = set_mac_len(buf, ql, least - 1);
	CHECK_EQ(tsig_verify(buf, len, keys, 3, now, NULL, 0, &t, &used), TSIG_EFORMERR);
	memcpy(buf, q, ql);
	len = set_mac_len(buf, ql, 0);
	CHECK_EQ(tsig_verify(buf, len, keys, 3, now, NULL, 0, &t, &used), TSIG_EFORMERR);
	memcpy(buf, q, ql);
	len = set_mac_len(buf, ql, hl + 1);
	CHECK_EQ(len, ql + 1);
	CHECK_EQ(tsig_verify(buf, len, keys, 3, now, NULL, 0, &t, &used), TSIG_EFORMERR);

	/* Signing: what dnspython signed, from the same unsigned message at
	 * the same time, comes out the same (4.3, 5.3). */
	memcpy(buf, qp, qpl);
	len = qpl;
	CHECK_EQ(tsig_sign(&keys[2], buf, &len, sizeof(buf), now, NULL, 0, 0, mac, &ml), 0);
	CHECK(same_signed(buf, len, q, ql));
	CHECK_EQ(ml, hl);
	CHECK(!memcmp(mac, qmac, hl));
	if (alg != HMAC_MD5) /* all but dnspython's capitals: octet for octet */
		CHECK(len == ql && !memcmp(buf, q, ql));
	memcpy(buf, rp, rpl);
	len = rpl;
	CHECK_EQ(tsig_sign(&keys[2], buf, &len, sizeof(buf), now, qmac, qml, 0, mac, &ml), 0);
	CHECK(same_signed(buf, len, r, rl));
	CHECK(!memcmp(mac, rmac, hl));
	CHECK_EQ(tsig_verify(buf, len, keys, 3, now, qmac, qml, &t, &used), TSIG_OK);
	/* Not enough room: nothing written. */
	memcpy(buf, rp, rpl);
	len = rpl;
	CHECK_EQ(tsig_sign(&keys[2], buf, &len, rl - 1, now, qmac, qml, 0, mac, &ml), -1);
	CHECK_EQ(len, rpl);
	CHECK_EQ(get16(buf + 10), get16(rp + 10));
	CHECK_EQ(tsig_sign(&keys[2], buf, &len, rl, now, qmac, qml, 0, NULL, NULL), 0);
	CHECK_EQ(len, rl);
}

static void test_dnspython(void)
{
	struct vectors v;
	if (vec_load(&v, "tsig/dnspython.txt") < 0) {
		CHECK(0);
		return;
	}
	test_dnspython_alg(&v, "hmac-md5", HMAC_MD5);
	test_dnspython_alg(&v, "hmac-sha1", HMAC_SHA1);
	test_dnspython_alg(&v, "hmac-sha224", HMAC_SHA224);
	test_dnspython_alg(&v, "hmac-sha256", HMAC_SHA256);
	test_dnspython_alg(&v, "hmac-sha384", HMAC_SHA384);
	test_dnspython_alg(&v, "hmac-sha512", HMAC_SHA512);
	free(v.text);
}

/* Error answers and malformed TSIGs, on dnspython's SHA-256 query. */
static void test_errors(void)
{
	struct vectors v;
	if (vec_load(&v, "tsig/dnspython.txt") < 0) {
		CHECK(0);
		return;
	}
	uint8_t q[512], qp[512], buf[1024], qmac[HMAC_MAX_LEN];
	size_t ql = vec_hex(&v, "query", "hmac-sha256", q, sizeof(q));
	size_t qpl = vec_hex(&v, "query_plain", "hmac-sha256", qp, sizeof(qp));
	size_t qml = vec_hex(&v, "query_mac", "hmac-sha256", qmac, sizeof(qmac));
	uint64_t now = vec_u64(&v, "now", "-");
	struct tsig_key k;
	struct tsig_rr t, t2;
	const struct tsig_key *used;
	size_t len, start;
	vec_key(&v, "hmac-sha256", HMAC_SHA256, &k);

	/* No TSIG. */
	CHECK_EQ(tsig_verify(qp, qpl, &k, 1, now, NULL, 0, &t, &used), TSIG_UNSIGNED);
	CHECK_EQ(tsig_find(qp, qpl, &t, &start), TSIG_UNSIGNED);
	/* Cut short anywhere: never OK. */
	int bad = 0;
	for (size_t l = 0; l < ql; l++) {
		int rc = tsig_verify(q, l, &k, 1, now, NULL, 0, &t, &used);
		bad += rc == TSIG_OK;
	}
	CHECK_EQ(bad, 0);
	/* 5.2: the TSIG not last, or twice: FORMERR. */
	CHECK_EQ(tsig_find(q, ql, &t, &start), TSIG_OK);
	memcpy(buf, q, ql);
	memcpy(buf + ql, q + start, ql - start); /* a second TSIG */
	put16(buf + 10, (uint16_t)(get16(q + 10) + 1));
	CHECK_EQ(tsig_verify(buf, ql + ql - start, &k, 1, now, NULL, 0, &t, &used), TSIG_EFORMERR);
	memcpy(buf, q, ql);
	static const uint8_t a_rr[] = { 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1 };
	memcpy(buf + ql, a_rr, sizeof(a_rr)); /* a record after the TSIG */
	put16(buf + 10, (uint16_t)(get16(q + 10) + 1));
	CHECK_EQ(tsig_verify(buf, ql + sizeof(a_rr), &k, 1, now, NULL, 0, &t, &used),
		 TSIG_EFORMERR);
	memcpy(buf, q, ql);
	buf[ql] = 0; /* junk after it */
	CHECK_EQ(tsig_verify(buf, ql + 1, &k, 1, now, NULL, 0, &t, &used), TSIG_EFORMERR);
	/* Class other than ANY (the octet after owner and type). */
	memcpy(buf, q, ql);
	buf[start + name_len(k.name) + 3] = 1;
	CHECK_EQ(tsig_verify(buf, ql, &k, 1, now, NULL, 0, &t, &used), TSIG_EFORMERR);

	/* 5.3.2: BADSIG and BADKEY are answered unsigned: empty MAC; the
	 * client sees a peer error. */
	memcpy(buf, qp, qpl);
	len = qpl;
	CHECK_EQ(tsig_sign(&k, buf, &len, sizeof(buf), now, qmac, qml, TSIG_RC_BADSIG, NULL, NULL),
		 0);
	CHECK_EQ(tsig_find(buf, len, &t, &start), TSIG_OK);
	CHECK_EQ(t.mac_len, 0);
	CHECK_EQ(t.error, TSIG_RC_BADSIG);
	CHECK_EQ(t.orig_id, get16(qp));
	CHECK_EQ(tsig_verify(buf, len, &k, 1, now, qmac, qml, &t, &used), TSIG_EPEER);
	/* 5.2.3: BADTIME is signed, with our time in Other Data. */
	memcpy(buf, qp, qpl);
	len = qpl;
	CHECK_EQ(tsig_sign_badtime(&k, buf, &len, sizeof(buf), now + 1000, now, qmac, qml, NULL,
				   NULL),
		 0);
	CHECK_EQ(tsig_verify(buf, len, &k, 1, now, qmac, qml, &t, &used), TSIG_EPEER);
	CHECK_EQ(t.error, TSIG_RC_BADTIME);
	CHECK_EQ(t.time_signed, now);
	CHECK_EQ(t.other_len, 6);
	CHECK_EQ(((uint64_t)get16(t.other) << 32 | get32(t.other + 2)), now + 1000);
	buf[len - 13] ^= 1; /* the MAC's last octet: 6 + 6 of Other Data follow */
	CHECK_EQ(tsig_verify(buf, len, &k, 1, now, qmac, qml, &t, &used), TSIG_EBADSIG);
	memcpy(buf, qp, qpl);
	len = qpl;
	CHECK_EQ(tsig_sign(&k, buf, &len, sizeof(buf), now, qmac, qml, TSIG_RC_BADTIME, NULL, NULL),
		 0);
	CHECK_EQ(tsig_verify(buf, len, &k, 1, now, qmac, qml, &t, &used), TSIG_EPEER);
	CHECK_EQ(t.other_len, 6);
	/* An unknown key: answered with its names echoed. */
	CHECK_EQ(tsig_find(q, ql, &t2, &start), TSIG_OK);
	name_from_text("unknown.", t2.key);
	memcpy(buf, qp, qpl);
	len = qpl;
	CHECK_EQ(tsig_sign_error(&t2, buf, &len, sizeof(buf), now, TSIG_RC_BADKEY), 0);
	CHECK_EQ(tsig_find(buf, len, &t, &start), TSIG_OK);
	CHECK(name_equal(t.key, t2.key) && name_equal(t.alg, t2.alg));
	CHECK_EQ(t.mac_len, 0);
	CHECK_EQ(t.error, TSIG_RC_BADKEY);

	/* tsig_rr_parse: exact length, other data at most 6 octets. */
	static const uint8_t rd[] = { 11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0,
				      0, 0, 0, 0, 0, 1, 1, 44, 0, 0, 0x12, 0x34, 0, 18, 0, 6,
				      0, 0, 0, 0, 0, 2 };
	uint8_t owner[] = { 1, 'K', 0 };
	CHECK_EQ(tsig_rr_parse(owner, rd, sizeof(rd), &t), TSIG_OK);
	CHECK_EQ(t.key[1], 'k'); /* lower-cased */
	CHECK_EQ(t.time_signed, 1);
	CHECK_EQ(t.other_len, 6);
	CHECK_EQ(tsig_rr_parse(owner, rd, sizeof(rd) - 1, &t), TSIG_EFORMERR);
	memcpy(buf, rd, sizeof(rd));
	buf[sizeof(rd)] = 0;
	CHECK_EQ(tsig_rr_parse(owner, buf, sizeof(rd) + 1, &t), TSIG_EFORMERR);
	buf[28] = 7;
	CHECK_EQ(tsig_rr_parse(owner, buf, sizeof(rd) + 1, &t), TSIG_EFORMERR);
	free(v.text);
}

/* dnspython's five-message answer: signed, unsigned, unsigned, signed,
 * signed (5.3.1 allows up to 99 unsigned in a row). */
static void test_dnspython_stream(void)
{
	struct vectors v;
	struct capture c;
	if (vec_load(&v, "tsig/dnspython.txt") < 0 ||
	    capture_load(&c, "tsig/dnspython-multi.axfr") < 0) {
		CHECK(0);
		return;
	}
	static const int want[] = { TSIG_OK, TSIG_UNSIGNED, TSIG_UNSIGNED, TSIG_OK, TSIG_OK };
	uint8_t qmac[HMAC_MAX_LEN];
	size_t qml = vec_hex(&v, "query_mac", "multi", qmac, sizeof(qmac));
	uint64_t now = vec_u64(&v, "now", "-");
	struct tsig_key k;
	struct tsig_stream s;
	vec_key(&v, "multi", HMAC_SHA256, &k);
	CHECK_EQ(c.n, 5);
	if (c.n != 5)
		goto out;

	for (int mode = 0; mode < 3; mode++) {
		CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
		int ok = 1;
		for (unsigned i = 0; i < c.n; i++)
			ok &= stream_msg(&s, c.buf + c.off[i], c.mlen[i], mode, now) == want[i];
		CHECK(ok);
		CHECK_EQ(tsig_stream_finish(&s), TSIG_OK);
		tsig_stream_free(&s);
	}

	/* One octet changed in the 2nd (unsigned) message: found at the 4th,
	 * the next signed one, and it sticks. */
	uint8_t *bad = malloc(c.len);
	memcpy(bad, c.buf, c.len);
	bad[c.off[1] + c.mlen[1] - 1] ^= 0x01;
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, bad + c.off[0], c.mlen[0], 0, now), TSIG_OK);
	CHECK_EQ(stream_msg(&s, bad + c.off[1], c.mlen[1], 0, now), TSIG_UNSIGNED);
	CHECK_EQ(stream_msg(&s, bad + c.off[2], c.mlen[2], 0, now), TSIG_UNSIGNED);
	CHECK_EQ(stream_msg(&s, bad + c.off[3], c.mlen[3], 0, now), TSIG_EBADSIG);
	CHECK_EQ(stream_msg(&s, bad + c.off[4], c.mlen[4], 0, now), TSIG_EBADSIG);
	CHECK_EQ(tsig_stream_finish(&s), TSIG_EBADSIG);
	tsig_stream_free(&s);
	free(bad);

	/* The wrong request MAC; the time outside fudge. */
	qmac[0] ^= 1;
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[0], c.mlen[0], 0, now), TSIG_EBADSIG);
	tsig_stream_free(&s);
	qmac[0] ^= 1;
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[0], c.mlen[0], 0, now + 301), TSIG_EBADTIME);
	tsig_stream_free(&s);

	/* Messages out of order: the chain breaks. */
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[0], c.mlen[0], 0, now), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[2], c.mlen[2], 0, now), TSIG_UNSIGNED);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[1], c.mlen[1], 0, now), TSIG_UNSIGNED);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[3], c.mlen[3], 0, now), TSIG_EBADSIG);
	tsig_stream_free(&s);

	/* The first message unsigned; the last unsigned. */
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[1], c.mlen[1], 0, now), TSIG_EUNSIGNED);
	CHECK_EQ(tsig_stream_finish(&s), TSIG_EUNSIGNED);
	tsig_stream_free(&s);
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[0], c.mlen[0], 0, now), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[1], c.mlen[1], 0, now), TSIG_UNSIGNED);
	CHECK_EQ(tsig_stream_finish(&s), TSIG_EUNSIGNED);
	tsig_stream_free(&s);

	/* 99 unsigned in a row are allowed, the 100th is not. */
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[0], c.mlen[0], 0, now), TSIG_OK);
	int ok = 1;
	for (unsigned i = 0; i < TSIG_MAX_UNSIGNED; i++)
		ok &= stream_msg(&s, c.buf + c.off[1], c.mlen[1], 0, now) == TSIG_UNSIGNED;
	CHECK(ok);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[1], c.mlen[1], 0, now), TSIG_EUNSIGNED);
	CHECK_EQ(tsig_stream_finish(&s), TSIG_EUNSIGNED);
	tsig_stream_free(&s);

	/* Another key name in the TSIG; a key we cannot use. */
	struct tsig_key other = k;
	name_from_text("other.key.test.", other.name);
	CHECK_EQ(tsig_stream_init(&s, &other, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[0], c.mlen[0], 0, now), TSIG_EBADKEY);
	tsig_stream_free(&s);
	other = k;
	other.alg = HMAC_NONE;
	CHECK_EQ(tsig_stream_init(&s, &other, qmac, qml), TSIG_EBADKEY);
	tsig_stream_free(&s);
out:
	free(c.buf);
	free(v.text);
}

/* A transfer to tsig.example signed with k (the request's MAC qmac),
 * through the parser in pieces of each mode (testzone.h): XFR_DONE and
 * *out, or the parser's answer and its reason in err. */
static int xfr_signed(const uint8_t *buf, size_t len, int mode, const struct tsig_key *k,
		      const uint8_t *qmac, size_t qml, uint64_t now, struct zone **out,
		      char *err, size_t errsz)
{
	uint8_t apex[NAME_MAXLEN];
	name_from_text("tsig.example", apex);
	static struct xfr_parser p;
	struct tsig_stream ts;
	tsig_stream_init(&ts, k, qmac, qml);
	int rc = tz_transfer(buf, len, apex, mode, 4242u + (unsigned)mode, 0, &ts, now, out, &p);
	snprintf(err, errsz, "%s", p.err);
	tsig_stream_free(&ts);
	return rc;
}

/* Knot DNS: a signed AXFR of several messages, and its error answers. */
static void test_knot(void)
{
	struct vectors v;
	struct capture c;
	if (vec_load(&v, "tsig-knot.txt") < 0 || capture_load(&c, "tsig-knot.axfr") < 0) {
		CHECK(0);
		return;
	}
	uint8_t q[512], qmac[HMAC_MAX_LEN], buf[1024], mac[HMAC_MAX_LEN];
	size_t ql = vec_hex(&v, "query", "knot", q, sizeof(q));
	size_t qml = vec_hex(&v, "query_mac", "knot", qmac, sizeof(qmac));
	uint64_t now = vec_u64(&v, "now", "knot");
	unsigned messages = (unsigned)vec_u64(&v, "messages", "knot");
	unsigned signed_msgs = (unsigned)vec_u64(&v, "signed", "knot");
	struct tsig_key k, keys[2];
	struct tsig_stream s;
	struct tsig_rr t;
	const struct tsig_key *used;
	size_t len, ml;
	vec_key(&v, "knot", HMAC_SHA256, &k);

	/* Knot splits the zone over several messages and signs every one. */
	CHECK(c.n >= 4);
	CHECK_EQ(c.n, messages);
	CHECK_EQ(signed_msgs, messages);
	unsigned with_tsig = 0;
	for (unsigned i = 0; i < c.n; i++) {
		size_t start;
		with_tsig += tsig_find(c.buf + c.off[i], c.mlen[i], &t, &start) == TSIG_OK;
	}
	CHECK_EQ(with_tsig, c.n);

	/* The request (dnspython's) verifies, as Knot verified it. */
	CHECK_EQ(tsig_verify(q, ql, &k, 1, now, NULL, 0, &t, &used), TSIG_OK);
	CHECK(!memcmp(t.mac, qmac, qml));

	for (int mode = 0; mode < 3; mode++) {
		CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
		int ok = 1;
		for (unsigned i = 0; i < c.n; i++)
			ok &= stream_msg(&s, c.buf + c.off[i], c.mlen[i], mode, now) == TSIG_OK;
		CHECK(ok);
		CHECK_EQ(tsig_stream_finish(&s), TSIG_OK);
		tsig_stream_free(&s);
	}

	/* The first message is an ordinary signed answer (5.3); the second
	 * alone is not: it continues the chain. */
	CHECK_EQ(tsig_verify(c.buf + c.off[0], c.mlen[0], &k, 1, now, qmac, qml, &t, &used),
		 TSIG_OK);
	CHECK_EQ(tsig_verify(c.buf + c.off[1], c.mlen[1], &k, 1, now, qmac, qml, &t, &used),
		 TSIG_EBADSIG);
	/* We sign Knot's first message as Knot did. */
	static uint8_t m1[70000];
	struct tsig_rr t1;
	len = strip_tsig(c.buf + c.off[0], c.mlen[0], m1, &t1);
	CHECK(len > 0);
	CHECK_EQ(tsig_sign(&k, m1, &len, sizeof(m1), t1.time_signed, qmac, qml, 0, mac, &ml), 0);
	CHECK(len == c.mlen[0] && !memcmp(m1, c.buf + c.off[0], len));

	/* One octet changed in the 2nd message: found there (Knot signs each
	 * message), and every later message fails with it. */
	uint8_t *bad = malloc(c.len);
	memcpy(bad, c.buf, c.len);
	size_t start;
	tsig_find(c.buf + c.off[1], c.mlen[1], &t, &start);
	bad[c.off[1] + start - 1] ^= 0x01; /* the last address before the TSIG */
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, bad + c.off[0], c.mlen[0], 2, now), TSIG_OK);
	CHECK_EQ(stream_msg(&s, bad + c.off[1], c.mlen[1], 2, now), TSIG_EBADSIG);
	CHECK_EQ(stream_msg(&s, bad + c.off[2], c.mlen[2], 2, now), TSIG_EBADSIG);
	CHECK_EQ(tsig_stream_finish(&s), TSIG_EBADSIG);
	tsig_stream_free(&s);
	/* Its MAC changed instead. */
	memcpy(bad, c.buf, c.len);
	bad[c.off[1] + start + name_len(k.name) + 10 + 13 + 10] ^= 0x01;
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, bad + c.off[0], c.mlen[0], 0, now), TSIG_OK);
	CHECK_EQ(stream_msg(&s, bad + c.off[1], c.mlen[1], 0, now), TSIG_EBADSIG);
	tsig_stream_free(&s);
	/* Through the transfer parser, in reads of every size: a name whole
	 * in one read is taken a label at a time and digested after, one
	 * split across reads an octet at a time; each octet is digested
	 * once and in order, and the zone is the same each time.  An octet
	 * of a name changed in the 2nd message: the digest finds it. */
	{
		struct zone *zx[4];
		char err[256];
		for (int mode = 0; mode < 4; mode++) {
			CHECK_EQ(xfr_signed(c.buf, c.len, mode, &k, qmac, qml, now, &zx[mode], err,
					    sizeof(err)), XFR_DONE);
			CHECK(zx[mode] && zx[0] && zx[mode]->n_records == zx[0]->n_records &&
			      zx[mode]->bytes == zx[0]->bytes &&
			      memcmp(zx[mode]->data, zx[0]->data,
				     zx[0]->bytes - (size_t)(zx[0]->data - (const uint8_t *)zx[0])) == 0);
		}
		CHECK(zx[0] && zx[0]->n_records > 100);
		for (int mode = 0; mode < 4; mode++)
			zone_free(zx[mode]);
		/* A label of a name past the question: its length octet, then
		 * letters or digits. */
		const uint8_t *m2 = c.buf + c.off[1];
		size_t at = 12 + name_len(m2 + 12) + 4, lab = 0;
		for (size_t i = at; i + 4 < c.mlen[1] && !lab; i++)
			if (m2[i] >= 2 && m2[i] < 20 && m2[i + 1] >= 'a' && m2[i + 1] <= 'z' &&
			    m2[i + 2] >= '0' && m2[i + 2] <= 'z')
				lab = i + 2;
		CHECK(lab != 0);
		memcpy(bad, c.buf, c.len);
		bad[c.off[1] + lab] ^= 0x01;
		for (int mode = 0; lab && mode < 4; mode++) {
			struct zone *zb2;
			CHECK_EQ(xfr_signed(bad, c.len, mode, &k, qmac, qml, now, &zb2, err, sizeof(err)),
				 XFR_FAIL);
			CHECK(strstr(err, "TSIG") != NULL);
			zone_free(zb2);
		}
	}

	/* The third message dropped: the chain breaks at the fourth. */
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[0], c.mlen[0], 0, now), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[1], c.mlen[1], 0, now), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[3], c.mlen[3], 0, now), TSIG_EBADSIG);
	tsig_stream_free(&s);
	/* A transfer that stops early ends on a signed message: the stream
	 * check is not the completeness check (the AXFR parser's SOA is). */
	CHECK_EQ(tsig_stream_init(&s, &k, qmac, qml), TSIG_OK);
	CHECK_EQ(stream_msg(&s, c.buf + c.off[0], c.mlen[0], 0, now), TSIG_OK);
	CHECK_EQ(tsig_stream_finish(&s), TSIG_OK);
	tsig_stream_free(&s);
	free(bad);

	/* BADKEY: Knot did not know the client's key.  The client knows it:
	 * Knot's unsigned answer is a peer error; our answer to the same
	 * request is Knot's, octet for octet. */
	uint8_t eq[512], er[512], emac[HMAC_MAX_LEN];
	size_t eql, erl, eml;
	vec_key(&v, "badkey", HMAC_SHA256, &keys[0]);
	keys[1] = k;
	eql = vec_hex(&v, "query", "badkey", eq, sizeof(eq));
	erl = vec_hex(&v, "reply", "badkey", er, sizeof(er));
	eml = vec_hex(&v, "query_mac", "badkey", emac, sizeof(emac));
	CHECK_EQ(tsig_verify(er, erl, keys, 2, now, emac, eml, &t, &used), TSIG_EPEER);
	CHECK_EQ(t.error, TSIG_RC_BADKEY);
	CHECK_EQ(t.mac_len, 0);
	CHECK_EQ(tsig_verify(eq, eql, &k, 1, now, NULL, 0, &t1, &used), TSIG_EBADKEY);
	len = strip_tsig(er, erl, buf, &t);
	CHECK_EQ(tsig_sign_error(&t1, buf, &len, sizeof(buf), t.time_signed, TSIG_RC_BADKEY), 0);
	CHECK(len == erl && !memcmp(buf, er, erl));

	/* BADSIG: the right key name, a wrong secret. */
	keys[0] = k;
	vec_hex(&v, "secret", "badsig", keys[0].secret, sizeof(keys[0].secret));
	eql = vec_hex(&v, "query", "badsig", eq, sizeof(eq));
	erl = vec_hex(&v, "reply", "badsig", er, sizeof(er));
	eml = vec_hex(&v, "query_mac", "badsig", emac, sizeof(emac));
	CHECK_EQ(tsig_verify(er, erl, keys, 1, now, emac, eml, &t, &used), TSIG_EPEER);
	CHECK_EQ(t.error, TSIG_RC_BADSIG);
	CHECK_EQ(t.mac_len, 0);
	CHECK_EQ(tsig_verify(eq, eql, &k, 1, now, NULL, 0, &t1, &used), TSIG_EBADSIG);
	CHECK(used == &k);
	len = strip_tsig(er, erl, buf, &t);
	CHECK_EQ(tsig_sign(&k, buf, &len, sizeof(buf), t.time_signed, t1.mac, t1.mac_len,
			   TSIG_RC_BADSIG, NULL, NULL),
		 0);
	CHECK(len == erl && !memcmp(buf, er, erl));

	/* BADTIME: a request signed 1000 s before Knot's clock.  Knot's
	 * signed answer carries our time in Time Signed and its own in Other
	 * Data (5.2.3); we verify it at our time, and sign the same. */
	uint64_t then = vec_u64(&v, "now", "badtime");
	eql = vec_hex(&v, "query", "badtime", eq, sizeof(eq));
	erl = vec_hex(&v, "reply", "badtime", er, sizeof(er));
	eml = vec_hex(&v, "query_mac", "badtime", emac, sizeof(emac));
	CHECK_EQ(tsig_verify(er, erl, &k, 1, then, emac, eml, &t, &used), TSIG_EPEER);
	CHECK_EQ(t.error, TSIG_RC_BADTIME);
	CHECK_EQ(t.time_signed, then);
	CHECK_EQ(t.mac_len, 32);
	CHECK_EQ(t.other_len, 6);
	uint64_t knot_time = (uint64_t)get16(t.other) << 32 | get32(t.other + 2);
	CHECK(knot_time >= then + 1000 && knot_time <= then + 1010);
	memcpy(buf, er, erl);
	buf[erl - 20] ^= 1; /* in the MAC */
	CHECK_EQ(tsig_verify(buf, erl, &k, 1, then, emac, eml, &t1, &used), TSIG_EBADSIG);
	CHECK_EQ(tsig_verify(eq, eql, &k, 1, knot_time, NULL, 0, &t1, &used), TSIG_EBADTIME);
	CHECK(used == &k);
	CHECK_EQ(t1.time_signed, then);
	len = strip_tsig(er, erl, buf, &t);
	CHECK_EQ(tsig_sign_badtime(&k, buf, &len, sizeof(buf), knot_time, t1.time_signed, t1.mac,
				   t1.mac_len, mac, &ml),
		 0);
	CHECK(len == erl && !memcmp(buf, er, erl));
	CHECK(ml == t.mac_len && !memcmp(mac, t.mac, ml));

	free(c.buf);
	free(v.text);
}

/* A signed transfer whose unsigned middle message ends with a record in its
 * additional section that is not a TSIG (its owner a label and a pointer):
 * the parser holds that record's octets back until its type shows, a step
 * at a time even where a whole name is at hand, and digests them in order
 * with the rest; the third message's MAC, made here over the first one's
 * MAC, the second message and the third (RFC 8945 5.3.1), verifies in every
 * way of reading the stream.  A letter of that owner changed: BADSIG. */
static void test_xfr_withheld(void)
{
	struct vectors v;
	if (vec_load(&v, "tsig-knot.txt") < 0) {
		CHECK(0);
		return;
	}
	uint8_t qmac[HMAC_MAX_LEN];
	size_t qml = vec_hex(&v, "query_mac", "knot", qmac, sizeof(qmac));
	uint64_t now = vec_u64(&v, "now", "knot");
	struct tsig_key k;
	vec_key(&v, "knot", HMAC_SHA256, &k);
	static const uint8_t apex[] = "\x04tsig\x07" "example";
	static const uint8_t soa_rd[] = { 2, 'n', 's', 0xC0, 0x0C, 4, 'h', 'o', 's', 't', 0xC0, 0x0C,
					  0, 0, 0, 1, 0, 0, 14, 16, 0, 0, 7, 8, 0, 9, 58, 128, 0, 0, 1, 44 };
	static uint8_t m1[1024], m2[256], m3[1024], stream[4096];
	size_t l1 = 0, l2 = 0, l3 = 0;
#define PUT(m, l, p, n) (memcpy((m) + (l), (p), (n)), (l) += (n))
	/* 1: the question, the SOA and an address; signed as an answer to
	 * the request with MAC qmac. */
	PUT(m1, l1, "\x12\x34\x84\x00\x00\x01\x00\x02\x00\x00\x00\x00", 12);
	PUT(m1, l1, apex, sizeof(apex));
	PUT(m1, l1, "\x00\xfc\x00\x01", 4);
	PUT(m1, l1, "\xc0\x0c\x00\x06\x00\x01\x00\x00\x0e\x10\x00\x20", 12);
	PUT(m1, l1, soa_rd, sizeof(soa_rd));
	PUT(m1, l1, "\x01" "a\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x01", 18);
	uint8_t mac1[HMAC_MAX_LEN];
	size_t mac1_len;
	CHECK_EQ(tsig_sign(&k, m1, &l1, sizeof(m1), now, qmac, qml, 0, mac1, &mac1_len), 0);
	/* 2: unsigned, an address, and one in the additional section. */
	PUT(m2, l2, "\x12\x34\x84\x00\x00\x00\x00\x01\x00\x00\x00\x01", 12);
	PUT(m2, l2, "\x01x\x04tsig\x07" "example\x00\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x02",
	    30);
	size_t y_at = l2 + 1;
	PUT(m2, l2, "\x01y\xc0\x0e\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x03", 18);
	/* 3: the final SOA, its MAC over MAC 1, message 2 and message 3 and
	 * the timers (5.3.1), then its TSIG RR. */
	PUT(m3, l3, "\x12\x34\x84\x00\x00\x00\x00\x01\x00\x00\x00\x00", 12);
	PUT(m3, l3, apex, sizeof(apex));
	PUT(m3, l3, "\x00\x06\x00\x01\x00\x00\x0e\x10\x00\x38", 10);
	PUT(m3, l3, "\x02ns\x04tsig\x07" "example\x00\x04host\x04tsig\x07" "example\x00", 36);
	PUT(m3, l3, soa_rd + 12, 20);
	for (int bad = 0; bad < 2; bad++) {
		uint8_t *b2 = malloc(l2);
		memcpy(b2, m2, l2);
		if (bad)
			b2[y_at] = 'z';
		uint8_t t[8], mac3[HMAC_MAX_LEN];
		struct hmac_ctx *h = hmac_new(k.alg, k.secret, k.secret_len);
		put16(t, (uint16_t)mac1_len);
		hmac_update(h, t, 2);
		hmac_update(h, mac1, mac1_len);
		hmac_update(h, m2, l2); /* what the primary signed */
		hmac_update(h, m3, l3);
		t[0] = t[1] = 0;
		put32(t + 2, (uint32_t)now);
		put16(t + 6, 300);
		hmac_update(h, t, 8);
		size_t mac3_len = hmac_final(h, mac3); /* frees h */
		size_t s3 = l3;
		uint8_t *x = m3 + s3;
		memcpy(x, k.name, name_len(k.name));
		x += name_len(k.name);
		memcpy(x, "\x00\xfa\x00\xff\x00\x00\x00\x00", 8);
		x += 8;
		uint8_t *rdlen = x;
		x += 2;
		const uint8_t *an = tsig_alg_name(k.alg);
		memcpy(x, an, name_len(an));
		x += name_len(an);
		memcpy(x, t, 8);
		x += 8;
		put16(x, (uint16_t)mac3_len);
		memcpy(x + 2, mac3, mac3_len);
		x += 2 + mac3_len;
		memcpy(x, "\x12\x34\x00\x00\x00\x00", 6);
		x += 6;
		put16(rdlen, (uint16_t)(x - rdlen - 2));
		size_t full3 = (size_t)(x - m3);
		m3[11] = 1;
		size_t sl;
		put16(stream, (uint16_t)l1);
		memcpy(stream + 2, m1, l1);
		sl = 2 + l1;
		put16(stream + sl, (uint16_t)l2);
		memcpy(stream + sl + 2, b2, l2);
		sl += 2 + l2;
		put16(stream + sl, (uint16_t)full3);
		memcpy(stream + sl + 2, m3, full3);
		sl += 2 + full3;
		m3[11] = 0;
		for (int mode = 0; mode < 4; mode++) {
			struct zone *z;
			char err[256];
			int rc = xfr_signed(stream, sl, mode, &k, qmac, qml, now, &z, err, sizeof(err));
			if (!bad) {
				CHECK_EQ(rc, XFR_DONE);
				CHECK(z && z->n_records == 3);
			} else {
				CHECK_EQ(rc, XFR_FAIL);
				CHECK(strstr(err, "TSIG") != NULL);
			}
			if (rc != (bad ? XFR_FAIL : XFR_DONE))
				printf("withheld: bad %d mode %d: %s\n", bad, mode, err);
			zone_free(z);
		}
		free(b2);
	}
#undef PUT
	free(v.text);
}

void test_tsig(void);
void test_tsig(void)
{
	test_names();
	test_hmac();
	test_dnspython();
	test_errors();
	test_dnspython_stream();
	test_knot();
	test_xfr_withheld();
}
