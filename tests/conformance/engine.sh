#!/bin/sh
# engine.sh — `bgswitch run --headless` and `bgswitch rollback` as a
# pipeline runs them, against the simulator: usage and exit codes, the
# JSON-lines events, a gate not approved (exit 3, nothing moved), the lock
# held by another process (exit 6, holder named), rollback, and the crash
# test of issue #4: kill -9 at 20 points of one switchover (chosen by the
# journal's record count), restarting each time, until it finishes; after
# every kill the simulator's state must satisfy PRODUCT.md §6, and at the
# end green was created once and each gateway step written once.
. tests/lib/tap.sh

jget() {  # jget FILE PYTHON-EXPR  (d is the document)
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>&1
}

# config SOAK WINDOW > FILE: the simulator's config with the test's timings
# and checks (green's nodes for T1/T2, green's backends before each step).
config() {
    sed -n '1,/^checks:/p' "$SIM_DIR/bgswitch.yaml" | sed -e "s/soak: 2m/soak: $1/"
    cat <<EOF
  - name: green nodes ready
    type: nodes-ready
    cluster: green
    interval: 500ms
    gates: [provision, sync]
  - name: green backends
    type: backend-health
    cluster: green
    interval: 500ms
    gates: [switch]
window: $2
teardown:
  mode: delete
EOF
}

jlines() { [ -f "$J" ] && wc -l <"$J" || echo 0; }
# Records that mark progress and are written once per switchover (a
# resumed run writes its own run-start, T0 and check records again).
jprogress() {
    [ -f "$J" ] || { echo 0; return; }
    grep -cE '"type":"(intent|outcome|confirm|rollback)"|"stage":"T[1-4]","state":"done"' "$J"
}

# ---- usage ----------------------------------------------------------------------------
"$BGSWITCH" run --help >/dev/null 2>&1; t_is $? 0 "run --help exits 0"
"$BGSWITCH" run --help 2>&1 | grep -q -- '--approve GATES'; t_ok $? "run --help documents --approve"
"$BGSWITCH" rollback --help 2>&1 | grep -q 'exit status'; t_ok $? "rollback --help documents its exit status"
"$BGSWITCH" run -c /nonexistent.yaml --headless >/dev/null 2>&1; t_is $? 2 "a missing config is exit 2"
"$BGSWITCH" run -c /nonexistent.yaml --headless --approve merge >/dev/null 2>&1
t_is $? 2 "an unknown gate in --approve is exit 2"

if ! sim_up --speed 100; then
    t_ok 1 "simulator starts"; t_done; exit 1
fi
. "$SIM_DIR/env"
XDG_STATE_HOME=$SIM_DIR/state
export XDG_STATE_HOME BGSWITCH_RETRY_MS=200 BGSWITCH_OBSERVE_MS=300
J=$XDG_STATE_HOME/bgswitch/prod-weu.journal
CFG=$SIM_DIR/fast.yaml
config 1s 3s >"$CFG"
config 30s 3s >"$SIM_DIR/slow.yaml"

"$BGSWITCH" run -c "$CFG" </dev/null >/dev/null 2>"$SIM_DIR/notty.err"
t_is $? 2 "run without --headless and without a terminal: exit 2"
grep -q -- "--headless runs without one" "$SIM_DIR/notty.err"; t_ok $? "and it says --headless runs without one"

# ---- a gate not approved ----------------------------------------------------------------
"$BGSWITCH" status -c "$CFG" --json >"$SIM_DIR/before.json" 2>/dev/null
"$BGSWITCH" run -c "$CFG" --headless >"$SIM_DIR/ev1.jsonl" 2>"$SIM_DIR/ev1.err"
t_is $? 3 "without --approve the run stops at the switch gate: exit 3"
python3 - "$SIM_DIR/ev1.jsonl" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
evs = [json.loads(l) for l in lines]
assert all(e["v"] == 1 and "event" in e and "ts" in e for e in evs), "every line is a v1 event"
assert evs[0]["event"] == "run-start", evs[0]
assert evs[-1]["event"] == "run-end" and evs[-1]["exit"] == 3 and evs[-1]["result"] == "paused", evs[-1]
gates = [e for e in evs if e["event"] == "gate"]
assert len(gates) == 1 and gates[0]["gate"] == "switch" and len(gates[0]["change"]) >= 3, gates
EOF
t_ok $? "stdout is JSON lines: run-start first, one switch gate with the change, run-end exit 3 last"
"$BGSWITCH" status -c "$CFG" --json >"$SIM_DIR/after.json" 2>/dev/null
t_is "$(jget "$SIM_DIR/after.json" '(d["traffic"]["gateway"]["weights"], d["traffic"]["dns"]["pointsTo"])')" \
    "({'blue': 100, 'green': 0}, 'blue')" "gateway and DNS untouched at the gate"

# ---- the lock ----------------------------------------------------------------------------
"$BGSWITCH" run -c "$SIM_DIR/slow.yaml" --headless --approve switch >"$SIM_DIR/ev2.jsonl" 2>&1 &
FIRST=$!
i=0
until grep -q '"event":"step"' "$SIM_DIR/ev2.jsonl" 2>/dev/null || [ $i -gt 600 ]; do
    sleep 0.1; i=$((i + 1))
done
grep -q '"event":"step"' "$SIM_DIR/ev2.jsonl"; t_ok $? "a first run reaches the first step (and soaks 30 s)"
"$BGSWITCH" run -c "$CFG" --headless --approve switch >"$SIM_DIR/ev3.jsonl" 2>"$SIM_DIR/ev3.err"
t_is $? 6 "a second run while the first holds the lock: exit 6"
grep -qE "pid $FIRST([^0-9]|$)" "$SIM_DIR/ev3.err"; t_ok $? "and it names the holder's pid ($FIRST)"
grep -q '"event":"error"' "$SIM_DIR/ev3.jsonl"; t_ok $? "and says so as an error event on stdout"
"$BGSWITCH" rollback -c "$CFG" >/dev/null 2>"$SIM_DIR/rb0.err"
t_is $? 6 "bgswitch rollback is refused the same way while the run holds the lock"
kill -TERM $FIRST; wait $FIRST
t_is $? 5 "SIGTERM stops the first run at a safe point: exit 5, state kept"
tail -n 1 "$SIM_DIR/ev2.jsonl" | grep -q '"result":"aborted"'; t_ok $? "its last event is run-end aborted"

# ---- rollback ------------------------------------------------------------------------------
"$BGSWITCH" rollback -c "$CFG" >"$SIM_DIR/rb.jsonl" 2>"$SIM_DIR/rb.err"
t_is $? 0 "bgswitch rollback puts traffic back: exit 0"
"$BGSWITCH" status -c "$CFG" --json >"$SIM_DIR/after.json" 2>/dev/null
t_is "$(jget "$SIM_DIR/after.json" '(d["traffic"]["gateway"]["weights"], d["traffic"]["dns"]["pointsTo"])')" \
    "({'blue': 100, 'green': 0}, 'blue')" "gateway back to 100/0, DNS on blue"
grep -q '"type":"rollback"' "$J"; t_ok $? "the journal records the rollback"
"$BGSWITCH" rollback -c "$CFG" >/dev/null 2>&1
t_is $? 0 "a second rollback has nothing to do: exit 0"
sim_down

# ---- kill -9 at 20 points ------------------------------------------------------------------
if ! sim_up --speed 100; then
    t_ok 1 "simulator starts"; t_done; exit 1
fi
. "$SIM_DIR/env"
XDG_STATE_HOME=$SIM_DIR/state
J=$XDG_STATE_HOME/bgswitch/prod-weu.journal
CFG=$SIM_DIR/fast.yaml
config 2s 4s >"$CFG"
# the live record's TTL (300 s) would hold teardown back that long
sim_curl -X POST -d '{"ttl": 1}' "$SIM_URL/_sim/arm/dns/priv.contoso.com/A/aks/bump-etag" >/dev/null
# ARM answers 40 ms late: records that would otherwise follow each other
# within a millisecond (a confirmation, then the intent of the first step)
# come apart enough for the watcher below to stop the run between them
sim_curl -X POST -d '{"slow_ms": 40}' "$SIM_URL/_sim/faults" >/dev/null

# The §6 invariants, read from the simulated world after each kill: blue
# is never gone (or going) while the gateway gives it weight or the DNS
# record points at it; green is created at most once; the gateway's rule
# is written at most once per step.
invariants() {
    sim_curl "$SIM_URL/_sim/arm/operations" >"$SIM_DIR/ops.json" 2>/dev/null
    "$BGSWITCH" status -c "$CFG" --json >"$SIM_DIR/st.json" 2>/dev/null
    python3 - "$SIM_DIR/ops.json" "$SIM_DIR/st.json" <<'EOF'
import json, sys
ops = json.load(open(sys.argv[1]))
st = json.load(open(sys.argv[2]))
creates = [o for o in ops if o["resourceId"].endswith("/aks-prod-green") and o["request"] == "PUT"]
deletes = [o for o in ops if o["resourceId"].endswith("/aks-prod-blue") and o["request"] == "DELETE"]
gw_puts = [o for o in ops if "/applicationGateways/" in o["resourceId"] and o["request"] == "PUT"]
assert len(creates) <= 1, "green created %d times" % len(creates)
assert len(gw_puts) <= 3, "%d gateway writes for 3 steps" % len(gw_puts)
if deletes:
    # no gateway write after blue's deletion began: traffic had left it before
    first_delete = min(o["startTime"] for o in deletes)
    late = [o for o in gw_puts if o["startTime"] > first_delete]
    assert not late, "gateway written after blue's deletion began: %s" % late
    w = st["traffic"]["gateway"]["weights"]
    assert w["blue"] == 0, "blue deleted while the gateway gives it %s" % w
    assert st["traffic"]["dns"]["pointsTo"] == "green", "blue deleted while DNS points at %s" % st["traffic"]["dns"]["pointsTo"]
print(len(creates), len(gw_puts), len(deletes))
EOF
}

kills=0 bad=0 runs=0 finished=0 points=""
while [ $runs -lt 40 ]; do
    runs=$((runs + 1))
    start=$(jprogress) lines=$(jlines)
    "$BGSWITCH" run -c "$CFG" --headless --approve switch,teardown >>"$SIM_DIR/kill.jsonl" 2>>"$SIM_DIR/kill.err" &
    pid=$!
    if [ $kills -lt 4 ]; then
        # the first four: during the start, 1 to 4 records into the run
        target=$((lines + 1 + kills))
        while kill -0 $pid 2>/dev/null && [ "$(jlines)" -lt $target ]; do sleep 0.005; done
    elif [ $kills -lt 20 ]; then
        # then right after a run's first or second record of progress:
        # every kill lands at a new point of the switchover, just after an
        # intent (before or after its write), an outcome, a confirmation or
        # a stage done, from T1 to T4
        target=$((start + 1 + kills % 2))
        while kill -0 $pid 2>/dev/null && [ "$(jprogress)" -lt $target ]; do sleep 0.005; done
    fi
    if [ $kills -lt 20 ]; then
        if kill -9 $pid 2>/dev/null; then
            wait $pid 2>/dev/null
            krc=$?
            # a run that had already ended is not a kill point
            if [ $krc -ne 137 ]; then
                echo "# run $runs ended with $krc before the kill"; tail -n 3 "$SIM_DIR/kill.jsonl" | sed 's/^/#   /'
                [ $krc -eq 0 ] && { finished=1; break; }
                continue
            fi
            kills=$((kills + 1))
            points="$points $(jlines):$(tail -n 1 "$J" | sed -n 's/.*"type":"\([a-z-]*\)".*"\(what\|stage\)":"\([^"]*\)".*/\1.\3/p;t;s/.*"type":"\([a-z-]*\)".*/\1/p')"
            out=$(invariants) || { bad=$((bad + 1)); echo "# after kill $kills: $out"; }
            # killed after its last record: the switchover is over
            if tail -n 1 "$J" | grep -q '"type":"run-end","result":"done"'; then finished=1; break; fi
            continue
        fi
    fi
    wait $pid
    rc=$?
    if [ $rc -eq 0 ]; then finished=1; break; fi
    echo "# run $runs ended with $rc"; tail -n 3 "$SIM_DIR/kill.jsonl" | sed 's/^/#   /'
done
echo "# killed at journal records:$points"
t_is $kills 20 "20 runs were killed with SIGKILL"
t_is "$(echo $points | tr ' ' '\n' | cut -d: -f1 | sort -u | wc -l | tr -d ' ')" 20 \
    "at 20 different journal record counts"
t_is $bad 0 "the §6 invariants held after every kill"
t_is $finished 1 "the switchover finished (its run-end says done) after $runs runs"
out=$(invariants)
t_is "$out" "1 3 1" "green created once, 3 gateway writes for 3 steps, blue deleted once"
t_is "$(jget "$SIM_DIR/st.json" '(d["traffic"]["gateway"]["weights"], d["traffic"]["dns"]["pointsTo"], d["clusters"]["blue"]["exists"])')" \
    "({'blue': 0, 'green': 100}, 'green', False)" "green is live: weights 0/100, DNS on green, blue gone"
python3 - "$J" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
intents = {r["action"]: r for r in recs if r["type"] == "intent"}
outcomes = [r for r in recs if r["type"] == "outcome"]
# every outcome follows its intent; nothing is left pending
for o in outcomes:
    assert o["action"] in intents and intents[o["action"]]["seq"] < o["seq"], o
closed = {o["action"] for o in outcomes}
assert set(intents) <= closed, "pending: %s" % [intents[a]["what"] for a in set(intents) - closed]
assert recs[-1]["type"] == "run-end" and recs[-1]["result"] == "done", recs[-1]
EOF
t_ok $? "the journal: every intent closed by an outcome after it, ends with run-end done"
"$BGSWITCH" history -c "$CFG" >/dev/null 2>&1; t_is $? 0 "history reads the journal after all of it"
sim_down
t_done
