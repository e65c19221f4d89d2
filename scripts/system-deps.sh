#!/bin/sh
# Install the given Debian packages if any is missing. Needs root and apt-get (Debian 12);
# elsewhere it only says which packages the app needs and carries on.
set -eu
missing=""
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "安装系统软件包 / installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q $missing
else
    echo "提示：缺少系统软件包$missing；请以 root 运行 apt-get install -y$missing" >&2
    echo "note: missing Debian packages:$missing (install them as root)" >&2
fi
