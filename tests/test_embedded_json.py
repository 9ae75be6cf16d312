"""JSON inside a page's <script> element (the compare view's data) is written by Jinja's `tojson` with
the site's settings: it cannot end the element early, and it reads back as the data exactly."""

from __future__ import annotations

import json
import math

import pytest

from effbench.render import template_environment

BLOCK = '<script type="application/json" id="data">{{ data | tojson }}</script>'


def test_a_hostile_name_stays_inside_the_script_element_and_reads_back_exactly():
    data = {"models": [{"name": "</script><script>alert(1)</script>"}, {"name": "a & b's <!-- model -->"},
                       {"name": "Yi-6B 🚀 \u2028"}], "rank": "2 (2–3)", "score": 0.5}
    html = template_environment().from_string(BLOCK).render(data=data)
    inside = html.removeprefix('<script type="application/json" id="data">').removesuffix("</script>")
    assert "<" not in inside and ">" not in inside and "&" not in inside
    assert inside.isascii()  # a raw U+2028 would end a line of script in older browsers
    assert json.loads(inside) == data
    assert '"score":0.5' in inside  # compact, in the data's own key order


def test_a_value_json_cannot_hold_is_refused_rather_than_written():
    with pytest.raises(ValueError):
        template_environment().from_string(BLOCK).render(data={"score": math.nan})

