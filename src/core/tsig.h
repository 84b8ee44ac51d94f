/* TSIG, RFC 8945: signing our requests and replies, verifying single
 * messages (NOTIFY, SOA answers) and the message stream of a transfer
 * (RFC 8945 5.3.1), with the time check against fudge (5.2.3) and the
 * errors BADSIG, BADKEY, BADTIME and BADTRUNC. */
#ifndef ICBIND_TSIG_H
#define ICBIND_TSIG_H

#include <stddef.h>
#include <stdint.h>

#include "hmac.h"
#include "limits.h" /* TSIG_MAX_SECRET */
#include "name.h"

#define TSIG_FUDGE 300           /* seconds, RFC 8945 10 */
#define TSIG_MAX_UNSIGNED 99     /* messages in a row without TSIG, RFC 8945 5.3.1 */

enum {
	TSIG_RC_BADSIG = 16, TSIG_RC_BADKEY = 17, TSIG_RC_BADTIME = 18, TSIG_RC_BADTRUNC = 22,
};

/* Outcomes of a verification. */
enum tsig_status {
	TSIG_OK = 0,
	TSIG_UNSIGNED = 1,   /* the message has no TSIG */
	TSIG_EFORMERR = -1,  /* a malformed TSIG, or one not last in the message */
	TSIG_EBADKEY = -2,   /* a key or algorithm we do not know */
	TSIG_EBADSIG = -3,   /* the MAC does not verify */
	TSIG_EBADTIME = -4,  /* time signed outside now +- fudge */
	TSIG_EBADTRUNC = -5, /* a truncated MAC shorter than allowed */
	TSIG_ENOMEM = -6,
	TSIG_EUNSIGNED = -7, /* a transfer: too many unsigned messages, or the last unsigned */
	TSIG_EPEER = -8,     /* the peer answered with a TSIG error (r->error) */
};

struct tsig_key {
	uint8_t name[NAME_MAXLEN];   /* wire form, lower case */
	enum hmac_alg alg;
	uint8_t secret[TSIG_MAX_SECRET];
	size_t secret_len;
	/* Local policy on truncated MACs (RFC 8945 5.2.4): the shortest MAC
	 * accepted.  0 accepts every truncation 5.2.2.1 permits (at least 10
	 * octets and half the hash); a longer one, up to the hash length,
	 * turns shorter MACs into BADTRUNC. */
	uint16_t min_mac_len;
};

/* "hmac-sha256" (case-insensitive) to the algorithm, HMAC_NONE if unknown. */
enum hmac_alg tsig_alg_from_text(const char *s);
const char *tsig_alg_text(enum hmac_alg alg);
const char *tsig_strerror(int status);
/* The algorithm's name as it stands in a TSIG RR (RFC 8945 6), wire form,
 * lower case ("hmac-md5.sig-alg.reg.int." for HMAC_MD5); NULL if unknown. */
const uint8_t *tsig_alg_name(enum hmac_alg alg);
/* And back, case-insensitively; HMAC_NONE if unknown. */
enum hmac_alg tsig_alg_from_name(const uint8_t *name);
/* Text of a TSIG error field (16 "BADSIG" ...), for r->error on TSIG_EPEER. */
const char *tsig_rcode_text(uint16_t error);

/* A TSIG RR as found in a message. */
struct tsig_rr {
	uint8_t key[NAME_MAXLEN];    /* owner: the key name */
	uint8_t alg[NAME_MAXLEN];    /* algorithm name */
	uint64_t time_signed;        /* 48 bits */
	uint16_t fudge;
	uint8_t mac[HMAC_MAX_LEN];
	uint16_t mac_len;
	uint16_t orig_id;
	uint16_t error;
	uint8_t other[6];            /* BADTIME carries the server's time */
	uint16_t other_len;
};

/* Parse TSIG RDATA (uncompressed names, RFC 8945 4.2); owner is the key
 * name. 0 or TSIG_EFORMERR. */
int tsig_rr_parse(const uint8_t *owner, const uint8_t *rdata, size_t len, struct tsig_rr *out);

/* Find the TSIG RR of a whole message: TSIG_OK with *out and *start (its
 * offset, where the digested part of the message ends), TSIG_UNSIGNED if
 * there is none, TSIG_EFORMERR if the message is malformed or a TSIG is
 * anywhere but last in the additional section (RFC 8945 5.2). */
int tsig_find(const uint8_t *msg, size_t len, struct tsig_rr *out, size_t *start);

/* Sign the message msg[0..*len) in place: append a TSIG RR and add one to
 * ARCOUNT.  For a response, req_mac is the request's MAC (RFC 8945 5.3);
 * error is the TSIG error to send (0, or BADSIG etc.: then unsigned as the
 * RFC says).  The MAC is copied to mac_out (if not NULL, HMAC_MAX_LEN).
 * Returns 0, or -1 if it does not fit in cap. */
int tsig_sign(const struct tsig_key *k, uint8_t *msg, size_t *len, size_t cap, uint64_t now,
	      const uint8_t *req_mac, size_t req_mac_len, uint16_t error, uint8_t *mac_out,
	      size_t *mac_out_len);

/* BADTIME answer as RFC 8945 5.2.3 wants it: signed with the request MAC,
 * Time Signed = the client's time (req_time, from its TSIG), Other Data =
 * our time now.  (tsig_sign with error BADTIME puts now in both.)  Same
 * returns as tsig_sign. */
int tsig_sign_badtime(const struct tsig_key *k, uint8_t *msg, size_t *len, size_t cap,
		      uint64_t now, uint64_t req_time, const uint8_t *req_mac,
		      size_t req_mac_len, uint8_t *mac_out, size_t *mac_out_len);

/* Unsigned error answer (RFC 8945 5.3.2) to a request whose key or
 * algorithm we do not know: the TSIG RR repeats the request's key and
 * algorithm names (req, from tsig_find or tsig_verify), MAC empty.
 * error is BADKEY or BADSIG.  0, or -1 if it does not fit in cap. */
int tsig_sign_error(const struct tsig_rr *req, uint8_t *msg, size_t *len, size_t cap,
		    uint64_t now, uint16_t error);

/* Verify the TSIG of a whole message against keys (the one named in the
 * TSIG is used).  On TSIG_OK, *used is the key and mac/mac_len the MAC
 * (for signing the reply).  r receives the TSIG RR when there is one.
 * *used is set whenever the key is known, whatever the outcome (BADTIME
 * and BADTRUNC answers are signed with it), NULL otherwise.  Checks in the order of RFC 8945 5.2: key, MAC,
 * time, truncation policy; a MAC of the wrong size (5.2.2.1) is
 * TSIG_EFORMERR; an unsigned error answer (MAC size 0, error set) or a
 * verified one with error set is TSIG_EPEER. */
int tsig_verify(const uint8_t *msg, size_t len, const struct tsig_key *keys, size_t n_keys,
		uint64_t now, const uint8_t *req_mac, size_t req_mac_len, struct tsig_rr *r,
		const struct tsig_key **used);

/* Verifying a transfer as it streams (RFC 8945 5.3.1): the caller feeds
 * each message's octets, except those of its TSIG RR, and the TSIG RR (or
 * none) at the end of each message. */
struct tsig_stream {
	const struct tsig_key *key;
	struct hmac_ctx *run;        /* digest since the last verified MAC */
	struct hmac_ctx *alt;        /* the same, with ARCOUNT one less */
	uint8_t prev_mac[HMAC_MAX_LEN];
	size_t prev_mac_len;
	unsigned unsigned_run;       /* messages since the last signed one */
	unsigned messages;
	int last_signed;
	int status;
	uint16_t id;                 /* the current message's ID (= original ID) */
};

/* req_mac: the MAC of our signed request. */
int tsig_stream_init(struct tsig_stream *s, const struct tsig_key *k, const uint8_t *req_mac,
		     size_t req_mac_len);
void tsig_stream_free(struct tsig_stream *s);
/* A message starts: its 12-octet header as received.  Its ID is digested
 * as the original ID: a TSIG whose original ID differs fails (BADSIG). */
int tsig_stream_begin(struct tsig_stream *s, const uint8_t *hdr);
/* Message octets after the header (never the TSIG RR's). */
void tsig_stream_data(struct tsig_stream *s, const uint8_t *p, size_t n);
/* The message ended; t is its TSIG RR or NULL.  TSIG_OK, TSIG_UNSIGNED
 * (allowed here) or an error. */
int tsig_stream_end(struct tsig_stream *s, const struct tsig_rr *t, uint64_t now);
/* The transfer is complete: TSIG_OK if its last message was signed. */
int tsig_stream_finish(const struct tsig_stream *s);

#endif
