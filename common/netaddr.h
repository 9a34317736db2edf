/* netaddr.h - numeric "ADDRESS:PORT" listen addresses for memoptd.conf and the metrics listener. */
#ifndef MEMOPT_NETADDR_H
#define MEMOPT_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Longest accepted text: "[" IPv6 "]:" port. */
#define NADDR_TEXT_MAX 64

struct naddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Parse "IPV4:PORT" or "[IPV6]:PORT" (numeric only: no host names, so parsing never blocks on DNS and
 * a config that checks out means the same thing at the next start). PORT is 1..65535; an IPv6 scope
 * ("[fe80::1%eth0]") is refused. Returns 0 and fills *ret (when not NULL), or -EINVAL. Pure. */
int naddr_parse(const char *s, struct naddr *ret);

/* Whether the address is a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). Pure. */
bool naddr_is_loopback(const struct naddr *a);

/* "127.0.0.1:9720" / "[::1]:9720"; returns buf. */
const char *naddr_format(const struct naddr *a, char *buf, size_t len);

#endif
