/* NSEC3 hashing. */
#include "nsec3.h"

#include <string.h>

#include "name.h"

int nsec3_hash(const struct nsec3_params *p, const uint8_t *name, uint8_t out[SHA1_LEN])
{
	uint8_t buf[NAME_MAXLEN + 255];
	size_t n = name_len(name);
	if (p->alg != 1 || p->iterations > NSEC3_MAX_ITERATIONS || n > NAME_MAXLEN)
		return -1;
	/* IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(k-1) || salt),
	 * x in canonical (lower case) form. */
	memcpy(buf, name, n);
	name_lower(buf);
	memcpy(buf + n, p->salt, p->salt_len);
	if (sha1_digest(buf, n + p->salt_len, out) < 0)
		return -1;
	for (unsigned i = 0; i < p->iterations; i++) {
		memcpy(buf, out, SHA1_LEN);
		memcpy(buf + SHA1_LEN, p->salt, p->salt_len);
		if (sha1_digest(buf, SHA1_LEN + p->salt_len, out) < 0)
			return -1;
	}
	return 0;
}

static const char b32[] = "0123456789abcdefghijklmnopqrstuv";

void nsec3_b32(const uint8_t hash[SHA1_LEN], char out[32])
{
	/* 20 octets are 160 bits: 32 digits of 5 bits, no padding. */
	for (unsigned i = 0; i < 32; i++) {
		unsigned bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)hash[byte] << 8 | (byte + 1 < SHA1_LEN ? hash[byte + 1] : 0);
		out[i] = b32[(v >> (11 - shift)) & 31];
	}
}

int nsec3_unb32(const uint8_t *label, size_t len, uint8_t hash[SHA1_LEN])
{
	if (len != 32)
		return -1;
	memset(hash, 0, SHA1_LEN);
	for (unsigned i = 0; i < 32; i++) {
		uint8_t c = label[i];
		unsigned v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'v')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'V')
			v = c - 'A' + 10;
		else
			return -1;
		unsigned bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned w = v << (11 - shift);
		hash[byte] |= (uint8_t)(w >> 8);
		if (byte + 1 < SHA1_LEN)
			hash[byte + 1] |= (uint8_t)w;
	}
	return 0;
}

int nsec3_params_parse(const uint8_t *rdata, size_t len, struct nsec3_params *out)
{
	/* Hash algorithm, flags, iterations, salt length, salt. */
	if (len < 5 || len < 5u + rdata[4])
		return -1;
	out->alg = rdata[0];
	out->iterations = (uint16_t)((rdata[2] << 8) | rdata[3]);
	out->salt_len = rdata[4];
	memcpy(out->salt, rdata + 5, out->salt_len);
	return 0;
}
