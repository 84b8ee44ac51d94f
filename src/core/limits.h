/* Every compile-time limit of ICBIND's core, in one place (as lwIP's opt.h
 * does it): each one is
 *
 *     #ifndef NAME
 *     #define NAME default
 *     #endif
 *
 * so a build overrides any of them with -DNAME=value, and -DICB_SMALL_DEVICE
 * picks the small-device profile below (the ESP8266: ~40 KiB of free heap
 * with Wi-Fi up, 4-8 KiB of stack).  The #error checks at the end refuse a
 * combination the code cannot work with.  docs/embedded.md explains every
 * limit and the memory budget measured with the small profile
 * (`make lx106-budget`).
 *
 * Two kinds of limit are here:
 *   - the core's own: they size its structures or bound its loops, and
 *     the core reads them (answer.h, wire.h, xfr.c, nsec3.h, tsig.h,
 *     catalog.h include this file);
 *   - advisory ones for a port (ICB_UDP_MAX, ICB_ZONE_MAX_BYTES,
 *     ICB_TCP_CLIENTS, ICB_PERSIST, ICB_STRIP_DNSSEC): the core takes these
 *     values as arguments (query_process's cap, zb_init's max_bytes,
 *     cat_zone.strip_dnssec) and the platform layer decides, so they are the
 *     defaults a platform passes.  src/platform/lwip/ uses them as they are;
 *     the POSIX server takes its values from its configuration file.
 *
 * Sizes below are for the lx106 (and any 32-bit target); a 64-bit host has
 * 8-octet pointers, so a few structures are larger there.
 *
 * Include it as "limits.h" from src/core only, or as "core/limits.h" with
 * -Isrc: never put src/core itself on the include path, where this file
 * would hide the C library's <limits.h>. */
#ifndef ICBIND_LIMITS_H
#define ICBIND_LIMITS_H

/* ---- the small-device profile -------------------------------------- */

#ifdef ICB_SMALL_DEVICE
/* Each value is picked so that the server, code excluded, fits in 16 KiB of
 * RAM for a zone of about 20 names (signed, served with DNSSEC stripped);
 * see docs/embedded.md for the measured budget. */
#ifndef ICB_ANSWER_MAX_RRSETS
#define ICB_ANSWER_MAX_RRSETS 16
#endif
#ifndef ICB_CHAIN_MAX
#define ICB_CHAIN_MAX 4
#endif
#ifndef ICB_SYNTH_MAX
#define ICB_SYNTH_MAX 1
#endif
#ifndef BUILDER_COMP_MAX
#define BUILDER_COMP_MAX 16
#endif
#ifndef BUILDER_KEPT_MAX
#define BUILDER_KEPT_MAX 4
#endif
#ifndef XFR_MAX_LABELS
#define XFR_MAX_LABELS 2048
#endif
#ifndef NSEC3_MAX_ITERATIONS
#define NSEC3_MAX_ITERATIONS 150
#endif
#ifndef TSIG_MAX_SECRET
#define TSIG_MAX_SECRET 64
#endif
#ifndef CAT_MAX_PRIMARIES
#define CAT_MAX_PRIMARIES 2
#endif
#ifndef CAT_MAX_ACL
#define CAT_MAX_ACL 2
#endif
#ifndef ICB_UDP_MAX
#define ICB_UDP_MAX 1232
#endif
#ifndef ICB_ZONE_HASH
#define ICB_ZONE_HASH 0
#endif
#ifndef ZB_CHUNK_SHIFT
#define ZB_CHUNK_SHIFT 10
#endif
#ifndef ICB_ZONE_MAX_BYTES
#define ICB_ZONE_MAX_BYTES 24576
#endif
#ifndef ICB_TCP_CLIENTS
#define ICB_TCP_CLIENTS 2
#endif
#ifndef ICB_PERSIST
#define ICB_PERSIST 0
#endif
#ifndef ICB_STRIP_DNSSEC
#define ICB_STRIP_DNSSEC 1
#endif
#ifndef ICB_XFR_SOA_MAX
#define ICB_XFR_SOA_MAX 148   /* SOA names of up to 64 octets each */
#endif
#ifndef ICB_XFR_TSIG_HOLD
#define ICB_XFR_TSIG_HOLD 320 /* TSIG key and algorithm names of up to 64 */
#endif
#ifndef ICB_APEX_KEY_MAX
#define ICB_APEX_KEY_MAX 128  /* zone names of up to about 100 octets */
#endif
#ifndef ICB_ZB_STREAM
#define ICB_ZB_STREAM 0 /* the layout's walk state (about 800 octets) */
#endif
#endif /* ICB_SMALL_DEVICE */

/* ---- the answer engine (answer.h) ---------------------------------- */

/* RRsets in one response, each with its RRSIG set: the answer, the
 * authority (SOA or NS, DS, the NSEC/NSEC3 proofs) and the glue.  Sizes
 * struct answer, which query_process keeps on the stack: 28 octets per
 * entry on the lx106 (48 on a 64-bit host).  An answer that needs more is
 * cut at an RRset boundary: TC for the required part, the rest dropped. */
#ifndef ICB_ANSWER_MAX_RRSETS
#define ICB_ANSWER_MAX_RRSETS 64
#endif

/* CNAME and DNAME steps followed within the served zones before the
 * answer stops with what it has (RFC 1034 4.3.2).  Costs time only. */
#ifndef ICB_CHAIN_MAX
#define ICB_CHAIN_MAX 12
#endif

/* CNAMEs synthesised from DNAMEs (RFC 6672) in one answer: 255 octets of
 * stack each (the synthesised target), inside struct answer. */
#ifndef ICB_SYNTH_MAX
#define ICB_SYNTH_MAX 4
#endif

/* ---- the message builder (wire.h) ---------------------------------- */

/* Name suffixes remembered for compression in one response (RFC 1035 4.1.4): 4
 * octets each, in struct builder on the stack.  Names beyond it are written
 * uncompressed (bigger answers, nothing wrong). */
#ifndef BUILDER_COMP_MAX
#define BUILDER_COMP_MAX 48
#endif

/* Names remembered by address in one response (wire.h): a name written
 * again (the question as the owner of its answer, an exchange or target
 * as the owner of its addresses) is a pointer with no search.  8 or 16
 * octets each, on the stack; beyond it names are found by their suffixes
 * (the same answer, found more slowly). */
#ifndef BUILDER_KEPT_MAX
#define BUILDER_KEPT_MAX 8
#endif

/* ---- the transfer parser (xfr.c) ----------------------------------- */

/* Labels of one message that the parser indexes to resolve compression
 * pointers (reset with every message).  The index grows on demand, 8
 * octets per entry plus the label's octets in a pool, and a label takes at
 * least 2 octets of the message, so 32768 never refuses a valid 64 KiB
 * message.  The small profile's 2048 bounds the parser's heap to 16 KiB of
 * index plus the pool whatever a primary sends, and is far more than a real
 * message of up to 16 KiB needs: Knot's, in tests/data, index 118 to 366
 * (the most: nsec3.axfr, whose NSEC3 owners are 32-octet labels); a
 * message with more fails the transfer ("too many names in one message").
 * At most 65534 (16-bit indexes). */
#ifndef XFR_MAX_LABELS
#define XFR_MAX_LABELS 32768
#endif

/* ---- DNSSEC (nsec3.h) ---------------------------------------------- */

/* NSEC3 iterations (RFC 5155) the answer engine will hash a name with;
 * a zone with more is served as data without NSEC3 proofs.  Each iteration
 * is one SHA-1 per hashed name, a few names per query: the cost an
 * attacker's query makes us pay.  RFC 9276 asks for 0. */
#ifndef NSEC3_MAX_ITERATIONS
#define NSEC3_MAX_ITERATIONS 2500
#endif

/* ---- TSIG (tsig.h) ------------------------------------------------- */

/* Octets of a TSIG key's secret: struct tsig_key holds it inline, one per
 * configured key.  tsig-keygen makes 32 (hmac-sha256) or 64 (hmac-sha512). */
#ifndef TSIG_MAX_SECRET
#define TSIG_MAX_SECRET 256
#endif

/* ---- the catalog (catalog.h) --------------------------------------- */

/* Primaries of one zone and allow-notify entries of one zone: they size
 * struct cat_zone (a primary: 20 octets of address and a key pointer; an
 * entry: 18 octets of prefix and a key pointer). */
#ifndef CAT_MAX_PRIMARIES
#define CAT_MAX_PRIMARIES 8
#endif
#ifndef CAT_MAX_ACL
#define CAT_MAX_ACL 16
#endif

/* ---- advisory: what a port passes to the core ---------------------- */

/* Our EDNS(0) UDP payload size (query_env.udp_max) and the size of a UDP
 * response buffer.  1232 fits one Ethernet or Wi-Fi frame over IPv6 and
 * IPv4 (the ESP8266's lwIP neither fragments nor reassembles); larger
 * answers go TC and over TCP.  The POSIX server's `udp-max-payload`. */
#ifndef ICB_UDP_MAX
#define ICB_UDP_MAX 1232
#endif

/* A hash index over the names of each zone version (zone.h), so that a
 * name that exists is found in about one probe instead of a binary search
 * that misses the cache at every step on a big zone: 4 octets per slot,
 * 1.5 to 3 slots per name.  0: binary search only (small zones). */
#ifndef ICB_ZONE_HASH
#define ICB_ZONE_HASH 1
#endif

/* A zone at least this big (octets of its version) is past the CPU's
 * caches: a server answering from one looks a batch of queries up a step
 * at a time (query.h query_hint_start), so that the cache misses of the
 * batch overlap.  Below it, that would be work for nothing. */
#ifndef ICB_PREFETCH_BYTES
#define ICB_PREFETCH_BYTES (8u << 20)
#endif
/* ... when a batch holds at least this many (one has nothing to overlap). */
#ifndef ICB_PREFETCH_BATCH
#define ICB_PREFETCH_BATCH 2
#endif
/* ... and each query's lookup is taken a step further (query.h) while
 * each of the this many queries before it is answered: with the step all
 * take first, enough for a name that exists, its RRsets and the names
 * their RDATA holds (seven steps). */
#ifndef ICB_PREFETCH_AHEAD
#define ICB_PREFETCH_AHEAD 6
#endif

/* The zone builder keeps a transfer's records in chunks of 2^ZB_CHUNK_SHIFT
 * octets (zonebuilder.h) and frees each once its records are laid out.
 * Bigger chunks waste less at their ends; on a server each is above the C
 * library's mmap threshold (128 KiB), so a freed chunk goes back to the
 * system at once. */
#ifndef ZB_CHUNK_SHIFT
#define ZB_CHUNK_SHIFT 18
#endif
#define ZB_CHUNK ((size_t)1 << ZB_CHUNK_SHIFT)

/* A whole zone that comes in canonical order is laid out as it arrives
 * (zonebuilder.h), while the primary is still sending: 1 on, 0 off (all
 * of it sorted and laid out at the end). */
#ifndef ICB_ZB_STREAM
#define ICB_ZB_STREAM 1
#endif

/* Octets one zone version may take in the builder (zb_init's max_bytes),
 * which bounds the served version (z->bytes comes to about the same or
 * less).  0: no limit. */
#ifndef ICB_ZONE_MAX_BYTES
#define ICB_ZONE_MAX_BYTES 0
#endif

/* Inbound TCP clients served at once; each holds a 2-octet length and a
 * query buffer (512 octets is enough for any query) plus its TCP PCB and
 * buffers in the stack (lwIP: about 4 x MSS of window per connection).
 * The POSIX server's `tcp-clients`. */
#ifndef ICB_TCP_CLIENTS
#define ICB_TCP_CLIENTS 100
#endif

/* 1: keep a copy of each zone across restarts (the POSIX server's
 * data-dir); 0: transfer again at start (a device without a file system,
 * or whose flash should not wear for it). */
#ifndef ICB_PERSIST
#define ICB_PERSIST 1
#endif

/* The default of a zone's strip-dnssec (cat_zone.strip_dnssec): 1 drops
 * DNSSEC records during the transfer, so a signed zone is served unsigned
 * (the budget's RSA-signed zone: 1.6 KiB instead of 13.9); 0 keeps them
 * and answers DO queries with RRSIGs and NSEC/NSEC3 proofs. */
#ifndef ICB_STRIP_DNSSEC
#define ICB_STRIP_DNSSEC 0
#endif

/* ---- sizes of the transfer parser and the catalog ------------------ */

/* The first SOA's RDATA, kept to compare with the last (RFC 5936 2.2), and
 * a second copy for the SOAs inside IXFR differences: two names and 20
 * octets each.  A longer SOA fails the transfer with "SOA RDATA too long". */
#ifndef ICB_XFR_SOA_MAX
#define ICB_XFR_SOA_MAX (2 * 255 + 20)
#endif

/* The last record of each message, held back until it shows whether it is
 * the TSIG (whose octets the digest leaves out), and read whole if it is:
 * owner, fixed part, algorithm name, MAC and the rest.  A longer one fails
 * the transfer with "TSIG record too long". */
#ifndef ICB_XFR_TSIG_HOLD
#define ICB_XFR_TSIG_HOLD (255 + 10 + 2 * 255 + 100)
#endif

/* A zone's apex as a lookup key (name.h: up to two octets per octet of the
 * name), kept in every catalog entry.  A longer apex is refused when the
 * catalog is set up. */
#ifndef ICB_APEX_KEY_MAX
#define ICB_APEX_KEY_MAX 512
#endif

/* ---- consistency checks --------------------------------------------- */

#if ICB_XFR_SOA_MAX < 22 || ICB_XFR_TSIG_HOLD < 64 || ICB_APEX_KEY_MAX < 2
#error "ICB_XFR_SOA_MAX, ICB_XFR_TSIG_HOLD, ICB_APEX_KEY_MAX: too small for any record"
#endif

#if ICB_ANSWER_MAX_RRSETS < 8
#error "ICB_ANSWER_MAX_RRSETS: at least 8 (a denial with NSEC3 needs SOA and three NSEC3 sets, a referral its NS, DS and glue)"
#endif
#if ICB_ANSWER_MAX_RRSETS > 65535
#error "ICB_ANSWER_MAX_RRSETS: at most 65535"
#endif
#if ICB_CHAIN_MAX < 1
#error "ICB_CHAIN_MAX: at least 1 (a CNAME must be followed once)"
#endif
#if ICB_SYNTH_MAX < 1
#error "ICB_SYNTH_MAX: at least 1 (a DNAME answer synthesises a CNAME)"
#endif
#if ICB_SYNTH_MAX > ICB_CHAIN_MAX + 1
#error "ICB_SYNTH_MAX: more than ICB_CHAIN_MAX + 1 can never be used"
#endif
#if BUILDER_COMP_MAX < 1 || BUILDER_COMP_MAX > 65535
#error "BUILDER_COMP_MAX: from 1 to 65535"
#endif
#if XFR_MAX_LABELS < 128
#error "XFR_MAX_LABELS: at least 128 (one name alone can have 127 labels)"
#endif
#if XFR_MAX_LABELS > 65534
#error "XFR_MAX_LABELS: at most 65534 (the label index uses 16-bit indexes)"
#endif
#if NSEC3_MAX_ITERATIONS < 0 || NSEC3_MAX_ITERATIONS > 65535
#error "NSEC3_MAX_ITERATIONS: from 0 to 65535 (RFC 5155: a 16-bit field)"
#endif
#if TSIG_MAX_SECRET < 16
#error "TSIG_MAX_SECRET: at least 16 (RFC 8945 6: keys shorter than the hash's half are weak)"
#endif
#if CAT_MAX_PRIMARIES < 1 || CAT_MAX_ACL < 1
#error "CAT_MAX_PRIMARIES and CAT_MAX_ACL: at least 1"
#endif
#if ZB_CHUNK_SHIFT < 8 || ZB_CHUNK_SHIFT > 24
#error "ZB_CHUNK_SHIFT: from 8 to 24 (a record offset is 32 bits: chunk number and place)"
#endif
#if ICB_UDP_MAX < 512 || ICB_UDP_MAX > 65535
#error "ICB_UDP_MAX: from 512 (RFC 1035) to 65535"
#endif
#if ICB_ZONE_MAX_BYTES < 0
#error "ICB_ZONE_MAX_BYTES: 0 (no limit) or a size in octets"
#endif
#if ICB_ZONE_MAX_BYTES > 0 && ICB_ZONE_MAX_BYTES < 512
#error "ICB_ZONE_MAX_BYTES: under 512 octets no zone fits"
#endif
#if ICB_TCP_CLIENTS < 1
#error "ICB_TCP_CLIENTS: at least 1 (answers with TC must be retried over TCP)"
#endif
#if (ICB_PERSIST != 0 && ICB_PERSIST != 1) || (ICB_STRIP_DNSSEC != 0 && ICB_STRIP_DNSSEC != 1)
#error "ICB_PERSIST and ICB_STRIP_DNSSEC: 0 or 1"
#endif

#endif
