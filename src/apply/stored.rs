//! What the service stored is the reference, not what was sent: after a create or an
//! update, the write's answer is compared with what was sent. When the service stored
//! another form (a newer server adds fields or rewrites values), the remark is written
//! once more with the stored form's fingerprint (`s:` in the marker, see
//! `plan::marker::record_stored`), so the next plan compares the gateway with what it
//! stored and shows no change, while a console edit still shows as drift.

use crate::api::{Client, Plugin, PluginBody};
use crate::plan::marker;

use super::StepError;

/// The fingerprint of what `answer` says the service stored of `body`'s plug-in.
fn stored_fingerprint(body: &PluginBody, answer: &Plugin) -> String {
    marker::stored_fingerprint(
        body.plugin_type,
        &answer.content,
        answer.remark.as_deref(),
        answer.roma_app_id.as_deref(),
    )
}

/// Records in the marker what the service stored of `body` according to `answer`, with a
/// second write of the remark when it differs from what was sent. An answer without
/// content records nothing (the next plan then compares with what was sent).
pub(super) async fn record(
    client: &Client,
    body: &PluginBody,
    answer: &Plugin,
) -> Result<(), StepError> {
    if answer.content.is_null() {
        return Ok(());
    }
    let stored = stored_fingerprint(body, answer);
    let Some(remark) = body
        .remark
        .as_deref()
        .and_then(|written| marker::record_stored(written, &stored))
    else {
        return Ok(());
    };
    tracing::info!(
        plugin = %body.plugin_name,
        "the service stored another form than was sent: recording it in the marker"
    );
    let again = PluginBody {
        remark: Some(remark),
        ..body.clone()
    };
    let answer = client
        .update_plugin(&answer.id, &again)
        .await
        .map_err(super::chain)?;
    if !answer.content.is_null() && stored_fingerprint(&again, &answer) != stored {
        tracing::warn!(
            plugin = %body.plugin_name,
            "the service stored yet another form on the second write: the next plan will show it as a change"
        );
    }
    Ok(())
}
