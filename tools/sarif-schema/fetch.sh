#!/usr/bin/env bash
# Refreshes testdata/sarif/sarif-2.1.0-rtm.5.json, the OASIS SARIF 2.1.0
# JSON schema that the tests validate modelgate's SARIF against. The schema
# ships in the npm package @microsoft/jest-sarif (MIT licence).
set -euo pipefail
version=1.0.0-beta.0
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@microsoft/jest-sarif@$version" >/dev/null && tar xzf ./*.tgz)
cp "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" testdata/sarif/
echo "testdata/sarif/sarif-2.1.0-rtm.5.json from @microsoft/jest-sarif@$version"
