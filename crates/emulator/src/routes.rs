//! The APIG routes (SPEC §3) under `/v2/{project_id}/{apigw|apic}/instances/{instance_id}`.
//! Handlers only parse, call the store operations and render.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::bindings::{self, BindBody};
use super::error::ServiceError;
use super::gate::PREFIX;
use super::plugins::PluginBody;
use super::quirks_service;
use super::responses::{self, Query};
use super::shared::{InstanceRef, Shared, lock};
use super::store::{ApiRec, BindingRec, Instance, PluginRec};

type Res = Result<Response, ServiceError>;
type S = State<Arc<Shared>>;
type P3 = Path<(String, String, String)>;
type P4 = Path<(String, String, String, String)>;

fn target(project: String, segment: String, instance: String) -> InstanceRef {
    InstanceRef {
        project,
        segment,
        instance,
    }
}

/// The APIG routes, without the front door (see `gate`).
pub fn router() -> Router<Arc<Shared>> {
    let r = |suffix: &str| format!("{PREFIX}{suffix}");
    Router::new()
        .route(&r("/plugins"), post(create_plugin).get(list_plugins))
        .route(
            &r("/plugins/{plugin_id}"),
            get(show_plugin).put(update_plugin).delete(delete_plugin),
        )
        .route(&r("/plugins/{plugin_id}/attach"), post(attach_apis))
        .route(&r("/plugins/{plugin_id}/detach"), put(detach_apis))
        .route(&r("/plugins/{plugin_id}/attached-apis"), get(attached_apis))
        .route(
            &r("/plugins/{plugin_id}/attachable-apis"),
            get(attachable_apis),
        )
        .route(&r("/apis/{api_id}/plugins/attach"), post(attach_plugins))
        .route(&r("/apis/{api_id}/plugins/detach"), put(detach_plugins))
        .route(&r("/apis/{api_id}/attached-plugins"), get(attached_plugins))
        .route(
            &r("/apis/{api_id}/attachable-plugins"),
            get(attachable_plugins),
        )
        .route(&r("/apis"), get(list_apis))
        .route(&r("/apis/{api_id}"), get(show_api))
        .route(&r("/apis/publish/{api_id}"), get(list_versions))
        .route(&r("/apis/action"), post(publish_action))
        .route(&r("/envs"), get(list_envs))
        .route(&r("/api-groups"), get(list_groups))
        .route(&r("/project/configs"), get(list_configs))
}

/// 404 for any path that is not a route.
pub async fn not_found() -> ServiceError {
    ServiceError::new(
        StatusCode::NOT_FOUND,
        "APIGW.0101",
        "The API does not exist or has not been published in the environment",
    )
}

/// 405 for a known path with another method.
pub async fn method_not_allowed() -> ServiceError {
    ServiceError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "APIG.2000",
        "Parameter error: method not allowed",
    )
}

fn parse<T: DeserializeOwned + Default>(body: &Bytes) -> Result<T, ServiceError> {
    if body.is_empty() {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|err| {
        ServiceError::new(
            StatusCode::BAD_REQUEST,
            "APIG.2000",
            format!("Parameter error: the request body is not valid: {err}"),
        )
    })
}

fn ok(status: StatusCode, v: Value) -> Res {
    Ok((status, Json(v)).into_response())
}

fn roma_filters(q: &Query, p: &PluginRec) -> bool {
    let app = p.roma_app_id.as_deref().unwrap_or("");
    q.exact("roma_app_id", app) && q.exact("roma_app_name", app)
}

async fn create_plugin(State(s): S, Path((p, f, i)): P3, body: Bytes) -> Res {
    let body: PluginBody = parse(&body)?;
    lock(&s.faults)
        .binding
        .check_create(body.plugin_name.as_deref())?;
    let v = s.write(&target(p, f, i), |inst, now| {
        quirks_service::create_plugin(&s, inst, body, now)
            .map(|r| Value::Object(responses::plugin(inst.flavour, &r)))
    })?;
    ok(StatusCode::CREATED, v)
}

async fn show_plugin(State(s): S, Path((p, f, i, id)): P4) -> Res {
    let v = s.read(&target(p, f, i), |inst| {
        Ok(Value::Object(responses::plugin(
            inst.flavour,
            inst.plugin(&id)?,
        )))
    })?;
    ok(StatusCode::OK, v)
}

async fn update_plugin(State(s): S, Path((p, f, i, id)): P4, body: Bytes) -> Res {
    let body: PluginBody = parse(&body)?;
    let v = s.write(&target(p, f, i), |inst, now| {
        quirks_service::update_plugin(&s, inst, &id, body, now)
            .map(|r| Value::Object(responses::plugin(inst.flavour, &r)))
    })?;
    ok(StatusCode::OK, v)
}

async fn delete_plugin(State(s): S, Path((p, f, i, id)): P4) -> Res {
    let lag = lock(&s.faults).binding.detach_lag;
    s.write(&target(p, f, i), |inst, _| {
        lock(&s.detach_lag).check_delete(inst, &id, lag)?;
        quirks_service::delete_plugin(&s, inst, &id)
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_plugins(State(s): S, Path((p, f, i)): P3, RawQuery(q): RawQuery) -> Res {
    let q = Query::parse(q.as_deref());
    let t = target(p, f, i);
    let v = s.read(&t, |inst| {
        let listed = quirks_service::listed_plugins(&s, inst);
        let items = listed
            .iter()
            .filter(|r| {
                q.exact("plugin_type", r.plugin_type.as_str())
                    && q.exact("plugin_scope", r.scope.as_str())
                    && q.exact("plugin_id", &r.id)
                    && q.fuzzy("plugin_name", "name", &r.name)
                    && roma_filters(&q, r)
            })
            .collect::<Vec<_>>();
        responses::page(&q, "plugins", items, |r| {
            Value::Object(responses::plugin(inst.flavour, r))
        })
    })?;
    quirks_service::after_list(&s, &t, &v)?;
    ok(StatusCode::OK, v)
}

/// Holds the in-flight markers of a binding change across the configured latency
/// (at least one yield), so overlapping changes of one plug-in and env collide (and, with
/// `binding_conflicts`, of one API and env).
async fn binding_change<T>(
    s: &Arc<Shared>,
    t: &InstanceRef,
    (plugin_ids, api_ids): (&[String], &[String]),
    env: &str,
    f: impl FnOnce(&mut Instance, &str) -> Result<T, ServiceError>,
) -> Result<T, ServiceError> {
    let (latency, api_keys) = {
        let faults = lock(&s.faults);
        (faults.latency, faults.binding.api_keys(api_ids))
    };
    let _held = s.hold(&t.instance, plugin_ids, env)?;
    let _held_apis = s.hold(&t.instance, &api_keys, env)?;
    tokio::task::yield_now().await;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    s.write(t, f)
}

fn attached_response(inst: &Instance, recs: &[BindingRec]) -> Value {
    let items: Vec<Value> = recs
        .iter()
        .map(|b| responses::attach_info(inst, b))
        .collect();
    json!({ "attached_plugins": items })
}

/// With `failed_attach_entries`: checks the whole ask (on a copy, so its errors stay those
/// of the real call), then binds only `narrowed`'s ids.
fn attach_some(
    inst: &mut Instance,
    asked: &BindBody,
    narrowed: &BindBody,
    bind: impl Fn(&mut Instance, &BindBody) -> Result<Vec<BindingRec>, ServiceError>,
) -> Result<Vec<BindingRec>, ServiceError> {
    bind(&mut inst.clone(), asked)?;
    let left = narrowed.api_ids.as_ref().or(narrowed.plugin_ids.as_ref());
    if left.is_none_or(Vec::is_empty) {
        return Ok(Vec::new());
    }
    bind(inst, narrowed)
}

async fn attach_apis(State(s): S, Path((p, f, i, id)): P4, body: Bytes) -> Res {
    let body: BindBody = parse(&body)?;
    let env = body.env_id.clone().unwrap_or_default();
    let apis = body.api_ids.clone().unwrap_or_default();
    let quirks = lock(&s.faults).binding.clone();
    let body = quirks.attach_body(&body);
    let t = target(p, f, i);
    let ids = (std::slice::from_ref(&id), apis.as_slice());
    let v = binding_change(&s, &t, ids, &env, |inst, now| {
        quirks_service::check_bind(&s, inst, std::slice::from_ref(&id), &apis, &env)?;
        if quirks.failed_attach_entries == 0 {
            let recs = bindings::attach_apis(inst, &id, &body, now)?;
            return Ok(attached_response(inst, &recs));
        }
        let (bound, failed) = quirks.split_failed(body.api_ids.as_deref().unwrap_or_default());
        let narrowed = BindBody {
            api_ids: Some(bound),
            ..body.clone()
        };
        let recs = attach_some(inst, &body, &narrowed, |inst, b| {
            bindings::attach_apis(inst, &id, b, now)
        })?;
        let failed: Vec<(String, String)> = failed.into_iter().map(|a| (id.clone(), a)).collect();
        Ok(responses::attach_with_results(inst, &recs, &failed, &env))
    })
    .await?;
    ok(StatusCode::CREATED, v)
}

async fn detach_apis(State(s): S, Path((p, f, i, id)): P4, body: Bytes) -> Res {
    let body: BindBody = parse(&body)?;
    let env = body.env_id.clone().unwrap_or_default();
    let apis = body.api_ids.clone().unwrap_or_default();
    let t = target(p, f, i);
    let ids = (std::slice::from_ref(&id), apis.as_slice());
    let lag = lock(&s.faults).binding.detach_lag;
    binding_change(&s, &t, ids, &env, |inst, _| {
        let before = lag.map_or_else(Vec::new, |_| {
            inst.bindings.of_plugin(&id).cloned().collect()
        });
        bindings::detach_apis(inst, &id, &body)?;
        detached(&s, inst, before, lag);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn attach_plugins(State(s): S, Path((p, f, i, api_id)): P4, body: Bytes) -> Res {
    let body: BindBody = parse(&body)?;
    let env = body.env_id.clone().unwrap_or_default();
    let plugin_ids = body.plugin_ids.clone().unwrap_or_default();
    let t = target(p, f, i);
    let ids = (plugin_ids.as_slice(), std::slice::from_ref(&api_id));
    let quirks = lock(&s.faults).binding.clone();
    let v = binding_change(&s, &t, ids, &env, |inst, now| {
        quirks_service::check_bind(&s, inst, &plugin_ids, std::slice::from_ref(&api_id), &env)?;
        if quirks.failed_attach_entries == 0 {
            let recs = bindings::attach_plugins(inst, &api_id, &body, now)?;
            return Ok(attached_response(inst, &recs));
        }
        let (bound, failed) = quirks.split_failed(&plugin_ids);
        let narrowed = BindBody {
            plugin_ids: Some(bound),
            ..body.clone()
        };
        let recs = attach_some(inst, &body, &narrowed, |inst, b| {
            bindings::attach_plugins(inst, &api_id, b, now)
        })?;
        let failed: Vec<(String, String)> =
            failed.into_iter().map(|p| (p, api_id.clone())).collect();
        Ok(responses::attach_with_results(inst, &recs, &failed, &env))
    })
    .await?;
    ok(StatusCode::CREATED, v)
}

async fn detach_plugins(State(s): S, Path((p, f, i, api_id)): P4, body: Bytes) -> Res {
    let body: BindBody = parse(&body)?;
    let env = body.env_id.clone().unwrap_or_default();
    let plugin_ids = body.plugin_ids.clone().unwrap_or_default();
    let t = target(p, f, i);
    let ids = (plugin_ids.as_slice(), std::slice::from_ref(&api_id));
    let lag = lock(&s.faults).binding.detach_lag;
    binding_change(&s, &t, ids, &env, |inst, _| {
        let before = lag.map_or_else(Vec::new, |_| {
            inst.bindings.of_api(&api_id).cloned().collect()
        });
        bindings::detach_plugins(inst, &api_id, &body)?;
        detached(&s, inst, before, lag);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn api_filters(q: &Query, a: &ApiRec) -> bool {
    q.fuzzy("api_name", "name", &a.name)
        && q.exact("api_id", &a.id)
        && q.exact("group_id", &a.group_id)
        && q.exact("req_method", &a.method)
        && q.exact("req_uri", &a.path)
        && q.get("tags").is_none_or(|t| t == "#no_tags#")
}

/// `detach_lag`: remembers which of `before` a detach removed.
fn detached(
    s: &Shared,
    inst: &Instance,
    before: Vec<BindingRec>,
    lag: Option<std::time::Duration>,
) {
    let removed = before
        .into_iter()
        .filter(|b| {
            inst.bindings
                .find(&b.plugin_id, &b.api_id, &b.env_id)
                .is_none()
        })
        .collect();
    lock(&s.detach_lag).record(&inst.id, removed, lag);
}

/// `detach_lag`: the removed bindings that reads still show.
fn lingering(s: &Shared, inst: &Instance) -> Vec<BindingRec> {
    let lag = lock(&s.faults).binding.detach_lag;
    lock(&s.detach_lag).lingering(inst, lag)
}

async fn attached_apis(State(s): S, Path((p, f, i, id)): P4, RawQuery(q): RawQuery) -> Res {
    let q = Query::parse(q.as_deref());
    let v = s.read(&target(p, f, i), |inst| {
        inst.plugin(&id)?;
        let lingering = lingering(&s, inst);
        let items = inst
            .bindings
            .of_plugin(&id)
            .chain(lingering.iter().filter(|b| b.plugin_id == id))
            .filter(|b| q.exact("env_id", &b.env_id))
            .filter_map(|b| inst.apis.get(&b.api_id).map(|a| (a, b)))
            .filter(|(a, _)| api_filters(&q, a))
            .collect::<Vec<_>>();
        responses::page(&q, "apis", items, |(a, b)| {
            responses::plugin_api(inst, a, &b.env_id, Some(b))
        })
    })?;
    ok(StatusCode::OK, v)
}

async fn attachable_apis(State(s): S, Path((p, f, i, id)): P4, RawQuery(q): RawQuery) -> Res {
    let q = Query::parse(q.as_deref());
    let v = s.read(&target(p, f, i), |inst| {
        inst.plugin(&id)?;
        let env_id = q.required("env_id")?;
        inst.env(env_id)?;
        let items = inst
            .apis
            .iter()
            .filter(|a| a.published_in(env_id).is_some())
            .filter(|a| inst.bindings.find(&id, &a.id, env_id).is_none())
            .filter(|a| api_filters(&q, a))
            .collect::<Vec<_>>();
        responses::page(&q, "apis", items, |a| {
            responses::plugin_api(inst, a, env_id, None)
        })
    })?;
    ok(StatusCode::OK, v)
}

async fn attached_plugins(State(s): S, Path((p, f, i, api_id)): P4, RawQuery(q): RawQuery) -> Res {
    let q = Query::parse(q.as_deref());
    let v = s.read(&target(p, f, i), |inst| {
        inst.api(&api_id)?;
        let lingering = lingering(&s, inst);
        let items = inst
            .bindings
            .of_api(&api_id)
            .chain(lingering.iter().filter(|b| b.api_id == api_id))
            .filter(|b| q.exact("env_id", &b.env_id))
            .filter(|b| {
                let name = inst
                    .envs
                    .iter()
                    .find(|e| e.id == b.env_id)
                    .map_or("", |e| e.name.as_str());
                q.exact("env_name", name)
            })
            .filter_map(|b| inst.plugins.get(&b.plugin_id).map(|p| (b, p)))
            .filter(|(_, p)| {
                q.fuzzy("plugin_name", "name", &p.name)
                    && q.exact("plugin_id", &p.id)
                    && q.exact("plugin_type", p.plugin_type.as_str())
                    && roma_filters(&q, p)
            })
            .collect::<Vec<_>>();
        responses::page(&q, "plugins", items, |(b, p)| {
            responses::attached_plugin(inst, b, p)
        })
    })?;
    ok(StatusCode::OK, v)
}

async fn attachable_plugins(
    State(s): S,
    Path((p, f, i, api_id)): P4,
    RawQuery(q): RawQuery,
) -> Res {
    let q = Query::parse(q.as_deref());
    let v = s.read(&target(p, f, i), |inst| {
        inst.api(&api_id)?;
        let env_id = q.get("env_id");
        if let Some(env_id) = env_id {
            inst.env(env_id)?;
        }
        let items = inst
            .plugins
            .iter()
            .filter(|p| env_id.is_none_or(|env| inst.bindings.find(&p.id, &api_id, env).is_none()))
            .filter(|p| {
                q.fuzzy("plugin_name", "name", &p.name)
                    && q.exact("plugin_id", &p.id)
                    && q.exact("plugin_type", p.plugin_type.as_str())
                    && roma_filters(&q, p)
            })
            .collect::<Vec<_>>();
        responses::page(&q, "plugins", items, |p| {
            Value::Object(responses::plugin(inst.flavour, p))
        })
    })?;
    ok(StatusCode::OK, v)
}

async fn list_apis(State(s): S, Path((p, f, i)): P3, RawQuery(q): RawQuery) -> Res {
    let q = Query::parse(q.as_deref());
    let v = s.read(&target(p, f, i), |inst| {
        let env_id = q.get("env_id");
        let items = inst
            .apis
            .iter()
            .filter(|a| {
                q.exact("id", &a.id)
                    && q.fuzzy("name", "name", &a.name)
                    && q.exact("group_id", &a.group_id)
                    && q.exact("req_method", &a.method)
                    && q.fuzzy("req_uri", "req_uri", &a.path)
                    && q.exact("type", "1")
                    && q.exact("auth_type", "NONE")
                    && q.exact("req_protocol", "HTTPS")
                    && env_id.is_none_or(|e| a.published_in(e).is_some())
            })
            .collect::<Vec<_>>();
        responses::page(&q, "apis", items, |a| responses::api(inst, a, env_id))
    })?;
    ok(StatusCode::OK, v)
}

async fn show_api(State(s): S, Path((p, f, i, api_id)): P4) -> Res {
    let v = s.read(&target(p, f, i), |inst| {
        Ok(responses::api(inst, inst.api(&api_id)?, None))
    })?;
    ok(StatusCode::OK, v)
}

async fn list_versions(State(s): S, Path((p, f, i, api_id)): P4, RawQuery(q): RawQuery) -> Res {
    let q = Query::parse(q.as_deref());
    let v = s.read(&target(p, f, i), |inst| {
        let api = inst.api(&api_id)?;
        let items = api
            .versions
            .iter()
            .filter(|v| q.exact("env_id", &v.env_id))
            .filter(|v| {
                let name = inst
                    .envs
                    .iter()
                    .find(|e| e.id == v.env_id)
                    .map_or("", |e| e.name.as_str());
                q.exact("env_name", name)
            })
            .collect::<Vec<_>>();
        responses::page(&q, "api_versions", items, |v| {
            responses::version(inst, api, v)
        })
    })?;
    ok(StatusCode::OK, v)
}

/// The body of `POST /apis/action` (`ApiActionInfo`).
#[derive(Debug, Default, serde::Deserialize)]
struct ActionBody {
    action: Option<String>,
    env_id: Option<String>,
    api_id: Option<String>,
    remark: Option<String>,
}

async fn publish_action(State(s): S, Path((p, f, i)): P3, body: Bytes) -> Res {
    let body: ActionBody = parse(&body)?;
    let v = s.write(&target(p, f, i), |inst, now| {
        let action = body.action.clone().ok_or_else(|| ServiceError::missing("action"))?;
        let api_id = body.api_id.clone().ok_or_else(|| ServiceError::missing("api_id"))?;
        let env_id = body.env_id.clone().ok_or_else(|| ServiceError::missing("env_id"))?;
        let remark = body.remark.clone().unwrap_or_default();
        let api_name = inst.api(&api_id)?.name.clone();
        inst.env(&env_id)?;
        let version = match action.as_str() {
            "online" => inst.publish(&api_id, &env_id, &remark, now),
            "offline" => inst.apis.get_mut(&api_id).and_then(|a| {
                let v = a.versions.iter_mut().find(|v| v.env_id == env_id && v.effective)?;
                v.effective = false;
                Some(v.clone())
            }),
            _ => return Err(ServiceError::invalid("action", "")),
        };
        Ok(json!({
            "publish_id": version.as_ref().map(|v| v.publish_id.clone()),
            "api_id": api_id,
            "api_name": api_name,
            "env_id": env_id,
            "remark": remark,
            "publish_time": version.as_ref().map_or_else(|| now.to_string(), |v| v.publish_time.clone()),
            "version_id": version.as_ref().map(|v| v.version_id.clone()),
        }))
    })?;
    ok(StatusCode::CREATED, v)
}

async fn list_envs(State(s): S, Path((p, f, i)): P3, RawQuery(q): RawQuery) -> Res {
    let q = Query::parse(q.as_deref());
    let v = s.read(&target(p, f, i), |inst| {
        let items = inst
            .envs
            .iter()
            .filter(|e| q.fuzzy("name", "name", &e.name))
            .collect::<Vec<_>>();
        responses::page(&q, "envs", items, responses::env)
    })?;
    ok(StatusCode::OK, v)
}

async fn list_groups(State(s): S, Path((p, f, i)): P3, RawQuery(q): RawQuery) -> Res {
    let q = Query::parse(q.as_deref());
    let v = s.read(&target(p, f, i), |inst| {
        let items = inst
            .groups
            .iter()
            .filter(|g| q.exact("id", &g.id) && q.fuzzy("name", "name", &g.name))
            .collect::<Vec<_>>();
        responses::page(&q, "groups", items, |g| responses::group(inst, g))
    })?;
    ok(StatusCode::OK, v)
}

/// `GET /project/configs` (SPEC §11.3): the instance's quotas; only `PLUGIN_NUM_LIMIT`.
async fn list_configs(State(s): S, Path((p, f, i)): P3, RawQuery(q): RawQuery) -> Res {
    let q = Query::parse(q.as_deref());
    let quirks = quirks_service::current(&s);
    let v = s.read(&target(p, f, i), |inst| {
        let created = inst.envs.first().map_or("", |e| e.create_time.as_str());
        let items = quirks_service::configs(inst, &quirks, created);
        responses::page(&q, "configs", items, std::convert::identity)
    })?;
    ok(StatusCode::OK, v)
}
