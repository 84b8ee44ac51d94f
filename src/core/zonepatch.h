/* Applying an IXFR's differences (RFC 1995) to the version served.
 *
 * Most differences change what RRsets hold (a new SOA serial, an address,
 * fresh signatures) and not which names and types exist.  Such a change is
 * made without copying the zone: the new version shares the old one's
 * names, nodes, RRsets and indexes and keeps only the RRsets that changed,
 * so a refresh of a big zone costs memory in proportion to the change,
 * not to the zone.  When names or RRsets come or go, the new version is
 * "reshaped": it has its own nodes, hash index and NSEC index (node
 * numbers all move), made in one pass over the old ones, and shares the
 * names, RRsets and RDATA it kept (most of a zone's octets).  A zone with
 * NSEC3 (its hashes and chain are worked out per build), or patches grown
 * past an eighth of the zone, is built whole from the old version and the
 * differences. */
#ifndef ICBIND_ZONEPATCH_H
#define ICBIND_ZONEPATCH_H

#include "zone.h"
#include "zonebuilder.h"

/* b holds the differences alone (op ZB_DEL/ZB_ADD, seq from 1), cur is
 * the version they apply to.  On 0 *out is the new version and the
 * builder is empty; -1 (b->err) if the differences do not apply. */
int zb_finish_ixfr(struct zone_builder *b, const struct zone *cur, struct zone **out);

/* b holds a whole zone (AXFR, or an IXFR answered with the whole zone)
 * compared with cur as it came (zb_against): the records cur holds and the
 * transfer did not bring become deletions, and the rest is finished as an
 * IXFR, so a new version of a big zone that changes a few RRsets costs
 * little memory however it arrives.  0 or -1 (b->err). */
int zb_finish_axfr(struct zone_builder *b, const struct zone *cur, struct zone **out);

/* The end of a transfer, as the server does it: the differences of an
 * IXFR (incremental) or a whole zone compared with cur (zb_against)
 * applied to cur, else (no zone served) a whole build. */
int zb_finish_served(struct zone_builder *b, const struct zone *cur, int incremental,
		     struct zone **out);

/* What the octets of version z (z->bytes) are, for the log: "" for a
 * whole version, else what it shares with the one before it. */
const char *zone_patch_note(const struct zone *z);

/* The patch alone: 0 and *out; 1 when a whole build is needed (b is left
 * sorted, as it was); -1 (b->err) when the differences do not apply. */
int zone_patch(struct zone_builder *b, const struct zone *cur, struct zone **out);

#endif
