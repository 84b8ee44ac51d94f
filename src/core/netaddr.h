/* Peer addresses and prefixes, without any socket types: the core decides
 * who may send a NOTIFY, the platform converts its addresses to these. */
#ifndef ICBIND_NETADDR_H
#define ICBIND_NETADDR_H

#include <stdint.h>
#include <string.h>

struct netaddr {
	uint8_t family;     /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

struct netprefix {
	uint8_t family;
	uint8_t addr[16];
	uint8_t bits;
};

static inline int netprefix_match(const struct netprefix *p, const struct netaddr *a)
{
	if (p->family != a->family)
		return 0;
	unsigned full = p->bits / 8, rest = p->bits % 8;
	if (memcmp(p->addr, a->addr, full) != 0)
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xFF << (8 - rest));
		if ((p->addr[full] & mask) != (a->addr[full] & mask))
			return 0;
	}
	return 1;
}

#endif
