/* bln_report.h - "what is memopt doing to each VM, and why?": the `guests` control command's result. */
#ifndef MEMOPT_BLN_REPORT_H
#define MEMOPT_BLN_REPORT_H

#include <json-c/json.h>
#include "bln_ctl.h"

/* One guest as a JSON object (schema in docs/protocol.md, `guests`); ksm_* fields read
 * <procfs_root>/<qemu pid>/ksm_stat. Returns a new object, or NULL when out of memory. */
json_object *bln_report_vm(const struct bln_vm *vm, const char *procfs_root);
/* The whole `guests` result from the module's view; {"available":false} when the module is not running.
 * Returns a new object, or NULL when out of memory. */
json_object *bln_report_json(const char *procfs_root);

#endif
