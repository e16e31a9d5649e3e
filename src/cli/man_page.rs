//! One manual page, laid out as man(7) expects: clap_mangen's NAME, SYNOPSIS, DESCRIPTION,
//! OPTIONS and SUBCOMMANDS, then the command's after-help split into NOTES and EXAMPLES
//! (clap_mangen would put it all under "EXTRA"), ENVIRONMENT (every variable apigsync
//! reads) and EXIT STATUS.

use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

/// The variables apigsync reads, and what for.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "HW_ACCESS_KEY, HW_SECRET_KEY",
        "The access key pair that signs every request (AK/SK signing).",
    ),
    (
        "HW_SECURITY_TOKEN",
        "The security token of temporary credentials, sent with the access key pair.",
    ),
    (
        "HW_AUTH_TOKEN",
        "An IAM token (X-Auth-Token) used instead of the access key pair.",
    ),
    (
        "HW_ACCESS_KEY_FILE, HW_SECRET_KEY_FILE, HW_SECURITY_TOKEN_FILE, HW_AUTH_TOKEN_FILE",
        "A file holding the value of the variable of the same name (e.g. a mounted Kubernetes Secret).",
    ),
    (
        "PREFIX_HW_ACCESS_KEY, PREFIX_HW_SECRET_KEY, PREFIX_HW_AUTH_TOKEN",
        "The credentials of a target whose apigsync.yaml sets target.credentials_prefix: PREFIX (a gateway in another account); each also as PREFIX_HW_…_FILE.",
    ),
    ("HW_PROJECT_ID", "The project id, for --project-id."),
    ("HW_REGION_NAME", "The region, for --region."),
    (
        "APIGSYNC_MARKER_KEY",
        "The key of the HMAC fingerprints of secrets in the ownership marker; the same for every plan and apply of a gateway. Unset: salted Argon2id fingerprints.",
    ),
    (
        "APIGSYNC_POLICY_*",
        "Passed to --policy rules as data.apigsync.env (e.g. APIGSYNC_POLICY_ALLOW_DELETES).",
    ),
    (
        "${VAR} of the manifests",
        "Substituted into the manifests' string values; a secret field's variable is needed by plan and apply, not by validate.",
    ),
    (
        "KUBECONFIG",
        "With watch --leader-elect outside a cluster: the Kubernetes configuration (inside one, the pod's service account).",
    ),
    (
        "HOSTNAME",
        "With watch --leader-elect: this replica's identity in the Lease (the pod name), unless --leader-identity is given.",
    ),
    (
        "NO_COLOR",
        "Set and not empty: no colours under --color auto.",
    ),
    ("RUST_LOG", "The log filter; overrides -v."),
];

/// The exit status of every command.
const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Success; for plan, no changes (or changes, without --detailed-exitcode).",
    ),
    (
        "1",
        "An error of any kind: a usage error, invalid manifests, a failed API call or operation, a plan a --policy rule denies.",
    ),
    (
        "2",
        "Only with plan --detailed-exitcode: success, and the plan has changes.",
    ),
];

/// The page of `man` (a built command), as roff.
pub(super) fn render(man: &Man, cmd: &clap::Command) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut out)?;
    }
    let (notes, examples) = split_after_help(cmd);
    let mut roff = Roff::new();
    if !notes.is_empty() {
        roff.control("SH", ["NOTES"]);
        paragraphs(&mut roff, &notes);
    }
    if !examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        for example in &examples {
            roff.text([roman(example.as_str())]);
        }
        roff.control("fi", []);
        roff.control("RE", []);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    items(&mut roff, ENVIRONMENT);
    roff.control("SH", ["EXIT STATUS"]);
    items(&mut roff, EXIT_STATUS);
    roff.to_writer(&mut out)?;
    man.render_version_section(&mut out)?;
    Ok(out)
}

fn items(roff: &mut Roff, items: &[(&str, &str)]) {
    for (name, what) in items {
        roff.control("TP", []);
        roff.text([bold(*name)]);
        roff.text([roman(*what)]);
    }
}

/// Blank-line separated paragraphs; an indented line keeps its own line.
fn paragraphs(roff: &mut Roff, text: &str) {
    for paragraph in text.split("\n\n") {
        roff.control("PP", []);
        for line in paragraph.lines() {
            if line.starts_with("  ") {
                roff.control("br", []);
            }
            roff.text([roman(line.trim())]);
        }
    }
}

/// The after-help without its exit-status lines and environment paragraph (EXIT STATUS and
/// ENVIRONMENT have them), and its examples.
fn split_after_help(cmd: &clap::Command) -> (String, Vec<String>) {
    let text = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut notes: Vec<&str> = Vec::new();
    let mut examples = Vec::new();
    let mut in_examples = false;
    let mut in_exit = false;
    let mut in_env = false;
    for line in text.lines() {
        if let Some(rest) = line
            .strip_prefix("Examples:")
            .or_else(|| line.strip_prefix("Example:"))
        {
            in_examples = true;
            if !rest.trim().is_empty() {
                examples.push(rest.trim().to_owned());
            }
        } else if in_examples {
            if !line.trim().is_empty() {
                examples.push(line.trim().to_owned());
            }
        } else if line.starts_with("Exit status (every command):") {
            in_exit = true;
        } else if line.starts_with("Environment:") {
            // ENVIRONMENT has the full list: the paragraph goes there.
            in_env = true;
        } else if in_env && !line.is_empty() {
        } else if in_env {
            in_env = false;
        } else if in_exit && line.starts_with("  ") {
        } else {
            in_exit = false;
            notes.push(line);
        }
    }
    (notes.join("\n").trim().to_owned(), examples)
}
