"""Compare a re-measured tokenizer with its baseline: one :class:`CheckResult` per check.

Statuses: ``pass``, ``fail`` (the gate closes), ``improved`` (a metric got better than its baseline; passes),
``changed`` (informational, e.g. the file fingerprint; passes) and ``skipped`` (nothing to compare, e.g.
fertility for Japanese).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tokbench.check.config import METRICS, Better, CheckConfig

PASSING = ("pass", "improved", "changed", "skipped")


@dataclass(frozen=True)
class CheckResult:
    """One check: ``category`` groups it (a JUnit class), ``name`` says what was checked."""

    category: str
    name: str
    status: str
    message: str = ""
    baseline: Any = None
    current: Any = None

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CheckReport:
    """All results of one check run."""

    tokenizer: str
    baseline_path: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.failed]

    @property
    def passed(self) -> bool:
        return not self.failures

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in ("pass", "improved", "changed", "skipped", "fail")}
        for r in self.results:
            out[r.status] += 1
        return out

    def by_category(self) -> list[dict]:
        """Summary rows: category, checks, and how many of each status."""
        rows: dict[str, dict] = {}
        for r in self.results:
            row = rows.setdefault(r.category, {"check": r.category, "checks": 0, "passed": 0, "improved": 0,
                                               "changed": 0, "skipped": 0, "failed": 0})
            row["checks"] += 1
            key = {"pass": "passed", "fail": "failed"}.get(r.status, r.status)
            row[key] += 1
        return list(rows.values())

    def to_dict(self) -> dict:
        return {"tokenizer": self.tokenizer, "baseline": self.baseline_path, "passed": self.passed,
                "counts": self.counts(), "results": [r.to_dict() for r in self.results]}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _short(h: str | None) -> str:
    return (h or "none")[:12]


# --- structure ------------------------------------------------------------------------------------
def compare_structure(old: dict, new: dict) -> list[CheckResult]:
    out: list[CheckResult] = []
    ov, nv = old["vocab"], new["vocab"]
    if ov["size"] != nv["size"]:
        d = nv["size"] - ov["size"]
        out.append(CheckResult("vocab", "vocab_size", "fail", f"vocabulary size changed: {ov['size']} -> {nv['size']} ({d:+d} tokens)",
                               ov["size"], nv["size"]))
    else:
        out.append(CheckResult("vocab", "vocab_size", "pass", "", ov["size"], nv["size"]))
    if ov["sha256"] != nv["sha256"]:
        out.append(CheckResult("vocab", "vocab_tokens", "fail",
                               f"vocabulary tokens changed (hash {_short(ov['sha256'])} -> {_short(nv['sha256'])}); "
                               "see what changed with: tokbench check --diff OLD NEW", ov["sha256"], nv["sha256"]))
    else:
        out.append(CheckResult("vocab", "vocab_tokens", "pass", "", ov["sha256"], nv["sha256"]))
    os_, ns = ov.get("special_tokens", {}), nv.get("special_tokens", {})
    if os_ != ns:
        added = sorted(set(ns) - set(os_))
        removed = sorted(set(os_) - set(ns))
        moved = sorted(k for k in set(os_) & set(ns) if os_[k] != ns[k])
        parts = []
        if added:
            parts.append("added " + ", ".join(f"{k}={ns[k]}" for k in added[:5]) + (" ..." if len(added) > 5 else ""))
        if removed:
            parts.append("removed " + ", ".join(f"{k}={os_[k]}" for k in removed[:5]) + (" ..." if len(removed) > 5 else ""))
        if moved:
            parts.append("re-numbered " + ", ".join(f"{k} {os_[k]}->{ns[k]}" for k in moved[:5]))
        out.append(CheckResult("vocab", "special_tokens", "fail", "special tokens changed: " + "; ".join(parts), os_, ns))
    else:
        out.append(CheckResult("vocab", "special_tokens", "pass", "", len(os_), len(ns)))
    if ov.get("unk_id") != nv.get("unk_id"):
        out.append(CheckResult("vocab", "unk_id", "fail", f"unknown-token id changed: {ov.get('unk_id')} -> {nv.get('unk_id')}",
                               ov.get("unk_id"), nv.get("unk_id")))
    om, nm = old.get("merges"), new.get("merges")
    if om or nm:
        if om == nm:
            out.append(CheckResult("merges", "merge_list", "pass", "", om["count"], nm["count"]))
        else:
            oc, nc = (om or {}).get("count"), (nm or {}).get("count")
            what = f"{oc} -> {nc} merges" if oc != nc else f"same count ({oc}), different merges or order"
            out.append(CheckResult("merges", "merge_list", "fail", f"merge list changed: {what}", oc, nc))
    for comp in sorted(set(old["pipeline"]) | set(new["pipeline"])):
        a, b = old["pipeline"].get(comp, "none"), new["pipeline"].get(comp, "none")
        if a == b:
            out.append(CheckResult("pipeline", comp, "pass", "", a, b))
        else:
            label = {"normalizer": "normaliser", "pre_tokenizer": "pre-tokenizer"}.get(comp, comp)
            out.append(CheckResult("pipeline", comp, "fail", f"{label} changed: {_clip(a)} -> {_clip(b)}", a, b))
    if old["tokenizer"].get("lossless") and not new["tokenizer"].get("lossless"):
        out.append(CheckResult("tokenizer", "lossless", "fail",
                               "the tokenizer is no longer lossless (decode(encode(x)) == x is not guaranteed: a lossy normaliser, "
                               "or no byte-level/byte-fallback model)", True, False))
    else:
        out.append(CheckResult("tokenizer", "lossless", "pass", "", old["tokenizer"].get("lossless"), new["tokenizer"].get("lossless")))
    op, np_ = old.get("packages") or {}, new.get("packages") or {}
    for pkg in sorted(set(op) & set(np_)):  # a library missing on one side says nothing about encodings
        if op.get(pkg) != np_.get(pkg):
            out.append(CheckResult("tokenizer", f"package:{pkg}", "changed",
                                   f"{pkg} library {op.get(pkg)} -> {np_.get(pkg)} (informational; may explain encoding changes)",
                                   op.get(pkg), np_.get(pkg)))
    of, nf = old["tokenizer"].get("fingerprint"), new["tokenizer"].get("fingerprint")
    out.append(CheckResult("tokenizer", "file_fingerprint", "pass" if of == nf else "changed",
                           "" if of == nf else f"tokenizer file fingerprint changed ({_short(of)} -> {_short(nf)}); informational",
                           of, nf))
    return out


def _clip(s: str, n: int = 90) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


# --- probes ---------------------------------------------------------------------------------------
def _window(old: list[str], new: list[str], k: int = 3) -> str:
    """The tokens around the first difference: "['Ġbrown', 'Ġfox'] -> ['Ġbr', 'own', 'Ġfox']"."""
    i = 0
    while i < min(len(old), len(new)) and old[i] == new[i]:
        i += 1
    j = 0  # common suffix, not overlapping the prefix
    while j < min(len(old), len(new)) - i and old[-1 - j] == new[-1 - j]:
        j += 1
    o, n = old[i : len(old) - j], new[i : len(new) - j]
    return f"at token {i}: {o[:k * 2]!r}{'...' if len(o) > k * 2 else ''} -> {n[:k * 2]!r}{'...' if len(n) > k * 2 else ''}"


def compare_probes(old: dict, new: dict) -> list[CheckResult]:
    out: list[CheckResult] = []
    ob, nb = old["behaviour"], new["behaviour"]
    changed = [name for name, p in ob["probes"].items() if nb["probes"].get(name, {}).get("sha256") != p["sha256"]]
    if ob["sha256"] == nb["sha256"]:
        out.append(CheckResult("behaviour", "fingerprint", "pass", "", ob["sha256"], nb["sha256"]))
    else:
        out.append(CheckResult("behaviour", "fingerprint", "fail",
                               f"behaviour fingerprint changed ({_short(ob['sha256'])} -> {_short(nb['sha256'])}): "
                               f"{len(changed)} of {len(ob['probes'])} probes encode differently: {', '.join(changed)}",
                               ob["sha256"], nb["sha256"]))
    for name, p in sorted(ob["probes"].items()):
        q = nb["probes"].get(name, {})
        if q.get("sha256") == p["sha256"]:
            out.append(CheckResult("probes", name, "pass", "", p["n_tokens"], q.get("n_tokens")))
        else:
            out.append(CheckResult("probes", name, "fail",
                                   f"probe '{name}' encodes differently: {p['n_tokens']} -> {q.get('n_tokens')} tokens",
                                   p["n_tokens"], q.get("n_tokens")))
    for name, g in sorted(old["golden"].items()):
        h = new["golden"].get(name, {})
        if h.get("ids") == g["ids"]:
            out.append(CheckResult("golden", name, "pass", "", len(g["ids"]), len(h.get("ids", []))))
        elif h.get("tokens") == g["tokens"]:
            i = next(k for k, (a, b) in enumerate(zip(g["ids"], h["ids"])) if a != b)
            out.append(CheckResult("golden", name, "fail",
                                   f"golden '{name}' has the same tokens under other ids (re-numbered vocabulary): "
                                   f"token {i} {g['tokens'][i]!r} was id {g['ids'][i]}, now {h['ids'][i]}", g["ids"], h.get("ids")))
        else:
            # Readable pieces when they show the difference; the format's spelling otherwise ('Ġ' vs '▁').
            a, b = g.get("pieces"), h.get("pieces")
            if not a or not b or a == b:
                a, b = g["tokens"], h.get("tokens", [])
            out.append(CheckResult("golden", name, "fail",
                                   f"golden '{name}' changed " + _window(a, b)
                                   + f" ({len(g['ids'])} -> {len(h.get('ids', []))} tokens)", g["ids"], h.get("ids")))
    # Round trips: a probe that decoded back to itself in the baseline must still do so. (A lossless
    # tokenizer with an NFC normaliser legitimately fails on decomposed text, so "lossless" alone is no
    # reason to fail; `--write-baseline` warns about round-trip failures instead.)
    for section, key in (("behaviour", "probes"), ("golden", None)):
        olds = old[section][key] if key else old[section]
        news = new[section][key] if key else new[section]
        for name, p in sorted(olds.items()):
            now = news.get(name, {}).get("roundtrip")
            if p.get("roundtrip") and now is False:
                out.append(CheckResult("roundtrip", f"probe:{name}", "fail",
                                       f"round trip lost on probe '{name}': decode(encode(text)) != text, it did in the baseline",
                                       p.get("roundtrip"), now))
            else:
                out.append(CheckResult("roundtrip", f"probe:{name}", "pass" if now else "skipped",
                                       "" if now else "did not round-trip in the baseline either", p.get("roundtrip"), now))
    return out


# --- corpora --------------------------------------------------------------------------------------
def judge_metric(metric: str, old: float | None, new: float | None, config: CheckConfig) -> tuple[str, str]:
    """(status, reason) of one metric: 'pass', 'improved', 'fail' or 'skipped'.

    >>> judge_metric("bytes_per_token", 4.0, 3.9, CheckConfig())[0]
    'fail'
    >>> judge_metric("bytes_per_token", 4.0, 3.97, CheckConfig())[0]
    'pass'
    """
    spec = METRICS[metric]
    if old is None and new is None:
        return "skipped", "not applicable"
    if old is None or new is None:
        return "fail", f"was {_fmt(old)}, now {_fmt(new)}"
    worse_by = (old - new) if spec.better is Better.HIGHER else (new - old)
    tol = config.tolerance(metric)
    allowed = tol.allowed(old)
    if worse_by > allowed + 1e-12:
        return "fail", f"worse by {_delta(worse_by, old)}, tolerance {tol}"
    if worse_by < -1e-12:
        return "improved", f"better by {_delta(-worse_by, old)}"
    if worse_by > 0:
        return "pass", f"worse by {_delta(worse_by, old)}, within tolerance {tol}"
    return "pass", ""


def _delta(d: float, base: float) -> str:
    rel = f" ({d / abs(base) * 100:.2f}%)" if base else ""
    return f"{d:.4g}{rel}"


def compare_corpora(old: dict, new: dict, load_errors: dict[str, str], config: CheckConfig) -> list[CheckResult]:
    out: list[CheckResult] = []
    for label, oe in sorted(old["corpora"].items()):
        if label in load_errors:
            out.append(CheckResult("corpus", label, "fail", f"corpus {label} cannot be loaded: {load_errors[label]}"))
            continue
        ne = new["corpora"].get(label)
        if ne is None:
            out.append(CheckResult("corpus", label, "fail", f"corpus {label} was not measured"))
            continue
        if ne["sha256"] != oe["sha256"] or (oe.get("premium_ref") or {}).get("sha256") != (ne.get("premium_ref") or {}).get("sha256"):
            out.append(CheckResult("corpus", label, "fail",
                                   f"corpus {label} changed since the baseline (content {_short(oe['sha256'])} -> {_short(ne['sha256'])}); "
                                   "metrics are not comparable: rewrite the baseline with --write-baseline", oe["sha256"], ne["sha256"]))
            continue
        out.append(CheckResult("corpus", label, "pass", "", oe["segments"], ne["segments"]))
        for metric in METRICS:
            a, b = oe["metrics"].get(metric), ne["metrics"].get(metric)
            status, reason = judge_metric(metric, a, b, config)
            msg = f"{metric} on {label}: {_fmt(a)} -> {_fmt(b)}" + (f" ({reason})" if reason else "")
            out.append(CheckResult(f"metric:{metric}", label, status, msg if status != "pass" or reason else "", a, b))
        of, nf = oe.get("roundtrip_failures", 0), ne.get("roundtrip_failures", 0)
        if nf > of:
            first = ne.get("roundtrip_first_failure")
            out.append(CheckResult("roundtrip", f"corpus:{label}", "fail",
                                   f"round trip lost on {label}: {nf} segments do not decode back (baseline {of}); first: {first}",
                                   of, nf))
        else:
            out.append(CheckResult("roundtrip", f"corpus:{label}", "pass", "", of, nf))
    return out


def compare(old: dict, new: dict, *, config: CheckConfig = CheckConfig(), load_errors: dict[str, str] | None = None,
            tokenizer: str = "", baseline_path: str = "") -> CheckReport:
    """Every check of ``new`` (a re-measurement) against ``old`` (the baseline)."""
    report = CheckReport(tokenizer, baseline_path)
    report.results += compare_structure(old, new)
    report.results += compare_probes(old, new)
    report.results += compare_corpora(old, new, load_errors or {}, config)
    return report
