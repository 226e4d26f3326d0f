"""The import pages: upload a file, check the columns and the duplicate policy, follow the
run with the progress bar, download the report. The same services as the API and the CLI."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from guanxi.common.errors import ApplicationError
from guanxi.common.views import error_message, page
from guanxi.platform import custom_fields, permissions
from guanxi.platform.models import Action

from . import cleaning
from .importing import runner
from .models import DuplicatePolicy
from .services import imports

OBJECT_CHOICES = [("contacts", _("Contacts")), ("accounts", _("Accounts"))]
# The duplicate policies as the page offers them, the default first.
POLICIES = [
    (DuplicatePolicy.CREATE, _("Create them and flag them for review")),
    (DuplicatePolicy.SKIP, _("Skip the row")),
    (DuplicatePolicy.UPDATE, _("Update the existing record")),
]


class UploadForm(forms.Form):
    object = forms.ChoiceField(label=_("What the file holds"), choices=OBJECT_CHOICES)
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8 or GBK, comma, semicolon or tab) or Excel .xlsx; first row: headers."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )


def _ws(request) -> dict:
    return {"actor": request.user, "workspace": request.workspace}


@page
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = imports.import_upload(
                **_ws(request),
                object_key=form.cleaned_data["object"],
                file_name=upload.name,
                chunks=upload.chunks(),
                size=upload.size,
            )
        except ApplicationError as exc:
            form.add_error("file", error_message(exc))
        else:
            return redirect("customers:import_detail", run.pk)
    runs = imports.import_run_list(**_ws(request))[:10]
    return render(request, "customers/import.html", {"form": form, "runs": runs})


def _field_choices(workspace, object_key: str) -> list[tuple[str, str]]:
    choices = [("", str(_("— not imported —")))]
    for name, fdef in cleaning.fields_for(object_key).items():
        choices.append((name, f"{fdef.label} ({name})"))
    for definition in custom_fields.definitions(workspace, object_key):
        choices.append(
            (f"custom.{definition.key}", f"{definition.label} (custom.{definition.key})")
        )
    return choices


@page
@require_http_methods(["GET", "POST"])
def import_detail(request, pk: int):
    run = imports.import_run_get(**_ws(request), run_id=pk)
    started = run.job_id is not None or run.finished_at is not None
    object_name = "contacts" if run.object_key == cleaning.CONTACT_KEY else "accounts"
    mapping = runner.column_mapping(run)
    columns = [c for c in (run.mapping or {}) if c != runner.OPTIONS_KEY]
    saved = list(imports.import_mappings(**_ws(request), object_key=object_name))
    error = ""
    message = ""
    # An unstarted run carries the model's default; the page pre-selects "create".
    policy = request.POST.get(
        "on_duplicate", run.on_duplicate if started else DuplicatePolicy.CREATE
    )
    dry_run = bool(request.POST.get("dry_run")) if request.method == "POST" else run.dry_run
    strict = bool(request.POST.get("strict")) if request.method == "POST" else run.strict
    owner = request.POST.get("owner", "me")
    if not started and request.GET.get("mapping"):
        chosen = next((m for m in saved if str(m.pk) == request.GET["mapping"]), None)
        if chosen is not None:
            mapping = {c: chosen.mapping.get(c, mapping.get(c, "")) for c in columns}
    if request.method == "POST" and not started:
        posted = {c: request.POST.get(f"col-{i}", "") for i, c in enumerate(columns)}
        mapping = posted
        try:
            if request.POST.get("action") == "save_mapping":
                imports.import_mapping_save(
                    **_ws(request),
                    object_key=object_name,
                    name=request.POST.get("mapping_name", ""),
                    mapping=posted,
                )
                message = _("The mapping was saved.")
                saved = list(imports.import_mappings(**_ws(request), object_key=object_name))
            else:
                imports.import_start(
                    **_ws(request),
                    run_id=run.pk,
                    mapping=posted,
                    on_duplicate=policy,
                    dry_run=dry_run,
                    owner=owner,
                    strict=strict,
                )
                return redirect("customers:import_detail", run.pk)
        except ApplicationError as exc:
            error = error_message(exc)
    rows = [{"index": i, "column": c, "field": mapping.get(c, "")} for i, c in enumerate(columns)]
    list_url = "customers:contact_list" if object_name == "contacts" else "customers:account_list"
    context = {
        "run": run,
        "started": started,
        "rows": rows,
        "choices": _field_choices(request.workspace, run.object_key),
        "policies": POLICIES,
        "strict": strict,
        "warnings": run.warnings,
        "policy": policy,
        "dry_run": dry_run,
        "owner": owner,
        "saved": saved,
        "error": error,
        "message": message,
        "list_url": list_url,
        "object_name": object_name,
        "can_update": permissions.can(request.user, run.object_key, Action.UPDATE),
        "job": run.job,
    }
    return render(request, "customers/import_detail.html", context)


@page
def import_report(request, pk: int):
    run = imports.import_run_get(**_ws(request), run_id=pk)
    path = Path(run.error_path) if run.error_path else None
    if path is None or not path.exists():
        raise Http404()
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"import-{run.pk}-report.csv",
        content_type="text/csv; charset=utf-8",
    )
