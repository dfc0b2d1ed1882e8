"""Text for people, written in English and translated where it is shown.

The domain speaks no language of its own choosing: it marks its sentences for the
translation catalogue (``N_``, collected by `make messages`) and leaves translating to
whoever shows them, the pages with the reader's language, emails with the words given.
"""

from collections.abc import Mapping


def N_(text: str) -> str:
    """Marks English text for the translation catalogue; whoever shows it translates it."""
    return text


class Wording(str):
    """A sentence for a person that the pages can show in the reader's language.

    It *is* the English sentence, filled in (so the API's messages and logs read as they
    always did), and it keeps its ``template`` (marked with ``N_``) and the ``values`` put
    into it, some of which may be Wordings themselves, for ``api.i18n.in_words``.
    """

    template: str
    values: Mapping[str, object]

    def __new__(cls, template: str, **values: object) -> "Wording":
        made = super().__new__(cls, template % values)  # %% in a template is a %
        made.template, made.values = template, values
        return made


class Choices(tuple[str, ...]):
    """Names of options (wording from a questionnaire) inside a Wording: “A” or “B”."""

    def __str__(self) -> str:
        return N_(" or ").join(N_("“%(name)s”") % {"name": name} for name in self)
