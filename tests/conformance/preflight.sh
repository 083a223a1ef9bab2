#!/bin/sh
# tests/conformance/preflight.sh — `bgswitch preflight` against the
# simulator: a clean world passes every check; narrowed Azure permissions,
# a wrong client secret, a config typo, a missing namespace and an API
# server outage each fail the check they should, with a fix, and the exit
# codes are 0 / 1 / 2 as documented.  --json parses and --help lists every
# option.  Runs in the C locale (ASCII marks) except where the UTF-8 marks
# are the point.
. tests/lib/tap.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/bgswitch-preflight.XXXXXX")
trap 'sim_down >/dev/null 2>&1; rm -rf "$T"' EXIT
LC_ALL=C
export LC_ALL

# pf [ARGS...]: runs preflight; output in $T/out (stdout and stderr), exit
# code in $RC.
pf() {
    "$BGSWITCH" preflight "$@" >"$T/out" 2>&1
    RC=$?
}
# line NAME: the table line of check NAME ("ok      NAME  detail").
line() { grep -E "^(ok|FAIL|skip) +$1( |\$)" "$T/out" | head -n 1; }
# status NAME: ok, FAIL or skip.
status() { line "$1" | cut -d' ' -f1; }
show() { sed 's/^/#   /' "$T/out"; }

if ! sim_up --speed 50; then
    t_ok 1 "bgswitch sim starts"
    t_done
    exit 1
fi
. "$SIM_DIR/env"
CFG=$SIM_DIR/bgswitch.yaml

# ---- usage -----------------------------------------------------------------

out=$("$BGSWITCH" preflight --help 2>&1); rc=$?
t_is "$rc" 0 "preflight --help exits 0"
for o in --config --json --timeout --log --help; do
    echo "$out" | grep -q -- "$o"; t_ok $? "--help lists $o"
done
pf; t_is "$RC" 2 "preflight without -c exits 2"
grep -q -- "-c FILE is required" "$T/out"; t_ok $? "and says -c FILE is required"
pf -c "$CFG" --bogus; t_is "$RC" 2 "an unknown option exits 2"
pf -c "$CFG" --timeout soon; t_is "$RC" 2 "--timeout soon exits 2"

# ---- a clean world -----------------------------------------------------------

pf -c "$CFG"
t_is "$RC" 0 "preflight of the simulated world exits 0"
[ "$RC" = 0 ] || show
grep -qE '^[0-9]+ checks, [0-9]+ passed, 0 failed$' "$T/out"; t_ok $? "summary: N checks, N passed, 0 failed"
t_is "$(status config)" ok "config passes"
line credential | grep -q "environment (client secret)"
t_ok $? "credential names the credential used (environment, client secret)"
line "blue cluster" | grep -q "aks-prod-blue: Succeeded/Running"; t_ok $? "blue is Succeeded/Running"
line "green cluster" | grep -q "not created yet (T1 will create it)"; t_ok $? "green is not created yet"
line "gateway rule" | grep -q "weights blue 100, green 0"; t_ok $? "gateway rule shows weights 100/0"
line "dns record" | grep -q "10.10.1.4 (points at blue)"; t_ok $? "DNS record points at blue"
n=$(grep -cE '^ok +permission Microsoft\.' "$T/out")
t_is "$(grep -cE '^(FAIL|skip) +permission' "$T/out")/$([ "$n" -ge 6 ] && echo many)" 0/many \
    "every permission line passes ($n actions)"
grep -qE '^ok +permission Microsoft.ContainerService/managedClusters/write$' "$T/out"
t_ok $? "managedClusters/write is checked (provision: arm-clone)"
grep -qE '^ok +permission Microsoft.Network/privateDnsZones/A/write$' "$T/out"
t_ok $? "privateDnsZones/A/write is checked (dns type A)"
for c in "blue api server" "blue namespaces" "blue sync access" "blue lock lease" "blue watch nodes, pods"; do
    t_is "$(status "$c")" ok "$c passes"
done
line "blue api server" | grep -q "Kubernetes v1.29.7; credential from kubeconfig $SIM_DIR/kubeconfig, context aks-prod-blue"
t_ok $? "blue api server names its version and where the credential came from"
! grep -q "^.* green api server" "$T/out"; t_ok $? "green, not created, gets no Kubernetes checks"
! grep -q "blue freeze policies" "$T/out"; t_ok $? "no freeze check when sync.freeze is false"

if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
    LC_ALL=C.UTF-8 "$BGSWITCH" preflight -c "$CFG" >"$T/utf8" 2>&1
    grep -q '^✓ PASS  config' "$T/utf8"; t_ok $? "a UTF-8 locale shows ✓ PASS"
else
    t_skip "a UTF-8 locale shows ✓ PASS" "no C.UTF-8 locale here"
fi

# ---- --json and --log ----------------------------------------------------------

"$BGSWITCH" preflight -c "$CFG" --json --log "$T/pf.log" >"$T/json" 2>"$T/err"; rc=$?
t_is "$rc" 0 "--json exits 0 on a clean world"
python3 -c 'import json,sys; json.load(sys.stdin)' <"$T/json"; t_ok $? "--json output parses"
t_is "$(python3 -c '
import json, sys
d = json.load(sys.stdin)
names = [c["check"] for c in d]
ok = all(set(c) >= {"check", "ok", "detail", "fix"} and c["ok"] is True for c in d)
need = ["config", "credential", "blue cluster", "green cluster", "gateway rule", "dns record",
        "permission Microsoft.ContainerService/managedClusters/write", "blue api server"]
print("yes" if ok and all(n in names for n in need) else "no: %s" % names)' <"$T/json")" yes \
    "--json has {check, ok, detail, fix} for every check, all ok"
[ -s "$T/pf.log" ] && ! grep -q "$AZURE_CLIENT_SECRET" "$T/pf.log"
t_ok $? "--log writes a log without the client secret"

# ---- the config --------------------------------------------------------------

awk '{ print } /^name:/ && !done { print "nmae: typo"; done = 1 }' "$CFG" >"$T/typo.yaml"
pf -c "$T/typo.yaml"
t_is "$RC" 2 "a config with a typo key exits 2"
grep -qE "typo.yaml:[0-9]+:[0-9]+: .*nmae" "$T/out"; t_ok $? "and names FILE:LINE:COL and the key"
pf -c "$T/missing.yaml"; t_is "$RC" 2 "a config that does not exist exits 2"

# ---- narrowed Azure permissions ---------------------------------------------------

sim_curl -X POST -d '{"actions":["*/read"]}' "$SIM_URL/_sim/arm/permissions" >/dev/null
pf -c "$CFG"
t_is "$RC" 1 "with only */read, preflight exits 1"
t_is "$(status 'permission Microsoft.ContainerService/managedClusters/write')" FAIL \
    "the managedClusters/write line fails"
grep -A3 -E '^FAIL +permission Microsoft.ContainerService/managedClusters/write$' "$T/out" \
    | grep -q "fix: .*az role assignment create"
t_ok $? "and gives a fix (the role assignment to make)"
t_is "$(status 'permission Microsoft.Insights/metrics/read')" ok "a read action still passes"
t_is "$(status 'blue cluster')" ok "ARM reads still pass"

# Exactly one permission missing: exactly that one line fails, and the
# summary counts exactly one failure.
sim_curl -X POST -d '{"actions":["*"],"not_actions":["Microsoft.Network/applicationGateways/write"]}' \
    "$SIM_URL/_sim/arm/permissions" >/dev/null
pf -c "$CFG"
t_is "$RC" 1 "one permission missing: preflight exits 1"
t_is "$(grep -E '^(FAIL|skip) ' "$T/out" | sed 's/  */ /g')" \
    "FAIL permission Microsoft.Network/applicationGateways/write" \
    "exactly one line fails, and it names exactly that permission"
grep -qE '^[0-9]+ checks, [0-9]+ passed, 1 failed$' "$T/out"
t_ok $? "the summary counts one failure"
sim_curl -X POST -d '{"actions":["*"]}' "$SIM_URL/_sim/arm/permissions" >/dev/null

# ---- a wrong client secret ------------------------------------------------------

AZURE_CLIENT_SECRET=wrong-secret "$BGSWITCH" preflight -c "$CFG" >"$T/out" 2>&1; RC=$?
t_is "$RC" 1 "a wrong client secret exits 1"
t_is "$(status credential)" FAIL "the credential line fails"
grep -A1 -E '^FAIL +credential$' "$T/out" | grep -q AADSTS7000215; t_ok $? "naming AADSTS7000215"
grep -A2 -E '^FAIL +credential$' "$T/out" | grep -q "fix: .*AZURE_CLIENT_SECRET"
t_ok $? "with a fix naming AZURE_CLIENT_SECRET"
t_is "$(status 'blue cluster')" skip "ARM checks are skipped, not passed"
t_is "$(status 'blue api server')" ok "blue's Kubernetes checks still run from its kubeconfig"
grep -qE '^[0-9]+ checks, [0-9]+ passed, 1 failed, [0-9]+ skipped$' "$T/out"; t_ok $? "summary counts the skipped"

# ---- sync namespaces and freeze ------------------------------------------------------

sed -e 's/freeze: false/freeze: true/' -e 's/namespaces: \[ingress,/namespaces: [ingress, no-such-ns,/' \
    "$CFG" >"$T/freeze.yaml"
pf -c "$T/freeze.yaml"
t_is "$RC" 1 "a synced namespace missing on blue exits 1"
grep -A1 -E '^FAIL +blue namespaces$' "$T/out" | grep -q "missing on blue: no-such-ns"
t_ok $? "and the namespaces line names it"
t_is "$(status 'blue freeze policies')" FAIL "sync.freeze: true on a 1.29 blue fails: it cannot be frozen"
grep -A2 -E '^FAIL +blue freeze policies$' "$T/out" | grep -q "needs Kubernetes 1.30 or later on blue"
t_ok $? "and says why (Kubernetes 1.30 or later), with blue's version"
grep -A3 -E '^FAIL +blue freeze policies$' "$T/out" | grep -q "fix: set sync.freeze: false"
t_ok $? "and what to do"

# ---- an API server outage ----------------------------------------------------------

sim_curl -X POST -d '{"seconds":600}' "$SIM_URL/_sim/clusters/aks-prod-blue/outage" >/dev/null
pf -c "$CFG" --timeout 30s
t_is "$RC" 1 "an outage of blue's API server exits 1"
t_is "$(status 'blue api server')" FAIL "the blue api server line fails"
grep -A2 -E '^FAIL +blue api server$' "$T/out" | grep -q "fix: check network access"
t_ok $? "with a fix"
t_is "$(status 'blue access checks')" skip "its access checks are listed as skipped"
t_is "$(status 'blue cluster')" ok "ARM still reports blue"
sim_curl -X POST -d '{"seconds":0}' "$SIM_URL/_sim/clusters/aks-prod-blue/outage" >/dev/null

sim_down

# ---- freeze on a blue that serves ValidatingAdmissionPolicy (1.30) ----------------------
sed -e '0,/kubernetes_version: 1.29.7/s//kubernetes_version: 1.30.5/' sim/worlds/default.yaml \
    >"$T/world130.yaml"
if sim_up --speed 50 --world "$T/world130.yaml"; then
    . "$SIM_DIR/env"
    sed -e 's/freeze: false/freeze: true/' "$SIM_DIR/bgswitch.yaml" >"$T/freeze130.yaml"
    pf -c "$T/freeze130.yaml"
    t_is "$(status 'blue freeze policies')" ok "on a 1.30 blue the freeze's admission policy verbs are checked and pass"
    sim_down
else
    t_ok 1 "simulator with a 1.30 blue starts"
fi
t_done
