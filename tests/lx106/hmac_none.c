/* The HMAC half of src/core/hmac.h for the lx106 test build, which has
 * none: the host build takes it from OpenSSL (src/platform/posix/
 * hmac_openssl.c), and nothing like it is built for the lx106.  The TSIG
 * tests are left out of this build (-DTEST_NO_TSIG), but query.c and xfr.c
 * still link tsig.c, so the symbols must exist.  None of them may be
 * reached: each one ends the run with abort(), naming itself, so a test
 * that gets here fails loudly instead of passing on a made-up MAC.
 * (SHA-1, the other half, is in sha1.c.)
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/hmac.h"

static void unavailable(const char *what) __attribute__((noreturn));
static void unavailable(const char *what)
{
	fprintf(stderr, "lx106: %s() called, but this build has no HMAC\n", what);
	abort();
}

struct hmac_ctx *hmac_new(enum hmac_alg alg, const uint8_t *key, size_t key_len)
{
	(void)alg;
	(void)key;
	(void)key_len;
	unavailable("hmac_new");
}

struct hmac_ctx *hmac_dup(const struct hmac_ctx *ctx)
{
	(void)ctx;
	unavailable("hmac_dup");
}

void hmac_update(struct hmac_ctx *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	unavailable("hmac_update");
}

size_t hmac_final(struct hmac_ctx *ctx, uint8_t *out)
{
	(void)ctx;
	(void)out;
	unavailable("hmac_final");
}

/* Freeing nothing is not a use of HMAC (tsig.c frees contexts it may never
 * have made). */
void hmac_free(struct hmac_ctx *ctx)
{
	if (ctx)
		unavailable("hmac_free");
}

size_t hmac_len(enum hmac_alg alg)
{
	(void)alg;
	unavailable("hmac_len");
}
