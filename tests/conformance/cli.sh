#!/bin/sh
# cli.sh — the command line's promises: --help and --version, exit codes
# for unknown commands and bad options, `bgswitch sim` argument errors and
# its files, and `make install` putting the binary and man page in place.
. tests/lib/tap.sh

out=$("$BGSWITCH" --help 2>&1); rc=$?
t_is "$rc" 0 "--help exits 0"
for c in run demo status preflight rollback history sim; do
    echo "$out" | grep -q "^  $c " ; t_ok $? "--help lists '$c'"
done
"$BGSWITCH" --version | grep -qE '^bgswitch [0-9]+\.[0-9]+\.[0-9]+$'; t_ok $? "--version prints 'bgswitch X.Y.Z'"

"$BGSWITCH" frobnicate >/dev/null 2>&1; t_is $? 2 "an unknown command exits 2"
err=$("$BGSWITCH" frobnicate 2>&1 >/dev/null)
echo "$err" | grep -q "unknown command 'frobnicate'"; t_ok $? "and names the command"

"$BGSWITCH" sim >/dev/null 2>&1; t_is $? 2 "sim without --dir exits 2"
err=$("$BGSWITCH" sim --dir /tmp/x --speed fast 2>&1); rc=$?
t_is "$rc" 2 "sim --speed fast exits 2"
echo "$err" | grep -q -- "--speed wants a number"; t_ok $? "and says what --speed wants"
"$BGSWITCH" sim --help | grep -q -- "--world FILE"; t_ok $? "sim --help documents --world"

# A world file with a YAML error names the file, line and column.
d=$(mktemp -d)
printf 'name: bad\nclusters:\n  - name: [unclosed\n' > "$d/world.yaml"
err=$("$BGSWITCH" sim --dir "$d/out" --world "$d/world.yaml" 2>&1); rc=$?
t_is "$rc" 1 "sim with a malformed world file exits 1"
echo "$err" | grep -qE "world.yaml:[0-9]+:[0-9]+:"; t_ok $? "and the error names world.yaml:LINE:COL"
[ ! -f "$d/out/ready" ]; t_ok $? "and never wrote ready"

# No core file may carry a secret (PRODUCT.md §6): the process runs with a
# zero core size limit.
"$BGSWITCH" sim --dir "$d/live" >/dev/null 2>&1 &
pid=$!
i=0; while [ ! -f "$d/live/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -r /proc/$pid/limits ]; then
    t_is "$(awk '/^Max core file size/ { print $5, $6 }' /proc/$pid/limits)" "0 0" \
        "bgswitch runs with a zero core file size limit"
else
    # A non-dumpable process's /proc files belong to root.
    t_skip "bgswitch runs with a zero core file size limit" "/proc/$pid/limits is not readable as $(id -un)"
fi
kill -TERM $pid; wait $pid

make -s install PREFIX=/usr DESTDIR="$d/root" >/dev/null 2>&1; t_ok $? "make install DESTDIR=... succeeds"
[ -x "$d/root/usr/bin/bgswitch" ]; t_ok $? "installs the binary"
[ -f "$d/root/usr/share/man/man1/bgswitch.1" ]; t_ok $? "installs bgswitch(1)"
[ -f "$d/root/usr/share/man/man5/bgswitch.yaml.5" ]; t_ok $? "installs bgswitch.yaml(5)"
if command -v man >/dev/null 2>&1; then
    MANWIDTH=80 man -l "$d/root/usr/share/man/man1/bgswitch.1" 2>&1 | grep -q "SIMULATOR WORLD FILE"
    t_ok $? "the man page renders and documents the world file"
else
    t_skip "the man page renders" "man is not installed"
fi
rm -rf "$d"
t_done
