"""The catalogues (web/translations): every message the app can show is in the template and
translated in every language it ships, with the same placeholders. `make messages` refreshes
them; this fails when someone wraps or changes a sentence and forgets to."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from api.i18n import LOCALES, TRANSLATIONS, extract_questionnaire, localized

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")


def _in_the_code() -> set[str]:
    """Every message extracted from the code, templates and questionnaires right now."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _file, _line, message, _c, _ctx in found}


def _catalogue(language: str) -> dict[str, object]:
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalogue = read_po(po)
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): m
        for m in catalogue
        if m.id and not m.fuzzy and m.string and (isinstance(m.string, str) or all(m.string))
    }


def test_the_template_holds_every_message_of_the_code() -> None:
    with open(TRANSLATIONS / "messages.pot", "rb") as pot:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    missing = sorted(_in_the_code() - template)
    assert not missing, f"run `make messages`: not in messages.pot yet: {missing[:10]}"


@pytest.mark.parametrize("language", [code for code in LOCALES if code != "en"])
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    translated = _catalogue(language)
    untranslated = sorted(_in_the_code() - set(translated))
    assert not untranslated, f"untranslated or fuzzy in {language}: {untranslated[:10]}"
    for message in translated.values():
        ids = (message.id,) if isinstance(message.id, str) else message.id  # type: ignore[attr-defined]
        strings = (message.string,) if isinstance(message.string, str) else message.string  # type: ignore[attr-defined]
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            # A singular may leave the count out ("Il est temps de faire le suivi"), nothing else.
            lost = wanted - set(PLACEHOLDER.findall(text)) - ({"%(num)s", "%(count)s"} if len(ids) > 1 else set())
            extra = set(PLACEHOLDER.findall(text)) - set(PLACEHOLDER.findall(" ".join(ids)))
            assert not lost and not extra, f"{ids[0]!r} → {text!r}: placeholders differ"


def test_a_questionnaire_gives_its_wording_and_keeps_its_identifiers() -> None:
    path = ROOT / "feedback" / "questionnaires" / "immediate.v1.json"
    with open(path, "rb") as data:
        texts = [message for _line, _function, message, _comments in extract_questionnaire(data, (), (), {})]
    assert "Did it help?" in texts and "Was this kind of help something you wanted?" in texts
    assert "I'm not sure" in texts, "option labels are wording"
    assert "immediate.v1" not in texts and "wanted" not in texts and "unsure" not in texts, "ids and values are not"


def test_a_localized_questionnaire_changes_its_wording_only(app: object) -> None:
    from feedback import questionnaires

    english = questionnaires.load("immediate.v1")
    with app.test_request_context(headers={"Accept-Language": "fr"}):  # type: ignore[attr-defined]
        french = localized(english)
    assert french.title != english.title and french.items[0].prompt != english.items[0].prompt
    assert [item.id for item in french.items] == [item.id for item in english.items]
    assert [o.value for o in french.items[0].options] == [o.value for o in english.items[0].options]
    assert french.pad_to == english.pad_to
