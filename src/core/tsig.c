/* TSIG, RFC 8945: the digest of one message (4.3), of the messages of a
 * transfer (5.3.1), signing (4.3, 5.3) and the checks of 5.2 in their
 * order.  The HMAC is the platform's (hmac.h); every untrusted octet is
 * read through the cursor. */
#include "tsig.h"

#include <string.h>

#include "rrtype.h"
#include "wire.h"

#define CLASS_ANY 255
#define HDR_LEN 12

/* RFC 8945 6: the algorithm names, and the short names of the
 * configuration files of NSD and Knot DNS. */
static const struct {
	enum hmac_alg alg;
	const char *text;
	const uint8_t *wire;
} algs[] = {
	{ HMAC_MD5, "hmac-md5", (const uint8_t *)"\x08hmac-md5\x07sig-alg\x03reg\x03int" },
	{ HMAC_SHA1, "hmac-sha1", (const uint8_t *)"\x09hmac-sha1" },
	{ HMAC_SHA224, "hmac-sha224", (const uint8_t *)"\x0bhmac-sha224" },
	{ HMAC_SHA256, "hmac-sha256", (const uint8_t *)"\x0bhmac-sha256" },
	{ HMAC_SHA384, "hmac-sha384", (const uint8_t *)"\x0bhmac-sha384" },
	{ HMAC_SHA512, "hmac-sha512", (const uint8_t *)"\x0bhmac-sha512" },
};
#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive: does s equal t, or t followed by "."? */
static int text_is(const char *s, const char *t)
{
	while (*t) {
		if (lower((uint8_t)*s) != (uint8_t)*t)
			return 0;
		s++;
		t++;
	}
	return *s == 0 || (s[0] == '.' && s[1] == 0);
}

enum hmac_alg tsig_alg_from_text(const char *s)
{
	if (!s)
		return HMAC_NONE;
	if (text_is(s, "hmac-md5.sig-alg.reg.int"))
		return HMAC_MD5;
	for (size_t i = 0; i < N_ALGS; i++)
		if (text_is(s, algs[i].text))
			return algs[i].alg;
	return HMAC_NONE;
}

const char *tsig_alg_text(enum hmac_alg alg)
{
	for (size_t i = 0; i < N_ALGS; i++)
		if (algs[i].alg == alg)
			return algs[i].text;
	return "unknown";
}

const uint8_t *tsig_alg_name(enum hmac_alg alg)
{
	for (size_t i = 0; i < N_ALGS; i++)
		if (algs[i].alg == alg)
			return algs[i].wire;
	return NULL;
}

enum hmac_alg tsig_alg_from_name(const uint8_t *name)
{
	for (size_t i = 0; i < N_ALGS; i++)
		if (name_equal(name, algs[i].wire))
			return algs[i].alg;
	return HMAC_NONE;
}

const char *tsig_strerror(int status)
{
	switch (status) {
	case TSIG_OK: return "signed and verified";
	case TSIG_UNSIGNED: return "not signed";
	case TSIG_EFORMERR: return "malformed or misplaced TSIG (FORMERR)";
	case TSIG_EBADKEY: return "unknown key (BADKEY)";
	case TSIG_EBADSIG: return "bad signature (BADSIG)";
	case TSIG_EBADTIME: return "time outside fudge (BADTIME)";
	case TSIG_EBADTRUNC: return "MAC truncated too short (BADTRUNC)";
	case TSIG_ENOMEM: return "out of memory for the HMAC";
	case TSIG_EUNSIGNED: return "unsigned messages in a signed transfer";
	case TSIG_EPEER: return "the peer answered with a TSIG error";
	default: return "unknown TSIG status";
	}
}

const char *tsig_rcode_text(uint16_t error)
{
	switch (error) {
	case 0: return "NOERROR";
	case TSIG_RC_BADSIG: return "BADSIG";
	case TSIG_RC_BADKEY: return "BADKEY";
	case TSIG_RC_BADTIME: return "BADTIME";
	case 19: return "BADMODE";
	case 20: return "BADNAME";
	case 21: return "BADALG";
	case TSIG_RC_BADTRUNC: return "BADTRUNC";
	default: return "unknown TSIG error";
	}
}

/* RFC 8945 4.2: the RDATA; names in it are never compressed. */
int tsig_rr_parse(const uint8_t *owner, const uint8_t *rdata, size_t len, struct tsig_rr *out)
{
	struct cursor c;
	int n = name_check(owner, NAME_MAXLEN);
	if (n < 0)
		return TSIG_EFORMERR;
	memcpy(out->key, owner, (size_t)n);
	name_lower(out->key);
	cur_init(&c, rdata, len);
	if (name_parse(&c, out->alg, 0) < 0)
		return TSIG_EFORMERR;
	name_lower(out->alg);
	uint16_t hi = cur_u16(&c);
	uint32_t lo = cur_u32(&c);
	out->time_signed = ((uint64_t)hi << 32) | lo;
	out->fudge = cur_u16(&c);
	out->mac_len = cur_u16(&c);
	if (out->mac_len > HMAC_MAX_LEN)
		return TSIG_EFORMERR; /* longer than any hash: 5.2.2.1 case 1 */
	const uint8_t *mac = cur_take(&c, out->mac_len);
	if (mac)
		memcpy(out->mac, mac, out->mac_len);
	out->orig_id = cur_u16(&c);
	out->error = cur_u16(&c);
	out->other_len = cur_u16(&c);
	if (out->other_len > sizeof(out->other))
		return TSIG_EFORMERR; /* only BADTIME's 48-bit time is defined */
	const uint8_t *other = cur_take(&c, out->other_len);
	if (other)
		memcpy(out->other, other, out->other_len);
	if (c.err || cur_left(&c) != 0)
		return TSIG_EFORMERR;
	return TSIG_OK;
}

/* RFC 8945 5.2: the TSIG must be the last RR of the additional section;
 * one anywhere else, or a second one, is FORMERR. */
int tsig_find(const uint8_t *msg, size_t len, struct tsig_rr *out, size_t *start)
{
	struct cursor c;
	uint8_t name[NAME_MAXLEN];
	cur_init(&c, msg, len);
	cur_skip(&c, 4);
	unsigned qd = cur_u16(&c), an = cur_u16(&c), ns = cur_u16(&c), ar = cur_u16(&c);
	if (c.err)
		return TSIG_EFORMERR;
	for (unsigned i = 0; i < qd; i++) {
		if (name_parse(&c, name, 1) < 0)
			return TSIG_EFORMERR;
		cur_skip(&c, 4);
	}
	unsigned long total = (unsigned long)an + ns + ar;
	for (unsigned long i = 0; i < total; i++) {
		size_t rr_start = c.pos;
		if (name_parse(&c, name, 1) < 0)
			return TSIG_EFORMERR;
		uint16_t type = cur_u16(&c), class = cur_u16(&c);
		uint32_t ttl = cur_u32(&c);
		uint16_t rdlen = cur_u16(&c);
		const uint8_t *rd = cur_take(&c, rdlen);
		if (c.err)
			return TSIG_EFORMERR;
		if (type != T_TSIG)
			continue;
		if (i + 1 != total || ar == 0 || cur_left(&c) != 0)
			return TSIG_EFORMERR;
		if (class != CLASS_ANY || ttl != 0) /* 4.2: class ANY, TTL 0 */
			return TSIG_EFORMERR;
		if (tsig_rr_parse(name, rd, rdlen, out) < 0)
			return TSIG_EFORMERR;
		*start = rr_start;
		return TSIG_OK;
	}
	return c.err ? TSIG_EFORMERR : TSIG_UNSIGNED;
}

static void put48(uint8_t *p, uint64_t v)
{
	put16(p, (uint16_t)(v >> 32));
	put32(p + 2, (uint32_t)v);
}

/* RFC 8945 4.3.1 / 5.3.1: a MAC in front of the digest, with its size. */
static void digest_mac(struct hmac_ctx *h, const uint8_t *mac, size_t len)
{
	uint8_t l[2];
	put16(l, (uint16_t)len);
	hmac_update(h, l, 2);
	hmac_update(h, mac, len);
}

/* RFC 8945 4.3.3: the TSIG variables, names in canonical (lower case,
 * uncompressed) form; timers_only for the later messages of 5.3.1. */
static void digest_vars(struct hmac_ctx *h, const uint8_t *key, const uint8_t *alg,
			uint64_t time_signed, uint16_t fudge, uint16_t error,
			const uint8_t *other, uint16_t other_len, int timers_only)
{
	uint8_t b[16], name[NAME_MAXLEN];
	size_t n;
	if (!timers_only) {
		n = name_len(key);
		memcpy(name, key, n);
		name_lower(name);
		hmac_update(h, name, n);
		put16(b, CLASS_ANY);
		put32(b + 2, 0); /* TTL */
		hmac_update(h, b, 6);
		n = name_len(alg);
		memcpy(name, alg, n);
		name_lower(name);
		hmac_update(h, name, n);
	}
	put48(b, time_signed);
	put16(b + 6, fudge);
	if (timers_only) {
		hmac_update(h, b, 8);
		return;
	}
	put16(b + 8, error);
	put16(b + 10, other_len);
	hmac_update(h, b, 12);
	hmac_update(h, other, other_len);
}

/* Constant time: no early exit on the first difference. */
static int mac_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

/* RFC 8945 5.2.2.1: a MAC longer than the hash (case 1) or shorter than
 * the larger of 10 octets and half the hash (case 3) is FORMERR, except the
 * empty MAC of an unsigned error answer (5.3.2). */
static int mac_size_ok(size_t mac_len, size_t hash_len)
{
	size_t least = hash_len / 2 > 10 ? hash_len / 2 : 10;
	return mac_len <= hash_len && mac_len >= least;
}

/* RFC 8945 5.2.4: the local minimum, at least the floor of 5.2.2.1. */
static int mac_policy_ok(const struct tsig_key *k, size_t mac_len, size_t hash_len)
{
	size_t min = k->min_mac_len > hash_len ? hash_len : k->min_mac_len;
	return mac_len >= min;
}

/* RFC 8945 5.2.3: now within Time Signed +- Fudge (no division, no
 * wrap: both are 48-bit values in 64 bits). */
static int time_ok(uint64_t now, uint64_t signed_at, uint16_t fudge)
{
	return now <= signed_at + fudge && signed_at <= now + fudge;
}

/* The TSIG RR itself at msg + *len: owner, type, class, TTL, RDATA. */
static int append_rr(uint8_t *msg, size_t *len, size_t cap, const uint8_t *key,
		     const uint8_t *alg, uint64_t time_signed, const uint8_t *mac,
		     size_t mac_len, uint16_t error, const uint8_t *other, uint16_t other_len)
{
	size_t kl = name_len(key), al = name_len(alg);
	size_t rdlen = al + 10 + mac_len + 6 + other_len;
	if (*len < HDR_LEN || cap < *len || cap - *len < kl + 10 + rdlen)
		return -1;
	uint16_t ar = get16(msg + 10);
	if (ar == 0xFFFF)
		return -1;
	uint8_t *p = msg + *len;
	memcpy(p, key, kl);
	p += kl;
	put16(p, T_TSIG);
	put16(p + 2, CLASS_ANY);
	put32(p + 4, 0);
	put16(p + 8, (uint16_t)rdlen);
	p += 10;
	memcpy(p, alg, al);
	p += al;
	put48(p, time_signed);
	put16(p + 6, TSIG_FUDGE);
	put16(p + 8, (uint16_t)mac_len);
	p += 10;
	if (mac_len)
		memcpy(p, mac, mac_len);
	p += mac_len;
	put16(p, get16(msg)); /* original ID: the message's own */
	put16(p + 2, error);
	put16(p + 4, other_len);
	p += 6;
	if (other_len)
		memcpy(p, other, other_len);
	p += other_len;
	*len = (size_t)(p - msg);
	put16(msg + 10, (uint16_t)(ar + 1));
	return 0;
}

static int sign(const struct tsig_key *k, uint8_t *msg, size_t *len, size_t cap,
		uint64_t time_signed, const uint8_t *req_mac, size_t req_mac_len,
		uint16_t error, const uint8_t *other, uint16_t other_len, uint8_t *mac_out,
		size_t *mac_out_len)
{
	uint8_t mac[HMAC_MAX_LEN] = { 0 };
	size_t mac_len = 0;
	const uint8_t *alg = tsig_alg_name(k->alg);
	if (mac_out_len)
		*mac_out_len = 0;
	if (!alg || *len < HDR_LEN || cap < *len)
		return -1;
	/* RFC 8945 5.3.2: a key or MAC error is answered unsigned. */
	if (error != TSIG_RC_BADSIG && error != TSIG_RC_BADKEY) {
		struct hmac_ctx *h = hmac_new(k->alg, k->secret, k->secret_len);
		if (!h)
			return -1;
		if (req_mac && req_mac_len) /* 4.3.1: the request MAC */
			digest_mac(h, req_mac, req_mac_len);
		hmac_update(h, msg, *len); /* 4.3.2: ID is the original ID */
		digest_vars(h, k->name, alg, time_signed, TSIG_FUDGE, error, other, other_len, 0);
		mac_len = hmac_final(h, mac);
		if (mac_len == 0)
			return -1;
	}
	if (append_rr(msg, len, cap, k->name, alg, time_signed, mac, mac_len, error, other,
		      other_len) < 0)
		return -1;
	if (mac_out && mac_len)
		memcpy(mac_out, mac, mac_len);
	if (mac_out_len)
		*mac_out_len = mac_len;
	return 0;
}

int tsig_sign(const struct tsig_key *k, uint8_t *msg, size_t *len, size_t cap, uint64_t now,
	      const uint8_t *req_mac, size_t req_mac_len, uint16_t error, uint8_t *mac_out,
	      size_t *mac_out_len)
{
	if (error == TSIG_RC_BADTIME)
		return tsig_sign_badtime(k, msg, len, cap, now, now, req_mac, req_mac_len,
					 mac_out, mac_out_len);
	return sign(k, msg, len, cap, now, req_mac, req_mac_len, error, NULL, 0, mac_out,
		    mac_out_len);
}

int tsig_sign_badtime(const struct tsig_key *k, uint8_t *msg, size_t *len, size_t cap,
		      uint64_t now, uint64_t req_time, const uint8_t *req_mac,
		      size_t req_mac_len, uint8_t *mac_out, size_t *mac_out_len)
{
	uint8_t other[6];
	put48(other, now); /* 5.2.3: our time in Other Data */
	return sign(k, msg, len, cap, req_time, req_mac, req_mac_len, TSIG_RC_BADTIME, other,
		    6, mac_out, mac_out_len);
}

int tsig_sign_error(const struct tsig_rr *req, uint8_t *msg, size_t *len, size_t cap,
		    uint64_t now, uint16_t error)
{
	if (name_check(req->key, NAME_MAXLEN) < 0 || name_check(req->alg, NAME_MAXLEN) < 0)
		return -1;
	return append_rr(msg, len, cap, req->key, req->alg, now, NULL, 0, error, NULL, 0);
}

static const struct tsig_key *find_key(const struct tsig_key *keys, size_t n,
				       const uint8_t *name)
{
	for (size_t i = 0; i < n; i++)
		if (name_equal(keys[i].name, name))
			return &keys[i];
	return NULL;
}

int tsig_verify(const uint8_t *msg, size_t len, const struct tsig_key *keys, size_t n_keys,
		uint64_t now, const uint8_t *req_mac, size_t req_mac_len, struct tsig_rr *r,
		const struct tsig_key **used)
{
	struct tsig_rr local;
	size_t start;
	if (!r)
		r = &local;
	if (used)
		*used = NULL;
	int rc = tsig_find(msg, len, r, &start);
	if (rc != TSIG_OK)
		return rc;

	/* 5.2.1: the key, and its algorithm. */
	const struct tsig_key *k = find_key(keys, n_keys, r->key);
	if (!k || tsig_alg_from_name(r->alg) != k->alg)
		return TSIG_EBADKEY;
	size_t hash_len = hmac_len(k->alg);
	if (hash_len == 0)
		return TSIG_EBADKEY; /* known name, but not implemented here */
	if (used)
		*used = k;
	if (r->mac_len == 0 && r->error != 0)
		return TSIG_EPEER; /* 5.3.2: an unsigned error answer */
	if (!mac_size_ok(r->mac_len, hash_len))
		return TSIG_EFORMERR;

	/* 5.2.2: the MAC over request MAC, message, TSIG variables (4.3). */
	uint8_t mac[HMAC_MAX_LEN], hdr[HDR_LEN];
	struct hmac_ctx *h = hmac_new(k->alg, k->secret, k->secret_len);
	if (!h)
		return TSIG_ENOMEM;
	if (req_mac && req_mac_len)
		digest_mac(h, req_mac, req_mac_len);
	memcpy(hdr, msg, HDR_LEN);
	put16(hdr, r->orig_id);                       /* 4.3.2: original ID */
	put16(hdr + 10, (uint16_t)(get16(hdr + 10) - 1)); /* without the TSIG */
	hmac_update(h, hdr, HDR_LEN);
	hmac_update(h, msg + HDR_LEN, start - HDR_LEN);
	digest_vars(h, r->key, r->alg, r->time_signed, r->fudge, r->error, r->other,
		    r->other_len, 0);
	if (hmac_final(h, mac) != hash_len)
		return TSIG_ENOMEM;
	/* 5.2.2.1 case 4: a truncated MAC is compared on its length. */
	if (!mac_equal(mac, r->mac, r->mac_len))
		return TSIG_EBADSIG;
	if (r->error != 0)
		return TSIG_EPEER; /* a signed BADTIME or BADTRUNC answer */
	/* 5.2.3, after the MAC as the RFC orders it. */
	if (!time_ok(now, r->time_signed, r->fudge))
		return TSIG_EBADTIME;
	if (!mac_policy_ok(k, r->mac_len, hash_len)) /* 5.2.4 */
		return TSIG_EBADTRUNC;
	return TSIG_OK;
}

/* The stream of a transfer, RFC 8945 5.3.1.  The first signed message is
 * digested as a response (request MAC, message, all TSIG variables); each
 * later signed one over its prior MAC, every message since (unsigned ones
 * whole, as received; this one without its TSIG, ARCOUNT one less) and the
 * TSIG timers only. */
int tsig_stream_init(struct tsig_stream *s, const struct tsig_key *k, const uint8_t *req_mac,
		     size_t req_mac_len)
{
	memset(s, 0, sizeof(*s));
	s->key = k;
	if (hmac_len(k->alg) == 0 || req_mac_len > HMAC_MAX_LEN) {
		s->status = TSIG_EBADKEY;
		return s->status;
	}
	s->run = hmac_new(k->alg, k->secret, k->secret_len);
	if (!s->run) {
		s->status = TSIG_ENOMEM;
		return s->status;
	}
	if (req_mac && req_mac_len) {
		digest_mac(s->run, req_mac, req_mac_len);
		memcpy(s->prev_mac, req_mac, req_mac_len);
		s->prev_mac_len = req_mac_len;
	}
	return TSIG_OK;
}

void tsig_stream_free(struct tsig_stream *s)
{
	hmac_free(s->run);
	hmac_free(s->alt);
	s->run = s->alt = NULL;
}

static int stream_fail(struct tsig_stream *s, int status)
{
	s->status = status;
	hmac_free(s->alt);
	s->alt = NULL;
	return status;
}

int tsig_stream_begin(struct tsig_stream *s, const uint8_t *hdr)
{
	if (s->status < 0)
		return s->status;
	hmac_free(s->alt);
	s->alt = NULL;
	s->id = get16(hdr);
	uint16_t ar = get16(hdr + 10);
	if (ar > 0) {
		/* The last RR may be a TSIG: digest the header both ways.  The
		 * ID digested is the one received; tsig_stream_end checks that
		 * the TSIG's original ID is the same. */
		uint8_t h[HDR_LEN];
		memcpy(h, hdr, HDR_LEN);
		put16(h + 10, (uint16_t)(ar - 1));
		s->alt = hmac_dup(s->run);
		if (!s->alt)
			return stream_fail(s, TSIG_ENOMEM);
		hmac_update(s->alt, h, HDR_LEN);
	}
	hmac_update(s->run, hdr, HDR_LEN);
	return TSIG_OK;
}

void tsig_stream_data(struct tsig_stream *s, const uint8_t *p, size_t n)
{
	if (s->status < 0)
		return;
	hmac_update(s->run, p, n);
	if (s->alt)
		hmac_update(s->alt, p, n);
}

int tsig_stream_end(struct tsig_stream *s, const struct tsig_rr *t, uint64_t now)
{
	if (s->status < 0)
		return s->status;
	int first = s->messages++ == 0;
	if (!t) {
		hmac_free(s->alt);
		s->alt = NULL;
		s->last_signed = 0;
		/* 5.3.1: the first message signed, then at most 99 unsigned
		 * in a row. */
		if (first || ++s->unsigned_run > TSIG_MAX_UNSIGNED)
			return stream_fail(s, TSIG_EUNSIGNED);
		return TSIG_UNSIGNED;
	}
	const struct tsig_key *k = s->key;
	size_t hash_len = hmac_len(k->alg);
	if (!s->alt)
		return stream_fail(s, TSIG_EFORMERR); /* a TSIG, but ARCOUNT 0 */
	if (!name_equal(t->key, k->name) || tsig_alg_from_name(t->alg) != k->alg)
		return stream_fail(s, TSIG_EBADKEY);
	if (t->mac_len == 0 && t->error != 0)
		return stream_fail(s, TSIG_EPEER);
	if (!mac_size_ok(t->mac_len, hash_len))
		return stream_fail(s, TSIG_EFORMERR);
	if (t->orig_id != s->id)
		return stream_fail(s, TSIG_EBADSIG); /* digested with the wrong ID */

	uint8_t mac[HMAC_MAX_LEN];
	struct hmac_ctx *h = s->alt;
	s->alt = NULL;
	digest_vars(h, t->key, t->alg, t->time_signed, t->fudge, t->error, t->other,
		    t->other_len, !first);
	if (hmac_final(h, mac) != hash_len)
		return stream_fail(s, TSIG_ENOMEM);
	if (!mac_equal(mac, t->mac, t->mac_len))
		return stream_fail(s, TSIG_EBADSIG);
	if (t->error != 0)
		return stream_fail(s, TSIG_EPEER);
	if (!time_ok(now, t->time_signed, t->fudge))
		return stream_fail(s, TSIG_EBADTIME);
	if (!mac_policy_ok(k, t->mac_len, hash_len))
		return stream_fail(s, TSIG_EBADTRUNC);

	/* Verified: the next digest starts from this MAC (5.3.1). */
	hmac_free(s->run);
	s->run = hmac_new(k->alg, k->secret, k->secret_len);
	if (!s->run)
		return stream_fail(s, TSIG_ENOMEM);
	digest_mac(s->run, t->mac, t->mac_len);
	memcpy(s->prev_mac, t->mac, t->mac_len);
	s->prev_mac_len = t->mac_len;
	s->unsigned_run = 0;
	s->last_signed = 1;
	return TSIG_OK;
}

int tsig_stream_finish(const struct tsig_stream *s)
{
	if (s->status < 0)
		return s->status;
	return s->messages > 0 && s->last_signed ? TSIG_OK : TSIG_EUNSIGNED;
}
