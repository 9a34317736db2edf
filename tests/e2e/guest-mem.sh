#!/bin/bash
# guest-mem.sh - print an e2e guest's own view of its memory: the last MEM line its init wrote on the serial console.
#
#   tests/e2e/guest-mem.sh NAME [FIELD]
#   tests/e2e/guest-mem.sh --file CONSOLE_LOG [FIELD]
#
# Without FIELD: the whole line, "MEM up=S MemTotal=K MemFree=K MemAvailable=K" (KiB, from the guest's
# /proc/meminfo; up is the guest's uptime in seconds, so two reads tell whether it is fresh).
# With FIELD (up, MemTotal, MemFree, MemAvailable): that value only.
# NAME is one of the harness's domains: its console log is found in the harness's records
# ($VIRT_STATE_DIR/domains), else in the domain XML through libvirt. Works while libvirtd is down.
# Exit: 0 printed, 1 no such guest or no MEM line yet, 2 usage.
set -u
. "$(dirname "$0")/lib-virt.sh"

usage() {
	echo "usage: $0 NAME [up|MemTotal|MemFree|MemAvailable]" >&2
	echo "       $0 --file CONSOLE_LOG [FIELD]" >&2
	exit 2
}

[ $# -ge 1 ] && [ $# -le 3 ] || usage
if [ "$1" = --file ]; then
	[ $# -ge 2 ] || usage
	log=$2
	field=${3:-}
else
	[ $# -le 2 ] || usage
	log=$(virt_console_of "$1") || {
		echo "guest-mem: no console log known for '$1'" >&2
		exit 1
	}
	field=${2:-}
fi
case $field in '' | up | MemTotal | MemFree | MemAvailable) ;; *) usage ;; esac

line=$(guest_mem_line "$log")
if [ -z "$line" ]; then
	echo "guest-mem: no MEM line in $log yet" >&2
	exit 1
fi
if [ -z "$field" ]; then
	printf '%s\n' "$line"
else
	printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$field=//p"
fi
