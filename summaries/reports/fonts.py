"""Embedded fonts for the PDF report: Noto Sans for Latin, Cyrillic and Greek, Noto Sans
Devanagari, Noto Sans Arabic, Noto Sans SC (Chinese and Japanese kana) and Noto Sans KR
(Hangul), all installed from PyPI as Python packages (``fontpkg-noto-*``,
``justmytype-intl-cjk``), so ``pip install -r requirements.txt`` is the whole setup.

fpdf2 shapes the text with HarfBuzz (``uharfbuzz``) when the document has a script that needs
it, lays out right-to-left runs and takes a glyph missing from the main font from the first
fallback font that has it. Each script keeps its
own font: fpdf2 shapes one font run at a time with the script of its first letter, so Devanagari
inside a Latin run would not be reordered; the Latin font therefore never carries the characters
a script font claims.

The font files are variable fonts (the CJK ones default to their thinnest weight) of up to 17 MB.
For each document only the characters it prints are kept (fontTools subsetting, with the glyphs
that shaping reaches), fixed at the regular weight where that is not the default; the result is
a few kilobytes per font and script, kept in a small in-process cache.
"""

from __future__ import annotations

import functools
import io
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer
from fpdf import FPDF

REGULAR, BOLD = 400, 700
logging.getLogger("fontTools").setLevel(logging.WARNING)  # it reports every table it subsets at INFO


@dataclass(frozen=True)
class Face:
    family: str
    package: str
    path: str  # inside the package
    # Code point ranges this font takes even when the Latin font has them too (its script).
    claims: tuple[tuple[int, int], ...] = ()


MAIN = Face("NotoSans", "fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf")
FALLBACKS = (
    Face(
        "NotoSansDevanagari",
        "fontpkg_noto_sans_devanagari",
        "files/NotoSansDevanagari[wdth,wght].ttf",
        claims=((0x0900, 0x097F), (0x1CD0, 0x1CFF), (0xA8E0, 0xA8FF)),
    ),
    Face(
        "NotoSansArabic",
        "fontpkg_noto_sans_arabic",
        "files/NotoSansArabic[wdth,wght].ttf",
        claims=((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    ),
    Face("NotoSansSC", "justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"),
    Face("NotoSansKR", "justmytype_intl_cjk", "fonts/ofl/notosanskr/NotoSansKR[wght].ttf"),
)
FACES = (MAIN, *FALLBACKS)
# Always in the main font: what the report's own words and numbers use.
BASE_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) | frozenset("–—·•…→×°’“”‘é")


# Scripts whose letters change shape or order (or join) with their neighbours, and combining
# marks: only text with these needs HarfBuzz. Latin, Cyrillic, Greek and CJK print correctly
# glyph by glyph, and fpdf2 breaks lines several times faster without shaping.
COMPLEX_RANGES = (
    (0x0300, 0x036F),  # combining diacritical marks
    (0x0590, 0x08FF),  # Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic
    (0x0900, 0x0DFF),  # Devanagari and the other Indic scripts, Sinhala
    (0x0E00, 0x109F),  # Thai, Lao, Tibetan, Myanmar
    (0x1100, 0x11FF),  # Hangul conjoining jamo
    (0x1780, 0x17FF),  # Khmer
    (0x1CD0, 0x1CFF),  # Vedic extensions
    (0xA8E0, 0xA8FF),  # Devanagari extended
    (0xFB1D, 0xFDFF),  # Hebrew and Arabic presentation forms
    (0xFE70, 0xFEFF),  # Arabic presentation forms B
)


def needs_shaping(chars: Iterable[str]) -> bool:
    return any(low <= ord(char) <= high for char in chars for low, high in COMPLEX_RANGES)


def font_path(face: Face) -> Path:
    return Path(str(files(face.package) / face.path))


@functools.cache
def _coverage(face: Face) -> frozenset[int]:
    return frozenset(TTFont(font_path(face), lazy=True).getBestCmap())


def _claimed(code: int) -> Face | None:
    for face in FALLBACKS:
        if any(low <= code <= high for low, high in face.claims):
            return face
    return None


def assign(chars: Iterable[str]) -> dict[Face, frozenset[str]]:
    """Which font prints each character: a script font for its own script, else the main font,
    else the first fallback that has it. Characters no font has are left out (fpdf2 then prints
    its .notdef box for them, and the test of coverage below says so)."""
    chosen: dict[Face, set[str]] = {face: set() for face in FACES}
    for char in set(chars) | BASE_CHARS:
        code = ord(char)
        claimed = _claimed(code)
        if claimed is not None and code in _coverage(claimed):
            chosen[claimed].add(char)
            continue
        face = next((f for f in FACES if code in _coverage(f)), None)
        if face is not None:
            chosen[face].add(char)
    return {face: frozenset(chars) for face, chars in chosen.items() if chars}


@functools.lru_cache(maxsize=32)
def _static_subset(face: Face, chars: frozenset[str], weight: int) -> bytes:
    """``face`` holding only ``chars`` (and the glyphs that shaping them can reach), fixed at
    ``weight`` unless that is already its default, as TrueType bytes."""
    font = TTFont(font_path(face), lazy=True, recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = ["*"]  # every shaping feature of the kept glyphs
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in chars))
    subsetter.subset(font)
    axes = {axis.axisTag: axis.defaultValue for axis in font["fvar"].axes}
    if axes.get("wght") != weight:
        axes["wght"] = weight
        instancer.instantiateVariableFont(font, axes, inplace=True, static=True, updateFontNames=True)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def install(pdf: FPDF, texts: Iterable[str], workdir: str) -> None:
    """Add the fonts ``texts`` need to ``pdf``, turn on shaping when they need it, and make
    ``MAIN`` the current family. The report's own words are the only bold text: ``MAIN`` has a bold style (with
    ``BASE_CHARS``), the fallbacks a regular one, which bold text may borrow. fpdf2 reads font
    files from disk: they are written under ``workdir``, which must live until ``pdf.output()``."""
    chars = set()
    for text in texts:
        chars.update(text)
    fallbacks = []
    for face, face_chars in assign(chars).items():
        styles = [("", face_chars, REGULAR)]
        if face is MAIN:
            styles.append(("B", BASE_CHARS, BOLD))
        else:
            fallbacks.append(face.family)
        for style, style_chars, weight in styles:
            path = Path(workdir) / f"{face.family}{style}.ttf"
            path.write_bytes(_static_subset(face, style_chars, weight))
            pdf.add_font(face.family, style, path)
    pdf.set_fallback_fonts(fallbacks, exact_match=False)
    pdf.set_text_shaping(needs_shaping(chars))
    pdf.set_font(MAIN.family)


def workdir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="meditrack-report-")
