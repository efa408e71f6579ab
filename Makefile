# SPDX-License-Identifier: GPL-2.0
# hotpage: top-level build.
#
#   make                 BPF objects, skeletons, userspace programs, tests
#   make deps            install the Debian packages the build and tests need
#   make kmod KERNEL=6.1|6.12|7.3   kmigrated.ko for a Debian kernel under qemu
#   make kmod KDIR=/lib/modules/$(uname -r)/build   for the running kernel
#   make check           unit, host BPF and VM tests (check-unit/-host/-vm)
#   make lint            clang-format, clang-tidy, cppcheck on new code; checkpatch on the module
#   make V=1             show the commands
#
# Layout of build/: bpf/ (BPF objects), skel/ (skeletons), obj/ and
# obj-san/ (userspace objects, plain and sanitized), bin/ (programs),
# tests/ (test binaries), kmod/<release>/ (modules), bench/ (results).

SHELL       := /bin/bash
OUTPUT      := build
ARCH        := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
CLANG       ?= clang
BPFTOOL     ?= bpftool
CC          ?= gcc
PKG_CONFIG  ?= pkg-config

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Product BPF programs live in bpf/, test-only ones in tests/bpf/ (as the
# kernel's selftests keep progs/ apart from the code under test).
BPF_SRCS      := $(wildcard bpf/*.bpf.c tests/bpf/*.bpf.c)
BPF_OBJS      := $(addprefix $(OUTPUT)/bpf/,$(notdir $(BPF_SRCS:.bpf.c=.bpf.o)))
SKELS         := $(addprefix $(OUTPUT)/skel/,$(notdir $(BPF_SRCS:.bpf.c=.skel.h)))
# Policy programs (hotpagectl policy attach NAME bpf=FILE) are loaded from
# their files by hotpaged: no skeleton. The tests' own sit beside them.
POLICY_SRCS   := $(wildcard bpf/policies/*.bpf.c tests/bpf/policies/*.bpf.c)
POLICY_OBJS   := $(addprefix $(OUTPUT)/bpf/policies/,$(notdir $(POLICY_SRCS:.bpf.c=.bpf.o)))
BPF_INCLUDES  := -Iinclude -Iinclude/arch/$(ARCH)
BPF_CFLAGS    := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		 $(BPF_INCLUDES) -idirafter /usr/include -idirafter /usr/include/$(shell uname -m)-linux-gnu

# Userspace, one folder per stage of the data path (the README's layout
# section says what each holds). A program's main is the file named after
# it; every other user/*/*.c is product code, archived once in
# libhotpage.a, which the programs and the tests link.
USER_DIRS     := user/sources user/hotness user/promote user/control user/daemon user/cmd user/lib
PROGRAMS      := hotpage-top hotpage-sources hotpaged hotpagectl
PROG_SRCS     := user/cmd/hotpage-top.c user/cmd/hotpage-sources.c user/daemon/hotpaged.c \
		 user/cmd/hotpagectl.c
LIB_SRCS      := $(filter-out $(PROG_SRCS),$(foreach d,$(USER_DIRS),$(wildcard $(d)/*.c)))
LIBS          := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) -lnuma

WARNINGS      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		 -Wno-missing-field-initializers
CFLAGS        ?= -O2 -g
CFLAGS        += -std=gnu11 $(WARNINGS) -Iinclude -I$(OUTPUT)/skel $(addprefix -I,$(USER_DIRS)) \
		 -D_GNU_SOURCE
# Each object and test binary lists the headers it included (-MMD) in a .d
# file beside it, read back below; -MP keeps a deleted header from
# breaking the build.
DEPFLAGS      = -MMD -MP -MF $@.d
SAN_FLAGS     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_OBJS      := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS))
LIB_SAN_OBJS  := $(patsubst user/%.c,$(OUTPUT)/obj-san/%.o,$(LIB_SRCS))
LIB           := $(OUTPUT)/obj/libhotpage.a
LIB_SAN       := $(OUTPUT)/obj-san/libhotpage.a
BINS          := $(addprefix $(OUTPUT)/bin/,$(PROGRAMS))

# Tests: tests/unit/test_*.c are cmocka suites (built with sanitizers);
# tests/host/*.c and tests/vm/*.c are test programs run by tests/run.
UNIT_SRCS     := $(wildcard tests/unit/test_*.c)
UNIT_BINS     := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/unit/%,$(UNIT_SRCS))
HOST_TEST_SRCS:= $(wildcard tests/host/*.c)
HOST_TEST_BINS:= $(patsubst tests/host/%.c,$(OUTPUT)/tests/host/%,$(HOST_TEST_SRCS))
# tests/host/*.sh: host tests as scripts, copied to build/tests/host/<name>.
HOST_TEST_SCRIPTS := $(patsubst tests/host/%.sh,$(OUTPUT)/tests/host/%,$(wildcard tests/host/*.sh))
VM_TEST_SRCS  := $(wildcard tests/vm/*.c)
VM_TEST_BINS  := $(patsubst tests/vm/%.c,$(OUTPUT)/tests/vm/%,$(VM_TEST_SRCS))
# tests/stress/*.c: guest stress scenarios, run by make check-stress.
STRESS_TEST_SRCS := $(wildcard tests/stress/*.c)
STRESS_TEST_BINS := $(patsubst tests/stress/%.c,$(OUTPUT)/tests/stress/%,$(STRESS_TEST_SRCS))
# tests/bench/*.c: benchmarks, run in guests by their bench-* targets.
BENCH_SRCS    := $(wildcard tests/bench/*.c)
BENCH_BINS    := $(patsubst tests/bench/%.c,$(OUTPUT)/tests/bench/%,$(BENCH_SRCS))

# tests/lib/*.c: the helpers the test programs share, compiled once and
# archived in libhptest.a, sanitized too for the unit tests. Test programs
# link it before libhotpage.a, whose code it calls.
TESTLIB_SRCS  := $(wildcard tests/lib/*.c)
TESTLIB_OBJS  := $(patsubst tests/lib/%.c,$(OUTPUT)/obj/tests-lib/%.o,$(TESTLIB_SRCS))
TESTLIB_SAN_OBJS := $(patsubst tests/lib/%.c,$(OUTPUT)/obj-san/tests-lib/%.o,$(TESTLIB_SRCS))
TESTLIB       := $(OUTPUT)/obj/libhptest.a
TESTLIB_SAN   := $(OUTPUT)/obj-san/libhptest.a

# BPF objects have no -MMD: clang -target bpf writes one, but the rule's
# temporary output would name the wrong target; they depend on all headers.
HDRS          := $(wildcard include/*.h include/hotpage/*.h bpf/*.h tests/bpf/*.h)

.PHONY: all deps kmod check check-unit check-host check-vm check-stress clean vmlinux-h tests lint bench-migrate bench-sources bench-aggregate bench-e2e
.DELETE_ON_ERROR:
# Keep the objects: relinking everything after each edit is slow enough.
.SECONDARY:

all: $(BINS) $(POLICY_OBJS) tests

tests: $(UNIT_BINS) $(HOST_TEST_BINS) $(HOST_TEST_SCRIPTS) $(VM_TEST_BINS) $(BENCH_BINS) \
       $(STRESS_TEST_BINS)

$(OUTPUT)/bpf $(OUTPUT)/bpf/policies $(OUTPUT)/skel $(OUTPUT)/bin \
$(OUTPUT)/tests/unit $(OUTPUT)/tests/host $(OUTPUT)/tests/vm $(OUTPUT)/tests/bench $(OUTPUT)/bench \
$(OUTPUT)/tests/stress:
	$(Q)mkdir -p $@

# .bpf.c -> .bpf.o -> .skel.h, as bcc's libbpf-tools does; policy programs
# stop at the object.
define bpf_rule
$(2)/$(notdir $(1:.bpf.c=.bpf.o)): $(1) $(HDRS) include/arch/$(ARCH)/vmlinux.h | $(2)
	$$(call msg,BPF,$$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $$< -o $$@.tmp
	$(Q)$(BPFTOOL) gen object $$@ $$@.tmp
	$(Q)rm -f $$@.tmp
endef
$(foreach src,$(BPF_SRCS),$(eval $(call bpf_rule,$(src),$(OUTPUT)/bpf)))
$(foreach src,$(POLICY_SRCS),$(eval $(call bpf_rule,$(src),$(OUTPUT)/bpf/policies)))

$(OUTPUT)/skel/%.skel.h: $(OUTPUT)/bpf/%.bpf.o | $(OUTPUT)/skel
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# Userspace objects need the skeletons to exist (order-only); which ones
# they include, and which headers, their .d files say.
$(OUTPUT)/obj/%.o: user/%.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUTPUT)/obj-san/%.o: user/%.c | $(SKELS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIB_SAN): $(LIB_SAN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

define prog_rule
$(OUTPUT)/bin/$(basename $(notdir $(1))): $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(1)) $(LIB) | $(OUTPUT)/bin
	$$(call msg,LINK,$$@)
	$(Q)$(CC) $(CFLAGS) $$^ $(LIBS) -o $$@
endef
$(foreach src,$(PROG_SRCS),$(eval $(call prog_rule,$(src))))

# Test programs: one .c each, the shared test helpers in tests/lib.
TEST_CFLAGS   = $(CFLAGS) -Itests/lib $(DEPFLAGS)

$(OUTPUT)/obj/tests-lib/%.o: tests/lib/%.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) -c $< -o $@

$(OUTPUT)/obj-san/tests-lib/%.o: tests/lib/%.c | $(SKELS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(TESTLIB): $(TESTLIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(TESTLIB_SAN): $(TESTLIB_SAN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUTPUT)/tests/unit/%: tests/unit/%.c $(TESTLIB_SAN) $(LIB_SAN) | $(OUTPUT)/tests/unit $(SKELS)
	$(call msg,CC-UNIT,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $(SAN_FLAGS) $< $(TESTLIB_SAN) $(LIB_SAN) $(LIBS) -lcmocka -o $@

$(OUTPUT)/tests/host/%: tests/host/%.c $(TESTLIB) $(LIB) | $(OUTPUT)/tests/host $(SKELS)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $< $(TESTLIB) $(LIB) $(LIBS) -o $@

$(OUTPUT)/tests/host/%: tests/host/%.sh | $(OUTPUT)/tests/host
	$(call msg,SCRIPT,$@)
	$(Q)install -m 0755 $< $@

$(OUTPUT)/tests/vm/%: tests/vm/%.c $(TESTLIB) $(LIB) | $(OUTPUT)/tests/vm $(SKELS)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $< $(TESTLIB) $(LIB) $(LIBS) -o $@

$(OUTPUT)/tests/stress/%: tests/stress/%.c $(TESTLIB) $(LIB) | $(OUTPUT)/tests/stress $(SKELS)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $< $(TESTLIB) $(LIB) $(LIBS) -o $@

$(OUTPUT)/tests/bench/%: tests/bench/%.c $(TESTLIB) $(LIB) | $(OUTPUT)/tests/bench $(SKELS)
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $< $(TESTLIB) $(LIB) $(LIBS) -lpthread -lm -o $@

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)

# The committed vmlinux.h is trimmed to the types hotpage's programs use;
# regenerate it from Debian 6.12's BTF after adding a type to the list.
vmlinux-h:
	$(Q)tools/gen-vmlinux-h "$$(tools/kernels/fetch 6.12)/vmlinux" > include/arch/$(ARCH)/vmlinux.h.tmp
	$(Q)mv include/arch/$(ARCH)/vmlinux.h.tmp include/arch/$(ARCH)/vmlinux.h

# ---------------------------------------------------------------- deps
deps:
	$(Q)tools/deps

# ---------------------------------------------------------------- module
# KERNEL=6.1|6.12|7.3 builds against a cached Debian kernel (downloaded on
# first use); KDIR= builds against any prepared kernel tree. Kernels whose
# headers need the Debian release they were built on (7.x: gcc-14, trixie's
# kbuild tools) are built in the chroot tools/kernels/fetch made for them.
kmod:
ifneq ($(KDIR),)
	$(Q)release=$$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' $(abspath $(KDIR))/include/generated/utsrelease.h) && \
	  [ -n "$$release" ] || { echo "make kmod: no kernel release in $(KDIR)/include/generated/utsrelease.h" >&2; exit 2; } && \
	  $(MAKE) -C kernel-helper KDIR=$(abspath $(KDIR)) O_MOD=$(abspath $(OUTPUT))/kmod/$$release
else ifneq ($(KERNEL),)
	$(Q)kdir=$$(tools/kernels/fetch $(KERNEL)) && \
	  if [ -d $$kdir/chroot ]; then \
		tools/kernels/chroot-make $$kdir $(abspath $(OUTPUT))/kmod/$$(cat $$kdir/release) \
			$(if $(V),V=$(V)); \
	  else \
		$(MAKE) -C kernel-helper KDIR=$$kdir/build RESOLVE_BTFIDS=$$kdir/resolve_btfids \
			O_MOD=$(abspath $(OUTPUT))/kmod/$$(cat $$kdir/release); \
	  fi
else
	@echo "make kmod: set KERNEL=6.1|6.12|7.3 (Debian kernel, for the VM tests) or KDIR=<kernel build dir>" >&2; exit 2
endif

# ---------------------------------------------------------------- tests
check: all
	$(Q)tests/run all

check-unit: $(UNIT_BINS)
	$(Q)tests/run unit

check-host: all
	$(Q)tests/run host

check-vm: all
	$(Q)tests/run vm

check-stress: all
	$(Q)tests/run stress

# ---------------------------------------------------------------- bench
# kmigrated vs move_pages(2), 256 MiB node 1 -> node 0, in a Debian 6.1 and
# a 6.12 guest: build/bench/migrate-<kernel>.json; BENCH_RUNS runs (the
# order of the ways rotated), medians. 6.1 needs one TLB IPI per page, which
# waits for the other vCPU: a run takes under a minute on an idle host, ten
# times that when other work keeps the host's CPUs busy ("noisy" in the JSON).
BENCH_RUNS ?= 3
bench-migrate: $(OUTPUT)/tests/bench/bench_migrate | $(OUTPUT)/bench
	$(Q)for k in 6.1 6.12; do \
	  $(MAKE) -s kmod KERNEL=$$k || exit 1; \
	  tools/vmtest --kernel $$k --timeout 3600 -- $(OUTPUT)/tests/bench/bench_migrate \
		--runs $(BENCH_RUNS) --out $(OUTPUT)/bench/migrate-$$k.json || exit 1; \
	done

# fault and perf sources on the running kernel (root): slowdown of a fault-heavy
# loop, BPF ns per run, delivery and drops, PFN resolution: build/bench/sources.json.
bench-sources: $(OUTPUT)/tests/bench/bench_sources | $(OUTPUT)/bench
	$(Q)$(OUTPUT)/tests/bench/bench_sources --out $(OUTPUT)/bench/sources.json

# The heat table on one core at 1 M, 16 M and 268 M pages (1 TiB): bytes per
# page, events/s uniform and skewed, a window's end, the hottest and the
# coldest pages of a node: build/bench/aggregate.json (needs about 600 MiB).
bench-aggregate: $(OUTPUT)/tests/bench/bench_aggregate | $(OUTPUT)/bench
	$(Q)$(OUTPUT)/tests/bench/bench_aggregate --out $(OUTPUT)/bench/aggregate.json

# Tiering systems side by side in one Debian 6.12 --tier guest: hotpage's
# defaults, numa_balancing=2, DAMON's two-way tiering and nothing, on a
# roomy, a nearly full and a full fast tier: t50 / t90 of the hot set on
# node 0, cold pages promoted, pages moved, CPU, first-touch time:
# build/bench/e2e.json (about 20 minutes under TCG). E2E_KERNEL=7.3 runs
# it on 7.3 (DAMON with quota goals there): build/bench/e2e-7.3.json.
E2E_KERNEL ?= 6.12
bench-e2e: all $(OUTPUT)/tests/bench/bench_e2e | $(OUTPUT)/bench
	$(Q)$(MAKE) -s kmod KERNEL=$(E2E_KERNEL)
	$(Q)tools/vmtest --kernel $(E2E_KERNEL) --tier --timeout 1800 -- $(OUTPUT)/tests/bench/bench_e2e \
		--out $(OUTPUT)/bench/e2e$(if $(filter-out 6.12,$(E2E_KERNEL)),-$(E2E_KERNEL)).json

# ---------------------------------------------------------------- install
# make install [DESTDIR=...] [PREFIX=/usr/local]: every program of $(BINS) in
# sbin, the example config in /etc/hotpage (an existing one is kept), the
# systemd unit, the modules-load.d entry, the man pages, the example policy
# programs with the header to write others, and kmigrated's sources with
# dkms.conf for DKMS (then: dkms install kmigrated/$(VERSION)).
PREFIX      ?= /usr/local
VERSION     ?= 0.1
SBINDIR     := $(PREFIX)/sbin
MANDIR      := $(PREFIX)/share/man
UNITDIR     := $(PREFIX)/lib/systemd/system
MODLOADDIR  := $(PREFIX)/lib/modules-load.d
DKMSDIR     := $(PREFIX)/src/kmigrated-$(VERSION)
POLICYDIR   := $(PREFIX)/lib/hotpage/policies
INCDIR      := $(PREFIX)/include/hotpage
EXAMPLE_POLICIES := $(addprefix $(OUTPUT)/bpf/policies/,$(notdir $(patsubst %.bpf.c,%.bpf.o,$(wildcard bpf/policies/*.bpf.c))))
CONFDIR     := /etc/hotpage
MAN_PAGES   := man/hotpaged.8 man/hotpagectl.8
# The module's sources, not what Kbuild made next to them.
KMOD_SRCS   := $(filter-out %.mod.c,$(wildcard kernel-helper/*.c kernel-helper/*.h)) \
	       kernel-helper/Kbuild kernel-helper/Makefile

.PHONY: install uninstall
install: $(BINS) $(EXAMPLE_POLICIES)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MODLOADDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(POLICYDIR) $(DESTDIR)$(INCDIR) \
		$(DESTDIR)$(DKMSDIR)/kernel-helper $(DESTDIR)$(DKMSDIR)/include
	$(Q)install -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/
	$(Q)if [ -e $(DESTDIR)$(CONFDIR)/hotpaged.conf ]; then \
		echo "  keeping $(DESTDIR)$(CONFDIR)/hotpaged.conf"; \
	else \
		install -m 0644 etc/hotpaged.conf $(DESTDIR)$(CONFDIR)/hotpaged.conf; \
	fi
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' etc/hotpaged.service.in > $(DESTDIR)$(UNITDIR)/hotpaged.service.tmp
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/hotpaged.service.tmp
	$(Q)mv -f $(DESTDIR)$(UNITDIR)/hotpaged.service.tmp $(DESTDIR)$(UNITDIR)/hotpaged.service
	$(Q)install -m 0644 etc/modules-load.conf $(DESTDIR)$(MODLOADDIR)/hotpage.conf
	$(Q)install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/
	$(Q)install -m 0644 $(EXAMPLE_POLICIES) $(DESTDIR)$(POLICYDIR)/
	$(Q)install -m 0644 include/hotpage/policy_score.h $(DESTDIR)$(INCDIR)/
	$(Q)install -m 0644 $(KMOD_SRCS) $(DESTDIR)$(DKMSDIR)/kernel-helper/
	$(Q)install -m 0755 kernel-helper/dkms-build $(DESTDIR)$(DKMSDIR)/kernel-helper/
	$(Q)install -m 0644 include/kmigrated.h $(DESTDIR)$(DKMSDIR)/include/
	$(Q)sed 's|@VERSION@|$(VERSION)|g' kernel-helper/dkms.conf > $(DESTDIR)$(DKMSDIR)/dkms.conf
	$(Q)chmod 0644 $(DESTDIR)$(DKMSDIR)/dkms.conf

# The config stays when it was edited: it is the operator's.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(BINS))) \
		$(DESTDIR)$(UNITDIR)/hotpaged.service $(DESTDIR)$(MODLOADDIR)/hotpage.conf \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN_PAGES))) \
		$(addprefix $(DESTDIR)$(POLICYDIR)/,$(notdir $(EXAMPLE_POLICIES))) \
		$(DESTDIR)$(INCDIR)/policy_score.h
	$(Q)rmdir $(DESTDIR)$(POLICYDIR) $(DESTDIR)$(PREFIX)/lib/hotpage $(DESTDIR)$(INCDIR) 2>/dev/null || true
	$(Q)rm -rf $(DESTDIR)$(DKMSDIR)
	$(Q)if cmp -s etc/hotpaged.conf $(DESTDIR)$(CONFDIR)/hotpaged.conf; then \
		rm -f $(DESTDIR)$(CONFDIR)/hotpaged.conf; rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(CONFDIR)/hotpaged.conf ]; then \
		echo "  keeping $(DESTDIR)$(CONFDIR)/hotpaged.conf (edited)"; \
	fi

# ---------------------------------------------------------------- lint
# New code stays clean: clang-format with the repository's style (the module
# and the generated vmlinux.h excepted: kernel style, generated), clang-tidy
# and cppcheck on userspace and test code.
FORMAT_SRCS := $(wildcard bpf/*.c bpf/*.h user/*/*.c user/*/*.h include/*.h include/hotpage/*.h \
		 tests/*/*.c tests/*/*.h tools/*.c)
TIDY_SRCS   := $(wildcard user/*/*.c tests/lib/*.c tests/host/*.c tests/vm/*.c tests/stress/*.c \
		 tools/*.c)
TIDY_CHECKS := -*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-assignment-in-if-condition,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-bugprone-narrowing-conversions,-bugprone-implicit-widening-of-multiplication-result

# The module is held to the kernel's own rule, checkpatch.pl --strict (with
# its default of 100 columns), as a patch to mm/ would be. tools/deps takes
# checkpatch.pl out of Debian's kernel source package into the cache. Types
# ignored, each in the one file that needs it:
#   compat.h  LINUX_VERSION_CODE, CONSTANT_COMPARISON: out of tree, one
#             source builds for several kernels, and where no declaration
#             tells them apart (see there) the version must; checkpatch does
#             not see KERNEL_VERSION() as the constant in the comparison.
#             COMPLEX_MACRO, MULTISTATEMENT_MACRO_USE_DO_WHILE: 6.1's
#             stand-ins for the __bpf_kfunc markers, defined as the kernel's
#             btf.h defines them (checkpatch flags btf.h the same way).
#   trace.h   OPEN_ENDED_LINE, PARENTHESIS_ALIGNMENT: TRACE_EVENT() laid out
#             as include/trace/events/ lays it out (mm's own trace headers
#             draw the same checks).
CHECKPATCH       ?= $(or $(HOTPAGE_CACHE),.cache)/checkpatch/checkpatch.pl
CHECKPATCH_SRCS  := $(filter-out %.mod.c,$(wildcard kernel-helper/*.c kernel-helper/*.h))
CHECKPATCH_FLAGS := --quiet --strict --no-tree --show-types --no-summary --file
CHECKPATCH_IGNORE_compat.h := LINUX_VERSION_CODE,CONSTANT_COMPARISON,COMPLEX_MACRO,MULTISTATEMENT_MACRO_USE_DO_WHILE
CHECKPATCH_IGNORE_trace.h  := OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT

lint: $(SKELS)
	$(call msg,FORMAT,$(words $(FORMAT_SRCS)) files)
	$(Q)clang-format --dry-run -Werror $(FORMAT_SRCS)
	$(call msg,TIDY,$(words $(TIDY_SRCS)) files)
	$(Q)clang-tidy --quiet --warnings-as-errors='*' --checks='$(TIDY_CHECKS)' $(TIDY_SRCS) -- \
		--no-system-header-prefix=bpf/ $(filter-out -O2 -g,$(CFLAGS)) -Itests/lib 2>&1 | { grep -v '^[0-9]* warnings generated' || true; }; \
		exit $${PIPESTATUS[0]}
	$(call msg,CPPCHECK,$(words $(TIDY_SRCS)) files)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--inline-suppr --include=/usr/include/bpf/libbpf_common.h -Iinclude $(addprefix -I,$(USER_DIRS)) -Itests/lib $(TIDY_SRCS)
	$(call msg,CHKPATCH,$(words $(CHECKPATCH_SRCS)) files)
	$(Q)[ -f $(CHECKPATCH) ] || { echo "make lint: $(CHECKPATCH) is missing: run tools/deps" >&2; exit 1; }
	$(Q)fail=0; $(foreach f,$(CHECKPATCH_SRCS),perl $(CHECKPATCH) $(CHECKPATCH_FLAGS) \
		$(addprefix --ignore ,$(CHECKPATCH_IGNORE_$(notdir $(f)))) $(f) || fail=1;) exit $$fail

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
	$(Q)$(MAKE) -s -C kernel-helper clean-src
