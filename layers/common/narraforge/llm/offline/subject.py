"""What the offline engine reads out of a brief: the subject's protagonist, event and motif, the style's
mood words and the tone a regeneration asks for.

A plain-text heuristic, not a parser: "A wizard apprentice discovers forbidden magic" gives the protagonist
"wizard apprentice", the event "discovered forbidden magic" and the motif "forbidden magic", so the plans
and the text are about what the author asked for. When the subject names no protagonist (no
article-led noun phrase before a verb), the engine falls back to its genre's word banks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from narraforge.llm.offline.vocab import load

WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Polish: a third-person present verb ends the protagonist's noun phrase (data/subject_pl.json lists common
# ones; these endings catch the rest).
PL_VERB_SUFFIXES = ("uje", "ywa", "iwa", "ije")


@cache
def _sets(name: str) -> dict[str, frozenset[str]]:
    """The word lists of data file `name` as sets (membership is all the reader asks of them), built once."""
    return {key: frozenset(words) for key, words in load(name).items() if isinstance(words, list)}


def stop_words(language: str = "en") -> frozenset[str]:
    """The function words of `language` ('en' or 'pl'), which carry no meaning of their own."""
    return _sets("subject_pl" if language == "pl" else "subject_en")["stop"]


def words_of(text: str) -> list[str]:
    return WORD_RE.findall(text or "")


def content_words(text: str, language: str = "en") -> list[str]:
    """The words that carry meaning (no stop words, no short function words), in order, lowercased, unique."""
    stop = stop_words(language)
    seen: list[str] = []
    for word in words_of(text):
        low = word.lower()
        if low not in stop and len(low) > 2 and low not in seen:
            seen.append(low)
    return seen


def tone_of(text: str | None) -> str | None:
    """'hopeful', 'dark' or 'funny' when the text asks for that tone (English or Polish), else None."""
    low = (text or "").lower()
    hits = {tone: sum(low.count(w) for w in stems) for tone, stems in load("style")["tone_words"].items()}
    best = max(hits, key=lambda t: hits[t])
    return best if hits[best] else None


def style_moods(style: str | None, language: str = "en") -> list[str]:
    """The describing words of the style instructions ("Quiet, precise, melancholic" → all three), without
    the words that name the writing itself (tone, sentences, dialogue...)."""
    craft = _sets("style")["craft_words"]
    return [w for w in content_words(style or "", language) if w not in craft]


def _en_verb(word: str) -> tuple[str, str] | None:
    """(past, base) of an English third-person verb, or None when the word does not look like one."""
    low = word.lower()
    irregular = load("subject_en")["irregular"]  # third person → [past, base]
    if low in irregular:
        past, base = irregular[low]
        return past, base
    not_verbs = _sets("subject_en")["not_verbs"]
    if low in not_verbs or not low.endswith("s") or low.endswith(("ss", "us", "is", "ous")) or len(low) < 4:
        return None
    if low.endswith("ies"):
        return low[:-3] + "ied", low[:-3] + "y"
    if low.endswith(("ches", "shes", "sses", "xes", "zes")):
        return low[:-2] + "ed", low[:-2]
    base = low[:-1]
    return (base + "d" if base.endswith("e") else base + "ed"), base


@dataclass(frozen=True)
class Subject:
    """The brief's subject read for the offline engine; empty strings when a part is not there."""

    text: str
    language: str
    role: str = ""  # the protagonist as the subject names them: "wizard apprentice"
    verb: str = ""  # as written: "discovers"
    past: str = ""  # English past: "discovered" (Polish narration is in the present, so the verb as written)
    rest: str = ""  # what follows the verb: "forbidden magic"
    motif: str = ""  # the noun phrase the story turns on: "forbidden magic"
    pronouns: str | None = None
    words: list[str] = field(default_factory=list)

    @property
    def event(self) -> str:
        """The subject as something the protagonist did (no name): 'discovered forbidden magic'."""
        if not self.verb:
            return ""
        return f"{self.verb if self.language == 'pl' else self.past} {self.rest}".strip()

    @property
    def event_present(self) -> str:
        return f"{self.verb} {self.rest}".strip() if self.verb else ""


def read_subject(subject: str, language: str = "en") -> Subject:
    text = str(subject or "").strip().rstrip(".!")
    tokens = text.split()
    found = content_words(text, language)
    if language == "pl":
        return _read_pl(text, tokens, found)
    return _read_en(text, tokens, found)


def _read_en(text: str, tokens: list[str], found: list[str]) -> Subject:
    clean = [t.strip(",;:") for t in tokens]
    if not clean or clean[0].lower() not in {"a", "an", "the"}:
        return Subject(text, "en", words=found)
    for i in range(2, min(len(clean), 8)):
        forms = _en_verb(clean[i])
        if forms is None:
            continue
        role = " ".join(clean[1:i])
        rest = " ".join(clean[i + 1 :])
        return Subject(text, "en", role=role, verb=clean[i].lower(), past=forms[0], rest=rest,
                       motif=_en_motif(clean[i + 1 :]), pronouns=_pronouns(clean), words=found)
    return Subject(text, "en", words=found)


def _en_motif(rest: list[str]) -> str:
    """The first noun phrase after the verb, cut before a clause or a participle: 'a map of roads'."""
    en = _sets("subject_en")
    low = [w.lower() for w in rest]
    start, limit = 0, 5
    if low and (low[0] in en["cut"] or low[0] in en["prepositions"] or low[0].endswith("ed")
                or low[0] in {"back", "away", "home"}):
        start = next((i for i, w in enumerate(low) if w in en["determiners"] and i > 0), len(low))
        limit = 2 if low[0] in en["cut"] else 3
    out: list[str] = []
    for k in range(start, len(low)):
        w = low[k]
        if (out and (w in en["cut"] or (w.endswith("ed") and len(out) >= 2))) or len(out) == limit:
            break
        out.append(rest[k])
    if out and out[0].lower() in {"her", "his", "their", "its", "my", "our"}:
        out[0] = "the"
    if out and out[-1].lower() in en["stop"]:
        out = out[:-1]
    return " ".join(out)


def _pronouns(tokens: list[str]) -> str | None:
    low = {t.lower() for t in tokens}
    she, he = _sets("subject_en")["she_words"], _sets("subject_en")["he_words"]
    if low & she and not low & he:
        return "she/her"
    if low & he and not low & she:
        return "he/him"
    return None


def _read_pl(text: str, tokens: list[str], found: list[str]) -> Subject:
    pl = _sets("subject_pl")
    clean = [t.strip(",;:") for t in tokens]
    for i in range(1, min(len(clean), 6)):
        low = clean[i].lower()
        if low in pl["verbs"] or (low.endswith(PL_VERB_SUFFIXES) and len(low) > 5):
            role = " ".join(clean[:i])
            role = role[:1].lower() + role[1:] if not clean[0][1:2].isupper() else role
            rest = " ".join(clean[i + 1 :])
            head = clean[0].lower()
            pronouns = "she/her" if head.endswith("a") and head not in pl["masculine_a"] else "he/him"
            after = clean[i + 1].lower() if len(clean) > i + 1 else ""
            motif = "" if after in pl["not_objects"] else " ".join(clean[i + 1 : i + 4])
            return Subject(text, "pl", role=role, verb=low, past=low, rest=rest, motif=motif, pronouns=pronouns,
                           words=found)
    return Subject(text, "pl", words=found)
