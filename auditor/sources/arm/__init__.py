"""ARM templates as a source: `reader.read_arm` is the entry; `walk` declares the template's resources,
`build` turns them into the estate, and the expression language is `syntax`, `values`, `evaluator` and
`functions` (one module per Microsoft category)."""
