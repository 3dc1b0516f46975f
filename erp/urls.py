from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from erp import views, views_jobs, views_keys, views_notifications, views_settings
from erp.api import api

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("search/", views.search, name="search"),
    path("events/", views.event_list, name="events"),
    path("notifications/", views_notifications.notification_list, name="notifications"),
    path("notifications/<int:pk>/open/", views_notifications.notification_open, name="notification-open"),
    path(
        "notifications/read-all/", views_notifications.notifications_read_all, name="notifications-read-all"
    ),
    path("comments/<str:document>/", views_notifications.comment_add, name="comment-add"),
    path("jobs/", views_jobs.job_list, name="jobs"),
    path("jobs/<int:pk>/", views_jobs.job_detail, name="job"),
    path("settings/", views_settings.settings_home, name="settings"),
    path("settings/company/", views_settings.company, name="settings-company"),
    path("settings/users/", views_settings.users, name="settings-users"),
    path("settings/users/invite/", views_settings.user_invite, name="settings-user-invite"),
    path("settings/users/<int:pk>/", views_settings.user_detail, name="settings-user"),
    path("settings/users/<int:pk>/<slug:action>/", views_settings.user_action, name="settings-user-action"),
    path(
        "settings/set-password/<uidb64>/<token>/", views_settings.set_password, name="settings-set-password"
    ),
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
