//! Domain types shared by every layer: flavours, plug-in types and scopes,
//! the desired state read from manifests and the live state read from the API.
//!
//! Pure: no IO, no async.

mod desired;
mod live;
mod location;
mod owner;
mod plugin_type;
mod targets;

pub use desired::{
    ApiRef, Desired, DesiredBinding, DesiredPlugin, EmulatorTarget, OptionFlags, Options,
    ProjectFile, SecretSource, TargetConfig, Warning,
};
pub use live::{
    Api, Env, Live, LiveBinding, LivePlugin, PluginQuota, RELEASE_ENV_ID, RELEASE_ENV_NAME,
};
pub use location::Location;
pub use owner::{DEFAULT_OWNER, MAX_OWNER_LEN, owner_problem};
pub use plugin_type::{Flavour, PluginType, Scope};
pub use targets::{MAX_TARGET_NAME_LEN, NamedTarget, target_name_problem};
