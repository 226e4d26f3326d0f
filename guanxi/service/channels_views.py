"""The channels part's pages: the channel settings (the SMS provider, its webhook address
and secret, a test text, the mailboxes that open cases) and the SMS outbox and inbox."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.pagination import paginate
from guanxi.common.views import actor_scope, error_message, page
from guanxi.integrations import sms
from guanxi.integrations.models import SmsDirection
from guanxi.platform import mail, permissions
from guanxi.platform.models import Action

from .channels_forms import InboundForm, ProviderForm, SmsFilterForm, TestSmsForm
from .objects import CASE, CONFIGURATION
from .selectors import channels as selectors
from .services import channels as services

SMS_PAGE = 50


def _add_errors(form, exc: ApplicationError) -> None:
    placed = False
    for name, errors in exc.fields.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, str(error))
            placed = True
    if not placed:
        form.add_error(None, error_message(exc))


def _settings_context(request, *, provider_form=None, test_form=None, inbound_form=None):
    scope = actor_scope(request)
    account = services.sms_provider(**scope)
    can_change = permissions.can(request.user, CONFIGURATION, Action.UPDATE)
    current = services.channel_settings(request.workspace)
    if provider_form is None:
        options = account.options if account is not None else {}
        provider_form = ProviderForm(
            initial={
                "provider": account.provider if account is not None else "console",
                "send_url": options.get("send_url", ""),
                "sender": options.get("sender", ""),
            }
        )
    if inbound_form is None:
        inbound_form = InboundForm(
            workspace=request.workspace,
            initial={
                "case_mailbox_ids": current.case_mailbox_ids,
                "inbound_case_type": current.inbound_case_type_id,
                "sms_thread_days": current.sms_thread_days,
            },
        )
    webhook_url = ""
    if account is not None:
        webhook_url = mail.absolute_url(reverse("hooks:sms_inbound", args=[account.public_key]))
    return {
        "account": account,
        "can_change": can_change,
        "provider_form": provider_form,
        "test_form": test_form or TestSmsForm(),
        "inbound_form": inbound_form,
        "webhook_url": webhook_url,
        "secret": account.secret if account is not None and can_change else "",
        "inbound_type": services.inbound_case_type(request.workspace, current),
    }


@page
def channel_settings(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return render(request, "service/channels/settings.html", _settings_context(request))


@page
@require_POST
def provider_save(request):
    form = ProviderForm(request.POST)
    if form.is_valid():
        try:
            services.sms_provider_update(**actor_scope(request), **form.cleaned_data)
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, gettext("The SMS provider is saved."))
            return redirect("service:channel_settings")
    else:
        permissions.require(request.user, CONFIGURATION, Action.UPDATE)
    context = _settings_context(request, provider_form=form)
    return render(request, "service/channels/settings.html", context, status=400)


@page
@require_POST
def secret_rotate(request):
    try:
        services.sms_provider_rotate_secret(**actor_scope(request))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, gettext("A new secret is made: give it to the gateway."))
    return redirect("service:channel_settings")


@page
@require_POST
def test_send(request):
    form = TestSmsForm(request.POST)
    if form.is_valid():
        try:
            message = services.sms_test_send(**actor_scope(request), **form.cleaned_data)
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, gettext("A test text to %(phone)s is queued.") % {"phone": message.phone}
            )
            return redirect(f"{reverse('service:sms_list')}?direction=out")
    else:
        permissions.require(request.user, CONFIGURATION, Action.UPDATE)
    context = _settings_context(request, test_form=form)
    return render(request, "service/channels/settings.html", context, status=400)


@page
@require_POST
def inbound_save(request):
    form = InboundForm(request.POST, workspace=request.workspace)
    if form.is_valid():
        try:
            services.channel_settings_update(**actor_scope(request), values=form.cleaned_data)
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("service:channel_settings")
    else:
        permissions.require(request.user, CONFIGURATION, Action.UPDATE)
    context = _settings_context(request, inbound_form=form)
    return render(request, "service/channels/settings.html", context, status=400)


@page
def sms_list(request):
    form = SmsFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    direction = data.get("direction") or SmsDirection.OUTBOUND
    phone = sms.phone_e164(data.get("phone") or "") or ""
    qs = selectors.sms_messages(
        **actor_scope(request), direction=direction, state=data.get("state") or "", phone=phone
    )
    result = paginate(
        qs, key="pk", descending=True, cursor=request.GET.get("cursor"), limit=SMS_PAGE
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "direction": direction,
        "page": result,
        "rows": result.items,
        "query": query.urlencode(),
        "case_key": CASE,
        "can_read_cases": permissions.can(request.user, CASE, Action.READ),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "service/channels/sms_rows.html", context)
    return render(request, "service/channels/sms_list.html", context)
