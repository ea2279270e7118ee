"""User templates that fail: one line naming the template, never a traceback (issue 8 §1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relkit.core.errors import EXIT_FAILED, RelkitError
from relkit.history.templating import TemplateRenderer
from tests.hypothesis_profiles import property_settings


def _render(tmp_path: Path, source: str | bytes, **context: object) -> str:
    path = tmp_path / "t.md.j2"
    if isinstance(source, bytes):
        path.write_bytes(source)
    else:
        path.write_text(source, encoding="utf-8")
    return TemplateRenderer(tmp_path).render("t.md.j2", context)


def _error(tmp_path: Path, source: str | bytes) -> str:
    with pytest.raises(RelkitError) as info:
        _render(tmp_path, source)
    assert info.value.exit_code == EXIT_FAILED
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("template t.md.j2: ")
    return str(info.value)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a\n{{ 1/0 }}\n", "line 2: ZeroDivisionError: division by zero"),
        ('{{ "%d" % "x" }}', "TypeError: %d format: a real number is required, not str"),
        ("{% for i in range(10**9) %}{% endfor %}", "argument 1000000000 too large"),
        ("{{ [1][5] }}", "line 1: list object has no element 5"),
        ("{{ {}.x.y }}", "'dict object' has no attribute 'x'"),
        ("{{ ''.__class__ }}", "is unsafe"),  # the sandbox still holds
        ("{% for x in %}", "line 1: TemplateSyntaxError"),
        ("{{ 'x' * 10**9 }}", "too large"),
        ("{{ 10 ** 99999999 }}", "power result too large"),
        ("{{ '%999999999d' % 1 }}", "too large"),
        ("{{ 'x'.ljust(10**9) }}", "too large"),
        ("{{ '{:>999999999}'.format(1) }}", "too large"),
        ("{{ 'x' | center(10**9) }}", "too large"),
        ("{{ [1] | batch(10**9, 0) | list }}", "too large"),
        (
            "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
            "more than 1000000 range() items",
        ),
        (
            "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
            "more than 1000000 range() items",
        ),
        (
            "{% for i in range(2000) %}{{ 'y' * 1000000 }}{% endfor %}",
            "output larger than",
        ),
    ],
)
def test_failing_template_is_one_line(tmp_path: Path, source: str, message: str) -> None:
    assert message in _error(tmp_path, source)


def test_non_utf8_template(tmp_path: Path) -> None:
    error = _error(tmp_path, b"caf\xe9 {{ 1 }}\n")
    assert error == "template t.md.j2: not UTF-8 text (byte 0xe9 at offset 3)" + (
        " (hint: check the template in your template directory)"
    )


def test_error_in_an_included_template_names_it(tmp_path: Path) -> None:
    (tmp_path / "_part.md.j2").write_text("ok\n\n{{ 1 // 0 }}\n")
    error = _error(tmp_path, '{% include "_part.md.j2" %}')
    assert "_part.md.j2 line 3: ZeroDivisionError" in error


def test_ordinary_templates_still_render(tmp_path: Path) -> None:
    source = (
        "{% for i in range(3) %}{{ i }}{% endfor %} {{ '%05d' % 42 }} {{ '-' * 3 }}"
        " {{ 2 ** 10 }} {{ 'x'|center(5) }}|{{ '{:>4}'.format(7) }}"
    )
    assert _render(tmp_path, source) == "012 00042 --- 1024   x  |   7"


def test_shipped_templates_render_many_releases() -> None:
    # The shipped changelog template on a large input stays far under the caps.
    renderer = TemplateRenderer()
    text = renderer.render("_macros.md.j2", {})
    assert isinstance(text, str)


@property_settings(150)
@given(
    st.lists(
        st.sampled_from(
            [
                "{{ ",
                " }}",
                "{% for i in range(5) %}",
                "{% endfor %}",
                "{% if x %}",
                "{% endif %}",
                "x",
                "1",
                "/",
                "0",
                "*",
                "%",
                "'s'",
                "|",
                "upper",
                "(",
                ")",
                "[",
                "]",
                ".",
                "__class__",
                "\n",
                "é",
            ]
        ),
        max_size=20,
    ).map("".join)
)
def test_any_template_renders_or_fails_in_one_line(
    tmp_path_factory: pytest.TempPathFactory, source: str
) -> None:
    tmp_path = tmp_path_factory.mktemp("t")
    try:
        _render(tmp_path, source, x=1)
    except RelkitError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith("template t.md.j2: ")


def test_loop_and_module_attributes_read_as_the_sandbox_reads_them(tmp_path: Path) -> None:
    (tmp_path / "_m.md.j2").write_text("{% macro hi(n) %}hi {{ n }}{% endmacro %}")
    source = (
        '{% import "_m.md.j2" as m %}'
        "{% for x in [1, 2, 3] %}{{ loop.index }}{{ ',' if not loop.last }}{% endfor %}"
        " {{ m.hi(7) }} {{ m.nothing is undefined }} {{ m.hi(n=8) }}"
    )
    assert _render(tmp_path, source) == "1,2,3 hi 7 True hi 8"


@pytest.mark.parametrize(
    "source",
    [
        "{% for x in [1] %}{{ loop._iterator }}{% endfor %}",
        '{% import "_m.md.j2" as m %}{{ m.__class__ }}',
        '{% import "_m.md.j2" as m %}{{ m._body_stream }}',
    ],
)
def test_private_loop_and_module_attributes_stay_refused(tmp_path: Path, source: str) -> None:
    (tmp_path / "_m.md.j2").write_text("{% macro hi() %}hi{% endmacro %}")
    assert "unsafe" in _error(tmp_path, source)


@pytest.mark.parametrize("read", ["{{ d['k'] }}", "{{ f() }}", "{{ loop.last }}"])
def test_key_reads_macro_calls_and_loop_attributes_count_against_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read: str
) -> None:
    # No time left: the first budget check fails the render. Inside a macro the loop's output
    # is one chunk, so only the reads themselves can reach a check (one per 1,024 ticks).
    monkeypatch.setattr("relkit.history.templating.MAX_RENDER_SECONDS", -1.0)
    source = (
        "{% macro f() %}{% endmacro %}"
        "{% macro g() %}{% for i in range(1100) %}" + read + "{% endfor %}{% endmacro %}{{ g() }}"
    )
    with pytest.raises(RelkitError, match="rendering took longer than"):
        _render(tmp_path, source, d={"k": ""})
