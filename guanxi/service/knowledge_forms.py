"""The knowledge base's forms. They only read and render input; the services validate
(titles, languages, categories, products, translations) and the views put the services'
messages on the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ArticleCategory, ArticleVisibility
from .services.knowledge import BODY_MAX, LANGUAGES, NOTE_MAX, TITLE_MAX


class ServiceErrorsForm(forms.Form):
    # The services' field names that this form shows under another field.
    aliases: dict[str, str] = {}

    def add_service_error(self, exc) -> None:
        """Put a service's field messages on the matching fields, the rest on top."""
        placed = False
        for name, messages in (exc.fields or {}).items():
            target = self.aliases.get(name, name)
            if target in self.fields:
                for message in messages:
                    self.add_error(target, str(message))
                placed = True
        if not placed:
            self.add_error(None, str(exc.message))


def category_choices(workspace, *, exclude=None) -> list[tuple]:
    """The categories as a flat list, sub-categories indented under their parent."""
    rows = list(ArticleCategory.objects.in_workspace(workspace).order_by("position", "name", "pk"))
    children: dict = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    out: list[tuple] = [("", "—")]

    def walk(parent, depth):
        for row in children.get(parent, []):
            if exclude is not None and row.pk == exclude:
                continue  # nor anything below it
            out.append((row.pk, "\u00a0\u00a0" * depth + row.name))
            if depth < 20:
                walk(row.pk, depth + 1)

    walk(None, 0)
    return out


class ArticleForm(ServiceErrorsForm):
    aliases = {
        "category_id": "category",
        "product_id": "product",
        "translation_of_id": "translation_of",
    }

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    body = forms.CharField(
        label=_("Text"),
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea({"rows": 18, "class": "kb-editor"}),
        help_text=_(
            "Markdown: # heading, **bold**, *italic*, - list, 1. list, > quote, "
            "[link text](https://…), `code`; a blank line starts a new paragraph."
        ),
    )
    category = forms.TypedChoiceField(
        label=_("Category"), required=False, coerce=int, empty_value=None
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES)
    visibility = forms.ChoiceField(
        label=_("Visibility"),
        choices=ArticleVisibility.choices,
        help_text=_("Public articles are also shown to customers in the self-service portal."),
    )
    product = forms.CharField(
        label=_("Product code"),
        max_length=64,
        required=False,
        help_text=_("Optional: the catalogue product the article is about."),
    )
    translation_of = forms.IntegerField(
        label=_("Translation of article no."),
        required=False,
        min_value=1,
        help_text=_("Optional: the number of the same article in the other language."),
    )
    note = forms.CharField(
        label=_("What changed"),
        max_length=NOTE_MAX,
        required=False,
        help_text=_("A short note for the version history."),
    )
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(workspace)


class CategoryForm(ServiceErrorsForm):
    aliases = {"parent_id": "parent"}

    name = forms.CharField(label=_("Name"), max_length=80)
    name_en = forms.CharField(label=_("English name"), max_length=80, required=False)
    parent = forms.TypedChoiceField(label=_("Inside"), required=False, coerce=int, empty_value=None)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=32767, initial=0)

    def __init__(self, *args, workspace, exclude=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = category_choices(workspace, exclude=exclude)

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["parent_id"] = data.pop("parent")
        data["position"] = data.get("position") or 0
        return data
