//! A local server of the APIG plug-in API (SPEC §1–§7), used by the quickstart,
//! the examples, the integration tests and the benchmarks.
//!
//! [`spawn`] starts it in-process (bound to `127.0.0.1:0` by [`EmulatorConfig::demo`]);
//! `apigsync emulator` runs the same server from the command line.
//!
//! Both path flavours are served, `/v2/{project_id}/apigw/instances/{id}/…` and
//! `/v2/{project_id}/apic/instances/{id}/…`; the segment must match the instance's
//! flavour (`apig`/`otc` → `apigw`, `roma` → `apic`).
//!
//! The emulator is an independent witness of the service: it does not use the client's
//! code. [`model`] has its own names for flavours, types and scopes, [`content`] its own model
//! of what the service checks, stores and returns (written from SPEC §4, §6), and [`facts`]
//! reads the documented facts both sides need (`spec/service-facts.json`).
//!
//! Code map: [`seed`] (the starting world) → [`store`] (the state) ←
//! [`plugins`], [`bindings`] (the pure operations) ← `routes` (HTTP handlers) behind
//! `gate` (request id, latency, [`auth`], rate limit, [`faults`], stats);
//! `admin` (the `/_emulator/*` endpoints); [`persist`] (the `--state` file);
//! `server` (the accept loop and [`EmulatorHandle`]).
//!
//! Demo credentials (accepted when none are configured): AK [`DEMO_ACCESS_KEY`],
//! SK [`DEMO_SECRET_KEY`], token [`DEMO_TOKEN`].
//!
//! Admin endpoints (no auth, outside the APIG paths): `GET /_emulator/stats`
//! ([`Stats`]: counts per SDK operation name and status, total, write calls),
//! `GET /_emulator/log` ([`RequestLog`]: every APIG request in the order it finished,
//! operation name, write flag, status and path; the last 10 000),
//! `POST /_emulator/reset` (back to the seed, stats and log emptied, fault dice rewound),
//! `GET|PUT /_emulator/faults` ([`Faults`] as `{latency_ms, fault_rate, rate_limit, throttle_rate,
//! throttle_answer, omit_retry_after, …}`; PUT replaces them all, an omitted field means its
//! default; the same object carries the switches of [`quirks_binding`] and of
//! [`quirks_service::ServiceQuirks`] and of [`quirks_auth`]), `GET /_emulator/state` (the
//! store as JSON), `POST /_emulator/plugins` and `POST /_emulator/offline`
//! ([`quirks_service`]), `PUT /_emulator/tokens` and `PUT /_emulator/credentials`
//! ([`quirks_auth`]).
//!
//! With `state_file`, the whole store is written atomically after every change
//! and loaded at start; without it, the seed is the starting state.
//!
//! # Behaviours where SPEC has a gap
//!
//! | behaviour | source or "chosen" |
//! |---|---|
//! | plug-in name rule: 3–255 chars, letter or CJK first, then letters, digits, `_`, `-`, CJK; case-sensitive uniqueness | SPEC §4.1 suggested rule; case: chosen |
//! | name rule, type, scope, remark violations → 400 APIG.2012 `parameterName:<field>` | chosen (SPEC §10.3) |
//! | a mandatory body field or query parameter missing → 400 APIG.2001 `parameterName:<field>` | chosen (code from the OTC table) |
//! | a body that is not JSON or has a field of the wrong type → 400 APIG.2000 | chosen |
//! | content not JSON, not an object, > 65535 chars, or a documented field (facts file: SPEC §6 tables) missing, of the wrong JSON type or outside its documented values → 400 APIG.2012 `parameterName:plugin_content.` + pointer and message ([`content::check`]); ranges, lengths and cross-field rules are not checked | code: chosen (SPEC §10.3); rules: SPEC §6 |
//! | unknown content fields are accepted (the normaliser may drop them) | SPEC §6.6 (server drops unknown keys) |
//! | content is stored verbatim, or re-serialised only when [`content::normalize`] changed it (third_auth) | SPEC §6 ("some types come back verbatim"), §6.6 |
//! | every response with a plug-in (show, list, attachable, attached-plugins, and also create/update) goes through [`content::redact`]: kafka_log `sasl_password` left out, oidc_auth `client_secret` → `******` | reads: SPEC §6.10; create/update: chosen (secrets are never echoed) |
//! | type not offered by the flavour (OTC: no proxy_cache, proxy_mirror, oidc_auth; `jwt_auth` nowhere) → 400 APIG.2012 `plugin_type` | chosen (SPEC §4.2; real old gateways may say 412 APIG.3458) |
//! | `app` scope only on `apic`; needs `roma_app_id` (else 400 APIG.2001); `roma_app_name` echoes the id | chosen |
//! | update changing type or scope → 400 APIG.2012 `parameterName:plugin_type` / `plugin_scope` | chosen (SPEC §3.5) |
//! | update without `remark` clears it (full replacement) | chosen (SPEC §10.11) |
//! | attach of a pair already bound keeps the existing binding (same `plugin_attach_id`), 201 | chosen (SPEC §10.4) |
//! | attach: every id checked first (3068 / 3003 / 3002 / 3707), then all applied, or none | chosen |
//! | API-side attach naming two plug-ins of one type: the last one wins | follows the replace rule |
//! | detach of an id that is not bound: ignored, 204; unknown ids still 404 | chosen (SPEC §3.8) |
//! | detach/attach with unknown env → 404 APIG.3003 | SPEC §3.10 ("presumably") |
//! | concurrent binding changes of one (plug-in, env) → 500 APIG.3500 (marker held across the latency, at least one yield) | SPEC §3.8 |
//! | switches, off by default: an attach binding all but the last API asked (`partial_attach`), APIG.3500 on overlapping writes of one (API, env) (`binding_conflicts`), refused creates (`refuse_create`), an attach reporting its last N ids FAILED (`failed_attach_entries`), detaches that lag (`detach_lag`) | [`quirks_binding`] (SPEC §3.8, §5, §11; Terraform provider) |
//! | switches, off by default: tokens that expire (`token_expiry`); admin endpoints replace the accepted tokens and AK/SK pairs | [`quirks_auth`] (SPEC §7) |
//! | `GET …/project/configs`: `{total, size, configs: [{config_id, config_name: "PLUGIN_NUM_LIMIT", config_value: "<quota>", used, remark, config_time}]}`, 500 unless `plugin_quota` says | SPEC §11.3 (Terraform `data_source_huaweicloud_apig_instance_quotas.go`); 500: chosen |
//! | attachable-apis: APIs published in `env_id` not yet bound to this plug-in there; env_id mandatory (APIG.2001) | SPEC §3.9 / chosen |
//! | attachable-plugins: `env_id` optional; when given, plug-ins already bound to the API there are left out | chosen |
//! | `tags` filter: only `#no_tags#` matches (no API has tags) | chosen |
//! | `precise_search` accepts `plugin_name` or `name` (comma-separated list too); otherwise name filters are case-sensitive substring | SPEC §10.1 / §10.10: chosen |
//! | env list `name` filter: substring | chosen |
//! | list order: creation order (RELEASE first for envs; versions oldest first) | SPEC §10.10: chosen |
//! | `offset` < 0 → 0, `limit` ≤ 0 → 20, > 500 → 500, non-numeric → 400 APIG.2012 | SPEC §2 (APIG rule, applied to both flavours) |
//! | list APIs with `env_id`: `run_env_*` fields show that env only; else `|`-joined over every env published | chosen (SPEC §3.10) |
//! | API objects: `req_method`, `req_uri`, `backend_type` from the seed (`backend_type` default MOCK); `type` 1, `req_protocol` HTTPS, `auth_type` NONE, `status` 1 | SPEC §3.9, §3.10; the constants and the default: chosen |
//! | publish `online`: a new effective version, earlier ones in that env not effective; ≤ 10 kept per env | SPEC §3.10 |
//! | publish `offline` of an unpublished API: 201, nothing changes, no `publish_id` | chosen |
//! | taking an API offline keeps its bindings | SPEC §3.8 |
//! | unknown project id, unknown instance, or wrong flavour segment → 404 APIG.3030 | chosen |
//! | unknown route → 404 APIGW.0101; known route, other method → 405 APIG.2000 | chosen |
//! | no credentials → 401 APIG.1000; bad token → 401 APIG.1002 | SPEC §7.1 |
//! | bad signature, unknown AK, malformed header, bad or ±15 min X-Sdk-Date → 401 APIGW.0301 (mismatch shows the canonical request with `\|` for newlines) | SPEC §5, §7.2 (expiry code: chosen 0301) |
//! | AK lock-out after five failures | not emulated |
//! | gateway-level errors (401, 429) carry `request_id` in the body | SPEC §2 |
//! | rate limit: token bucket per AK (or token), burst = rate; 429 APIGW.0308, `Retry-After: 1` | chosen (SPEC §10.9) |
//! | faults: one seeded draw per authenticated request; kinds equally likely: 500 APIG.9999, 429 APIGW.0308, connection closed; writes also "applied, response lost" | chosen |
//! | ids: envs/groups/APIs = SHA-256(instance, kind, name)[..16] hex; plug-ins, bindings, versions = SHA-256(instance, kind, counter) | chosen |
//! | timestamps: RFC 3339 UTC with nanoseconds, `Z` | SPEC §2 |

mod admin;
pub mod auth;
pub mod bindings;
mod config;
pub mod content;
mod error;
pub mod facts;
pub mod faults;
mod gate;
pub mod indexed;
pub mod model;
pub mod persist;
pub mod plugins;
pub mod quirks_auth;
pub mod quirks_binding;
pub mod quirks_service;
mod responses;
mod routes;
pub mod seed;
mod server;
mod shared;
pub mod store;

pub use config::{
    Credential, DEFAULT_LISTEN, DEMO_ACCESS_KEY, DEMO_SECRET_KEY, DEMO_TOKEN, EmulatorConfig,
    Faults, ThrottleAnswer,
};
pub use error::{EmulatorError, ServiceError};
pub use faults::{LogEntry, RequestLog, Stats};
pub use seed::Seed;
pub use server::{EmulatorHandle, spawn};
