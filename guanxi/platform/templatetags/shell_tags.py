"""Tags of the page shell: the top bar's widgets that apps register (``platform.home``)."""

from django import template

from .. import home

register = template.Library()


@register.inclusion_tag("platform/_topbar_widgets.html", takes_context=True)
def topbar_widgets(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {"widgets": home.widgets_for(user) if signed_in else []}
