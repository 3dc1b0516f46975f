from django.urls import include, path

from inventory import views

app_name = "inventory"

# Pages live in inventory/views.py (and the import/export pages in inventory/views_io.py).
urlpatterns = [
    path("", views.index, name="index"),
    path("io/", include("inventory.urls_io")),
]
