#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what building and testing uvma needs, from Debian 12's packages.
set -euo pipefail
pkgs=(build-essential libcmocka-dev zlib1g-dev liblzma-dev libzstd-dev pkg-config clang
      gnuplot-nox python3 liburcu-dev spin)
# a real program for `uvma record --verify` in make check; the check skips it if absent
optional=(redis-server redis-tools)
missing=()
for p in "${pkgs[@]}" "${optional[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
required=()
for p in "${missing[@]}"; do
	case " ${optional[*]} " in *" $p "*) ;; *) required+=("$p") ;; esac
done
if [ ${#required[@]} -gt 0 ]; then
	$sudo apt-get install -y -qq --no-install-recommends "${required[@]}" >/dev/null
fi
# (a service that cannot start in a container must not fail the install)
$sudo apt-get install -y -qq --no-install-recommends "${optional[@]}" >/dev/null 2>&1 ||
	echo "install-deps: ${optional[*]} not installed; make check skips recording redis-server"
