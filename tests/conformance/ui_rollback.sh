#!/bin/sh
# ui_rollback.sh — `bgswitch demo` in a 120x40 tmux pane (issue 5, acceptance):
#   - the simulated green API server stops answering (the simulator's control
#     endpoint, /_sim/clusters/aks-prod-green/outage, reached with the CA the
#     demo's --keep-dir directory holds): green's pane says `disconnected`
#     and STALE within 5 s, blue's does not; when it answers again the pane
#     is current again;
#   - a rollback at the 50 % step (R, then y) shows the weights back at
#     100/0 on screen, and the simulator's gateway agrees (status --json
#     against the same simulator; the journal's gateway-restore and run-end;
#     the demo's log); bgswitch demo exits 4 (rolled back).
# Goldens: rollback-dialog-120x40, rolled-back-120x40 (tests/ui/golden);
# regenerate with UPDATE_GOLDEN=1 sh tests/conformance/ui_rollback.sh
# About 50 s.
. tests/lib/tap.sh
. tests/lib/tmux.sh

if ! tm_init; then
    t_skip "rollback and a disconnected cluster on the screen in tmux" "tmux or python3 is not installed"
    t_done; exit 0
fi

N=rb
SZ=120x40
S=$TM_TMP/rb.scr
JS=$TM_TMP/rb.json
SPEED=${UI_DEMO_SPEED:-50}
start=$(date +%s)

stop() { echo "# stopped early"; tm_cleanup; t_done; exit 1; }

demo_start $N 120 40
wait_ok $N 120 "the demo reaches the switch gate (green exists)" "switch gate \(T3\): confirm" || stop
D=$(demo_dir $N) || { t_ok 1 "the demo's directory (--keep-dir) has endpoints.json"; stop; }
tm_keys $N n
wait_ok $N 10 "n closes the dialog; both panes current" "^ Enter confirm" \
    "│ data [0-9]+[smh] old from .*││ data [0-9]+[smh] old from " || stop

# ---- green's API server goes away ---------------------------------------------------
# The outage is in simulated seconds: 60 real seconds, ended by hand below.
out=$(demo_ctl $N clusters/aks-prod-green/outage "{\"seconds\": $((60 * SPEED))}")
t_ok $? "the simulator's control endpoint takes green's outage (curl --cacert ca.pem)"
echo "$out" | grep -q '"outageSeconds"' || echo "# control endpoint said: $out"
t0=$(date +%s%N)
if tm_wait_py $N 6 'len(L) > 3 and "disconnected" in "".join(l[l.find("┐┌") + 1:] if "┐┌" in l else l[len(l)//2:] for l in L[1:15])'; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    t_ok "$([ "$ms" -le 5000 ] && echo 0 || echo 1)" "green's pane says disconnected within 5 s ($ms ms)"
else
    t_ok 1 "green's pane says disconnected within 5 s (not after 6 s)"
    tm_show
fi
cp "$TM_LAST" "$S.outage"
tm_pane "$S.outage" green >"$S.outage.green"
tm_pane "$S.outage" blue >"$S.outage.blue"
scr_has "$S.outage.green" "green's pane: STALE in its title, disconnected Ns, the last data marked STALE, still named" \
    "^┌ GREEN aks-prod-green .*1\.30\.5 +STALE" "│ disconnected [0-9]+s +STALE data [0-9]+[smh] old" \
    "│ nodes 6/6 Ready +pods 150/150 ready"
scr_lacks "$S.outage.blue" "blue's pane is not affected" "disconnected" "STALE"

demo_ctl $N clusters/aks-prod-green/outage '{"seconds": 0}' >/dev/null
t_ok $? "the outage is ended"
if tm_wait_not $N "disconnected|STALE" 40; then
    t_ok 0 "green's pane is current again once its API server answers"
else
    t_ok 1 "green's pane is current again once its API server answers (waited 40 s)"
    tm_show
fi

# ---- the switch, and a rollback at 50 % ---------------------------------------------
# (the traffic panel reads backend health every fifth look, 10 s)
wait_ok $N 40 "the checks pass again at the gate, the gateway sees green's backends healthy" \
    "✓ green backends 1/1 healthy" "✓ green shop\+payments 54/54 ready" "✓ gateway 5xx" \
    "│ green +[^ ]+ +0 % +backends 1/1 healthy" || stop
tm_keys $N Enter
wait_ok $N 10 "Enter reopens the switch dialog" "switch gate \(T3\): confirm" || stop
tm_keys $N y
wait_ok $N 60 "the switch reaches step 2/3: 50 % on screen" \
    "step 2/3 \(50 %\)" "│ blue +[^ ]+ +50 % " "│ green +[^ ]+ +50 % " "R rollback" || stop
demo_status $N "$JS"
t_is "$(jget "$JS" "d['traffic']['gateway']['weights']")" "{'blue': 50, 'green': 50}" \
    "the simulator's gateway is at 50/50 before the rollback"
tm_keys $N R
wait_ok $N 10 "R asks first" "Put traffic back on blue \(aks-prod-blue\)\?" "^ y yes +n/Esc no" || stop
cp "$TM_LAST" "$S.dialog"
scr_has "$S.dialog" "the rollback dialog leaves the traffic panel in view at 50/50" \
    "│ blue +[^ ]+ +50 % " "│ green +[^ ]+ +50 % "
tm_golden "rollback-dialog-$SZ" "$S.dialog"
tm_keys $N y
wait_ok $N 30 "y rolls back: the screen shows 100/0, dns on blue, the run rolled back (exit 4)" \
    "T3 rolled-back .*finished, exit 4" \
    "│ blue +[^ ]+ +100 % +backends 1/1 healthy" "│ green +[^ ]+ +0 % +backends" \
    "│ dns +aks\.priv\.contoso\.com\.? A 10\.10\.1\.4 \(blue\)" \
    "rolled-back: asked by the operator \(R\)" "rollback: gateway restored, DNS unchanged" || stop
cp "$TM_LAST" "$S.done"
scr_has "$S.done" "after the rollback: blue LIVE, green candidate, R gone from the key bar" \
    "^┌ BLUE aks-prod-blue +LIVE +1\.29\.7 .*┐┌ GREEN aks-prod-green +candidate +1\.30\.5" "^ Tab focus"
scr_lacks "$S.done" "no rollback key once it is done" "R rollback"

demo_status $N "$JS"
t_is "$(jget "$JS" "(d['traffic']['gateway']['weights'], d['traffic']['dns']['targets'], d['traffic']['dns']['pointsTo'], d['live'])")" \
    "({'blue': 100, 'green': 0}, ['10.10.1.4'], 'blue', 'blue')" \
    "the simulator agrees: gateway 100/0, dns 10.10.1.4 (blue), live blue (status --json)"
t_is "$(jget "$JS" "d['run']['state']")" "rolled-back" "status --json: the run rolled back"
J=$D/state/bgswitch/demo-prod-weu.journal
t_is "$(python3 - "$J" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rb = [r for r in recs if r.get("type") == "rollback"]
restore = [r for r in recs if r.get("type") == "intent" and r.get("what") == "gateway-restore"]
ok = [r for r in recs if r.get("type") == "outcome" and restore and r.get("action") == restore[-1].get("action")]
end = [r for r in recs if r.get("type") == "run-end"]
print(len(rb), rb[-1].get("automatic") if rb else None, len(restore),
      ok[-1].get("ok") if ok else None, end[-1].get("result") if end else None)
EOF
)" "1 False 1 True rolled-back" "the journal: one rollback asked by the operator, gateway-restore succeeded, run-end rolled-back"
grep -q "gateway agw-prod: restored: blue 50 / green 50 -> blue 100 / green 0" "$D/demo.log"
t_ok $? "the demo's log: the gateway restored from 50/50 to 100/0"
tm_golden "rolled-back-$SZ" "$S.done"

tm_keys $N q
rc=$(tm_wait_dead $N 20)
t_is "$rc" 4 "q quits at once after the run ended; bgswitch demo exits 4 (rolled back)"
echo "# wall time: $(( $(date +%s) - start )) s"
tm_cleanup
t_done
