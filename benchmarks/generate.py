"""Generate realistic random cases (JSONL) for benchmarks and batch runs.

    python -m benchmarks.generate 100000 > log.jsonl

Destinations, headquarters and parents are drawn from the KB's countries with a
bias towards the ones the rules distinguish (Tier 1, D:1/D:4, D:5, Macau);
items mix declared ECCNs, chip specs and model weights. Seeded: same N, same file.
"""
from __future__ import annotations

import json
import random
import sys
from typing import Any, Iterator

HOT = ["US", "DE", "NL", "JP", "KR", "TW", "GB", "FR", "IN", "AE", "SA", "MY", "SG", "BR", "MX",
       "IL", "CY", "NI", "CN", "MO", "RU", "VN", "KZ", "ID", "TH", "CH", "PL"]
ECCNS = ["3A090.a", "3A090.b", "4A090.a", "4A090.b", "5A992.z.1", "4A003.z.1.a", "EAR99"]
END_USES = ["ai_model_training", "development", "production", "storage", "datacenter_services", "other"]


def random_case(rng: random.Random, n: int, countries: list[str]) -> dict[str, Any]:
    pick = lambda: rng.choice(HOT) if rng.random() < 0.8 else rng.choice(countries)  # noqa: E731
    to = pick()
    hq = to if rng.random() < 0.7 else pick()
    parent = hq if rng.random() < 0.7 else pick()
    r = rng.random()
    if r < 0.55:
        item = {"id": "gpus", "eccn": rng.choice(ECCNS), "quantity": rng.choice([1, 8, 64, 500, 1000, 1700, 5000]),
                "tpp": rng.choice([3000, 4800, 9999, 15832])}
    elif r < 0.9:
        item = {"id": "chips", "kind": rng.choice(["ic", "computer"]), "quantity": rng.randint(1, 2000),
                "tpp": rng.randint(1000, 20000), "performance_density": str(round(rng.uniform(0.5, 12), 2)),
                "designed_for_datacenter": rng.random() < 0.7}
    else:
        item = {"id": "weights", "kind": "model_weights",
                "training_operations": rng.choice(["9e25", "1e26", "3e26", "5e24"]), "open_weights": rng.random() < 0.2}
    month = rng.randint(1, 12)
    transaction = rng.choice(["export", "export", "reexport", "transfer_in_country"])
    origin = {"export": "US", "reexport": "SG" if to != "SG" else "JP", "transfer_in_country": to}[transaction]
    if transaction == "export" and to == "US":
        transaction, origin = "reexport", "CA"
    return {
        "case": f"gen-{n}", "date": f"{rng.choice([2025, 2025, 2026])}-{month:02d}-{rng.randint(1, 28):02d}",
        "transaction": transaction, "from": origin, "to": to, "end_use": rng.choice(END_USES), "items": [item],
        "parties": [{"id": "uc", "role": "ultimate_consignee", "country": to, "headquarters": hq,
                     "ultimate_parent_headquarters": parent, "distributor": rng.random() < 0.1,
                     "government_controlled": rng.random() < 0.1}],
        "usage_this_year": {"lpp_tpp": rng.choice([0, 0, 10_000_000, 26_000_000])},
    }


def generate(n: int, seed: int = 2025, countries: list[str] | None = None) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    pool = countries or HOT
    for i in range(n):
        yield random_case(rng, i, pool)


def main(argv: list[str]) -> None:
    n = int(argv[1]) if len(argv) > 1 else 1000
    from exportkb import KnowledgeBase
    countries = sorted(KnowledgeBase.load().countries)
    for case in generate(n, countries=countries):
        sys.stdout.write(json.dumps(case) + "\n")


if __name__ == "__main__":
    main(sys.argv)
