"""The Duties page's HTML and CSS: one collapsible card per duty, then the glossary (pure functions).

Issue 31: the page was about 18 screens on a desktop and 36 on a phone, because every quote repeated its
full source block (status badge, title, publisher, date). Now each card is an HTML ``<details>``: closed,
it is one line (the duty's name and its status badges), so the five duties fit one screen; open, each quote
carries only a numbered reference, its status badge and where it is in the document, and the card lists
its sources once at the end. The glossary does the same (its sources listed once, below it) and flows in
columns (CSS multi-column), so a short entry does not leave a gap beside a long one.
"""
from __future__ import annotations

from .web_html import badge_html, date_html, e


def _badge(kind: str, label: str) -> str:
    cls = {"law": "law", "proposal": "proposal"}.get(kind, "other")
    return f'<span class="badge badge-{cls}">{e(label)}</span>'


def source_line(c: dict) -> str:
    """A citation's whole source block: status badge, title, publisher, date and where in the document."""
    return (f'<p class="tr-src">{badge_html(c["status"], c["kind"], c["date"])} <span class="tr-src-label">'
            f'{e(c["title"])}</span> <span class="tr-src-meta">{e(c["publisher"])} &middot; '
            f'{date_html(c["display_date"], c["date_approximate"])} &middot; {e(c["location"])}</span></p>')


def _source_key(c: dict) -> str:
    return c.get("doc_id") or c["title"]


def _numbered(citations: list[dict]) -> dict[str, tuple[int, dict]]:
    """Each document the citations come from: (its number, in order of first use; its first citation)."""
    numbers: dict[str, tuple[int, dict]] = {}
    for c in citations:
        numbers.setdefault(_source_key(c), (len(numbers) + 1, c))
    return numbers


def _ref(anchor: str, c: dict, n: int) -> str:
    """Under a quote: its source's number (a link to the list), status badge and place in the document."""
    return (f'<p class="tr-ref"><a class="tr-ref-n" href="#{e(anchor)}-src-{n}" aria-label="source {n}">[{n}]</a> '
            f'{badge_html(c["status"], c["kind"], c["date"])} <span class="tr-src-meta">{e(c["location"])}</span></p>')


def _sources(anchor: str, numbers: dict[str, tuple[int, dict]], heading: str = "Sources") -> str:
    """The sources, each once: status badge, title, publisher and date."""
    if not numbers:
        return ""
    items = "".join(
        f'<li id="{e(anchor)}-src-{n}" value="{n}">{badge_html(c["status"], c["kind"], c["date"])} '
        f'<span class="tr-src-label">{e(c["title"])}</span> <span class="tr-src-meta">{e(c["publisher"])} '
        f'&middot; {date_html(c["display_date"], c["date_approximate"])}</span></li>' for n, c in numbers.values())
    return (f'<div class="duty-sources"><h4 class="duty-field">{e(heading)}</h4>'
            f'<ol class="duty-src-list">{items}</ol></div>')


def _quote(anchor: str, line: dict, n: int) -> str:
    c = line["citation"]
    label = line.get("level") or line.get("tag")
    tag = f'<span class="duty-tag">{e(label)}</span>' if label else ""
    return (f'<li class="duty-line">{tag}<blockquote class="duty-quote">&ldquo;{e(c["quote"])}&rdquo;</blockquote>'
            f'{_ref(anchor, c, n)}</li>')


def render_card(card: dict) -> str:
    cid = card["id"]
    anchor = f"duty-{cid}"
    numbers = _numbered([line["citation"] for f in card["fields"] for line in f["lines"]])
    badges = " ".join(_badge(b["kind"], b["label"]) for b in card["badges"])
    fields = []
    for f in card["fields"]:
        items = [_quote(anchor, line, numbers[_source_key(line["citation"])][0]) for line in f["lines"]]
        items += [f'<li class="duty-line duty-missing">{e(why)}</li>' for why in f.get("missing", [])]
        if f.get("note"):
            items.append(f'<li class="duty-line duty-missing duty-note">{e(f["note"])}</li>')
        fields.append(f'<dt class="duty-field duty-field-{e(f["key"])}">{e(f["label"])}</dt>'
                      f'<dd><ul class="duty-lines">{"".join(items)}</ul></dd>')
    quotes = sum(len(f["lines"]) for f in card["fields"])
    count = (f'{quotes} quote{"s" if quotes != 1 else ""} from {len(numbers)} '
             f'source{"s" if len(numbers) != 1 else ""}')
    return (f'<details class="duty-card" id="{e(anchor)}">'
            f'<summary class="duty-summary"><h3 class="duty-name" id="duty-h-{e(cid)}">{e(card["name"])}</h3>'
            f'<p class="duty-badges"><span class="sr-only">Status: </span>{badges}</p>'
            f'<span class="duty-count">{count}</span></summary>'
            f'<dl class="duty-fields">{"".join(fields)}</dl>{_sources(anchor, numbers)}</details>')


def render_glossary(glossary: list[dict]) -> str:
    """The glossary: each entry's quotes with numbered references, and the sources listed once below."""
    numbers = _numbered([line["citation"] for g in glossary for line in g["lines"]])
    out = ['<h2 class="glossary-head" id="glossary-head" tabindex="-1">Glossary</h2><dl class="glossary">']
    for g in glossary:
        quotes = "".join(f'<blockquote class="duty-quote">&ldquo;{e(line["citation"]["quote"])}&rdquo;</blockquote>'
                         + _ref("glossary", line["citation"], numbers[_source_key(line["citation"])][0])
                         for line in g["lines"])
        quotes += "".join(f'<p class="duty-missing">{e(why)}</p>' for why in g.get("missing", []))
        if g.get("note"):
            quotes += f'<p class="duty-missing duty-note">{e(g["note"])}</p>'
        out.append(f'<div class="gl-item"><dt class="gl-term">{e(g["term"])}</dt><dd>{quotes}</dd></div>')
    out.append(f'</dl><div class="gl-sources">{_sources("glossary", numbers, "Glossary sources")}</div>')
    return "".join(out)


def render_duties(cards: list[dict], glossary: list[dict], notice: str) -> str:
    head = f'<p class="tr-notice" role="note"><span class="warn-icon" aria-hidden="true">!</span> {e(notice)}</p>'
    cards_html = "".join(render_card(c) for c in cards)
    return f'{head}<div class="duty-grid">{cards_html}</div>{render_glossary(glossary)}'


CSS = r"""
.tr-notice { background: var(--amber-soft); color: var(--ink); border-radius: 8px; padding: .45rem .75rem; margin: 0 0 .6rem; }
.duty-grid { display: grid; gap: .6rem; grid-template-columns: minmax(0, 1fr); max-width: 64rem; }
.duty-card { background: var(--card); border: 1px solid var(--line); border-left: 5px solid var(--accent);
             border-radius: 12px; padding: 0; color: var(--ink); scroll-margin-top: 1rem; }
.duty-summary { cursor: pointer; list-style: none; display: flex; flex-wrap: wrap; align-items: center; gap: .3rem .7rem;
                padding: .6rem 1rem .6rem 2.2rem; position: relative; }
.duty-summary::-webkit-details-marker { display: none; }
.duty-summary::before { content: "\25B8"; position: absolute; left: .8rem; top: .55rem; font-size: 1.1rem; color: var(--accent);
                        transition: transform .15s; }
.duty-card[open] > .duty-summary::before { transform: rotate(90deg); }
.duty-summary:hover { background: var(--accent-soft); border-radius: 10px; }
.duty-card[open] > .duty-summary { border-bottom: 1px solid var(--line); }
.duty-name { margin: 0; font-size: 1.12rem; }
.duty-badges { display: flex; flex-wrap: wrap; gap: .35rem; margin: 0; }
.duty-badges .badge { white-space: normal; }
.duty-count { font-size: .85rem; color: var(--muted); margin-left: auto; }
.duty-fields { margin: 0; padding: 0 1rem; }
.duty-field { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 700;
              margin: .7rem 0 .25rem; }
.duty-fields dd { margin: 0; }
.duty-missing { font-style: italic; opacity: .8; }
.duty-lines { list-style: none; padding: 0; margin: 0; display: grid; gap: .45rem; }
.duty-line { border-top: 1px dashed var(--line); padding-top: .35rem; }
.duty-line:first-child { border-top: 0; padding-top: 0; }
.duty-tag { display: inline-block; font-size: .78rem; font-weight: 700; color: var(--accent); background: var(--accent-soft);
            border-radius: 4px; padding: .05rem .4rem; margin-bottom: .15rem; }
.duty-quote { margin: .2rem 0; padding: 0 0 0 .7rem; border-left: 3px solid var(--line); font-style: italic;
              line-height: 1.5; overflow-wrap: anywhere; }
.tr-ref { margin: .1rem 0 0 .7rem; font-size: .82rem; color: var(--muted); display: flex; flex-wrap: wrap; gap: .35rem;
          align-items: baseline; }
.tr-ref-n { font-weight: 700; color: var(--accent); text-decoration: none; }
.duty-sources { padding: .1rem 1rem .8rem; border-top: 1px solid var(--line); margin-top: .8rem; }
.duty-src-list { margin: 0; padding-left: 1.6rem; display: grid; gap: .3rem; font-size: .86rem; color: var(--muted); }
.duty-src-list li { scroll-margin-top: 2rem; }
.gl-sources .duty-sources { border: 1px solid var(--line); border-radius: 10px; background: var(--card); padding-top: .1rem; margin-top: 0; }
.duty-src-list li:target { background: var(--hl); border-radius: 4px; }
.tr-src { margin: .15rem 0 0 .7rem; font-size: .84rem; color: var(--muted); display: flex; flex-wrap: wrap; gap: .3rem;
          align-items: baseline; }
.tr-src-label { color: var(--ink); font-weight: 600; }
.glossary-head { margin: 1.4rem 0 .5rem; font-size: 1.25rem; color: var(--ink); }
.glossary { columns: 2 26rem; column-gap: .7rem; margin: 0; }
.gl-item { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .6rem .8rem; color: var(--ink);
           break-inside: avoid; margin: 0 0 .7rem; display: inline-block; width: 100%; box-sizing: border-box; }
.gl-term { font-weight: 700; font-size: 1.02rem; }
.gl-item dd { margin: .2rem 0 0; }
#duties p.tr-src, #duties p.tr-ref, #duties p.duty-badges { display: flex; }
#duties blockquote.duty-quote { margin: .15rem 0 0 !important; }
#duties p.tr-ref { margin: .2rem 0 0 .7rem; }
#duties .duty-fields dt { margin: .8rem 0 .2rem; }
@media (max-width: 700px) {
  .duty-summary { padding: .5rem .7rem .5rem 1.9rem; }
  .duty-summary::before { left: .6rem; }
  .duty-fields { padding: 0 .7rem; }
  .duty-sources { padding: .1rem .7rem .7rem; }
  .duty-count { margin-left: 0; }
  .glossary { columns: 1; }
}
"""
