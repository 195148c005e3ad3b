"""A writer's whole journey through the Studio in Chromium: sign up → project → brief → live progress → read →
exports → regenerate with instructions → diff of versions 1 and 2 → rename → delete the account; axe-core on
every page, screenshots of the form, the job view mid-run and the reader for the README."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, new_context, screenshot
from tests.helpers import PASSWORD, unique_email

SUBJECT = "A lighthouse keeper finds a letter addressed to her from next year"
EXPORTS = {"txt": b"", "md": b"", "pdf": b"%PDF", "epub": b"PK", "docx": b"PK"}


def watch_progress(page: Page) -> list[int]:
    """Every distinct value the progress bar shows until the job's page offers the story (sampled every 50 ms)."""
    bar = page.get_by_role("progressbar", name="Job progress")
    read = page.get_by_role("link", name="Read the story")
    seen: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        value = int(bar.get_attribute("aria-valuenow"))
        if not seen or seen[-1] != value:
            seen.append(value)
            if len(seen) == 3 and value < 100:
                screenshot(page, "job-view.png")
        if read.count():
            final = int(bar.get_attribute("aria-valuenow"))  # the value shown with the link, not a sample before it
            return seen if seen[-1] == final else [*seen, final]
        page.wait_for_timeout(50)
    raise AssertionError(f"the job did not finish in the browser; progress seen: {seen}")


def test_writer_journey(page: Page, studio_url: str):
    email = unique_email("studio")
    openapi = httpx.get(f"{studio_url}/v1/openapi.json").json()["components"]["schemas"]

    # Sign up.
    page.goto("/")
    timing = page.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
    print(f"first load: DOMContentLoaded {timing['domContentLoadedEventEnd']:.0f} ms, "
          f"load {timing['loadEventEnd']:.0f} ms")
    assert_accessible(page, "start page")
    page.get_by_role("link", name="Create an account").click()
    assert_accessible(page, "sign up")
    page.get_by_label("Your name (optional)").fill("Ada Writer")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".field-error")).to_contain_text("12")  # the API's 422, next to the password field
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/library$"))

    # A project with defaults.
    expect(page.get_by_role("heading", name="Library", level=1)).to_be_visible()
    assert_accessible(page, "library")
    page.get_by_label("Project name").fill("Coastal tales")
    page.get_by_label("Default genre").select_option("mystery")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Coastal tales", level=1)).to_be_visible()
    assert_accessible(page, "project")
    page.get_by_label("Project name").fill("Coastal tales, vol. 1")
    page.get_by_role("button", name="Save project").click()
    expect(page.get_by_text("Project saved.", exact=True).last).to_be_visible()

    # The brief: the API's own enums, its 422 inline, then a job.
    page.get_by_role("link", name="Write a story in this project").click()
    genre = page.get_by_label("Genre", exact=True)
    expect(genre).to_be_visible()
    options = genre.locator("option").evaluate_all("els => els.map(e => e.value)")
    assert options == ["", *openapi["Genre"]["enum"]]
    expect(genre.locator("option").first).to_have_text("Project default (Mystery)")
    page.get_by_label("Production type").select_option("short_story")
    page.get_by_label("Subject").fill("Too short")
    page.get_by_label("Target length (words)").fill("9000")  # the FREE plan's longest: a few seconds offline
    page.get_by_label("Style instructions").fill("Quiet, precise, melancholic")
    page.get_by_label("Setting and period").fill("1930s Baltic coast")
    page.get_by_role("button", name="Start writing").click()
    subject_error = page.locator(".field-invalid", has=page.get_by_label("Subject")).locator(".field-error")
    expect(subject_error).to_contain_text("at least 10 characters")
    expect(page.get_by_label("Subject")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Subject").fill(SUBJECT)
    page.get_by_role("button", name="Estimate cost and time").click()  # before submitting: nothing is used up
    expect(page.get_by_test_id("estimate")).to_contain_text("Estimated cost: $0.00")
    expect(page.get_by_test_id("estimate")).to_contain_text("offline demo engine")
    screenshot(page, "new-story-form.png")
    assert_accessible(page, "new story")
    page.get_by_role("button", name="Start writing").click()

    # The job view: progress updates live, ten stages, then the story.
    expect(page).to_have_url(re.compile(r"/watch/"))
    expect(page.locator(".stage")).to_have_count(10)
    seen = watch_progress(page)
    print(f"progress seen: {seen}")
    channel = page.get_by_test_id("channel")  # the progress came pushed over the WebSocket, not polled
    expect(channel).to_have_text("live")
    assert int(channel.get_attribute("data-pushes")) >= 20  # at least each stage's start and end
    assert len(seen) >= 4 and seen[-1] == 100 and seen == sorted(seen), seen  # >= 3 updates after the first
    expect(page.locator(".stage-done")).to_have_count(10)
    expect(page.get_by_role("status").filter(has_text="Job completed")).to_have_count(1)
    assert int(page.get_by_test_id("tokens").inner_text().replace(",", "")) > 0
    expect(page.get_by_test_id("segments")).to_have_text(re.compile(r"^(\d+) of \1$"))  # all drafted, n of N
    assert_accessible(page, "job view")

    # The reader.
    page.get_by_role("link", name="Read the story").click()
    story = page.get_by_role("article")
    expect(story.get_by_role("heading", level=1)).to_be_visible()
    assert len(story.locator("p").all_inner_texts()) > 5
    expect(page.get_by_test_id("reading-facts")).to_contain_text(re.compile(r"[\d,]+ words · about \d+ min read"))
    expect(page.get_by_test_id("quality-source")).to_contain_text("Not judged by a language model")
    expect(story.locator(".notice")).to_have_text("Demo text, written without a language model")
    screenshot(page, "reader.png", full_page=False)
    assert_accessible(page, "reader")
    narrative_url = page.url

    # Exports in all five formats, downloaded with the bearer token.
    for fmt, magic in EXPORTS.items():
        with page.expect_download() as info:
            page.get_by_role("button", name=re.compile(rf"\(\.{fmt}\)$")).click()
        download = info.value
        assert download.suggested_filename.endswith(f".{fmt}"), download.suggested_filename
        body = download.path().read_bytes()
        assert len(body) > 100 and body.startswith(magic), (fmt, body[:20])

    # Regenerate with instructions, then compare versions 1 and 2.
    page.get_by_role("link", name="Compare versions and regenerate").click()
    assert_accessible(page, "versions (one)")
    page.get_by_label("Instructions").fill("Make the ending hopeful")
    page.get_by_role("button", name="Regenerate story").click()
    expect(page).to_have_url(re.compile(r"/watch/"))
    expect(page.get_by_role("link", name="Read the story")).to_be_visible(timeout=60_000)
    page.get_by_role("link", name="Read the story").click()
    expect(page.get_by_role("article")).to_contain_text("version 2")
    page.get_by_role("link", name="Compare versions and regenerate").click()
    expect(page.get_by_role("cell", name="Make the ending hopeful")).to_be_visible()
    page.get_by_label("Left version").select_option("1")
    page.get_by_label("Right version").select_option("2")
    diff = page.get_by_test_id("diff")
    expect(diff.get_by_role("heading", name="Version 1")).to_be_visible()
    expect(diff.get_by_role("heading", name="Version 2")).to_be_visible()
    assert diff.locator("ins").count() > 0 and diff.locator("del").count() > 0
    assert_accessible(page, "versions (diff)")

    # Rename, kept by the API.
    page.goto(narrative_url)
    page.get_by_label("Story title").fill("The Letter From Next Year")
    page.get_by_role("button", name="Rename story").click()
    expect(page.get_by_role("article").get_by_role("heading", level=1)).to_have_text("The Letter From Next Year")
    page.reload()
    expect(page.get_by_role("article").get_by_role("heading", level=1)).to_have_text("The Letter From Next Year")

    # Plan and usage.
    page.get_by_role("link", name="Plan").click()
    expect(page.get_by_text("2 of 5")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(2)
    assert_accessible(page, "plan")

    # Delete the account: the password is asked again, and the login is gone.
    page.get_by_role("link", name="Account").click()
    assert_accessible(page, "account")
    page.get_by_label("Password").fill("Wrong-password-123")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(re.compile(r"/signin\?deleted=1$"))
    login = httpx.post(f"{studio_url}/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 401


def test_small_screen_dark_mode_and_refresh(browser, studio_url: str):
    """At 375 px in dark mode nothing scrolls sideways and axe finds no contrast problem; a reload keeps the
    session (refresh token in sessionStorage, a new access token in memory)."""
    context = new_context(browser, studio_url, viewport={"width": 375, "height": 812}, color_scheme="dark")
    page = context.new_page()
    page.goto("/signup")
    page.get_by_label("Email").fill(unique_email("mobile"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Library", level=1)).to_be_visible()
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    for path, heading in (("/library", "Library"), ("/write", "New story"), ("/plan", "Plan and usage"),
                          ("/account", "Account")):
        page.goto(path)  # a full load: the session comes back from sessionStorage's refresh token
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        assert_accessible(page, f"{path} at 375 px, dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 19, 24)", background
    context.close()
