"""Conformance: the official Huawei Cloud Python SDKs drive `apigsync emulator`.

huaweicloudsdkapig (apigw paths, APIG instance) and huaweicloudsdkroma (apic
paths, ROMA instance) sign every request with SDK-HMAC-SHA256 and parse every
response into their models, so a wire mismatch shows up here.

Environment (set by run.sh): APIGSYNC_EMULATOR_URL, APIGSYNC_AK, APIGSYNC_SK.
"""

import json
import os
import uuid

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig

import huaweicloudsdkapig.v2 as apig
import huaweicloudsdkroma.v2 as roma

PROJECT = "c0ffee00c0ffee00c0ffee00c0ffee00"
RELEASE = "DEFAULT_ENVIRONMENT_RELEASE_ID"
FLAVOURS = {
    "apig": (apig, apig.ApigClient, "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"),
    "roma": (roma, roma.RomaClient, "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"),
}


def make_client(client_class, ak, sk):
    config = HttpConfig.get_default_config()
    config.timeout = (5, 10)
    return (
        client_class.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(ak, sk, PROJECT))
        .with_endpoints([os.environ["APIGSYNC_EMULATOR_URL"]])
        .build()
    )


class Gateway:
    """One flavour: its SDK module, a signed client and the instance id."""

    def __init__(self, name):
        self.m, client_class, self.instance = FLAVOURS[name]
        self.client = make_client(client_class, os.environ["APIGSYNC_AK"], os.environ["APIGSYNC_SK"])
        self.client_class = client_class

    def call(self, op, request_name, **kwargs):
        request = getattr(self.m, request_name)(instance_id=self.instance, **kwargs)
        return getattr(self.client, op)(request)

    def create(self, name, kind="cors", content=None, remark=None):
        body = self.m.PluginCreate(
            plugin_name=name,
            plugin_type=kind,
            plugin_scope="global",
            plugin_content=json.dumps(content if content is not None else {"allow_origin": "*"}),
            remark=remark,
        )
        return self.call("create_plugin", "CreatePluginRequest", body=body)

    def api_id(self, name):
        resp = self.call("list_apis_v2", "ListApisV2Request", name=name, precise_search="name")
        assert resp.total == 1
        return resp.apis[0].id

    def env_id(self, name):
        resp = self.call("list_environments_v2", "ListEnvironmentsV2Request", name=name)
        return [e for e in resp.envs if e.name == name][0].id


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=sorted(FLAVOURS))
def gw(request):
    return Gateway(request.param)


def expect_error(status, code, fn, *args, **kwargs):
    with pytest.raises(ClientRequestException) as info:
        fn(*args, **kwargs)
    assert (info.value.status_code, info.value.error_code) == (status, code), info.value
    assert info.value.request_id, "X-Request-Id reaches the SDK"
    return info.value


def test_create_show_update_list_delete(gw):
    name = unique("cors")
    created = gw.create(name, content={"allow_origin": "*", "max_age": 600}, remark="by the SDK")
    assert created.plugin_name == name and created.plugin_type == "cors"
    assert json.loads(created.plugin_content) == {"allow_origin": "*", "max_age": 600}
    pid = created.plugin_id

    shown = gw.call("show_plugin", "ShowPluginRequest", plugin_id=pid)
    assert (shown.plugin_id, shown.remark) == (pid, "by the SDK")

    body = gw.m.PluginCreate(
        plugin_name=name + "_v2", plugin_type="cors", plugin_scope="global",
        plugin_content=json.dumps({"allow_origin": "https://a.example"}), remark="",
    )
    updated = gw.call("update_plugin", "UpdatePluginRequest", plugin_id=pid, body=body)
    assert updated.plugin_name == name + "_v2"

    listed = gw.call("list_plugins", "ListPluginsRequest", plugin_name=name + "_v2", precise_search="plugin_name")
    assert listed.total == 1 and listed.size == 1 and listed.plugins[0].plugin_id == pid

    gw.call("delete_plugin", "DeletePluginRequest", plugin_id=pid)
    expect_error(404, "APIG.3068", gw.call, "show_plugin", "ShowPluginRequest", plugin_id=pid)


def test_attach_detach_both_directions_and_binding_reads(gw):
    pid = gw.create(unique("cors")).plugin_id
    orders, get_one = gw.api_id("orders_list"), gw.api_id("orders_get")
    attached = gw.call(
        "attach_api_to_plugin", "AttachApiToPluginRequest", plugin_id=pid,
        body=gw.m.PluginOperApiInfo(env_id=RELEASE, api_ids=[orders, get_one]),
    )
    assert sorted(a.api_id for a in attached.attached_plugins) == sorted([orders, get_one])
    assert all(a.env_name == "RELEASE" for a in attached.attached_plugins)

    apis = gw.call("list_plugin_attached_apis", "ListPluginAttachedApisRequest", plugin_id=pid, env_id=RELEASE)
    assert apis.total == 2
    plugins = gw.call("list_api_attached_plugins", "ListApiAttachedPluginsRequest", api_id=orders)
    assert [p.plugin_id for p in plugins.plugins] == [pid]

    test_env = gw.env_id("TEST")
    other = gw.create(unique("hdrs"), kind="set_resp_headers", content={"response_headers": []}).plugin_id
    gw.call(
        "attach_plugin_to_api", "AttachPluginToApiRequest", api_id=orders,
        body=gw.m.ApiOperPluginInfo(env_id=test_env, plugin_ids=[other]),
    )
    attachable = gw.call("list_plugin_attachable_apis", "ListPluginAttachableApisRequest", plugin_id=other, env_id=test_env)
    assert orders not in [a.api_id for a in attachable.apis]
    attachable_plugins = gw.call("list_api_attachable_plugins", "ListApiAttachablePluginsRequest", api_id=orders, env_id=test_env)
    assert other not in [p.plugin_id for p in attachable_plugins.plugins]

    gw.call(
        "detach_plugin_from_api", "DetachPluginFromApiRequest", api_id=orders,
        body=gw.m.ApiOperPluginInfo(env_id=test_env, plugin_ids=[other]),
    )
    gw.call(
        "detach_api_from_plugin", "DetachApiFromPluginRequest", plugin_id=pid,
        body=gw.m.PluginOperApiInfo(env_id=RELEASE, api_ids=[orders, get_one]),
    )
    assert gw.call("list_plugin_attached_apis", "ListPluginAttachedApisRequest", plugin_id=pid).total == 0
    assert gw.call("list_plugin_attached_apis", "ListPluginAttachedApisRequest", plugin_id=other).total == 0
    for p in (pid, other):
        gw.call("delete_plugin", "DeletePluginRequest", plugin_id=p)


def test_documented_error_codes(gw):
    name = unique("dup")
    pid = gw.create(name).plugin_id
    err = expect_error(400, "APIG.3326", gw.create, name)
    assert "already exists" in err.error_msg
    expect_error(404, "APIG.3068", gw.call, "show_plugin", "ShowPluginRequest", plugin_id="0" * 32)

    unpublished = gw.api_id("orders_delete")
    expect_error(
        409, "APIG.3707", gw.call, "attach_api_to_plugin", "AttachApiToPluginRequest", plugin_id=pid,
        body=gw.m.PluginOperApiInfo(env_id=RELEASE, api_ids=[unpublished]),
    )
    gw.call(
        "attach_api_to_plugin", "AttachApiToPluginRequest", plugin_id=pid,
        body=gw.m.PluginOperApiInfo(env_id=RELEASE, api_ids=[gw.api_id("orders_list")]),
    )
    expect_error(409, "APIG.3462", gw.call, "delete_plugin", "DeletePluginRequest", plugin_id=pid)
    err = expect_error(400, "APIG.2012", gw.create, unique("bad"), content=[1, 2])
    assert "parameterName:plugin_content" in err.error_msg


def test_wrong_secret_and_unknown_key_are_401(gw):
    for ak, sk in ((os.environ["APIGSYNC_AK"], "not-the-secret"), ("UNKNOWNAK00000000000", "x")):
        client = make_client(gw.client_class, ak, sk)
        with pytest.raises(ClientRequestException) as info:
            client.list_plugins(gw.m.ListPluginsRequest(instance_id=gw.instance))
        assert info.value.status_code == 401
        assert info.value.error_code == "APIGW.0301"


def test_pagination(gw):
    prefix = unique("page")
    for i in range(7):
        gw.create(f"{prefix}_{i}")
    first = gw.call("list_plugins", "ListPluginsRequest", plugin_name=prefix, limit=3, offset=0)
    assert (first.total, first.size) == (7, 3)
    seen = []
    offset = 0
    while True:
        page = gw.call("list_plugins", "ListPluginsRequest", plugin_name=prefix, limit=3, offset=offset)
        seen += [p.plugin_name for p in page.plugins]
        offset += page.size
        if page.size < 3:
            break
    assert seen == [f"{prefix}_{i}" for i in range(7)], "stable creation order, no gaps or repeats"
    clamped = gw.call("list_plugins", "ListPluginsRequest", plugin_name=prefix, limit=1000, offset=-5)
    assert clamped.size == 7
