#!/usr/bin/env bash
# Fails when the component's generated files are not what metadata.yaml
# produces: regenerates them with `make generate` (mdatagen from
# internal/tools) and compares the component directory with how it was just
# before. Run it with `make generate-check`; `make test` runs it.
#
# The comparison is with the directory as it was before generating, not with
# HEAD, so that uncommitted edits of a developer do not fail it. On a fresh
# clone (CI) the two are the same: there it is `make generate` followed by
# `git diff --exit-code`. Generated files that git does not track also fail
# it, since a commit would leave them out.
set -euo pipefail
cd "$(dirname "$0")/.."

component=${COMPONENT:-exporter/pagerdutyexporter}

before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
cp -a "$component/." "$before/"

"${MAKE:-make}" --no-print-directory generate

status=0
if ! git diff --no-index --exit-code --stat "$before" "$component"; then
  cat >&2 <<EOF
generate-check: the generated files under $component were out of date with its
metadata.yaml. \`make generate\` has now rewritten the files listed above (see
\`git diff -- $component\`): review them and commit them with metadata.yaml.
EOF
  status=1
fi

# mdatagen writes generated_*.go, documentation.md and the status table of
# README.md.
untracked=$(git ls-files --others --exclude-standard -- "$component" |
  grep -E '(^|/)(generated_[^/]*|documentation\.md|README\.md)$' || true)
if [ -n "$untracked" ]; then
  cat >&2 <<EOF
generate-check: generated files that git does not track:
$untracked
\`git add\` them: a commit without them does not build or is not documented.
EOF
  status=1
fi

if [ "$status" = 0 ]; then
  echo "generate-check: the generated files of $component match metadata.yaml"
fi
exit "$status"
