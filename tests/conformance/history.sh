#!/bin/sh
# history.sh — `bgswitch history` reading a journal written by hand in the
# documented format (bgswitch(1), JOURNAL): no journal yet, two runs as a
# table and as JSON, a torn last line still listed, a corrupt middle line
# refused with its line number, a future format version refused, and a
# journal others could have written refused.
. tests/lib/tap.sh

jget() {  # jget FILE PYTHON-EXPR  (d is the document)
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>&1
}

d=$(mktemp -d "${TMPDIR:-/tmp}/bgswitch-history.XXXXXX")
trap 'rm -rf "$d"' EXIT
export XDG_STATE_HOME="$d/state"
cp tests/fixtures/config/product-example.yaml "$d/bgswitch.yaml"
CFG=$d/bgswitch.yaml
J=$XDG_STATE_HOME/bgswitch/prod-weu.journal

out=$("$BGSWITCH" history -c "$CFG" 2>&1); rc=$?
t_is "$rc" 0 "no journal yet: exit 0"
t_is "$out" "no runs recorded for prod-weu (journal: $J)" "and says so, naming the journal"
t_is "$("$BGSWITCH" history -c "$CFG" --json 2>&1)" "[]" "--json with no journal: an empty array"
[ ! -e "$J" ]; t_ok $? "reading created no journal"

"$BGSWITCH" history --help | grep -q -- "--json"; t_ok $? "--help documents --json"
"$BGSWITCH" history --help | grep -q -- "-c, --config FILE"; t_ok $? "--help documents -c"
"$BGSWITCH" history >/dev/null 2>&1; t_is $? 2 "without -c: exit 2"
"$BGSWITCH" --help | grep -q '^  history  *-c FILE \[--json\]'; t_ok $? "bgswitch --help lists history with --json"

R1=11111111-2222-4333-8444-555555555555
R2=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee
mkdir -p "$XDG_STATE_HOME/bgswitch"
chmod 700 "$XDG_STATE_HOME" "$XDG_STATE_HOME/bgswitch"
rec() {  # rec SEQ TS RUN TYPE FIELDS
    printf '{"v":1,"seq":%s,"ts":"2024-05-01T%s","run":"%s","type":"%s",%s}\n' "$1" "$2" "$3" "$4" "$5"
}
{
    printf '{"v":1,"seq":0,"type":"journal","name":"prod-weu","created":"2024-05-01T10:00:00.000Z"}\n'
    rec 1 10:00:00.000Z $R1 run-start '"config":"/etc/bgswitch.yaml","sha256":"00","blue":"aks-prod-blue","green":"aks-prod-green","who":"alice@bastion","pid":4242'
    rec 2 10:00:01.000Z $R1 stage '"stage":"T0","state":"done","detail":null'
    rec 3 10:06:41.500Z $R1 stage '"stage":"T1","state":"failed","detail":"async operation failed"'
    rec 4 10:06:42.000Z $R1 run-end '"result":"failed"'
    rec 5 11:00:00.000Z $R2 run-start '"config":"/etc/bgswitch.yaml","sha256":"00","blue":"aks-prod-blue","green":"aks-prod-green","who":"bob@ci-runner-7","pid":77'
    rec 6 11:10:00.000Z $R2 stage '"stage":"T3","state":"entered","detail":"step 1/3"'
    rec 7 11:10:01.000Z $R2 intent '"action":7,"what":"gateway-weights","before":{"blue":100,"green":0},"after":{"blue":90,"green":10}'
    rec 8 11:12:03.250Z $R2 outcome '"action":7,"ok":true,"after":{"blue":90,"green":10},"error":null'
} >"$J"
chmod 600 "$J"

out=$("$BGSWITCH" history -c "$CFG" 2>"$d/err"); rc=$?
t_is "$rc" 0 "two runs: exit 0"
t_is "$(echo "$out" | sed -n 1p | tr -s ' ')" "RUN STARTED WHO STAGE RESULT DURATION" "the table's columns"
t_is "$(echo "$out" | sed -n 2p | tr -s ' ')" \
    "11111111 2024-05-01T10:00:00Z alice@bastion T1 failed failed 6m42s" "run 1: failed at T1 after 6m42s"
t_is "$(echo "$out" | sed -n 3p | tr -s ' ')" \
    "aaaaaaaa 2024-05-01T11:00:00Z bob@ci-runner-7 T3 entered in progress 12m03s" "run 2 (newest last): in progress at T3"
t_is "$(echo "$out" | wc -l | tr -d ' ')" 3 "a header and one line per run"
t_is "$(cat "$d/err")" "" "nothing on stderr"

"$BGSWITCH" history -c "$CFG" --json >"$d/h.json"; rc=$?
t_is "$rc" 0 "--json: exit 0"
t_is "$(jget "$d/h.json" 'len(d)')" 2 "--json: an array of two runs"
t_is "$(jget "$d/h.json" '[d[0][k] for k in ("run","started","ended","who","pid","stage","state","result","inProgress","durationMs")]')" \
    "['$R1', '2024-05-01T10:00:00.000Z', '2024-05-01T10:06:42.000Z', 'alice@bastion', 4242, 'T1', 'failed', 'failed', False, 402000]" \
    "--json: run 1 in full"
t_is "$(jget "$d/h.json" '[d[1][k] for k in ("run","ended","who","blue","green","config","stage","state","result","inProgress","durationMs")]')" \
    "['$R2', None, 'bob@ci-runner-7', 'aks-prod-blue', 'aks-prod-green', '/etc/bgswitch.yaml', 'T3', 'entered', None, True, 723250]" \
    "--json: run 2 in progress"

# A crash in the middle of writing the next record.
printf '{"v":1,"seq":9,"ts":"2024-05-01T11:13:00.000Z","run":"%s","ty' $R2 >>"$J"
out=$("$BGSWITCH" history -c "$CFG" 2>"$d/err"); rc=$?
t_is "$rc" 0 "a torn last line: still exit 0"
t_is "$(echo "$out" | wc -l | tr -d ' ')" 3 "and both runs are listed"
grep -q "torn last line.*line 10" "$d/err"; t_ok $? "with a note on stderr naming line 10"

# Corruption in the middle is not guessed around.
cp "$J" "$d/good"
sed -i '5s/.*/{"v":1,"seq":4,"ts":"2024-05-01T10:06:42/' "$J"
err=$("$BGSWITCH" history -c "$CFG" 2>&1 >/dev/null); rc=$?
t_is "$rc" 1 "a corrupt middle line: exit 1"
echo "$err" | grep -q "line 5 is corrupt"; t_ok $? "and the error names line 5"
"$BGSWITCH" history -c "$CFG" --json >/dev/null 2>&1; t_is $? 1 "--json too: exit 1"

# A newer format than this bgswitch knows.
cp "$d/good" "$J"
sed -i '3s/"v":1/"v":2/' "$J"
err=$("$BGSWITCH" history -c "$CFG" 2>&1 >/dev/null); rc=$?
t_is "$rc" 1 "a future format version: exit 1"
echo "$err" | grep -q "line 3: format version 2 is newer"; t_ok $? "and the error says so, with the line"

# A journal others could have changed is refused.
cp "$d/good" "$J"
chmod 620 "$J"
err=$("$BGSWITCH" history -c "$CFG" 2>&1 >/dev/null); rc=$?
t_is "$rc" 1 "a group-writable journal: exit 1"
echo "$err" | grep -q "writable by its group"; t_ok $? "and the error says why"
t_done
