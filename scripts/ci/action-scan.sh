#!/usr/bin/env bash
# Run by action.yml: audit PATHS, write SARIF + Markdown + HTML into OUT_DIR, put the Markdown into the
# job summary, and exit with the gate's code (after everything is written, so the reports always exist).
set -uo pipefail
out_dir="${AOAI_AUDIT_OUTPUT_DIR:-aoai-audit-results}"
fail_on="${AOAI_AUDIT_FAIL_ON:-high}"
mkdir -p "$out_dir"
# shellcheck disable=SC2086  # paths are a space-separated list on purpose
aoai-audit scan ${AOAI_AUDIT_PATHS:-.} --fail-on "$fail_on" ${AOAI_AUDIT_ARGS:-} \
  --format sarif --format md --format html --format json --output-dir "$out_dir"
code=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$out_dir/aoai-audit.md" ]; then
  cat "$out_dir/aoai-audit.md" >> "$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "exit-code=$code"; echo "sarif=$out_dir/aoai-audit.sarif"; echo "html=$out_dir/aoai-audit.html"; } >> "$GITHUB_OUTPUT"
fi
exit "$code"
