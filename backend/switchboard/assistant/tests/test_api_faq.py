"""/api/assistant/faq/: create, list, read, replace, change, delete; owners and admins write, agents read; another
organization's entry is a 404 for every method and stays as it was."""

from __future__ import annotations

import pytest

from conftest import client_for
from switchboard.accounts.models import Role
from switchboard.assistant import settings_services
from switchboard.assistant.models import FaqEntry

pytestmark = pytest.mark.django_db

URL = "/api/assistant/faq/"
NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


def test_crud(owner_client, org):
    created = owner_client.post(
        URL, {"question": "  Do you charge a fee?  ", "answer": "No fee for tenants."}, format="json"
    )
    assert created.status_code == 201
    entry = created.json()
    assert set(entry) == {"id", "question", "answer", "created_at", "updated_at"}
    assert (entry["question"], entry["answer"]) == ("Do you charge a fee?", "No fee for tenants.")
    owner_client.post(URL, {"question": "Are pets allowed?", "answer": "In most flats."}, format="json")

    listed = owner_client.get(URL).json()
    assert [item["question"] for item in listed] == ["Are pets allowed?", "Do you charge a fee?"]  # by question

    detail = f"{URL}{entry['id']}/"
    assert owner_client.get(detail).json()["answer"] == "No fee for tenants."

    patched = owner_client.patch(detail, {"answer": "No fee for tenants; landlords pay 5%."}, format="json")
    assert patched.status_code == 200
    assert patched.json()["question"] == "Do you charge a fee?"
    assert patched.json()["answer"] == "No fee for tenants; landlords pay 5%."

    replaced = owner_client.put(detail, {"question": "Fees?", "answer": "None."}, format="json")
    assert (replaced.json()["question"], replaced.json()["answer"]) == ("Fees?", "None.")

    assert owner_client.put(detail, {"question": "Fees?"}, format="json").status_code == 400  # PUT needs both

    assert owner_client.delete(detail).status_code == 204
    assert owner_client.get(detail).status_code == 404
    assert list(FaqEntry.objects.for_organization(org).values_list("question", flat=True)) == ["Are pets allowed?"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"question": "", "answer": "x"}, {"question": ["This field may not be blank."]}),
        ({"question": "   ", "answer": "x"}, {"question": ["This field may not be blank."]}),
        ({"question": "Q"}, {"answer": ["This field is required."]}),
        (
            {"question": "Q" * 501, "answer": "x"},
            {"question": ["Ensure this field has no more than 500 characters."]},
        ),
        ({"question": "Q", "answer": "a" * 5001}, {"answer": ["Ensure this field has no more than 5000 characters."]}),
    ],
)
def test_invalid_entries_are_400(owner_client, body, errors):
    response = owner_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert not FaqEntry.objects.exists()


def test_agents_read_and_may_not_write(agent_client, org):
    entry = settings_services.faq_create(organization=org, question="Q?", answer="A.")
    detail = f"{URL}{entry.pk}/"

    assert agent_client.get(URL).status_code == 200
    assert agent_client.get(detail).json()["question"] == "Q?"
    assert agent_client.post(URL, {"question": "X", "answer": "Y"}, format="json").status_code == 403
    assert agent_client.patch(detail, {"answer": "Z"}, format="json").status_code == 403
    assert agent_client.delete(detail).status_code == 403
    assert FaqEntry.objects.get(pk=entry.pk).answer == "A."


def test_admins_write(make_user, org):
    client = client_for(make_user(org, Role.ADMIN))

    assert client.post(URL, {"question": "X", "answer": "Y"}, format="json").status_code == 201


def test_another_organizations_entry_is_a_404(owner_client, org, make_org):
    other = make_org("Other Agency")
    theirs = settings_services.faq_create(organization=other, question="Their question", answer="Their answer")
    detail = f"{URL}{theirs.pk}/"

    for method, body in (("get", None), ("put", {"question": "Q", "answer": "A"}), ("patch", {"answer": "A"})):
        response = getattr(owner_client, method)(detail, body, format="json")
        assert (response.status_code, response.json()) == (404, NOT_FOUND), method
    assert owner_client.delete(detail).status_code == 404
    assert owner_client.get(URL).json() == []
    theirs.refresh_from_db()
    assert (theirs.question, theirs.answer) == ("Their question", "Their answer")


def test_the_services_refuse_another_organizations_entry(org, make_org):
    theirs = settings_services.faq_create(organization=make_org(), question="Q", answer="A")

    with pytest.raises(FaqEntry.DoesNotExist):
        settings_services.faq_update(organization=org, entry=theirs, data={"answer": "B"})
    with pytest.raises(FaqEntry.DoesNotExist):
        settings_services.faq_delete(organization=org, entry=theirs)
    assert FaqEntry.objects.get(pk=theirs.pk).answer == "A"


def test_the_faq_holds_a_bounded_number_of_entries(owner_client, org, monkeypatch):
    monkeypatch.setattr(settings_services, "FAQ_MAX_ENTRIES", 2)
    for n in range(2):
        assert owner_client.post(URL, {"question": f"Q{n}", "answer": "A"}, format="json").status_code == 201

    response = owner_client.post(URL, {"question": "Q3", "answer": "A"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "The FAQ holds at most 2 entries: delete or merge some first.",
        "code": "faq_limit",
    }
    assert FaqEntry.objects.for_organization(org).count() == 2


def test_ids_that_are_no_ids_are_404(owner_client):
    assert owner_client.get(f"{URL}9223372036854775808/").status_code == 404
    assert owner_client.get(f"{URL}abc/").status_code == 404
