//! The loader: a folder of YAML manifests into a validated [`crate::model::Desired`].
