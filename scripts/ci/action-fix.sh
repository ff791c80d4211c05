#!/usr/bin/env bash
# Run by action.yml when `fix` is set: run `aoai-audit fix` on PATHS. `diff`: the patch goes to
# OUT_DIR/aoai-audit-fix.patch and the job summary. `pr`: the repairs are written into the checkout for the next
# step (peter-evans/create-pull-request) to commit; `files` lists them (one a line) and `summary` is the PR body.
# A failed fix never fails the job here: the audit's gate decides it.
set -uo pipefail
out_dir="${AOAI_AUDIT_OUTPUT_DIR:-aoai-audit-results}"
mode="${AOAI_AUDIT_FIX:-diff}"
mkdir -p "$out_dir"
patch="$out_dir/aoai-audit-fix.patch" log="$out_dir/aoai-audit-fix.log" body="$out_dir/aoai-audit-fix.md"
# shellcheck disable=SC2086  # paths are a space-separated list on purpose
aoai-audit fix ${AOAI_AUDIT_PATHS:-.} --diff > "$patch" 2> "$log"
code=$?
changed=false
if [ "$code" -eq 1 ] && [ -s "$patch" ]; then changed=true; fi
{
  echo "## aoai-audit fix"
  echo
  echo "Each change below closes the findings it names; the re-audit of the fixed estate found no new finding."
  echo
  echo '```text'
  sed 's/^aoai-audit fix: //' "$log"
  echo '```'
} > "$body"
files=""
if [ "$changed" = true ] && [ "$mode" = pr ]; then
  files="$(sed -n 's|^+++ b/||p' "$patch")"
  # shellcheck disable=SC2086
  aoai-audit fix ${AOAI_AUDIT_PATHS:-.} --write >> "$log" 2>&1 || changed=false
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    cat "$body"
    if [ "$changed" = true ]; then echo; echo '```diff'; cat "$patch"; echo '```'; fi
  } >> "$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "changed=$changed"
    echo "patch=$patch"
    echo "summary=$body"
    echo "files<<AOAI_AUDIT_EOF"
    echo "$files"
    echo "AOAI_AUDIT_EOF"
  } >> "$GITHUB_OUTPUT"
fi
exit 0
