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

# Every test is a job: a unit binary or a conformance script.  They run
# TEST_JOBS at a time (default 2: most of the engine's tests wait on the
# simulator's clock rather than use a core), each into its own log; the
# logs are then printed and tallied in order, so the output reads as if
# they had run one after another.
list=""
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d) continue ;; esac
    list="$list $t"
done
for t in tests/conformance/*.sh; do
    [ -f "$t" ] && list="$list $t"
done
# The longest first, so that two lanes end together (the order they are
# printed in stays the one above).
slow="tests/conformance/ui_walk.sh $BUILD/tests/test_engine tests/conformance/engine.sh"
order=""
for t in $slow; do
    case " $list " in *" $t "*) order="$order $t" ;; esac
done
for t in $list; do
    case " $slow " in *" $t "*) ;; *) order="$order $t" ;; esac
done
export out
printf '%s\n' $order | xargs -P "${TEST_JOBS:-2}" -I{} sh -c '
    t=$1
    case "$t" in
    *.sh) name=$(basename "$t" .sh); sh "$t" >"$out/$name.log" 2>&1 ;;
    *) name=$(basename "$t"); "$t" >"$out/$name.log" 2>&1 ;;
    esac
    echo $? >"$out/$name.rc"
' sh {}
for t in $list; do
    case "$t" in *.sh) name=$(basename "$t" .sh) ;; *) name=$(basename "$t") ;; esac
    echo "# $name"
    sed 's/^/  /' "$out/$name.log"
    tally "$name" "$out/$name.log" "$(cat "$out/$name.rc" 2>/dev/null || echo 1)"
done

[ -n "$broken" ] && echo "# failing:$broken"
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
