"""Screening benchmark (issue 15 item 5): recall per perturbation class, decoy alert rate, address-only
recall and other-unit rate, throughput, latency, index build time and peak memory.

The list is SYNTHETIC: realistic entries generated in the CSL CSV layout (shared/reference/screening.md
§A4) — Chinese firms (place + pinyin trade name + industry word + legal form), Russian firms
(written in Cyrillic, latinised with one iuliia scheme, as BIS lists them), persons, and Hong Kong
address-only entries — because no redistributable copy of the current CSL is at hand (§A5). It is
written to a CSV file and read back through the same reader users get.

Protocol (§A7): entries are split into a development half and a test half by a seeded hash of the
entry id; ``--split dev`` tunes, ``--split test`` reports (never tune on it). One alias of each
multi-alias test entry is held out of the list file (natural positive). Decoys swap an entry's
most distinctive word for another entry's, and are DROPPED if any listed name then has the same
core token set or a token within one edit of the swapped word (checked, not assumed).

Run: ``python -m benchmarks.screening --names 40000 --queries 3000 --split test`` (the lead runs the
full size; small runs: ``--names 4000 --queries 300``).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

PLACES = ["Beijing", "Shanghai", "Shenzhen", "Guangzhou", "Tianjin", "Chongqing", "Chengdu", "Wuhan", "Nanjing",
          "Hangzhou", "Xiamen", "Suzhou", "Qingdao", "Hefei", "Xian", "Dalian", "Harbin", "Changsha", "Zhengzhou"]
POSTAL = {"Beijing": "Peking", "Guangzhou": "Canton", "Tianjin": "Tientsin", "Chongqing": "Chungking",
          "Nanjing": "Nanking", "Xiamen": "Amoy", "Qingdao": "Tsingtao", "Suzhou": "Soochow", "Hangzhou": "Hangchow",
          "Chengdu": "Chengtu"}
SYLLABLES = ["hua", "xin", "zhong", "ke", "tian", "hai", "guang", "xing", "tong", "rui", "da", "kang", "jia", "heng",
             "sheng", "long", "feng", "yuan", "chuang", "bo", "wei", "jing", "ming", "tai", "chang", "hong", "yu",
             "an", "qi", "zhi", "xun", "lian", "dian", "shu", "neng", "hui", "chen", "fang", "gao", "lan", "mei",
             "peng", "qing", "ruan", "song", "teng", "wan", "xiang", "yang", "zhan", "cheng", "du", "fu", "jin", "kai"]
INDUSTRY = ["Technology", "Electronics", "Electronic Technology", "Semiconductor", "Information Technology",
            "Communication Technology", "Precision Machinery", "Trading", "Import and Export", "Optoelectronics",
            "Aviation Technology", "Instruments", "New Materials", "Microelectronics", "Intelligent Equipment"]
CN_LEGAL = ["Co., Ltd.", "Company Limited", "Co. Ltd", "Limited", "Corporation", "Group Co., Ltd."]
RU_WORDS = ["Радиотехника", "Электроприбор", "Север", "Рубин", "Кронштадт", "Алмаз", "Технологии", "Микрон",
            "Система", "Восток", "Звезда", "Прогресс", "Энергия", "Гранит", "Импульс", "Сигнал", "Квант", "Орион",
            "Вектор", "Спектр", "Темп", "Элкус", "Специальные", "Научно", "Южный", "Центр", "Завод", "Комплекс"]
RU_LEGAL = [("ООО", "OOO"), ("АО", "AO"), ("ОАО", "OAO"), ("ПАО", "PAO")]
LEGAL_SWAP = {"Co., Ltd.": "Company Limited", "Company Limited": "Co., Ltd.", "Co. Ltd": "Company Limited",
              "Limited": "Ltd.", "Corporation": "Corp.", "Group Co., Ltd.": "Group Company Limited",
              "OOO": "LLC", "AO": "JSC", "OAO": "Open Joint Stock Company", "PAO": "Public Joint Stock Company"}
GIVEN = ["Sergei", "Ivan", "Dmitry", "Alexei", "Wei", "Li", "Jun", "Ming", "Ali", "Reza", "Hassan", "Oleg", "Yuri"]
FAMILY = ["Ivanov", "Petrov", "Smirnov", "Kuznetsov", "Zhang", "Wang", "Chen", "Liu", "Karimi", "Hosseini",
          "Volkov", "Sokolov", "Morozov", "Novikov", "Fedorov", "Huang", "Zhao", "Lin", "Gao"]
HK_BUILDINGS = ["Hollywood Plaza", "One Capital Place", "Lockhart Centre", "Chevalier House", "Bright Way Tower",
                "Ho King Commercial Centre", "Silvercord Tower", "Nan Fung Centre", "Wing On House", "Tung Ning Building"]
HK_STREETS = [("Nathan Road", "Mong Kok", "Kowloon"), ("Luard Road", "Wan Chai", ""), ("Lockhart Road", "Wan Chai", ""),
              ("Chatham Road South", "Tsim Sha Tsui", "Kowloon"), ("Des Voeux Road Central", "Sheung Wan", ""),
              ("Hennessy Road", "Causeway Bay", ""), ("Castle Peak Road", "Tsuen Wan", "New Territories")]
HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х", "i": "і"}
HEADER = ("_id,source,entity_number,type,programs,name,title,addresses,federal_register_notice,start_date,end_date,"
          "standard_order,license_requirement,license_policy,call_sign,vessel_type,gross_tonnage,"
          "gross_registered_tonnage,vessel_flag,vessel_owner,remarks,source_list_url,alt_names,citizenships,"
          "dates_of_birth,nationalities,places_of_birth,source_information_url,ids").split(",")
EL = "Entity List (EL) - Bureau of Industry and Security"


def trade_name(rng: random.Random) -> str:
    return "".join(rng.sample(SYLLABLES, 2)).capitalize()


def generate(n_names: int, seed: int) -> list[dict]:
    """Synthetic entries until the list has ``n_names`` names (names + aliases)."""
    import iuliia
    rng = random.Random(seed)
    entries, names, seen = [], 0, set()
    while names < n_names:
        kind = rng.random()
        eid = f"syn-{len(entries):06d}"
        if kind < 0.62:
            place, tn, ind, lg = rng.choice(PLACES), trade_name(rng), rng.choice(INDUSTRY), rng.choice(CN_LEGAL)
            name = f"{place} {tn} {ind} {lg}"
            aliases = []
            if rng.random() < 0.5:
                aliases.append(f"{tn} {ind} ({place}) {rng.choice(CN_LEGAL)}")
            if rng.random() < 0.3:
                aliases.append(f"{place} {tn} {rng.choice(INDUSTRY)} {rng.choice(CN_LEGAL)}")
            e = dict(kind="cn", place=place, tn=tn, ind=ind, legal=lg)
        elif kind < 0.85:
            cyr_legal, lat_legal = rng.choice(RU_LEGAL)
            words = rng.sample(RU_WORDS, rng.choice([1, 2, 2, 3]))
            cyr = " ".join(words)
            name = f"{lat_legal} {iuliia.WIKIPEDIA.translate(cyr)}"
            aliases = [f"{iuliia.WIKIPEDIA.translate(cyr)}"] if rng.random() < 0.3 else []
            e = dict(kind="ru", cyr=cyr, legal=lat_legal)
        elif kind < 0.97:
            g, f = rng.choice(GIVEN), rng.choice(FAMILY)
            mid = rng.choice(GIVEN)
            name = f"{f.upper()}, {g} {mid}ovich" if rng.random() < 0.5 else f"{f.upper()}, {g}"
            aliases = [f"{f.upper()}, {g[0]}."] if rng.random() < 0.2 else []
            e = dict(kind="person")
        else:
            b = rng.choice(HK_BUILDINGS)
            street, district, region = rng.choice(HK_STREETS)
            num, floor = rng.randint(1, 999), rng.randint(2, 40)
            unit = rng.choice([f"Room {floor}{rng.randint(1, 30):02d}", f"Unit {rng.choice('ABCDEFGH')}", f"Flat {rng.randint(1, 12)}"])
            name = f"{unit}, {floor}/F, {b}, {num} {street}, {district}, {region + ', ' if region else ''}Hong Kong"
            aliases = []
            e = dict(kind="address", unit=unit, floor=floor, building=b, num=num, street=street, district=district)
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        e.update(id=eid, name=name, aliases=aliases)
        entries.append(e)
        names += 1 + len(aliases)
    return entries


def split_of(eid: str) -> str:
    return "dev" if int(hashlib.sha256(eid.encode()).hexdigest(), 16) % 2 == 0 else "test"


def write_csl(entries: list[dict], held_out: dict[str, str], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, HEADER, dialect="unix")
        w.writeheader()
        for e in entries:
            aliases = [a for a in e["aliases"] if a != held_out.get(e["id"])]
            addr = e["name"].replace("Hong Kong", "HK") if e["kind"] == "address" else "Synthetic Street 1, CN"
            w.writerow({**{h: "" for h in HEADER}, "_id": e["id"], "source": EL, "name": e["name"],
                        "alt_names": "; ".join(aliases), "addresses": addr,
                        "federal_register_notice": "00 FR 00000 (synthetic), 1/1/25",
                        "license_requirement": "For all items subject to the EAR.", "license_policy": "Presumption of denial."})


def typo(s: str, rng: random.Random) -> str:
    idx = [i for i in range(1, len(s) - 2) if s[i].isalpha() and s[i + 1].isalpha()]
    i = rng.choice(idx)
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def variants(e: dict, rng: random.Random) -> list[tuple[str, str]]:
    """(class, query name) pairs for an entry; every class documented in the module docstring."""
    import iuliia
    out: list[tuple[str, str]] = [("exact", e["name"])]
    if e["kind"] == "cn":
        core = f"{e['place']} {e['tn']} {e['ind']}"
        out.append(("legal_form_drop", core))
        out.append(("legal_form_swap", f"{core} {LEGAL_SWAP[e['legal']]}"))
        out.append(("token_order", f"{e['tn']} {e['place']} {e['ind']} {e['legal']}"))
        out.append(("parenthesised_place", f"{e['tn']} {e['ind']} ({e['place']}) {e['legal']}"))
        out.append(("typo", f"{e['place']} {typo(e['tn'], rng)} {e['ind']} {e['legal']}"))
        sylls = [s for s in SYLLABLES if e["tn"].lower().startswith(s)]
        if sylls:
            a = sylls[0]
            out.append(("pinyin_split", f"{e['place']} {a.capitalize()} {e['tn'][len(a):].capitalize()} {e['ind']} {e['legal']}"))
        from pypinyin import Style
        from pypinyin.style import convert
        wg = [convert(s, Style.WADEGILES, strict=True) for s in _syllables(e["tn"].lower())]
        if wg:
            out.append(("wade_giles", f"{e['place']} {'-'.join(wg).capitalize()} {e['ind']} {e['legal']}"))
        if e["place"] in POSTAL:
            out.append(("postal", f"{POSTAL[e['place']]} {e['tn']} {e['ind']} {e['legal']}"))
        out.append(("homoglyph", "".join(HOMOGLYPHS.get(c, c) if rng.random() < 0.3 else c for c in e["name"])))
        out.append(("invisible", e["name"].replace(" ", " \u200b", 1).replace("a", "a\u00ad", 1)))
    elif e["kind"] == "ru":
        scheme = rng.choice([iuliia.BGN_PCGN, iuliia.ICAO_DOC_9303, iuliia.MVD_310, iuliia.GOST_779_ALT])
        out.append(("cyrillic_relatinise", f"{e['legal']} {scheme.translate(e['cyr'])}"))
        out.append(("legal_form_swap", f"{LEGAL_SWAP[e['legal']]} {iuliia.WIKIPEDIA.translate(e['cyr'])}"))
        out.append(("typo", typo(e["name"], rng) if len(e["name"]) > 8 else e["name"]))
        out.append(("homoglyph", "".join(HOMOGLYPHS.get(c, c) if rng.random() < 0.3 else c for c in e["name"])))
    elif e["kind"] == "person":
        fam, _, given = e["name"].partition(", ")
        out.append(("token_order", f"{given} {fam.title()}"))
    return out


def _syllables(word: str) -> list[str]:
    for s in SYLLABLES:
        if word.startswith(s) and word[len(s):] in SYLLABLES:
            return [s, word[len(s):]]
    return []


def _pinyin_pool() -> list[str]:
    """Every toneless pinyin syllable of pypinyin's dictionary (~400), for decoy trade names."""
    import unicodedata
    from pypinyin.pinyin_dict import pinyin_dict
    out = set()
    for v in pinyin_dict.values():
        for p in v.split(","):
            syl = "".join(c for c in unicodedata.normalize("NFD", p) if not unicodedata.combining(c))
            if syl.isascii() and syl.isalpha() and len(syl) >= 2:
                out.add(syl)
    return sorted(out)


def decoys(entries: list[dict], rng: random.Random, n: int, listed_tokens: set[frozenset], words: set[str]) -> list[str]:
    """CN names with the distinctive word swapped for a new pinyin trade name, checked not to be listed:
    dropped if the new word is a listed word or within one edit (OSA) of ANY listed word (a one-edit
    variant of a listed name is the "typo" positive class, not a decoy), or the token set is a listed name's.

    The new word is two syllables from the whole pinyin inventory: the list's own 55-syllable pool is
    exhausted at 40,000 names (nearly every pair is some entry's trade name), which left 13-39 decoys, all
    one edit from another listed name — a labelling bug fixed on 2026-12-04 (see benchmarks/RESULTS.md)."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA
    cn = [e for e in entries if e["kind"] == "cn"]
    pool = _pinyin_pool()
    vocab = sorted(words)
    out = []
    tries = 0
    while len(out) < n and tries < n * 20:
        tries += 1
        e = rng.choice(cn)
        new = "".join(rng.sample(pool, 2)).capitalize()
        if new.lower() in words or process.extractOne(new.lower(), vocab, scorer=OSA.distance, score_cutoff=1):
            continue
        name = f"{e['place']} {new} {e['ind']} {e['legal']}"
        if frozenset(name.lower().replace(",", "").replace(".", "").split()) in listed_tokens:
            continue
        out.append(name)
    return out


def address_probes(entries: list[dict], rng: random.Random) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Variants of listed addresses (must alert) and other units of the same building (must not)."""
    pos, neg = [], []
    for e in (x for x in entries if x["kind"] == "address"):
        street = e["street"]
        short = street.replace("Road", "Rd")
        unit = e["unit"]
        u2 = unit.replace("Room ", "Rm ").replace("Flat ", "Flat/Rm ")
        pos += [(e["id"], f"{u2}, {e['floor']}F {e['building']}, {e['num']} {short}, {e['district'].replace(' ', '')}, HK"),
                (e["id"], f"{unit} {e['floor']}/F {e['building']} {e['num']} {street} Hong Kong"),
                (e["id"], f"{unit}, {e['floor']}th Floor, {e['building']}, {e['num']} {short}")]
        other = f"Room {e['floor'] + 1}{rng.randint(31, 60)}" if not unit.startswith("Unit") else "Unit Z"
        neg.append((e["id"], f"{other}, {e['floor'] + 1}/F, {e['building']}, {e['num']} {street}, {e['district']}, HK"))
    return pos, neg


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, default=40000)
    ap.add_argument("--queries", type=int, default=3000, help="entries to perturb (each gives several queries)")
    ap.add_argument("--split", choices=["dev", "test"], default="test")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--misses", type=Path, default=None,
                    help="write every miss and every decoy alert (JSONL) — for studying the dev split only")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from exportkb.screening import DEFAULT_THRESHOLD, Screener, load_list

    rng = random.Random(args.seed + (0 if args.split == "dev" else 1000))
    entries = generate(args.names, args.seed)
    pool = [e for e in entries if split_of(e["id"]) == args.split]
    chosen = rng.sample(pool, min(args.queries, len(pool)))
    held = {e["id"]: e["aliases"][-1] for e in chosen if e["kind"] == "cn" and len(e["aliases"]) >= 2}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "consolidated.csv"
        write_csl(entries, held, path)
        t0 = time.perf_counter()
        slist = load_list(path)
        screener = Screener.build(slist, args.threshold or DEFAULT_THRESHOLD)
        build_s = time.perf_counter() - t0
    listed = {frozenset(n.norm.key.split()) for n in screener.names}
    words = {t.text for n in screener.names for t in n.norm.core}
    queries: list[tuple[str, str, str]] = []  # (class, expected id or "", query)
    for e in chosen:
        for cls, q in variants(e, rng):
            queries.append((cls, e["id"], q))
        if e["id"] in held:
            queries.append(("held_out_alias", e["id"], held[e["id"]]))
    for d in decoys(entries, rng, max(300, len(chosen) // 3), listed, words):
        queries.append(("decoy", "", d))
    pos, neg = address_probes([e for e in entries if split_of(e["id"]) == args.split], rng)
    stats: dict[str, list[int]] = {}
    lat: list[float] = []
    misses: list[dict] = []
    t1 = time.perf_counter()
    for cls, want, q in queries:
        s = time.perf_counter()
        r = screener.screen("q", q)
        lat.append(time.perf_counter() - s)
        ok = (not r.alert) if cls.startswith("decoy") else any(m.entry_id == want and m.score >= screener.threshold for m in r.matches)
        if not ok and args.misses:
            listed = next((e["name"] for e in entries if e["id"] == want), "")
            misses.append({"class": cls, "query": q, "want": want, "listed": listed,
                           "got": [(m.entry_id, m.entry_name, m.score) for m in r.matches[:3]]})
        stats.setdefault(cls, [0, 0])
        stats[cls][0] += ok
        stats[cls][1] += 1
    names_s = time.perf_counter() - t1
    n_names = len(lat)
    for cls, probes, want_alert in (("address_only", pos, True), ("address_other_unit", neg, False)):
        for want, a in probes:
            s = time.perf_counter()
            r = screener.screen("q", "", a)
            lat.append(time.perf_counter() - s)
            hit = any(m.entry_id == want and m.score >= screener.threshold and m.kind == "address_only" for m in r.matches)
            flagged = any(m.entry_id == want and m.kind == "same_building_other_unit" for m in r.matches)
            ok = hit if want_alert else (not hit and flagged)
            stats.setdefault(cls, [0, 0])
            stats[cls][0] += ok
            stats[cls][1] += 1
    total_s = time.perf_counter() - t1
    pos_classes = [c for c in stats if not c.startswith("decoy") and c not in {"address_only", "address_other_unit"}]
    overall = sum(stats[c][0] for c in pos_classes) / max(1, sum(stats[c][1] for c in pos_classes))
    lat_ms = sorted(x * 1000 for x in lat)
    res = {
        "split": args.split, "seed": args.seed, "list_names": len(screener.names), "list_entries": len(slist.entries),
        "threshold": screener.threshold, "list_sha256": slist.sha256,
        "recall_overall": round(overall, 4),
        "per_class": {c: {"ok": v[0], "n": v[1], "rate": round(v[0] / v[1], 4)} for c, v in sorted(stats.items())},
        "decoy_alert_rate": round(1 - stats["decoy"][0] / stats["decoy"][1], 4) if "decoy" in stats else None,
        "throughput_parties_per_s": round(len(lat) / total_s, 1),
        "throughput_name_queries_per_s": round(n_names / names_s, 1),
        "latency_ms_p50": round(statistics.median(lat_ms), 3), "latency_ms_p95": round(lat_ms[int(0.95 * len(lat_ms)) - 1], 3),
        "index_build_s": round(build_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(f"screening benchmark ({args.split} split, seed {args.seed}; SYNTHETIC list in CSL layout): "
          f"{res['list_names']:,} names / {res['list_entries']:,} entries, threshold {res['threshold']}")
    for c, v in res["per_class"].items():
        print(f"  {c:22s} {v['ok']:6d}/{v['n']:<6d} correct {v['rate']:.4f}" if not c.startswith("decoy") else
              f"  {c:22s} {v['n'] - v['ok']:6d}/{v['n']:<6d} alerts {1 - v['rate']:.4f}")
    print(f"  recall overall {res['recall_overall']:.4f}; decoy alert rate {res['decoy_alert_rate']}")
    print(f"  throughput {res['throughput_parties_per_s']:,} parties/s (1 process, explanations included; "
          f"name queries alone {res['throughput_name_queries_per_s']:,}/s); "
          f"p50 {res['latency_ms_p50']} ms, p95 {res['latency_ms_p95']} ms; index {res['index_build_s']} s; "
          f"peak RSS {res['peak_rss_mb']} MB")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    if args.misses:
        args.misses.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in misses), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
