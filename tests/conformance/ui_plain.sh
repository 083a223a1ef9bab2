#!/bin/sh
# ui_plain.sh — the screen without colour and without UTF-8 (issue 5,
# acceptance), two `bgswitch demo`s at once in tmux:
#   - NO_COLOR=1, 120x40: `capture-pane -e` shows no colour escapes (SGR 30-38,
#     40-48, 90-97, 100-107, 58) at T1, at the switch gate's dialog, on the main
#     screen and in the help; attributes (bold, reverse, underline, dim) are
#     allowed and used, tmux's own default-colour resets (39, 49) too; the
#     states still read in words and symbols (LIVE, candidate, (blue), ✓);
#   - LANG=C LC_ALL=C, 80x24: no byte >= 0x80 in `capture-pane -p` at the same
#     points: ASCII boxes, bars and symbols.  Golden: switch-gate-ascii-80x24.
# Regenerate the golden: UPDATE_GOLDEN=1 sh tests/conformance/ui_plain.sh
# About 25 s.
. tests/lib/tap.sh
. tests/lib/tmux.sh

if ! tm_init; then
    t_skip "the screen under NO_COLOR and LANG=C in tmux" "tmux or python3 is not installed"
    t_done; exit 0
fi

nocolor_ok() {  # nocolor_ok NAME WHAT
    tm_capture "$1" "$TM_TMP/$1.e" -e
    r=$(tm_sgr "$TM_TMP/$1.e")
    case "$r" in
    "colour 0 attrs 0"*) t_ok 1 "NO_COLOR, $2: attributes only, no colour (no attributes at all: is -e working?)" ;;
    "colour 0 "*) t_ok 0 "NO_COLOR, $2: no colour escapes in capture-pane -e ($r)" ;;
    *) t_ok 1 "NO_COLOR, $2: no colour escapes in capture-pane -e"; echo "# $r"; tm_show "$TM_TMP/$1.e" ;;
    esac
}

ascii_ok() {  # ascii_ok NAME WHAT
    tm_capture "$1" "$TM_TMP/$1.p"
    h=$(tm_high_bytes "$TM_TMP/$1.p")
    if [ -z "$h" ]; then
        t_ok 0 "LANG=C, $2: no byte >= 0x80 in capture-pane -p"
    else
        t_ok 1 "LANG=C, $2: no byte >= 0x80 in capture-pane -p"
        printf '%s\n' "$h" | head -10
    fi
}

nocolor() {
    N=nc
    demo_start $N 120 40 NO_COLOR=1
    wait_ok $N 30 "NO_COLOR: the demo starts (T1)" "T1 provision" "BLUE aks-prod-blue +LIVE" || return 1
    nocolor_ok $N "T1"
    wait_ok $N 120 "NO_COLOR: the switch gate's dialog" "switch gate \(T3\): confirm" || return 1
    nocolor_ok $N "switch gate dialog"
    scr_has "$TM_LAST" "NO_COLOR: roles are words and symbols: LIVE, candidate, (blue), ✓ checks, ✓ stages" \
        "BLUE aks-prod-blue +LIVE" "GREEN aks-prod-green +candidate" "A 10\.10\.1\.4 \(blue\)" \
        "✓ green backends 1/1 healthy" "✓T0 .*✓T1 .*✓T2 .*·T3"
    tm_keys $N n
    wait_ok $N 10 "NO_COLOR: the main screen" "^ Enter confirm" || return 1
    nocolor_ok $N "main screen at the gate"
    tm_keys $N "?"
    wait_ok $N 10 "NO_COLOR: ? opens the help" "^ bgswitch keys" "── help 1-" || return 1
    nocolor_ok $N "help, first page (keys)"
    tm_keys $N G
    wait_ok $N 10 "NO_COLOR: G goes to the help's last page" "── help [0-9]+-([0-9]+) of \1 " || return 1
    nocolor_ok $N "help, last page (symbols, theme roles)"
    tm_keys $N Escape
    wait_ok $N 10 "NO_COLOR: Esc closes the help" "^ Enter confirm" || return 1
    tm_keys $N q
    rc=$(tm_wait_dead $N 30)
    t_is "$rc" 3 "NO_COLOR: q at the gate declines it; bgswitch demo exits 3 (stopped at a gate)"
}

ascii() {
    N=asc
    demo_start $N 80 24 LANG=C LC_ALL=C
    wait_ok $N 30 "LANG=C: the demo starts (T1), ASCII boxes" "T1 provision" "^\+ BLUE aks-prod-blue +LIVE" || return 1
    ascii_ok $N "T1"
    wait_ok $N 120 "LANG=C: the switch gate's dialog" "switch gate \(T3\): confirm" || return 1
    wait_ok $N 25 "LANG=C: the gateway sees green's backends healthy" "\| green +\.+ +0 % +backends 1/1 healthy" || return 1
    ascii_ok $N "switch gate dialog"
    cp "$TM_LAST" "$TM_TMP/asc.gate"
    scr_has "$TM_TMP/asc.gate" "LANG=C: ASCII bars and symbols: # and . bars, + done, . pending, + passing checks" \
        "^\| blue +#+ +100 %" "^\| green +\.+ +0 %" "^ stages +\+T0 [0-9:]{5} +\+T1 [0-9:]{5} +\+T2 [0-9:]{5} +\.T3 +\.T4" \
        "\+ green backends 1/1 healthy"
    tm_golden "switch-gate-ascii-80x24" "$TM_TMP/asc.gate"
    tm_keys $N n
    wait_ok $N 10 "LANG=C: the main screen" "^ Enter confirm" || return 1
    ascii_ok $N "main screen at the gate (node names shortened)"
    tm_keys $N "?"
    wait_ok $N 10 "LANG=C: ? opens the help" "^ bgswitch keys" "-- help 1-" || return 1
    ascii_ok $N "help, first page (keys)"
    tm_keys $N G
    wait_ok $N 10 "LANG=C: G goes to the help's last page" "-- help [0-9]+-([0-9]+) of \1 " || return 1
    ascii_ok $N "help, last page (symbols, theme roles)"
    tm_keys $N Escape
    wait_ok $N 10 "LANG=C: Esc closes the help" "^ Enter confirm" || return 1
    tm_keys $N q
    rc=$(tm_wait_dead $N 30)
    t_is "$rc" 3 "LANG=C: q at the gate declines it; bgswitch demo exits 3 (stopped at a gate)"
}

start=$(date +%s)
( nocolor || echo "# NO_COLOR: stopped early" ) >"$TM_TMP/nc.tap" 2>&1 &
p1=$!
( ascii || echo "# LANG=C: stopped early" ) >"$TM_TMP/asc.tap" 2>&1 &
p2=$!
wait $p1
wait $p2
echo "# NO_COLOR=1, 120x40"
tap_merge "$TM_TMP/nc.tap"
echo "# LANG=C, 80x24"
tap_merge "$TM_TMP/asc.tap"
echo "# wall time: $(( $(date +%s) - start )) s"
tm_cleanup
t_done
