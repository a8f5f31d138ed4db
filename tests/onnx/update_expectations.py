#!/usr/bin/env python3
"""Rewrites tests/onnx/arch/expectations.json and tests/hf/arch/expectations.json from
what build/bin/arch_corpus_test reports today.

    python3 tests/onnx/update_expectations.py [--test build/bin/arch_corpus_test]

A model that now passes becomes "pass"; a model that fails gets {"blocked": TEXT} with TEXT
the first reason of its failure. The test itself never changes the files: this is the
developer's step after a change moved a model, and `git diff` of the two files is what a
reviewer reads (a "pass" turning into "blocked" is a regression to explain, not to accept).
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = {"ArchCorpus": ROOT / "tests/onnx/arch/expectations.json",
         "ArchCheckpoint": ROOT / "tests/hf/arch/expectations.json"}


def first_reason(message):
    # The harness joins independent failures with "; " and prefixes the stage ("compile: ",
    # "fusion: ", "case ...: "): keep the first failure, without the absolute model path.
    # The model's path and measured errors vary by checkout and by kernel, so they stay out.
    reason = message.split("; ")[0]
    reason = re.sub(r"^(compile|plan): \S+: ", "", reason)
    reason = re.sub(r"(max \|out - ref\|) .*", r"\1", reason)
    return reason[:160]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--test", default=str(ROOT / "build/bin/arch_corpus_test"))
    args = ap.parse_args()
    out = subprocess.run([args.test], capture_output=True, text=True).stdout
    status = {suite: {} for suite in FILES}
    suite = None
    for line in out.splitlines():
        m = re.match(r"\[ RUN      \] (\w+)\.", line)
        if m:
            suite = m.group(1)
        m = re.match(r"\[ blocked  \] (\S+): (.*)", line)
        if m and suite in status:
            status[suite][m.group(1)] = {"blocked": first_reason(m.group(2))}
        m = re.match(r"\[       OK \] (\w+)\.", line)
        if m:
            suite = None
        m = re.match(r"(\S+) now passes: ", line)
        if m and suite in status:
            status[suite][m.group(1)] = "pass"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    for suite, path in FILES.items():
        doc = json.loads(path.read_text())
        changed = 0
        for name, new in status[suite].items():
            if name in doc["models"] and doc["models"][name] != new:
                if doc["models"][name] == "pass":
                    print(f"REGRESSION {suite} {name}: {new['blocked']}", file=sys.stderr)
                doc["models"][name] = new
                changed += 1
        if changed:
            doc["status_at"] = f"main {commit}"
            path.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"{path.relative_to(ROOT)}: {changed} changed")


if __name__ == "__main__":
    main()
