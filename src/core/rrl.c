/* Response rate limiting: a fixed table of token buckets (see rrl.h).
 *
 * A bucket is kept as the time at which it would be full again, tat ("the
 * theoretical arrival time" of the generic cell rate algorithm), in
 * microseconds.  Every response moves tat on by one interval (a second
 * divided by the rate), from now if tat has passed.  A response is sent
 * when tat then lies no more than one second's worth of intervals ahead of
 * now (the bucket's depth: a burst of `rate` responses), and limited
 * otherwise.  A limited response moves tat on too, as long as that keeps
 * it within `window` seconds beyond the depth: this is the debt that keeps
 * a flood limited until it stops or slows below the rate.  With a window
 * of 0 there is no debt, and a flood gets exactly the rate.  One number
 * per bucket, one comparison per response, and no division in
 * rrl_check(): the lx106 has no divide instruction, and a 64-bit division
 * there is a long routine.
 *
 * The table is open-addressed: a class hashes to a slot and may live in
 * any of the PROBES slots from there.  It keeps a 32-bit fingerprint of its
 * key, not the key; two classes with the same fingerprint in the same
 * place share a bucket.  When none of the slots holds the class, the one
 * that would be full again soonest is taken over (an empty or refilled one
 * first), so a table too small for the traffic forgets the classes that
 * matter least; a flood from many networks can still push classes out,
 * which gives each of them a fresh bucket, as in the other servers.
 *
 * The hash is not cryptographic, and need not be: its secret per-instance
 * seed keeps an attacker from choosing keys that land on one slot, and if
 * one did, colliding classes would only share buckets (be limited
 * together, or push each other out) -- never crash, read out of bounds or
 * let anything through that an unlimited server would not send. */
#include "rrl.h"

#include <string.h>

#define PROBES 4
#define US_PER_S 1000000u

struct rrl_bucket {
	uint64_t tat;  /* microseconds: when the bucket is full again */
	uint32_t fp;   /* fingerprint of the class; 0: empty */
	uint8_t slips; /* limited responses since the last slip */
};

struct rrl {
	struct rrl_bucket *b;
	uint32_t n;        /* buckets (0: off) */
	uint32_t interval; /* microseconds a response costs */
	uint32_t depth;    /* microseconds: `rate` responses */
	uint64_t cap;      /* microseconds: depth plus the window's debt */
	uint32_t seed_a, seed_b;
	uint8_t slip, v4bits, v6bits;
	struct rrl_stats stats;
};

void rrl_config_default(struct rrl_config *cfg)
{
	cfg->responses_per_second = RRL_DEFAULT_RATE;
	cfg->window = RRL_DEFAULT_WINDOW;
	cfg->slip = RRL_DEFAULT_SLIP;
	cfg->ipv4_prefix_length = RRL_DEFAULT_IPV4_PREFIX;
	cfg->ipv6_prefix_length = RRL_DEFAULT_IPV6_PREFIX;
}

int rrl_config_check(const struct rrl_config *cfg)
{
	if (cfg->responses_per_second > RRL_MAX_RATE || cfg->window > RRL_MAX_WINDOW ||
	    cfg->slip > RRL_MAX_SLIP || cfg->ipv4_prefix_length > 32 ||
	    cfg->ipv6_prefix_length > 128)
		return -1;
	return 0;
}

#define ALIGN_TO(x, a) (((x) + ((a) - 1)) & ~(uintptr_t)((a) - 1))

size_t rrl_mem_size(size_t entries)
{
	size_t fixed = sizeof(struct rrl) + _Alignof(struct rrl) + _Alignof(struct rrl_bucket);
	if (entries > UINT32_MAX || entries > (SIZE_MAX - fixed) / sizeof(struct rrl_bucket))
		return 0;
	return fixed + entries * sizeof(struct rrl_bucket);
}

struct rrl *rrl_init(void *mem, size_t mem_len, const struct rrl_config *cfg, uint64_t seed)
{
	if (!mem || rrl_config_check(cfg) != 0)
		return NULL;
	uintptr_t start = (uintptr_t)mem, end = start + mem_len;
	if (end < start)
		return NULL;
	uintptr_t at = ALIGN_TO(start, _Alignof(struct rrl));
	if (at < start || at > end || end - at < sizeof(struct rrl))
		return NULL;
	struct rrl *r = (struct rrl *)at;
	memset(r, 0, sizeof *r);
	if (cfg->responses_per_second == 0)
		return r; /* off: n = 0 */

	at = ALIGN_TO(at + sizeof(struct rrl), _Alignof(struct rrl_bucket));
	if (at > end || end - at < sizeof(struct rrl_bucket))
		return NULL;
	size_t n = (end - at) / sizeof(struct rrl_bucket);
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	r->b = (struct rrl_bucket *)at;
	r->n = (uint32_t)n;
	memset(r->b, 0, n * sizeof(struct rrl_bucket));

	/* A second's worth of whole intervals: exactly `rate` responses in a
	 * burst, and a long-run rate a hair above `rate` at most (the interval
	 * is rounded down; exact up to 999 per second).  The only division,
	 * once, here. */
	r->interval = US_PER_S / cfg->responses_per_second;
	r->depth = r->interval * cfg->responses_per_second;
	r->cap = (uint64_t)r->depth + (uint64_t)r->depth * cfg->window;
	r->seed_a = (uint32_t)seed;
	r->seed_b = (uint32_t)(seed >> 32);
	r->slip = cfg->slip;
	r->v4bits = cfg->ipv4_prefix_length;
	r->v6bits = cfg->ipv6_prefix_length;
	return r;
}

size_t rrl_entries(const struct rrl *r)
{
	return r ? r->n : 0;
}

void rrl_get_stats(const struct rrl *r, struct rrl_stats *out)
{
	if (r)
		*out = r->stats;
	else
		memset(out, 0, sizeof *out);
}

/* Two 32-bit hashes of the class key, fed an octet at a time (no word
 * loads, so no alignment to care about): an FNV-1a lane and a
 * multiply-xorshift lane, both started from the secret seed and finished
 * with MurmurHash3's avalanche step.  One picks the slot, the other is the
 * fingerprint. */
struct hash2 {
	uint32_t a, b;
};

static inline void hash_octet(struct hash2 *h, uint8_t c)
{
	h->a = (h->a ^ c) * 0x01000193u;
	h->b = (h->b + c) * 0x9E3779B1u;
	h->b ^= h->b >> 15;
}

static void hash_bytes(struct hash2 *h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hash_octet(h, p[i]);
}

static uint32_t avalanche(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85EBCA6Bu;
	x ^= x >> 13;
	x *= 0xC2B2AE35u;
	x ^= x >> 16;
	return x;
}

/* A name in wire form, lower-cased as it goes; stops at the root label, at
 * anything that is not a plain label, or at 255 octets. */
static void hash_name(struct hash2 *h, const uint8_t *name)
{
	unsigned total = 0;
	for (;;) {
		uint8_t len = name[total];
		if (len == 0 || len > 63 || total + 1u + len > 255u)
			break;
		hash_octet(h, len);
		for (unsigned i = 1; i <= len; i++) {
			uint8_t c = name[total + i];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c + ('a' - 'A'));
			hash_octet(h, c);
		}
		total += 1u + len;
	}
	hash_octet(h, 0);
}

/* The client's network: its address cut to the prefix length.  An IPv4
 * address seen on an IPv6 socket (::ffff:a.b.c.d) counts as IPv4. */
static void hash_client(struct hash2 *h, const struct rrl *r, const struct netaddr *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
	uint8_t buf[17];
	const uint8_t *src = a->addr;
	unsigned len = 16, bits = r->v6bits;
	if (a->family == 4) {
		len = 4;
		bits = r->v4bits;
	} else if (memcmp(a->addr, mapped, sizeof mapped) == 0) {
		src = a->addr + 12;
		len = 4;
		bits = r->v4bits;
	}
	buf[0] = (uint8_t)len;
	for (unsigned i = 0; i < len; i++) {
		uint8_t c = src[i];
		if (bits >= 8 * (i + 1))
			buf[1 + i] = c;
		else if (bits > 8 * i)
			buf[1 + i] = (uint8_t)(c & (0xFF00u >> (bits - 8 * i)));
		else
			buf[1 + i] = 0;
	}
	hash_bytes(h, buf, 1 + len);
}

int rrl_check(struct rrl *r, const struct netaddr *client, const uint8_t *name,
	      uint16_t qtype, uint8_t rcode, int kind, uint64_t now_ms)
{
	if (!r || r->n == 0)
		return RRL_SEND;

	/* The class: network, kind, and what the kind is keyed by. */
	struct hash2 h = {0x811C9DC5u ^ r->seed_a, 0x2545F491u ^ r->seed_b};
	hash_client(&h, r, client);
	if (kind < RRL_ANSWER || kind > RRL_ERROR)
		kind = RRL_ERROR;
	uint8_t head[3] = {(uint8_t)kind, 0, 0};
	if (kind == RRL_ANSWER) {
		head[1] = (uint8_t)(qtype >> 8);
		head[2] = (uint8_t)qtype;
	} else if (kind == RRL_ERROR) {
		head[1] = rcode;
	}
	hash_bytes(&h, head, sizeof head);
	if (kind != RRL_ERROR && name)
		hash_name(&h, name);
	uint32_t fp = avalanche(h.a ^ r->seed_b);
	uint32_t pick = avalanche(h.b + r->seed_a);
	if (fp == 0)
		fp = 1;

	/* Find it, or the slot to take over. */
	uint32_t slot = (uint32_t)(((uint64_t)pick * r->n) >> 32);
	unsigned probes = r->n < PROBES ? r->n : PROBES;
	struct rrl_bucket *b = NULL, *victim = NULL;
	for (unsigned i = 0; i < probes; i++) {
		struct rrl_bucket *c = &r->b[slot];
		if (c->fp == fp) {
			b = c;
			break;
		}
		if (!victim || (victim->fp != 0 && (c->fp == 0 || c->tat < victim->tat)))
			victim = c;
		if (++slot == r->n)
			slot = 0;
	}
	uint64_t now = now_ms * 1000u;
	if (!b) {
		b = victim;
		if (b->fp != 0 && b->tat > now)
			r->stats.evicted++;
		b->fp = fp;
		b->tat = now;
		b->slips = 0;
	}

	/* Charge the response. */
	uint64_t tat = b->tat > now ? b->tat : now;
	tat += r->interval;
	if (tat - now <= r->depth) {
		b->tat = tat;
		r->stats.sent++;
		return RRL_SEND;
	}
	if (tat - now <= r->cap)
		b->tat = tat; /* else the debt is full: it stays as it is */
	if (r->slip != 0 && ++b->slips >= r->slip) {
		b->slips = 0;
		r->stats.slipped++;
		return RRL_SLIP;
	}
	r->stats.dropped++;
	return RRL_DROP;
}
