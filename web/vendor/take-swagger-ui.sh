#!/usr/bin/env bash
# Takes Swagger UI's standalone bundle from npm into web/vendor/swagger-ui-<version>/:
# only what /docs loads (the bundle, its stylesheet) and the licences. Run from the
# repository root: web/vendor/take-swagger-ui.sh 5.35.0
set -euo pipefail
version=${1:?usage: web/vendor/take-swagger-ui.sh VERSION}
dir=web/vendor/swagger-ui-$version
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar xzf "swagger-ui-dist-$version.tgz")
mkdir -p "$dir"
for file in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
  cp "$work/package/$file" "$dir/$file"
done
echo "$dir: swagger-ui-dist $version from npm; point web/docs/index.html at it"
