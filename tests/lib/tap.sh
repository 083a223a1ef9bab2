# tests/lib/tap.sh — TAP helpers and a simulator fixture for the shell tests
# in tests/conformance/.  Source it; it expects $BGSWITCH (set by
# tests/run.sh) or falls back to ./bgswitch.
#
#   t_ok COND_EXIT_CODE "what"      -> "ok N - what" / "not ok N - what"
#   t_is GOT WANT "what"            -> equality check, prints both on failure
#   t_skip "what" "why"
#   sim_up [ARGS...]                -> starts `bgswitch sim` in $SIM_DIR, waits for ready
#   sim_down                        -> stops it (SIGTERM); one TAP line: it exited 0
BGSWITCH=${BGSWITCH:-$PWD/bgswitch}
T_N=0
T_FAILED=0

t_ok() {
    T_N=$((T_N + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $T_N - $2"
    else
        echo "not ok $T_N - $2"
        T_FAILED=$((T_FAILED + 1))
    fi
}

t_is() {
    if [ "$1" = "$2" ]; then
        t_ok 0 "$3"
    else
        t_ok 1 "$3"
        echo "#   got:  $1"
        echo "#   want: $2"
    fi
}

t_skip() {
    T_N=$((T_N + 1))
    echo "ok $T_N - $1 # SKIP $2"
}

t_done() {
    echo "1..$T_N"
    [ "$T_FAILED" -eq 0 ]
}

sim_up() {
    SIM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bgswitch-sim.XXXXXX")
    SIM_LOG=$SIM_DIR/sim.log
    "$BGSWITCH" sim --dir "$SIM_DIR" --log "$SIM_DIR/requests.log" --log-level debug "$@" \
        >"$SIM_LOG" 2>&1 &
    SIM_PID=$!
    i=0
    while [ ! -f "$SIM_DIR/ready" ]; do
        if ! kill -0 "$SIM_PID" 2>/dev/null; then
            echo "# bgswitch sim exited early:"; sed 's/^/#   /' "$SIM_LOG"
            return 1
        fi
        i=$((i + 1))
        [ "$i" -gt 200 ] && { echo "# bgswitch sim not ready after 20 s"; return 1; }
        sleep 0.1
    done
    SIM_URL=$(cat "$SIM_DIR/ready")
    export SIM_DIR SIM_URL SIM_PID
    return 0
}

sim_down() {
    [ -n "${SIM_PID:-}" ] || return 0
    kill -TERM "$SIM_PID" 2>/dev/null
    wait "$SIM_PID"
    rc=$?
    SIM_PID=
    # Under `make sanitize` a sanitizer report makes the simulator exit
    # non-zero, so this line is where such a report fails the test.
    t_is "$rc" 0 "the simulator stopped cleanly on SIGTERM (no sanitizer report)"
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$SIM_LOG" | sed 's/^/#   /'
    fi
    if [ "${KEEP_SIM_DIR:-0}" != 1 ]; then rm -rf "$SIM_DIR"; fi
    return $rc
}

# curl against the simulator, verifying TLS with its CA.
sim_curl() {
    curl -sS --cacert "$SIM_DIR/ca.pem" "$@"
}
