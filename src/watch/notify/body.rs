//! The bodies of a notification: a CloudEvents 1.0 event in structured JSON mode
//! (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md),
//! or a Slack message (`text` for notifications, `blocks` for the channel).

use serde_json::{Value, json};

use super::event::Event;

/// Most change lines a Slack message lists.
const SLACK_LINES: usize = 20;
/// Slack's limit on the text of a section block.
const SLACK_SECTION: usize = 3000;

/// `event` as a structured CloudEvent from `source`.
pub fn cloudevent(event: &Event, source: &str) -> Value {
    json!({
        "specversion": "1.0",
        "id": hex::encode(rand::random::<[u8; 16]>()),
        "source": source,
        "type": event.kind.type_name(),
        "time": jiff::Timestamp::now().to_string(),
        "subject": event.target,
        "datacontenttype": "application/json",
        "data": event,
    })
}

/// `event` as a Slack message.
pub fn slack(event: &Event) -> Value {
    let summary = event.summary();
    let mut lines: Vec<String> = Vec::new();
    for change in &event.changes {
        lines.push(format!("• {} (cause: {})", change.operation, change.cause));
        for f in &change.fields {
            lines.push(format!("    `{}`: {} → {}", f.path, f.old, f.new));
        }
    }
    for failure in &event.failures {
        lines.push(format!(
            "• {} failed: {}",
            failure.change.operation, failure.error
        ));
    }
    if let Some(error) = &event.error {
        lines.push(error.clone());
    }
    let total = lines.len();
    lines.truncate(SLACK_LINES);
    if total > SLACK_LINES {
        lines.push(format!("… and {} more", total - SLACK_LINES));
    }
    let mut details = lines.join("\n");
    if details.len() > SLACK_SECTION {
        let cut = (0..=SLACK_SECTION - 1)
            .rev()
            .find(|i| details.is_char_boundary(*i))
            .unwrap_or(0);
        details.truncate(cut);
        details.push('…');
    }
    let mut blocks = vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": summary}})];
    if !details.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": details}}));
    }
    json!({ "text": summary, "blocks": blocks })
}
