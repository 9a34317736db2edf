/* sctl_domxml.h - the few facts the host policy needs from a libvirt domain definition: its memory,
 * whether it is backed by hugepages (and of which size), and the host nodes it is bound to. */
#ifndef MEMOPT_SCTL_DOMXML_H
#define MEMOPT_SCTL_DOMXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCTL_DOM_NAME_MAX 128
#define SCTL_DOM_MAX 256

struct sctl_dom {
	char name[SCTL_DOM_NAME_MAX];
	uint64_t mem_kib;       /* <memory> */
	bool hugepages;         /* <memoryBacking><hugepages> */
	uint64_t page_kib;      /* <page size=...>; 0 = the host's default hugepage size */
	uint64_t host_nodes;    /* bitmask from <numatune><memory nodeset>/<memnode nodeset>; 0 = unbound */
};

/* Parse one domain XML (a <domain>, or libvirt's status XML <domstatus><domain>). A <page> nodeset
 * names guest cells, not host nodes, and is not used. Returns 0, or -EBADMSG when there is no
 * <domain> with a <name> and a <memory>. Pure. */
int sctl_parse_domain_xml(const char *xml, size_t len, struct sctl_dom *ret);

/* Read every *.xml directly in dir (bounded size each) into ret[0..max). Files that do not parse are
 * skipped with a warning. A missing dir is 0 domains. Returns the count or -errno. */
int sctl_read_domains(const char *dir, struct sctl_dom *ret, size_t max);

#endif
