#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/vmtest chooses its accelerator by booting a probe guest, not by
# the look of /dev/kvm. In a private mount namespace whose /dev is a tmpfs
# with a /dev/kvm that is a character device but not KVM (/dev/null's
# numbers): vmtest falls back to TCG with one line that says why, and the
# guest's command runs and its exit status comes back; with
# HOTPAGE_VMTEST_ACCEL=kvm it fails with 125 and the reason instead. A
# qemu that aborts on KVM as it does on some CI hosts ("failed to set MSR
# 0x10a") is reported with its own words, and a bad HOTPAGE_VMTEST_ACCEL
# is a usage error. One guest boot under TCG, about 10 s.
set -uo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
cache=${HOTPAGE_CACHE:-$top/.cache}
vmtest=$top/tools/vmtest
fail() { echo "fail: $*"; exit 1; }
skip() { echo "skip: $*"; exit 77; }

# show FILE: a run's output in this test's log
show() { sed 's/^/    | /' "$1"; }

if [ "${1:-}" != --in-namespace ]; then
	[ "$(id -u)" = 0 ] || skip "needs root (mount namespace, mknod, 9p export of /)"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (make deps)"
	[ -x /bin/busybox ] || skip "busybox-static is not installed (make deps)"
	command -v unshare >/dev/null || skip "unshare is not installed (util-linux)"
	unshare -m true 2>/dev/null || skip "cannot make a mount namespace (unshare -m)"

	# A bad value is refused before anything is fetched or booted.
	out=$(HOTPAGE_VMTEST_ACCEL=fast "$vmtest" -- true 2>&1)
	rc=$?
	echo "HOTPAGE_VMTEST_ACCEL=fast: status $rc: $out"
	[ "$rc" = 2 ] || fail "HOTPAGE_VMTEST_ACCEL=fast: status $rc, want 2 (usage error)"
	[[ $out == *"bad HOTPAGE_VMTEST_ACCEL 'fast'"* ]] ||
		fail "HOTPAGE_VMTEST_ACCEL=fast: the error does not name the variable and value: $out"

	# Fetch here, with the host's /dev, what vmtest boots in there.
	"$top/tools/kernels/fetch" 6.12 >/dev/null || fail "tools/kernels/fetch 6.12 failed"
	exec unshare -m --propagation private "$0" --in-namespace
fi

# ------------------------------------------------------------ namespace
# /dev as qemu, the shell and apt need it, with a kvm node that is not KVM.
mount -t tmpfs -o mode=755 hp-fake-dev /dev || fail "cannot mount a tmpfs on /dev"
for n in null:3 zero:5 full:7 random:8 urandom:9 kvm:3; do
	mknod -m 666 "/dev/${n%:*}" c 1 "${n#*:}" || fail "mknod /dev/${n%:*}"
done
ln -s /proc/self/fd /dev/fd
ln -s fd/0 /dev/stdin; ln -s fd/1 /dev/stdout; ln -s fd/2 /dev/stderr
[ "$(stat -c '%F %t:%T' /dev/kvm)" = "character special file 1:3" ] || fail "fake /dev/kvm was not made"

tmp=$(mktemp -d /tmp/hp-vmtest-accel.XXXXXX) || fail "mktemp"
probes=$cache/vm/kvm-probe
ls "$probes" > "$tmp/probes.before" 2>/dev/null
runs_before=$(echo "$cache"/vm/run.*)
# The verdicts on this test's fake devices go with it.
# shellcheck disable=SC2317 # the EXIT trap calls it
cleanup() {
	local f
	for f in "$probes"/*; do
		[ -e "$f" ] || continue
		grep -qxF "$(basename "$f")" "$tmp/probes.before" || rm -f "$f"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOTPAGE_VMTEST_RUNNER=qemu
unset HOTPAGE_VMTEST_ACCEL

# run NAME [VAR=VALUE...]: vmtest with the guest command that prints a
# marker and exits 7; NAME.out, NAME.err and NAME.rc in $tmp.
run() {
	local name=$1 rc
	shift
	env "$@" "$vmtest" --kernel 6.12 --timeout 300 --log "$tmp/$name.console" \
		-- sh -c 'echo vmtest-accel-guest-ran; exit 7' > "$tmp/$name.out" 2> "$tmp/$name.err"
	rc=$?
	echo "$rc" > "$tmp/$name.rc"
	echo "$name: status $rc"
	show "$tmp/$name.err"
}

# 1. Chosen: the probe fails, TCG runs the guest.
run auto
lines=$(grep -c -E '^vmtest: (using (KVM|TCG)|KVM unusable)' "$tmp/auto.err")
[ "$lines" = 1 ] || fail "auto: $lines lines on the accelerator, want 1"
line=$(grep -E '^vmtest: KVM unusable \(.+\); using TCG$' "$tmp/auto.err") ||
	fail "auto: no 'vmtest: KVM unusable (REASON); using TCG' line"
reason=${line#vmtest: KVM unusable (}
reason=${reason%); using TCG}
# qemu itself refuses the device (KVM_GET_API_VERSION on /dev/null).
[[ $reason == "qemu: "*kvm* ]] || fail "auto: the reason is not qemu's refusal of KVM: '$reason'"
grep -qx 'vmtest-accel-guest-ran' "$tmp/auto.out" || fail "auto: the guest's command did not run"
[ "$(cat "$tmp/auto.rc")" = 7 ] || fail "auto: status $(cat "$tmp/auto.rc"), want the command's 7"
grep -qE '^vmtest: 6\.12 guest \(qemu, tcg\) ran in .*, command exit status 7$' "$tmp/auto.err" ||
	fail "auto: vmtest's last line does not say qemu/tcg and status 7"

# 2. Forced KVM on the same device: an error with the (cached) reason,
# and no guest.
run forced HOTPAGE_VMTEST_ACCEL=kvm
[ "$(cat "$tmp/forced.rc")" = 125 ] || fail "forced kvm: status $(cat "$tmp/forced.rc"), want 125"
grep -qF "vmtest: HOTPAGE_VMTEST_ACCEL=kvm, but KVM is unusable: $reason" "$tmp/forced.err" ||
	fail "forced kvm: no error with the reason '$reason'"
grep -q 'earlier in this host boot' "$tmp/forced.err" || fail "forced kvm: the first probe's verdict was not reused"
grep -q 'using TCG' "$tmp/forced.err" && fail "forced kvm: fell back to TCG"
grep -q vmtest-accel-guest-ran "$tmp/forced.out" && fail "forced kvm: the guest's command ran"

# 3. A qemu that aborts on KVM the way it does on the CI hosts this is
# for; its first error is the reason.
mkdir -p "$tmp/bin"
real_qemu=$(command -v qemu-system-x86_64)
cat > "$tmp/bin/qemu-system-x86_64" <<EOF
#!/bin/bash
case " \$* " in *" -accel kvm "*)
	echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x20000001e6b" >&2
	echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3195: kvm_buf_set_msrs: Assertion \\\`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
	kill -ABRT \$\$ ;;
esac
exec "$real_qemu" "\$@"
EOF
chmod +x "$tmp/bin/qemu-system-x86_64"
run msr HOTPAGE_VMTEST_ACCEL=kvm PATH="$tmp/bin:$PATH"
[ "$(cat "$tmp/msr.rc")" = 125 ] || fail "aborting qemu, forced kvm: status $(cat "$tmp/msr.rc"), want 125"
grep -qF 'KVM is unusable: qemu: error: failed to set MSR 0x10a to 0x20000001e6b' "$tmp/msr.err" ||
	fail "aborting qemu, forced kvm: the error does not quote qemu's MSR failure"

# Nothing left behind: no probe guest, no run directory.
pgrep -f hotpage-vmtest-kvm-probe >/dev/null && fail "a probe guest is still running"
[ "$(echo "$cache"/vm/run.*)" = "$runs_before" ] || fail "run directories left in $cache/vm"
echo "ok: fallback to TCG with '$reason', forced KVM refused, bad value refused"
exit 0
