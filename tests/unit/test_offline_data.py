"""The offline engine's vocabularies are data files in its package: they must ship with the package (the
`[tool.setuptools.package-data]` patterns of pyproject.toml) and load, the engine must name no file that is not
there, and API functions must still not load the engine at their cold start."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import narraforge
from narraforge.llm.offline import subject, vocab
from narraforge.llm.offline.vocab import load

from tests.helpers import NO_ENVIRONMENT, REPO, in_fresh_interpreter

PACKAGE = Path(narraforge.__file__).parent
ENGINE = Path(vocab.__file__).parent
DATA = vocab.DATA
# How the engine's code names a data file: "<group>_<language>" or "style".
DATA_NAME = re.compile(r"""["'](?P<name>(?:lexicon|phrases|grammar|plans|subject)_(?:en|pl)|style)["']""")


def _data_files() -> set[str]:
    return {p.stem for p in DATA.glob("*.json")}


def test_every_data_file_the_engine_names_is_there_and_no_other():
    named = {m["name"] for p in ENGINE.glob("*.py") for m in DATA_NAME.finditer(p.read_text(encoding="utf-8"))}
    assert named == _data_files() == {f"{group}_{lang}" for group in ("lexicon", "phrases", "grammar", "plans",
                                                                      "subject") for lang in ("en", "pl")} | {"style"}


def test_the_package_data_patterns_ship_every_data_file():
    """What setuptools copies into the wheel (and the editable install lists) is what these patterns match."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["narraforge"]
    shipped = {path for pattern in patterns for path in PACKAGE.glob(pattern)}
    assert set(DATA.glob("*.json")) <= shipped
    assert len(_data_files()) == 11


def test_each_data_file_loads_once_as_a_table_of_banks():
    for name in sorted(_data_files()):
        table = load(name)
        assert isinstance(table, dict) and table, name
        assert all(bank for bank in table.values()), f"{name} has an empty bank"
        assert load(name) is table, "parsed again instead of shared"


def test_the_word_lists_keep_the_engine_s_grammar():
    """Spot checks that the data kept its shape: agreed Polish pairs, two-tense beats, sets of words."""
    grammar_pl = load("grammar_pl")
    assert all(len(noun) == 4 and noun[3] in "mfn" for noun in grammar_pl["nouns"])
    assert all(len(adjective) == 3 for adjective in grammar_pl["adjectives"])
    assert all(len(beat) == 2 for beat in load("plans_en")["beats"])
    assert {"the", "and", "must"} <= subject.stop_words("en") and "się" in subject.stop_words("pl")
    assert subject.read_subject("A wizard apprentice discovers forbidden magic").motif == "forbidden magic"


def test_api_functions_do_not_load_the_offline_engine_at_cold_start():
    api = sorted(p.parent.name for p in (REPO / "functions").glob("*/app.py")
                 if p.parent.name not in {"stage_runner", "reconciler"})
    probe = "import importlib, json, sys\n" + "".join(f"importlib.import_module('functions.{n}.app')\n" for n in api)
    probe += "print(json.dumps(sorted(m for m in sys.modules if m.startswith('narraforge.llm.offline'))))"
    assert len(api) >= 5
    assert in_fresh_interpreter(probe, NO_ENVIRONMENT) == []
