#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make install DESTDIR=... PREFIX=/usr lays out hotpage like a system
# package: programs, config (kept when edited), systemd unit accepted by
# systemd-analyze verify, man pages groff renders without a warning, a
# modules-load.d entry, and DKMS sources whose dkms.conf build makes
# kmigrated.ko (with BTF) for Debian's 6.12 kernel; the installed programs
# run; make uninstall removes it all but an edited config.
set -uo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
fail() { echo "fail: $*"; exit 1; }
skip() { echo "skip: $*"; exit 77; }

for tool in systemd-analyze groff man readelf modinfo; do
	command -v $tool >/dev/null || skip "$tool is not installed (make deps)"
done
tmp=$(mktemp -d /tmp/hp-install-test.XXXXXX) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root

install_it() {
	make -s -C "$top" install DESTDIR="$dest" PREFIX=/usr > "$tmp/install.log" 2>&1 ||
		{ cat "$tmp/install.log"; fail "make install failed"; }
}
install_it

# mode FILE: the file exists with that mode
want() {
	local m
	m=$(stat -c %a "$dest$2" 2>/dev/null) || fail "$2 is not installed"
	[ "$m" = "$1" ] || fail "$2: mode $m, want $1"
}
nbins=0
for bin in "$top"/build/bin/*; do
	want 755 "/usr/sbin/$(basename "$bin")"
	nbins=$((nbins + 1))
done
[ "$nbins" -ge 4 ] || fail "only $nbins programs in build/bin"
want 644 /etc/hotpage/hotpaged.conf
cmp -s "$top/etc/hotpaged.conf" "$dest/etc/hotpage/hotpaged.conf" || fail "installed config differs from etc/hotpaged.conf"
unit=/usr/lib/systemd/system/hotpaged.service
want 644 $unit
want 644 /usr/lib/modules-load.d/hotpage.conf
grep -qx kmigrated "$dest/usr/lib/modules-load.d/hotpage.conf" || fail "modules-load.d entry does not name kmigrated"
want 644 /usr/share/man/man8/hotpaged.8
want 644 /usr/share/man/man8/hotpagectl.8
for f in "$top"/bpf/policies/*.bpf.c; do
	want 644 "/usr/lib/hotpage/policies/$(basename "${f%.c}").o"
done
want 644 /usr/include/hotpage/policy_score.h
src=$(cd "$dest" && echo usr/src/kmigrated-*)
[ -d "$dest/$src" ] || fail "no usr/src/kmigrated-VERSION"
want 644 "/$src/dkms.conf"
want 755 "/$src/kernel-helper/dkms-build"
want 644 "/$src/include/kmigrated.h"
for f in "$top"/kernel-helper/*.c "$top"/kernel-helper/*.h "$top"/kernel-helper/Kbuild "$top"/kernel-helper/Makefile; do
	case $f in *.mod.c) continue ;; esac
	want 644 "/$src/kernel-helper/$(basename "$f")"
done
# Nothing else: no build products, nothing outside the package's places.
stray=$(cd "$dest" && find . -type f | grep -vE '^\./(usr/sbin/[^/]+|etc/hotpage/hotpaged\.conf|usr/lib/systemd/system/hotpaged\.service|usr/lib/modules-load\.d/hotpage\.conf|usr/share/man/man8/hotpage(d|ctl)\.8|usr/lib/hotpage/policies/[a-z_]+\.bpf\.o|usr/include/hotpage/policy_score\.h|usr/src/kmigrated-[^/]+/(dkms\.conf|include/kmigrated\.h|kernel-helper/(Kbuild|Makefile|dkms-build|[a-z_]+\.[ch])))$')
[ -z "$stray" ] || fail "unexpected files installed: $stray"
stray=$(cd "$dest/$src" && find . -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd')
[ -z "$stray" ] || fail "build products in the DKMS sources: $stray"
echo "layout: $nbins programs, config, unit, modules-load.d, 2 man pages, $src: all with the expected modes"

# An edited config survives a second install.
echo "top = 7" >> "$dest/etc/hotpage/hotpaged.conf"
install_it
grep -q "keeping $dest/etc/hotpage/hotpaged.conf" "$tmp/install.log" || fail "no 'keeping' message: $(cat "$tmp/install.log")"
tail -n 1 "$dest/etc/hotpage/hotpaged.conf" | grep -qx "top = 7" || fail "make install overwrote the edited config"

# The unit: ExecStart is the installed daemon, without -f; hardening in place;
# systemd-analyze verify says nothing (ExecStart pointed into DESTDIR, as the
# unit names /usr/sbin, which this host lacks).
grep -qx "ExecStart=/usr/sbin/hotpaged" "$dest$unit" || fail "ExecStart: $(grep ExecStart "$dest$unit")"
for d in Type=exec Restart=on-failure RuntimeDirectory=hotpage ProtectSystem=strict ProtectHome=yes \
	PrivateTmp=yes NoNewPrivileges=yes 'ReadWritePaths=/sys/fs/bpf -/sys/kernel/mm' \
	'CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_NICE CAP_SYS_PTRACE CAP_DAC_READ_SEARCH'; do
	grep -qx "$d" "$dest$unit" || fail "unit lacks $d"
done
mkdir -p "$tmp/verify"
sed "s|^ExecStart=|ExecStart=$dest|" "$dest$unit" > "$tmp/verify/hotpaged.service"
out=$(systemd-analyze verify --man=no "$tmp/verify/hotpaged.service" 2>&1)
rc=$?
[ $rc = 0 ] && [ -z "$out" ] || fail "systemd-analyze verify (status $rc): $out"
# ... and it would complain about a mistake.
sed 's/^NoNewPrivileges=/NoNewPrivilegez=/' "$tmp/verify/hotpaged.service" > "$tmp/verify/bad.service"
out=$(systemd-analyze verify --man=no "$tmp/verify/bad.service" 2>&1)
[ -n "$out" ] || fail "systemd-analyze verify accepted a unit with an unknown key"
exposure=$(systemd-analyze security --offline=yes --man=no "$tmp/verify/hotpaged.service" 2>&1 |
	sed -n 's/.*Overall exposure level for hotpaged.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || fail "systemd-analyze security gave no exposure level"
awk -v e="$exposure" 'BEGIN { exit !(e < 5.0) }' || fail "exposure level $exposure, want < 5.0 (OK)"
echo "unit: systemd-analyze verify clean, security exposure $exposure"

# Man pages: no groff warning, and man renders them from the installed files.
for page in hotpaged hotpagectl; do
	out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$dest/usr/share/man/man8/$page.8" 2>&1)
	[ -z "$out" ] || fail "groff warns on $page.8: $out"
	grep -q "^NAME" <<< "$(MANWIDTH=80 man -l "$dest/usr/share/man/man8/$page.8" 2>"$tmp/man.err")" ||
		fail "man -l $page.8 rendered no NAME section"
	[ ! -s "$tmp/man.err" ] || fail "man -l $page.8: $(cat "$tmp/man.err")"
done
echo "man: hotpaged(8) and hotpagectl(8) render without warnings"

# The installed programs run from DESTDIR.
grep -q "^Usage: hotpaged" <<< "$("$dest/usr/sbin/hotpaged" --help)" || fail "installed hotpaged --help"
printf 'top = 10\nthreshold = many\n' > "$tmp/bad.conf"
out=$("$dest/usr/sbin/hotpaged" -c "$tmp/bad.conf" 2>&1)
rc=$?
[ $rc = 2 ] || fail "installed hotpaged with a bad config: status $rc, want 2"
[[ $out == "hotpaged: $tmp/bad.conf:2: threshold=many: not a whole number"* ]] || fail "bad config message: $out"
out=$("$dest/usr/sbin/hotpagectl" heatmap --png "$tmp/x.png" --pin "$tmp/none" 2>&1)
[ $? = 1 ] && [[ $out == *"no hot-page map at $tmp/none"* ]] || fail "installed hotpagectl heatmap without a map: $out"
# The file applies and flags override it: the file's sources (scan needs
# kmigrated.ko, which this host cannot load) and stats interval give way to
# -s fault -p stats=1, its top=16 stays.
printf 'sources = scan\nstats = 86400\ntop = 16\n' > "$tmp/override.conf"
chmod 0644 "$tmp/override.conf"
out=$(timeout 60 "$dest/usr/sbin/hotpaged" -c "$tmp/override.conf" -f -s fault -p stats=1 -d 3 2>&1)
rc=$?
[ $rc = 0 ] || fail "installed hotpaged -c override.conf -s fault -p stats=1: status $rc: $out"
n=$(grep -c '^hotpaged: events .* hot-set' <<< "$out")
[ "$n" -ge 2 ] || fail "$n stats lines in 3 s with -p stats=1 over the file's stats = 86400: $out"
grep '^hotpaged: events .* hot-set' <<< "$out" | grep -qvE ' hot-set ([0-9]|1[0-6]) ' &&
	fail "hot set above the file's top = 16: $out"
echo "programs: hotpaged --help, a bad config refused with line and reason, file under flags ($n stats lines), heatmap errors"

# The installed hotpagectl drives the installed hotpaged over its socket.
"$dest/usr/sbin/hotpaged" -s fault -p socket="$tmp/ctl.sock" -d 30 > "$tmp/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do [ -S "$tmp/ctl.sock" ] && break; sleep 0.1; done
ctl() { "$dest/usr/sbin/hotpagectl" -S "$tmp/ctl.sock" "$@"; }
out=$(ctl status 2>&1) || fail "installed hotpagectl status: $out ($(cat "$tmp/daemon.log"))"
[[ $out == *"sources: fault"* ]] || fail "installed hotpagectl status: $out"
out=$(ctl attach perf 2>&1) && [[ $out == "attached perf"* ]] || fail "installed hotpagectl attach perf: $out"
out=$(ctl detach perf 2>&1) && [[ $out == "detached perf"* ]] || fail "installed hotpagectl detach perf: $out"
grep -q '^hotpage_events_total ' <<< "$(ctl metrics)" || fail "installed hotpagectl metrics: no hotpage_events_total"
ctl policy set threshold=0 > /dev/null 2>&1 && fail "installed hotpagectl took threshold=0"
kill -TERM "$daemon"
wait "$daemon" || fail "installed hotpaged exited with $? on SIGTERM: $(cat "$tmp/daemon.log")"
[ ! -e "$tmp/ctl.sock" ] || fail "installed hotpaged left its socket behind"
echo "control: the installed hotpagectl ran status, attach, detach, metrics and a refused policy set against the installed hotpaged"

# DKMS: dkms.conf names the module; its MAKE, run as dkms runs it (in a copy
# of the sources, with kernelver and kernel_source_dir set), builds it.
kdir=$("$top/tools/kernels/fetch" 6.12) || fail "tools/kernels/fetch 6.12 failed"
release=$(cat "$kdir/release")
cp -r "$dest/$src" "$tmp/dkms"
version=${src#usr/src/kmigrated-}
out=$(cd "$tmp/dkms" && bash -c '
	kernelver=$1; kernel_source_dir=$2
	. ./dkms.conf
	echo "$PACKAGE_NAME $PACKAGE_VERSION ${BUILT_MODULE_NAME[0]} ${BUILT_MODULE_LOCATION[0]} $AUTOINSTALL"
	eval "${MAKE[0]}" > build.log 2>&1 || { tail -n 20 build.log; exit 1; }' _ "$release" "$kdir/build" 2>&1)
rc=$?
[ $rc = 0 ] || fail "dkms MAKE failed: $out"
[ "$out" = "kmigrated $version kmigrated kernel-helper/ yes" ] || fail "dkms.conf: '$out'"
ko=$tmp/dkms/kernel-helper/kmigrated.ko
[ -f "$ko" ] || fail "no kernel-helper/kmigrated.ko after the dkms build"
[ "$(modinfo -F name "$ko")" = kmigrated ] || fail "module name $(modinfo -F name "$ko")"
[[ $(modinfo -F vermagic "$ko") == "$release "* ]] || fail "vermagic $(modinfo -F vermagic "$ko"), want $release"
grep -q '\] \.BTF ' <<< "$(readelf -S -W "$ko")" || fail "kmigrated.ko has no .BTF (kfuncs need it)"
(cd "$tmp/dkms" && kernelver=$release && kernel_source_dir=$kdir/build && . ./dkms.conf && eval "$CLEAN") > /dev/null 2>&1 || fail "dkms CLEAN failed"
[ ! -e "$ko" ] || fail "dkms CLEAN left kmigrated.ko"
echo "dkms: kmigrated $version built for $release with BTF; CLEAN removes it"

# Uninstall: all gone but the edited config; then, unedited, that too.
make -s -C "$top" uninstall DESTDIR="$dest" PREFIX=/usr > "$tmp/uninstall.log" 2>&1 || fail "make uninstall failed"
left=$(cd "$dest" && find . -type f)
[ "$left" = ./etc/hotpage/hotpaged.conf ] || fail "after uninstall: $left"
cp "$top/etc/hotpaged.conf" "$dest/etc/hotpage/hotpaged.conf"
make -s -C "$top" uninstall DESTDIR="$dest" PREFIX=/usr > "$tmp/uninstall.log" 2>&1 || fail "make uninstall failed"
left=$(cd "$dest" && find . -type f)
[ -z "$left" ] || fail "after uninstall of an unedited config: $left"
echo "uninstall: removes everything but an edited config"
echo "ok: install layout, unit, man pages, dkms build, uninstall"
