from django.urls import path, re_path

from integrations import demo, hooks, views
from integrations.views import demo as demo_views
from integrations.views import fulfilment, simulate
from integrations.views import oauth as oauth_views
from integrations.views.connections import field_owners_set, ownership_set

# The demo's fake shop answers here (404 unless the fakes are on); a served app mounts it now,
# and every connector package's demo fake (integrations/<key>/demo.py) at fake-<key>/.
demo.install_fakes_for_serving()
demo_views.install_connector_fakes_for_serving()

app_name = "integrations"

urlpatterns = [
    path("", views.index, name="index"),
    path("hooks/<int:connection_id>/", hooks.receive, name="hook"),
    path("hooks/app/<slug:connector>/", hooks.receive_for_app, name="hook-app"),
    path("status/", views.hub_status, name="hub-status"),
    path("simulate/", simulate.simulate_day, name="simulate-day"),
    path("connectors/", views.catalogue, name="catalogue"),
    path("fulfilment/", fulfilment.fulfilment, name="fulfilment"),
    path("connectors/<str:connector>/new/", views.connection_create, name="connection-new"),
    path("connections/<int:pk>/", views.connection_detail, name="connection"),
    path("connections/<int:pk>/settings/", views.connection_edit, name="connection-edit"),
    path("connections/<int:pk>/delete/", views.connection_delete, name="connection-delete"),
    re_path(
        r"^connections/(?P<pk>\d+)/(?P<action>test|poll|reconcile|health-check|import-products|pause|resume)/$",
        views.connection_action,
        name="connection-action",
    ),
    path("connections/<int:pk>/ownership/", ownership_set, name="connection-ownership"),
    path("connections/<int:pk>/field-owners/", field_owners_set, name="connection-field-owners"),
    path("connections/<int:pk>/oauth/connect/", oauth_views.oauth_connect, name="oauth-connect"),
    path("oauth/callback/", oauth_views.oauth_callback, name="oauth-callback"),
    path("connections/<int:pk>/sync/", views.sync_log, name="connection-sync"),
    path("connections/<int:pk>/inbound/", views.event_list, name="connection-events"),
    path("connections/<int:pk>/deliveries/", views.delivery_list, name="connection-deliveries"),
    path("connections/<int:pk>/quarantine/", views.quarantine, name="connection-quarantine"),
    path("connections/<int:pk>/quarantine/map/", views.quarantine_map, name="quarantine-map"),
    path("connections/<int:pk>/quarantine/replay/", views.quarantine_replay, name="quarantine-replay"),
    path("connections/<int:pk>/reconciliation/", views.drift_list, name="connection-drifts"),
    path("connections/<int:pk>/mappings/", views.mappings, name="connection-mappings"),
    path("connections/<int:pk>/mappings/sku/", views.sku_mapping_add, name="sku-mapping-add"),
    path(
        "connections/<int:pk>/value-mappings/<slug:kind>/", views.value_mapping_set, name="value-mapping-set"
    ),
    path(
        "connections/<int:pk>/value-mappings/<slug:kind>/delete/",
        views.value_mapping_delete,
        name="value-mapping-delete",
    ),
    path("connections/<int:pk>/products/", views.product_options, name="product-options"),
    path("connections/<int:pk>/simulate-order/", views.simulate_order, name="simulate-order"),
    path("connections/<int:pk>/demo/<slug:name>/", demo_views.demo_action, name="connection-demo"),
    path("sync-runs/<int:pk>/", views.sync_run_detail, name="sync-run"),
    path("inbound/<int:pk>/", views.event_detail, name="event"),
    path("inbound/<int:pk>/replay/", views.event_replay, name="event-replay"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery-retry"),
    path("drifts/<int:pk>/heal/", views.drift_heal, name="drift-heal"),
    path("drifts/<int:pk>/resolve/", views.drift_resolve, name="drift-resolve"),
    path("refs/<int:pk>/delete/", views.sku_mapping_delete, name="sku-mapping-delete"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook"),
    path("webhooks/<int:pk>/rotate-secret/", views.webhook_rotate, name="webhook-rotate"),
    path("webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook-delete"),
    path("webhooks/deliveries/<int:pk>/replay/", views.webhook_delivery_replay, name="webhook-replay"),
    path(f"{demo.FAKE_PATH}/", demo_views.fake_status, name="fake-shopify"),
    path(f"{demo.FAKE_PATH}/<path:rest>", demo_views.fake_api, name="fake-shopify-api"),
    path("fake-<slug:key>/<path:rest>", demo_views.connector_fake_api, name="fake-connector-api"),
]
