/* Shared by the libFuzzer harnesses: loading the captured transfers of
 * tests/data, the fixed TSIG keys of the test vectors, and the checks a
 * response of query_process() must pass whatever the query was.
 *
 * Every check that fails calls fuzz_fail(), which prints what was wrong
 * and aborts: libFuzzer then saves the input as a crash. */
#ifndef ICBIND_FUZZ_COMMON_H
#define ICBIND_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/name.h"
#include "core/query.h"
#include "core/rrtype.h"
#include "core/tsig.h"
#include "core/wire.h"
#include "core/xfr.h"
#include "core/zone.h"
#include "core/zonebuilder.h"

#ifndef FUZZ_DATA_DIR
#define FUZZ_DATA_DIR "tests/data"
#endif

#define FUZZ_UNUSED __attribute__((unused))

#define FUZZ_CHECK(cond, ...)                                                      \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: invariant violated: %s: ", __FILE__, \
				__LINE__, #cond);                                  \
			fprintf(stderr, __VA_ARGS__);                              \
			fputc('\n', stderr);                                       \
			abort();                                                   \
		}                                                                  \
	} while (0)

/* FUZZ_IGNORE="name,name" in the environment turns off the named checks,
 * to fuzz on past a finding that is known but not fixed yet; every
 * check is on by default (and in `make fuzz-ci`). */
static FUZZ_UNUSED int fuzz_ignored(const char *name)
{
	static const char *list;
	static int read;
	if (!read) {
		list = getenv("FUZZ_IGNORE");
		read = 1;
	}
	if (!list)
		return 0;
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return 1;
	return 0;
}

/* ---- test data ------------------------------------------------------ */

/* The file tests/data/NAME (ICBIND_DATA_DIR overrides the directory the
 * harness was built with); exits if it is not there, since every input
 * would be meaningless without it. */
static FUZZ_UNUSED uint8_t *fuzz_read_data(const char *name, size_t *len)
{
	const char *dir = getenv("ICBIND_DATA_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : FUZZ_DATA_DIR, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz: cannot open %s (set ICBIND_DATA_DIR)\n", path);
		exit(2);
	}
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return buf;
}

static FUZZ_UNUSED int fuzz_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "FIELD SET HEX" from a tests/data/tsig .txt file; the length, or 0. */
static FUZZ_UNUSED size_t fuzz_vector(const char *file, const char *field, const char *set, uint8_t *out,
			  size_t cap)
{
	size_t len;
	char *txt = (char *)fuzz_read_data(file, &len);
	txt = realloc(txt, len + 1);
	txt[len] = 0;
	size_t n = 0;
	char want[128];
	snprintf(want, sizeof(want), "%s %s ", field, set);
	for (char *line = txt; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (strncmp(line, want, strlen(want)) == 0) {
			const char *h = line + strlen(want);
			while (fuzz_hexval(h[0]) >= 0 && fuzz_hexval(h[1]) >= 0 && n < cap) {
				out[n++] = (uint8_t)(fuzz_hexval(h[0]) * 16 + fuzz_hexval(h[1]));
				h += 2;
			}
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(txt);
	return n;
}

/* A decimal field of a vector file ("now knot 1796053952"). */
static FUZZ_UNUSED uint64_t fuzz_vector_num(const char *file, const char *field, const char *set)
{
	size_t len;
	char *txt = (char *)fuzz_read_data(file, &len);
	txt = realloc(txt, len + 1);
	txt[len] = 0;
	char want[128];
	snprintf(want, sizeof(want), "\n%s %s ", field, set);
	char *p = strstr(txt, want);
	uint64_t v = p ? strtoull(p + strlen(want), NULL, 10) : 0;
	free(txt);
	return v;
}

/* ---- TSIG keys ------------------------------------------------------ */

/* The keys of tests/data/tsig (dnspython's six algorithms and its "multi"
 * key, Knot's transfer key), plus "xfr-key" (hmac-sha256, secret
 * "0123456789abcdef", as in tests/unit/test_answer.c) and a key with a
 * truncation policy ("trunc.key.test.", hmac-sha256, the same secret,
 * MACs of fewer than 32 octets refused). */
enum { FK_MD5, FK_SHA1, FK_SHA224, FK_SHA256, FK_SHA384, FK_SHA512, FK_MULTI, FK_KNOT,
       FK_XFR, FK_TRUNC, FK_N };
static struct tsig_key fuzz_keys[FK_N];
static const char *const fuzz_key_sets[FK_N] = {
	"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512",
	"multi", "knot", NULL, NULL,
};

static FUZZ_UNUSED void fuzz_keys_init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	static const enum hmac_alg algs[FK_N] = {
		HMAC_MD5, HMAC_SHA1, HMAC_SHA224, HMAC_SHA256, HMAC_SHA384, HMAC_SHA512,
		HMAC_SHA256, HMAC_SHA256, HMAC_SHA256, HMAC_SHA256,
	};
	for (int i = 0; i < FK_N; i++) {
		struct tsig_key *k = &fuzz_keys[i];
		memset(k, 0, sizeof(*k));
		k->alg = algs[i];
		const char *file = i == FK_KNOT ? "tsig-knot.txt" : "tsig/dnspython.txt";
		if (fuzz_key_sets[i]) {
			size_t n = fuzz_vector(file, "keyname", fuzz_key_sets[i], k->name,
					       sizeof(k->name));
			k->secret_len = fuzz_vector(file, "secret", fuzz_key_sets[i], k->secret,
						    sizeof(k->secret));
			if (n == 0 || k->secret_len == 0 || name_check(k->name, n) < 0) {
				fprintf(stderr, "fuzz: key %s missing from %s\n",
					fuzz_key_sets[i], file);
				exit(2);
			}
		} else {
			name_from_text(i == FK_XFR ? "xfr-key" : "trunc.key.test", k->name);
			memcpy(k->secret, "0123456789abcdef", 16);
			k->secret_len = 16;
			if (i == FK_TRUNC)
				k->min_mac_len = 32;
		}
		name_lower(k->name);
	}
}

/* ---- transfers ------------------------------------------------------ */

/* Parse a whole captured transfer (the .axfr format of tests/data) into
 * a zone; exits on failure (the captures are known good). */
static FUZZ_UNUSED struct zone *fuzz_load_axfr(const char *file, const char *apex_text, uint16_t id,
				   const struct tsig_key *key, const uint8_t *req_mac,
				   size_t req_mac_len, uint64_t now)
{
	size_t len;
	uint8_t *stream = fuzz_read_data(file, &len);
	uint8_t apex[NAME_MAXLEN];
	name_from_text(apex_text, apex);
	struct zone_builder zb;
	struct xfr_parser *p = calloc(1, sizeof(*p));
	struct tsig_stream ts;
	zb_init(&zb, apex, 0);
	xfr_init(p, apex, id, &zb, 0);
	if (key) {
		tsig_stream_init(&ts, key, req_mac, req_mac_len);
		xfr_set_tsig(p, &ts, now);
	}
	int rc = xfr_feed(p, stream, len);
	if (rc == XFR_MORE)
		rc = xfr_end(p);
	struct zone *z = NULL;
	if (rc != XFR_DONE || zb_finish(&zb, &z) < 0) {
		fprintf(stderr, "fuzz: cannot load %s: %s %s\n", file, p->err, zb.err ? zb.err : "");
		exit(2);
	}
	if (key)
		tsig_stream_free(&ts);
	zb_free(&zb);
	xfr_free(p);
	free(p);
	free(stream);
	return z;
}

/* ---- responses ------------------------------------------------------ */

/* What a message holds, as far as the checks need it. */
struct fuzz_msg {
	int ok;                   /* parsed to its end, nothing left over */
	uint16_t id, flags, qd, an, ns, ar;
	uint8_t qname[NAME_MAXLEN];
	uint16_t qtype, qclass;
	int have_q;               /* first question parsed */
	int n_opt;                /* OPT records in the additional section */
	uint16_t opt_class;       /* of the first one */
	int tsig_at;              /* index (from 0 over an+ns+ar) of a TSIG, or -1 */
	int opt_misplaced;        /* an OPT outside the additional section */
	int ptr_header;           /* a question or owner name points into the header */
};

/* Does the (already parsed) name at pos use a compression pointer into
 * the 12-octet header?  Such a name reads differently once a count
 * changes (signing adds one to ARCOUNT). */
static FUZZ_UNUSED int fuzz_ptr_into_header(const uint8_t *m, size_t len, size_t pos)
{
	for (int hops = 0; pos < len && hops < 128; hops++) {
		uint8_t l = m[pos];
		if (l == 0)
			return 0;
		if ((l & 0xC0) == 0xC0) {
			if (pos + 1 >= len)
				return 0;
			pos = (size_t)((l & 0x3F) << 8 | m[pos + 1]);
			if (pos < 12)
				return 1;
			continue;
		}
		pos += 1 + (size_t)l;
	}
	return 0;
}

static FUZZ_UNUSED void fuzz_parse_msg(const uint8_t *m, size_t len, struct fuzz_msg *out)
{
	struct cursor c;
	uint8_t n[NAME_MAXLEN];
	memset(out, 0, sizeof(*out));
	out->tsig_at = -1;
	cur_init(&c, m, len);
	out->id = cur_u16(&c);
	out->flags = cur_u16(&c);
	out->qd = cur_u16(&c);
	out->an = cur_u16(&c);
	out->ns = cur_u16(&c);
	out->ar = cur_u16(&c);
	if (c.err)
		return;
	for (unsigned i = 0; i < out->qd; i++) {
		out->ptr_header |= fuzz_ptr_into_header(m, len, c.pos);
		if (name_parse(&c, i == 0 ? out->qname : n, 1) < 0)
			return;
		uint16_t t = cur_u16(&c), k = cur_u16(&c);
		if (c.err)
			return;
		if (i == 0) {
			out->qtype = t;
			out->qclass = k;
			out->have_q = 1;
		}
	}
	unsigned total = (unsigned)out->an + out->ns + out->ar;
	for (unsigned i = 0; i < total; i++) {
		out->ptr_header |= fuzz_ptr_into_header(m, len, c.pos);
		if (name_parse(&c, n, 1) < 0)
			return;
		uint16_t type = cur_u16(&c), cls = cur_u16(&c);
		cur_u32(&c);
		uint16_t rdlen = cur_u16(&c);
		cur_skip(&c, rdlen);
		if (c.err)
			return;
		if (type == T_OPT) {
			if (i < (unsigned)out->an + out->ns)
				out->opt_misplaced = 1;
			else if (out->n_opt++ == 0)
				out->opt_class = cls;
		}
		if (type == T_TSIG && out->tsig_at < 0)
			out->tsig_at = (int)i;
	}
	out->ok = c.pos == len;
}

/* The invariants of a response r[0..rlen) to the query q[0..qlen) that
 * query_process() wrote into a buffer of cap octets. */
static FUZZ_UNUSED void fuzz_check_response(const struct catalog *cat, const uint8_t *q, size_t qlen,
				const uint8_t *r, size_t rlen, size_t cap,
				const struct query_env *env, const struct query_result *res)
{
	FUZZ_CHECK(rlen <= cap, "length %zu, buffer %zu", rlen, cap);
	if (qlen < 12 || (q[2] & 0x80)) {
		FUZZ_CHECK(rlen == 0, "answered a message without header or a response (%zu)",
			   rlen);
		return;
	}
	if (rlen == 0 && fuzz_ignored("noanswer"))
		return;
	FUZZ_CHECK(rlen > 0, "a query with a header got no answer (rcode %u, tsig %d)",
		   res->rcode, res->tsig);

	struct fuzz_msg qm, rm;
	fuzz_parse_msg(q, qlen, &qm);
	fuzz_parse_msg(r, rlen, &rm);
	FUZZ_CHECK(rm.ok, "the response does not parse (%zu octets)", rlen);
	FUZZ_CHECK(rm.id == get16(q), "ID %04x, the query's %04x", rm.id, get16(q));
	FUZZ_CHECK(rm.flags & 0x8000, "QR clear");
	FUZZ_CHECK(((rm.flags >> 11) & 15) == ((get16(q + 2) >> 11) & 15), "opcode changed");
	FUZZ_CHECK(rm.qd <= 1, "QDCOUNT %u", rm.qd);
	FUZZ_CHECK(rm.n_opt <= 1 && !rm.opt_misplaced, "%d OPT records", rm.n_opt);
	FUZZ_CHECK(rm.tsig_at < 0 || rm.tsig_at == rm.an + rm.ns + rm.ar - 1,
		   "TSIG not the last record");
	if (rm.qd == 1) {
		/* The question as asked: the query's first one, case kept. */
		struct cursor c;
		uint8_t qn[NAME_MAXLEN];
		cur_init(&c, q, qlen);
		c.pos = 12;
		int l = name_parse(&c, qn, 1);
		FUZZ_CHECK(l > 0 && name_len(rm.qname) == (size_t)l &&
				   memcmp(qn, rm.qname, (size_t)l) == 0,
			   "question name differs from the query's");
		FUZZ_CHECK(rm.qtype == get16(q + c.pos) && rm.qclass == get16(q + c.pos + 2),
			   "question type/class differ");
	}

	/* The size: 512 without EDNS over UDP (RFC 1035 4.2.1), else the
	 * smaller of the client's EDNS size and ours, never under 512. */
	size_t limit = 65535;
	if (env->transport == TRANSPORT_UDP) {
		limit = 512;
		if (rm.n_opt) {
			FUZZ_CHECK(qm.n_opt >= 1, "an OPT in the answer to a query without one");
			size_t want = qm.opt_class < env->udp_max ? qm.opt_class : env->udp_max;
			if (want > limit)
				limit = want;
		}
	} else {
		FUZZ_CHECK(!(rm.flags & 0x0200), "TC set over TCP");
	}
	FUZZ_CHECK(rlen <= limit, "%zu octets over %s, limit %zu (EDNS %s, tsig %d)", rlen,
		   env->transport == TRANSPORT_UDP ? "UDP" : "TCP", limit,
		   rm.n_opt ? "yes" : "no", res->tsig);

	if (res->action == QA_NOTIFY)
		FUZZ_CHECK((rm.flags & 15) == 0 && ((rm.flags >> 11) & 15) == 4,
			   "accepted NOTIFY without a NOERROR NOTIFY answer");

	/* A query signed with a key we know gets an answer that verifies
	 * with that key and the query's MAC (RFC 8945 5.3). */
	if (res->tsig == TSIG_OK) {
		struct tsig_rr qt, rt;
		size_t start;
		FUZZ_CHECK(tsig_find(q, qlen, &qt, &start) == TSIG_OK && res->key,
			   "TSIG_OK without a TSIG or a key");
		const struct tsig_key *used = NULL;
		int v = tsig_verify(r, rlen, cat->keys, cat->n_keys, env->now, qt.mac, qt.mac_len,
				    &rt, &used);
		FUZZ_CHECK(v == TSIG_OK && used == res->key,
			   "the answer to a signed query does not verify: %s", tsig_strerror(v));
	}
}

#endif
