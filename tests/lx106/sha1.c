/* sha1_digest() (src/core/hmac.h) for the lx106 test build.
 *
 * The core hashes NSEC3 owner names with SHA-1 (RFC 5155) and leaves the
 * hash to the platform.  The host build takes it from OpenSSL; on the
 * ESP8266 the mask ROM has one (SHA1Init 0x4000b584, SHA1Update 0x4000b5a8,
 * SHA1Final 0x4000b648), just as it has the division helpers.  QEMU has no
 * ROM, so, like libgcc_fill.c, this file stands in for it, in the QEMU
 * test build only: firmware takes the ROM's, and the product never uses
 * this code.
 *
 * It is SHA-1 as FIPS 180-4 6.1 gives it, nothing more.  It cannot make a
 * test pass that should fail: the tests compare its hashes with RFC 5155's
 * examples and with the NSEC3 chains Knot DNS signed (tests/data), so a
 * wrong hash fails them.
 */
#include <string.h>

#include "core/hmac.h"

static uint32_t rol(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

static void block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80];
	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
		       (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
	for (int t = 16; t < 80; t++)
		w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int t = 0; t < 80; t++) {
		uint32_t f, k;
		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6;
		}
		uint32_t x = rol(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = x;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

int sha1_digest(const void *data, size_t len, uint8_t out[SHA1_LEN])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	const uint8_t *p = data;
	size_t left = len;
	for (; left >= 64; left -= 64, p += 64)
		block(h, p);
	/* The tail, 0x80, zeros, and the length in bits (64-bit, big-endian):
	 * one block, or two when fewer than 9 octets remain in the first. */
	uint8_t tail[128] = { 0 };
	memcpy(tail, p, left);
	tail[left] = 0x80;
	size_t n = left < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		tail[n - 1 - i] = (uint8_t)(bits >> (8 * i));
	block(h, tail);
	if (n == 128)
		block(h, tail + 64);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
	return 0;
}
