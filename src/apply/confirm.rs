//! Confirm before anything destructive: a detach that relies on a replacement's attach
//! (the old plug-in of a move or a type change, detached after the new one was attached)
//! runs only when the replacement is confirmed, by reading its bindings back, on every API
//! that the detach would leave without the old plug-in. An attach answer is not proof:
//! the service may list an API it did not bind (an entry marked FAILED, SPEC §3.8; the
//! Terraform provider's `resource_huaweicloud_apig_plugin_associate.go` checks
//! `bindings[?binding_result.status=='FAILED']`). An API not confirmed keeps its old
//! plug-in: the detach (and the delete after it) does not run, and the next plan retries.

use std::collections::BTreeSet;

use crate::api::{Client, ErrorKind, error_chain};
use crate::plan::BindingOp;

use super::StepError;

/// A replacement's attach that a detach relies on, with the id of its plug-in.
pub(super) struct Replacement<'a> {
    /// The attach operation's binding.
    pub binding: &'a BindingOp,
    /// The replacement plug-in's id (live, or created by this apply).
    pub plugin_id: String,
}

/// The APIs of `detach` that a replacement in `replacements` was asked to take over but
/// is not bound to now, read back from the service, with the replacement's name.
pub(super) async fn unconfirmed(
    client: &Client,
    detach: &BindingOp,
    replacements: &[Replacement<'_>],
) -> Result<Vec<(String, String)>, StepError> {
    let mut missing = Vec::new();
    for r in replacements {
        let taken_over: BTreeSet<&str> = r
            .binding
            .apis
            .iter()
            .map(|a| a.id.as_str())
            .filter(|id| detach.apis.iter().any(|a| a.id == *id))
            .collect();
        if taken_over.is_empty() {
            continue;
        }
        let bound: BTreeSet<String> = client
            .list_attached_apis(&r.plugin_id, Some(&detach.env_id))
            .await
            .map_err(|e| {
                StepError::new(
                    e.kind(),
                    format!(
                        "not detached: reading the bindings of its replacement {} back failed: {}",
                        r.binding.plugin,
                        error_chain(&e)
                    ),
                )
            })?
            .into_iter()
            .map(|a| a.api_id)
            .collect();
        for api in detach
            .apis
            .iter()
            .filter(|a| taken_over.contains(a.id.as_str()) && !bound.contains(&a.id))
        {
            missing.push((api.label().to_owned(), r.binding.plugin.clone()));
        }
    }
    Ok(missing)
}

/// The error of a detach not run because its replacement is not confirmed on `missing`.
pub(super) fn refused(detach: &BindingOp, missing: &[(String, String)]) -> StepError {
    let apis: Vec<String> = missing
        .iter()
        .map(|(api, replacement)| format!("{api} (not bound to {replacement})"))
        .collect();
    StepError::new(
        ErrorKind::Unconfirmed,
        format!(
            "not detached: the service does not confirm the replacement on {} in {}; they keep {}",
            apis.join(", "),
            detach.env_name,
            detach.plugin
        ),
    )
}
