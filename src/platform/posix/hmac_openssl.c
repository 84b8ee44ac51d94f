/* The core's HMAC interface (src/core/hmac.h) on OpenSSL 3's libcrypto:
 * the EVP_MAC "HMAC" implementation, no deprecated API. */
#include "../../core/hmac.h"

#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct hmac_ctx {
	EVP_MAC_CTX *mac;
	enum hmac_alg alg;
};

static const char *digest_name(enum hmac_alg alg)
{
	switch (alg) {
	case HMAC_MD5: return "MD5";
	case HMAC_SHA1: return "SHA1";
	case HMAC_SHA224: return "SHA224";
	case HMAC_SHA256: return "SHA256";
	case HMAC_SHA384: return "SHA384";
	case HMAC_SHA512: return "SHA512";
	default: return NULL;
	}
}

size_t hmac_len(enum hmac_alg alg)
{
	switch (alg) {
	case HMAC_MD5: return 16;
	case HMAC_SHA1: return 20;
	case HMAC_SHA224: return 28;
	case HMAC_SHA256: return 32;
	case HMAC_SHA384: return 48;
	case HMAC_SHA512: return 64;
	default: return 0;
	}
}

struct hmac_ctx *hmac_new(enum hmac_alg alg, const uint8_t *key, size_t key_len)
{
	static const uint8_t empty[1];
	const char *dn = digest_name(alg);
	if (!dn)
		return NULL;
	struct hmac_ctx *h = malloc(sizeof(*h));
	if (!h)
		return NULL;
	h->alg = alg;
	h->mac = NULL;
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (m) {
		h->mac = EVP_MAC_CTX_new(m);
		EVP_MAC_free(m); /* the context keeps its own reference */
	}
	if (!h->mac) {
		free(h);
		return NULL;
	}
	OSSL_PARAM params[2];
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)dn, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* A NULL key would mean "keep the old one": pass a real pointer even
	 * for an empty secret. */
	if (!EVP_MAC_init(h->mac, key_len ? key : empty, key_len, params)) {
		EVP_MAC_CTX_free(h->mac);
		free(h);
		return NULL;
	}
	return h;
}

struct hmac_ctx *hmac_dup(const struct hmac_ctx *ctx)
{
	if (!ctx)
		return NULL;
	struct hmac_ctx *h = malloc(sizeof(*h));
	if (!h)
		return NULL;
	h->alg = ctx->alg;
	h->mac = EVP_MAC_CTX_dup(ctx->mac);
	if (!h->mac) {
		free(h);
		return NULL;
	}
	return h;
}

void hmac_update(struct hmac_ctx *ctx, const void *data, size_t len)
{
	if (ctx && len)
		(void)EVP_MAC_update(ctx->mac, data, len);
}

size_t hmac_final(struct hmac_ctx *ctx, uint8_t *out)
{
	if (!ctx)
		return 0;
	size_t n = 0;
	if (!EVP_MAC_final(ctx->mac, out, &n, HMAC_MAX_LEN))
		n = 0;
	hmac_free(ctx);
	return n;
}

void hmac_free(struct hmac_ctx *ctx)
{
	if (!ctx)
		return;
	EVP_MAC_CTX_free(ctx->mac);
	free(ctx);
}

int sha1_digest(const void *data, size_t len, uint8_t out[SHA1_LEN])
{
	unsigned int n = 0;
	return EVP_Digest(data, len, out, &n, EVP_sha1(), NULL) == 1 && n == SHA1_LEN ? 0 : -1;
}
