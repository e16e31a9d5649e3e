//! Which gateway instance the client talks to, and how its paths are built.

use apigsync_core::model::Flavour;
use apigsync_signing as signing;

/// One APIG / ROMA / OTC instance: where it is and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Which deployment (decides the `apigw` / `apic` path segment).
    pub flavour: Flavour,
    /// Base URL, e.g. `https://apig.cn-north-4.myhuaweicloud.com` or `http://127.0.0.1:8780`.
    pub endpoint: reqwest::Url,
    /// IAM project id.
    pub project_id: String,
    /// Gateway / ROMA instance id.
    pub instance_id: String,
}

/// Why a target could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The endpoint is not an absolute `http(s)://` URL.
    #[error("endpoint {endpoint:?} is not an http(s) URL: {reason}")]
    Endpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The project or instance id is empty.
    #[error("{field} is empty")]
    Empty {
        /// `project_id` or `instance_id`.
        field: &'static str,
    },
}

impl Target {
    /// A target at `endpoint` (an explicit URL or [`Target::endpoint_for_region`]'s answer).
    pub fn new(
        flavour: Flavour,
        endpoint: &str,
        project_id: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> Result<Self, TargetError> {
        let bad = |reason: String| TargetError::Endpoint {
            endpoint: endpoint.to_string(),
            reason,
        };
        let url = reqwest::Url::parse(endpoint).map_err(|e| bad(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad(
                "expected http://host[:port] or https://host[:port]".into()
            ));
        }
        let (project_id, instance_id) = (project_id.into(), instance_id.into());
        if project_id.is_empty() {
            return Err(TargetError::Empty {
                field: "project_id",
            });
        }
        if instance_id.is_empty() {
            return Err(TargetError::Empty {
                field: "instance_id",
            });
        }
        Ok(Self {
            flavour,
            endpoint: url,
            project_id,
            instance_id,
        })
    }

    /// The HTTPS endpoint of `flavour` in `region` (SPEC §1).
    ///
    /// `eu-west-101` is served from `myhuaweicloud.eu`, as in the SDK's region table.
    pub fn endpoint_for_region(flavour: Flavour, region: &str) -> String {
        let cloud = if region == "eu-west-101" {
            "myhuaweicloud.eu"
        } else {
            "myhuaweicloud.com"
        };
        match flavour {
            Flavour::Apig => format!("https://apig.{region}.{cloud}"),
            Flavour::Roma => format!("https://roma.{region}.{cloud}"),
            Flavour::Otc => format!("https://apig.{region}.otc.t-systems.com"),
        }
    }

    /// The instance path prefix, `/v2/{project}/{apigw|apic}/instances/{instance}`,
    /// ids percent-encoded like the SDK does (nothing safe).
    pub fn instance_path(&self) -> String {
        format!(
            "/v2/{}/{}/instances/{}",
            signing::encode(&self.project_id),
            self.flavour.path_segment(),
            signing::encode(&self.instance_id)
        )
    }

    /// The `Host` header value: the endpoint's authority, with the port when it is not the default.
    pub fn host_header(&self) -> String {
        let host = self.endpoint.host_str().unwrap_or_default();
        match self.endpoint.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    /// The full URL of `path` (relative to the instance) with an already canonical `query`.
    ///
    /// Fails (with the parser's reason) only for an endpoint that cannot take a path.
    pub(crate) fn url(&self, path: &str, query: &str) -> Result<reqwest::Url, String> {
        let base = self.endpoint.as_str().trim_end_matches('/');
        let mut url = format!("{base}{path}");
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        reqwest::Url::parse(&url).map_err(|e| format!("invalid request URL {url:?}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(endpoint: &str) -> Target {
        Target {
            flavour: Flavour::Roma,
            endpoint: reqwest::Url::parse(endpoint).unwrap(),
            project_id: "p1".into(),
            instance_id: "i/1".into(),
        }
    }

    #[test]
    fn endpoints_per_flavour_and_the_eu_exception() {
        assert_eq!(
            Target::endpoint_for_region(Flavour::Apig, "cn-north-4"),
            "https://apig.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(
            Target::endpoint_for_region(Flavour::Roma, "cn-east-3"),
            "https://roma.cn-east-3.myhuaweicloud.com"
        );
        assert_eq!(
            Target::endpoint_for_region(Flavour::Otc, "eu-de"),
            "https://apig.eu-de.otc.t-systems.com"
        );
        assert_eq!(
            Target::endpoint_for_region(Flavour::Apig, "eu-west-101"),
            "https://apig.eu-west-101.myhuaweicloud.eu"
        );
    }

    #[test]
    fn new_checks_the_endpoint_and_ids() {
        let t = Target::new(
            Flavour::Otc,
            "https://apig.eu-de.otc.t-systems.com",
            "p",
            "i",
        )
        .unwrap();
        assert_eq!(t.instance_path(), "/v2/p/apigw/instances/i");
        let e = Target::new(Flavour::Apig, "ftp://x", "p", "i").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("endpoint \"ftp://x\" is not an http(s) URL"),
            "{e}"
        );
        assert!(Target::new(Flavour::Apig, "apig.cn-north-4", "p", "i").is_err());
        assert_eq!(
            Target::new(Flavour::Apig, "http://h", "", "i").unwrap_err(),
            TargetError::Empty {
                field: "project_id"
            }
        );
    }

    #[test]
    fn host_header_keeps_a_non_default_port_only() {
        assert_eq!(
            target("http://127.0.0.1:8780").host_header(),
            "127.0.0.1:8780"
        );
        assert_eq!(target("https://apig.x.com:443").host_header(), "apig.x.com");
    }

    #[test]
    fn instance_path_encodes_ids_and_uses_the_flavour_segment() {
        assert_eq!(
            target("http://h").instance_path(),
            "/v2/p1/apic/instances/i%2F1"
        );
    }

    #[test]
    fn url_keeps_the_query_bytes_as_given() {
        let url = target("http://h:1/").url("/a/b", "x=a%20b&y=%2B").unwrap();
        assert_eq!(url.as_str(), "http://h:1/a/b?x=a%20b&y=%2B");
    }
}
