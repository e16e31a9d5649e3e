//! Behaviours of the real service around plug-in creation and binding that apigsync must
//! survive, each behind a switch of [`super::Faults`] (`PUT /_emulator/faults`) and an
//! `apigsync emulator` flag. Off by default: the emulator is then as kind as it always was.
//!
//! | switch | behaviour | source |
//! |---|---|---|
//! | `partial_attach` | an attach of 2+ APIs binds all but the last one asked and its answer lists only those it bound | SPEC §3.8 (the answer lists the bindings made, one `attached_plugins` entry per API; §10.4: partial failures are possible but their shape is unconfirmed); the Terraform provider checks a per-API `binding_result` (`resource_huaweicloud_apig_plugin_associate.go`) |
//! | `binding_conflicts` | a binding write that touches an (API, environment) another binding write is still touching answers 500 APIG.3500, as overlapping writes of one (plug-in, environment) always do | SPEC §3.8 ("concurrent binding changes on the same plug-in/API/env can fail with 500 APIG.3500"; Terraform serialises per `instance/api/env` too), SPEC §5 (APIG.3500) |
//! | `refuse_create` | a create of one of these names answers 400 APIG.2012: a valid request the server refuses for a reason the client cannot predict | SPEC §5 (APIG.2012), §10.3 (the real validators are unknown) |
//! | `failed_attach_entries` (N) | an attach answers 201 but the last N ids asked (APIs, or plug-ins on the API side; all of them when N ≥ their count) are not bound: each `attached_plugins` entry gets `status` `SUCCESS` or `FAILED`, and a `bindings` list carries `{api_id, plugin_id, env_id, plugin_attach_id?, binding_result: {status, error_code?, error_msg?}}` per id asked; failed entries have no `plugin_attach_id`/`attached_time` and say `APIG.3500` "Failed to synchronize data to etcd" | SPEC §11.1: the Terraform provider (`resource_huaweicloud_apig_plugin_associate.go`, `bindPluginToApis`) fails on `bindings[?binding_result.status=='FAILED'].api_id` of the attach answer; SPEC §3.8 (the vendored golangsdk also reads `attached_plugins[?…status=='FAILED']`); the error code is chosen |
//! | `detach_lag` | for this long after a detach, `DELETE /plugins/{id}` of a plug-in that lost bindings answers 409 APIG.3462, and `attached-apis` / `attached-plugins` still list the removed bindings (unless bound again) | SPEC §11.7 (OTC: "It takes 5 to 10 seconds for a new or modified APIG resource to take effect"; a delete right after a detach may still see the binding), SPEC §3.6 / §5 (409 APIG.3462) |

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::bindings::BindBody;
use super::error::ServiceError;
use super::quirks_service::opt_millis;
use super::store::{BindingRec, Instance};

/// The switches; see the module documentation. A switch that is off is left out of the
/// JSON of `GET /_emulator/faults`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingQuirks {
    /// An attach of 2+ APIs binds all but the last one and lists only those.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial_attach: bool,
    /// Overlapping binding writes of one (API, environment) answer APIG.3500.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub binding_conflicts: bool,
    /// Plug-in names whose create answers 400 APIG.2012.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refuse_create: Vec<String>,
    /// How many of the ids an attach asks for (the last ones) it reports FAILED and leaves
    /// unbound; 0: none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_attach_entries: usize,
    /// How long a detach keeps showing in binding reads and blocking the plug-in's delete.
    #[serde(
        default,
        with = "opt_millis",
        rename = "detach_lag_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub detach_lag: Option<Duration>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl BindingQuirks {
    /// 400 APIG.2012 when `name` is one the server refuses to create.
    pub fn check_create(&self, name: Option<&str>) -> Result<(), ServiceError> {
        match name {
            Some(name) if self.refuse_create.iter().any(|n| n == name) => {
                Err(ServiceError::invalid(
                    "plugin_content",
                    "The plug-in cannot be created (refused by the emulator's refuse_create switch)",
                ))
            }
            _ => Ok(()),
        }
    }

    /// The body an attach of APIs is carried out with: with `partial_attach`, the last of
    /// two or more APIs is left out (the answer then lists only the others).
    pub fn attach_body(&self, body: &BindBody) -> BindBody {
        let mut body = body.clone();
        if self.partial_attach
            && let Some(ids) = body.api_ids.as_mut()
            && ids.len() >= 2
        {
            ids.pop();
        }
        body
    }

    /// `failed_attach_entries`: splits the ids an attach asks for into those it binds and
    /// those it reports FAILED (the last N).
    pub fn split_failed(&self, ids: &[String]) -> (Vec<String>, Vec<String>) {
        let keep = ids.len().saturating_sub(self.failed_attach_entries);
        let (bound, failed) = ids.split_at(keep);
        (bound.to_vec(), failed.to_vec())
    }

    /// The in-flight keys a binding write of `api_ids` holds besides its plug-ins': one per
    /// API with `binding_conflicts`, none otherwise. They share the plug-in keys' set, under
    /// a prefix no plug-in id has.
    pub fn api_keys(&self, api_ids: &[String]) -> Vec<String> {
        if !self.binding_conflicts {
            return Vec::new();
        }
        api_ids.iter().map(|id| format!("api:{id}")).collect()
    }
}

/// `detach_lag`: the bindings detaches removed, while they still show.
#[derive(Debug, Default)]
pub struct DetachLag {
    /// `(when, instance id, the removed binding)`, oldest first.
    removed: VecDeque<(Instant, String, BindingRec)>,
}

impl DetachLag {
    fn prune(&mut self, lag: Option<Duration>) {
        let Some(lag) = lag else {
            self.removed.clear();
            return;
        };
        let now = Instant::now();
        while self
            .removed
            .front()
            .is_some_and(|(at, _, _)| now.duration_since(*at) >= lag)
        {
            self.removed.pop_front();
        }
    }

    /// Remembers the bindings a detach on `inst` removed (only while a lag is set).
    pub fn record(&mut self, inst: &str, removed: Vec<BindingRec>, lag: Option<Duration>) {
        if lag.is_none() {
            return;
        }
        let now = Instant::now();
        self.removed
            .extend(removed.into_iter().map(|b| (now, inst.to_owned(), b)));
    }

    /// The removed bindings of `inst` that reads still show: younger than the lag and not
    /// bound again.
    pub fn lingering(&mut self, inst: &Instance, lag: Option<Duration>) -> Vec<BindingRec> {
        self.prune(lag);
        self.removed
            .iter()
            .filter(|(_, id, b)| {
                *id == inst.id
                    && inst
                        .bindings
                        .find(&b.plugin_id, &b.api_id, &b.env_id)
                        .is_none()
            })
            .map(|(_, _, b)| b.clone())
            .collect()
    }

    /// 409 APIG.3462 while plug-in `plugin_id` of `inst` lost a binding less than the lag ago.
    pub fn check_delete(
        &mut self,
        inst: &Instance,
        plugin_id: &str,
        lag: Option<Duration>,
    ) -> Result<(), ServiceError> {
        if self
            .lingering(inst, lag)
            .iter()
            .any(|b| b.plugin_id == plugin_id)
        {
            return Err(ServiceError::new(
                StatusCode::CONFLICT,
                "APIG.3462",
                "The plugin has been attached to the APIs and cannot perform the current operation",
            ));
        }
        Ok(())
    }

    /// Forgets everything (reset).
    pub fn clear(&mut self) {
        self.removed.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(ids: &[&str]) -> BindBody {
        BindBody {
            env_id: Some("E".into()),
            api_ids: Some(ids.iter().map(|s| s.to_string()).collect()),
            plugin_ids: None,
        }
    }

    #[test]
    fn partial_attach_leaves_out_the_last_of_two_or_more() {
        let q = BindingQuirks {
            partial_attach: true,
            ..BindingQuirks::default()
        };
        assert_eq!(
            q.attach_body(&body(&["a", "b", "c"])).api_ids,
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(q.attach_body(&body(&["a"])).api_ids, Some(vec!["a".into()]));
        let off = BindingQuirks::default();
        assert_eq!(
            off.attach_body(&body(&["a", "b"])).api_ids,
            Some(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn refuse_create_refuses_only_the_names_listed() {
        let q = BindingQuirks {
            refuse_create: vec!["o_b".into()],
            ..BindingQuirks::default()
        };
        assert!(q.check_create(Some("o_b")).is_err());
        assert!(q.check_create(Some("o_c")).is_ok());
        assert!(q.check_create(None).is_ok());
    }

    #[test]
    fn failed_attach_entries_fail_the_last_ids() {
        let q = BindingQuirks {
            failed_attach_entries: 2,
            ..BindingQuirks::default()
        };
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            q.split_failed(&ids(&["a", "b", "c"])),
            (ids(&["a"]), ids(&["b", "c"]))
        );
        assert_eq!(q.split_failed(&ids(&["a"])), (ids(&[]), ids(&["a"])));
        assert_eq!(
            BindingQuirks::default().split_failed(&ids(&["a"])),
            (ids(&["a"]), ids(&[]))
        );
    }

    #[test]
    fn api_keys_only_with_binding_conflicts() {
        let on = BindingQuirks {
            binding_conflicts: true,
            ..BindingQuirks::default()
        };
        assert_eq!(on.api_keys(&["x".into()]), vec!["api:x".to_string()]);
        assert!(BindingQuirks::default().api_keys(&["x".into()]).is_empty());
    }
}
