"""Language of a page: the tag it declares when that is a real language, otherwise detected from its text.

Input: the declared values (html lang, xml:lang, JSON-LD inLanguage, Content-Language and
og:locale metas), the title and a sample of the page's text. Output: the primary language
subtag, lowercase ("en", "zh", "pt"): a valid BCP 47 tag on its own, and the contract the store
and `query --lang` already keep (`--lang en` matches "en" and "en-*"; facets count "en" once
rather than "en", "en-US" and "en-GB" apart; authors and dates compare it with "zh" and "en").
Detection is py3langid (langid.py's model, offline, from the wheel), loaded on first use.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# ISO 639-1: every two-letter primary language subtag (BCP 47 takes these first).
_ISO_639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv"
    " dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig"
    " ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh"
    " mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru"
    " rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug"
    " uk ur uz ve vi vo wa wo xh yi yo za zh zu"
)
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
# Three-letter subtags of languages without a two-letter one that pages declare; any other
# three-letter value ("utf" from content="utf-8") is not a language.
_ISO_639_3_CODES = (
    "ast ceb ckb fil gsw haw hsb dsb kab nds sco yue nan hak wuu arz ary apc kok mai sat mni crh szl"
    " vec scn lij lmo pms nap frr"
)
ISO_639_3 = frozenset(_ISO_639_3_CODES.split())
# Deprecated subtags BCP 47 replaced (IANA registry "Preferred-Value").
DEPRECATED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
# One subtag after the primary one: script, region, variant or extension, 1 to 8 letters or digits.
SUBTAG_RE = re.compile(r"[a-z0-9]{1,8}")
# Where a Content-Language list or an og:locale splits: "en-US, fr", "en_US".
TAG_SPLIT_RE = re.compile(r"[,;\s]")
# CJK letters: a title written in them contradicts a declared non-CJK language (templates keep
# lang="en": 2 of 6 cwced-zh-dev and 2 of 12 gne-zh pages that declare a language are Chinese under "en").
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
CJK_LANGUAGES = frozenset(("zh", "ja", "ko", "yue", "wuu", "nan", "hak"))
# Share of a title's letters in CJK scripts above which the title is CJK text.
CJK_TITLE_SHARE = 0.3
# Detection reads at most this many UTF-8 bytes of the page's text (py3langid counts byte n-grams):
# on the dev sets 2,000 agree with the declared language as often as 5,000 (within 0.5%), at 1.4 ms
# a page (py3langid 0.3.0). Counted in characters, a CJK page cost three times that: 7 ms.
SAMPLE_BYTES = 2000
# Fewer letters than this say nothing about a language (an empty page, a gallery); ten CJK
# characters are a sentence.
MIN_LETTERS = 10


def declared_language(values: list[Any], title: str | None) -> str | None:
    """The first declared value that is a BCP 47 tag of a known language, as its primary subtag.

    A CJK title under a non-CJK declaration means the template's default was never changed:
    the declaration is ignored and the caller detects.
    """
    for value in values:
        if isinstance(value, str) and (primary := primary_subtag(value)):
            if primary not in CJK_LANGUAGES and _cjk_share(title or "") > CJK_TITLE_SHARE:
                return None
            return primary
    return None


def primary_subtag(value: str) -> str | None:
    """The primary language subtag of a BCP 47 tag ("en_US" and "EN-us" give "en"); None if not one."""
    first = TAG_SPLIT_RE.split(value.strip().lower(), maxsplit=1)[0]
    primary, *rest = first.replace("_", "-").split("-")
    primary = DEPRECATED.get(primary, primary)
    if primary not in ISO_639_1 and primary not in ISO_639_3:
        return None
    return primary if all(SUBTAG_RE.fullmatch(sub) for sub in rest) else None


def detect_language(text: str) -> str | None:
    """The language py3langid finds likeliest for the start of the text, or None for too few letters."""
    sample = text[:SAMPLE_BYTES].encode()[:SAMPLE_BYTES].decode(errors="ignore")
    if sum(c.isalpha() for c in sample) < MIN_LETTERS:
        return None
    model = _identifier()
    # py3langid's classify() multiplies the whole 7,480 x 97 model with the feature vector, casting
    # it to float64 each call (5.8 ms); the few hundred features a sample has give the same argmax.
    counts = model.instance2fv(sample)
    present = counts.nonzero()[0]
    scores = counts[present].astype("float64") @ model.nb_ptc[present] + model.nb_pc
    code: str = model.nb_classes[int(scores.argmax())]
    return DEPRECATED.get(code, code)


def _cjk_share(text: str) -> float:
    letters = sum(c.isalpha() for c in text)
    return len(CJK_RE.findall(text)) / letters if letters else 0.0


@cache
def _identifier() -> Any:
    """py3langid's model, loaded once per process (0.07 s, about 30 MB)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_pickled_model(MODEL_FILE)
