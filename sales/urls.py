from django.urls import path

from erp.views import area_home

app_name = "sales"

urlpatterns = [
    path("", area_home, {"area": "sales"}, name="index"),
]
