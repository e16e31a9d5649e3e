//! Behaviours of the real service around plug-in creation and binding that apigsync must
//! survive, each behind a switch of [`super::Faults`] (`PUT /_emulator/faults`) and an
//! `apigsync emulator` flag. Off by default: the emulator is then as kind as it always was.
//!
//! | switch | behaviour | source |
//! |---|---|---|
//! | `partial_attach` | an attach of 2+ APIs binds all but the last one asked and its answer lists only those it bound | SPEC §3.8 (the answer lists the bindings made, one `attached_plugins` entry per API; §10.4: partial failures are possible but their shape is unconfirmed); the Terraform provider checks a per-API `binding_result` (`resource_huaweicloud_apig_plugin_associate.go`) |
//! | `binding_conflicts` | a binding write that touches an (API, environment) another binding write is still touching answers 500 APIG.3500, as overlapping writes of one (plug-in, environment) always do | SPEC §3.8 ("concurrent binding changes on the same plug-in/API/env can fail with 500 APIG.3500"; Terraform serialises per `instance/api/env` too), SPEC §5 (APIG.3500) |
//! | `refuse_create` | a create of one of these names answers 400 APIG.2012: a valid request the server refuses for a reason the client cannot predict | SPEC §5 (APIG.2012), §10.3 (the real validators are unknown) |

use serde::{Deserialize, Serialize};

use super::bindings::BindBody;
use super::error::ServiceError;

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
    fn api_keys_only_with_binding_conflicts() {
        let on = BindingQuirks {
            binding_conflicts: true,
            ..BindingQuirks::default()
        };
        assert_eq!(on.api_keys(&["x".into()]), vec!["api:x".to_string()]);
        assert!(BindingQuirks::default().api_keys(&["x".into()]).is_empty());
    }
}
