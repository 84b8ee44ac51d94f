/* The crypto the core needs: HMAC (RFC 2104) over the hash functions of
 * TSIG (RFC 8945 6), and SHA-1 for NSEC3 (RFC 5155).  The core only calls these; each platform
 * supplies them from a well-kept library (POSIX: OpenSSL's libcrypto, in
 * src/platform/posix/hmac_openssl.c), so no hash is written by hand. */
#ifndef ICBIND_HMAC_H
#define ICBIND_HMAC_H

#include <stddef.h>
#include <stdint.h>

enum hmac_alg {
	HMAC_NONE = 0,
	HMAC_MD5,
	HMAC_SHA1,
	HMAC_SHA224,
	HMAC_SHA256,
	HMAC_SHA384,
	HMAC_SHA512,
};

#define HMAC_MAX_LEN 64 /* SHA-512 */

struct hmac_ctx; /* the platform's */

/* NULL if the algorithm is unavailable or memory ran out. */
struct hmac_ctx *hmac_new(enum hmac_alg alg, const uint8_t *key, size_t key_len);
/* A copy of the state so far (to try two endings of one message). */
struct hmac_ctx *hmac_dup(const struct hmac_ctx *ctx);
void hmac_update(struct hmac_ctx *ctx, const void *data, size_t len);
/* Write the MAC (hmac_len() octets) and free the context. */
size_t hmac_final(struct hmac_ctx *ctx, uint8_t *out);
void hmac_free(struct hmac_ctx *ctx);
size_t hmac_len(enum hmac_alg alg);

/* SHA-1 of one buffer (NSEC3 hashing, RFC 5155 5); 0 or -1. */
#define SHA1_LEN 20
int sha1_digest(const void *data, size_t len, uint8_t out[SHA1_LEN]);

#endif
