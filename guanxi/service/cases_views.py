"""The cases part's pages: the agent queue, the case page (conversation, status, assignment,
edit, history), a new case (an agent on the phone), case types and categories. Views collect
input and render; the services and selectors do the work."""

from __future__ import annotations

from django.shortcuts import render

from guanxi.common.views import actor_scope, page

from .selectors import cases as selectors


@page
def case_detail(request, pk: int):
    case = selectors.case_get(**actor_scope(request), case_id=pk)
    return render(request, "service/cases/detail.html", {"case": case})
