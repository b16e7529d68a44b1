#!/usr/bin/env python3
"""Compact the official R4 StructureDefinitions into what the structure validator needs.

Reads the base StructureDefinition snapshots (resources, complex and primitive datatypes) from
the unpacked npm package hl7.fhir.r4.examples@4.0.1 and writes
crates/fhir/data/structure-definitions.json:

    {
      "primitives": ["base64Binary", "boolean", ...],
      "resources":  ["Account", ...],                 # concrete resource types
      "types": {
        "Patient":         {"gender": {"type": ["code"], "codes": ["male", ...]}, ...},
        "Patient.contact": {...},                     # backbone elements, named by path
        "HumanName":       {"given": {"max": "*", "type": ["string"]}, ...},
        "Element":         {...}                      # id + extension, for `_x` siblings
      }
    }

Each element maps its name (`value[x]` for choices) to {min (omitted when 0), max (omitted when
"1"), type (type names: primitives, complex types, backbone paths, or "Resource" for any
resource), codes (allowed codes of a required binding, when known)}. contentReference elements
simply point at the referenced backbone path, e.g. Questionnaire.item.item -> "Questionnaire.item".

The ValueSets are not part of the package, so a required binding on a `code` element gets its
codes from the element's `short` text when that is an enumeration such as
"male | female | other | unknown". A trailing "+" (the list is incomplete) or prose means the
codes are unknown and the element is left unchecked.

Usage: python3 tools/gen_structure_defs.py [SD_DIR] [OUT_FILE]
"""

import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SRC = os.path.join(ROOT, "..", "shared", "data", "fhir-r4", "structuredefinitions")
DEFAULT_OUT = os.path.join(ROOT, "crates", "fhir", "data", "structure-definitions.json")

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
CODE_TOKEN = re.compile(r"^\S+$")


def element_type_code(t):
    """The FHIR type name of an ElementDefinition.type entry.

    Element.id, Extension.url and primitive values use FHIRPath system types
    (http://hl7.org/fhirpath/System.String) with the FHIR type in an extension.
    """
    code = t["code"]
    if code.startswith("http://hl7.org/fhirpath/"):
        for ext in t.get("extension", []):
            if ext["url"] == FHIR_TYPE_EXT:
                return ext["valueUrl"]
        return "string"
    return code


def codes_from_short(short):
    """Allowed codes from an enumeration short text, or None when it is not a complete list."""
    if not short or " | " not in short:
        return None
    parts = [p.strip() for p in short.split(" | ")]
    # "a | b +" and "a | b | +" mark an incomplete list.
    if parts[-1] == "+" or parts[-1].endswith(" +"):
        return None
    # The last entry may carry a description: "billing - purpose of this address",
    # "old (If known)", "severe (of event as a whole)".
    parts[-1] = parts[-1].split(" ")[0]
    if not all(CODE_TOKEN.match(p) for p in parts):
        return None  # prose such as "formats supported (xml | json | ttl | mime type)"
    return parts


def compact_element(sd, e, paths_with_children, stats):
    path = e["path"]
    out = {}
    if e.get("min", 0) != 0:
        out["min"] = e["min"]
    if e.get("max", "1") != "1":
        out["max"] = e["max"]
    if "contentReference" in e:
        out["type"] = [e["contentReference"].lstrip("#")]
    elif path in paths_with_children:
        # Inline BackboneElement (or Element in datatypes such as Timing.repeat).
        out["type"] = [path]
    else:
        types = [element_type_code(t) for t in e.get("type", [])]
        # R4 declares Resource.id as System.String/"string", but the spec says `id`.
        if sd["kind"] == "resource" and path == sd["type"] + ".id":
            types = ["id"]
        out["type"] = types
    binding = e.get("binding")
    if binding and binding.get("strength") == "required" and out["type"] == ["code"]:
        codes = codes_from_short(e.get("short"))
        if codes:
            out["codes"] = codes
            stats["coded"] += 1
        else:
            stats["uncoded"].append(path)
    return out


def compact_sd(sd, types):
    """Add the type and its backbone elements of one StructureDefinition to `types`."""
    elements = sd["snapshot"]["element"]
    paths = [e["path"] for e in elements]
    parents = {p.rsplit(".", 1)[0] for p in paths if "." in p}
    stats = {"coded": 0, "uncoded": []}
    for e in elements[1:]:
        parent, name = e["path"].rsplit(".", 1)
        types.setdefault(parent, {})[name] = compact_element(sd, e, parents, stats)
    return stats


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SRC
    out = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUT
    files = sorted(glob.glob(os.path.join(src, "StructureDefinition-*.json")))
    primitives, resources, types = [], [], {}
    coded, uncoded = 0, []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            sd = json.load(fh)
        if sd.get("derivation") != "specialization":
            continue
        if sd["kind"] == "primitive-type":
            primitives.append(sd["type"])
            continue
        if sd.get("abstract"):
            continue  # DomainResource, BackboneElement: only ever used through their children
        if sd["kind"] == "resource":
            resources.append(sd["type"])
        types[sd["type"]] = {}
        stats = compact_sd(sd, types)
        coded += stats["coded"]
        uncoded += stats["uncoded"]

    # Primitive extensions (`_birthDate`) are Elements: only id and extension.
    types["Element"] = {"id": {"type": ["string"]}, "extension": {"max": "*", "type": ["Extension"]}}

    known = set(primitives) | set(types) | {"Resource"}
    for owner, elements in types.items():
        for name, el in elements.items():
            for t in el["type"]:
                if t not in known:
                    sys.exit(f"{owner}.{name}: unknown type {t}")

    data = {"primitives": sorted(primitives), "resources": sorted(resources), "types": types}
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(data, fh, separators=(",", ":"), ensure_ascii=False)
        fh.write("\n")
    print(
        f"{len(files)} StructureDefinitions -> {len(resources)} resources, "
        f"{len(primitives)} primitives, {len(types)} complex/backbone types; "
        f"{coded} required code bindings with codes, {len(uncoded)} without; "
        f"{os.path.getsize(out)} bytes"
    )


if __name__ == "__main__":
    main()
