/* mtr_http.h - the metrics endpoint: libmicrohttpd without threads of its own, driven by memoptd's one
 * event loop (its epoll fd is a loop fd handler, its timeout a loop timer). The only user of
 * libmicrohttpd; GET /metrics serves mtr_collect(). */
#ifndef MEMOPT_MTR_HTTP_H
#define MEMOPT_MTR_HTTP_H

#include <stdint.h>

#include "../common/config.h"

/* Listen on [metrics] listen (nothing when "off"). cfg_ref points at the daemon's current
 * configuration pointer (swapped by a reload). ev_init() must have run. A listener that cannot be
 * opened is logged and left off (memory management does not depend on it; a reload tries again).
 * Returns 0, or -errno for what could not be opened. */
int mtr_http_init(const struct memopt_config *const *cfg_ref, uint64_t start_ms);
/* After a successful configuration reload: a changed address is opened first and swapped in only
 * when that worked; otherwise the running listener stays. Returns 0 or -errno (old listener kept). */
int mtr_http_reload(void);
/* Close the listener and every connection. */
void mtr_http_fini(void);

#endif
