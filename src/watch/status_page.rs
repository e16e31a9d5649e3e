//! The read-only status page on `--listen`: `/` (HTML rendered on the server, no script)
//! and `/status.json`. Every value from the gateway or the files is HTML-escaped.

use std::fmt::Write;

use super::report::{Change, ReconcileReport};
use super::status::Status;

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f4f4f4}code{font-size:.95em}.in_sync,.applied{color:#176a2a}.reported{color:#8a5a00}.failed,.apply_failed{color:#a11}";

/// The page of `status`.
pub fn render(status: &Status) -> String {
    let mut h = String::new();
    let role = if status.leader { "leader" } else { "standby" };
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"15\"><title>apigsync watch</title>\
         <style>{STYLE}</style></head><body><h1>apigsync watch</h1>\
         <p>Replica <code>{}</code>: <strong id=\"role\">{role}</strong>. \
         <a href=\"/status.json\">status.json</a> · <a href=\"/metrics\">metrics</a></p>",
        escape(&status.identity)
    );
    if status.targets.is_empty() {
        h.push_str("<p>No reconcile has ended yet.</p>");
    }
    for report in status.targets.values() {
        target(&mut h, report);
    }
    h.push_str("<h2>Last events</h2>");
    if status.events.is_empty() {
        h.push_str("<p>None yet.</p>");
    } else {
        h.push_str("<table><tr><th>when</th><th>target</th><th>what</th></tr>");
        for e in &status.events {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&e.at),
                escape(&e.target),
                escape(&e.text)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</body></html>\n");
    h
}

fn target(h: &mut String, r: &ReconcileReport) {
    let outcome = r.outcome.as_str();
    let _ = write!(
        h,
        "<section class=\"target\"><h2>Target {}</h2><table>\
         <tr><th>gateway</th><td>{}</td></tr>\
         <tr><th>last reconcile</th><td>{}</td></tr>\
         <tr><th>result</th><td class=\"{outcome}\">{outcome}</td></tr>\
         <tr><th>duration</th><td>{} ms</td></tr>\
         <tr><th>revision</th><td><code>{}</code></td></tr>",
        escape(r.label()),
        escape(&r.gateway),
        escape(&r.at),
        r.duration_ms,
        escape(r.revision.as_deref().unwrap_or("unknown")),
    );
    if let Some(age) = r.view_age_s {
        let _ = write!(
            h,
            "<tr><th>view age</th><td>{age} s (the oldest part of the gateway's view)</td></tr>"
        );
    }
    if let Some(error) = &r.error {
        let _ = write!(h, "<tr><th>error</th><td>{}</td></tr>", escape(error));
    }
    h.push_str("</table>");
    changes(h, "Drift (changed on the gateway)", &r.drift);
    changes(h, "Pending (not applied)", &r.pending);
    if !r.failed.is_empty() {
        h.push_str("<h3>Failed</h3><table><tr><th>operation</th><th>kind</th><th>error</th></tr>");
        for f in &r.failed {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&f.change.operation),
                escape(&f.kind),
                escape(&f.error)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
}

fn changes(h: &mut String, title: &str, list: &[Change]) {
    if list.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<h3>{}</h3><table><tr><th>plug-in</th><th>operation</th><th>cause</th>\
         <th>field</th><th>gateway</th><th>files</th></tr>",
        escape(title)
    );
    for c in list {
        let rows = c.fields.len().max(1);
        let _ = write!(
            h,
            "<tr><td rowspan=\"{rows}\">{}</td><td rowspan=\"{rows}\">{}</td><td rowspan=\"{rows}\">{}</td>",
            escape(&c.plugin),
            escape(&c.operation),
            escape(c.cause)
        );
        if c.fields.is_empty() {
            h.push_str("<td></td><td></td><td></td></tr>");
        }
        for (i, f) in c.fields.iter().enumerate() {
            if i > 0 {
                h.push_str("<tr>");
            }
            let _ = write!(
                h,
                "<td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                escape(&f.path),
                escape(&f.old),
                escape(&f.new)
            );
        }
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn the_page_escapes_the_identity() {
        let status = Status {
            identity: "<b>pod</b>".into(),
            ..Status::default()
        };
        let page = render(&status);
        assert!(page.contains("&lt;b&gt;pod&lt;/b&gt;"), "{page}");
        assert!(!page.contains("<b>pod"), "{page}");
    }
}
