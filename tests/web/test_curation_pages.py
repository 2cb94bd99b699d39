"""Clinician feedback → curation queue; role-dependent controls; publish a release → the ask page serves it.

Keys and the registry are set up the way an operator does before the first start (CurationService, as the
CLI does); everything a clinician, curator or approver does after that happens in the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
DEMO_Q = "From what age should people at average risk begin colorectal cancer screening?"
CORRECTION = "Screening should start at 45 only for average-risk adults; check the age range."


@pytest.fixture(scope="module")
def keys(live) -> dict[str, str]:
    from app.curation.roles import cli_actor
    from app.curation.service import CurationService

    svc = CurationService(live.app.state.settings)
    root = cli_actor("root")
    out = {name: svc.create_key(root, name, role)["key"] for name, role in (
        ("rita", "reader"), ("carol", "clinician"), ("cora", "curator"), ("abe", "approver"))}
    svc.dispose()
    return out


def use_key(page, key: str | None) -> None:
    if key is None:
        page.get_by_role("button", name="Forget key").click()
        return
    page.get_by_role("textbox", name="API key").fill(key)
    page.get_by_role("button", name="Use key").click()
    expect(page.locator("#key-status")).to_have_text("A key is set for this tab.")


def ask(page, url: str, question: str = DEMO_Q) -> str:
    page.goto(f"{url}/")
    page.get_by_label("Clinical question").fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()
    art = page.locator("#answer article")
    expect(art).to_have_attribute("data-status", "answered")
    return art.get_attribute("data-query-id")


def test_clinician_feedback_reaches_the_curators_queue(live, keys, page, shot, axe):
    page.goto(f"{live.url}/")
    use_key(page, keys["carol"])
    query_id = ask(page, live.url)
    assert query_id
    first = page.locator("#answer li.sentence").first
    sentence = first.locator(".text").text_content()
    first.get_by_text("Feedback on sentence 1").click()
    first.get_by_label("Unsupported").check()
    first.get_by_label("Correction or comment (optional)").fill(CORRECTION)
    shot(page, "ask-feedback")
    axe(page, "the feedback form")
    first.get_by_role("button", name="Send feedback").click()
    done = first.locator(".fb-result .ok")
    expect(done).to_contain_text("curation item #")
    item_id = done.text_content().split("curation item #")[1].split(" ")[0]
    cit = page.locator("#citation-1")
    cit.get_by_text("Feedback on citation 1").click()
    cit.get_by_label("Wrong span").check()
    cit.get_by_role("button", name="Send feedback").click()
    expect(cit.locator(".fb-result .ok")).to_contain_text("(citation error)")

    use_key(page, keys["cora"])
    page.goto(f"{live.url}/curate")
    row = page.locator(f'#queue-table tr[data-item="{item_id}"]')
    expect(row).to_have_attribute("data-query-id", query_id)
    expect(row).to_contain_text("Sentence 1: unsupported")
    expect(row).to_contain_text(sentence)
    expect(row.locator("q.correction")).to_have_text(CORRECTION)
    expect(row).to_contain_text("carol (clinician)")
    expect(page.locator("#queue-table tbody tr", has_text="Citation 1: wrong span")).to_have_count(1)
    page.get_by_label("Status").select_option("pending")
    expect(page.locator(f'#queue-table tr[data-item="{item_id}"]')).to_be_visible()
    shot(page, "curation-queue")
    axe(page, "the curation page")
    row.get_by_role("button", name="Assign").click()  # pending → triaged: it leaves the 'pending' view
    expect(page.locator("#queue p.ok")).to_contain_text(f"Item #{item_id}: triage done.")
    expect(page.locator(f'#queue-table tr[data-item="{item_id}"]')).to_have_count(0)
    page.get_by_label("Status").select_option("triaged")
    expect(page.locator(f'#queue-table tr[data-item="{item_id}"]')).to_contain_text("assigned to cora")
    page.locator(f'#queue-table tr[data-item="{item_id}"]').get_by_role("button", name="Resolve").click()
    expect(page.locator("#queue p.ok")).to_contain_text(f"Item #{item_id}: resolve done.")
    page.get_by_label("Status").select_option("resolved")
    expect(page.locator(f'#queue-table tr[data-item="{item_id}"]')).to_contain_text("resolved")


CURATOR_BUTTONS = ("Assign", "Resolve", "Dismiss", "Submit for approval", "Approve", "Reject", "Publish", "Roll back to this")


@pytest.mark.parametrize("who", [None, "rita"])
def test_a_reader_sees_no_curator_controls(live, keys, page, who, shot):
    page.goto(f"{live.url}/")
    if who:
        use_key(page, keys[who])
    ask(page, live.url)
    expect(page.locator("#answer details.feedback")).to_have_count(0)  # feedback needs a clinician key
    page.goto(f"{live.url}/curate")
    expect(page.locator("#curate-denied")).to_be_visible()
    expect(page.locator("#queue-table, #releases-table, #registry-table")).to_have_count(0)
    for name in CURATOR_BUTTONS:
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    if who:
        expect(page.locator("#curate-denied")).to_contain_text("rita with the reader role")
        shot(page, "curation-reader")
    # the fragments themselves: the API refuses the reader, and no control is rendered either
    headers = {"X-API-Key": keys[who]} if who else {}
    for frag in ("/ui/releases", "/ui/queue", "/ui/registry"):
        html = page.request.get(f"{live.url}{frag}", headers=headers).text()
        assert 'role="alert"' in html and "<button" not in html, frag


def build_release(live) -> dict:
    """A curator registers two guideline versions and builds a release (the CLI's `releases build`)."""
    from app.curation.roles import Actor
    from app.curation.service import CurationService

    svc = CurationService(live.app.state.settings)
    cora = Actor("cora", "curator")
    for slug, name, title in (("demo-crc", "colorectal-cancer-screening.md", "Colorectal Cancer Screening"),
                              ("demo-htn", "hypertension-adults.md", "Hypertension in Adults")):
        svc.create_guideline(cora, slug=slug, title=title, issuer="Demo")
        svc.add_version(cora, slug, "2026.1", name, (REPO / "guidelines" / name).read_bytes())
    from ingest.embed import get_embedder

    rel = svc.build_release(cora, "two demo guidelines", embedder=get_embedder())
    svc.dispose()
    return rel


def click_release(page, release_id: int, label: str) -> None:
    page.locator(f'#releases-table tr[data-release="{release_id}"]').get_by_role("button", name=label).click()


def test_publish_a_release_and_the_ask_page_serves_it(live, keys, page, shot, axe):
    page.on("dialog", lambda d: d.accept())
    before = (live.index_dir / "CURRENT").read_text().strip()
    rel = build_release(live)
    assert rel["index_version"] != before
    page.goto(f"{live.url}/")
    expect(page.locator("#served-release")).to_have_text(before)
    use_key(page, keys["cora"])
    page.goto(f"{live.url}/curate")
    row = page.locator(f'#releases-table tr[data-release="{rel["id"]}"]')
    expect(row).to_have_attribute("data-status", "built")
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)  # a curator cannot approve
    click_release(page, rel["id"], "Submit for approval")
    expect(row).to_have_attribute("data-status", "submitted")

    use_key(page, keys["abe"])
    page.goto(f"{live.url}/curate")
    click_release(page, rel["id"], "Approve")
    expect(row).to_have_attribute("data-status", "approved")
    shot(page, "curation-releases")
    axe(page, "the releases table")
    click_release(page, rel["id"], "Publish")
    expect(row).to_have_attribute("data-status", "published")
    expect(page.locator("#served-release")).to_have_text(rel["index_version"])  # the header line reloads
    expect(page.locator("#release")).to_contain_text(f"release #{rel['id']}, published")  # shown to curator roles

    page.goto(f"{live.url}/")
    expect(page.locator("#served-release")).to_have_text(rel["index_version"])
    ask(page, live.url)
    expect(page.locator("#answer article .hint").first).to_contain_text(f"index {rel['index_version']}")
    shot(page, "ask-after-publish")
