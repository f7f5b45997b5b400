"""Email templates: one sandboxed Jinja2 configuration rendering ``<folder>/<language>/<name>.j2``.

Each template defines (itself or through ``{% extends %}``) three blocks: ``subject``, ``text`` and
``html``. Templates are written by policy administrators and fed complaint text written by anyone, so:

* every template runs in Jinja2's ``SandboxedEnvironment`` (no ``__class__``/``_private`` access, no
  unsafe callables) with ``StrictUndefined`` (a misspelt variable fails instead of vanishing);
* the ``html`` block is rendered with autoescaping, so ``<script>`` in a complaint subject arrives as
  ``&lt;script&gt;``;
* ``subject`` and ``text`` are rendered by a twin environment with the *same* loader, sandbox and
  settings but autoescaping off. We chose the twin over asking authors to wrap text blocks in
  ``{% autoescape false %}``: authors cannot forget it, and ``&amp;`` never leaks into a plain-text
  part. Text parts are never interpreted as HTML, so escaping them protects nothing;
* the subject is then collapsed to one line (``headers.single_line``): a CR/LF from user input can never
  reach the Subject header. The ``oneline`` filter does the same for user text inside the body.

Both environments use ``trim_blocks`` and ``lstrip_blocks``, so a ``{% if %}`` on its own line leaves no
blank line or indentation behind; runs of blank lines in the text part are collapsed to one.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2.sandbox import SandboxedEnvironment

from notifiers.errors import TemplateFailed, TemplateMissing
from notifiers.headers import single_line
from notifiers.outbound.context import CONTEXT_KEYS

BLOCKS = ("subject", "text", "html")
# Template names and languages become path segments: allow nothing that could climb out of the folder.
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")
# Conditional sections leave blank lines behind; more than one in a row is never intended in a text part.
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


@dataclass(frozen=True)
class RenderedEmail:
    """A rendered template: a one-line subject, the plain-text part and the HTML part."""

    subject: str
    text: str
    html: str


def oneline(value: object) -> str:
    """The ``oneline`` filter: a value on one line (``None`` becomes ""), for user text such as a
    complaint subject shown inside a line of the body."""
    return "" if value is None else single_line(str(value))


def _environment(loader: FileSystemLoader, *, autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=loader,
        autoescape=autoescape,
        undefined=StrictUndefined,
        # Block tags on their own line leave no stray newline or indentation behind.
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["oneline"] = oneline
    return env


class TemplateStore:
    """The templates in one folder (``<folder>/<language>/<name>.j2``), rendered safely."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        loader = FileSystemLoader(folder, encoding="utf-8")
        self._html = _environment(loader, autoescape=True)
        self._text = _environment(loader, autoescape=False)

    def path(self, name: str, language: str) -> Path:
        """Where template ``name`` in ``language`` lives (whether or not it exists)."""
        return self.folder / language / f"{name}.j2"

    def available(self, name: str, language: str) -> bool:
        """Whether template ``name`` exists in ``language``."""
        return _valid(name, language) and self.path(name, language).is_file()

    def pick_language(self, name: str, wanted: str | None, fallback: str) -> str:
        """The recipient's language when the template exists in it, else the policy's language."""
        if wanted and self.available(name, wanted):
            return wanted
        return fallback

    def render(self, name: str, language: str, context: Mapping[str, object]) -> RenderedEmail:
        """Render template ``name`` in ``language``; ``context`` must hold every ``TemplateContext`` key.

        Raises ``TemplateMissing`` (naming the expected path) or ``TemplateFailed``.
        """
        path = self.path(name, language)
        if not self.available(name, language):
            raise TemplateMissing(f"no {language} template {name!r}: expected {path}")
        missing = sorted(CONTEXT_KEYS - context.keys())
        if missing:
            raise TemplateFailed(f"cannot render {path}: the context lacks {', '.join(missing)}")
        template_name = f"{language}/{name}.j2"
        text = self._render(self._text, template_name, path, context, ("subject", "text"))
        html = self._render(self._html, template_name, path, context, ("html",))
        return RenderedEmail(
            subject=single_line(text["subject"]),
            text=_BLANK_LINES.sub("\n\n", text["text"]).strip() + "\n",
            html=html["html"].strip() + "\n",
        )

    def _render(
        self,
        env: SandboxedEnvironment,
        template_name: str,
        path: Path,
        context: Mapping[str, object],
        blocks: tuple[str, ...],
    ) -> dict[str, str]:
        try:
            template = env.get_template(template_name)
            return _render_blocks(template, context, blocks, path)
        except TemplateNotFound as exc:
            # The template itself exists (checked by the caller): what is missing is one it extends,
            # includes or imports.
            raise TemplateMissing(f"{path} uses {exc.name!r}, which does not exist in {self.folder}") from exc
        except TemplateSyntaxError as exc:
            where = f"{exc.filename or path}:{exc.lineno}"
            raise TemplateFailed(f"{where}: {exc.message}") from exc
        except TemplateError as exc:
            # UndefinedError, SecurityError (sandbox) and other runtime template errors.
            raise TemplateFailed(f"cannot render {path}: {type(exc).__name__}: {exc}") from exc


def _render_blocks(
    template: Template, context: Mapping[str, object], blocks: tuple[str, ...], path: Path
) -> dict[str, str]:
    """Render the named blocks of ``template``, honouring ``{% extends %}``.

    Jinja has no public call for "render one block of an inheriting template". Running the template's
    root once (its output discarded) lets Jinja's own ``{% extends %}`` register the parent blocks and
    run top-level ``{% import %}``/``{% set %}`` in the context, exactly as a full render would; each
    block is then rendered from that context, so ``super()`` and ``self.<block>()`` work as usual.
    """
    ctx = template.new_context(dict(context))
    for _ in template.root_render_func(ctx):
        pass
    rendered: dict[str, str] = {}
    for block in blocks:
        functions = ctx.blocks.get(block)
        if not functions:
            needed = ", ".join(BLOCKS)
            raise TemplateFailed(f"{path} defines no {block!r} block (every template needs {needed})")
        rendered[block] = "".join(functions[0](ctx))
    return rendered


def _valid(name: str, language: str) -> bool:
    return bool(_SEGMENT.match(name) and _SEGMENT.match(language))
