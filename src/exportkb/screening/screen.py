"""Screening parties against a list: blocking by a token index, an aligned scorer that explains
itself token by token, and address matching; matches map one-to-one onto ``ListHit``.

Why this shape (shared/reference/screening.md §A2, §A6): whole-string fuzzy scorers either alert
on every decoy (WRatio) or miss romanisation and order variants (logic-v2). Blocking with exact,
romanised, phonetic and joined-syllable keys finds the candidates in well under a millisecond;
the aligner then scores at most :data:`CANDIDATES` names, weighting each token by how rare it is
in the list (so "Beijing ... Technology Co., Ltd." counts little and the distinctive word a lot).

The score is *defined* as the sum of the explanation's ``points``: every aligned pair earns
``similarity × (weight of both tokens) / (total weight)``; unmatched tokens earn 0 and say so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .address import ParsedAddress, compare_addresses, numbers_agree, parse_address
from ..case.parties import ListHit
from .extras import need
from .lists import ListEntry, ScreeningList, looks_like_address
from .normalize import NormName, Token, normalise

#: Default alert threshold (tuned on the benchmark's development seed, benchmarks/screening.py)
DEFAULT_THRESHOLD = 0.80
#: A score at or above this, with every word of both names matched without an edit (after normalisation the
#: same tokens), is a "match"; any other alert is "potential" (a person resolves it before export)
CONFIRMED = 0.97
#: Explanation operations that keep an alert "potential" however high its score: a misspelt, abbreviated,
#: extra or missing word (generic words weigh little, so the score alone could pass a misspelling)
UNCONFIRMED_OPS = frozenset({"edit", "abbreviation", "extra", "missing"})
#: Name shapes scored per party after blocking
CANDIDATES = 24
#: A shape whose rank score (blocking's estimate of the aligned score) is this far below the threshold
#: is not aligned: the estimate counts the same similarities as the aligner and errs high (on the dev split
#: the aligned score exceeded it by at most 0.11)
RANK_MARGIN = 0.15
#: Token weights are IDF to this power (tuned on the benchmark's dev split: 1 lets generic words outweigh
#: the distinctive one, so a listed firm's alias with another industry word scored ~0.7)
WEIGHT_POWER = 2.0
#: Weight of a legal-form token (legal forms are a weak signal: "Co., Ltd." says little)
LEGAL_WEIGHT = 0.35
#: Similarities by operation
SIM_FOLD = 0.95
SIM_ALT = 0.95
SIM_JOIN = 0.95
SIM_LEGAL_OTHER = 0.5
SIM_ABBREV = 0.8
#: Points a name match loses when the party's country is none of the entry's countries (the entry's
#: own country and its addresses'): nomenklatura logic-v2's ``country_mismatch`` qualifier, −0.2
#: (shared/reference/screening.md §A1). An identical name in another country therefore still alerts
#: (1.0 − 0.2 = the 0.80 threshold) but never as a confirmed match: it is a "potential" hit that holds
#: the determination until a person resolves it; a merely similar name in another country drops out.
COUNTRY_MISMATCH = 0.20


@dataclass(frozen=True)
class ListMatch:
    """One match of a party against a list entry; the first ten fields are ``exportkb.case.parties.ListHit``'s."""

    party_id: str
    entry_id: str
    source: str
    entry_name: str
    matched_on: str  # "name" | "alias" | "address"
    kind: str  # "match" | "potential" | "address_only" | "same_building_other_unit"
    score: float
    federal_register_notice: str
    license_requirement: str
    license_policy: str
    matched_text: str = ""
    explanation: tuple[dict[str, object], ...] = ()

    def as_list_hit(self, list_file: str = "", list_version: str = "") -> ListHit:
        """This match as the case layer receives it (:class:`exportkb.case.parties.ListHit`), naming the
        list file and its SHA-256 it was found in (so a proof can cite the list, not a case field)."""
        return ListHit(party_id=self.party_id, entry_id=self.entry_id, source=self.source,
                       entry_name=self.entry_name, matched_on=self.matched_on, kind=self.kind,
                       score=self.score, federal_register_notice=self.federal_register_notice,
                       license_requirement=self.license_requirement, license_policy=self.license_policy,
                       list_file=list_file, list_version=list_version)

    def to_json(self) -> dict[str, object]:
        """The match as the issue's JSON (``list_id``, ``source``, ``name``, ``score``, ``matched_on``, ...)."""
        return {"list_id": self.entry_id, "source": self.source, "name": self.entry_name, "score": self.score,
                "matched_on": self.matched_on, "kind": self.kind, "matched_text": self.matched_text,
                "explanation": list(self.explanation), "federal_register_notice": self.federal_register_notice,
                "license_requirement": self.license_requirement, "license_policy": self.license_policy}


@dataclass(frozen=True)
class ScreenResult:
    """A party's result: alert if any match reaches the threshold; matches best first."""

    party: str
    alert: bool
    matches: tuple[ListMatch, ...]
    list_version: str

    def to_json(self) -> dict[str, object]:
        return {"party": self.party, "alert": self.alert, "matches": [m.to_json() for m in self.matches],
                "list_version": self.list_version}


@dataclass(frozen=True)
class Name:
    """An indexed name: which entry, whether it is the entry's name or an alias, and its tokens."""

    entry: int
    matched_on: str
    text: str
    norm: NormName


@dataclass
class Screener:
    """A list's index and scorer. Build once per list file (:meth:`build`), screen many parties.

    The index is kept per *shape* (a distinct normalised token sequence): names that normalise alike
    ("ZHANG, Wei" listed under thirty entries) are ranked and aligned once and then reported for every
    entry that lists them, so no entry is lost to the candidate cut because its name is common.
    """

    slist: ScreeningList
    threshold: float = DEFAULT_THRESHOLD
    names: list[Name] = field(default_factory=list)
    df: dict[str, int] = field(default_factory=dict)
    addresses: list[tuple[int, ParsedAddress]] = field(default_factory=list)
    address_postings: dict[str, list[int]] = field(default_factory=dict)
    #: shape id -> the indices (into :attr:`names`) of the names of that shape
    shape_names: list[list[int]] = field(default_factory=list)
    #: vocabulary key ("t:word", "f:fold") -> array of the shape ids whose core holds it
    postings: dict[str, object] = field(default_factory=dict)
    #: one-deletion key -> the "t:" vocabulary words it comes from (typo-tolerant lookup, SymSpell style)
    deletions: dict[str, list[str]] = field(default_factory=dict)
    #: per shape, the summed weight of its core tokens (the rank score's denominator)
    shape_weight: object = None
    #: vocabulary key -> the weight of the listed word it stands for (a fold: its lightest word)
    key_weight: dict[str, float] = field(default_factory=dict)
    #: memo of :meth:`weight` (a pure function of the word once the index is built)
    weights: dict[str, float] = field(default_factory=dict)
    #: memo of the token similarity by (query word, listed word): a pure function of the two words
    similar_cache: dict[tuple[str, str], tuple[float, str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, slist: ScreeningList, threshold: float = DEFAULT_THRESHOLD) -> "Screener":
        """Normalise every name and alias, index their keys and every listed address."""
        need("rapidfuzz")
        np = need("numpy")
        s = cls(slist, threshold)
        for i, e in enumerate(slist.entries):
            if not e.address_only:
                for on, text in [("name", e.name), *(("alias", a) for a in e.aliases)]:
                    norm = normalise(text)
                    if norm.core:
                        s.names.append(Name(i, on, text, norm))
            for a in e.addresses:
                if e.address_only or a.street:
                    pa = parse_address(a.text())
                    if pa.building:
                        s.addresses.append((i, pa))
        shape_of: dict[tuple[tuple[str, bool], ...], int] = {}
        lists: dict[str, list[int]] = {}
        cores: list[tuple[Token, ...]] = []
        for name in s.names:
            core = name.norm.core
            cores.append(core)
            shape = tuple((t.text, t.legal) for t in name.norm.tokens)
            keys = set(_vocab_keys(core))
            sid = shape_of.get(shape)
            if sid is None:
                sid = shape_of[shape] = len(s.shape_names)
                s.shape_names.append([])
                for k in keys:
                    lists.setdefault(k, []).append(sid)
            s.shape_names[sid].append(len(cores) - 1)
            for k in keys:
                if k[0] == "t":
                    s.df[k] = s.df.get(k, 0) + 1
        s.postings = {k: np.asarray(v, dtype=np.int32) for k, v in sorted(lists.items())}
        weights: dict[str, float] = {}
        for core in cores:
            for t in core:
                w = weights.get(t.text)
                if w is None:
                    w = weights[t.text] = s.weight(t.text)
                fk = "f:" + (t.fold or t.text)
                if w < s.key_weight.get(fk, math.inf):
                    s.key_weight[fk] = w
        for k in lists:
            if k[0] == "t":
                s.key_weight[k] = s.weight(k[2:])
        for core in cores:  # a listed run of syllables earns, joined in the query, its words' summed weight
            for n in (2, 3):
                for i in range(len(core) - n + 1):
                    jk = "j:" + "".join(t.text for t in core[i:i + n])
                    w = sum(weights[t.text] for t in core[i:i + n])
                    if w < s.key_weight.get(jk, math.inf):
                        s.key_weight[jk] = w
        for w in sorted(weights):  # single words only: a typo is within a word, and joins would multiply the index
            if len(w) >= 4 and not w.isdigit():
                for d in _deletes(w):
                    s.deletions.setdefault(d, []).append(w)
        s.shape_weight = np.asarray([sum(weights[t.text] for t in cores[ns[0]]) for ns in s.shape_names],
                                    dtype=np.float64)
        for n, (_, pa) in enumerate(s.addresses):
            for k in set(pa.building):
                s.address_postings.setdefault(k, []).append(n)
        return s

    # ------------------------------------------------------------------ weights
    def weight(self, text: str) -> float:
        """IDF of a token in the list's names, squared (:data:`WEIGHT_POWER`): rare tokens (the
        distinctive word) weigh more, and generic ones ("Technology", a city) little, so a match must
        cover the distinctive word and a name differing only in a generic word still matches."""
        w = self.weights.get(text)
        if w is None:
            n = len(self.names) or 1
            w = (1.0 + math.log((n + 1) / (self.df.get("t:" + text, 0) + 0.5))) ** WEIGHT_POWER
            if len(self.weights) < 1_000_000:
                self.weights[text] = w
        return w

    def known(self, text: str) -> bool:
        """Whether the list itself has this word: such a query word is read as itself, not as a
        misspelling of another listed word ("Longhua" is not a typo of "Tonghua")."""
        return "t:" + text in self.df

    # ------------------------------------------------------------------ blocking
    def hypotheses(self, norm: NormName) -> list[tuple[tuple[int, ...], list[tuple[str, float]]]]:
        """Per query core token, the vocabulary keys it may stand for and the similarity each would
        earn in :meth:`align` (literal 1.0, reading or Cyrillic fold 0.95, edits 1 − d/len), plus one
        extra group per run of 2-3 neighbouring tokens that joins into a listed word (split syllables)."""
        osa = need("rapidfuzz").distance.OSA
        toks = list(norm.core)
        groups: list[tuple[tuple[int, ...], list[tuple[str, float]]]] = []
        for pos, t in enumerate(toks):
            hyp: dict[str, float] = {}
            def put(k: str, sim: float) -> None:
                if k in self.postings and hyp.get(k, 0.0) < sim:
                    hyp[k] = sim
            put("t:" + t.text, 1.0)
            put("j:" + t.text, SIM_JOIN)
            for f, _ in t.alts:
                put("t:" + f, SIM_ALT)
            put("f:" + (t.fold or t.text), SIM_FOLD)
            x = t.text
            if len(x) >= 4 and not x.isdigit() and "t:" + x not in self.postings:
                near: set[str] = set(self.deletions.get(x, ()))
                for d in _deletes(x):
                    near.update(self.deletions.get(d, ()))
                    if len(d) >= 4 and "t:" + d in self.postings:
                        near.add(d)
                budget = 1 if len(x) < 8 else 2
                for w in sorted(near):
                    if abs(len(w) - len(x)) > 2:
                        continue
                    dist = osa.distance(x, w, score_cutoff=budget)
                    if dist <= budget:
                        put("t:" + w, 1.0 - dist / max(len(x), len(w)))
            groups.append(((pos,), sorted(hyp.items())))
        for n in (2, 3):
            for i in range(len(toks) - n + 1):
                forms = [""]
                for t in toks[i:i + n]:
                    forms = [a + b for a in forms for b in (t.text, *(f for f, _ in t.alts))][:64]
                hyp = {}
                for f in forms:
                    if "t:" + f in self.postings:
                        hyp["t:" + f] = SIM_JOIN
                if hyp:
                    groups.append((tuple(range(i, i + n)), sorted(hyp.items())))
        return groups

    def ranked(self, norm: NormName, limit: int = 0) -> list[tuple[int, float]]:
        """Shapes worth aligning, best first, with a rank score that mirrors :meth:`align`'s (the weight
        both sides share, over their total weight), computed with array operations over the postings."""
        np = need("numpy")
        groups = self.hypotheses(norm)
        if not groups:
            return []
        total = np.zeros(len(self.shape_names), dtype=np.float64)
        for _, hyp in groups:
            best = np.zeros(len(self.shape_names), dtype=np.float64) if len(hyp) > 1 else None
            for k, sim in hyp:
                val = sim * 2.0 * self.key_weight[k]
                idx = self.postings[k]  # type: ignore[index]
                if best is None:
                    total[idx] += val
                else:
                    best[idx] = np.maximum(best[idx], val)
            if best is not None:
                total += best
        # an aligned query token takes the listed word's weight (as in align; a run of syllables shares
        # its joined word's), an unknown one its own; the lightest reading, so the estimate errs high
        took: dict[int, float] = {}
        for positions, hyp in groups:
            for p in positions:
                w = min((self.key_weight[k] for k, _ in hyp), default=0.0) / len(positions)
                if w and (p not in took or took[p] > w):
                    took[p] = w
        wq = sum(took.get(p, 0.0) or self.weight(t.text) for p, t in enumerate(norm.core))
        hit = np.flatnonzero(total)
        if not len(hit):
            return []
        rank = total[hit] / (wq + self.shape_weight[hit])  # type: ignore[index]
        limit = limit or CANDIDATES
        if len(hit) > limit:
            top = np.argpartition(-rank, limit - 1)[:limit]
            hit, rank = hit[top], rank[top]
        order = np.lexsort((hit, -rank))
        return [(int(hit[i]), float(rank[i])) for i in order]

    # ------------------------------------------------------------------ screening
    def screen(self, party_id: str, name: str = "", address: str = "", country: str = "",
               aliases: Iterable[str] = ()) -> ScreenResult:
        """Screen one party by its name (and aliases) and its address; matches best first."""
        best: dict[tuple[int, str], ListMatch] = {}
        for qname in [name, *aliases]:
            if not qname or not qname.strip():
                continue
            q = normalise(qname)
            if not q.core:
                continue
            for sid, rank in self.ranked(q):
                if rank < self.threshold - RANK_MARGIN:
                    break
                names = self.shape_names[sid]
                score0, expl0 = self.align(q, self.names[names[0]].norm)
                if score0 < self.threshold:  # the country can only lower the score
                    continue
                for n in names:
                    nm = self.names[n]
                    e = self.slist.entries[nm.entry]
                    score, expl = _country_qualified(score0, expl0, country, e)
                    if score < self.threshold:
                        continue
                    if nm.norm.original != self.names[names[0]].norm.original:
                        score, expl = self.align(q, nm.norm)  # the same tokens: the same score, its own text
                        score, expl = _country_qualified(score, expl, country, e)
                    m = _match(party_id, e, nm.matched_on, "match" if _confirmed(score, expl) else "potential", score,
                               nm.text, expl)
                    key = (nm.entry, "name")
                    if key not in best or _rank(m) < _rank(best[key]):
                        best[key] = m
        # a party whose name reads as an address (the way the CSL writes an address-only entry, 744.16(f))
        # and that gives no address is screened by that address too
        where = address if address and address.strip() else (name if name and looks_like_address(name) else "")
        if where:
            for i, m in self.screen_address(party_id, where):
                key = (i, "address")
                if key not in best or _rank(m) < _rank(best[key]):
                    best[key] = m
        matches = tuple(sorted(best.values(), key=_rank))
        return ScreenResult(party=party_id, alert=any(m.score >= self.threshold and m.kind != "same_building_other_unit" for m in matches), matches=matches,
                            list_version=self.slist.sha256)

    def screen_address(self, party_id: str, address: str) -> list[tuple[int, ListMatch]]:
        """Address hits: the listed address itself (at the threshold or above), or the same building
        with another unit (reported with its score, which stays below the threshold)."""
        pa = parse_address(address)
        if not pa.building:
            return []
        counts: dict[int, int] = {}
        for t in set(pa.building):
            for n in self.address_postings.get(t, ())[:5000]:
                counts[n] = counts.get(n, 0) + 1
        need_n = max(1, min(3, len(set(pa.building)) // 2))
        out = []
        for n in sorted(c for c, k in counts.items() if k >= need_n):
            i, listed = self.addresses[n]
            if not numbers_agree(pa, listed):
                continue  # other street numbers: the building scores 0, so neither a hit nor the same building
            score, other_unit, expl = compare_addresses(pa, listed)
            e = self.slist.entries[i]
            if other_unit:
                kind = "same_building_other_unit"
            elif score >= self.threshold:
                kind = "address_only" if e.address_only else "potential"
            else:
                continue
            out.append((i, _match(party_id, e, "address", kind, score, listed.text, tuple(expl))))
        return out

    def align(self, q: NormName, c: NormName) -> tuple[float, tuple[dict[str, object], ...]]:
        """Align the query's tokens with a listed name's and explain each pair; score = Σ points."""
        fuzz_dist = need("rapidfuzz").distance.OSA
        qt, ct = list(q.tokens), list(c.tokens)
        qcore = [i for i, t in enumerate(qt) if not t.legal]
        ccore = [j for j, t in enumerate(ct) if not t.legal]
        pairs: list[tuple[float, float, tuple[int, ...], tuple[int, ...], str, str]] = []
        cache = self.similar_cache
        if len(cache) > 500_000:  # bounded: a long run of distinct names must not grow it without end
            cache.clear()
        for i in qcore:
            x = qt[i].text
            for j in ccore:
                got = cache.get((x, ct[j].text))
                if got is None:
                    got = cache[(x, ct[j].text)] = _similar(qt[i], ct[j], fuzz_dist, edits=not self.known(x))
                if got[0] > 0:
                    pairs.append((got[0], self.weight(ct[j].text), (i,), (j,), got[1], got[2]))
        # joined syllables: "A Ke Su" = "Akesu", and the other way round
        for a, b, A, B, flip in ((qt, ct, qcore, ccore, False), (ct, qt, ccore, qcore, True)):
            count_a: dict[str, int] = {}
            for k in A:
                count_a[a[k].text] = count_a.get(a[k].text, 0) + 1
            count_b: dict[str, int] = {}
            for k in B:
                count_b[b[k].text] = count_b.get(b[k].text, 0) + 1
            firsts = [{f[:1] for f in (a[k].text, *(g for g, _ in a[k].alts))} for k in A]
            for j in B:
                target = b[j].text
                if count_b[target] <= count_a.get(target, 0):
                    continue  # every occurrence pairs literally (1.0), before any join (0.95) could
                for start in range(len(A)):
                    if target[:1] not in firsts[start]:
                        continue
                    run = _join_run(a, A, start, target)
                    if run:
                        w = self.weight(target) if not flip else sum(self.weight(a[k].text) for k in run) / len(run)
                        how = f"syllables {' + '.join(a[k].text for k in run)} = {target}"
                        qi, cj = ((j,), tuple(run)) if flip else (tuple(run), (j,))
                        pairs.append((SIM_JOIN, w, qi, cj, "joined", how))
        pairs.sort(key=lambda p: (-p[0], -p[1], p[2], p[3]))
        used_q: set[int] = set()
        used_c: set[int] = set()
        chosen = []
        for p in pairs:
            if used_q.isdisjoint(p[2]) and used_c.isdisjoint(p[3]):
                chosen.append(p)
                used_q.update(p[2])
                used_c.update(p[3])
        # weights: an aligned query token takes the listed token's weight (a typo is not a rare word)
        wq = {i: self.weight(qt[i].text) for i in qcore}
        wc = {j: self.weight(ct[j].text) for j in ccore}
        for sim, w, qi, cj, op, how in chosen:
            share = sum(wc[j] for j in cj)
            for i in qi:
                wq[i] = share / len(qi)
        # legal forms: compared as a set, weak; omitted on one side counts half
        ql = [t.text for t in qt if t.legal]
        cl = [t.text for t in ct if t.legal]
        legal_items: list[tuple[float, float, str, str, str, str]] = []  # (sim, weight, op, q, c, how)
        if ql and cl:
            same = sorted(set(ql) & set(cl))
            for x in same:
                legal_items.append((1.0, 2 * LEGAL_WEIGHT, "legal_form", x, x, "same legal form (fingerprints)"))
            rest_q = [x for x in ql if x not in same]
            rest_c = [x for x in cl if x not in same]
            for x, y in zip(rest_q, rest_c):
                legal_items.append((SIM_LEGAL_OTHER, 2 * LEGAL_WEIGHT, "legal_form_other", x, y, "another legal form"))
            for x in rest_q[len(rest_c):]:
                legal_items.append((0.0, LEGAL_WEIGHT, "extra", x, "", "legal form not in the listed name"))
            for y in rest_c[len(rest_q):]:
                legal_items.append((0.0, LEGAL_WEIGHT, "missing", "", y, "legal form not in the query"))
        else:
            for x in ql:
                legal_items.append((0.0, LEGAL_WEIGHT / 2, "legal_form_omitted", x, "", "legal form only in the query"))
            for y in cl:
                legal_items.append((0.0, LEGAL_WEIGHT / 2, "legal_form_omitted", "", y, "legal form only in the listed name"))
        total = sum(wq.values()) + sum(wc.values()) + sum(it[1] for it in legal_items)
        expl: list[dict[str, object]] = []
        raws: list[float] = []
        for step in q.steps:
            expl.append({"op": "normalised", "query": q.original, "list": "", "how": step})
            raws.append(0.0)
        for step in c.steps:
            expl.append({"op": "normalised", "query": "", "list": c.original, "how": step})
            raws.append(0.0)
        for sim, w, qi, cj, op, how in sorted(chosen, key=lambda p: (p[2], p[3])):
            expl.append({"op": op, "query": " ".join(qt[i].text for i in qi), "list": " ".join(ct[j].text for j in cj),
                         "how": how})
            raws.append(sim * (sum(wq[i] for i in qi) + sum(wc[j] for j in cj)) / total)
        for i in qcore:
            if i not in used_q:
                expl.append({"op": "extra", "query": qt[i].text, "list": "",
                             "how": f"not in the listed name (weight {wq[i]:.2f} of {total:.2f})"})
                raws.append(0.0)
        for j in ccore:
            if j not in used_c:
                expl.append({"op": "missing", "query": "", "list": ct[j].text,
                             "how": f"listed word not in the query (weight {wc[j]:.2f} of {total:.2f})"})
                raws.append(0.0)
        for sim, w, op, x, y, how in legal_items:
            expl.append({"op": op, "query": x, "list": y, "how": how})
            raws.append(sim * w / total)
        for item, pts in zip(expl, apportion(raws)):
            item["points"] = pts
        score = round(sum(float(e["points"]) for e in expl), 6)  # type: ignore[arg-type]
        return score, tuple(expl)


def apportion(raws: list[float], places: int = 6) -> list[float]:
    """Round each part to ``places`` decimals so that the parts still add up to the rounded total
    (largest remainder): an exact match is 1.0, not 0.999999 or 1.000001."""
    unit = 10 ** places
    scaled = [r * unit for r in raws]
    floors = [math.floor(x) for x in scaled]
    short = round(sum(scaled)) - sum(floors)
    order = sorted(range(len(raws)), key=lambda i: (-(scaled[i] - floors[i]), i))
    for i in order[: max(0, short)]:
        floors[i] += 1
    return [f / unit for f in floors]


def _similar(a: Token, b: Token, osa: object, edits: bool = True) -> tuple[float, str, str]:
    """How alike two tokens are, and by which operation (edit distances only when ``edits``)."""
    if a.text == b.text:
        return 1.0, "literal", "same word"
    for form, how in a.alts:
        if form == b.text:
            return SIM_ALT, "romanisation", how
    for form, how in b.alts:
        if form == a.text:
            return SIM_ALT, "romanisation", how
    for fa, ha in a.alts:
        for fb, hb in b.alts:
            if fa == fb:
                return SIM_ALT, "romanisation", f"{ha}; {hb}"
    if len(a.text) >= 3 and a.fold == b.fold:
        return SIM_FOLD, "cyrillic_romanisation", f"same Cyrillic spelling ({a.text} ≈ {b.text}; iuliia schemes)"
    la, lb = len(a.text), len(b.text)
    longest = max(la, lb)
    short, long_ = (a.text, b.text) if la < lb else (b.text, a.text)
    if len(short) >= 4 and long_.startswith(short) and not short.isdigit():
        return SIM_ABBREV, "abbreviation", f"{short} abbreviates {long_}"
    if not edits or min(la, lb) < 4 or abs(la - lb) > 2 or a.text.isdigit() or b.text.isdigit():
        return 0.0, "", ""
    budget = 1 if longest < 8 else 2
    d = osa.distance(a.text, b.text, score_cutoff=budget)  # type: ignore[attr-defined]
    if d <= budget:
        return 1.0 - d / longest, "edit", f"edit distance {d} (Damerau/OSA)"
    d2 = osa.distance(a.fold, b.fold, score_cutoff=budget)  # type: ignore[attr-defined]
    if d2 <= budget and a.fold != a.text:
        return SIM_FOLD * (1.0 - d2 / longest), "cyrillic_romanisation", f"Cyrillic spelling within {d2} edit(s)"
    return 0.0, "", ""


def _join_run(a: list[Token], idx: list[int], start: int, target: str) -> list[int] | None:
    """Consecutive core tokens idx[start:...] (2-5 of them) whose texts (or readings) concatenate to ``target``."""
    def go(pos: int, rest: str, depth: int) -> list[int] | None:
        if not rest:
            return [] if depth >= 2 else None
        if pos >= len(idx) or depth >= 5:
            return None
        tok = a[idx[pos]]
        for form in (tok.text, *(f for f, _ in tok.alts)):
            if rest.startswith(form):
                tail = go(pos + 1, rest[len(form):], depth + 1)
                if tail is not None:
                    return [idx[pos], *tail]
        return None
    first = a[idx[start]]
    if not any(target.startswith(f) and len(f) < len(target) for f in (first.text, *(f for f, _ in first.alts))):
        return None
    return go(start, target, 0)


def _vocab_keys(tokens: Iterable[Token]) -> Iterator[str]:
    """Index keys of a listed name's core tokens: each word and its readings ("t:"), its Cyrillic
    fold ("f:"), and joins of 2-3 neighbouring words ("j:", so "A Ke Su" is found by "Akesu"; a key
    space of its own, so that a query written like the list does not count its words twice)."""
    toks = list(tokens)
    for t in toks:
        yield "t:" + t.text
        for f, _ in t.alts:
            yield "t:" + f
        yield "f:" + (t.fold or t.text)
    for n in (2, 3):
        for i in range(len(toks) - n + 1):
            yield "j:" + "".join(t.text for t in toks[i:i + n])


def _deletes(word: str) -> list[str]:
    """The word with one letter deleted, every way (SymSpell's deletion neighbourhood: two words within
    one edit — substitution, insertion, deletion, transposition — share a key)."""
    return sorted({word[:i] + word[i + 1:] for i in range(len(word))})


def entry_countries(e: ListEntry) -> frozenset[str]:
    """The countries a list entry names: its own and its addresses' (upper case). Empty when any of them
    is not an ISO 3166 alpha-2 code ("China", say): such an entry's country is not compared at all."""
    got = frozenset(c.strip().upper() for c in (e.country, *(a.country for a in e.addresses)) if c and c.strip())
    return got if all(len(c) == 2 and c.isascii() and c.isalpha() for c in got) else frozenset()


def _country_qualified(score: float, expl: tuple[dict[str, object], ...], country: str,
                       e: ListEntry) -> tuple[float, tuple[dict[str, object], ...]]:
    """A name match's score and explanation with the country compared: a party located in none of the
    entry's countries loses :data:`COUNTRY_MISMATCH` points, said in the explanation (the score stays
    the sum of its parts); an entry without a country, or a party without one, is not compared."""
    listed = entry_countries(e)
    mine = country.strip().upper() if country else ""
    if not mine or not listed or mine in listed:
        return score, expl
    item = {"op": "country_mismatch", "query": mine, "list": ", ".join(sorted(listed)),
            "how": f"the party is in {mine}, the entry in {', '.join(sorted(listed))}: "
                   f"a name match in another country is at most a potential match (−{COUNTRY_MISMATCH:.2f})",
            "points": -COUNTRY_MISMATCH}
    return round(score - COUNTRY_MISMATCH, 6), (*expl, item)


def _confirmed(score: float, expl: tuple[dict[str, object], ...]) -> bool:
    """A confirmed match: score at least :data:`CONFIRMED` and no word misspelt, abbreviated, extra or
    missing (a legal form aside), nor a Cyrillic spelling within edits."""
    return score >= CONFIRMED and not any(
        e["op"] in UNCONFIRMED_OPS and not str(e["how"]).startswith("legal form")
        or e["op"] == "cyrillic_romanisation" and "edit" in str(e["how"]) for e in expl)


def _match(party_id: str, e: ListEntry, on: str, kind: str, score: float, text: str,
           expl: tuple[dict[str, object], ...]) -> ListMatch:
    return ListMatch(party_id=party_id, entry_id=e.entry_id, source=e.source, entry_name=e.name, matched_on=on,
                     kind=kind, score=score, federal_register_notice=e.federal_register_notice,
                     license_requirement=e.license_requirement, license_policy=e.license_policy,
                     matched_text=text, explanation=expl)


def _rank(m: ListMatch) -> tuple[float, str, str, str]:
    """Best first: higher score, then entry id, then how it matched (a total order: deterministic output)."""
    return (-m.score, m.entry_id, m.matched_on, m.matched_text)


def screen_parties(screener: Screener, parties: Iterable[object]) -> Iterator[ScreenResult]:
    """Screen every :class:`~exportkb.screening.parties.PartyQuery` in order."""
    for p in parties:
        yield screener.screen(p.id, p.name, p.address, p.country, p.aliases)  # type: ignore[attr-defined]
