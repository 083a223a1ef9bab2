#!/bin/sh
# layout.sh — the direction of dependencies (DEVELOPERS.md "Layout"):
# ui -> src engine -> azure, kube -> src helpers; only ui/ draws; ui/ does no
# network I/O; the simulator shares no API code with the clients it tests
# (PRODUCT.md §5).  Each rule is one grep over the tree.
. tests/lib/tap.sh

check() {   # check "what" PATTERN DIRS...
    what=$1 pat=$2
    shift 2
    hits=$(grep -rlE "$pat" --include='*.c' --include='*.h' "$@" 2>/dev/null)
    if [ -z "$hits" ]; then
        t_ok 0 "$what"
    else
        t_ok 1 "$what"
        echo "$hits" | sed 's/^/#   /'
    fi
}

check "curses is included only under ui/" \
    '#include *[<"](n?curses|ncursesw/[a-z]+|panel)\.h' src azure kube sim
check "ui/ does no network I/O (no curl, microhttpd, sockets)" \
    '#include *[<"](curl/curl|microhttpd|sys/socket|netdb)\.h' ui
check "the simulator uses no azure/ or kube/ code" \
    '#include *"(azure|kube)/' sim
check "azure/ and kube/ do not reach into the simulator or the UI" \
    '#include *"(sim|ui)/' azure kube
# The commands (src/main.c, src/cmd_*.c) sit on top of everything: `run`
# and `demo` start the screen.  The engine and the helpers below them never
# see it.
hits=$(grep -rlE '#include *"ui/' --include='*.c' --include='*.h' src 2>/dev/null \
    | grep -vE '^src/(main|cmd_[a-z_]+)\.c$')
t_is "$hits" "" "the engine (src/ but the command files) does not include UI headers"
check "nothing outside the CLI includes the simulator" \
    '#include *"sim/' azure kube ui
t_done
