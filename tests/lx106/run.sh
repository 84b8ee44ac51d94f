#!/usr/bin/env bash
# Run a test program built for the ESP8266's CPU (Xtensa lx106) on QEMU's
# model of that CPU, and exit with the program's status.  `make lx106-test`
# builds the core's unit tests with this directory's harness and runs them
# through this script.
#
#   tests/lx106/run.sh PROGRAM.elf [SECONDS]
#
# The program's stdout and stderr are QEMU's: semihosting writes to the
# host's file descriptors 1 and 2 (-serial none keeps them apart), and its
# files are opened relative to the top of the repository, where this script
# runs QEMU, so the tests find tests/data as they do on the host.
#
# LX106_ICOUNT=1 in the environment runs QEMU with -icount shift=0: one
# instruction per nanosecond of virtual time, so the CPU's CCOUNT (40 MHz
# in QEMU's model) counts instructions, 25 to a count (tests/lx106/budget.c).
#
# Exit status:
#   0..255  the program's own (the core's tests: 0 all passed, 1 some failed)
#   124     still running after SECONDS (default 120): a hang
#   126     QEMU or the cross binutils missing, or no such program
#   134     abort() or a failed assert()
#   139     a CPU exception (an unaligned access, a bad pointer...) or a
#           division by zero; the cause is on stderr, and this script adds
#           the function and line of the faulting instruction
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
qemu=${QEMU:-qemu-system-xtensa}
addr2line=${CROSS:-xtensa-lx106-elf-}addr2line

[ $# -ge 1 ] || { echo "usage: $0 PROGRAM.elf [SECONDS]" >&2; exit 126; }
elf=$(cd "$(dirname "$1")" 2>/dev/null && pwd)/$(basename "$1")
limit=${2:-120}
[ -r "$elf" ] || { echo "lx106: no program $1" >&2; exit 126; }
command -v "$qemu" >/dev/null ||
	{ echo "lx106: $qemu not found (apt-get install qemu-system-misc)" >&2; exit 126; }

log=$(mktemp "${TMPDIR:-/tmp}/lx106-stderr.XXXXXX") || exit 126
trap 'rm -f "$log"' EXIT

# stdout goes straight out (through fd 3); stderr goes out and into $log,
# where the fault's address is looked up afterwards.
cd "$top" || exit 126
{
	timeout -k 5 "$limit" "$qemu" -M sim -cpu lx106 -nodefaults -display none \
		-serial none -monitor none -no-reboot \
		${LX106_ICOUNT:+-icount shift=0} -semihosting-config enable=on,target=native \
		-kernel "$elf" 2>&1 1>&3 3>&- |
		tee "$log" >&2
} 3>&1
status=${PIPESTATUS[0]}

where() { "$addr2line" -pfiC -e "$elf" "$1" 2>/dev/null | sed 's|'"$top"'/||g'; }

case $status in
124 | 137)
	echo "lx106: no exit after ${limit}s: a hang (or raise the limit)" >&2
	status=124
	;;
139)
	pc=$(sed -n 's/^lx106: pc=\(0x[0-9a-f]*\).*/\1/p' "$log" | head -n 1)
	a0=$(sed -n 's/^lx106: pc=.* a0=\(0x[0-9a-f]*\).*/\1/p' "$log" | head -n 1)
	if [ -n "$pc" ] && command -v "$addr2line" >/dev/null; then
		echo "lx106: the fault is in $(where "$pc")" >&2
		# a0 is a return address (the call is 3 bytes before it); it is
		# the faulting function's caller only if that one calls nothing
		[ -n "$a0" ] && [ "$a0" != 0x00000000 ] &&
			echo "lx106: last return address (a0) in $(where "$(printf '0x%x' $((a0 - 3)))")" >&2
	fi
	;;
esac
exit "$status"
