"""The customers' self-service portal, under /portal/<workspace slug>/ (no staff login)."""

from django.urls import path

from . import portal_views as views

app_name = "portal"

urlpatterns = [
    path("<slug:slug>/", views.home, name="home"),
    path("<slug:slug>/search/", views.search, name="search"),
    path("<slug:slug>/topics/<int:category_id>/", views.category, name="category"),
    path("<slug:slug>/articles/<int:article_id>/", views.article, name="article"),
    path(
        "<slug:slug>/articles/<int:article_id>/helpful/",
        views.article_helpful,
        name="article_helpful",
    ),
    path("<slug:slug>/sign-in/", views.sign_in, name="sign_in"),
    path("<slug:slug>/sign-in/code/", views.sign_in_code, name="sign_in_code"),
    path("<slug:slug>/sign-out/", views.sign_out, name="sign_out"),
    path("<slug:slug>/cases/", views.cases, name="cases"),
    path("<slug:slug>/cases/new/", views.case_new, name="case_new"),
    path("<slug:slug>/cases/<str:number>/", views.case_detail, name="case"),
    path("<slug:slug>/cases/<str:number>/reply/", views.case_reply, name="case_reply"),
    path("<slug:slug>/cases/<str:number>/solved/", views.case_solved, name="case_solved"),
]
