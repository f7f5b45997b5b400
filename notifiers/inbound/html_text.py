"""HTML mail bodies as plain text, with the standard library's ``html.parser``.

The result is text, never markup: tags are dropped, entities decoded, and script, style and other
non-content elements are dropped with everything inside them. Block elements and ``<br>`` become line
breaks so paragraphs survive; other whitespace collapses as a browser would show it, except inside
``<pre>``. Whatever page renders the text later escapes it like any other complaint text.
"""

import re
from html.parser import HTMLParser

# Elements whose content is not readable text (and for <title>, not part of the message).
_DROPPED = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "math", "object"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "area", "base", "col", "embed"})
_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "aside", "nav", "main", "blockquote",
        "pre", "table", "tr", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "address", "figure", "figcaption", "form", "fieldset", "details", "summary", "center",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\n\r\f]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropped: list[str] = []  # open dropped elements, innermost last
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED and tag not in _VOID:
            self._dropped.append(tag)
        elif self._dropped:
            return
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in {"td", "th"}:
            self.parts.append(" ")
        elif tag in _BLOCKS:
            if tag == "pre":
                self._pre += 1
            self.parts.append("\n\n" if tag in {"p", "blockquote", "pre", "table"} else "\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <hr/>: a self-closing tag opens nothing, so a dropped one must not swallow the rest.
        if not self._dropped and tag in {"br", "hr"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._dropped:
            if tag in self._dropped:
                # Close it and anything left open inside it (HTML in mail is rarely well formed).
                del self._dropped[len(self._dropped) - 1 - self._dropped[::-1].index(tag) :]
            return
        if tag in _BLOCKS:
            if tag == "pre" and self._pre:
                self._pre -= 1
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._dropped:
            return
        self.parts.append(data if self._pre else _SPACES.sub(" ", data))


def html_to_text(html: str) -> str:
    """The readable text of an HTML document or fragment; never raises on malformed markup."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [line.strip(" ") for line in "".join(extractor.parts).replace("\xa0", " ").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")
