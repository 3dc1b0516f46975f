from django.urls import path

from erp.views import area_home

app_name = "procurement"

urlpatterns = [
    path("", area_home, {"area": "procurement"}, name="index"),
]
