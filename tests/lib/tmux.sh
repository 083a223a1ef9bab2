# tests/lib/tmux.sh — driving a full-screen program in a detached tmux pane,
# for the screen's acceptance tests (tests/conformance/ui_*.sh).  Source it
# after tests/lib/tap.sh.
#
# Every tmux server runs on a private socket, bgsw-$$-NAME, with no user
# config (-f of our own), no status line, remain-on-exit (so the program's
# exit status can be read), TERM=screen and UTF-8 forced on the client
# side (-u: a byte the program should not have sent is shown, not hidden).
# tm_cleanup kills every server started here; tm_init installs it as the
# EXIT/INT/TERM/HUP trap, so a failing test leaves nothing running.
#
#   tm_init                         -> 0, or 1 when tmux is missing (caller t_skips)
#   tm_start NAME COLS ROWS CMD...  -> new server + session; CMD runs under sh -c
#   tm_keys NAME KEY...             -> send-keys (tmux key names: Enter, Escape, C-u, y)
#   tm_type NAME TEXT               -> send-keys -l (literal text)
#   tm_resize NAME COLS ROWS        -> resize-window
#   tm_capture NAME FILE [-e]       -> capture-pane -p [-e] into FILE
#   tm_wait NAME ERE SECONDS        -> poll capture-pane every 0.2 s until a line
#                                      matches ERE (grep -E); capture in $TM_LAST
#   tm_wait_all NAME SECONDS ERE... -> until every ERE matches the same capture
#   tm_wait_not NAME ERE SECONDS    -> until no line matches
#   tm_wait_py NAME SECONDS PYEXPR  -> until PYEXPR (python3; L = list of lines,
#                                      S = whole text) is true for a capture
#   tm_show [FILE]                  -> print a capture (default $TM_LAST) as "# " lines
#   tm_dead NAME                    -> prints the pane's exit status once it is dead
#   tm_wait_dead NAME SECONDS       -> waits for the program to exit, prints its status
#   tm_kill NAME / tm_cleanup
#   tm_mask < CAPTURE > MASKED      -> the golden form (see tm_golden)
#   tm_golden NAME CAPTUREFILE      -> one TAP line: the masked capture equals
#                                      tests/ui/golden/NAME.txt (UPDATE_GOLDEN=1
#                                      rewrites it instead)
#   tm_width_ok FILE COLS           -> 0 when no line is wider than COLS columns
#   tm_region FILE ROW0 ROW1 COL0 COL1 -> the text of a rectangle (0-based, end
#                                      exclusive, in columns) of a capture
#   tm_pane FILE blue|green         -> the rows of one cluster pane of a capture
#   tm_sgr FILE                     -> "colour N attrs N ..." of a capture-pane -e
#   tm_high_bytes FILE              -> the lines holding a byte >= 0x80
#   tm_threads NAME                 -> where the pane's program hangs (ps, wchan, gdb)
#   scr_has / scr_lacks FILE DESC ERE...  -> one TAP line about a capture
#   wait_ok NAME SECONDS DESC ERE...      -> one TAP line: the screen came to show them
#   tap_merge FILE                  -> replays TAP lines written by a background
#                                      driver into this shell's numbering
#   demo_start / demo_dir / demo_status / demo_ctl / jget: `bgswitch demo` in a
#                                      pane and its simulator (see below)
TM_SERVERS=""
TM_GOLDEN_DIR=${TM_GOLDEN_DIR:-tests/ui/golden}
TM_TMP=""

tm_init() {
    command -v tmux >/dev/null 2>&1 || return 1
    command -v python3 >/dev/null 2>&1 || return 1
    TM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bgsw-tmux.XXXXXX") || return 1
    cat >"$TM_TMP/tmux.conf" <<'EOF'
set -g status off
set -g remain-on-exit on
set -g default-terminal screen
set -g history-limit 100
set -g escape-time 10
set -g exit-empty off
EOF
    trap 'tm_cleanup' EXIT
    trap 'tm_cleanup; exit 130' INT
    trap 'tm_cleanup; exit 143' TERM
    trap 'tm_cleanup; exit 129' HUP
    return 0
}

tm_sock() { echo "bgsw-$$-$1"; }

tmx() {  # tmx NAME tmux-args...
    _n=$1; shift
    LC_ALL=C.UTF-8 tmux -u -f "$TM_TMP/tmux.conf" -L "$(tm_sock "$_n")" "$@"
}

tm_start() {  # tm_start NAME COLS ROWS CMD...
    _n=$1 _c=$2 _r=$3; shift 3
    TM_SERVERS="$TM_SERVERS $_n"
    tmx "$_n" new-session -d -s main -x "$_c" -y "$_r" "$*"
}

tm_keys() { _n=$1; shift; tmx "$_n" send-keys -t main "$@"; }
tm_type() { tmx "$1" send-keys -t main -l "$2"; }
tm_resize() { tmx "$1" resize-window -t main -x "$2" -y "$3"; }

tm_capture() {  # tm_capture NAME FILE [-e]
    if [ "${3:-}" = -e ]; then
        tmx "$1" capture-pane -t main -p -e >"$2" 2>/dev/null
    else
        tmx "$1" capture-pane -t main -p >"$2" 2>/dev/null
    fi
}

tm_show() {
    _f=${1:-$TM_LAST}
    [ -f "$_f" ] || { echo "# (no capture)"; return 0; }
    echo "# ---- screen ($_f) ----"
    sed 's/^/# |/' "$_f"
    echo "# ---- end of screen ----"
}

# The waits: the deadline is counted in polls of 0.2 s plus the time the
# captures take (a slow machine waits a little longer, never less).
tm_wait() {  # tm_wait NAME ERE SECONDS
    TM_LAST=$TM_TMP/last.$1
    _i=0 _max=$(( $3 * 5 ))
    while :; do
        tm_capture "$1" "$TM_LAST"
        grep -Eq -- "$2" "$TM_LAST" && return 0
        _i=$((_i + 1))
        [ "$_i" -gt "$_max" ] && return 1
        sleep 0.2
    done
}

tm_wait_all() {  # tm_wait_all NAME SECONDS ERE...
    _n=$1 _s=$2; shift 2
    TM_LAST=$TM_TMP/last.$_n
    _i=0 _max=$(( _s * 5 ))
    while :; do
        tm_capture "$_n" "$TM_LAST"
        _all=0
        for _re in "$@"; do
            grep -Eq -- "$_re" "$TM_LAST" || { _all=1; break; }
        done
        [ "$_all" -eq 0 ] && return 0
        _i=$((_i + 1))
        [ "$_i" -gt "$_max" ] && return 1
        sleep 0.2
    done
}

tm_wait_not() {  # tm_wait_not NAME ERE SECONDS
    TM_LAST=$TM_TMP/last.$1
    _i=0 _max=$(( $3 * 5 ))
    while :; do
        tm_capture "$1" "$TM_LAST"
        grep -Eq -- "$2" "$TM_LAST" || return 0
        _i=$((_i + 1))
        [ "$_i" -gt "$_max" ] && return 1
        sleep 0.2
    done
}

tm_py() {  # tm_py FILE PYEXPR -> exit 0 when true
    python3 - "$1" "$2" <<'EOF'
import sys
S = open(sys.argv[1], encoding="utf-8", errors="replace").read()
L = S.split("\n")
if L and L[-1] == "":
    L.pop()
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}

tm_wait_py() {  # tm_wait_py NAME SECONDS PYEXPR
    TM_LAST=$TM_TMP/last.$1
    _i=0 _max=$(( $2 * 5 ))
    while :; do
        tm_capture "$1" "$TM_LAST"
        tm_py "$TM_LAST" "$3" && return 0
        _i=$((_i + 1))
        [ "$_i" -gt "$_max" ] && return 1
        sleep 0.2
    done
}

tm_dead() {  # prints the exit status ("signal N" when killed) once the program has exited
    # pane_dead turns 1 when the pty closes, which can come before tmux has
    # reaped the child and knows its status: wait for the status too.
    _d=$(tmx "$1" display-message -p -t main '#{pane_dead} #{pane_dead_status} #{pane_dead_signal}' 2>/dev/null)
    case "$_d" in
    "1  "[0-9]*) echo "signal ${_d#1  }"; return 0 ;;
    "1 "[0-9]*) _d=${_d#1 }; echo "${_d%% *}"; return 0 ;;
    esac
    return 1
}

# tmux built with libutempter can miss the SIGCHLD of a pane's program
# that exits while utempter's helper runs (tmux/tmux#311): the program stays
# a zombie and the pane never gets its exit status.  After a second, each
# poll nudges our own server with a SIGCHLD, which only makes it reap.
tm_wait_dead() {  # tm_wait_dead NAME SECONDS  (on a timeout: "running", and where it hangs to stderr)
    _i=0 _max=$(( $2 * 5 ))
    _srv=$(tmx "$1" display-message -p -t main '#{pid}' 2>/dev/null)
    while ! tm_dead "$1"; do
        [ "$_i" -ge 5 ] && [ -n "$_srv" ] && kill -s CHLD "$_srv" 2>/dev/null
        _i=$((_i + 1))
        if [ "$_i" -gt "$_max" ]; then
            echo "running"
            tm_threads "$1" >&2
            return 1
        fi
        sleep 0.2
    done
}

# tm_threads NAME: the pane's process and its threads, with what each waits
# in (wchan) and its user-space stack when gdb is there: for a program that
# does not exit.
tm_threads() {
    _pid=$(tmx "$1" display-message -p -t main '#{pane_pid}' 2>/dev/null)
    [ -n "$_pid" ] || return 0
    _srv=$(tmx "$1" display-message -p -t main '#{pid}' 2>/dev/null)
    echo "# pane process and tmux server:"
    ps -o pid,ppid,stat,wchan:24,args -p "$_pid" -p "$_srv" 2>/dev/null | sed 's/^/#   /'
    grep -E '^(PPid|SigBlk|SigIgn|SigCgt)' "/proc/$_srv/status" 2>/dev/null | sed 's/^/#   server /'
    echo "# process $_pid: $(tr '\0' ' ' <"/proc/$_pid/cmdline" 2>/dev/null)"
    for _t in /proc/"$_pid"/task/*; do
        [ -d "$_t" ] || continue
        echo "#   thread ${_t##*/} $(cat "$_t/comm" 2>/dev/null) state $(awk '{print $3}' "$_t/stat" 2>/dev/null) wchan $(cat "$_t/wchan" 2>/dev/null)"
    done
    if command -v gdb >/dev/null 2>&1; then
        timeout 30 gdb -p "$_pid" -batch -ex 'thread apply all bt 12' 2>/dev/null | grep -E '^(Thread|#)' | sed 's/^/#   /'
    fi
}

tm_kill() {
    tmx "$1" kill-server >/dev/null 2>&1
    return 0
}

tm_cleanup() {
    for _n in $TM_SERVERS; do tm_kill "$_n"; done
    TM_SERVERS=""
    # Servers started by background drivers (subshells share $$).
    for _s in "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/bgsw-$$-"*; do
        [ -S "$_s" ] || continue
        [ -n "$TM_TMP" ] && LC_ALL=C.UTF-8 tmux -f "$TM_TMP/tmux.conf" -S "$_s" kill-server >/dev/null 2>&1
        rm -f "$_s"
    done
    # Background drivers and anything else this shell started.
    for _p in $(jobs -p 2>/dev/null); do kill "$_p" 2>/dev/null; done
    if [ -n "$TM_TMP" ] && [ "${KEEP_UI_TMP:-0}" != 1 ]; then rm -rf "$TM_TMP"; fi
    return 0
}

# Display width: East Asian wide and fullwidth characters take two columns,
# combining marks none (the screen's own text is all single-width).
TM_PY_WIDTH='
import unicodedata
def width(s):
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w
'

tm_width_ok() {  # tm_width_ok FILE COLS  (prints the offending lines)
    python3 - "$1" "$2" <<EOF
import sys
$TM_PY_WIDTH
bad = 0
for i, line in enumerate(open(sys.argv[1], encoding="utf-8").read().split("\n")):
    if width(line) > int(sys.argv[2]):
        print("# line %d is %d columns wide: %s" % (i + 1, width(line), line))
        bad = 1
sys.exit(bad)
EOF
}

tm_region() {  # tm_region FILE ROW0 ROW1 COL0 COL1
    python3 - "$@" <<'EOF'
import sys
f, r0, r1, c0, c1 = sys.argv[1], *map(int, sys.argv[2:])
lines = open(f, encoding="utf-8").read().split("\n")
for line in lines[r0:r1]:
    print(line[c0:c1])
EOF
}

# The golden form of a capture: the parts that change from run to run are
# replaced by fixed words; everything that says what the screen shows
# (names, versions, weights, states, checks, symbols, boxes, the order of
# lines) stays literal.  Masked:
#   HH:MM:SS clocks; mm:ss elapsed times, soak and window countdowns;
#   ages (12s, 3m, 2h, 4d, 250ms) -> <age>; "data <age> old from HOST/..."
#   up to the pane's border -> "data <age>…" (its length, and so where a
#   dialog cuts it, depends on the age); the simulator's port; user@host of
#   a confirmation; run ids; temporary paths; ARM progress "InProgress N %, N s".
#   The log pane's lines (times, polling-dependent progress lines) are
#   dropped: its title stays, with the line count masked.  On the rows of
#   a dialog only the dialog stays: the bits of the panes that peek out
#   beside it become "…" (how much peeks out depends on the widths of ages
#   and ports).
#   Then every run of spaces becomes one space and every run of two or more
#   box-drawing dashes two, so a masked token of another width does not
#   move what follows; trailing spaces go.
tm_mask() {
    python3 -c '
import re, sys
text = sys.stdin.read()
lines = text.split("\n")
if lines and lines[-1] == "":
    lines.pop()

# A dialog: its rows keep the dialog, and what shows of the panes beside it
# becomes "…" (how much of a pane line peeks out depends on the widths of
# ages and ports in it).
i = 0
while i < len(lines):
    m = re.search(r"(?<=.)(┌─|\+-) \S", lines[i])
    if m:
        c0 = m.start()
        close = "┐" if lines[i][c0] == "┌" else "+"
        c1 = lines[i].rfind(close)
        j = next((k for k in range(i + 1, len(lines))
                  if len(lines[k]) > c1 and lines[k][c0] in "└+" and lines[k][c1] in "┘+"), None)
        if c1 > c0 and j is not None:
            for k in range(i, j + 1):
                l = lines[k]
                lines[k] = "…" + l[c0:c1 + 1] + ("…" if l[c1 + 1:].strip() else "")
            i = j
    i += 1

out = []
in_log = False
for i, l in enumerate(lines):
    last = i == len(lines) - 1
    if re.match(r"^(──|--) log ", l):
        in_log = True
        l = re.sub(r"\b\d+ lines?\b", "N lines", l)
    elif in_log and not last:
        continue
    l = re.sub(r"\b\d\d:\d\d:\d\d\b", "HH:MM:SS", l)
    l = re.sub(r"\b\d{1,2}:\d\d\b", "mm:ss", l)
    l = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<run-id>", l)
    l = re.sub(r"/[\w./-]*bgswitch-demo-\w+[\w./-]*", "<tmp>", l)
    l = re.sub(r"\bdata \d+(ms|s|m|h|d)\b[^│|]*", "data <age>…", l)
    l = re.sub(r"\b\d+(ms|s|m|h|d)\b", "<age>", l)
    l = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", l)
    l = re.sub(r"\bby [^\s@]+@\S+", "by USER@HOST", l)
    l = re.sub(r"InProgress \d+ %, \d+ s", "InProgress N %, N s", l)
    l = re.sub(r" +", " ", l)
    l = re.sub(r"─{2,}", "──", l)
    l = re.sub(r"-{3,}", "--", l)
    out.append(l.rstrip())
sys.stdout.write("\n".join(out) + "\n")
'
}

tm_golden() {  # tm_golden NAME CAPTUREFILE
    _g=$TM_GOLDEN_DIR/$1.txt
    _m=$TM_TMP/masked.$1
    tm_mask <"$2" >"$_m"
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        mkdir -p "$TM_GOLDEN_DIR"
        cp "$_m" "$_g"
        t_ok 0 "golden $1: written to $_g (UPDATE_GOLDEN=1)"
        return 0
    fi
    if [ ! -f "$_g" ]; then
        t_ok 1 "golden $1: $_g is missing (regenerate: UPDATE_GOLDEN=1 sh $0)"
        tm_show "$2"
        return 1
    fi
    if cmp -s "$_m" "$_g"; then
        t_ok 0 "golden $1: the screen matches $_g (dynamic parts masked)"
    else
        t_ok 1 "golden $1: the screen differs from $_g (dynamic parts masked)"
        diff -u "$_g" "$_m" | sed 's/^/# /'
        tm_show "$2"
        return 1
    fi
}

tap_merge() {  # tap_merge FILE
    [ -f "$1" ] || { t_ok 1 "driver output $1 exists"; return; }
    while IFS= read -r _line; do
        case "$_line" in
        "not ok "*)
            _d=$(printf '%s\n' "$_line" | sed -E 's/^not ok [0-9]+ - //')
            t_ok 1 "$_d" ;;
        "ok "*"# SKIP "*)
            _d=$(printf '%s\n' "$_line" | sed -E 's/^ok [0-9]+ - //; s/ # SKIP .*//')
            _w=$(printf '%s\n' "$_line" | sed -E 's/.* # SKIP //')
            t_skip "$_d" "$_w" ;;
        "ok "*)
            _d=$(printf '%s\n' "$_line" | sed -E 's/^ok [0-9]+ - //')
            t_ok 0 "$_d" ;;
        "1.."*) ;;
        *) printf '%s\n' "$_line" ;;
        esac
    done <"$1"
}

# Colour: SGR parameters 30-38, 40-48, 90-97, 100-107 and 58 (underline
# colour); tmux's own 39/49 resets after an attribute reset are not colour.
# tm_sgr FILE: SGR escapes of a capture-pane -e: prints "colour N attrs N" and the first colour escapes.
tm_sgr() {
    python3 - "$1" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
colour, attrs, seen = 0, 0, []
for m in re.finditer(r"\x1b\[([0-9;:]*)m", data):
    ps = re.split(r"[;:]", m.group(1)) if m.group(1) else ["0"]
    bad = False
    for p in ps:
        n = int(p) if p.isdigit() else 0
        if 30 <= n <= 38 or 40 <= n <= 48 or 90 <= n <= 97 or 100 <= n <= 107 or n == 58:
            bad = True
        elif n in (1, 2, 3, 4, 5, 7):
            attrs += 1
    if bad:
        colour += 1
        if len(seen) < 5:
            seen.append(repr(m.group(0)))
print("colour %d attrs %d %s" % (colour, attrs, " ".join(seen)))
EOF
}

# tm_high_bytes FILE: prints the lines with a byte >= 0x80 (nothing when clean).
tm_high_bytes() {
    python3 - "$1" <<'EOF'
import sys
for i, line in enumerate(open(sys.argv[1], "rb").read().split(b"\n")):
    if any(b >= 0x80 for b in line):
        print("# line %d: %r" % (i + 1, line))
EOF
}

# ---- `bgswitch demo` in a pane ---------------------------------------------------------
#
#   demo_start NAME COLS ROWS [VAR=VALUE...] [-- DEMO-ARGS...]
#       runs `bgswitch demo --speed ${UI_DEMO_SPEED:-50} --keep-dir` in a new
#       server NAME, in a private directory $TM_TMP/NAME (TMPDIR, an empty
#       XDG_CONFIG_HOME), with LANG=C.UTF-8 and no NO_COLOR/LC_* from the
#       caller unless given as VAR=VALUE; stderr into $TM_TMP/NAME/stderr
#   demo_dir NAME       -> prints the demo's kept directory once endpoints.json is there
#   demo_status NAME FILE -> `bgswitch status --json` against the demo's live
#                          simulator (its env, config and state) into FILE
#   demo_ctl NAME PATH JSON -> POST to the simulator's control endpoint /_sim/PATH
#   jget FILE PYEXPR    -> python3 expression over the JSON document d
demo_start() {  # demo_start NAME COLS ROWS [VAR=VALUE...] [-- ARGS...]
    _n=$1 _c=$2 _r=$3; shift 3
    _d=$TM_TMP/$_n
    mkdir -p "$_d/tmp" "$_d/config"
    _envs="" _args=""
    while [ $# -gt 0 ]; do
        case "$1" in
        --) shift; _args="$*"; break ;;
        *) _envs="$_envs $1" ;;
        esac
        shift
    done
    tm_start "$_n" "$_c" "$_r" "cd '$_d' && exec env -u NO_COLOR -u LC_ALL -u LC_CTYPE -u LC_MESSAGES \
        LANG=C.UTF-8 TMPDIR='$_d/tmp' XDG_CONFIG_HOME='$_d/config' $_envs \
        '$BGSWITCH' demo --speed ${UI_DEMO_SPEED:-50} --keep-dir $_args 2>'$_d/stderr'"
}

demo_dir() {  # demo_dir NAME  (waits up to 20 s)
    _i=0
    while [ $_i -lt 100 ]; do
        for _x in "$TM_TMP/$1"/tmp/bgswitch-demo-*; do
            [ -f "$_x/endpoints.json" ] && [ -f "$_x/env" ] && { echo "$_x"; return 0; }
        done
        _i=$((_i + 1))
        sleep 0.2
    done
    return 1
}

demo_status() {  # demo_status NAME FILE
    _x=$(demo_dir "$1") || return 1
    (
        . "$_x/env"
        XDG_STATE_HOME=$_x/state
        export XDG_STATE_HOME
        "$BGSWITCH" status -c "$_x/bgswitch-demo.yaml" --json >"$2" 2>"$2.err"
    )
}

demo_ctl() {  # demo_ctl NAME PATH JSON
    _x=$(demo_dir "$1") || return 1
    _base=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' "$_x/endpoints.json")
    curl -sS --fail --max-time 10 --cacert "$_x/ca.pem" -H 'Content-Type: application/json' \
        -X POST -d "$3" "${_base%/}/$2"
}

jget() {  # jget FILE PYTHON-EXPR  (d is the document)
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>&1
}

# tm_pane FILE blue|green -> the rows of that cluster pane (its box, from
# the top border to the bottom one), cut at the boundary of the two boxes
# ("┐┌" or "++" on the top border).  Nothing when the layout is not there.
tm_pane() {
    python3 - "$1" "$2" <<'EOF2'
import sys
L = open(sys.argv[1], encoding="utf-8").read().split("\n")
if len(L) < 3:
    sys.exit(1)
top = L[1]
cut = -1
for sep in ("┐┌", "++"):
    cut = top.find(sep, 2)
    if cut >= 0:
        break
if cut < 0:
    sys.exit(1)
bottom = len(L) - 1
for i in range(2, len(L)):
    if L[i][:1] in ("└", "+") and L[i][1:2] in ("─", "-"):
        bottom = i
        break
for line in L[1:bottom + 1]:
    print(line[:cut + 1] if sys.argv[2] == "blue" else line[cut + 1:])
EOF2
}

# scr_has FILE DESC ERE... -> one TAP line: every ERE matches a line of FILE;
# on failure the patterns that did not match and the screen.
scr_has() {
    _f=$1 _desc=$2; shift 2
    _miss=""
    for _re in "$@"; do
        grep -Eq -- "$_re" "$_f" || _miss="$_miss
#   no line matches: $_re"
    done
    if [ -z "$_miss" ]; then
        t_ok 0 "$_desc"
    else
        t_ok 1 "$_desc"
        printf '%s\n' "$_miss" | sed '/^$/d'
        tm_show "$_f"
    fi
}

# scr_lacks FILE DESC ERE... -> one TAP line: no ERE matches.
scr_lacks() {
    _f=$1 _desc=$2; shift 2
    _hit=""
    for _re in "$@"; do
        grep -Eq -- "$_re" "$_f" && _hit="$_hit
#   matches: $_re: $(grep -E -m1 -- "$_re" "$_f")"
    done
    if [ -z "$_hit" ]; then
        t_ok 0 "$_desc"
    else
        t_ok 1 "$_desc"
        printf '%s\n' "$_hit" | sed '/^$/d'
        tm_show "$_f"
    fi
}

# wait_ok NAME SECONDS DESC ERE... -> one TAP line: the screen came to show
# every ERE within SECONDS; the capture stays in $TM_LAST.  Returns 1 on a
# timeout so a driver can stop early.
wait_ok() {
    _n=$1 _s=$2 _desc=$3; shift 3
    if tm_wait_all "$_n" "$_s" "$@"; then
        t_ok 0 "$_desc"
        return 0
    fi
    t_ok 1 "$_desc (waited $_s s)"
    for _re in "$@"; do
        grep -Eq -- "$_re" "$TM_LAST" || echo "#   not on screen: $_re"
    done
    tm_show
    return 1
}
