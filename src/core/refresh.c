/* The refresh state machine. */
#include "refresh.h"

#include "name.h"
#include "rrtype.h"
#include "serial.h"
#include "wire.h"

#define MS 1000u
#define FIRST_BACKOFF 2u  /* seconds, doubling, before a first version */
#define MAX_BACKOFF 300u

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* A delay of `seconds`, shortened by up to a tenth at random so that zones
 * loaded together do not all come due together. */
static uint64_t jittered(struct refresh *r, uint32_t seconds)
{
	uint64_t ms = (uint64_t)seconds * MS;
	uint32_t span = (uint32_t)(ms / 10 > 0xFFFFFFFFu ? 0xFFFFFFFFu : ms / 10);
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 17;
	r->rng ^= r->rng << 5;
	return span ? ms - r->rng % span : ms;
}

void refresh_bounds(struct refresh *r, uint32_t min_refresh, uint32_t max_refresh,
		    uint32_t min_retry, uint32_t max_retry, uint32_t min_expire,
		    uint32_t max_expire)
{
	r->min_refresh = min_refresh;
	r->max_refresh = max_refresh;
	r->min_retry = min_retry;
	r->max_retry = max_retry;
	r->min_expire = min_expire;
	r->max_expire = max_expire;
}

void refresh_init(struct refresh *r, unsigned n_primary, uint64_t now, uint32_t seed)
{
	r->rng = seed ? seed : 0x9E3779B9u;
	refresh_bounds(r, 1, 86400, 1, 86400, 1, 2419200);
	r->busy = r->loaded = r->pending = 0;
	r->next = now;
	r->expire_at = 0;
	r->refresh = r->retry = r->expire = 0;
	r->backoff = FIRST_BACKOFF;
	r->n_primary = n_primary;
	r->primary = 0;
	r->tried = 0;
}

void refresh_restore(struct refresh *r, uint64_t now, uint32_t refresh, uint32_t retry,
		     uint32_t expire, uint64_t remaining_ms)
{
	r->refresh = clamp(refresh, r->min_refresh, r->max_refresh);
	r->retry = clamp(retry, r->min_retry, r->max_retry);
	r->expire = clamp(expire, r->min_expire, r->max_expire);
	r->loaded = 1;
	r->expire_at = now + remaining_ms;
	r->next = now;
}

int refresh_poll(struct refresh *r, uint64_t now)
{
	if (r->busy || now < r->next || r->n_primary == 0)
		return RA_NONE;
	r->busy = 1;
	r->pending = 0;
	/* Nothing served yet: no serial to compare, transfer at once. */
	return r->loaded ? RA_QUERY_SOA : RA_TRANSFER;
}

uint64_t refresh_deadline(const struct refresh *r, uint64_t now)
{
	uint64_t d = r->busy ? UINT64_MAX : r->next;
	/* Expiry is a moment to act on until it has passed; after it the
	 * zone stays expired until a check succeeds, and a deadline in the
	 * past would only wake the caller again and again. */
	if (r->loaded && r->expire_at > now && r->expire_at < d)
		d = r->expire_at;
	return d;
}

void refresh_notify(struct refresh *r, uint64_t now, int primary)
{
	if (r->busy) {
		r->pending = 1;
		return;
	}
	if (primary >= 0 && (unsigned)primary < r->n_primary)
		r->primary = (unsigned)primary; /* ask the one that notified first */
	r->tried = 0;
	r->next = now;
}

/* A round failed on this primary: the next one now, or all failed: retry. */
static void failed(struct refresh *r, uint64_t now)
{
	r->busy = 0;
	if (++r->tried < r->n_primary) {
		r->primary = (r->primary + 1) % r->n_primary;
		r->next = now;
		return;
	}
	r->tried = 0;
	r->primary = (r->primary + 1) % r->n_primary;
	if (r->loaded) {
		r->next = now + jittered(r, r->retry);
	} else {
		r->next = now + (uint64_t)r->backoff * MS;
		r->backoff = r->backoff * 2 > MAX_BACKOFF ? MAX_BACKOFF : r->backoff * 2;
	}
}

static void succeeded(struct refresh *r, uint64_t now)
{
	r->busy = 0;
	r->tried = 0;
	r->expire_at = now + (uint64_t)r->expire * MS;
	r->next = r->pending ? now : now + jittered(r, r->refresh);
	r->pending = 0;
}

int refresh_soa_done(struct refresh *r, uint64_t now, int ok, uint32_t serial,
		     uint32_t have_serial)
{
	if (!ok) {
		failed(r, now);
		return RA_NONE;
	}
	if (serial_newer(serial, have_serial))
		return RA_TRANSFER; /* still busy: the transfer follows */
	succeeded(r, now);
	return RA_NONE;
}

void refresh_xfr_done(struct refresh *r, uint64_t now, int ok, uint32_t refresh,
		      uint32_t retry, uint32_t expire)
{
	if (!ok) {
		failed(r, now);
		return;
	}
	r->refresh = clamp(refresh, r->min_refresh, r->max_refresh);
	r->retry = clamp(retry, r->min_retry, r->max_retry);
	r->expire = clamp(expire, r->min_expire, r->max_expire);
	r->loaded = 1;
	r->backoff = FIRST_BACKOFF;
	succeeded(r, now);
}

int refresh_parse_soa(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *apex,
		      uint32_t *serial)
{
	struct cursor c;
	uint8_t n[NAME_MAXLEN];
	cur_init(&c, msg, len);
	uint16_t rid = cur_u16(&c), flags = cur_u16(&c);
	uint16_t qd = cur_u16(&c), an = cur_u16(&c);
	cur_skip(&c, 4);
	if (c.err || rid != id || !(flags & 0x8000) || (flags & 0x7A0F) != 0 || qd != 1)
		return -1; /* not our answer, truncated, or an error rcode */
	if (name_parse(&c, n, 1) < 0 || !name_equal(n, apex) || cur_u16(&c) != T_SOA ||
	    cur_u16(&c) != C_IN)
		return -1;
	for (uint16_t i = 0; i < an; i++) {
		if (name_parse(&c, n, 1) < 0)
			return -1;
		uint16_t type = cur_u16(&c), rclass = cur_u16(&c);
		cur_u32(&c);
		uint16_t rdlen = cur_u16(&c);
		size_t end = c.pos + rdlen;
		if (c.err || end > len)
			return -1;
		if (type == T_SOA && rclass == C_IN && name_equal(n, apex)) {
			if (name_parse(&c, n, 1) < 0 || name_parse(&c, n, 1) < 0)
				return -1;
			*serial = cur_u32(&c);
			return c.err || c.pos + 16 != end ? -1 : 0;
		}
		c.pos = end;
	}
	return -1;
}
