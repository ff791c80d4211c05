#!/usr/bin/env bash
# Run by action.yml: audit PATHS, write SARIF + Markdown + HTML + JSON into OUT_DIR, put the Markdown into the
# job summary, set one step output per report written (its path; none for a report that was not written), and
# exit with the gate's code (after everything is written, so the reports always exist).
set -uo pipefail
out_dir="${AOAI_AUDIT_OUTPUT_DIR:-aoai-audit-results}"
fail_on="${AOAI_AUDIT_FAIL_ON:-high}"
mkdir -p "$out_dir"
# Stale reports of an earlier run in the same folder must not be taken for this run's.
rm -f "$out_dir"/aoai-audit.sarif "$out_dir"/aoai-audit.md "$out_dir"/aoai-audit.html "$out_dir"/aoai-audit.json
# shellcheck disable=SC2086  # paths and extra arguments are space-separated lists on purpose
aoai-audit scan ${AOAI_AUDIT_PATHS:-.} --fail-on "$fail_on" ${AOAI_AUDIT_ARGS:-} \
  --format sarif --format md --format html --format json --output-dir "$out_dir"
code=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$out_dir/aoai-audit.md" ]; then
  cat "$out_dir/aoai-audit.md" >> "$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "exit-code=$code"
    for pair in sarif:sarif markdown:md html:html json:json; do
      name="${pair%%:*}" file="$out_dir/aoai-audit.${pair#*:}"
      if [ -f "$file" ]; then echo "$name=$file"; fi
    done
  } >> "$GITHUB_OUTPUT"
fi
exit "$code"
