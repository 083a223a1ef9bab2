#!/bin/sh
# ui_walk.sh — `bgswitch demo` on the screen, T0 to T4, in a 120x40 and an
# 80x24 tmux pane at once (two private tmux servers, two demos, each with its
# own in-process simulator), driven with send-keys (issue 5, acceptance):
#   - at each gate (switch, teardown) the screen shows both cluster panes
#     with names and versions, the weights, the DNS target, the stages and
#     the checks, and they agree with `bgswitch status --json` run against
#     the same simulator (the demo's --keep-dir directory has its env, CA,
#     config and state);
#   - the teardown dialog refuses a wrong name (says so, stays open, nothing
#     deleted) and accepts the right one (blue deleted, run done, exit 0);
#   - 120x40 resized to 80x24 during T3: no line wider than 80 columns, both
#     cluster names on screen, the boxes closed; and back to 120x40;
#   - golden screens (tests/ui/golden/*.txt) of the switch gate (dialog and
#     main screen), the teardown gate, the refused name and the end.
# Regenerate the goldens: UPDATE_GOLDEN=1 sh tests/conformance/ui_walk.sh
# About 2 min 45 s (the demo's soaks and rollback window are real time).
# Also: the default theme does colour the screen (the other side of
# ui_plain.sh's NO_COLOR check).
. tests/lib/tap.sh
. tests/lib/tmux.sh

if ! tm_init; then
    t_skip "the screen walked T0 to T4 in tmux" "tmux or python3 is not installed"
    t_done; exit 0
fi

# blank_blue FILE OUT: the blue pane's lines under its title replaced by a
# marker.  At the end the engine stops observing when the run ends, and
# whether its last look at blue saw the deleted cluster's API server gone
# (STALE, disconnected; the badge and version then move) or not races the
# deletion: the end's golden masks blue's title after its name, its pane
# and its bottom border (the node list's position), and keeps everything
# else literal (the badges are checked above).
blank_blue() {
    python3 - "$1" <<'EOF' >"$2"
import sys
L = open(sys.argv[1], encoding="utf-8").read().split("\n")
cut = L[1].find("┐┌", 2)
bottom = next(i for i in range(2, len(L)) if L[i][:1] == "└")
left = L[1][:cut + 1]
at = left.find("aks-prod-blue")
L[1] = left[:at] + "aks-prod-blue (title masked)" + L[1][cut:]
for i in range(2, bottom):
    inner = " (blue's pane: masked at the end)" if i == 2 else ""
    L[i] = "│" + inner.ljust(cut - 1) + L[i][cut:]
L[bottom] = "└" + "─" * (cut - 1) + L[bottom][cut:]
sys.stdout.write("\n".join(L))
EOF
}

# panes_vs_status NAME SIZE SCREEN JSON: the numbers of both cluster panes
# against what the simulator says (traffic_vs_status: the traffic panel).
panes_vs_status() {
    _n=$1 _sz=$2 _scr=$3 _js=$4
    for _role in blue green; do
        tm_pane "$_scr" "$_role" >"$_scr.$_role"
        _name=$(jget "$_js" "d['clusters']['$_role']['name']")
        _ver=$(jget "$_js" "d['clusters']['$_role']['kubernetesVersion']")
        _arm=$(jget "$_js" "d['clusters']['$_role']['provisioningState'] + '/' + d['clusters']['$_role']['powerState']")
        _nodes=$(jget "$_js" "'%d/%d' % (d['clusters']['$_role']['nodes']['ready'], d['clusters']['$_role']['nodes']['total'])")
        _pods=$(jget "$_js" "'%d/%d' % (d['clusters']['$_role']['pods']['ready'], d['clusters']['$_role']['pods']['total'])")
        _ROLE=$(echo "$_role" | tr '[:lower:]' '[:upper:]')
        scr_has "$_scr.$_role" "$_sz: $_role's pane: $_name $_ver, ARM $_arm, nodes $_nodes, pods $_pods (as status --json)" \
            "^┌ $_ROLE $_name .*$(echo "$_ver" | sed 's/\./\\./g')" \
            "│ ARM $_arm" \
            "│ nodes $_nodes Ready +pods $_pods ready"
    done
}

traffic_vs_status() {  # NAME SIZE SCREEN JSON
    _sz=$2 _scr=$3 _js=$4
    _wb=$(jget "$_js" "d['traffic']['gateway']['weights']['blue']")
    _wg=$(jget "$_js" "d['traffic']['gateway']['weights']['green']")
    _bb=$(jget "$_js" "'%d/%d' % (d['traffic']['gateway']['backends']['blue']['healthy'], d['traffic']['gateway']['backends']['blue']['total'])")
    _bg=$(jget "$_js" "'%d/%d' % (d['traffic']['gateway']['backends']['green']['healthy'], d['traffic']['gateway']['backends']['green']['total'])")
    _fq=$(jget "$_js" "d['traffic']['dns']['fqdn'].replace('.', r'\.')")
    _tgt=$(jget "$_js" "d['traffic']['dns']['targets'][0]")
    _tg=$(echo "$_tgt" | sed 's/\./\\./g')
    _pt=$(jget "$_js" "d['traffic']['dns']['pointsTo']")
    _ttl=$(jget "$_js" "d['traffic']['dns']['ttl']")
    # (a narrow panel gives the record's type and TTL up for the resolvers' countdown)
    scr_has "$_scr" "$_sz: traffic panel: blue $_wb % ($_bb healthy), green $_wg % ($_bg healthy), dns -> $_tgt ($_pt) ttl $_ttl s (as status --json)" \
        "│ blue +[^ ]+ +$_wb % +backends $_bb healthy" \
        "│ green +[^ ]+ +$_wg % +backends $_bg healthy" \
        "│ dns +$_fq\.? (A $_tg \($_pt\) +ttl $_ttl s|$_tg \($_pt\) +resolvers updated in [0-9]+:[0-9]{2})"
}

walk() {  # walk NAME COLS ROWS  (TAP lines on stdout, numbered here, merged later)
    N=$1 W=$2 H=$3 SZ=${2}x$3
    S=$TM_TMP/$N.scr
    JS=$TM_TMP/$N.json
    demo_start "$N" "$W" "$H"

    # T0/T1: blue live, green not there yet.
    wait_ok "$N" 30 "$SZ: the demo starts: blue LIVE 1.29.7, green not created yet" \
        "BLUE aks-prod-blue +LIVE +1\.29\.7" "GREEN aks-prod-green" "not created yet" \
        "│ dns +aks\.priv\.contoso\.com\.? A 10\.10\.1\.4 \(blue\)" || return 1
    D=$(demo_dir "$N") || { t_ok 1 "$SZ: the demo's directory (--keep-dir) has endpoints.json and env"; return 1; }

    # T3 switch gate: the dialog opens by itself.  The traffic panel reads
    # backend health every fifth look (10 s), so wait for green's pool to
    # be seen healthy, as the check already says.
    wait_ok "$N" 120 "$SZ: the switch gate's dialog opens by itself" \
        "switch gate \(T3\): confirm this change" || return 1
    wait_ok "$N" 25 "$SZ: switch gate: the traffic panel sees green's backends healthy" \
        "│ green +[^ ]+ +0 % +backends 1/1 healthy" || return 1
    cp "$TM_LAST" "$S.gate"
    scr_has "$S.gate" "$SZ: switch gate: both cluster titles with names, badges and versions" \
        "^┌ BLUE aks-prod-blue +LIVE +1\.29\.7 .*┐┌ GREEN aks-prod-green +candidate +1\.30\.5"
    scr_has "$S.gate" "$SZ: switch gate dialog: the exact change (blue 100 / green 0 -> steps; dns 10.10.1.4 -> 10.10.2.4)" \
        "blue 100 / green 0" "-> green 10, 50, 100 % in steps" \
        "dns aks\.priv\.contoso\.com\.? A 10\.10\.1\.4 \(blue\), ttl 30 s" \
        "-> 10\.10\.2\.4 \(green\), ttl 30 s" "y +confirm the switch"
    scr_has "$S.gate" "$SZ: switch gate: weights 100/0, dns 10.10.1.4 (blue), stages T0-T2 done, checks passing" \
        "│ blue +[^ ]+ +100 % +backends 1/1 healthy" \
        "│ green +[^ ]+ +0 % +backends 1/1 healthy" \
        "│ dns +aks\.priv\.contoso\.com\.? A 10\.10\.1\.4 \(blue\) +ttl 30 s" \
        "^ stages +✓T0 [0-9]{2}:[0-9]{2} +✓T1 [0-9]{2}:[0-9]{2} +✓T2 [0-9]{2}:[0-9]{2} +·T3 +·T4 +waiting for confirmation" \
        "✓ green backends 1/1 healthy \(want = 1\)" \
        "✓ green shop\+payments 54/54 ready \(want >= 54\)" \
        "✓ gateway 5xx 0 \(want <= 10\)"
    scr_has "$S.gate" "$SZ: switch gate: the key bar shows the dialog's keys" "^ y yes +n/Esc no"
    demo_status "$N" "$JS"
    t_is "$(jget "$JS" "(d['run']['stage'], d['live'], d['traffic']['gateway']['weights'], d['traffic']['dns']['pointsTo'])")" \
        "('T2', 'blue', {'blue': 100, 'green': 0}, 'blue')" \
        "$SZ: switch gate: the simulator agrees (status --json: T2 done, live blue, 100/0, dns blue)"
    traffic_vs_status "$N" "$SZ" "$S.gate" "$JS"
    t_is "$(jget "$JS" "'%d/%d' % tuple(sum(d['clusters']['green']['namespaces'][ns]['pods'][k] for ns in ('shop','payments')) for k in ('ready','total'))")" \
        "54/54" "$SZ: switch gate: the check's 54/54 is green's shop+payments in the simulator"
    tm_golden "switch-gate-$SZ" "$S.gate"

    # n closes the dialog (the gate keeps waiting): the panes in full.
    tm_keys "$N" n
    wait_ok "$N" 10 "$SZ: n closes the dialog, the gate keeps waiting (Enter in the key bar)" \
        "^ Enter confirm" "T3 switch-gate" || return 1
    wait_ok "$N" 10 "$SZ: the main screen shows both panes' counts" \
        "│ nodes 6/6 Ready +pods 150/150 ready +││ nodes 6/6 Ready +pods 150/150 ready" || return 1
    cp "$TM_LAST" "$S.main"
    demo_status "$N" "$JS"
    panes_vs_status "$N" "$SZ" "$S.main" "$JS"
    traffic_vs_status "$N" "$SZ" "$S.main" "$JS"
    tm_golden "switch-gate-main-$SZ" "$S.main"
    # The other side of ui_plain.sh's NO_COLOR check: with the default
    # theme the same detector does see colour.
    tm_capture "$N" "$S.main.e" -e
    case "$(tm_sgr "$S.main.e")" in
    "colour 0 "*) t_ok 1 "$SZ: the default theme colours the screen (capture-pane -e)" ;;
    *) t_ok 0 "$SZ: the default theme colours the screen (capture-pane -e)" ;;
    esac

    # Enter reopens it; y confirms.
    tm_keys "$N" Enter
    wait_ok "$N" 10 "$SZ: Enter reopens the switch dialog" "switch gate \(T3\): confirm" || return 1
    tm_keys "$N" y
    wait_ok "$N" 20 "$SZ: y starts the switch: step 1/3 (10 %), R and p in the key bar" \
        "T3 switch .*step 1/3 \(10 %\)" "R rollback +p pause" || return 1

    if [ "$W" -eq 120 ]; then
        # Resize during T3 to 80x24: the app lays the screen out again.
        tm_resize "$N" 80 24
        if tm_wait_py "$N" 15 'len(L) == 24 and len(L[1]) == 80 and L[1].startswith("┌ BLUE aks-prod-blue") and L[1].endswith("┐") and "┐┌ GREEN aks-prod-green" in L[1] and L[-1].lstrip().startswith("R rollback")'; then
            t_ok 0 "$SZ: resized to 80x24 during T3, the screen is laid out for 80x24"
        else
            t_ok 1 "$SZ: resized to 80x24 during T3, the screen is laid out for 80x24 (waited 15 s)"
            tm_show
        fi
        cp "$TM_LAST" "$S.resized"
        tm_width_ok "$S.resized" 80
        t_ok $? "$SZ -> 80x24: no line wider than 80 columns"
        scr_has "$S.resized" "$SZ -> 80x24: both cluster names, the weights, the dns record and the stages readable" \
            "BLUE aks-prod-blue" "GREEN aks-prod-green" \
            "│ blue +[^ ]+ +[0-9]+ % +backends" "│ green +[^ ]+ +[0-9]+ % +backends" \
            "│ dns +aks\.priv\.contoso\.com\.? A 10\.10\.1\.4 \(blue\)" "^ stages +✓T0 .*▶T3"
        tm_py "$S.resized" 'all(len(l) == 80 and l[-1] in "│┐┘" for l in L[1:] if l[:1] in "│┌└")'
        t_ok $? "$SZ -> 80x24: every box line is closed at column 80"
        tm_resize "$N" 120 40
        if tm_wait_py "$N" 15 'len(L) == 40 and len(L[1]) == 120 and "┐┌ GREEN aks-prod-green" in L[1] and L[1].endswith("┐")'; then
            t_ok 0 "$SZ: back to 120x40, laid out for 120x40 again"
        else
            t_ok 1 "$SZ: back to 120x40, laid out for 120x40 again (waited 15 s)"
            tm_show
        fi
        tm_width_ok "$TM_LAST" 120
        t_ok $? "$SZ: no line wider than 120 columns after growing back"
    fi

    wait_ok "$N" 40 "$SZ: the screen shows step 2/3 (50 %) and the gateway at 50/50" \
        "step 2/3 \(50 %\)" "│ blue +[^ ]+ +50 %" "│ green +[^ ]+ +50 %" || return 1
    wait_ok "$N" 40 "$SZ: step 3/3: the gateway at 0/100" \
        "step 3/3 \(100 %\)" "│ blue +[^ ]+ +0 %" "│ green +[^ ]+ +100 %" || return 1
    if [ "$W" -eq 120 ]; then
        wait_ok "$N" 40 "$SZ: then the DNS record points to 10.10.2.4 (green), with the resolvers' countdown" \
            "│ dns +aks\.priv\.contoso\.com\.? A 10\.10\.2\.4 \(green\) +ttl 30 s +resolvers updated in [0-9]+:[0-9]{2}" || return 1
    else
        # (at 80 columns the record's type and TTL give way to the countdown)
        wait_ok "$N" 40 "$SZ: then the DNS record points to 10.10.2.4 (green)" \
            "│ dns +aks\.priv\.contoso\.com\.? (A )?10\.10\.2\.4 \(green\)" || return 1
    fi
    wait_ok "$N" 40 "$SZ: the rollback window: T3 done, window time left in the header" \
        "T4 window .*window [0-9]{2}:[0-9]{2}" "✓T3 [0-9]{2}:[0-9]{2} +·T4" "R rollback" || return 1
    cp "$TM_LAST" "$S.window"
    demo_status "$N" "$JS"
    traffic_vs_status "$N" "$SZ" "$S.window" "$JS"

    # T4 teardown gate: after the window and the record's old TTL.
    wait_ok "$N" 120 "$SZ: the teardown gate's dialog opens by itself" \
        "teardown gate \(T4\): blue will be torn down" || return 1
    cp "$TM_LAST" "$S.teardown"
    scr_has "$S.teardown" "$SZ: teardown gate: green LIVE (all traffic is on it), blue candidate, traffic 0/100, dns green, stages T0-T3 done" \
        "^┌ BLUE aks-prod-blue +candidate +1\.29\.7.*┐┌ GREEN aks-prod-green +LIVE +1\.30\.5" \
        "│ blue +[^ ]+ +0 % +backends 1/1 healthy" \
        "│ green +[^ ]+ +100 % +backends 1/1 healthy" \
        "│ dns +aks\.priv\.contoso\.com\.? A 10\.10\.2\.4 \(green\) +ttl 30 s" \
        "^ stages +✓T0 [0-9:]{5} +✓T1 [0-9:]{5} +✓T2 [0-9:]{5} +✓T3 [0-9:]{5} +·T4 +waiting for blue's" \
        "^ checks +none run in this state"
    scr_has "$S.teardown" "$SZ: teardown dialog: what happens to blue, asks for aks-prod-blue" \
        "teardown delete of blue aks-prod-blue" "Type blue's cluster name \(aks-prod-blue\) and press Enter" \
        "> _" "^ Enter confirm +Esc close"
    demo_status "$N" "$JS"
    traffic_vs_status "$N" "$SZ" "$S.teardown" "$JS"
    t_is "$(jget "$JS" "(d['run']['stage'], d['run']['state'], d['clusters']['blue']['exists'])")" \
        "('T3', 'done', True)" "$SZ: teardown gate: the simulator agrees (T3 done, blue still there)"
    tm_golden "teardown-gate-$SZ" "$S.teardown"

    # A wrong name: refused, said so, the dialog stays, nothing deleted.
    tm_type "$N" aks-prod-green
    tm_keys "$N" Enter
    wait_ok "$N" 10 "$SZ: a wrong name is refused on screen" "✗ that is not blue's name" || return 1
    cp "$TM_LAST" "$S.refused"
    scr_has "$S.refused" "$SZ: the dialog stays open at the teardown gate, the input cleared" \
        "teardown gate \(T4\): blue will be torn down" "T4 teardown-gate" "> _" "waiting for blue's"
    grep -q "teardown gate: 'aks-prod-green' is not aks-prod-blue; not confirmed" "$D/demo.log"
    t_ok $? "$SZ: the engine refused it too (demo.log)"
    demo_status "$N" "$JS"
    t_is "$(jget "$JS" "(d['clusters']['blue']['exists'], d['clusters']['blue']['provisioningState'])")" \
        "(True, 'Succeeded')" "$SZ: blue untouched after the wrong name (status --json)"
    tm_golden "teardown-refused-$SZ" "$S.refused"

    # The right name: blue deleted, the run done.
    tm_keys "$N" C-u
    tm_type "$N" aks-prod-blue
    tm_keys "$N" Enter
    wait_ok "$N" 60 "$SZ: the right name: T4 runs to done, finished, exit 0" \
        "T4 done .*finished, exit 0" "✓T4 [0-9]{2}:[0-9]{2} +done" || return 1
    wait_ok "$N" 10 "$SZ: the end: green LIVE, traffic 0/100, dns green, blue's deletion in the log" \
        "GREEN aks-prod-green +LIVE +1\.30\.5" "│ blue +[^ ]+ +0 %" "│ green +[^ ]+ +100 %" \
        "A 10\.10\.2\.4 \(green\)" "blue aks-prod-blue deleted" || return 1
    cp "$TM_LAST" "$S.done"
    demo_status "$N" "$JS"
    t_is "$(jget "$JS" "(d['run']['stage'], d['run']['state'], d['live'], d['clusters']['blue']['exists'], d['traffic']['gateway']['weights'])")" \
        "('T4', 'done', 'green', False, {'blue': 0, 'green': 100})" \
        "$SZ: the simulator agrees: T4 done, green live, blue gone, 0/100"
    blank_blue "$S.done" "$S.done.g"
    tm_golden "done-$SZ" "$S.done.g"

    tm_keys "$N" q
    rc=$(tm_wait_dead "$N" 20)
    t_is "$rc" 0 "$SZ: q after the end quits at once; bgswitch demo exits 0"
    grep -q "^bgswitch demo: kept " "$TM_TMP/$N/stderr"
    t_ok $? "$SZ: --keep-dir says where the directory is"
    tm_kill "$N"
    return 0
}

start=$(date +%s)
( walk big 120 40 || echo "# big: stopped early" ) >"$TM_TMP/big.tap" 2>&1 &
p1=$!
( walk small 80 24 || echo "# small: stopped early" ) >"$TM_TMP/small.tap" 2>&1 &
p2=$!
wait $p1
wait $p2
echo "# 120x40"
tap_merge "$TM_TMP/big.tap"
echo "# 80x24"
tap_merge "$TM_TMP/small.tap"
echo "# wall time: $(( $(date +%s) - start )) s"
tm_cleanup
t_done
