#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what building and testing uvma needs, from Debian 12's packages.
set -euo pipefail
pkgs=(build-essential libcmocka-dev zlib1g-dev liblzma-dev libzstd-dev pkg-config clang gnuplot-nox python3 redis-server redis-tools)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
