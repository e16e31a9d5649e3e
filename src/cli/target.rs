//! Where a command connects: the project file's `target`, overridden by flags
//! and `HW_*` variables, lowered once into a [`ResolvedTarget`].

use std::path::{Path, PathBuf};

use clap::Args;

use crate::api::Target;
use crate::model::{Flavour, TargetConfig};

/// Flags that choose the gateway; each overrides the project file.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Target (override apigsync.yaml)")]
pub struct TargetArgs {
    /// Deployment flavour: apig (Huawei Cloud APIG), roma (ROMA Connect) or otc.
    #[arg(long, value_name = "FLAVOUR")]
    pub flavour: Option<Flavour>,
    /// Region id; the endpoint is derived from it (e.g. cn-north-4, eu-de).
    #[arg(long, env = "HW_REGION_NAME", value_name = "REGION")]
    pub region: Option<String>,
    /// Explicit endpoint URL instead of a region (e.g. https://apig.cn-north-4.myhuaweicloud.com).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// IAM project id.
    #[arg(long, env = "HW_PROJECT_ID", value_name = "ID")]
    pub project_id: Option<String>,
    /// Gateway (APIG) or instance (ROMA) id.
    #[arg(long, value_name = "ID")]
    pub instance_id: Option<String>,
    /// Run against the embedded emulator (demo seed), keeping its state in FILE.
    #[arg(long, value_name = "FILE")]
    pub emulator_state: Option<PathBuf>,
}

/// A target with every field decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedTarget {
    /// A real gateway.
    Remote {
        /// Flavour (path segment and type support).
        flavour: Flavour,
        /// Base URL, without path.
        endpoint: String,
        /// IAM project id.
        project_id: String,
        /// Instance id.
        instance_id: String,
    },
    /// The embedded emulator, started in-process with the demo seed.
    Emulator {
        /// Flavour of the instance to manage.
        flavour: Flavour,
        /// Instance id (defaults to the demo instance).
        instance_id: Option<String>,
        /// State file, resolved against the manifest folder.
        state: Option<PathBuf>,
    },
}

/// Why a target could not be decided.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// A required field is missing everywhere.
    #[error(
        "no {field} for the target: set {where_} (in apigsync.yaml under target:, as a flag, or in the environment)"
    )]
    Missing {
        /// The missing field.
        field: &'static str,
        /// Where it can be set.
        where_: &'static str,
    },
    /// A flag that names one gateway, given while several targets are worked on.
    #[error(
        "{flag} names one gateway, but apigsync.yaml declares several targets: pick one with --target NAME, or set it under that target in apigsync.yaml"
    )]
    OneGatewayFlag {
        /// The flag.
        flag: &'static str,
    },
}

impl TargetArgs {
    /// These flags for one target among several: `--region` and `--project-id` (and
    /// `HW_REGION_NAME`, `HW_PROJECT_ID`) only fill what the target leaves out; the flags
    /// that name one gateway (flavour, endpoint, instance, emulator state) are refused.
    pub fn for_one_of_several(&self, file: &TargetConfig) -> Result<TargetArgs, TargetError> {
        let named = [
            ("--flavour", self.flavour.is_some()),
            ("--endpoint", self.endpoint.is_some()),
            ("--instance-id", self.instance_id.is_some()),
            ("--emulator-state", self.emulator_state.is_some()),
        ];
        if let Some((flag, _)) = named.iter().find(|(_, given)| *given) {
            return Err(TargetError::OneGatewayFlag { flag });
        }
        let has_place = file.endpoint.is_some() || file.region.is_some();
        Ok(TargetArgs {
            region: self.region.clone().filter(|_| !has_place),
            project_id: self
                .project_id
                .clone()
                .filter(|_| file.project_id.is_none()),
            ..TargetArgs::default()
        })
    }
}

/// Merges the project file's target with the flags (flags win).
pub fn resolve(
    file: &TargetConfig,
    args: &TargetArgs,
    manifest_dir: Option<&Path>,
) -> Result<ResolvedTarget, TargetError> {
    let flavour = args.flavour.or(file.flavour).unwrap_or(Flavour::Apig);
    let instance_id = args.instance_id.clone().or(file.instance_id.clone());
    let explicit_remote =
        args.endpoint.is_some() || args.region.is_some() && args.flavour.is_some();
    let emulator_state = args.emulator_state.clone().or_else(|| {
        file.emulator.as_ref().and_then(|e| {
            e.state
                .as_ref()
                .map(|p| manifest_dir.map(|d| d.join(p)).unwrap_or_else(|| p.clone()))
        })
    });
    if args.emulator_state.is_some() || (file.emulator.is_some() && !explicit_remote) {
        return Ok(ResolvedTarget::Emulator {
            flavour,
            instance_id,
            state: emulator_state,
        });
    }
    let endpoint = match (args.endpoint.clone(), args.region.clone()) {
        (Some(e), _) => e,
        (None, Some(region)) => Target::endpoint_for_region(flavour, &region),
        (None, None) => match (&file.endpoint, &file.region) {
            (Some(e), _) => e.clone(),
            (None, Some(region)) => Target::endpoint_for_region(flavour, region),
            (None, None) => {
                return Err(TargetError::Missing {
                    field: "endpoint or region",
                    where_: "target.region / --region / HW_REGION_NAME, or target.endpoint / --endpoint",
                });
            }
        },
    };
    let project_id =
        args.project_id
            .clone()
            .or(file.project_id.clone())
            .ok_or(TargetError::Missing {
                field: "project id",
                where_: "target.project_id / --project-id / HW_PROJECT_ID",
            })?;
    let instance_id = instance_id.ok_or(TargetError::Missing {
        field: "instance id",
        where_: "target.instance_id / --instance-id",
    })?;
    Ok(ResolvedTarget::Remote {
        flavour,
        endpoint,
        project_id,
        instance_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EmulatorTarget;

    fn remote_file() -> TargetConfig {
        TargetConfig {
            flavour: Some(Flavour::Roma),
            region: Some("cn-north-4".into()),
            project_id: Some("p".into()),
            instance_id: Some("i".into()),
            ..Default::default()
        }
    }

    #[test]
    fn among_several_targets_region_and_project_only_fill_what_a_target_leaves_out() {
        let args = TargetArgs {
            region: Some("eu-de".into()),
            project_id: Some("from-env".into()),
            ..Default::default()
        };
        let filled = args.for_one_of_several(&remote_file()).expect("allowed");
        assert_eq!((filled.region, filled.project_id), (None, None));
        let bare = TargetConfig {
            flavour: Some(Flavour::Apig),
            instance_id: Some("i".into()),
            ..Default::default()
        };
        let filled = args.for_one_of_several(&bare).expect("allowed");
        assert_eq!(filled.region.as_deref(), Some("eu-de"));
        assert_eq!(filled.project_id.as_deref(), Some("from-env"));
        let endpoint = TargetArgs {
            endpoint: Some("http://x".into()),
            ..Default::default()
        };
        let err = endpoint.for_one_of_several(&bare).expect_err("one gateway");
        assert!(
            err.to_string().starts_with("--endpoint names one gateway"),
            "{err}"
        );
    }

    #[test]
    fn region_gives_the_flavour_endpoint() {
        let t = resolve(&remote_file(), &TargetArgs::default(), None).expect("resolves");
        assert_eq!(
            t,
            ResolvedTarget::Remote {
                flavour: Flavour::Roma,
                endpoint: "https://roma.cn-north-4.myhuaweicloud.com".into(),
                project_id: "p".into(),
                instance_id: "i".into(),
            }
        );
    }

    #[test]
    fn flags_override_the_file() {
        let args = TargetArgs {
            endpoint: Some("http://127.0.0.1:9".into()),
            instance_id: Some("other".into()),
            ..Default::default()
        };
        match resolve(&remote_file(), &args, None).expect("resolves") {
            ResolvedTarget::Remote {
                endpoint,
                instance_id,
                ..
            } => {
                assert_eq!(endpoint, "http://127.0.0.1:9");
                assert_eq!(instance_id, "other");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn missing_project_id_names_every_place_to_set_it() {
        let file = TargetConfig {
            project_id: None,
            ..remote_file()
        };
        let err = resolve(&file, &TargetArgs::default(), None).expect_err("missing");
        assert!(err.to_string().contains("HW_PROJECT_ID"), "{err}");
    }

    #[test]
    fn emulator_state_is_relative_to_the_manifest_folder() {
        let file = TargetConfig {
            emulator: Some(EmulatorTarget {
                state: Some("demo.json".into()),
            }),
            ..Default::default()
        };
        let t = resolve(&file, &TargetArgs::default(), Some(Path::new("ex"))).expect("ok");
        assert_eq!(
            t,
            ResolvedTarget::Emulator {
                flavour: Flavour::Apig,
                instance_id: None,
                state: Some(PathBuf::from("ex/demo.json")),
            }
        );
    }
}
