# memopt - host memory optimizer for KVM hypervisors. One Makefile, pkg-config for every library.
#
#   make                 memoptd and memoptctl (and the test tools)
#   make check           every test tier this machine can run (unit, then integration, cluster and faults as root)
#   make check-unit      cmocka unit tests only
#   make check-integration  real-kernel tests (root, real /sys/kernel/mm/ksm)
#   make check-e2e       real libvirtd + QEMU guests (root): balloon end to end
#   make check-cluster   3 corosync nodes in network namespaces (root): headroom, admission, failover
#   make check-faults    the fault matrix (docs/fault-matrix.md): unwritable knob, read-only/full state
#                        dir, corrupt journal, SIGKILL mid-apply, libvirtd and corosync killed (root)
#   make bench-cluster   admission latency, view propagation, ordered reservations/s (root)
#   make asan            build everything with ASan+UBSan into build-asan/ and run the unit + integration tests
#   make fuzz            build the libFuzzer targets (clang) into build-fuzz/ and run each for FUZZ_SECONDS (60)
#   make fuzz-regress    run every fuzz target once over its committed corpus (part of make check when
#                        clang can link -fsanitize=fuzzer; see tests/fuzz/README.md)
#   make bench           every benchmark: bench-ksm, bench-balloon, bench-cluster, bench-ctl
#   make bench-ksm       KSM benchmark side by side against ksmtuned, the kernel advisor, defaults, all-out
#   make bench-balloon   balloon cost (1000 test-driver domains) and reaction on real guests vs the Proxmox rule
#   make bench-ctl       control-socket queries at full rate during short control cycles (fixture trees)
#   make deb             the Debian package, built from a clean copy of the tree, into $(B)/deb/
#   make check-deb       build it and test it: lintian, file list, the unpacked programs (test_deb.sh)
#   make check-valgrind  the integration tests with memoptd and memoptctl under valgrind
#   make install DESTDIR= PREFIX=/usr   binaries, config example, systemd unit (SYSTEMDUNITDIR), man pages,
#                        bash completion (BASHCOMPDIR)
#
# WERROR=1 (default) turns warnings into errors.

PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/memopt
# systemd units go to /lib/systemd/system on Debian 12 whatever PREFIX is (pkg-config systemd
# --variable=systemdsystemunitdir says the same there).
SYSTEMDUNITDIR ?= /lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=

CC ?= gcc
B ?= build
WERROR ?= 1
SANITIZE ?=

PKGS := libvirt libproc2 numa libcap-ng json-c libsystemd libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
# corosync (CPG + votequorum) is optional at build time: without it cluster-hook/clh_cs.c builds as a
# stub and [cluster] mode = corosync reports that memoptd was built without it.
CS_PKGS := libcpg libvotequorum
ifeq ($(shell pkg-config --exists $(CS_PKGS) && echo yes),yes)
PKG_CFLAGS += $(shell pkg-config --cflags $(CS_PKGS)) -DHAVE_COROSYNC=1
PKG_LIBS += $(shell pkg-config --libs $(CS_PKGS))
endif
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wformat-security -Wformat=2 -Wconversion -Wno-sign-conversion \
        -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
ifneq ($(SANITIZE),)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -I. -MMD -MP

# Subsystem libraries: what daemon and CLI share (common/) and the capability folders.
LIB_DIRS := common ksmtuned balloon numa sysctl cluster-hook metrics
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
DAEMON_SRCS := $(wildcard daemon/*.c)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(B)/%.o)
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(B)/%.o)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS := $(TOOL_SRCS:tests/tools/%.c=$(B)/tools/%)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNITS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

LIBMEMOPT := $(B)/libmemopt.a

.PHONY: all check check-unit check-bench-tools check-integration check-e2e check-cluster check-fuzz check-faults check-valgrind deb check-deb asan bench bench-ksm bench-balloon bench-cluster bench-ctl install clean format fuzz fuzz-build fuzz-targets fuzz-regress
all: $(B)/memoptd $(B)/memoptctl $(TOOLS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBMEMOPT): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(B)/memoptd: $(DAEMON_OBJS) $(LIBMEMOPT)
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIBMEMOPT) $(PKG_LIBS) -lm

$(B)/memoptctl: $(CLI_OBJS) $(LIBMEMOPT)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIBMEMOPT) $(PKG_LIBS) -lm

$(B)/tools/%: tests/tools/%.c $(LIBMEMOPT)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBMEMOPT) $(PKG_LIBS) -lm

# Unit tests link the library archive, so each pulls in only the modules it uses; a test may
# define a fake adapter, which then wins over the archive's real one. Daemon-side modules a test
# needs are listed in its first line as "/* UNIT-DEPS: daemon/ctlsrv.c */".
$(B)/tests/%: tests/unit/%.c $(LIBMEMOPT) $(DAEMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) $(LDFLAGS) -o $@ $< \
	  $(patsubst %.c,$(B)/%.o,$(shell sed -n '1s|.*UNIT-DEPS: *\(.*\) \*/.*|\1|p' $<)) \
	  $(LIBMEMOPT) $(PKG_LIBS) $(CMOCKA_LIBS) -lm

check: check-unit check-fuzz check-bench-tools check-integration check-cluster check-faults

# The benchmarks' baselines are code too: the Proxmox-rule re-implementation against Proxmox's own cases.
check-bench-tools:
	@bench/test-pve-autoballoon.sh

check-unit: $(UNITS)
	@tests/run-unit.sh $(UNITS)

check-integration: all
	@B=$(B) tests/run-integration.sh

# One test per fault (issue 6), on fixture trees plus a real libvirtd and one corosync node (root;
# scripts/install-deps.sh test e2e cluster, and strace). About 1.5 min.
check-faults: all
	@B=$(B) tests/faults/run-faults.sh

# Real libvirtd + TCG guests with virtio-balloon (root; scripts/install-deps.sh e2e).
check-e2e: all
	@B=$(B) tests/e2e/run-e2e.sh

# 3 network namespaces, one corosync + one memoptd each (root; scripts/install-deps.sh cluster).
check-cluster: all
	@B=$(B) tests/cluster/run-cluster.sh

# The integration tests with memoptd and memoptctl under valgrind memcheck (scripts/install-deps.sh
# valgrind); fails on any valgrind error. Tests holding the real KSM/host locks run only if those are free.
check-valgrind: all
	@B=$(B) tests/run-valgrind.sh

# Debian package (scripts/install-deps.sh deb): dpkg-buildpackage in a temp copy, result in $(B)/deb/.
deb:
	@B=$(B) scripts/build-deb.sh $(B)/deb

# Builds its own package into a temp dir; DEB_REAL_INSTALL=1 adds dpkg -i + purge on this machine (root).
check-deb:
	@B=$(B) bash tests/packaging/test_deb.sh

asan:
	$(MAKE) B=build-asan SANITIZE=address,undefined all $(patsubst $(B)/%,build-asan/%,$(UNITS))
	$(MAKE) B=build-asan SANITIZE=address,undefined check

# libFuzzer targets, one per parser (tests/fuzz/fuzz_*.c), built with clang into build-fuzz/: the library
# with -fsanitize=fuzzer-no-link,address,undefined, each target linked with -fsanitize=fuzzer.
FUZZ_B ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)

# Daemon-side modules a target needs are named in its first line, as for the unit tests.
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIBMEMOPT) $(DAEMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
	  $(patsubst %.c,$(B)/%.o,$(shell sed -n '1s|.*UNIT-DEPS: *\(.*\) \*/.*|\1|p' $<)) \
	  $(LIBMEMOPT) $(PKG_LIBS) -lm

fuzz-targets: $(FUZZERS)

fuzz-build:
	@tests/fuzz/run-fuzz.sh probe $(FUZZ_CC)
	$(MAKE) --no-print-directory B=$(FUZZ_B) CC=$(FUZZ_CC) SANITIZE=fuzzer-no-link,address,undefined fuzz-targets

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-fuzz.sh fuzz $(FUZZ_B)

fuzz-regress: fuzz-build
	@tests/fuzz/run-fuzz.sh regress $(FUZZ_B)

# In make check: the corpus replay, skipped with the reason when clang cannot build fuzzers here.
check-fuzz:
	@if tests/fuzz/run-fuzz.sh probe $(FUZZ_CC); then $(MAKE) --no-print-directory fuzz-regress; fi

bench: bench-ksm bench-balloon bench-cluster bench-ctl

bench-ksm: all
	@B=$(B) bench/ksm-bench.sh

bench-balloon: all
	@B=$(B) bench/balloon-bench.sh

# Latency, throughput and control-cycle lateness under memoptctl-style load (fixture trees, no root).
bench-ctl: all
	@B=$(B) bench/ctl-load.sh

# Admission latency, view propagation, ordered reservations/s on the 3-namespace cluster (root).
bench-cluster: all
	@B=$(B) bench/cluster-bench.sh

install: $(B)/memoptd $(B)/memoptctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/memopt $(DESTDIR)$(DOCDIR)
	install -m 0755 $(B)/memoptd $(DESTDIR)$(SBINDIR)/memoptd
	install -m 0755 $(B)/memoptctl $(DESTDIR)$(BINDIR)/memoptctl
	install -m 0644 docs/memoptd.conf.example $(DESTDIR)$(DOCDIR)/memoptd.conf.example
	test -e $(DESTDIR)$(SYSCONFDIR)/memopt/memoptd.conf || \
	  install -m 0644 docs/memoptd.conf.example $(DESTDIR)$(SYSCONFDIR)/memopt/memoptd.conf
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	sed 's|/usr/sbin/memoptd|$(SBINDIR)/memoptd|' contrib/systemd/memoptd.service >$(B)/memoptd.service
	install -m 0644 $(B)/memoptd.service $(DESTDIR)$(SYSTEMDUNITDIR)/memoptd.service
	install -m 0644 man/memoptd.conf.5 $(DESTDIR)$(MANDIR)/man5/memoptd.conf.5
	install -m 0644 man/memoptd.8 man/memoptctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 contrib/bash-completion/memoptctl $(DESTDIR)$(BASHCOMPDIR)/memoptctl

format:
	clang-format -i $(LIB_SRCS) $(DAEMON_SRCS) $(CLI_SRCS) $(wildcard */*.h)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# For building one module or test by hand while other modules are mid-edit:
#   gcc $(make -s print-cflags) -o /tmp/t tests/unit/test_units.c common/units.c $(make -s print-libs)
print-cflags:
	@echo $(ALL_CFLAGS) $(CMOCKA_CFLAGS)
print-libs:
	@echo $(PKG_LIBS) $(CMOCKA_LIBS) -lm
