/* Persistence: each loaded zone version kept in data-dir, so that a restart
 * serves at once (until EXPIRE counted from the last successful check),
 * even while the primary is down.
 *
 * DIR/NAME.zone holds the zone block (zone_adopt()) behind a header with a
 * checksum; DIR/NAME.checked holds the time of the last successful check.
 * Both are written to a temporary file, flushed to disk and renamed, so a
 * crash at any moment leaves the old or the new copy, never a torn one. */
#ifndef ICBIND_SNAPSHOT_H
#define ICBIND_SNAPSHOT_H

#include <stdint.h>
#include <time.h>

#include "../../core/zone.h"

/* Write z as the copy of zone `name` (text form); 0 or -1 (errno). */
int snapshot_save(const char *dir, const char *name, const struct zone *z);
/* Record that the copy was confirmed current at `when`. */
int snapshot_checked(const char *dir, const char *name, time_t when);
/* Remove the copy of zone `name` (a member zone a catalog dropped or
 * reset: its data must not come back, RFC 9432 5.5); 0, or -1 (errno). */
int snapshot_remove(const char *dir, const char *name);
/* Read the copy back: 0 with *out and *checked (time of its last
 * successful check), 1 if there is none, -1 with why if it is unusable. */
int snapshot_load(const char *dir, const char *name, struct zone **out, time_t *checked,
		  const char **why);

#endif
