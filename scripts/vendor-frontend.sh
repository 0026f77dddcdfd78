#!/usr/bin/env bash
# Re-vendors the front-end libraries the pages use from the npm registry into the package.
# The result is committed, so `make demo` never needs npm; run this only to upgrade.
#   ECharts 5.x (Apache-2.0): src/seamline/web/static/vendor/echarts.min.js (+ its LICENSE)
#   jsQR 1.x (Apache-2.0): src/seamline/web/static/vendor/jsQR.js (+ its LICENSE): the tablet's QR
#   decoder where the browser has no BarcodeDetector (Chromium on Linux/Windows, Firefox)
#   swagger-ui-dist 5.x (Apache-2.0): src/seamline/web/static/vendor/swagger-ui-bundle.js and
#   swagger-ui.css (+ its LICENSE): /docs on a factory network with no way out to a CDN
#   axe-core 4.x (MPL-2.0): src/seamline/web/static/vendor/axe.min.js (+ its LICENSE and third-party
#   notices): the accessibility checks of the browser tests (tests/web/test_screens_matrix.py); no page loads it
set -euo pipefail
ECHARTS_VERSION="${ECHARTS_VERSION:-5.6.0}"
JSQR_VERSION="${JSQR_VERSION:-1.4.0}"
SWAGGER_UI_VERSION="${SWAGGER_UI_VERSION:-5.35.0}"
AXE_CORE_VERSION="${AXE_CORE_VERSION:-4.11.0}"
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/src/seamline/web/static/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "echarts@${ECHARTS_VERSION}" >/dev/null && tar xzf "echarts-${ECHARTS_VERSION}.tgz")
mkdir -p "$dest"
cp "$tmp/package/dist/echarts.min.js" "$dest/echarts.min.js"
cp "$tmp/package/LICENSE" "$dest/LICENSE-echarts.txt"
echo "echarts ${ECHARTS_VERSION} (Apache-2.0) -> $dest"
(cd "$tmp" && npm pack --silent "jsqr@${JSQR_VERSION}" >/dev/null && mkdir -p jsqr && tar xzf "jsqr-${JSQR_VERSION}.tgz" -C jsqr)
cp "$tmp/jsqr/package/dist/jsQR.js" "$dest/jsQR.js"
cp "$tmp/jsqr/package/LICENSE" "$dest/LICENSE-jsqr.txt"
echo "jsQR ${JSQR_VERSION} (Apache-2.0) -> $dest"
(cd "$tmp" && npm pack --silent "swagger-ui-dist@${SWAGGER_UI_VERSION}" >/dev/null && mkdir -p swagger \
  && tar xzf "swagger-ui-dist-${SWAGGER_UI_VERSION}.tgz" -C swagger)
cp "$tmp/swagger/package/swagger-ui-bundle.js" "$dest/swagger-ui-bundle.js"
cp "$tmp/swagger/package/swagger-ui.css" "$dest/swagger-ui.css"
cp "$tmp/swagger/package/LICENSE" "$dest/LICENSE-swagger-ui.txt"
cp "$tmp/swagger/package/NOTICE" "$dest/NOTICE-swagger-ui.txt"
cp "$tmp/swagger/package/swagger-ui-bundle.js.LICENSE.txt" "$dest/swagger-ui-bundle.js.LICENSE.txt"
cp "$tmp/swagger/package/favicon-32x32.png" "$dest/swagger-favicon-32x32.png"
echo "swagger-ui-dist ${SWAGGER_UI_VERSION} (Apache-2.0) -> $dest"
(cd "$tmp" && npm pack --silent "axe-core@${AXE_CORE_VERSION}" >/dev/null && mkdir -p axe \
  && tar xzf "axe-core-${AXE_CORE_VERSION}.tgz" -C axe)
cp "$tmp/axe/package/axe.min.js" "$dest/axe.min.js"
cp "$tmp/axe/package/LICENSE" "$dest/LICENSE-axe-core.txt"
cp "$tmp/axe/package/LICENSE-3RD-PARTY.txt" "$dest/LICENSE-axe-core-3rd-party.txt"
echo "axe-core ${AXE_CORE_VERSION} (MPL-2.0) -> $dest"
