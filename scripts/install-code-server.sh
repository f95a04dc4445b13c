#!/usr/bin/env bash
# Installs code-server (VS Code 1.100 served to a browser) and Debian's Chromium for `npm start`
# and the end-to-end tests, using only the npm registry and Debian's packages.
# Usage: scripts/install-code-server.sh [DEST]   (default: $TRACELENS_TOOLS or ~/.cache/tracelens)
# Prints nothing new and exits quickly when DEST already holds a working install.
set -euo pipefail
VERSION=${CODE_SERVER_VERSION:-4.100.3}
ROOT=${1:-${TRACELENS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/tracelens}}
DEST="$ROOT/code-server-$VERSION"
if [ -f "$DEST/.complete" ]; then
  echo "code-server $VERSION already installed in $DEST"
  exit 0
fi
need=""
for p in libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep chromium; do
  dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  else
    echo "Missing Debian packages:$need" >&2
    echo "Install them with: sudo apt-get install$need" >&2
    exit 1
  fi
fi
rm -rf "$DEST" && mkdir -p "$DEST" && cd "$DEST"
npm init -y >/dev/null
# 1. the top level without scripts (its postinstall downloads and wants --unsafe-perm)
npm install "code-server@$VERSION" --ignore-scripts --no-audit --no-fund --loglevel=error
npm_config_yes=true npm rebuild argon2 --build-from-source --loglevel=error
# 2. VS Code's own dependencies; @vscode/ripgrep's postinstall would download rg, so put
#    Debian's rg where it looks first, then build the native modules
cd node_modules/code-server/lib/vscode
npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
mkdir -p node_modules/@vscode/ripgrep/bin && cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm_config_yes=true npm rebuild --no-audit --no-fund --loglevel=error
# 3. what code-server's own postinstall does after that
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev --no-audit --no-fund --loglevel=error)
touch "$DEST/.complete"
echo "code-server $VERSION ready in $DEST"
