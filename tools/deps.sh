#!/bin/sh
# Install the Debian packages bgswitch builds and tests with, if missing.
# A no-op when everything is present; uses sudo when not root.
set -e
PKGS="make gcc clang pkg-config libncurses-dev libcurl4-openssl-dev libcjson-dev
libssl-dev libgnutls28-dev libyaml-dev libmicrohttpd-dev libcmocka-dev libyajl-dev tmux curl
openssl ca-certificates"
missing=""
for p in $PKGS; do
    s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$s" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
