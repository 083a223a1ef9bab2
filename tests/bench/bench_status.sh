#!/bin/sh
# bench_status.sh — PRODUCT.md §7's yardstick: the first complete summary of
# both clusters (`bgswitch status --json`) against `kubectl get pods -A` on
# one of them, same simulator, same run.  Prints wall, CPU and peak RSS for
# each and the ratios; asserts nothing (targets are measured, not timed
# tests).  PODS (default 150000) pods per cluster; needs ~6 GB of memory at
# the default size and /usr/bin/time (Debian package `time`).
set -u
BGSWITCH=${BGSWITCH:-./bgswitch}
PODS=${PODS:-150000}
command -v kubectl >/dev/null 2>&1 || { echo "bench_status: kubectl not on PATH, skipped"; exit 0; }
[ -x /usr/bin/time ] && command -v bc >/dev/null 2>&1 || { echo "bench_status: needs /usr/bin/time and bc (apt-get install time bc), skipped"; exit 0; }
d=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$d"' EXIT
# The default world with both clusters present and PODS synthetic pods each.
sed -e "s/^    exists: false$/    exists: true\n    synthetic_pods: $PODS\n    node_pools:\n      - { name: system, mode: System, count: 3, vm_size: Standard_D4ds_v5 }/" \
    -e "s/^    ingress_ip: 10.10.1.4$/    ingress_ip: 10.10.1.4\n    synthetic_pods: $PODS/" \
    sim/worlds/default.yaml >"$d/world.yaml"
"$BGSWITCH" sim --dir "$d/sim" --world "$d/world.yaml" --speed 10 >"$d/sim.out" 2>&1 &
pid=$!
i=0
while [ ! -f "$d/sim/ready" ]; do
    kill -0 $pid 2>/dev/null || { echo "bench_status: simulator failed:"; cat "$d/sim.out"; exit 1; }
    i=$((i + 1)); [ $i -gt 1200 ] && { echo "bench_status: simulator not ready"; exit 1; }
    sleep 0.1
done
. "$d/sim/env"
measure() {  # measure LABEL CMD... -> "LABEL wall cpu rss_kb"
    label=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$d/t" "$@" >/dev/null 2>"$d/err"
    read -r wall u s rss <"$d/t"
    echo "$label $wall $(echo "$u + $s" | bc) $rss"
}
echo "pods per cluster: $PODS"
k=$(measure kubectl kubectl get pods -A --context aks-prod-blue)
b=$(measure bgswitch "$BGSWITCH" status -c "$d/sim/bgswitch.yaml" --json)
printf '%-28s %9s %9s %12s\n' "" "wall s" "CPU s" "peak RSS MB"
for r in "$k" "$b"; do
    set -- $r
    case $1 in
        kubectl) name="kubectl get pods -A (1 cluster)" ;;
        *) name="bgswitch status (2 clusters)" ;;
    esac
    printf '%-28s %9s %9s %12s\n' "$name" "$2" "$3" "$(( $4 / 1024 ))"
done
set -- $k; kw=$2 kc=$3 km=$4
set -- $b; bw=$2 bc_=$3 bm=$4
echo "ratios bgswitch/kubectl: wall $(echo "scale=3; $bw / $kw" | bc) (target < 0.1), CPU $(echo "scale=3; $bc_ / $kc" | bc) (target < 0.2), RSS $(echo "scale=3; $bm / $km" | bc) (target < 0.05)"
