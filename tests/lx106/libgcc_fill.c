/* Integer helpers that Debian's libgcc.a for the lx106 leaves out, for the
 * QEMU test build only.
 *
 * The lx106 has no divide instruction and no high half of a multiply, so
 * GCC calls a helper for every `/` and `%` (by a constant too) and for
 * 64-bit products.  The ESP8266's mask ROM carries these helpers, and the
 * SDKs link them at their ROM addresses (ESP8266_NONOS_SDK's
 * eagle.rom.addr.v6.ld: PROVIDE(__udivsi3 = 0x4000e21c) and so on), so
 * ESP8266 toolchains drop them from libgcc.a; Debian's gcc-xtensa-lx106
 * does too.  QEMU has no such ROM: this file stands in for it.
 *
 * Firmware must never link it: on the device the ROM has them.
 *
 * Only the integer set is here.  The soft-float routines are missing as
 * well, and stay missing: a float in the core then fails to link.
 *
 * Division by zero does not return: it ends the test run with a report
 * naming the caller (sys.c), where the ROM's routines would trap.
 */
#include <stdint.h>

void lx106_division_by_zero(const void *caller) __attribute__((noreturn));

uint32_t __udivsi3(uint32_t n, uint32_t d);
uint32_t __umodsi3(uint32_t n, uint32_t d);
int32_t __divsi3(int32_t n, int32_t d);
uint64_t __umulsidi3(uint32_t a, uint32_t b);
uint64_t __muldi3(uint64_t a, uint64_t b);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);

/* Still in Debian's libgcc.a (they are not in the ROM). */
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem);

/* Long division, one quotient bit per step, from the divisor's highest set
 * bit lined up under the dividend's.  NSAU makes __builtin_clz one
 * instruction on the lx106.  d is not zero. */
static uint32_t divide(uint32_t n, uint32_t d, uint32_t *rem)
{
	uint32_t q = 0;
	if (n >= d) {
		int shift = __builtin_clz(d) - __builtin_clz(n);
		d <<= shift;
		for (; shift >= 0; shift--) {
			q <<= 1;
			if (n >= d) {
				n -= d;
				q |= 1;
			}
			d >>= 1;
		}
	}
	*rem = n;
	return q;
}

uint32_t __udivsi3(uint32_t n, uint32_t d)
{
	uint32_t r;
	if (d == 0)
		lx106_division_by_zero(__builtin_return_address(0));
	return divide(n, d, &r);
}

uint32_t __umodsi3(uint32_t n, uint32_t d)
{
	uint32_t r;
	if (d == 0)
		lx106_division_by_zero(__builtin_return_address(0));
	divide(n, d, &r);
	return r;
}

/* C rounds towards zero: divide the magnitudes, then set the sign.
 * INT32_MIN / -1 overflows in C; here it gives INT32_MIN, as the ROM does. */
int32_t __divsi3(int32_t n, int32_t d)
{
	uint32_t un = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
	uint32_t ud = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
	uint32_t r, q;
	if (d == 0)
		lx106_division_by_zero(__builtin_return_address(0));
	q = divide(un, ud, &r);
	return (int32_t)((n < 0) != (d < 0) ? 0u - q : q);
}

/* 32 x 32 -> 64 from four 16 x 16 -> 32 products (MULL keeps only the low
 * 32 bits of a product). */
uint64_t __umulsidi3(uint32_t a, uint32_t b)
{
	uint32_t al = a & 0xFFFF, ah = a >> 16, bl = b & 0xFFFF, bh = b >> 16;
	uint32_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint32_t mid = (ll >> 16) + (lh & 0xFFFF) + (hl & 0xFFFF);
	uint32_t lo = (ll & 0xFFFF) | (mid << 16);
	uint32_t hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16);
	return (uint64_t)hi << 32 | lo;
}

/* The low 64 bits of a 64 x 64 product: the high halves only reach the
 * upper word. */
uint64_t __muldi3(uint64_t a, uint64_t b)
{
	uint32_t al = (uint32_t)a, ah = (uint32_t)(a >> 32);
	uint32_t bl = (uint32_t)b, bh = (uint32_t)(b >> 32);
	uint64_t p = __umulsidi3(al, bl);
	uint32_t hi = (uint32_t)(p >> 32) + al * bh + ah * bl;
	return (uint64_t)hi << 32 | (uint32_t)p;
}

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
	if (d == 0)
		lx106_division_by_zero(__builtin_return_address(0));
	return __udivmoddi4(n, d, 0);
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;
	if (d == 0)
		lx106_division_by_zero(__builtin_return_address(0));
	__udivmoddi4(n, d, &r);
	return r;
}

int64_t __divdi3(int64_t n, int64_t d)
{
	int64_t r;
	if (d == 0)
		lx106_division_by_zero(__builtin_return_address(0));
	return __divmoddi4(n, d, &r);
}
