/* jsonutil.h - scope-based ownership for json-c objects, for every module that builds or parses JSON. */
#ifndef MEMOPT_JSONUTIL_H
#define MEMOPT_JSONUTIL_H

#include <json-c/json.h>

static inline void json_object_putp(json_object **o) { if (*o) json_object_put(*o); }
#define _cleanup_json_ __attribute__((cleanup(json_object_putp)))

#endif
