"""The media files the sandbox ships: small, real files of the type their name says, readable by the media pipeline's
own checks (type from bytes, images decoded by Pillow)."""

from __future__ import annotations

import io

import pytest

from switchboard.inbox import media
from switchboard.sandbox import demo_files

EXPECTED = {
    "kitchen.jpg": ("image/jpeg", "image"),
    "living-room.jpg": ("image/jpeg", "image"),
    "bedroom.jpg": ("image/jpeg", "image"),
    "terrace.jpg": ("image/jpeg", "image"),
    "facade.png": ("image/png", "image"),
    "walkthrough.gif": ("image/gif", "image"),
    "sticker.webp": ("image/webp", "sticker"),
    "floorplan.pdf": ("application/pdf", "document"),
    "voice-note.wav": ("audio/wav", "audio"),
}


def test_every_generated_file_is_shipped_and_nothing_else():
    shipped = {path.name for path in demo_files.DEMO_MEDIA.iterdir() if path.is_file()}
    assert shipped == demo_files.names() == set(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_each_file_is_small_and_what_its_name_says(name, expected):
    mime, kind = expected
    data = (demo_files.DEMO_MEDIA / name).read_bytes()
    assert 500 < len(data) < 50 * 1024
    inspected = media.media_inspect(io.BytesIO(data), kind=kind)
    assert inspected.detected.mime == mime
    if kind in ("image", "sticker"):
        assert inspected.image is not None and inspected.image.width >= 128


def test_media_ids_name_only_shipped_files():
    assert demo_files.file_for("sandbox:kitchen.jpg") == demo_files.DEMO_MEDIA / "kitchen.jpg"
    for media_id in ("sandbox:../apps.py", "sandbox:", "kitchen.jpg", "sandbox:/etc/passwd", "1234567890"):
        assert demo_files.file_for(media_id) is None


def test_the_generators_make_the_same_kind_of_file_again(tmp_path):
    sizes = demo_files.write_all(tmp_path)
    for name, size in sizes.items():
        fresh = (tmp_path / name).read_bytes()
        assert media.detect_type(fresh[:64]).mime == EXPECTED[name][0] and size == len(fresh)
