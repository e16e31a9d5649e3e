//! Renderers of a [`super::Plan`]: text for terminals, markdown for pull-request comments,
//! JSON for machines. None of them can show a secret: a plan holds none.

mod budget;
mod drift;
mod group;
mod grouped;
mod json;
mod markdown;
mod md_text;
mod md_top;
mod moves;
mod path;
mod policy;
mod steps;
mod text;
mod values;

pub use budget::COMMENT_LIMIT;
pub use grouped::{TargetSection, markdown_set, markdown_set_with, text_set};
pub use json::{json, json_set};
pub use markdown::{CommentOptions, markdown, markdown_with};
pub use steps::describe;
pub use text::text;
