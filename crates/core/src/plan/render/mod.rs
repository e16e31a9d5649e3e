//! Renderers of a [`super::Plan`]: text for terminals, markdown for pull-request comments,
//! JSON for machines. None of them can show a secret: a plan holds none.

mod drift;
mod group;
mod grouped;
mod json;
mod markdown;
mod md_text;
mod path;
mod steps;
mod text;
mod values;

pub use grouped::{TargetSection, markdown_set, text_set};
pub use json::{json, json_set};
pub use markdown::markdown;
pub use steps::describe;
pub use text::text;
