#!/bin/sh
# status.sh — `bgswitch status` against the simulator: the JSON schema of
# PRODUCT.md §3 with the values the simulated world holds, the human
# table, a crash-looping fault seen in the counts, an API outage reported
# (exit 1, what could be read still printed), and argument errors.
. tests/lib/tap.sh

jget() {  # jget FILE PYTHON-EXPR  (d is the document)
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>&1
}

if ! sim_up --speed 50; then
    t_ok 1 "simulator starts"; t_done; exit 1
fi
. "$SIM_DIR/env"
CFG=$SIM_DIR/bgswitch.yaml
# A private state directory: the run comes from this switchover's journal.
XDG_STATE_HOME=$SIM_DIR/state
export XDG_STATE_HOME
OUT=$SIM_DIR/status.json

"$BGSWITCH" status -c "$CFG" --json >"$OUT" 2>"$SIM_DIR/status.err"
t_is $? 0 "status --json exits 0 when everything was read"
t_is "$(jget "$OUT" 'd["errors"]')" "[]" "no errors"
t_is "$(jget "$OUT" '(d["clusters"]["blue"]["name"], d["clusters"]["blue"]["kubernetesVersion"], d["clusters"]["blue"]["provisioningState"], d["clusters"]["blue"]["powerState"])')" \
    "('aks-prod-blue', '1.29.7', 'Succeeded', 'Running')" "blue: name, version, ARM states"
t_ok "$(jget "$OUT" '0 if d["clusters"]["blue"]["resourceId"].endswith("/managedClusters/aks-prod-blue") else 1')" \
    "blue: resourceId is the ARM id"
t_is "$(jget "$OUT" '(d["clusters"]["blue"]["nodes"]["ready"], d["clusters"]["blue"]["nodes"]["total"])')" \
    "(6, 6)" "blue: nodes 6/6 ready"
t_is "$(jget "$OUT" '[d["clusters"]["blue"]["pods"][k] for k in ("ready","total","pending","crashLooping")]')" \
    "[150, 150, 0, 0]" "blue: pods ready/total/pending/crashLooping"
t_is "$(jget "$OUT" '(d["clusters"]["green"]["exists"], d["clusters"]["green"]["name"])')" \
    "(False, 'aks-prod-green')" "green: not created yet"
t_is "$(jget "$OUT" 'd["live"]')" blue "live is blue"
t_is "$(jget "$OUT" '(d["traffic"]["gateway"]["name"], d["traffic"]["gateway"]["rule"], d["traffic"]["gateway"]["weights"])')" \
    "('agw-prod', 'rule-live-https', {'blue': 100, 'green': 0})" "gateway: name, rule, weights"
t_is "$(jget "$OUT" 'd["traffic"]["gateway"]["backends"]')" \
    "{'blue': {'healthy': 1, 'total': 1}, 'green': {'healthy': 0, 'total': 1}}" \
    "gateway: backend health per pool (green's ingress does not exist yet)"
t_is "$(jget "$OUT" '[d["traffic"]["dns"][k] for k in ("fqdn","type","ttl","targets","pointsTo")]')" \
    "['aks.priv.contoso.com', 'A', 300, ['10.10.1.4'], 'blue']" "dns: fqdn, type, ttl, targets, pointsTo"
t_is "$(jget "$OUT" 'd["run"]')" "{'stage': 'T0', 'state': 'idle'}" "run: T0, idle"

out=$("$BGSWITCH" status -c "$CFG" 2>&1)
t_is $? 0 "status (human form) exits 0"
echo "$out" | grep -Eq '^blue +aks-prod-blue +LIVE +1\.29\.7 +Succeeded/Running +6/6 +150/150 ready'
t_ok $? "the table shows blue LIVE with 6/6 nodes and 150/150 pods"
echo "$out" | grep -q '^green  aks-prod-green .*absent'; t_ok $? "and green absent"

# A run in progress, as the journal records it (format: bgswitch(1), JOURNAL).
mkdir -p "$XDG_STATE_HOME/bgswitch" && chmod 700 "$XDG_STATE_HOME" "$XDG_STATE_HOME/bgswitch"
R=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee
{
    printf '{"v":1,"seq":0,"type":"journal","name":"prod-weu","created":"2026-05-01T10:00:00.000Z"}\n'
    printf '{"v":1,"seq":1,"ts":"2026-05-01T11:00:00.000Z","run":"%s","type":"run-start","config":"x","sha256":"00","blue":"aks-prod-blue","green":"aks-prod-green","who":"bob@ci","pid":77}\n' $R
    printf '{"v":1,"seq":2,"ts":"2026-05-01T11:10:00.000Z","run":"%s","type":"stage","stage":"T2","state":"entered","detail":null}\n' $R
} >"$XDG_STATE_HOME/bgswitch/prod-weu.journal"
chmod 600 "$XDG_STATE_HOME/bgswitch/prod-weu.journal"
"$BGSWITCH" status -c "$CFG" --json >"$OUT" 2>/dev/null
t_is "$(jget "$OUT" '(d["run"]["stage"], d["run"]["state"], d["run"]["id"])')" "('T2', 'entered', '$R')" \
    "run: the journal's stage and state"
printf 'not json\n{"v":1}\n' >>"$XDG_STATE_HOME/bgswitch/prod-weu.journal"
"$BGSWITCH" status -c "$CFG" --json >"$OUT" 2>/dev/null
t_is "$?/$(jget "$OUT" '(d["run"]["stage"], d["run"]["state"])')" "1/(None, 'unknown')" \
    "a corrupt journal: run unknown, exit 1 (never a guess)"
rm -f "$XDG_STATE_HOME/bgswitch/prod-weu.journal"

# A crash-looping deployment shows in the counts.
sim_curl -X POST -d '{"namespace":"shop","deployment":"cart","on":true}' \
    "$SIM_URL/_sim/clusters/aks-prod-blue/crashloop" >/dev/null
i=0; n=0
while [ $i -lt 40 ]; do
    "$BGSWITCH" status -c "$CFG" --json >"$OUT" 2>/dev/null
    n=$(jget "$OUT" 'd["clusters"]["blue"]["pods"]["crashLooping"]')
    [ "$n" = 5 ] && break
    i=$((i + 1)); sleep 0.5
done
t_is "$n" 5 "crash-looping pods of shop/cart are counted"
t_is "$(jget "$OUT" 'd["clusters"]["blue"]["pods"]["ready"]')" 145 "and not counted ready"

# An API server outage: exit 1, ARM's view still printed, the failure named.
sim_curl -X POST -d '{"seconds":3000}' "$SIM_URL/_sim/clusters/aks-prod-blue/outage" >/dev/null
start=$(date +%s)
"$BGSWITCH" status -c "$CFG" --json >"$OUT" 2>/dev/null
rc=$?
took=$(( $(date +%s) - start ))
t_is "$rc" 1 "an unreachable API server: exit 1"
t_ok "$([ "$took" -lt 20 ] && echo 0 || echo 1)" "and the answer comes without waiting for the whole timeout ($took s)"
t_is "$(jget "$OUT" '(d["clusters"]["blue"]["provisioningState"], "nodes" in d["clusters"]["blue"])')" \
    "('Succeeded', False)" "ARM's view of blue is still there; no node counts pretend to be known"
t_ok "$(jget "$OUT" '0 if any("aks-prod-blue" in e for e in d["errors"]) else 1')" "errors name the cluster"
t_is "$(jget "$OUT" 'd["traffic"]["gateway"]["backends"]["blue"]["healthy"]')" 0 \
    "the gateway sees blue's backend down during the outage"

# Arguments and config errors.
"$BGSWITCH" status >/dev/null 2>&1; t_is $? 2 "status without -c exits 2"
"$BGSWITCH" status --help | grep -q -- "--json"; t_ok $? "status --help documents --json"
printf 'name: x\nazure: {subscription: s, resource_group: r, colour: blue}\n' >"$SIM_DIR/bad.yaml"
err=$("$BGSWITCH" status -c "$SIM_DIR/bad.yaml" 2>&1); rc=$?
t_is "$rc" 2 "a config error exits 2"
echo "$err" | grep -q "bad.yaml:2:45: unknown key 'colour' in azure"; t_ok $? "and names file:line:col"

sim_down
t_done
