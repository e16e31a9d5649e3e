//! The emulator's state: instances with their environments, groups, APIs
//! (with publish records), plug-ins and bindings. Plain serialisable values;
//! the operations on them live in `plugins`, `bindings` and `apis`. No IO.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{EmulatorError, ServiceError};
use super::indexed::{Bindings, ById};
use super::model::{Flavour, PluginType, Scope, release_env_id, release_env_name};
use super::quirks_service::{ForeignPlugin, insert_plugin};
use super::seed::{Seed, derived_id};

/// Everything the emulator holds; what `--state` persists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The only project id the paths may carry.
    pub project_id: String,
    /// The instances.
    pub instances: Vec<Instance>,
}

/// One gateway / ROMA instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Instance id.
    pub id: String,
    /// Product flavour.
    pub flavour: Flavour,
    /// Environments; RELEASE first.
    pub envs: Vec<EnvRec>,
    /// API groups.
    pub groups: Vec<GroupRec>,
    /// APIs, in creation order, by id.
    pub apis: ById<ApiRec>,
    /// Plug-ins, in creation order, by id.
    pub plugins: ById<PluginRec>,
    /// Bindings, in creation order, by plug-in, API and environment.
    pub bindings: Bindings,
    /// Counter behind the ids of plug-ins, bindings and publish records.
    pub counter: u64,
}

/// An environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvRec {
    /// Id (`DEFAULT_ENVIRONMENT_RELEASE_ID` for RELEASE).
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time.
    pub create_time: String,
}

/// An API group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRec {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time.
    pub register_time: String,
}

/// An API and its publication history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRec {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Group id.
    pub group_id: String,
    /// Request method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Backend type (`HTTP`, `MOCK`, `FUNCTION`, `GRPC`; SPEC §3.10 `ApiInfoPerPage.backend_type`).
    #[serde(default = "default_backend")]
    pub backend_type: String,
    /// Creation time.
    pub register_time: String,
    /// Publish records, oldest first.
    pub versions: Vec<VersionRec>,
}

/// One publication of an API in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRec {
    /// Version id.
    pub version_id: String,
    /// Publish record id.
    pub publish_id: String,
    /// Version number shown to users.
    pub version_no: String,
    /// Environment id.
    pub env_id: String,
    /// Remark given when publishing.
    pub remark: String,
    /// Publish time.
    pub publish_time: String,
    /// True while this version is the effective one (`status` 1).
    pub effective: bool,
}

/// A plug-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRec {
    /// Id.
    pub id: String,
    /// Name, unique per instance.
    pub name: String,
    /// Type (any name: the seed and `POST /_emulator/plugins` may store types the API does not create).
    pub plugin_type: PluginType,
    /// Scope.
    pub scope: Scope,
    /// ROMA integration application of an `app` plug-in.
    pub roma_app_id: Option<String>,
    /// Remark.
    pub remark: Option<String>,
    /// The stored content as JSON text (verbatim unless the server normalised it).
    pub content: String,
    /// Creation time.
    pub create_time: String,
    /// Last update time.
    pub update_time: String,
}

/// A plug-in bound to an API in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingRec {
    /// `plugin_attach_id`.
    pub id: String,
    /// Plug-in id.
    pub plugin_id: String,
    /// API id.
    pub api_id: String,
    /// Environment id.
    pub env_id: String,
    /// When it was attached.
    pub attached_time: String,
}

/// The backend type of an API whose seed does not say (and of state files written before it
/// was kept): `MOCK`, what the emulator always answered (chosen).
pub fn default_backend() -> String {
    "MOCK".to_owned()
}

impl State {
    /// The state a seed describes, with every record created at `now`.
    pub fn from_seed(seed: &Seed, origin: &str, now: &str) -> Result<State, EmulatorError> {
        let instances = seed
            .instances
            .iter()
            .map(|si| {
                let invalid = |message: String| EmulatorError::SeedInvalid {
                    origin: origin.to_string(),
                    instance: si.id.clone(),
                    message,
                };
                let mut envs = vec![EnvRec {
                    id: release_env_id().to_string(),
                    name: release_env_name().to_string(),
                    create_time: now.to_string(),
                }];
                for env in &si.envs {
                    if envs.iter().any(|e| e.name == env.name()) {
                        return Err(invalid(format!("duplicate environment {:?}", env.name())));
                    }
                    envs.push(EnvRec {
                        id: env
                            .id()
                            .map_or_else(|| derived_id(&si.id, "env", env.name()), str::to_string),
                        name: env.name().to_string(),
                        create_time: now.to_string(),
                    });
                }
                let mut groups: Vec<GroupRec> = Vec::new();
                for group in &si.groups {
                    if groups.iter().any(|g| g.name == group.name()) {
                        return Err(invalid(format!("duplicate group {:?}", group.name())));
                    }
                    groups.push(GroupRec {
                        id: group.id().map_or_else(
                            || derived_id(&si.id, "group", group.name()),
                            str::to_string,
                        ),
                        name: group.name().to_string(),
                        register_time: now.to_string(),
                    });
                }
                let mut inst = Instance {
                    id: si.id.clone(),
                    flavour: si.flavour,
                    envs,
                    groups,
                    apis: ById::default(),
                    plugins: ById::default(),
                    bindings: Bindings::default(),
                    counter: 0,
                };
                for api in &si.apis {
                    let group_id = inst
                        .groups
                        .iter()
                        .find(|g| g.name == api.group)
                        .map(|g| g.id.clone())
                        .ok_or_else(|| {
                            invalid(format!(
                                "API {:?} names unknown group {:?}",
                                api.name, api.group
                            ))
                        })?;
                    let id = api.id.clone().unwrap_or_else(|| {
                        derived_id(&si.id, "api", &format!("{}\n{}", api.group, api.name))
                    });
                    inst.apis.push(ApiRec {
                        id: id.clone(),
                        name: api.name.clone(),
                        group_id,
                        method: api.method.to_ascii_uppercase(),
                        path: api.path.clone(),
                        backend_type: api.backend_type.to_ascii_uppercase(),
                        register_time: now.to_string(),
                        versions: Vec::new(),
                    });
                    for env_name in &api.published {
                        let env_id = inst
                            .envs
                            .iter()
                            .find(|e| &e.name == env_name)
                            .map(|e| e.id.clone())
                            .ok_or_else(|| {
                                invalid(format!(
                                    "API {:?} is published in unknown environment {env_name:?}",
                                    api.name
                                ))
                            })?;
                        inst.publish(&id, &env_id, "", now);
                    }
                }
                for p in &si.plugins {
                    let foreign = ForeignPlugin {
                        instance_id: None,
                        plugin_name: p.name.clone(),
                        plugin_type: p.plugin_type.clone(),
                        plugin_content: p.content.clone(),
                        remark: p.remark.clone(),
                    };
                    insert_plugin(&mut inst, &foreign, now).map_err(&invalid)?;
                }
                Ok(inst)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(State {
            project_id: seed.project_id.clone(),
            instances,
        })
    }

    /// The instance a request path names: project, flavour segment and id must all match.
    pub fn instance_mut(
        &mut self,
        project_id: &str,
        segment: &str,
        instance_id: &str,
    ) -> Result<&mut Instance, ServiceError> {
        if project_id != self.project_id {
            return Err(ServiceError::instance_not_found(instance_id));
        }
        self.instances
            .iter_mut()
            .find(|i| i.id == instance_id && i.flavour.path_segment() == segment)
            .ok_or_else(|| ServiceError::instance_not_found(instance_id))
    }
}

impl Instance {
    /// A fresh 32-hex id for a record of `kind`, from the instance's counter.
    pub fn next_id(&mut self, kind: &str) -> String {
        self.counter += 1;
        let digest = Sha256::digest(format!("{}\n{kind}\n{}", self.id, self.counter).as_bytes());
        hex::encode(&digest[..16])
    }

    /// The environment with this id.
    pub fn env(&self, id: &str) -> Result<&EnvRec, ServiceError> {
        self.envs
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| ServiceError::env_not_found(id))
    }

    /// The API with this id.
    pub fn api(&self, id: &str) -> Result<&ApiRec, ServiceError> {
        self.apis
            .get(id)
            .ok_or_else(|| ServiceError::api_not_found(id))
    }

    /// The plug-in with this id.
    pub fn plugin(&self, id: &str) -> Result<&PluginRec, ServiceError> {
        self.plugins
            .get(id)
            .ok_or_else(|| ServiceError::plugin_not_found(id))
    }

    /// The group with this id (seeded APIs always have one).
    pub fn group_name(&self, id: &str) -> &str {
        self.groups
            .iter()
            .find(|g| g.id == id)
            .map_or("", |g| g.name.as_str())
    }

    /// Publishes API `api_id` in `env_id`: a new effective version; the earlier ones stop being effective.
    /// At most 10 versions are kept per API and environment. Returns the new version.
    pub fn publish(
        &mut self,
        api_id: &str,
        env_id: &str,
        remark: &str,
        now: &str,
    ) -> Option<VersionRec> {
        let version_id = self.next_id("version");
        let publish_id = self.next_id("publish");
        let api = self.apis.get_mut(api_id)?;
        for v in api.versions.iter_mut().filter(|v| v.env_id == env_id) {
            v.effective = false;
        }
        let number = api.versions.iter().filter(|v| v.env_id == env_id).count() + 1;
        let version = VersionRec {
            version_id,
            publish_id,
            version_no: format!("v{number}"),
            env_id: env_id.to_string(),
            remark: remark.to_string(),
            publish_time: now.to_string(),
            effective: true,
        };
        api.versions.push(version.clone());
        let in_env = api.versions.iter().filter(|v| v.env_id == env_id).count();
        if in_env > 10
            && let Some(pos) = api.versions.iter().position(|v| v.env_id == env_id)
        {
            api.versions.remove(pos);
        }
        Some(version)
    }
}

impl ApiRec {
    /// The effective version in `env_id`, when the API is published there.
    pub fn published_in(&self, env_id: &str) -> Option<&VersionRec> {
        self.versions
            .iter()
            .find(|v| v.env_id == env_id && v.effective)
    }

    /// The effective versions, one per environment where the API is published.
    pub fn effective_versions(&self) -> impl Iterator<Item = &VersionRec> {
        self.versions.iter().filter(|v| v.effective)
    }
}
