#!/usr/bin/python3
"""Counts test cases from the JUnit XML files (test.xml) Bazel left.

Usage: count_test_results.py TESTLOGS_DIR [LABEL...]

Reads every test.xml under TESTLOGS_DIR (GoogleTest's own XML, or the XML a
test wrote to $XML_OUTPUT_FILE, or the one-case XML Bazel writes for a test
that wrote none). Each LABEL is a test target expected to have run: one
without a test.xml (it did not build, or did not run) counts as one failed
test. Prints one line per target, then the totals as the last line:
"N passed, N failed" plus ", N skipped" when some were skipped.
Exits 1 when anything failed or nothing passed.
"""

import os
import sys
import xml.etree.ElementTree as ElementTree


def classify(testcase):
    """'failed', 'skipped' or 'passed' for one <testcase> element."""
    if testcase.find("failure") is not None or testcase.find("error") is not None:
        return "failed"
    # GoogleTest marks DISABLED_ tests status="notrun", GTEST_SKIP() ones
    # result="skipped" with a <skipped> child.
    if (testcase.find("skipped") is not None
            or testcase.get("status") == "notrun"
            or testcase.get("result") in ("skipped", "suppressed")):
        return "skipped"
    return "passed"


def count_file(path):
    """Counts of one test.xml; a file that does not parse counts as failed."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        print(f"{path}: unreadable XML ({error})", file=sys.stderr)
        counts["failed"] = 1
        return counts
    for testcase in root.iter("testcase"):
        counts[classify(testcase)] += 1
    if sum(counts.values()) == 0:
        print(f"{path}: no test case recorded", file=sys.stderr)
        counts["failed"] = 1
    return counts


def result_files(testlogs):
    """{target directory relative to testlogs: [test.xml paths]}; shards of
    one target (shard_K_of_N/test.xml) are grouped under the target."""
    by_target = {}
    for directory, _, files in os.walk(testlogs):
        if "test.xml" not in files:
            continue
        target = os.path.relpath(directory, testlogs)
        if os.path.basename(target).startswith("shard_"):
            target = os.path.dirname(target)
        by_target.setdefault(target, []).append(os.path.join(directory, "test.xml"))
    return by_target


def label_to_dir(label):
    """//tests/storage:foo -> tests/storage/foo"""
    package, _, name = label.lstrip("@").lstrip("/").partition(":")
    return os.path.join(package, name) if name else package


def main(argv):
    testlogs, labels = argv[1], argv[2:]
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    files = result_files(testlogs)
    expected = {label_to_dir(label): label for label in labels}
    for target in sorted(set(files) | set(expected)):
        name = expected.get(target, target)
        if target not in files:
            counts = {"passed": 0, "failed": 1, "skipped": 0}
            note = " (no test.xml: it did not build or did not run)"
        else:
            counts = {"passed": 0, "failed": 0, "skipped": 0}
            for path in files[target]:
                for outcome, number in count_file(path).items():
                    counts[outcome] += number
            note = ""
        for outcome, number in counts.items():
            totals[outcome] += number
        print(f"{name}: {counts['passed']} passed, {counts['failed']} failed, "
              f"{counts['skipped']} skipped{note}")
    summary = f"{totals['passed']} passed, {totals['failed']} failed"
    if totals["skipped"]:
        summary += f", {totals['skipped']} skipped"
    print(summary)
    return 1 if totals["failed"] or not totals["passed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
