"""A scripted fake primary for ICBIND's transfer tests.

FakePrimary listens on 127.0.0.1 (UDP and TCP, one port) and answers
  - SOA queries (UDP and TCP) with the SOA of the current serial;
  - AXFR (and IXFR, answered the AXFR way) over TCP with the zone of the
    current mode.

The mode is switched per test with set_mode(). "good" sends a valid zone,
split over 1..N messages, built the way a real server builds them (question
echoed in the first message, names compressed).  Every other mode sends the
same transfer with exactly one fault in it (see MODES).

Everything is bounded: at most MAX_CONNS TCP connections served at once,
every socket has a timeout, every connection a deadline, and the "endless"
transfer stops by itself after a time and byte cap.

The module also has small client helpers for the tests: raw UDP/TCP
exchange, dnspython queries and a NOTIFY sender.
"""
import io
import socket
import struct
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype

ZONE = "example.com."

# TYPE, CLASS and friends as numbers: the raw builders below use them.
T_A, T_NS, T_CNAME, T_SOA, T_MX, T_TXT, T_AAAA, T_OPT = 1, 2, 5, 6, 15, 16, 28, 41
T_IXFR, T_AXFR = 251, 252
C_IN, C_CH = 1, 3

# Records of the "good" zone, besides the SOA; "@" is the apex.  Names and
# sizes matter to the query tests:
#   www      A and AAAA, the name a test asks to see that the zone is served
#   mid      one TXT RRset whose answer is between 100 and 512 octets
#   k1       TXT answer between 512 and 1232 octets
#   big      TXT answer over 1232 octets (truncated at ICBIND's UDP limit)
#   *.wild   a wildcard; sub is a delegation with glue
GOOD_RECORDS = [
    ("@", 3600, "NS", "ns1.example.com."),
    ("@", 3600, "NS", "ns2.example.com."),
    ("@", 3600, "MX", "10 mail.example.com."),
    ("ns1", 3600, "A", "192.0.2.1"),
    ("ns2", 3600, "A", "192.0.2.2"),
    ("ns2", 3600, "AAAA", "2001:db8::2"),
    ("www", 3600, "A", "192.0.2.80"),
    ("www", 3600, "AAAA", "2001:db8::80"),
    ("mail", 3600, "A", "192.0.2.25"),
    ("ftp", 3600, "CNAME", "www.example.com."),
    ("txt", 3600, "TXT", '"hello world"'),
    ("mid", 3600, "TXT", '"%s" "%s"' % ("m" * 120, "n" * 120)),
] + [
    ("k1", 3600, "TXT", '"k1-%02d-%s"' % (i, "k" * 80)) for i in range(9)
] + [
    ("big", 3600, "TXT", '"big-%02d-%s"' % (i, "b" * 110)) for i in range(16)
] + [
    # names that are easy to get wrong in a lookup key: a label with a dot
    # in it, with zero octets, with octet 255, mixed case, prefixes
    ("a\\.b", 3600, "A", "192.0.2.161"),
    ("\\000", 3600, "A", "192.0.2.162"),
    ("\\000\\000x", 3600, "A", "192.0.2.163"),
    ("x", 3600, "A", "192.0.2.164"),
    ("x\\000", 3600, "A", "192.0.2.165"),
    ("\\255", 3600, "A", "192.0.2.166"),
    ("MiXeD", 3600, "A", "192.0.2.167"),
    ("l" * 63, 3600, "A", "192.0.2.168"),
    # a name of exactly 255 octets
    (".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 49]), 3600, "A", "192.0.2.169"),
    ("*.wild", 3600, "A", "192.0.2.99"),
    ("sub", 3600, "NS", "ns.sub.example.com."),
    ("ns.sub", 3600, "A", "192.0.2.53"),
]

# mode -> what is wrong with the transfer.
MODES = {
    "good": "nothing: a valid transfer",
    # valid too, in less common ways
    "good-qd-all": "a valid transfer with the question in every message (RFC 5936 2.2.1 allows it)",
    "good-huge-rr": "a valid transfer with a TXT record of 64000 octets of RDATA in a "
                    "message of its own (huge.example.com.)",
    "good-ptr-rdata": "a valid transfer in which an owner name is a pointer to an earlier "
                      "SRV target (srv-target.example.com. A 192.0.2.44)",
    # one fault each; those of RECORD_MODES are one bad record in the middle
    # of the first message (rdlen-past-end: at its end)
    "ptr-loop": "an owner name that is a label and a pointer to the label's own start (a loop)",
    "ptr-forward": "an owner name that is a pointer to a valid name later in the message",
    "ptr-beyond": "an owner name that is a pointer past the end of the message",
    "label-64": "an owner name with a label of 64 octets (length octet 0x40)",
    "name-too-long": "an owner name of 5 labels of 63 octets plus a pointer to the zone (over 255)",
    "rdlen-past-end": "the last record of a message (TYPE65280) has RDLENGTH 200 with 4 octets left",
    "a-rdlen-5": "an A record with RDLENGTH 5",
    "mx-no-name": "an MX record of RDLENGTH 2 (preference only, no exchange)",
    "ancount-larger": "ANCOUNT one more than the records in the message",
    "ancount-smaller": "ANCOUNT one less than the records in the message (one trailing record)",
    "no-final-soa": "the transfer ends without the final SOA and the connection is closed",
    "final-soa-differs": "the final SOA has another serial than the first",
    "txt-string-overrun": "a TXT record of RDLENGTH 6 whose string says 10 octets",
    "nsec-compressed": "an NSEC record whose next name is compressed (RFC 4034 4.1.1 forbids it)",
    "soa-short": "the first SOA's RDATA stops after the serial (RDLENGTH too short for an SOA)",
    "out-of-zone": "a record www.example.net. A in the transfer",
    "class-ch": "a record chaos.example.com. CH TXT in the transfer (ICBIND drops it, the zone loads)",
    "first-not-soa": "the first record is an NS, the SOA comes second",
    "rcode-refused": "the answer has rcode REFUSED and no records",
    "rcode-notauth": "the answer has rcode NOTAUTH and no records",
    "wrong-id": "the first message has another ID than the query",
    "wrong-id-mid": "the second message has another ID than the query",
    "qr-clear": "the first message has the QR bit clear",
    "tc-set": "the first message has the TC bit set",
    "stall": "half of the first message is sent, then nothing for stall_seconds",
    "endless": "records keep coming, never a final SOA (the fake stops after its cap)",
    "garbage-after": "16 octets of garbage on the stream after the final message",
}

MAX_CONNS = 16

# Faults inside IXFR differences (RFC 1995): answered as differences to an
# IXFR request, with a good whole zone to the AXFR that should follow.
IXFR_FAULTS = {
    "ixfr-broken-chain": "a difference that starts from a serial the secondary does not have",
    "ixfr-delete-missing": "a difference that deletes a record the zone does not hold",
    "ixfr-soa-close": "only the new SOA in one message, then the connection closed",
    "ixfr-stall": "half of the first message is sent, then nothing for stall_seconds",
}


MODES.update(IXFR_FAULTS)


def build_bad_ixfr(mode, have, serial, msg_id, question, zone=ZONE):
    """One IXFR message: SOA(new), then one difference from `have` (or, for
    the broken chain, from another serial) to `serial`, then SOA(new)."""
    (apex, ttl, _), _ = zone_records(serial, zone)

    def soa(n):
        return dns.rdata.from_text(
            "IN", "SOA", "ns1.%s hostmaster.%s %d 3600 3600 1209600 300" % (zone, zone, n))

    origin = dns.name.from_text(zone)
    m = _Msg(msg_id, dns.flags.QR | dns.flags.AA, question)
    m.add(apex, ttl, soa(serial))
    if mode in ("ixfr-soa-close", "ixfr-stall"):
        return m.wire()
    m.add(apex, ttl, soa(have - 7 if mode == "ixfr-broken-chain" else have))
    if mode == "ixfr-delete-missing":
        m.add(dns.name.from_text("nothere", origin), 300, dns.rdata.from_text("IN", "A", "192.0.2.254"))
    m.add(apex, ttl, soa(serial))
    m.add(dns.name.from_text("added", origin), 300, dns.rdata.from_text("IN", "A", "192.0.2.77"))
    m.add(apex, ttl, soa(serial))
    return m.wire()


def zone_records(serial, zone=ZONE):
    """((apex, ttl, soa_rdata), [(name, ttl, rdata), ...]) of the good zone."""
    origin = dns.name.from_text(zone)
    soa = dns.rdata.from_text(
        "IN", "SOA", "ns1.%s hostmaster.%s %d 3600 3600 1209600 300" % (zone, zone, serial))
    recs = []
    for owner, ttl, rtype, text in GOOD_RECORDS:
        name = origin if owner == "@" else dns.name.from_text(owner, origin=origin)
        recs.append((name, ttl, dns.rdata.from_text("IN", rtype, text, origin=origin, relativize=False)))
    return (origin, 3600, soa), recs


class _Msg:
    """One DNS message written the way a server writes it: a BytesIO whose
    offsets are message offsets, and a dnspython compression table."""

    def __init__(self, msg_id, flags, question=None):
        self.f = io.BytesIO()
        self.f.write(b"\0" * 12)
        self.comp = {}
        self.id = msg_id
        self.flags = flags
        self.qd = 0
        self.an = 0
        self.qname_off = None
        if question is not None:
            qname, qtype, qclass = question
            self.qname_off = self.f.tell()
            qname.to_wire(self.f, self.comp)
            self.f.write(struct.pack("!HH", qtype, qclass))
            self.qd = 1

    def tell(self):
        return self.f.tell()

    def add(self, name, ttl, rd, rclass=C_IN):
        name.to_wire(self.f, self.comp)
        self.f.write(struct.pack("!HHI", rd.rdtype, rclass, ttl))
        at = self.f.tell()
        self.f.write(b"\0\0")
        rd.to_wire(self.f, self.comp, None)
        end = self.f.tell()
        self.f.seek(at)
        self.f.write(struct.pack("!H", end - at - 2))
        self.f.seek(end)
        self.an += 1

    def raw(self, data, count=1):
        self.f.write(data)
        self.an += count

    def wire(self, an=None):
        body = self.f.getvalue()
        hdr = struct.pack("!HHHHHH", self.id, self.flags, self.qd,
                          self.an if an is None else an, 0, 0)
        return hdr + body[12:]


def _label(s):
    b = s.encode() if isinstance(s, str) else s
    return bytes([len(b)]) + b


def _rr_tail(rtype, rclass, ttl, rdata, rdlen=None):
    return struct.pack("!HHIH", rtype, rclass, ttl,
                       len(rdata) if rdlen is None else rdlen) + rdata


def _zone_wire(zone=ZONE):
    return dns.name.from_text(zone).to_wire()


def _hostile_record(mode, m, zone=ZONE):
    """Raw bytes of the one bad record of a record-level mode, written at
    the current end of message m (offsets matter for pointers)."""
    off = m.tell()
    zptr = struct.pack("!H", 0xC000 | m.qname_off)   # the zone name, in the question
    a_rdata = bytes([192, 0, 2, 7])
    if mode == "ptr-loop":
        # "\x04loop" then a pointer back to the "\x04" itself
        owner = _label("loop") + struct.pack("!H", 0xC000 | off)
        return owner + _rr_tail(T_A, C_IN, 3600, a_rdata)
    if mode == "ptr-forward":
        # owner: pointer to the CNAME target that stands in this record's
        # own RDATA, uncompressed and valid ("fwd.example.com.")
        target = _label("fwd") + _zone_wire(zone)
        rdata_off = off + 2 + 10
        return (struct.pack("!H", 0xC000 | rdata_off)
                + _rr_tail(T_CNAME, C_IN, 3600, target))
    if mode == "ptr-beyond":
        return struct.pack("!H", 0xC000 | 0x3FF0) + _rr_tail(T_A, C_IN, 3600, a_rdata)
    if mode == "label-64":
        return bytes([64]) + b"x" * 64 + zptr + _rr_tail(T_A, C_IN, 3600, a_rdata)
    if mode == "name-too-long":
        owner = b"".join(_label(("%d" % i) * 63) for i in range(1, 5)) + _label("y" * 63) + zptr
        return owner + _rr_tail(T_A, C_IN, 3600, a_rdata)
    if mode == "a-rdlen-5":
        return _label("bad-a") + zptr + _rr_tail(T_A, C_IN, 3600, a_rdata + b"\x01")
    if mode == "mx-no-name":
        return _label("bad-mx") + zptr + _rr_tail(T_MX, C_IN, 3600, b"\x00\x0a")
    if mode == "out-of-zone":
        return (_label("www") + _label("example") + _label("net") + b"\0"
                + _rr_tail(T_A, C_IN, 3600, a_rdata))
    if mode == "txt-string-overrun":
        return _label("bad-txt") + zptr + _rr_tail(T_TXT, C_IN, 3600, b"\x0aabcde")
    if mode == "nsec-compressed":
        # next name "www" + pointer to the zone, bitmap: window 0, A
        return (_label("nsec") + zptr
                + _rr_tail(47, C_IN, 3600, _label("www") + zptr + b"\x00\x01\x40"))
    if mode == "class-ch":
        return _label("chaos") + zptr + _rr_tail(T_TXT, C_CH, 3600, b"\x05chaos")
    if mode == "rdlen-past-end":
        # a private-use type: opaque RDATA, only RDLENGTH can be wrong
        return _label("cut") + zptr + _rr_tail(65280, C_IN, 3600, a_rdata, rdlen=200)
    raise ValueError(mode)


RECORD_MODES = ("ptr-loop", "ptr-forward", "ptr-beyond", "label-64", "name-too-long",
                "a-rdlen-5", "mx-no-name", "out-of-zone", "class-ch", "rdlen-past-end",
                "txt-string-overrun", "nsec-compressed")


def build_transfer(mode, serial, n_messages, msg_id, question, zone=ZONE):
    """The list of DNS messages (without length prefixes) of a transfer in
    this mode, and whether to close the connection after sending them.
    Not for "stall" and "endless", which are streamed (see _serve_axfr)."""
    (apex, soa_ttl, soa), recs = zone_records(serial, zone)
    aa = dns.flags.QR | dns.flags.AA
    n_messages = max(1, min(n_messages, len(recs)))
    chunks = [recs[i * len(recs) // n_messages:(i + 1) * len(recs) // n_messages]
              for i in range(n_messages)]
    close = False

    if mode in ("rcode-refused", "rcode-notauth"):
        rc = dns.rcode.REFUSED if mode == "rcode-refused" else dns.rcode.NOTAUTH
        m = _Msg(msg_id, dns.flags.QR | rc, question)
        return [m.wire()], False

    msgs = []
    for i, chunk in enumerate(chunks):
        flags = aa
        mid = msg_id
        if i == 0 and mode == "wrong-id":
            mid = (msg_id + 1) & 0xFFFF
        if i == 1 and mode == "wrong-id-mid":
            mid = (msg_id ^ 0x5555) & 0xFFFF
        if i == 0 and mode == "qr-clear":
            flags &= ~dns.flags.QR
        if i == 0 and mode == "tc-set":
            flags |= dns.flags.TC
        m = _Msg(mid, flags, question if i == 0 or mode == "good-qd-all" else None)
        body = list(chunk)
        if i == 0:
            if mode == "first-not-soa":
                m.add(*body[0])
                m.add(apex, soa_ttl, soa)
                body = body[1:]
            elif mode == "soa-short":
                # owner, then MNAME RNAME SERIAL and nothing more
                zptr = struct.pack("!H", 0xC000 | m.qname_off)
                rd = _label("ns1") + zptr + _label("hostmaster") + zptr + struct.pack("!I", serial)
                m.raw(zptr + _rr_tail(T_SOA, C_IN, soa_ttl, rd))
            else:
                m.add(apex, soa_ttl, soa)
        # the bad record of a record-level mode goes in the middle of the
        # first message (good records follow it), except rdlen-past-end,
        # which must be the last thing in its message
        middle = len(body) // 2 if mode != "rdlen-past-end" else len(body)
        for k, rec in enumerate(body):
            if i == 0 and k == middle and mode in RECORD_MODES:
                m.raw(_hostile_record(mode, m, zone))
            m.add(*rec)
        if i == 0 and middle == len(body) and mode in RECORD_MODES:
            m.raw(_hostile_record(mode, m, zone))
        if i == 0 and mode == "good-ptr-rdata":
            # _srv._tcp SRV 0 0 80 srv-target.example.com. (target written
            # out, as RFC 2782 wants), then an A record whose owner points
            # to that target
            zptr = struct.pack("!H", 0xC000 | m.qname_off)
            target = _label("srv-target") + _zone_wire(zone)
            srv_off = m.tell()
            m.raw(_label("_srv") + _label("_tcp") + zptr
                  + _rr_tail(33, C_IN, 3600, struct.pack("!HHH", 0, 0, 80) + target))
            target_off = srv_off + 5 + 5 + 2 + 10 + 6
            m.raw(struct.pack("!H", 0xC000 | target_off)
                  + _rr_tail(T_A, C_IN, 3600, bytes([192, 0, 2, 44])))
        an = None
        if i == 0 and mode == "ancount-larger":
            an = m.an + 1
        if i == 0 and mode == "ancount-smaller":
            an = m.an - 1
        if i == len(chunks) - 1:
            if mode == "no-final-soa":
                close = True
            elif mode == "final-soa-differs":
                soa2 = dns.rdata.from_text(
                    "IN", "SOA", "ns1.%s hostmaster.%s %d 3600 3600 1209600 300"
                    % (zone, zone, (serial + 1) & 0xFFFFFFFF))
                m.add(apex, soa_ttl, soa2)
            else:
                m.add(apex, soa_ttl, soa)
        msgs.append(m.wire(an))
        if mode == "good-huge-rr" and i == 0:
            huge = dns.rdata.from_text("IN", "TXT", " ".join(
                '"%s"' % (chr(97 + k % 26) * 255) for k in range(250)))
            hm = _Msg(msg_id, aa)
            hm.add(dns.name.from_text("huge", origin=apex), 3600, huge)
            msgs.append(hm.wire())
    return msgs, close


def frame(msg):
    return struct.pack("!H", len(msg)) + msg


def _recv_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        if time.time() > deadline:
            return None
        try:
            chunk = sock.recv(n - len(buf))
        except socket.timeout:
            continue
        except OSError:
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


class FakePrimary:
    """The fake primary.  Use as a context manager or start()/stop().

    events: a list of (time, kind, detail) it appends to, e.g.
      ("soa", "udp"), ("xfr", mode), ("xfr-end", "client-closed"|"cap"|...).
    """

    def __init__(self, mode="good", serial=2024010101, messages=2, zone=ZONE,
                 addr="127.0.0.1", port=None, stall_seconds=6.0,
                 endless_seconds=4.0, endless_bytes=24 << 20, endless_pause=0.0):
        from icbind_proc import free_port
        self.addr = addr
        self.port = port or free_port(addr)
        self.zone = zone
        self.mode = mode
        self.serial = serial
        self.messages = messages
        self.stall_seconds = stall_seconds
        self.endless_seconds = endless_seconds
        self.endless_bytes = endless_bytes
        self.endless_pause = endless_pause  # seconds between messages: slow but steady
        self.events = []
        self.dribble = False  # send transfers in tiny pieces
        # how SOA queries are answered: "good"; "drop" (no answer); "tc"
        # (over UDP: TC set and no answer; over TCP good); "wrong-id";
        # "garbage" (a header and two pointers); "refused"
        self.soa_mode = "good"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._conns = 0
        self.udp = None
        self.tcp = None

    # -- control ---------------------------------------------------------
    def set_mode(self, mode, serial=None, messages=None):
        assert mode in MODES, mode
        with self._lock:
            self.mode = mode
            if serial is not None:
                self.serial = serial
            if messages is not None:
                self.messages = messages

    def event(self, kind, detail=""):
        with self._lock:
            self.events.append((time.time(), kind, detail))

    def count(self, kind, detail=None):
        with self._lock:
            return sum(1 for _, k, d in self.events
                       if k == kind and (detail is None or d == detail))

    def wait_event(self, kind, timeout=5.0, detail=None, at_least=1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.count(kind, detail) >= at_least:
                return True
            time.sleep(0.02)
        return False

    def start(self):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((self.addr, self.port))
        self.udp.settimeout(0.2)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((self.addr, self.port))
        self.tcp.listen(16)
        self.tcp.settimeout(0.2)
        for fn in (self._udp_loop, self._tcp_loop):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        self._stop.set()
        for t in list(self._threads):
            t.join(timeout=3)
        for s in (self.udp, self.tcp):
            if s is not None:
                s.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def addr_str(self):
        return "%s@%d" % (self.addr, self.port)

    # -- answers ---------------------------------------------------------
    def _soa_answer(self, q):
        with self._lock:
            serial = self.serial
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        (apex, ttl, soa), _ = zone_records(serial, self.zone)
        if q.question[0].name == apex:
            rrs = r.find_rrset(r.answer, apex, dns.rdataclass.IN, dns.rdatatype.SOA, create=True)
            rrs.update_ttl(ttl)
            rrs.add(soa)
        else:
            r.set_rcode(dns.rcode.NOTAUTH)
            r.flags &= ~dns.flags.AA
        return r.to_wire()

    def _answer(self, wire, transport="udp"):
        """Answer to a non-transfer query, or None to stay silent."""
        try:
            q = dns.message.from_wire(wire)
        except Exception:
            return None
        if q.flags & dns.flags.QR or len(q.question) != 1:
            return None
        if q.opcode() != dns.opcode.QUERY:
            r = dns.message.make_response(q)
            r.set_rcode(dns.rcode.NOTIMP)
            return r.to_wire()
        if q.question[0].rdtype == dns.rdatatype.SOA:
            with self._lock:
                soa_mode = self.soa_mode
            if soa_mode == "drop":
                return None
            if soa_mode == "drop-udp" and transport == "udp":
                return None  # a filter that lets only TCP through
            if soa_mode == "tc" and transport == "udp":
                r = dns.message.make_response(q)
                r.flags |= dns.flags.AA | dns.flags.TC
                return r.to_wire()
            ans = self._soa_answer(q)
            if soa_mode == "wrong-id":
                ans = struct.pack("!H", (q.id + 1) & 0xFFFF) + ans[2:]
            elif soa_mode == "garbage":
                ans = ans[:12] + b"\xc0\x0c\xc0\x0c"
            elif soa_mode == "refused":
                r = dns.message.make_response(q)
                r.set_rcode(dns.rcode.REFUSED)
                ans = r.to_wire()
            return ans
        r = dns.message.make_response(q)
        r.set_rcode(dns.rcode.REFUSED)
        return r.to_wire()

    def _udp_loop(self):
        while not self._stop.is_set():
            try:
                wire, peer = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.event("soa", "udp")
            ans = self._answer(wire, "udp")
            if ans is not None:
                try:
                    self.udp.sendto(ans, peer)
                except OSError:
                    pass

    def _tcp_loop(self):
        while not self._stop.is_set():
            try:
                conn, peer = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                busy = self._conns >= MAX_CONNS
                if not busy:
                    self._conns += 1
            if busy:
                conn.close()
                continue
            t = threading.Thread(target=self._tcp_conn, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _tcp_conn(self, conn):
        conn.settimeout(0.2)
        deadline = time.time() + 30
        try:
            while not self._stop.is_set() and time.time() < deadline:
                hdr = _recv_exact(conn, 2, min(deadline, time.time() + 5))
                if hdr is None:
                    return
                (ln,) = struct.unpack("!H", hdr)
                wire = _recv_exact(conn, ln, deadline)
                if wire is None:
                    return
                try:
                    q = dns.message.from_wire(wire)
                    qtype = q.question[0].rdtype if q.question else None
                except Exception:
                    return
                if qtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
                    if not self._serve_axfr(conn, q):
                        return
                else:
                    self.event("soa", "tcp")
                    ans = self._answer(wire, "tcp")
                    if ans is None:
                        continue
                    conn.sendall(frame(ans))
        except OSError:
            pass
        finally:
            conn.close()
            with self._lock:
                self._conns -= 1

    def _sleep(self, seconds):
        self._stop.wait(seconds)

    def _serve_axfr(self, conn, q):
        """Stream the transfer; False to close the connection afterwards."""
        with self._lock:
            mode, serial, nmsg = self.mode, self.serial, self.messages
        self.event("xfr", mode)
        self.event("xfr-serial", serial)
        qq = q.question[0]
        self.event("xfr-qtype", dns.rdatatype.to_text(qq.rdtype))
        question = (qq.name, T_AXFR if qq.rdtype == dns.rdatatype.AXFR else T_IXFR, qq.rdclass)
        if mode == "stall":
            msgs, _ = build_transfer("good", serial, nmsg, q.id, question, self.zone)
            data = frame(msgs[0])
            conn.sendall(data[:len(data) // 2])
            self.event("xfr-end", "stalled")
            self._sleep(self.stall_seconds)
            return False
        if mode == "endless":
            return self._serve_endless(conn, q, serial, question)
        if mode in IXFR_FAULTS:
            if qq.rdtype == dns.rdatatype.IXFR and q.authority:
                msgs = [build_bad_ixfr(mode, q.authority[0][0].serial, serial, q.id, question,
                                       self.zone)]
                if mode == "ixfr-stall":
                    data = frame(msgs[0])
                    conn.sendall(data[:len(data) // 2])
                    self.event("xfr-end", "stalled")
                    self._sleep(self.stall_seconds)
                    return False
            else:  # the AXFR that follows: a good zone
                msgs, _ = build_transfer("good", serial, nmsg, q.id, question, self.zone)
            conn.sendall(b"".join(frame(m) for m in msgs))
            self.event("xfr-end", "sent")
            return mode != "ixfr-soa-close"
        msgs, close = build_transfer(mode, serial, nmsg, q.id, question, self.zone)
        data = b"".join(frame(m) for m in msgs)
        if mode == "garbage-after":
            data += bytes(range(0xF0, 0x100))
        if self.dribble:
            self._send_dribble(conn, data)
        else:
            conn.sendall(data)
        self.event("xfr-end", "sent")
        return not close

    def _send_dribble(self, conn, data):
        """Send in pieces of 1..9 octets (seeded), each its own segment, so
        that the reader sees every kind of split: in a length prefix, in a
        header, in a name, between the two octets of a pointer."""
        import random
        rng = random.Random(len(data))
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        i = 0
        deadline = time.time() + 20
        while i < len(data) and not self._stop.is_set() and time.time() < deadline:
            n = rng.randint(1, 9)
            conn.sendall(data[i:i + n])
            i += n
            time.sleep(0.0003)

    def _serve_endless(self, conn, q, serial, question):
        """SOA, then messages of ~2600 new A records each, for ever (up to
        endless_seconds / endless_bytes).  Raw bytes: Python must not be
        the bottleneck."""
        (apex, ttl, soa), _ = zone_records(serial, self.zone)
        m = _Msg(q.id, dns.flags.QR | dns.flags.AA, question)
        m.add(apex, ttl, soa)
        zone = _zone_wire(self.zone)
        tail = struct.pack("!HHIH", T_A, C_IN, 3600, 4)
        sent = 0
        i = 0
        start = time.time()
        try:
            conn.sendall(frame(m.wire()))
            conn.settimeout(2.0)
            while not self._stop.is_set():
                if time.time() - start > self.endless_seconds or sent > self.endless_bytes:
                    self.event("xfr-end", "cap")
                    return False
                # first owner written out in full at offset 12, the others
                # point to its zone part
                parts = [b"\x08h%07d" % i + zone + tail + struct.pack("!I", 0x0A000000 | i)]
                ptr = struct.pack("!H", 0xC000 | 21)
                n = 2600
                for j in range(i + 1, i + n):
                    parts.append(b"\x08h%07d" % j + ptr + tail + struct.pack("!I", 0x0A000000 | (j & 0xFFFFFF)))
                i += n
                body = struct.pack("!HHHHHH", q.id, dns.flags.QR | dns.flags.AA, 0, n, 0, 0) + b"".join(parts)
                conn.sendall(frame(body))
                sent += len(body) + 2
                if self.endless_pause:
                    time.sleep(self.endless_pause)
        except socket.timeout:
            self.event("xfr-end", "client-stalled")
            return False
        except OSError:
            self.event("xfr-end", "client-closed")
            return False
        self.event("xfr-end", "stopped")
        return False


# -- client helpers for the tests ------------------------------------------

def udp_exchange(port, wire, timeout=1.0, addr="127.0.0.1"):
    """Send one datagram, return the reply bytes or None after timeout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(wire, (addr, port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None
    finally:
        s.close()


def tcp_exchange(port, wire, timeout=2.0, addr="127.0.0.1"):
    """Send one length-prefixed message, return the reply bytes, or None
    if the connection closed or nothing came before the timeout."""
    s = socket.create_connection((addr, port), timeout=timeout)
    try:
        s.sendall(frame(wire))
        deadline = time.time() + timeout
        hdr = _recv_exact(s, 2, deadline)
        if hdr is None:
            return None
        return _recv_exact(s, struct.unpack("!H", hdr)[0], deadline)
    finally:
        s.close()


def query(port, qname, qtype="A", qclass="IN", tcp=False, timeout=1.0, tries=3, **kw):
    """A dnspython query over UDP or TCP; the reply as a dns.message.Message
    (None when nothing came)."""
    q = dns.message.make_query(qname, qtype, qclass, **kw)
    for _ in range(tries):
        wire = (tcp_exchange if tcp else udp_exchange)(port, q.to_wire(), timeout)
        if wire is not None:
            return dns.message.from_wire(wire)
    return None


def soa_serial(port, zone=ZONE, tcp=False):
    r = query(port, zone, "SOA", tcp=tcp)
    if r is None or r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def send_notify(port, zone=ZONE, serial=None, timeout=1.0, tries=3, addr="127.0.0.1"):
    """Send a NOTIFY for zone (with the SOA in the answer when serial is
    given) from addr; returns ICBIND's reply, or None."""
    m = dns.message.make_query(zone, "SOA")
    m.flags = dns.flags.AA  # RD clear; the opcode lives in the flags too,
    m.set_opcode(dns.opcode.NOTIFY)  # so it is set after them
    if serial is not None:
        rrs = m.find_rrset(m.answer, dns.name.from_text(zone), dns.rdataclass.IN,
                           dns.rdatatype.SOA, create=True)
        rrs.update_ttl(3600)
        rrs.add(dns.rdata.from_text("IN", "SOA", "ns1.%s hostmaster.%s %d 3600 3600 1209600 300"
                                    % (zone, zone, serial)))
    for _ in range(tries):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((addr, 0))
            s.settimeout(timeout)
            s.sendto(m.to_wire(), ("127.0.0.1", port))
            try:
                return dns.message.from_wire(s.recv(65535))
            except socket.timeout:
                continue
        finally:
            s.close()
    return None


def require_icbind():
    """Fail (not skip) when the icbind binary is missing."""
    import os
    import pytest
    import icbind_proc
    if not os.access(icbind_proc.ICBIND, os.X_OK):
        pytest.fail("%s does not exist or is not executable: run `make` first"
                    % icbind_proc.ICBIND)


def stop_icbind_clean(icb):
    """Stop icbind; fail if it had died, did not exit cleanly on SIGTERM, or
    its log has a sanitizer report.  Returns the log."""
    import shutil
    import signal
    from icbind_proc import assert_sanitizer_clean
    was_alive = icb.alive()
    rc = icb.stop()
    text = icb.logtext()
    assert_sanitizer_clean(text)
    assert was_alive, "icbind had exited (%s) before the end of the test:\n%s" % (rc, text[-4000:])
    assert rc in (0, -signal.SIGTERM), "icbind exited with %s on SIGTERM:\n%s" % (rc, text[-4000:])
    shutil.rmtree(icb.dir, ignore_errors=True)
    return text


def icbind_config(primary_port, zone="example.com", extra_server="", extra_zone=""):
    """A config file text for one zone transferred from 127.0.0.1@primary_port."""
    return ("server:\n"
            "    xfr-timeout: 2\n"
            "    tcp-idle-timeout: 2\n"
            "%s"
            "zone:\n"
            "    name: %s\n"
            "    primary: 127.0.0.1@%d\n"
            "%s") % (extra_server, zone, primary_port, extra_zone)


if __name__ == "__main__":
    # Manual use: python3 fakeprimary.py MODE [PORT] [MESSAGES] -- serve until ^C
    # (at most 10 minutes).
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    mode = sys.argv[1] if len(sys.argv) > 1 else "good"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else None
    nmsg = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    with FakePrimary(mode=mode, port=port, messages=nmsg) as fp:
        print("fake primary, mode %s, on %s" % (mode, fp.addr_str()), flush=True)
        try:
            time.sleep(600)
        except KeyboardInterrupt:
            pass
