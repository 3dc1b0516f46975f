from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from erp import views, views_keys
from erp.api import api

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("search/", views.search, name="search"),
    path("events/", views.event_list, name="events"),
    path("keys/", views_keys.key_list, name="keys"),
    path("keys/new/", views_keys.key_create, name="key-new"),
    path("keys/<int:pk>/revoke/", views_keys.key_revoke, name="key-revoke"),
    path("inventory/", include("inventory.urls")),
    path("sales/", include("sales.urls")),
    path("procurement/", include("procurement.urls")),
    path("manufacturing/", include("manufacturing.urls")),
    path("integrations/", include("integrations.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

admin.site.site_header = "ERP administration"
admin.site.site_title = "ERP admin"
