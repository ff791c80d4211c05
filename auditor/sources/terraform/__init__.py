"""Terraform `show -json` output as a source: `reader.read_terraform` is the entry; `stream` reads only what the
reader uses of a large plan, `plan` walks the document's modules and references."""
