"""Write every report format of a fixed set of estates into a folder, for byte-identity checks across moves.

    python scripts/report_identity.py OUT_DIR
    diff -r BEFORE_DIR AFTER_DIR

The set: the bundled example (with its usage and cost centres), every estate-shaped folder and file under
tests/fixtures/, and two synthetic benchmark estates (APIOps, ARM and Terraform forms). `generated_at`
and the tool's version are blanked so that only what the audit says is compared. Each target runs in the
installed `aoai-audit` so the check exercises the package as users install it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("json", "sarif", "md", "junit", "text", "html", "focus")
VOLATILE = re.compile(rb'("generated_at"\s*:\s*")[^"]*(")|(generated )[0-9T:.+\-Z ]+|(timestamp=")[^"]*(")')


def _targets(tmp: Path) -> list[tuple[str, list[str]]]:
    ex = ROOT / "fixtures" / "example"
    targets = [("example", [str(ex / "contoso-apim"), "--usage", str(ex / "usage.csv"), "--usage",
                            str(ex / "platform"), "--cost-centres", str(ex / "cost-centres.yaml")])]
    fixtures = ROOT / "tests" / "fixtures"
    for path in sorted(fixtures.rglob("*")):
        rel = path.relative_to(fixtures).as_posix()
        if rel.split("/")[0] in ("corpus", "real"):  # third-party material, audited by its own tests
            continue
        if (path.is_dir() and (path / "apis").is_dir()) or (path.suffix in (".json", ".xml") and path.is_file()):
            targets.append((f"fx-{rel}", [str(path)]))
    synth = tmp / "synth"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "synth.py"), str(synth), "--apis", "200",
                    "--services", "2"], check=True, capture_output=True)
    targets.append(("bench-apiops", [str(synth)]))
    for fmt in ("arm", "terraform"):
        out = tmp / f"synth.{fmt}.json"
        run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "estate_writers.py"), fmt, str(synth),
                              str(out)], capture_output=True)
        if run.returncode == 0 and out.exists():
            targets.append((f"bench-{fmt}", [str(out)]))
    return targets


def main(out_dir: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in _targets(Path(tmp)):
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
            outputs: list[str] = []
            for fmt in FORMATS:
                outputs += ["--format", fmt, "-o", str(out / f"{safe}.{fmt}")]
            run = subprocess.run(["aoai-audit", "scan", *args, *outputs, "--fail-on", "never", "--no-color"],
                                 capture_output=True, cwd=ROOT)
            stderr = run.stderr.decode(errors="replace").replace(str(out), "<OUT>")
            (out / f"{safe}.exit").write_text(f"{run.returncode}\n{stderr}")
            for fmt in FORMATS:
                f = out / f"{safe}.{fmt}"
                if f.exists():
                    data = f.read_bytes().replace(str(ROOT).encode(), b"<ROOT>").replace(tmp.encode(), b"<TMP>")
                    data = data.replace(tmp.replace("_", "\\_").encode(), b"<TMP>")  # as Markdown escapes it
                    f.write_bytes(VOLATILE.sub(lambda m: b"<volatile>", data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
