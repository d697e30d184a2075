#!/bin/sh
# Shows that a running keepalived-rs is one thread whose loop never blocks:
#   scripts/check-loop.sh PID [SECONDS]
# Prints the thread count, then traces the process for SECONDS (default 2) with strace and
# fails if it sees more than one thread, a sleeping call (nanosleep, select, pause...), a
# wait without WNOHANG, or epoll_wait with a timeout other than -1 (the timerfd does all
# the timing). tests/netns_e2e.rs runs the same check automatically.
set -eu
pid=${1:?usage: check-loop.sh PID [SECONDS]}
secs=${2:-2}
threads=$(ls "/proc/$pid/task" | wc -l)
echo "threads: $threads"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout -s INT "$secs" strace -f -qq -p "$pid" -o "$out" 2>/dev/null || true
echo "syscalls traced: $(wc -l < "$out")"
awk '{ split($2, a, "("); n[a[1]]++ } END { for (k in n) printf "  %-20s %d\n", k, n[k] }' "$out" | sort
bad=0
[ "$threads" = 1 ] || { echo "FAIL: $threads threads"; bad=1; }
if grep -vE '<detached|<unfinished|resumed>' "$out" | grep -E 'nanosleep\(|select\(|pause\(|sigsuspend\(|flock\('; then
    echo "FAIL: blocking call"; bad=1
fi
if grep -E '(wait4|waitid)\(' "$out" | grep -v WNOHANG; then echo "FAIL: blocking wait"; bad=1; fi
if grep -vE '<detached|<unfinished' "$out" | grep -E 'epoll_wait\(' | grep -vE ', -1\) '; then
    echo "FAIL: epoll_wait with a timeout"; bad=1
fi
[ "$bad" = 0 ] && echo "OK: one thread, no blocking call on the loop"
exit $bad
