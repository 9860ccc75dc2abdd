"""SECS-II messages: names, the W-bit rule, and SML as the wire log writes it."""

from __future__ import annotations

import pytest

from packline.drivers.secs.items import BOOLEAN, F8, I2, U4, A, B, J, L
from packline.drivers.secs.messages import SecsMessage, sml


def test_a_message_renders_as_sml() -> None:
    message = SecsMessage(1, 3, L(U4(1001, 1002), A("ok"), L()), reply_expected=True)
    assert message.name == "S1F3"
    assert message.is_primary
    assert message.sml() == ('S1F3 W\n<L [3]\n  <U4 1001 1002>\n  <A "ok">\n  <L [0]>\n> .')


def test_a_header_only_message_renders_on_one_line() -> None:
    assert SecsMessage(1, 1, reply_expected=True).sml() == "S1F1 W ."
    assert SecsMessage(1, 2).sml() == "S1F2 ."


@pytest.mark.parametrize(
    ("item", "text"),
    [
        (A('say "hi"\r'), '<A "say " 0x22 "hi" 0x22 0x0D>'),
        (A(""), "<A>"),
        (J("ｱ"), '<J "ｱ">'),
        (B(b"\x00\xff"), "<B 0x00 0xFF>"),
        (BOOLEAN(True, False), "<BOOLEAN TRUE FALSE>"),
        (F8(2.5, -1.0), "<F8 2.5 -1.0>"),
        (I2(), "<I2>"),
    ],
)
def test_items_render_as_sml(item, text: str) -> None:
    assert sml(item) == text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((128, 1), "stream must be 0..127, got 128"),
        ((1, 256), "function must be 0..255, got 256"),
        (("1", 1), "stream must be an integer"),
        ((1, 1, b"\x00"), "S1F1: the body must be an Item or None"),
    ],
)
def test_a_malformed_message_is_refused(arguments: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SecsMessage(*arguments)


def test_only_a_primary_message_expects_a_reply() -> None:
    with pytest.raises(ValueError, match="S1F2: only a primary"):
        SecsMessage(1, 2, reply_expected=True)
