/* The refresh state machine (RFC 1034 4.3.5, RFC 1996) and the serial
 * arithmetic of RFC 1982. */
#include <string.h>

#include "core/name.h"
#include "core/refresh.h"
#include "core/rrtype.h"
#include "core/serial.h"
#include "core/xfr.h"
#include "test.h"

#define S 1000u /* ms */

void test_refresh(void);
void test_refresh(void)
{
	/* RFC 1982: wrap-around, and the undefined pair is not newer. */
	CHECK(serial_newer(2, 1));
	CHECK(!serial_newer(1, 2));
	CHECK(!serial_newer(5, 5));
	CHECK(serial_newer(0, 0xFFFFFFFFu));
	CHECK(serial_newer(10, 0xFFFFFFF0u));
	CHECK(!serial_newer(0xFFFFFFF0u, 10));
	CHECK(!serial_newer(0x80000000u, 0));
	CHECK(!serial_newer(0, 0x80000000u));
	CHECK(serial_newer(0x7FFFFFFFu, 0));

	struct refresh r;
	uint64_t t = 1000000;
	refresh_init(&r, 2, t, 42);

	/* Nothing loaded: transfer at once, from primary 0. */
	CHECK(refresh_due(&r, t));
	CHECK_EQ(refresh_poll(&r, t), RA_TRANSFER);
	CHECK_EQ(r.primary, 0);
	CHECK(!refresh_due(&r, t)); /* busy */
	CHECK_EQ(refresh_poll(&r, t), RA_NONE);
	/* It fails: the next primary at once, then both failed: back off. */
	refresh_xfr_done(&r, t, 0, 0, 0, 0);
	CHECK_EQ(r.primary, 1);
	CHECK(refresh_due(&r, t));
	CHECK_EQ(refresh_poll(&r, t), RA_TRANSFER);
	refresh_xfr_done(&r, t, 0, 0, 0, 0);
	CHECK(!refresh_due(&r, t));
	CHECK(refresh_deadline(&r, 0) > t);
	CHECK(!refresh_expired(&r, t + 1000 * S)); /* nothing to expire */

	/* Loaded: the next check at REFRESH, a little earlier (jitter). */
	t = refresh_deadline(&r, 0);
	CHECK_EQ(refresh_poll(&r, t), RA_TRANSFER);
	refresh_xfr_done(&r, t, 1, 100, 20, 500);
	CHECK(r.loaded);
	uint64_t d = refresh_deadline(&r, 0);
	CHECK(d <= t + 100 * S && d >= t + 90 * S);
	CHECK(!refresh_due(&r, t + 89 * S));
	CHECK(refresh_due(&r, t + 100 * S));
	/* The check finds the same serial: success, expiry pushed on. */
	t += 100 * S;
	CHECK_EQ(refresh_poll(&r, t), RA_QUERY_SOA);
	CHECK_EQ(refresh_soa_done(&r, t, 1, 7, 7), RA_NONE);
	CHECK(!r.busy);
	CHECK(!refresh_expired(&r, t + 499 * S));
	CHECK(refresh_expired(&r, t + 500 * S));
	/* A newer serial (wrapping) means a transfer, still busy. */
	t = refresh_deadline(&r, 0);
	CHECK_EQ(refresh_poll(&r, t), RA_QUERY_SOA);
	CHECK_EQ(refresh_soa_done(&r, t, 1, 3, 0xFFFFFFFEu), RA_TRANSFER);
	CHECK(r.busy);
	refresh_xfr_done(&r, t, 1, 100, 20, 500);
	/* An older serial is not followed. */
	t = refresh_deadline(&r, 0);
	CHECK_EQ(refresh_poll(&r, t), RA_QUERY_SOA);
	CHECK_EQ(refresh_soa_done(&r, t, 1, 2, 3), RA_NONE);

	/* Failures retry every RETRY, then EXPIRE passes: expired. */
	uint64_t ok_at = t;
	for (int i = 0; i < 100 && !refresh_expired(&r, t); i++) {
		t = refresh_deadline(&r, 0);
		if (refresh_expired(&r, t))
			break;
		CHECK_EQ(refresh_poll(&r, t), RA_QUERY_SOA);
		refresh_soa_done(&r, t, 0, 0, 0);
		CHECK(refresh_deadline(&r, 0) - t <= 20 * S);
	}
	CHECK(refresh_expired(&r, ok_at + 500 * S));
	/* Expired (at t): the next deadline is the next check, never the
	 * expiry now past, which a timer would take again and again. */
	CHECK(refresh_expired(&r, t));
	CHECK(refresh_deadline(&r, t) > t);
	CHECK_EQ(refresh_deadline(&r, t), r.next);
	CHECK(refresh_deadline(&r, t + 1) > t + 1);
	/* A success brings it back. */
	t = refresh_deadline(&r, 0);
	refresh_poll(&r, t);
	refresh_soa_done(&r, t, 1, 3, 3);
	CHECK(!refresh_expired(&r, t));

	/* NOTIFY: now, from the primary that sent it; during a check, again
	 * right after it. */
	refresh_notify(&r, t + 5, 1);
	CHECK(refresh_due(&r, t + 5));
	CHECK_EQ(r.primary, 1);
	CHECK_EQ(refresh_poll(&r, t + 5), RA_QUERY_SOA);
	refresh_notify(&r, t + 6, 0);
	CHECK(r.pending);
	refresh_soa_done(&r, t + 7, 1, 3, 3);
	CHECK(refresh_due(&r, t + 7));

	/* Operator bounds clamp the SOA's timers. */
	refresh_init(&r, 1, 0, 7);
	refresh_bounds(&r, 60, 3600, 30, 600, 7200, 86400);
	refresh_poll(&r, 0);
	refresh_xfr_done(&r, 0, 1, 5, 1, 100);
	CHECK_EQ(r.refresh, 60);
	CHECK_EQ(r.retry, 30);
	CHECK_EQ(r.expire, 7200);
	refresh_poll(&r, refresh_deadline(&r, 0));
	refresh_xfr_done(&r, 0, 1, 999999, 999999, 99999999);
	CHECK_EQ(r.refresh, 3600);
	CHECK_EQ(r.retry, 600);
	CHECK_EQ(r.expire, 86400);

	/* Jitter spreads zones loaded together. */
	uint64_t lo = UINT64_MAX, hi = 0;
	for (uint32_t seed = 1; seed < 50; seed++) {
		refresh_init(&r, 1, 0, seed * 2654435761u);
		refresh_poll(&r, 0);
		refresh_xfr_done(&r, 0, 1, 1000, 100, 10000);
		uint64_t dd = refresh_deadline(&r, 0);
		lo = dd < lo ? dd : lo;
		hi = dd > hi ? dd : hi;
	}
	CHECK(hi - lo > 10 * S);
	CHECK(lo >= 900 * S && hi <= 1000 * S);

	/* Our SOA query's answer. */
	uint8_t apex[NAME_MAXLEN], msg[512];
	uint32_t serial = 0;
	name_from_text("example.com", apex);
	size_t n = xfr_make_query(msg, sizeof(msg), 0x4242, apex, T_SOA);
	static const uint8_t soa[] = {
		0xC0, 0x0C, 0, 6, 0, 1, 0, 0, 0x0E, 0x10, 0, 25,
		1, 'a', 0, 0xC0, 0x0C, 0, 0, 0, 77, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
	};
	msg[2] = 0x84; /* QR AA */
	msg[7] = 1;
	memcpy(msg + n, soa, sizeof(soa));
	CHECK_EQ(refresh_parse_soa(msg, n + sizeof(soa), 0x4242, apex, &serial), 0);
	CHECK_EQ(serial, 77);
	CHECK_EQ(refresh_parse_soa(msg, n + sizeof(soa), 0x4243, apex, &serial), -1);
	CHECK_EQ(refresh_parse_soa(msg, n + sizeof(soa) - 1, 0x4242, apex, &serial), -1);
	msg[3] = 5; /* REFUSED */
	CHECK_EQ(refresh_parse_soa(msg, n + sizeof(soa), 0x4242, apex, &serial), -1);
	msg[3] = 0;
	msg[2] |= 0x02; /* TC */
	CHECK_EQ(refresh_parse_soa(msg, n + sizeof(soa), 0x4242, apex, &serial), -1);
}
