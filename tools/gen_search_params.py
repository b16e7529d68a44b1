#!/usr/bin/env python3
"""Compact the official R4 SearchParameter definitions for the search engine.

Reads the SearchParameter-*.json files of the unpacked npm package hl7.fhir.r4.examples@4.0.1
and writes two files into crates/fhir/data/:

search-parameters.json, a list sorted by url:

    [{"url": "http://hl7.org/fhir/SearchParameter/individual-family", "code": "family",
      "type": "string", "base": ["Patient", "Practitioner"],
      "expr": "Patient.name.family | Practitioner.name.family", "target": []}, ...]

  `expr` is omitted when the definition has none. Descriptions, xpath and narrative are dropped.
  The package also holds a few *example* SearchParameters (ids starting with "example") that
  redefine core codes such as Condition.subject and _id; they are skipped, as are definitions
  without a base.

summary-elements.json, for `_summary` and `_elements`, per concrete resource type:

    {"Patient": {"summary": ["id", "meta", "identifier", "deceased[x]", ...],
                 "mandatory": [...]}, ...}

  `summary` lists the top-level elements marked isSummary, `mandatory` those with min >= 1
  (choice elements keep their `[x]` suffix).

Usage: python3 tools/gen_search_params.py [FHIR_R4_DIR]
"""

import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SRC = os.path.join(ROOT, "..", "shared", "data", "fhir-r4")
OUT_DIR = os.path.join(ROOT, "crates", "fhir", "data")


def search_parameters(examples_dir):
    params = []
    for path in sorted(glob.glob(os.path.join(examples_dir, "SearchParameter-*.json"))):
        with open(path, encoding="utf-8") as f:
            sp = json.load(f)
        if sp["id"].startswith("example") or not sp.get("base"):
            continue
        entry = {
            "url": sp["url"],
            "code": sp["code"],
            "type": sp["type"],
            "base": sp["base"],
        }
        if sp.get("expression"):
            entry["expr"] = sp["expression"]
        entry["target"] = sp.get("target", [])
        params.append(entry)
    params.sort(key=lambda p: p["url"])
    return params


def summary_elements(sd_dir):
    out = {}
    for path in sorted(glob.glob(os.path.join(sd_dir, "StructureDefinition-*.json"))):
        with open(path, encoding="utf-8") as f:
            sd = json.load(f)
        if sd.get("kind") != "resource" or sd.get("abstract") or sd.get("derivation") != "specialization":
            continue
        rtype = sd["type"]
        summary, mandatory = [], []
        for element in sd["snapshot"]["element"]:
            parts = element["path"].split(".")
            if len(parts) != 2:
                continue
            name = parts[1]
            if element.get("isSummary"):
                summary.append(name)
            if element.get("min", 0) >= 1:
                mandatory.append(name)
        out[rtype] = {"summary": summary, "mandatory": mandatory}
    return out


def write_json(name, value):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w", encoding="utf-8") as f:
        # One entry per line: compact, yet diffs stay readable.
        if isinstance(value, list):
            f.write("[\n")
            f.write(",\n".join(json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in value))
            f.write("\n]\n")
        else:
            f.write("{\n")
            f.write(
                ",\n".join(
                    json.dumps(k) + ":" + json.dumps(v, ensure_ascii=False, separators=(",", ":"))
                    for k, v in sorted(value.items())
                )
            )
            f.write("\n}\n")
    return path


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SRC
    params = search_parameters(os.path.join(src, "examples"))
    print(f"{write_json('search-parameters.json', params)}: {len(params)} parameters")
    summary = summary_elements(os.path.join(src, "structuredefinitions"))
    print(f"{write_json('summary-elements.json', summary)}: {len(summary)} resource types")


if __name__ == "__main__":
    main()
