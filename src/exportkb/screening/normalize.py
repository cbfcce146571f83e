"""Names as comparable tokens: Unicode, case, punctuation, invisible characters and homoglyphs,
legal forms, Chinese and Cyrillic romanisations — each step recorded for the explanation.

Why each step, and whose table it uses:

* NFKC and the removal of format characters (Unicode category Cf: zero-width space/joiner,
  soft hyphen, bidi marks) — a name pasted from a web page or crafted to evade a screen.
* Homoglyphs: in a mostly-Latin name, Cyrillic and Greek letters that look like Latin ones
  (Unicode TR39 confusables for these two scripts, the table :data:`CONFUSABLES`) are read as the
  Latin letter, not transliterated ("Сеtс" with Cyrillic С and е is "Cetc", not "Setc").
* Scripts: Han through pypinyin (one token per syllable), Cyrillic through iuliia's Wikipedia
  scheme, anything else through anyascii (ISC; unidecode is GPL and not used).
* Legal forms: fingerprints' table of company types (ISO 20275 and more: "Company Limited" ≡
  "Co., Ltd." → ``co ltd``, "Joint Stock Company" ≡ "JSC" → ``ao``), applied at the ends of a
  name only, because several short forms ("an", "yu", "as") are also words and pinyin syllables.
* Romanisations: pypinyin's pinyin→Wade-Giles conversion, inverted, gives each Wade-Giles
  syllable its pinyin readings ("ching" → jing/qing); the Chinese Postal Map Romanization of
  major places (Peking, Canton, Tientsin ...; :data:`POSTAL`) gives the pinyin place name; a
  Cyrillic fold derived from iuliia's schemes (х = kh/h/x, щ = shch/sch, ю = yu/iu/ju ...) gives
  the spellings of the same Russian word one key.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from .extras import need

#: Cyrillic and Greek letters confusable with Latin ones (Unicode TR39 confusables.txt, the
#: lowercase and uppercase letters of those two scripts whose prototype is a single Latin letter).
CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X",
    "У": "Y", "Ѕ": "S", "І": "I", "Ј": "J",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X",
}

#: Chinese Postal Map Romanization (1906 Imperial Postal Joint-Session Conference) of places that
#: appear in company names and old documents, with their pinyin. Source: the postal-romanisation
#: table of Wikipedia's "Chinese postal romanization" article; only well-attested forms.
POSTAL = {
    "peking": "beijing", "peiping": "beijing", "canton": "guangzhou", "tientsin": "tianjin", "chungking": "chongqing",
    "nanking": "nanjing", "amoy": "xiamen", "tsingtao": "qingdao", "tsingtau": "qingdao", "soochow": "suzhou",
    "hangchow": "hangzhou", "foochow": "fuzhou", "swatow": "shantou", "sian": "xian", "chengtu": "chengdu",
    "mukden": "shenyang", "kwangchow": "guangzhou", "kweiyang": "guiyang", "kunming": "kunming",
    "shasi": "shashi", "ningpo": "ningbo", "wuhsi": "wuxi", "chinkiang": "zhenjiang", "hankow": "hankou",
    "dairen": "dalian", "port arthur": "lushun", "kiangsu": "jiangsu", "kwangtung": "guangdong",
    "szechwan": "sichuan", "chekiang": "zhejiang", "fukien": "fujian", "hopei": "hebei", "shantung": "shandong",
    "honan": "henan", "hupeh": "hubei", "hunan": "hunan", "anhwei": "anhui", "kiangsi": "jiangxi",
    "shensi": "shaanxi", "shansi": "shanxi", "kansu": "gansu", "kwangsi": "guangxi", "yunnan": "yunnan",
    "kweichow": "guizhou", "sinkiang": "xinjiang", "tsinan": "jinan", "taiyuan": "taiyuan", "changsha": "changsha",
    "shenchen": "shenzhen", "shumchun": "shenzhen", "hofei": "hefei", "harbin": "harbin",
}

#: Spelled-out English forms that fingerprints' table lacks, with the abbreviation whose class (in that
#: table) they take: ПАО is rendered "Public Joint Stock Company" (PJSC) in Russian issuers' own English
#: filings since the 2014 reform of the Civil Code (art. 66.3); the table knows "PJSC" and "OJSC" only.
SPELLED_OUT = {"public joint stock company": "pjsc", "public joint stock co": "pjsc",
               "non public joint stock company": "ao"}

_APOSTROPHES = re.compile("['`\u2018\u2019\u02bc\u02bb\u00b4\u2032]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_CYRILLIC = re.compile("[\u0400-\u04ff]+")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@dataclass(frozen=True)
class Token:
    """One comparable token of a name.

    ``text`` is the normalised form; ``raw`` the word as written; ``alts`` other readings with the
    table row they came from (e.g. ``("jing", "Wade-Giles ching = pinyin jing")``); ``fold`` the
    Cyrillic-romanisation key; ``legal`` marks a legal-form token.
    """

    text: str
    raw: str
    legal: bool = False
    alts: tuple[tuple[str, str], ...] = ()
    fold: str = ""


@dataclass(frozen=True)
class NormName:
    """A name as tokens, with the normalisation steps applied to the whole string (for the explanation)."""

    original: str
    tokens: tuple[Token, ...]
    steps: tuple[str, ...] = ()

    @property
    def core(self) -> tuple[Token, ...]:
        """The tokens that are not legal forms."""
        return tuple(t for t in self.tokens if not t.legal)

    @property
    def key(self) -> str:
        """The core tokens joined: equal keys are a literal match after normalisation."""
        return " ".join(t.text for t in self.core)


def basic(text: str) -> str:
    """NFKC, ASCII (anyascii), casefold, apostrophes dropped, other punctuation a space: the form
    every table key is compared in."""
    if text.isascii():
        s = text.casefold()
    else:
        s = need("anyascii").anyascii(unicodedata.normalize("NFKC", text)).casefold()
    s = _APOSTROPHES.sub("", s.replace("&", " and "))
    return _NON_ALNUM.sub(" ", s).strip()


class Tables:
    """The tables built from the libraries once per process (legal forms, Wade-Giles, Cyrillic fold)."""

    def __init__(self) -> None:
        from fingerprints.types.replacer import normalize_replacements  # public function of fingerprints.types

        need("fingerprints")
        repl = normalize_replacements(lambda s: basic(s) or None)
        #: legal form (as tokens) -> its canonical form (as tokens)
        self.legal: dict[tuple[str, ...], tuple[str, ...]] = {}
        for form, main in repl.items():
            self.legal[tuple(form.split())] = tuple(main.split())
        for main in set(repl.values()):
            self.legal.setdefault(tuple(main.split()), tuple(main.split()))
        for form, abbreviation in SPELLED_OUT.items():  # onto fingerprints' class of the abbreviation
            canon = self.legal.get(tuple(abbreviation.split()))
            if canon is not None:
                self.legal.setdefault(tuple(form.split()), canon)
        self.legal_max = max(len(k) for k in self.legal)
        from fingerprints.types.data import TYPES  # the raw forms, for legal forms written in Han

        self.han_legal = sorted({f for ty in TYPES["types"] for f in [ty["main"], *ty["forms"]] if _HAN.fullmatch(f)},
                                key=len, reverse=True)
        self.wade_giles = _wade_giles_to_pinyin()
        self.pinyin = set().union(*self.wade_giles.values()) | _pinyin_syllables()
        self.fold_rules = _cyrillic_fold_rules()
        self._tokens: dict[tuple[str, str, bool], Token] = {}
        self.fold_re = re.compile("|".join(re.escape(k) for k in sorted(self.fold_rules, key=len, reverse=True)))

    def token(self, text: str, raw: str, legal: bool) -> Token:
        """The :class:`Token` of a normalised word (memoised per word: names repeat words)."""
        key = (text, raw, legal)
        tok = self._tokens.get(key)
        if tok is None:
            tok = Token(text=text, raw=raw, legal=legal, alts=() if legal else _alternatives(text, self),
                        fold=self.fold(text))
            if len(self._tokens) < 1_000_000:
                self._tokens[key] = tok
        return tok

    def fold(self, token: str) -> str:
        """The Cyrillic-romanisation key of a Latin token: every iuliia scheme's spelling of a letter
        becomes the Wikipedia scheme's, and the word-final -iy/-yy/-ij/-i (ий, ый) becomes -y."""
        s = self.fold_re.sub(lambda m: self.fold_rules[m.group(0)], token)
        s = re.sub(r"c(?=[eiy])", "ts", s)  # ц before a front vowel: "Centr" = "Tsentr"
        s = re.sub(r"(?<=[bcdfgklmnprstvz])(?:iy|yy|yi|ij|ii|yj|y|i)$", "y", s)
        return re.sub(r"([aeiou])(?:i|j)(?=[^aeiou]|$)", r"\1y", s)


@cache
def tables() -> Tables:
    """The process's :class:`Tables` (pure data derived from the libraries; built on first use, ~0.3 s)."""
    return Tables()


def _pinyin_syllables() -> set[str]:
    """Every toneless pinyin syllable of pypinyin's character dictionary (~420)."""
    from pypinyin.pinyin_dict import pinyin_dict

    out: set[str] = set()
    for v in pinyin_dict.values():
        for p in v.split(","):
            s = "".join(c for c in unicodedata.normalize("NFD", p) if not unicodedata.combining(c))
            out.add(s.replace("ü", "v"))
    return out


def _wade_giles_to_pinyin() -> dict[str, frozenset[str]]:
    """Wade-Giles syllable (apostrophes and umlauts dropped, as lists write them) -> pinyin readings,
    by inverting pypinyin's pinyin→Wade-Giles conversion (``pypinyin.style.convert``)."""
    from pypinyin import Style
    from pypinyin.style import convert

    inv: dict[str, set[str]] = {}
    for syl in sorted(_pinyin_syllables()):
        try:
            wg = convert(syl, Style.WADEGILES, strict=True)
        except Exception:  # a syllable pypinyin cannot convert: no Wade-Giles reading
            continue
        key = basic(wg).replace(" ", "")
        if key and key != syl:
            inv.setdefault(key, set()).add(syl)
    return {k: frozenset(v) for k, v in inv.items()}


def _cyrillic_fold_rules() -> dict[str, str]:
    """Latin spelling -> canonical spelling, from the outputs of iuliia's schemes for each Cyrillic
    letter: the Wikipedia scheme's output is canonical, another scheme's multi-letter output (or a
    single letter no other Cyrillic letter is written with) folds onto it."""
    iuliia = need("iuliia")
    schemes = [iuliia.WIKIPEDIA, iuliia.BGN_PCGN, iuliia.ICAO_DOC_9303, iuliia.MVD_310, iuliia.ALA_LC,
               iuliia.SCIENTIFIC, iuliia.UNGEGN_1987, iuliia.YANDEX_MAPS, iuliia.GOST_779_ALT]
    letters = "абвгдежзиклмнопрстуфхцчшщэюя"  # й, ъ, ь, ы, ё: positional, handled by Tables.fold
    outputs: dict[str, set[str]] = {}
    canonical: dict[str, str] = {}
    for ch in letters:
        outs = {basic(s.translate("а" + ch + "а"))[1:-1] for s in schemes}
        canonical[ch] = basic(iuliia.WIKIPEDIA.translate("а" + ch + "а"))[1:-1]
        outputs[ch] = {o for o in outs if o}
    singles = {c for c in canonical.values() if len(c) == 1}
    writers: dict[str, set[str]] = {}
    for ch, outs in outputs.items():
        for o in outs:
            writers.setdefault(o, set()).add(ch)
    rules: dict[str, str] = {}
    for ch, outs in outputs.items():
        for o in outs:
            if o != canonical[ch] and len(writers[o]) == 1 and (len(o) > 1 or o not in singles):
                rules[o] = canonical[ch]
    # "h" alone is х in several schemes and never another letter: kh
    rules.setdefault("h", "kh")
    for digraph in ("sh", "zh", "ch", "kh"):  # keep the canonical digraphs whole
        rules[digraph] = digraph
    return rules


def _han(run: str, t: "Tables") -> str:
    """A run of Han characters as pinyin syllables, a legal form at its end (有限公司) as one word
    (the way fingerprints' table spells it: youxiangongsi)."""
    lazy_pinyin = need("pypinyin").lazy_pinyin
    for form in t.han_legal:
        if run.endswith(form) and len(run) > len(form):
            return " ".join(lazy_pinyin(run[: -len(form)])) + " " + "".join(lazy_pinyin(form))
    return " ".join(lazy_pinyin(run))


def _latinise(s: str, steps: list[str]) -> str:
    """Homoglyphs, Han and Cyrillic to Latin; each change recorded in ``steps``."""
    letters = [c for c in s if c.isalpha()]
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    others = len(letters) - latin
    if others and latin >= others:
        mapped = "".join(CONFUSABLES.get(c, c) for c in s)
        if mapped != s:
            changed = sorted({f"{c} (U+{ord(c):04X})→{CONFUSABLES[c]}" for c in s if c in CONFUSABLES})
            steps.append("homoglyph " + ", ".join(changed))
            s = mapped
    if _HAN.search(s):
        t = tables()
        s = _HAN.sub(lambda m: " " + _han(m.group(0), t) + " ", s)
        steps.append("Han→pinyin (pypinyin)")
    if _CYRILLIC.search(s):
        iuliia = need("iuliia")
        s = _CYRILLIC.sub(lambda m: iuliia.WIKIPEDIA.translate(m.group(0)), s)
        steps.append("Cyrillic→Latin (iuliia wikipedia)")
    return s


def normalise(name: str) -> NormName:
    """``name`` as comparable tokens (see the module docstring for each step)."""
    t = tables()
    steps: list[str] = []
    s = name if name.isascii() else unicodedata.normalize("NFKC", name)
    if s != name:
        steps.append("NFKC")
    invisible = [] if s.isascii() else sorted({f"U+{ord(c):04X}" for c in s if unicodedata.category(c) == "Cf"})
    if invisible:
        steps.append("removed invisible " + ", ".join(invisible))
        s = "".join(c for c in s if unicodedata.category(c) != "Cf")
    if not s.isascii():
        s = _latinise(s, steps)
    words = [(w, w) for w in basic(s).split()]
    items: list[tuple[str, str, bool]] = [(w, r, False) for w, r in words]

    def replace(lo: int, hi: int) -> bool:
        """Mark items[lo:hi] as a legal form if it is one (the core keeps at least one token)."""
        form = tuple(x for x, _, _ in items[lo:hi])
        canon = t.legal.get(form)
        if canon is None:
            return False
        if canon != form:
            steps.append(f"legal form {' '.join(form)}→{' '.join(canon)} (fingerprints)")
        raw = " ".join(dict.fromkeys(r for _, r, _ in items[lo:hi]))
        items[lo:hi] = [(c, raw, True) for c in canon]
        return True

    # legal forms at the end, repeatedly ("... Co., Ltd." is co ltd; "... Holding Co. Ltd" too), then one at the start ("OOO", "AO")
    changed = True
    while changed:
        changed = False
        end = len(items)
        while end > 0 and items[end - 1][2]:
            end -= 1
        for n in range(min(t.legal_max, end - 1), 0, -1):
            if replace(end - n, end):
                changed = True
                break
    core = sum(1 for _, _, lg in items if not lg)
    for n in range(min(t.legal_max, core - 1), 0, -1):
        if not any(lg for _, _, lg in items[:n]) and replace(0, n):
            break
    tokens = tuple(t.token(x, raw, lg) for x, raw, lg in items if x)
    return NormName(original=name, tokens=tokens, steps=tuple(steps))


def _alternatives(x: str, t: Tables) -> tuple[tuple[str, str], ...]:
    """Other readings of a token: postal place name → pinyin, Wade-Giles syllable → pinyin."""
    out: list[tuple[str, str]] = []
    if x in POSTAL and POSTAL[x] != x:
        out.append((POSTAL[x], f"postal romanisation {x} = pinyin {POSTAL[x]}"))
    for p in sorted(t.wade_giles.get(x, ())):
        if p != x:
            out.append((p, f"Wade-Giles {x} = pinyin {p}"))
    return tuple(out)
