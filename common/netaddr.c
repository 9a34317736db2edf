/* netaddr.c - numeric listen addresses: parse "IPV4:PORT" / "[IPV6]:PORT", format, loopback test. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "netaddr.h"
#include "parse.h"

static int parse_port(const char *p, uint16_t *ret)
{
	const char *end = p + strlen(p), *next;
	uint64_t v;

	/* Strict decimal: "+1", " 1", "0x10" and a leading zero ("09720") are refused. */
	if (p == end || (p[0] == '0' && end - p > 1))
		return -EINVAL;
	if (prs_u64(p, end, &v, &next) < 0 || next != end || v < 1 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int naddr_parse(const char *s, struct naddr *ret)
{
	char host[NADDR_TEXT_MAX];
	const char *colon, *port;
	struct naddr a;
	uint16_t pn;

	if (!s || strlen(s) >= NADDR_TEXT_MAX)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.ss;

		if (!close || close[1] != ':')
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
		port = close + 2;
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1 || parse_port(port, &pn) < 0)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(pn);
		a.len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a.ss;

		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL; /* none, or an IPv6 address without brackets */
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		port = colon + 1;
		/* inet_pton takes only dotted quads (no "127.1", no octal), unlike inet_aton. */
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1 || parse_port(port, &pn) < 0)
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(pn);
		a.len = sizeof(*s4);
	}
	if (ret)
		*ret = a;
	return 0;
}

bool naddr_is_loopback(const struct naddr *a)
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
		const uint8_t *b = s6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
	}
	return false;
}

const char *naddr_format(const struct naddr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(s4->sin_port));
	}
	return buf;
}
