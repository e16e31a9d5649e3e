//! Which gateway instance the client talks to, and how its paths are built.

use crate::model::Flavour;
use crate::signing;

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

impl Target {
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
