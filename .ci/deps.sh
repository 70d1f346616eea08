#!/bin/sh
# Install what numasim needs to build and test, from Debian 12's packages, if missing.
# Usage: .ci/deps.sh [extra-package ...]
set -eu
pkgs="build-essential cmake pkg-config libuv1-dev libprotobuf-c-dev protobuf-c-compiler
libcunit1-dev libinih-dev python3 clang-format $*"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
