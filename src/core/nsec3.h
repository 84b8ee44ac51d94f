/* NSEC3 hashing (RFC 5155 5) and the base32hex form of hashes (RFC 4648 7)
 * that NSEC3 owner names use. */
#ifndef ICBIND_NSEC3_H
#define ICBIND_NSEC3_H

#include <stddef.h>
#include <stdint.h>

#include "hmac.h"
#include "limits.h"

/* NSEC3_MAX_ITERATIONS (limits.h): RFC 9276 asks for 0 extra iterations;
 * more than the limit is refused as a cost an attacker could make us pay
 * per query. */

struct nsec3_params {
	uint8_t alg;         /* 1: SHA-1, the only one defined */
	uint16_t iterations;
	uint8_t salt_len;
	uint8_t salt[255];
};

/* Hash a wire name (compared lower case); 0 or -1. */
int nsec3_hash(const struct nsec3_params *p, const uint8_t *name, uint8_t out[SHA1_LEN]);

/* A 32-character base32hex label from 20 octets (lower case, as keys are). */
void nsec3_b32(const uint8_t hash[SHA1_LEN], char out[32]);
/* Back; 0, or -1 if label is not the base32hex of 20 octets. */
int nsec3_unb32(const uint8_t *label, size_t len, uint8_t hash[SHA1_LEN]);

/* Parse NSEC3 or NSEC3PARAM RDATA's hash parameters; 0 or -1. */
int nsec3_params_parse(const uint8_t *rdata, size_t len, struct nsec3_params *out);

#endif
