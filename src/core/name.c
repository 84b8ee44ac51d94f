/* Domain names: parsing, checking, comparison, text form, lookup keys. */
#include "name.h"

#include <string.h>

const char *name_strerror(int err)
{
	switch (err) {
	case NAME_ETRUNC: return "name runs past the end of the message";
	case NAME_ELABEL: return "label longer than 63 octets or of a reserved type";
	case NAME_ELONG: return "name longer than 255 octets";
	case NAME_EPTR: return "compression pointer that does not point backwards";
	case NAME_ECOMP: return "compression pointer where none is allowed";
	case NAME_ETEXT: return "malformed name";
	default: return "valid name";
	}
}

int name_parse(struct cursor *c, uint8_t *out, int allow_comp)
{
	if (c->err)
		return NAME_ETRUNC;
	size_t pos = c->pos, seg_start = c->pos, end = 0;
	size_t olen = 0;
	int jumped = 0, rc;

	for (;;) {
		if (pos >= c->len) {
			rc = NAME_ETRUNC;
			goto fail;
		}
		uint8_t b = c->buf[pos];
		if (b == 0) {
			out[olen++] = 0;
			if (!jumped)
				end = pos + 1;
			break;
		}
		if ((b & 0xC0) == 0xC0) {
			if (!allow_comp) {
				rc = NAME_ECOMP;
				goto fail;
			}
			if (pos + 1 >= c->len) {
				rc = NAME_ETRUNC;
				goto fail;
			}
			size_t target = ((size_t)(b & 0x3F) << 8) | c->buf[pos + 1];
			if (!jumped)
				end = pos + 2;
			jumped = 1;
			/* Strictly before the part being read: every jump moves
			 * backwards, so the walk ends (no loops). */
			if (target >= seg_start) {
				rc = NAME_EPTR;
				goto fail;
			}
			pos = seg_start = target;
			continue;
		}
		if (b & 0xC0) { /* 0x40 and 0x80: RFC 6891 retired them */
			rc = NAME_ELABEL;
			goto fail;
		}
		if (pos + 1 + b > c->len) {
			rc = NAME_ETRUNC;
			goto fail;
		}
		if (olen + 1 + b + 1 > NAME_MAXLEN) {
			rc = NAME_ELONG;
			goto fail;
		}
		memcpy(out + olen, c->buf + pos, 1 + (size_t)b);
		olen += 1 + (size_t)b;
		pos += 1 + (size_t)b;
	}
	c->pos = end;
	return (int)olen;
fail:
	c->err = 1;
	return rc;
}

int name_check(const uint8_t *name, size_t len)
{
	size_t pos = 0;
	for (;;) {
		if (pos >= len)
			return NAME_ETRUNC;
		uint8_t b = name[pos];
		if (b == 0)
			return pos + 1 > NAME_MAXLEN ? NAME_ELONG : (int)(pos + 1);
		if (b > NAME_MAXLABEL)
			return (b & 0xC0) == 0xC0 ? NAME_ECOMP : NAME_ELABEL;
		pos += 1 + (size_t)b;
		if (pos >= NAME_MAXLEN)
			return NAME_ELONG;
	}
}

size_t name_len(const uint8_t *name)
{
	const uint8_t *p = name;
	while (*p)
		p += 1 + *p;
	return (size_t)(p - name) + 1;
}

unsigned name_labels(const uint8_t *name)
{
	unsigned n = 0;
	while (*name) {
		name += 1 + *name;
		n++;
	}
	return n;
}

void name_lower(uint8_t *name)
{
	while (*name) {
		uint8_t l = *name++;
		for (uint8_t i = 0; i < l; i++, name++)
			*name = name_lower_octet(*name);
	}
}

int name_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return 0;
		uint8_t l = *a;
		if (l == 0)
			return 1;
		a++;
		b++;
		for (uint8_t i = 0; i < l; i++)
			if (a[i] != b[i] && name_lower_octet(a[i]) != name_lower_octet(b[i]))
				return 0;
		a += l;
		b += l;
	}
}

const uint8_t *name_skip(const uint8_t *name, unsigned n)
{
	while (n-- && *name)
		name += 1 + *name;
	return name;
}

int name_in_zone(const uint8_t *name, const uint8_t *zone)
{
	unsigned nl = name_labels(name), zl = name_labels(zone);
	if (nl < zl)
		return -1;
	return name_equal(name_skip(name, nl - zl), zone) ? (int)(nl - zl) : -1;
}

int name_from_text(const char *s, uint8_t *out)
{
	size_t olen = 0;
	if (s[0] == '.' && s[1] == '\0') {
		out[0] = 0;
		return 1;
	}
	if (*s == '\0')
		return NAME_ETEXT;
	while (*s) {
		size_t lpos = olen++;
		uint8_t l = 0;
		if (*s == '.')
			return NAME_ETEXT; /* empty label */
		while (*s && *s != '.') {
			unsigned ch = (unsigned char)*s++;
			if (ch == '\\') {
				if (s[0] >= '0' && s[0] <= '9') {
					if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'))
						return NAME_ETEXT;
					ch = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 +
					     (unsigned)(s[2] - '0');
					if (ch > 255)
						return NAME_ETEXT;
					s += 3;
				} else if (*s) {
					ch = (unsigned char)*s++;
				} else {
					return NAME_ETEXT;
				}
			}
			if (l == NAME_MAXLABEL)
				return NAME_ELABEL;
			if (olen + 2 > NAME_MAXLEN)
				return NAME_ELONG;
			out[olen++] = (uint8_t)ch;
			l++;
		}
		out[lpos] = l;
		if (*s == '.')
			s++;
	}
	out[olen++] = 0;
	return (int)olen;
}

int name_to_text(const uint8_t *name, char *out, size_t len)
{
	size_t o = 0;
	if (len < 2)
		return -1;
	if (*name == 0) {
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	while (*name) {
		uint8_t l = *name++;
		for (uint8_t i = 0; i < l; i++) {
			uint8_t ch = name[i];
			if (o + 5 >= len)
				return -1;
			if (ch == '.' || ch == '\\' || ch == '"' || ch == '(' || ch == ')' ||
			    ch == ';' || ch == '@' || ch == '$') {
				out[o++] = '\\';
				out[o++] = (char)ch;
			} else if (ch <= 0x20 || ch >= 0x7F) {
				out[o++] = '\\';
				out[o++] = (char)('0' + ch / 100);
				out[o++] = (char)('0' + (ch / 10) % 10);
				out[o++] = (char)('0' + ch % 10);
			} else {
				out[o++] = (char)ch;
			}
		}
		name += l;
		if (o + 2 >= len)
			return -1;
		out[o++] = '.';
	}
	out[o] = '\0';
	return (int)o;
}

size_t name_key(const uint8_t *name, unsigned labels, uint8_t *key)
{
	/* Find the label starts, then emit them from the last to the first.
	 * Offsets fit an octet (a name is at most 255): 128 octets of stack
	 * rather than 128 pointers, on every lookup of the query path. */
	uint8_t lab[128];
	unsigned n = 0;
	const uint8_t *p = name;
	while (n < labels && *p) {
		lab[n++] = (uint8_t)(p - name);
		p += 1 + *p;
	}
	size_t k = 0;
	while (n--) {
		const uint8_t *l = name + lab[n];
		for (uint8_t i = 1; i <= l[0]; i++) {
			uint8_t ch = name_lower_octet(l[i]);
			if (ch < 2) { /* keep 0x00 free for the terminator */
				key[k++] = 1;
				key[k++] = (uint8_t)(ch + 1);
			} else {
				key[k++] = ch;
			}
		}
		key[k++] = 0;
	}
	return k;
}

int name_from_key(const uint8_t *key, size_t klen, const uint8_t *apex, uint8_t *out)
{
	/* Labels come root-first in the key: decode each into a scratch area,
	 * then lay them out leaf-first. */
	uint8_t tmp[NAME_MAXLEN];
	size_t starts[128], n = 0, t = 0, i = 0;
	while (i < klen) {
		if (n == 128 || t >= NAME_MAXLEN)
			return NAME_ELONG;
		starts[n++] = t++;
		uint8_t l = 0;
		while (i < klen && key[i] != 0) {
			uint8_t ch = key[i++];
			if (ch == 1 && i < klen)
				ch = (uint8_t)(key[i++] - 1);
			if (t >= NAME_MAXLEN)
				return NAME_ELONG;
			tmp[t++] = ch;
			l++;
		}
		tmp[starts[n - 1]] = l;
		i++; /* terminator */
	}
	size_t alen = name_len(apex), o = 0;
	if (t + alen > NAME_MAXLEN)
		return NAME_ELONG;
	while (n--) {
		size_t s = starts[n], l = tmp[s];
		memcpy(out + o, tmp + s, l + 1);
		o += l + 1;
	}
	memcpy(out + o, apex, alen);
	return (int)(o + alen);
}
