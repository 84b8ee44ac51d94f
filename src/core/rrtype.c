/* The RR type table. */
#include "rrtype.h"

#include <stdio.h>

#include "name.h"

#define N RD_NAME_C
#define D RD_NAME_D
#define U RD_NAME_U
#define F RD_FIX

/* Sorted by type for the binary search. */
static const struct rrtype types[] = {
	{ 1, 0, { F(4) }, "A" },
	{ 2, RRT_ADDITIONAL, { N }, "NS" },
	{ 3, 0, { N }, "MD" },
	{ 4, 0, { N }, "MF" },
	{ 5, RRT_SINGLETON, { N }, "CNAME" },
	{ 6, RRT_SINGLETON, { N, N, F(20) }, "SOA" },
	{ 7, 0, { N }, "MB" },
	{ 8, 0, { N }, "MG" },
	{ 9, 0, { N }, "MR" },
	{ 10, 0, { RD_REST }, "NULL" },
	{ 11, 0, { F(5), RD_REST }, "WKS" },
	{ 12, 0, { N }, "PTR" },
	{ 13, 0, { RD_STR, RD_STR }, "HINFO" },
	{ 14, 0, { N, N }, "MINFO" },
	{ 15, RRT_ADDITIONAL, { F(2), N }, "MX" },
	{ 16, 0, { RD_STRS }, "TXT" },
	{ 17, 0, { D, D }, "RP" },
	{ 18, 0, { F(2), D }, "AFSDB" },
	{ 19, 0, { RD_STR }, "X25" },
	{ 20, 0, { RD_STRS }, "ISDN" },
	{ 21, 0, { F(2), D }, "RT" },
	{ 24, 0, { F(18), D, RD_REST }, "SIG" },
	{ 25, 0, { RD_REST }, "KEY" },
	{ 26, 0, { F(2), D, D }, "PX" },
	{ 28, 0, { F(16) }, "AAAA" },
	{ 29, 0, { RD_REST }, "LOC" },
	{ 30, 0, { D, RD_REST }, "NXT" },
	{ 33, RRT_ADDITIONAL, { F(6), D }, "SRV" },
	{ 35, 0, { F(4), RD_STR, RD_STR, RD_STR, D }, "NAPTR" },
	{ 36, 0, { F(2), D }, "KX" },
	{ 37, 0, { RD_REST }, "CERT" },
	{ 39, RRT_SINGLETON, { D }, "DNAME" },
	{ 41, RRT_META, { RD_REST }, "OPT" },
	{ 42, 0, { RD_REST }, "APL" },
	{ 43, 0, { F(4), RD_REST }, "DS" },
	{ 44, 0, { F(2), RD_REST }, "SSHFP" },
	{ 45, 0, { RD_REST }, "IPSECKEY" },
	{ 46, RRT_DNSSEC, { F(18), U, RD_REST }, "RRSIG" },
	{ 47, RRT_DNSSEC, { U, RD_REST }, "NSEC" },
	{ 48, RRT_DNSSEC, { F(4), RD_REST }, "DNSKEY" },
	{ 49, 0, { RD_REST }, "DHCID" },
	{ 50, RRT_DNSSEC, { F(5), RD_REST }, "NSEC3" },
	{ 51, RRT_DNSSEC, { F(5), RD_REST }, "NSEC3PARAM" },
	{ 52, 0, { F(3), RD_REST }, "TLSA" },
	{ 53, 0, { F(3), RD_REST }, "SMIMEA" },
	{ 55, 0, { RD_REST }, "HIP" },
	{ 59, RRT_DNSSEC, { F(4), RD_REST }, "CDS" },
	{ 60, RRT_DNSSEC, { F(4), RD_REST }, "CDNSKEY" },
	{ 61, 0, { RD_REST }, "OPENPGPKEY" },
	{ 62, 0, { F(6), RD_REST }, "CSYNC" },
	{ 63, 0, { F(6), RD_REST }, "ZONEMD" },
	/* RFC 9460 4.1: a target's addresses go in the additional section. */
	{ 64, RRT_ADDITIONAL, { F(2), U, RD_REST }, "SVCB" },
	{ 65, RRT_ADDITIONAL, { F(2), U, RD_REST }, "HTTPS" },
	{ 99, 0, { RD_STRS }, "SPF" },
	{ 104, 0, { F(10) }, "NID" },
	{ 105, 0, { F(6) }, "L32" },
	{ 106, 0, { F(10) }, "L64" },
	{ 107, 0, { F(2), U }, "LP" },
	{ 108, 0, { F(6) }, "EUI48" },
	{ 109, 0, { F(8) }, "EUI64" },
	{ 249, RRT_META, { RD_REST }, "TKEY" },
	{ 250, RRT_META, { RD_REST }, "TSIG" },
	{ 251, RRT_META, { RD_REST }, "IXFR" },
	{ 252, RRT_META, { RD_REST }, "AXFR" },
	{ 253, RRT_META, { RD_REST }, "MAILB" },
	{ 254, RRT_META, { RD_REST }, "MAILA" },
	{ 255, RRT_META, { RD_REST }, "ANY" },
	{ 256, 0, { F(4), RD_REST }, "URI" },
	{ 257, 0, { F(1), RD_STR, RD_REST }, "CAA" },
};

/* Where the types below 128 stand in types[] (255: unknown), so the
 * common ones are found without a search. */
static const uint8_t low_index[128] = {
	255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 255, 255, 21, 22, 23, 255, 24, 25, 26, 255,
	255, 27, 255, 28, 29, 30, 255, 31, 255, 32, 33, 34, 35, 36, 37, 38,
	39, 40, 41, 42, 43, 44, 255, 45, 255, 255, 255, 46, 47, 48, 49, 50,
	51, 52, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 53, 255, 255, 255, 255, 54, 55, 56, 57, 58, 59, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

static const struct rrtype unknown = { 0, 0, { RD_REST }, NULL };

const struct rrtype *rrtype_get(uint16_t type)
{
	if (type < 128)
		return low_index[type] != 255 ? &types[low_index[type]] : &unknown;
	size_t lo = 0, hi = sizeof(types) / sizeof(types[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (types[mid].type == type)
			return &types[mid];
		if (types[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Meta range of RFC 6895 section 3.1: 128-255 are question types. */
	if (type >= 128 && type <= 255) {
		static const struct rrtype meta = { 0, RRT_META, { RD_REST }, NULL };
		return &meta;
	}
	return &unknown;
}

int rrtype_check(const struct rrtype *d, const uint8_t *rdata, size_t len)
{
	size_t pos = 0;
	for (unsigned i = 0; i < sizeof(d->fields) && d->fields[i] != RD_END; i++) {
		uint8_t f = d->fields[i];
		if (f & 0x80) {
			pos += f & 0x7F;
			if (pos > len)
				return -1;
			continue;
		}
		switch (f) {
		case RD_NAME_C:
		case RD_NAME_D:
		case RD_NAME_U: {
			int n = name_check(rdata + pos, len - pos);
			if (n < 0)
				return -1;
			pos += (size_t)n;
			break;
		}
		case RD_STR:
			if (pos >= len || pos + 1 + rdata[pos] > len)
				return -1;
			pos += 1 + (size_t)rdata[pos];
			break;
		case RD_STRS:
			if (pos >= len)
				return -1;
			while (pos < len) {
				if (pos + 1 + rdata[pos] > len)
					return -1;
				pos += 1 + (size_t)rdata[pos];
			}
			break;
		case RD_REST:
			pos = len;
			break;
		}
	}
	return pos == len ? 0 : -1;
}

const char *rrtype_name(uint16_t type, char *buf, size_t len)
{
	const struct rrtype *d = rrtype_get(type);
	if (d->name)
		return d->name;
	snprintf(buf, len, "TYPE%u", (unsigned)type);
	return buf;
}

const uint8_t *rrtype_first_name(const struct rrtype *d, const uint8_t *rdata)
{
	size_t pos = 0;
	for (unsigned i = 0; i < sizeof(d->fields); i++) {
		uint8_t f = d->fields[i];
		if (f & 0x80)
			pos += f & 0x7F;
		else if (f == RD_NAME_C || f == RD_NAME_D || f == RD_NAME_U)
			return rdata + pos;
		else
			return NULL;
	}
	return NULL;
}
