#!/bin/sh
# tests/run.sh — run every test and print one summary line.
#
# Each unit test binary (cmocka) reports in TAP; each conformance script in
# tests/conformance/ prints TAP lines itself ("ok N - what" / "not ok N - what",
# "ok N - what # SKIP why").  The tally ends with the line
# "N passed, N failed[, N skipped]" and a non-zero exit on any failure.
BUILD=${BUILD:-build/cc}
export BUILD
export BGSWITCH="${BGSWITCH:-$PWD/$BUILD/bgswitch}"
export CMOCKA_MESSAGE_OUTPUT=TAP
out=${TMPDIR:-/tmp}/bgswitch-tests.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
pass=0 fail=0 skip=0 broken=""

tally() {   # tally NAME LOGFILE EXITCODE
    # cmocka marks a skipped test "not ok N # SKIP"; TAP's own form is
    # "ok N # SKIP".  Both count as skipped, neither as passed or failed.
    p=$(grep -Ec '^ok [0-9]+' "$2" | tr -d ' ')
    s=$(grep -Ec '^(not )?ok [0-9]+.*# (SKIP|skip)' "$2" | tr -d ' ')
    ps=$(grep -Ec '^ok [0-9]+.*# (SKIP|skip)' "$2" | tr -d ' ')
    f=$(grep -Ec '^not ok [0-9]+' "$2" | tr -d ' ')
    p=$((p - ps))
    f=$((f - (s - ps)))
    # A runner that died without reporting a failure still failed.
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $1 exited with status $3 without reporting a failure"
    fi
    [ "$f" -gt 0 ] && broken="$broken $1"
    pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d) continue ;; esac
    name=$(basename "$t")
    echo "# $name"
    "$t" >"$out/$name.log" 2>&1
    rc=$?
    sed 's/^/  /' "$out/$name.log"
    tally "$name" "$out/$name.log" "$rc"
done

for t in tests/conformance/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    echo "# $name"
    sh "$t" >"$out/$name.log" 2>&1
    rc=$?
    sed 's/^/  /' "$out/$name.log"
    tally "$name" "$out/$name.log" "$rc"
done

[ -n "$broken" ] && echo "# failing:$broken"
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
