/* Building small zones from text for the unit tests. */
#ifndef ICBIND_TESTZONE_H
#define ICBIND_TESTZONE_H

#include "core/zone.h"

/* recs: lines "OWNER TTL TYPE RDATA" ("@" is the apex; names without a
 * final dot are relative to it), ended by NULL.  Types: A, AAAA (hex
 * groups of four, no "::"), NS, CNAME, DNAME, PTR, MX, SRV, TXT (one word),
 * SOA, and "TYPEn HEX".  Returns NULL and prints why on failure. */
struct zone *tz_build(const char *apex, const char *const *recs);

/* Wire name of text relative to apex. */
int tz_name(const char *text, const char *apex, uint8_t *out);

#endif
