"""Choosing a page's language: ``?lang=`` first (remembered in a cookie), then the cookie, then
Accept-Language, then the policy's own language."""

from fastapi import Request, Response

LANGUAGES = ("ja", "zh", "en")
COOKIE = "cf_lang"
_YEAR = 365 * 24 * 3600


def _supported(tag: str | None) -> str | None:
    # "zh-Hant-TW" and "ja-JP" count as zh and ja: the pages have one text per language.
    base = (tag or "").strip().lower().split("-")[0].split("_")[0]
    return base if base in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (q-values honoured, ties keep header order)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = _supported(tag)
        if language and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def choose(request: Request, fallback: str = "en") -> str:
    return (
        _supported(request.query_params.get("lang"))
        or _supported(request.cookies.get(COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
        or _supported(fallback)
        or "en"
    )


def remember(request: Request, response: Response, language: str) -> None:
    """Keep an explicit ``?lang=`` choice for the following pages (the form's POST, the receipt)."""
    if _supported(request.query_params.get("lang")) == language:
        response.set_cookie(COOKIE, language, max_age=_YEAR, httponly=True, samesite="lax")
