"""HTML conformance of a page as the server sent it, without Java.

The W3C validator (vnu) needs a JVM; instead the page is parsed by html5lib
in strict mode, which implements the WHATWG parsing algorithm and raises on
every *parse error* the specification defines (stray end tags, bad nesting,
missing doctype, duplicate attributes, unclosed elements…). Parse errors are
not the whole of validity, so the few content rules a parser cannot see and
that matter for assistive technologies are checked on the resulting tree:
unique ids, id references that resolve (for, aria-labelledby,
aria-describedby, aria-controls, href="#…"), a `lang` on <html>, a <title>,
a charset declaration.
"""

from __future__ import annotations

import html5lib

NS = "{http://www.w3.org/1999/xhtml}"

# Attributes whose value is a space-separated list of ids in the same page.
IDREF_LISTS = ("aria-labelledby", "aria-describedby", "aria-controls", "aria-owns")


def problems(source: str) -> list[str]:
    """Every conformance problem found in `source`, as French sentences; empty when valid."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    try:
        document = parser.parse(source)
    except html5lib.html5parser.ParseError as error:
        return [f"erreur d'analyse HTML : {error} ({_position(parser)})"]
    return _tree_problems(source, document)


def _position(parser: html5lib.HTMLParser) -> str:
    if parser.errors:
        (line, column), code, _ = parser.errors[-1]
        return f"ligne {line}, colonne {column}, code {code}"
    return "position inconnue"


def _tree_problems(source: str, document) -> list[str]:
    found: list[str] = []
    if not source.lstrip().lower().startswith("<!doctype html>"):
        found.append("la page ne commence pas par <!doctype html>")
    root = document.getroot() if hasattr(document, "getroot") else document
    if not root.get("lang"):
        found.append("<html> n'a pas d'attribut lang")
    if root.find(f".//{NS}head/{NS}title") is None or not (root.find(f".//{NS}head/{NS}title").text or "").strip():
        found.append("la page n'a pas de <title> non vide")
    if not any(meta.get("charset", "").lower() == "utf-8" for meta in root.iter(f"{NS}meta")):
        found.append('la page ne déclare pas <meta charset="utf-8">')

    ids: dict[str, int] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and element.get("id") is not None:
            ids[element.get("id")] = ids.get(element.get("id"), 0) + 1
    for ident, count in sorted(ids.items()):
        if ident == "" or any(c.isspace() for c in ident):
            found.append(f"identifiant invalide : {ident!r}")
        if count > 1:
            found.append(f"identifiant en double : {ident!r} ({count} fois)")

    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.replace(NS, "")
        if tag == "label" and element.get("for") is not None and element.get("for") not in ids:
            found.append(f"<label for={element.get('for')!r}> ne désigne aucun élément")
        for attribute in IDREF_LISTS:
            for ref in (element.get(attribute) or "").split():
                if ref not in ids:
                    found.append(f"<{tag} {attribute}={ref!r}> ne désigne aucun élément")
        href = element.get("href") or ""
        if tag == "a" and href.startswith("#") and len(href) > 1 and href[1:] not in ids:
            found.append(f"le lien {href!r} ne mène à aucun élément de la page")
    return found
