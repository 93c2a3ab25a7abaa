"""A small renderer for the rules' guidance: headings, paragraphs, lists, inline code and fenced code blocks.

Every piece of text is escaped and only the handful of tags below is ever
produced, so a rule's docstring cannot put markup into a page. Anything else
markdown knows (emphasis, links, tables) shows as the plain text it is.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_BULLET = re.compile(r"^[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\d{1,9}[.)]\s+(.*)$")
_FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def render_inline(text: str) -> SafeString:
    """One line of text: `code` spans become <code>, everything else is escaped."""
    out: list[str] = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(escape(text[position : match.start()]))
        out.append(f"<code>{escape(match.group(2).strip())}</code>")
        position = match.end()
    out.append(escape(text[position:]))
    return mark_safe("".join(out))


class _Renderer:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.paragraph: list[str] = []
        self.list_tag = ""  # "ul" or "ol" while a list is open
        self.items: list[str] = []

    def flush(self) -> None:
        if self.paragraph:
            self.out.append(f"<p>{render_inline(' '.join(self.paragraph))}</p>")
            self.paragraph = []
        if self.items:
            body = "".join(f"<li>{render_inline(item)}</li>" for item in self.items)
            self.out.append(f"<{self.list_tag}>{body}</{self.list_tag}>")
            self.items, self.list_tag = [], ""

    def item(self, tag: str, text: str) -> None:
        if self.paragraph or (self.items and self.list_tag != tag):
            self.flush()
        self.list_tag = tag
        self.items.append(text)

    def code_block(self, language: str, lines: list[str]) -> None:
        css = f' class="language-{escape(language)}"' if language else ""
        self.out.append(f"<pre><code{css}>{escape(chr(10).join(lines))}</code></pre>")

    def render(self, text: str) -> str:
        fence: tuple[str, str] | None = None  # (the opening backticks, the language)
        code: list[str] = []
        for line in text.expandtabs(4).splitlines():
            stripped = line.strip()
            if fence is not None:
                if stripped.startswith(fence[0]) and not stripped.strip("`"):
                    self.code_block(fence[1], code)
                    fence, code = None, []
                else:
                    code.append(line)
                continue
            opening = _FENCE.match(stripped)
            heading = _HEADING.match(stripped)
            bullet = _BULLET.match(stripped)
            numbered = _NUMBERED.match(stripped)
            if opening:
                self.flush()
                fence = (opening.group(1), opening.group(2))
            elif heading:
                self.flush()
                level, title = len(heading.group(1)), heading.group(2)
                anchor = slugify(title)
                attribute = f' id="{anchor}"' if anchor else ""
                self.out.append(f"<h{level}{attribute}>{render_inline(title)}</h{level}>")
            elif bullet:
                self.item("ul", bullet.group(1))
            elif numbered:
                self.item("ol", numbered.group(1))
            elif not stripped:
                self.flush()
            elif self.items and line[:1].isspace():
                self.items[-1] += " " + stripped
            else:
                if self.items:
                    self.flush()
                self.paragraph.append(stripped)
        if fence is not None:
            self.code_block(fence[1], code)
        self.flush()
        return "\n".join(self.out)


def render(text: str) -> SafeString:
    """The markdown as HTML; safe to put in a page as it is."""
    return mark_safe(_Renderer().render(text))
