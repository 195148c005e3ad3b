"""World size vs prompt size (issue 14, item 2): the largest prompt of a 2,000-word job in a project whose world
has 10, 100 or 1,000 entries, against the same job with no world and against pasting the whole world in.

    .venv/bin/python bench/world_prompt.py

All ten stages run in memory (`narraforge_dev.pipeline_double.run_pipeline`, the stage code of a job) on the
offline engine, so the figures are the same on every machine. Prompts are counted with bench/providers.py's
`prompt_tokens_of` (tiktoken o200k_base when installed, else the 4/3-tokens-a-word approximation, named in the
output). The worlds are synthetic but shaped like real ones: every section filled, descriptions of 20-40 words,
characters with a place, two relations and three facts, one featured character and a few locked rules."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import common  # noqa: F401 - puts the repository and the layer on sys.path
from narraforge.llm.base import Completion, Message, Usage
from narraforge.llm.offline import OfflineEngine
from narraforge.schemas.briefs import ProductionBrief
from narraforge.schemas.worlds import SECTIONS, WorldDocument
from providers import TOKENIZER, count_tokens, prompt_tokens_of

from narraforge_dev.pipeline_double import run_pipeline

JOB_ID = "bench-world-prompt"
SIZES = (10, 100, 1000)
BRIEF = {"production_type": "short_story", "genre": "fantasy", "target_length": 2000, "character_count": 4,
         "subject": "Mira Vell returns to Saltmere to learn what the tide took from her family",
         "style_instructions": "Lyrical but clear"}
SYLLABLES = ("ka", "lo", "ren", "vi", "sa", "tor", "mel", "ash", "din", "quo", "bra", "nel", "fi", "gar", "ul")
FILLER = ("salt", "tide", "glass", "memory", "lantern", "harbour", "oath", "storm", "ledger", "bell", "reef",
          "winter", "ash", "market", "tower", "debt", "song", "map", "key", "smoke", "rope", "ink", "gull", "wreck")


def world_of(entries: int) -> dict[str, Any]:
    """`entries` entries over the six sections (characters the largest), deterministic."""
    rng = random.Random(entries)
    names: set[str] = {"mira vell", "saltmere"}

    def name(words: int) -> str:
        while True:
            made = " ".join("".join(rng.sample(SYLLABLES, 2)).capitalize() for _ in range(words))
            if made.casefold() not in names:
                names.add(made.casefold())
                return made

    def text() -> str:
        return " ".join(rng.choice(FILLER) for _ in range(rng.randint(20, 40))).capitalize() + "."

    shares = {"places": 0.2, "rules": 0.1, "history": 0.15, "factions": 0.1, "glossary": 0.15, "characters": 0.3}
    counts = {section: int(entries * share) for section, share in shares.items()}
    counts["characters"] += entries - sum(counts.values())
    world: dict[str, Any] = {"summary": text(), "places": [{"name": "Saltmere", "description": text()}]}
    world["places"] += [{"name": name(2), "description": text()} for _ in range(counts["places"] - 1)]
    world["rules"] = [{"name": name(2), "description": text(), "locked": i < 3} for i in range(counts["rules"])]
    for section in ("history", "factions", "glossary"):
        world[section] = [{"name": name(2), "description": text()} for _ in range(counts[section])]
    people = ["Mira Vell", *[name(2) for _ in range(counts["characters"] - 1)]]
    world["characters"] = [
        {"name": person, "description": text(), "status": "dead" if i % 7 == 3 else "alive",
         "location": rng.choice(world["places"])["name"],
         "relationships": [{"to": other, "kind": rng.choice(["sister", "rival", "debtor", "teacher"])}
                           for other in rng.sample([p for p in people if p != person], min(2, len(people) - 1))],
         "knows": [text()[:200] for _ in range(3)]}
        for i, person in enumerate(people)]
    for section in SECTIONS:  # as the API stores them: every entry with an id
        for index, entry in enumerate(world[section]):
            entry["id"] = f"{section[:2]}{index:04d}"
    return WorldDocument.model_validate(world).model_dump(mode="json", exclude_none=True)


@dataclass
class Counted:
    """The offline engine, its prompts counted by bench/providers.py's tokenizer."""

    seed: str
    name: str = "offline"

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        reply = OfflineEngine(self.seed).complete(messages, **kw)
        usage = Usage(prompt_tokens_of(messages), reply.usage.completion_tokens)
        return Completion(reply.text, usage, reply.model, reply.finish_reason, reply.metadata)


def measure(world: dict[str, Any] | None) -> dict[str, Any]:
    brief = ProductionBrief(**BRIEF, featured_characters=["Mira Vell"] if world else [])
    ctx, narrative = run_pipeline(brief, job_id=JOB_ID, provider=Counted(JOB_ID), world=world)
    largest: dict[str, int] = defaultdict(int)
    for call in ctx.calls:
        largest[call.stage.value] = max(largest[call.stage.value], call.prompt_tokens)
    stage, tokens = max(largest.items(), key=lambda item: item[1])
    return {
        "entries": sum(len(world[s]) for s in SECTIONS) if world else 0,
        "world_json_tokens": count_tokens(json.dumps(world, ensure_ascii=False)) if world else 0,
        "largest_prompt_tokens": tokens, "largest_prompt_stage": stage,
        "world_architecture_prompt": largest["world_architecture"],
        "character_architecture_prompt": largest["character_architecture"],
        "entries_carried": len(narrative.metadata["world_entries_used"]),
        "words": narrative.word_count,
    }


def main() -> None:
    print(json.dumps({"tokenizer": TOKENIZER}))
    print(json.dumps({"world": "none", **measure(None)}))
    for size in SIZES:
        print(json.dumps({"world": size, **measure(world_of(size))}))


if __name__ == "__main__":
    main()
