"""Check results for CI systems: JUnit XML (one testcase per check) and a JSON report."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from tokbench.check.compare import CheckReport
from tokbench.files import write_bytes_atomic, write_json_atomic


# Characters XML 1.0 cannot carry at all (ElementTree would write them and produce a broken file).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(text: str) -> str:
    """``text`` with characters XML cannot hold shown as \\xNN."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def junit_xml(report: CheckReport, elapsed_s: float = 0.0) -> bytes:
    """A JUnit XML document: one <testsuite> per run, one <testcase> per check.

    Failed checks carry a <failure message="..."> with the one-line explanation; skipped checks a
    <skipped>; informational changes and improvements pass and keep their message in <system-out>.
    """
    counts = report.counts()
    suites = ET.Element("testsuites", name="tokbench check", tests=str(len(report.results)),
                        failures=str(counts["fail"]), errors="0", time=f"{elapsed_s:.3f}")
    suite = ET.SubElement(suites, "testsuite", name=_x(f"tokbench check {report.tokenizer}"),
                          tests=str(len(report.results)), failures=str(counts["fail"]), errors="0",
                          skipped=str(counts["skipped"]), time=f"{elapsed_s:.3f}")
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="tokenizer", value=_x(report.tokenizer))
    ET.SubElement(props, "property", name="baseline", value=_x(report.baseline_path))
    for r in report.results:
        case = ET.SubElement(suite, "testcase", classname=_x(f"tokbench.check.{r.category}"), name=_x(r.name), time="0")
        if r.status == "fail":
            fail = ET.SubElement(case, "failure", message=_x(r.message), type="regression")
            fail.text = _x(f"{r.message}\nbaseline: {r.baseline!r}\ncurrent:  {r.current!r}")
        elif r.status == "skipped":
            ET.SubElement(case, "skipped", message=_x(r.message or "not applicable"))
        elif r.message:
            ET.SubElement(case, "system-out").text = _x(f"{r.status}: {r.message}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(path: str | Path, report: CheckReport, elapsed_s: float = 0.0) -> Path:
    return write_bytes_atomic(path, junit_xml(report, elapsed_s))


def write_report_json(path: str | Path, report: CheckReport, extra: dict | None = None) -> Path:
    data = report.to_dict()
    if extra:
        data.update(extra)
    return write_json_atomic(path, data)
