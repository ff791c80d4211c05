"""Live Azure as a source: `collector.collect_live` is the entry, `options` what to read, `session` and `http`
the guarded connection (with `transport` and `pacing`), `apim`, `accounts` and `monitor` what is read,
and usage/reader.py names what the usage reads need of a session."""
