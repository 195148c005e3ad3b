"""The offline engine's vocabularies: word banks, phrase templates and lexicons kept as JSON in `data/`, so the
engine's code reads as code. Each file is parsed on first use and shared after (the engine never mutates them).

Files, one per bank group and language (`<group>_en.json`, `<group>_pl.json`), each a table of named banks:
- `lexicon`: `genres` (per genre the place-name parts, objects, senses, threats, themes, rules and trades, so a
  story reads as its genre), `names` (first names by gender, surnames; Polish ones as [masculine, feminine]) and,
  in Polish, `place_forms`: a place kind's two forms the templates need ("w wieży", "do wieży").
- `phrases`: the prose's sentence templates (English past tense prose and present tense scripts, Polish present
  tense). Slots: {A}/{a_obj}/{a_poss} the acting character, {B}/{b_obj}/{b_poss} another one, {place}, {obj},
  {the_obj}, {sense}, {threat}, {emotion}, {time}, {weather}, {adj}, {want}, {fear}, {gesture}; in Polish
  `{v:3sg|1sg|2sg}` picks the verb form for the acting character's person. Besides openers, narration, dialogue
  and closers: `image_parts`, `adjectives` and `nouns` combine freely into many distinct sentences (keeps
  distinct-n high); `bridges` go at a seam between segments; `subject` sentences return a few times per segment
  to what the author asked for; `introductions` name the protagonist as the subject does; `endings` by tone
  ([people, images]; "plain" is the default, bittersweet); `threat_again` names a danger already named;
  `mood_lines` say the style's describing words once.
- `grammar`: the phrase grammar's frames and slot pools. English spoken frames carry no quotes and no final
  punctuation; `tails` vary the frames' fixed endings so no four-word run recurs on every use. Polish nouns are
  [nominative, accusative, genitive, gender] and adjectives [masculine, feminine, neuter], so a pair agrees by
  construction; `predicates` and `char_verbs` are 3rd person singular present (the latter transitive: an
  accusative object follows).
- `plans`: the planners' place descriptions, wants, fears, voices ([voice, phrase]), act and segment titles and
  beats (English ones as [past tense for prose, present tense for scripts]).
- `subject`: the subject reader's word lists (stop words, verbs, pronoun cues; English `irregular` verbs as
  third person → [past, base]); `style`: tone stems and the words that name the writing itself, both languages.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

# Beside this module in the package and in the Lambda layer (an unzipped directory); a plain path keeps
# importlib.resources and its imports (zipfile, tempfile...) off the stage runner's cold start.
DATA = Path(__file__).with_name("data")


@cache
def load(name: str) -> dict[str, Any]:
    """The data file `data/<name>.json`, parsed once per process."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))

