/* RR types: everything the server knows about a type, in one table.
 *
 * The RDATA layout of a type is a short list of fields.  The transfer
 * parser walks it to decompress and check names (RFC 3597 section 4: the
 * well-known types may be compressed, a few more must still be understood
 * when they are), the answer engine walks it to compress names again on
 * output, and both use it to check that RDATA has the type's structure. */
#ifndef ICBIND_RRTYPE_H
#define ICBIND_RRTYPE_H

#include <stdint.h>
#include <stddef.h>

enum {
	T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_PTR = 12, T_HINFO = 13,
	T_MX = 15, T_TXT = 16, T_AAAA = 28, T_SRV = 33, T_NAPTR = 35,
	T_DNAME = 39, T_OPT = 41, T_DS = 43, T_RRSIG = 46, T_NSEC = 47,
	T_DNSKEY = 48, T_NSEC3 = 50, T_NSEC3PARAM = 51, T_CDS = 59,
	T_CDNSKEY = 60, T_TKEY = 249, T_TSIG = 250, T_IXFR = 251,
	T_AXFR = 252, T_MAILB = 253, T_MAILA = 254, T_ANY = 255,
};

enum { C_IN = 1, C_CH = 3, C_HS = 4, C_NONE = 254, C_ANY = 255 };

/* Field codes.  A code with the top bit set is a fixed run of (code & 0x7F)
 * octets. */
enum rd_field {
	RD_END = 0,
	RD_NAME_C,  /* name, compressed on the wire both ways (RFC 1035 types) */
	RD_NAME_D,  /* name we decompress on input but never compress on output */
	RD_NAME_U,  /* name we never compress (RFC 4034 RRSIG signer, NSEC next); a
	             * primary that does is forgiven: it is stored uncompressed */
	RD_STR,     /* one <character-string> */
	RD_STRS,    /* one or more <character-string>s up to the end */
	RD_REST,    /* any octets up to the end, possibly none */
};
#define RD_FIX(n) (0x80 | (n))

enum rrtype_flags {
	RRT_DNSSEC = 1,     /* dropped by strip-dnssec */
	RRT_ADDITIONAL = 2, /* A/AAAA of its first name go in the additional section */
	RRT_SINGLETON = 4,  /* at most one RR in the RRset (SOA, CNAME, DNAME) */
	RRT_META = 8,       /* a question type or pseudo-RR, never stored */
};

struct rrtype {
	uint16_t type;
	uint8_t flags;
	uint8_t fields[7];
	const char *name;
};

/* Descriptor of a type; unknown types get an opaque one (RFC 3597). */
const struct rrtype *rrtype_get(uint16_t type);

/* Check that rdata (uncompressed, as stored) has the type's structure. */
int rrtype_check(const struct rrtype *d, const uint8_t *rdata, size_t len);

/* The first name in rdata (NS, MX, SRV, SVCB targets) as the type's
 * fields place it, or NULL when a field of varying length comes first. */
const uint8_t *rrtype_first_name(const struct rrtype *d, const uint8_t *rdata);

/* "A", "TYPE65534". */
const char *rrtype_name(uint16_t type, char *buf, size_t len);

#endif
