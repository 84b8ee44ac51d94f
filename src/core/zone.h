/* The zone store: one immutable block per zone version.
 *
 * Nodes are kept in canonical order (RFC 4034 6.1) by their lookup key
 * (name.h), empty non-terminals included, so that a binary search gives an
 * exact match or the predecessor, and from the predecessor the closest
 * encloser; the same order later gives NSEC predecessors.  A version is
 * built once (zonebuilder.h, or zonepatch.h from the one before it), never
 * changed, and replaced by the next. */
#ifndef ICBIND_ZONE_H
#define ICBIND_ZONE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "limits.h"
#include "name.h"
#include "nsec3.h"

enum node_flags {
	NODE_DELEG = 1,     /* NS below the apex: a zone cut (RFC 1034 4.2.1) */
	NODE_DNAME = 2,     /* has a DNAME (RFC 6672) */
	NODE_WILDCHILD = 4, /* has a child "*" (RFC 4592) */
	NODE_UNDER = 8,     /* a proper ancestor is a cut or has a DNAME */
	NODE_NSEC3 = 16,    /* an owner of the zone's NSEC3 chain */
};

enum zone_dnssec { ZONE_UNSIGNED = 0, ZONE_NSEC = 1, ZONE_NSEC3 = 2 };

#define ZONE_NONE 0xFFFFFFFFu

struct zone_node {
	uint32_t key;       /* offset in data: u16 length, then the key */
	uint32_t parent;    /* node index; the apex (index 0) is its own parent */
	uint32_t rrsets;    /* index of the first RRset */
	uint16_t n_rrsets;  /* 0 for an empty non-terminal */
	uint8_t flags;
	uint8_t labels;     /* labels in front of the apex */
};

struct zone_rrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t rdata;     /* offset in data: count x (u16 length, RDATA) */
};

struct zone {
	uint8_t apex[NAME_MAXLEN];
	uint8_t apex_len;
	uint8_t apex_labels;
	uint32_t serial;
	uint32_t neg_ttl;   /* min(SOA TTL, SOA MINIMUM), RFC 2308 section 5 */
	uint32_t refresh, retry, expire;
	uint32_t n_nodes, n_rrsets, n_records;
	size_t bytes;       /* its block (an index zone_index() made is apart) */
	/* DNSSEC (RFC 4035, 5155), worked out when the zone is built so that a
	 * query hashes nothing but the name it asks about:
	 * NSEC: aux[node] is the node at or before it that owns an NSEC;
	 * NSEC3: nsec3[] lists the chain's nodes in hash order, aux[2 * node]
	 * is the entry whose hash is the node's, aux[2 * node + 1] the one
	 * covering (or matching) "*.node"; ZONE_NONE where there is none. */
	uint8_t dnssec;
	struct nsec3_params n3;
	uint32_t n_nsec3;
	const struct zone_node *nodes;
	const struct zone_rrset *rrsets;
	const uint32_t *nsec3;
	const uint32_t *aux;
	/* The hash index (ICB_ZONE_HASH): hash_size slots (a power of two, or
	 * 0 for none), open addressing with linear probing on zone_key_hash()
	 * of the node's key; each slot ZONE_NONE or a node (low 24 bits) with
	 * the top 8 bits of its key's hash, so that a probe passes a slot of
	 * another name without reading that name's node and key.  It holds
	 * every node: a name it does not find is not in the zone, and the
	 * ancestors of a name are found by it too, one probe per label.
	 * NULL while there is none yet: a reshaped version (zonepatch.h) is
	 * served first and indexed once the version it replaced gave its
	 * nodes and index back (zone_index()), so that a big zone's transfer
	 * never holds two indexes beside two node arrays; meanwhile names are
	 * found by binary search.  Atomic: set while query threads read. */
	uint32_t hash_size;
	const uint32_t *_Atomic hash;
	uint32_t *hash_own; /* the index zone_index() made, freed with the block */
	const uint8_t *data;
	/* A version made from another by an IXFR (zonepatch.h) shares a
	 * whole version, its base: base's RRset array and octets, and unless
	 * names came or went, base's nodes and indexes too.  It holds just
	 * the RRsets that changed: patch_idx lists their indexes (ascending),
	 * patch_rrsets their contents, patch_bits has a bit per RRset index
	 * for the query path's quick test.  RRsets of a node whose set of
	 * types changed, and of a new node, get indexes past base's
	 * (rrset_slots counts them all), always in the patch.  When names
	 * came or went the version has its own nodes, hash and NSEC index
	 * (made by "reshaping"): shape is the version that owns the ones it
	 * reads, if not itself or base.  A whole version has base NULL. */
	struct zone *base;
	struct zone *shape;
	uint32_t refs;      /* versions that need this block, itself included */
	uint32_t node_refs; /* a whole version: versions that read its nodes */
	uint32_t rrset_slots; /* RRset indexes in use (n_rrsets: live RRsets) */
	uint32_t n_patch;
	uint32_t keys_len;  /* the own octets start with keys of new nodes */
	const uint8_t *patch_bits;
	const uint32_t *patch_idx;
	const struct zone_rrset *patch_rrsets;
	/* Where key and RDATA offsets point: bit 31 clear, base's data;
	 * set, this version's own octets.  Two entries so that reading one
	 * takes no branch. */
	const uint8_t *dbase[2];
};

#define ZONE_PATCHED 0x80000000u /* an RDATA offset in the patch's octets */

/* The hash of a lookup key (the same on every CPU: a snapshot moves). */
static inline uint32_t zone_key_hash(const uint8_t *key, size_t len)
{
	uint32_t h = 0x811C9DC5u ^ (uint32_t)len;
	size_t i = 0;
	for (; i + 4 <= len; i += 4) {
		uint32_t w = (uint32_t)key[i] | (uint32_t)key[i + 1] << 8 |
			     (uint32_t)key[i + 2] << 16 | (uint32_t)key[i + 3] << 24;
		h = (h ^ w) * 0x9E3779B1u;
		h ^= h >> 15;
	}
	for (; i < len; i++)
		h = (h ^ key[i]) * 0x01000193u;
	h ^= h >> 16;
	return h * 0x85EBCA6Bu;
}

#define ZONE_HASH_NODE 0x00FFFFFFu /* the node of a hash slot */
#define ZONE_HASH_TAG(h) ((h) & 0xFF000000u)

/* Slots of the hash index for n nodes: a power of two, at least 1.5 n
 * (at most two thirds full: a name found in two probes on average, 6 to
 * 12 octets per node); none past 2^24 - 1 nodes (the slot's node field),
 * looked up by binary search. */
static inline uint32_t zone_hash_slots(uint32_t n)
{
	if (!ICB_ZONE_HASH || n >= ZONE_HASH_NODE)
		return 0;
	uint32_t s = 4;
	while (s < n + n / 2)
		s *= 2;
	return s;
}

/* Sets the flags of nodes (the nodes of z, writable) from their RRsets'
 * types, their parents' flags and their children's labels (enum
 * node_flags but NODE_NSEC3), parents first: for a version being made
 * (zonebuilder.h, zonepatch.h), z's RRsets and keys readable. */
void zone_set_flags(const struct zone *z, struct zone_node *nodes);

/* Fills the hash index (hash_size slots) of z's nodes: each node at its
 * key's slot or the next free one. */
void zone_hash_fill(const struct zone *z, uint32_t *hash);

/* Gives z (being served) its hash index if it has none: the index of
 * the version whose nodes it reads, made now if that one has none either
 * (hash_size slots, allocated apart from the block).  0, or -1 when
 * there is no memory for it (names are still found, by binary search).
 * Called by the thread that makes versions, not by query threads. */
int zone_index(struct zone *z);

/* Octets of the aux array. */
static inline size_t zone_aux_count(const struct zone *z)
{
	return z->dnssec == ZONE_NSEC ? z->n_nodes : z->dnssec == ZONE_NSEC3 ? 2 * (size_t)z->n_nodes : 0;
}

/* Gives the version up; a whole version shared by patched ones goes with
 * the last of them (and a reshaped one with the last version reading its
 * nodes).  Versions are made and freed by one thread only. */
void zone_free(struct zone *z);

/* Called, if set, with each part of a whole version's block that nothing
 * reads any more while the block stays (its nodes and name indexes, once
 * reshaped versions replaced it and every version reading them is given
 * up): the platform may give those pages back to the system.  The block
 * is freed whole later as usual. */
extern void (*zone_unused)(void *p, size_t len);

/* A zone version is one block of z->bytes octets that holds no pointer
 * except the ones below: it can be written out as it is.  zone_adopt()
 * takes such a block back (read from a file), checks that every offset in
 * it stays inside it and sets the pointers; -1 if it is not a sound zone. */
int zone_adopt(struct zone *z, size_t len);

static inline const uint8_t *zone_key(const struct zone *z, uint32_t node, size_t *len)
{
	uint32_t k = z->nodes[node].key;
	const uint8_t *p = z->dbase[k >> 31] + (k & ~ZONE_PATCHED);
	*len = (size_t)((p[0] << 8) | p[1]);
	return p + 2;
}

/* Whether node (any value) is the name with this key. */
static inline int zone_node_is(const struct zone *z, uint32_t node, const uint8_t *key, size_t klen)
{
	size_t ml;
	const uint8_t *mk = node < z->n_nodes ? zone_key(z, node, &ml) : NULL;
	return mk && ml == klen && memcmp(mk, key, klen) == 0;
}

/* 1 and *idx = the node if key exists, else 0 and *idx = its predecessor
 * (the apex sorts first, so there always is one): the hash index, then a
 * binary search for the predecessor. */
int zone_find(const struct zone *z, const uint8_t *key, size_t klen, uint32_t *idx);

/* Asks the CPU to start loading the cache line at p, a hint with no other
 * effect: GCC's and Clang's builtin, nothing elsewhere. */
#if defined(__GNUC__) || defined(__clang__)
#define ZONE_PREFETCH(p) __builtin_prefetch(p)
#else
#define ZONE_PREFETCH(p) ((void)(p))
#endif

/* A lookup of key by the hash index a step at a time, each step starting
 * the load the next one reads (query.h query_hint_start): the slot, the
 * node, then its key and RRsets.  zone_hint_slot() is 0 when the version
 * has no index (nothing to fetch); zone_hint_node() reads from *slot on,
 * past other names' slots (*slot moves), and gives the node whose tag
 * matches, or ZONE_NONE when the name is absent (or further on). */
int zone_hint_slot(const struct zone *z, const uint8_t *key, size_t klen, uint32_t *slot,
		   uint32_t *tag);
uint32_t zone_hint_node(const struct zone *z, uint32_t *slot, uint32_t tag);
void zone_hint_data(const struct zone *z, uint32_t node);
/* The lookup key of name (uncompressed wire form) below z's apex into key
 * (NAME_KEY_MAX octets): its length, or -1 when the name is not at or
 * below the apex. */
int zone_name_key(const struct zone *z, const uint8_t *name, uint8_t *key);
/* zone_hint_slot() for an owner name (uncompressed wire form): 0 as well
 * when the name is not at or below z's apex. */
int zone_hint_name(const struct zone *z, const uint8_t *name, uint32_t *slot, uint32_t *tag);
/* zone_rrset(), with the RDATA of the RRset found asked for. */
const struct zone_rrset *zone_hint_rrset(const struct zone *z, uint32_t node, uint16_t type);

/* Exact match only: 1 and *idx = the node, or 0.  With the hash index a
 * name that is not there costs no binary search. */
int zone_find_exact(const struct zone *z, const uint8_t *key, size_t klen, uint32_t *idx);

/* 1 and *node = the node of key, or 0 and *node = the closest encloser of
 * a name that is not in the zone (its deepest ancestor that is, empty
 * non-terminals included).  With the hash index: one probe per label
 * climbed, where the binary search takes about log2(nodes) steps, each a
 * cache miss on a big zone (NXDOMAIN answers and referrals). */
int zone_find_encloser(const struct zone *z, const uint8_t *key, size_t klen, uint32_t *node);

/* The wildcard "*" directly below node (RFC 4592 2.2.1).  Returns as
 * zone_find: 0 with *idx = its predecessor when there is none. */
int zone_find_wildcard(const struct zone *z, uint32_t node, uint32_t *idx);

/* The closest encloser of a name that is not in the zone, from its key and
 * the predecessor zone_find returned (needs the empty non-terminals). */
uint32_t zone_encloser(const struct zone *z, const uint8_t *key, size_t klen, uint32_t pred);

const struct zone_rrset *zone_rrset(const struct zone *z, uint32_t node, uint16_t type);

/* RRset number i of a version (its node's RRsets are nodes[].rrsets on):
 * a patched version's own copy if the patch changed it. */
const struct zone_rrset *zone_patched(const struct zone *z, uint32_t i);
static inline const struct zone_rrset *zone_rrset_at(const struct zone *z, uint32_t i)
{
	if (z->patch_bits && ((z->patch_bits[i >> 3] >> (i & 7)) & 1))
		return zone_patched(z, i);
	return &z->rrsets[i];
}

/* The order of keys and of RDATA: octet by octet, then the shorter
 * first. */
static inline int zone_octets_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* The first RDATA of an RRset and the next one: a pointer to its u16
 * length; rdata_len/rdata_ptr read it. */
static inline const uint8_t *zone_rdata(const struct zone *z, const struct zone_rrset *rs)
{
	return z->dbase[rs->rdata >> 31] + (rs->rdata & ~ZONE_PATCHED);
}
static inline size_t rdata_len(const uint8_t *rd)
{
	return (size_t)((rd[0] << 8) | rd[1]);
}
static inline const uint8_t *rdata_next(const uint8_t *rd)
{
	return rd + 2 + rdata_len(rd);
}

/* Octets of an RRset's RDATA, each with its u16 length. */
size_t zone_rrset_octets(const struct zone *z, const struct zone_rrset *rs);

/* The serial, timers and negative TTL from the apex SOA (zone_rrset(z, 0,
 * SOA) must exist and hold one record). */
void zone_set_soa(struct zone *z);

/* The whole block of a version as zone_adopt() takes it back, handed to
 * out in pieces: a patched version comes out as one whole version.  The
 * pointers are written as NULL, so the same zone gives the same octets.
 * Returns the block's length. */
typedef void (*zone_out_fn)(void *ctx, const void *p, size_t n);
size_t zone_flatten(const struct zone *z, zone_out_fn out, void *ctx);

/* The wire name of a node (lower case). */
int zone_node_name(const struct zone *z, uint32_t node, uint8_t *out);

/* Every RR in canonical order (for tests, dumps and later transfers out). */
typedef void (*zone_walk_fn)(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
			     const uint8_t *rdata, size_t len);
void zone_walk(const struct zone *z, zone_walk_fn fn, void *ctx);

#endif
