//! Binding writes checked against what the service says it did. The attach answer lists
//! the bindings made, one entry per API (`attached_plugins`, SPEC §3.8; the Terraform
//! provider's `resource_huaweicloud_apig_plugin_associate.go` fails the APIs its answer
//! marks FAILED). An entry whose `status` or `binding_result.status` is not a success
//! ([`AttachedPlugin::failure`]) is a failure for its API: the API counts as not bound,
//! even if reading the bindings back lists it (the read may lag, SPEC §11.7), and is sent
//! again. An attach whose answer does not account for every API asked, and a
//! detach whose call failed, are checked by reading the plug-in's bindings in that
//! environment back; what is still missing is sent again, a bounded number of times, and
//! the operation fails (never "done") when it is still missing then. A detach that may find
//! APIs already displaced by an attach first reads the bindings back and sends only the APIs
//! still bound, as Terraform does (SPEC §3.8: a detach of an API that is not bound is
//! undocumented).

use std::collections::{BTreeMap, BTreeSet};

use crate::api::{AttachedPlugin, Client, error_chain};
use crate::plan::{ApiItem, BindingOp};

/// Most calls of one attach or detach operation (the first and the retries of what is missing).
pub(super) const MAX_ROUNDS: usize = 3;

/// What a binding operation that did not complete is known to have done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Partial {
    /// The APIs (ids) it is known to have bound (attach) or unbound (detach).
    pub(crate) done: BTreeSet<String>,
    /// False when the bindings could not be read back: the others are unknown.
    pub(crate) known: bool,
}

/// Why a binding operation failed, and what it did before.
pub(super) type Failure = (String, Partial);

fn labels(b: &BindingOp, ids: &[String]) -> String {
    ids.iter()
        .map(|id| {
            b.apis
                .iter()
                .find(|a| &a.id == id)
                .map_or(id.as_str(), ApiItem::label)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn bound_now(
    client: &Client,
    plugin_id: &str,
    env_id: &str,
) -> Result<BTreeSet<String>, String> {
    client
        .list_attached_apis(plugin_id, Some(env_id))
        .await
        .map(|apis| apis.into_iter().map(|a| a.api_id).collect())
        .map_err(|e| format!("reading the bindings back failed: {}", error_chain(&e)))
}

/// What an attach answer says of `plugin_id` in `env_id`: the APIs it reports bound, and
/// those it reports failed, with why.
fn confirmed(
    answer: &[AttachedPlugin],
    plugin_id: &str,
    env_id: &str,
) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut bound = BTreeSet::new();
    let mut failed = BTreeMap::new();
    let ours = answer
        .iter()
        .filter(|a| a.plugin_id.is_empty() || a.plugin_id == plugin_id)
        .filter(|a| a.env_id.is_empty() || a.env_id == env_id);
    for entry in ours {
        match entry.failure() {
            Some(why) => {
                failed.insert(entry.api_id.clone(), why);
            }
            None => {
                bound.insert(entry.api_id.clone());
            }
        }
    }
    bound.retain(|id| !failed.contains_key(id));
    (bound, failed)
}

/// `labels` of `ids`, each with why the service said it failed, when it did.
fn labels_with_failures(
    b: &BindingOp,
    ids: &[String],
    failed: &BTreeMap<String, String>,
) -> String {
    ids.iter()
        .map(|id| {
            let label = labels(b, std::slice::from_ref(id));
            match failed.get(id) {
                Some(why) => format!("{label} (the service answered {why})"),
                None => label,
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds `b.apis` to `plugin_id` and checks that every one of them is bound.
pub(super) async fn attach(client: &Client, plugin_id: &str, b: &BindingOp) -> Result<(), Failure> {
    let asked: Vec<String> = b.apis.iter().map(|a| a.id.clone()).collect();
    let mut missing = asked.clone();
    let mut done = BTreeSet::new();
    let mut call_error: Option<String> = None;
    // APIs the last answer marked failed: not bound, whatever a read-back says.
    let mut failed = BTreeMap::new();
    for round in 1..=MAX_ROUNDS {
        let mut refused = false;
        match client.attach_apis(plugin_id, &b.env_id, &missing).await {
            Ok(answer) => {
                call_error = None;
                let (said, said_failed) = confirmed(&answer, plugin_id, &b.env_id);
                failed = said_failed;
                missing.retain(|id| !said.contains(id));
                done.extend(said.into_iter().filter(|id| asked.contains(id)));
                if missing.is_empty() {
                    return Ok(());
                }
            }
            Err(e) => {
                refused = !e.is_transient();
                failed.clear();
                call_error = Some(error_chain(&e));
            }
        }
        // The answer does not account for every API (or there was none): read back.
        let now = match bound_now(client, plugin_id, &b.env_id).await {
            Ok(now) => now,
            Err(read) => {
                let why = call_error.unwrap_or_else(|| {
                    format!("the service's answer does not list {}", labels(b, &missing))
                });
                let partial = Partial { done, known: false };
                return Err((format!("{why}; {read}"), partial));
            }
        };
        missing.retain(|id| !now.contains(id) || failed.contains_key(id));
        done.extend(
            asked
                .iter()
                .filter(|id| now.contains(*id) && !missing.contains(id))
                .cloned(),
        );
        if missing.is_empty() {
            return Ok(());
        }
        if refused {
            break;
        }
        tracing::warn!(
            plugin = %b.plugin,
            env = %b.env_name,
            round,
            error = call_error.as_deref().unwrap_or("none"),
            missing = %labels(b, &missing),
            "the attach did not bind every API; sending the missing ones again"
        );
    }
    let why = match call_error {
        Some(error) => format!("{error}; "),
        None => String::new(),
    };
    let message = format!(
        "{why}the service bound {} of {} API(s); not bound: {}",
        asked.len() - missing.len(),
        asked.len(),
        labels_with_failures(b, &missing, &failed)
    );
    Err((message, Partial { done, known: true }))
}

/// Unbinds `b.apis` from `plugin_id`; with `check_first` (an attach may have displaced the
/// plug-in from some of them already), only the APIs still bound are sent.
pub(super) async fn detach(
    client: &Client,
    plugin_id: &str,
    b: &BindingOp,
    check_first: bool,
) -> Result<(), Failure> {
    let asked: Vec<String> = b.apis.iter().map(|a| a.id.clone()).collect();
    let mut still = asked.clone();
    if check_first && let Ok(now) = bound_now(client, plugin_id, &b.env_id).await {
        still.retain(|id| now.contains(id));
    }
    let unbound = |still: &[String]| -> BTreeSet<String> {
        asked
            .iter()
            .filter(|id| !still.contains(id))
            .cloned()
            .collect()
    };
    for _ in 1..=MAX_ROUNDS {
        if still.is_empty() {
            return Ok(());
        }
        let before = still.len();
        let (error, refused) = match client.detach_apis(plugin_id, &b.env_id, &still).await {
            Ok(()) => return Ok(()),
            Err(e) => (error_chain(&e), !e.is_transient()),
        };
        // The call failed: which of the APIs are still bound?
        match bound_now(client, plugin_id, &b.env_id).await {
            Ok(now) => still.retain(|id| now.contains(id)),
            Err(read) => {
                let partial = Partial {
                    done: unbound(&still),
                    known: false,
                };
                return Err((format!("{error}; {read}"), partial));
            }
        }
        if still.is_empty() {
            tracing::info!(plugin = %b.plugin, env = %b.env_name, %error, "the detach failed but no API asked is bound any more");
            return Ok(());
        }
        if refused && still.len() == before {
            let partial = Partial {
                done: unbound(&still),
                known: true,
            };
            return Err((
                format!("{error}; still bound: {}", labels(b, &still)),
                partial,
            ));
        }
        tracing::warn!(plugin = %b.plugin, env = %b.env_name, %error, still = %labels(b, &still), "the detach failed; sending the APIs still bound again");
    }
    let partial = Partial {
        done: unbound(&still),
        known: true,
    };
    Err((
        format!(
            "still bound after {MAX_ROUNDS} attempts: {}",
            labels(b, &still)
        ),
        partial,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::AttachResponse;

    #[test]
    fn an_answer_listing_an_api_as_failed_does_not_confirm_it() {
        let answer: AttachResponse = serde_json::from_str(
            r#"{"attached_plugins": [
                {"api_id": "a1", "plugin_id": "p1", "env_id": "e1"},
                {"api_id": "a2", "plugin_id": "p1", "env_id": "e1", "binding_result": {"status": "FAILED", "error_code": "APIG.3707"}},
                {"api_id": "a3", "plugin_id": "p1", "env_id": "e1", "status": "FAILED"},
                {"api_id": "a4", "plugin_id": "other", "env_id": "e1"}
            ]}"#,
        )
        .unwrap();
        let (bound, failed) = confirmed(&answer.entries(), "p1", "e1");
        assert_eq!(bound, BTreeSet::from(["a1".to_string()]));
        assert_eq!(
            failed,
            BTreeMap::from([
                ("a2".to_string(), "status FAILED: APIG.3707".to_string()),
                ("a3".to_string(), "status FAILED".to_string()),
            ])
        );
    }
}
