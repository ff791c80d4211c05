"""`aoai-audit fix`: close the gaps the audit finds with mechanical, safe edits to the estate's own policy files,
each tied to the findings it closes and proven by re-auditing the fixed estate before anything is shown or written.

Rooms: rawtext (where elements sit in the raw text), edits (text-preserving edits), conventions (what the estate
already writes), ownership (who owns the spend), planner (findings → repairs), prove (the re-audit on a private
copy), run (plan, prove, keep), udiff (a patch `git apply` accepts), iac (statements for generated templates).
"""
