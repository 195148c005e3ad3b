"""The offline engine through the real handlers and the real ASL: what a user reads says it is a demo, shows no
judged score, is about the brief, and a regeneration's instructions change the ending."""

from __future__ import annotations

from narraforge.pipeline.text import paragraphs, words

from tests.helpers import wait_for_execution
from tests.pipeline.conftest import short_brief

HOPEFUL = {"hope", "hopeful", "light", "morning", "smiled", "laughed", "laughing", "warm", "together", "spring",
           "sun", "kinder", "beginning", "shone", "singing", "home", "gift", "clear", "right", "better"}
DARK = {"dark", "cold", "alone", "gone", "ash", "silence", "final", "nothing", "guttered", "harder", "forgive",
        "lost", "grave", "grey", "shut", "water", "pretend", "price", "paid"}


def last_paragraph_tone(text: str) -> tuple[int, int]:
    last = [w.lower() for w in words(paragraphs(text)[-1])]
    return sum(w in HOPEFUL for w in last), sum(w in DARK for w in last)


def test_a_demo_narrative_says_so_and_reports_no_judged_score(writer, provider):
    brief = short_brief(genre="fantasy", subject="A wizard apprentice discovers forbidden magic",
                        style_instructions="Quiet, precise", target_length=900)
    job = writer.post("/jobs/", json={"project_id": writer.project_id, "production_brief": brief}).json()
    assert wait_for_execution(job["execution_arn"])["status"] == "SUCCEEDED"
    nid = writer.get(f"/jobs/{job['id']}").json()["narrative_id"]
    narrative = writer.get(f"/narratives/{nid}").json()
    assert narrative["overall_quality_score"] is None
    quality = narrative["quality_metrics"]
    assert quality["judged"] is False and quality["overall_score_source"] == "none"
    assert quality["coherence_score"] is None and quality["distinct_2"] > 0
    assert narrative["narrative_metadata"]["engine"] == "offline"
    assert narrative["narrative_metadata"]["notice"] == "Demo text, written without a language model"
    text = narrative["narrative_text"].lower()
    assert all(word in text for word in ("wizard", "apprentice", "forbidden", "magic"))
    listed = writer.get("/narratives/", params={"project_id": writer.project_id}).json()
    assert [n["overall_quality_score"] for n in listed["items"] if n["id"] == nid] == [None]

    regen = writer.post(f"/narratives/{nid}/regenerate", json={"instructions": "Make the ending hopeful"})
    assert regen.status_code == 202, regen.text
    assert wait_for_execution(regen.json()["execution_arn"])["status"] == "SUCCEEDED"
    hopeful = writer.get(f"/narratives/{nid}/text").text
    up, down = last_paragraph_tone(hopeful)
    assert up >= 2 and down == 0, paragraphs(hopeful)[-1]
    assert paragraphs(hopeful)[-1] != paragraphs(narrative["narrative_text"])[-1]
    versions = writer.get(f"/narratives/{nid}/versions").json()
    assert [v["overall_score"] for v in versions] == [None, None]
