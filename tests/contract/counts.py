"""Per test file counts of a contract run: `python tests/contract/counts.py JUNIT.xml` (pytest --junitxml)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict


def counts(path: str) -> dict[str, Counter[str]]:
    """Map each moto test file to how many of its tests passed, failed, xfailed, skipped."""
    per_file: dict[str, Counter[str]] = defaultdict(Counter)
    for case in ET.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "").split(".moto_tests.", 1)[-1]
        name = "/".join(p for p in module.split(".") if not p[:1].isupper()) + ".py"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
        per_file[name][outcome] += 1
    return dict(sorted(per_file.items()))


def main(path: str) -> None:
    """Print a Markdown table of the counts, with a total line."""
    total: Counter[str] = Counter()
    print("| file | passed | failed | xfailed | skipped |\n| --- | --- | --- | --- | --- |")
    for name, c in counts(path).items():
        total.update(c)
        print(f"| {name} | {c['passed']} | {c['failed']} | {c['xfailed']} | {c['skipped']} |")
    print(f"| total | {total['passed']} | {total['failed']} | {total['xfailed']} | {total['skipped']} |")


if __name__ == "__main__":
    main(sys.argv[1])
