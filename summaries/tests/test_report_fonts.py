"""The PDF report prints every script legibly: embedded fonts, shaping, right-to-left order.

Latin, Cyrillic, Greek and CJK text round-trips through text extraction (pypdf). Devanagari and
Arabic do not (their shaped glyphs map back to reordered or joined forms), so they are checked by
rendering the page to an image (pdftoppm): their glyphs differ from the box of a character no
font has, and from the same text drawn without shaping.
"""

from __future__ import annotations

import copy
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from conftest import client_for, skip_or_fail
from summaries import reports, selectors
from summaries.reports import fonts
from symptoms.tests.factories import SymptomFactory

pytestmark = pytest.mark.django_db

URL = "/api/reports/export/"
SAMPLES = {
    "latin": "Mal de tête, Kopfweh",
    "cyrillic": "Головная боль",
    "greek": "Πονοκέφαλος",
    "devanagari": "सिरदर्द",
    "arabic": "صداع نصفي",
    "chinese": "头痛",
    "japanese": "ずつう",
    "korean": "두통",
}
ROUND_TRIP = ("latin", "cyrillic", "greek", "chinese", "japanese", "korean")
COMPLEX = ("devanagari", "arabic")


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _data_with(patient, name: str) -> dict:
    SymptomFactory(patient=patient, name=name, severity=6, notes=name)
    return selectors.report_data(patient=patient, days=7)


def _renamed(data: dict, name: str) -> dict:
    """The same report data with the symptom's name and note replaced (nothing else changes)."""
    data = copy.copy(data)
    data["summary"] = [{**row, "symptom_name": name} for row in data["summary"]]
    data["symptoms"] = [{**row, "name": name, "notes": name} for row in data["symptoms"]]
    data["insight"] = None
    return data


def _first_page_image(content: bytes) -> Image.Image:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        skip_or_fail("pdftoppm is not installed (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        path.write_bytes(content)
        subprocess.run(
            [pdftoppm, "-r", "72", "-gray", "-png", "-f", "1", "-l", "1", str(path), str(Path(tmp) / "page")],
            check=True,
            timeout=60,
        )
        (png,) = Path(tmp).glob("page*.png")
        with Image.open(png) as image:
            return image.copy()


def _differs(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is not None


def test_every_font_is_embedded(patient):
    content = reports.build_health_report(data=_data_with(patient, SAMPLES["cyrillic"]))
    fonts = {}
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts
    for name, font in fonts.items():
        assert "Helvetica" not in name
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor, f"{name} is not embedded"


@pytest.mark.parametrize("script", ROUND_TRIP)
def test_text_round_trips(patient, script):
    SymptomFactory(patient=patient, name=SAMPLES[script], severity=6)
    text = pdf_text(client_for(patient).get(URL, {"days": 7}).content)
    assert SAMPLES[script] in text


@pytest.mark.parametrize("script", SAMPLES)
def test_a_font_covers_every_character(script):
    assigned = fonts.assign(SAMPLES[script])
    covered = set().union(*assigned.values())
    assert set(SAMPLES[script]) <= covered


def test_each_script_keeps_its_own_font_inside_latin_text():
    """fpdf2 shapes a font run with the script of its first letter: Devanagari inside a Latin run
    would not be reordered, so the Devanagari font prints it even though Noto Sans has it."""
    assigned = fonts.assign(f"Headache {SAMPLES['devanagari']} {SAMPLES['arabic']}")
    faces = {face.family: chars for face, chars in assigned.items()}
    assert set(SAMPLES["devanagari"]) <= faces["NotoSansDevanagari"]
    assert set(SAMPLES["arabic"]) - {" "} <= faces["NotoSansArabic"]
    assert not set(SAMPLES["devanagari"]) & faces["NotoSans"]


@pytest.mark.parametrize("script", COMPLEX)
def test_complex_scripts_render_as_glyphs_not_boxes(patient, script):
    """The same page with the text replaced by characters no font has (each drawn as the same
    box): the pages must differ, which they do not when every glyph is a box."""
    data = _data_with(patient, SAMPLES[script])
    boxes = "\ue000" * len(SAMPLES[script])
    real = _first_page_image(reports.build_health_report(data=_renamed(data, SAMPLES[script])))
    boxed = _first_page_image(reports.build_health_report(data=_renamed(data, boxes)))
    assert _differs(real, boxed)


@pytest.mark.parametrize("script", COMPLEX)
def test_complex_scripts_are_shaped(patient, script, monkeypatch):
    """Shaping reorders the Devanagari vowel sign and forms the reph, and joins the Arabic
    letters: without it the same page looks different."""
    data = _renamed(_data_with(patient, SAMPLES[script]), SAMPLES[script])
    shaped = _first_page_image(reports.build_health_report(data=data))
    real_install = fonts.install

    def install_without_shaping(pdf, texts, workdir):
        real_install(pdf, texts, workdir)
        pdf.set_text_shaping(False)

    monkeypatch.setattr(fonts, "install", install_without_shaping)
    unshaped = _first_page_image(reports.build_health_report(data=data))
    assert _differs(shaped, unshaped)
