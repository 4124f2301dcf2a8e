"""Staff's templates are untrusted: every rendering is bounded in time and size."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from gt_registry.errors import TemplateFailure
from gt_registry.rendering import Limits, load_template, render

TIGHT = Limits(seconds=0.5, chars=10_000)


def template(tmp_path: Path, body: str):  # type: ignore[no-untyped-def]
    (tmp_path / "t.eml.j2").write_text(body, encoding="utf-8")
    return load_template((tmp_path,), "t.eml.j2")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ 'x' * 10**9 }}", "dépasse 10 000 caractères"),
        ("{{ [1, 2] * 10**9 }}", "dépasse 10 000 caractères"),
        ("{{ 10**9 * 'ab' }}", "dépasse 10 000 caractères"),
        ("{{ 2 ** 100000000 }}", "puissance trop grande"),
        ("{% for i in range(100000) %}{{ 'xy' }}{% endfor %}", "dépasse 10 000 caractères"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "dépasse 0.5 s",
        ),
        ("{% macro f() %}{{ f() }}{% endmacro %}\n{{ f() }}", "appels récursifs sans fin"),
        ("{{ 'x'|center(10**9)|length }}", "largeur ou taille demandée trop grande"),
        ("{{ 'x'|center(1000000000)|length }}", "largeur ou taille demandée trop grande"),
        ("{{ 'x'|indent(10**9) }}", "largeur ou taille demandée trop grande"),
        ("{{ '%1000000000s'|format(1)|length }}", "largeur ou taille demandée trop grande"),
        ("{{ 'x'.rjust(10**9)|length }}", "largeur ou taille demandée trop grande"),
        ("{{ '{:>999999999}'.format(1)|length }}", "largeur ou taille demandée trop grande"),
    ],
    ids=[
        "str-times",
        "list-times",
        "times-str",
        "power",
        "output",
        "loop",
        "recursion",
        "center",
        "center-literal",
        "indent",
        "format-filter",
        "rjust",
        "str-format",
    ],
)
def test_runaway_templates_stop_with_the_template_and_the_person(
    tmp_path: Path, body: str, message: str
) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateFailure) as caught:
        render(template(tmp_path, body), {}, "Anne Aubert (P-1)", TIGHT)
    assert time.monotonic() - started < 10
    text = str(caught.value)
    assert text.startswith(str(tmp_path / "t.eml.j2"))
    assert "limite dépassée dans le modèle (pour Anne Aubert (P-1))" in text
    assert message in text
    assert "rien n'a été écrit" in text


def test_the_line_is_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateFailure, match=r"t\.eml\.j2, ligne 3 :"):
        render(template(tmp_path, "Subject: x\n\n{{ 'x' * 10**9 }}\n"), {}, "P-1", TIGHT)


def test_an_ordinary_template_is_not_bothered(tmp_path: Path) -> None:
    body = "{% for i in range(50) %}{{ name * 2 }} {{ i + 1 }}\n{% endfor %}"
    out = render(template(tmp_path, body), {"name": "Anne"}, "P-1", TIGHT)
    assert out.count("AnneAnne") == 50 and out.endswith("50\n")
