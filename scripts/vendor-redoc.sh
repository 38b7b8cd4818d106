#!/usr/bin/env bash
# Re-fetches the vendored Redoc bundle that GET /docs serves
# (internal/httpapi/docs/) from npm at the pinned version, checks it against
# the recorded sha256 and copies it with its licences.
#
#   scripts/vendor-redoc.sh            fetch REDOC_VERSION, verify, copy
#   scripts/vendor-redoc.sh 2.5.5      fetch another version: prints its sha256;
#                                      then update REDOC_VERSION and REDOC_SHA256
#                                      here, redocVersion in internal/httpapi/docs.go
#                                      and internal/httpapi/docs/README.md
set -euo pipefail

REDOC_VERSION=2.5.4
REDOC_SHA256=dcaf76612bc4a3fbcc923a8966dee2f6146a5f32e5ce1b6f02dd60cbbf89500b

version=${1:-$REDOC_VERSION}
dest=$(cd "$(dirname "$0")/.." && pwd)/internal/httpapi/docs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "redoc@$version" >/dev/null)
tar -xzf "$tmp/redoc-$version.tgz" -C "$tmp" package/LICENSE package/bundles/redoc.standalone.js \
	package/bundles/redoc.standalone.js.LICENSE.txt
sum=$(sha256sum "$tmp/package/bundles/redoc.standalone.js" | cut -d' ' -f1)
if [ "$version" != "$REDOC_VERSION" ]; then
	echo "redoc $version: bundles/redoc.standalone.js sha256 $sum" >&2
	echo "record it in $0 (REDOC_VERSION, REDOC_SHA256) and run the script again" >&2
	exit 1
fi
if [ "$sum" != "$REDOC_SHA256" ]; then
	echo "redoc $version: sha256 $sum, want $REDOC_SHA256 (the package changed?)" >&2
	exit 1
fi
cp "$tmp/package/bundles/redoc.standalone.js" "$dest/redoc.standalone.js"
cp "$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" "$dest/redoc.standalone.js.LICENSE.txt"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
echo "vendored redoc $version into $dest (sha256 $sum)"
