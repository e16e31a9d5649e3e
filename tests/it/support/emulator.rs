//! Shared helpers of the emulator tests: a signed-request client over real HTTP.

use apigsync::emulator::{self, EmulatorConfig, EmulatorHandle, Seed};
use apigsync::model::Flavour;
use apigsync::signing::{self, Request};
use serde_json::Value;

/// A response: status, headers and JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error_code"].as_str().unwrap_or("")
    }
    pub fn msg(&self) -> &str {
        self.body["error_msg"].as_str().unwrap_or("")
    }
}

/// How to authenticate a request.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Sign with this AK/SK.
    Sign { ak: String, sk: String },
    /// Send `X-Auth-Token`.
    Token(String),
    /// Send nothing.
    None,
}

/// A test client of one emulator.
#[derive(Debug, Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub host: String,
    pub project: String,
    pub auth: Auth,
}

/// Changes the headers, the query string or the body after signing.
pub type Tamper<'a> = Box<dyn FnOnce(&mut Vec<(String, String)>, &mut String, &mut Vec<u8>) + 'a>;

/// A request being built; `tamper` runs on the headers after signing.
pub struct Call<'a> {
    pub method: &'a str,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub date: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    pub tamper: Option<Tamper<'a>>,
}

pub fn sdk_date(t: jiff::Timestamp) -> String {
    jiff::fmt::strtime::format(signing::DATE_FORMAT, t).expect("formats")
}

pub async fn start(config: EmulatorConfig) -> (EmulatorHandle, Client) {
    let handle = emulator::spawn(config).await.expect("emulator starts");
    let cred = handle.credentials()[0].clone();
    apigsync::api::install_tls_provider();
    let client = Client {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client"),
        base: handle.base_url(),
        host: handle.addr().to_string(),
        project: handle.project_id(),
        auth: Auth::Sign {
            ak: cred.access_key,
            sk: cred.secret_key,
        },
    };
    (handle, client)
}

pub async fn demo() -> (EmulatorHandle, Client) {
    start(EmulatorConfig::demo()).await
}

/// A seed with one instance of each flavour (apig, roma, otc).
pub fn three_flavour_seed() -> Seed {
    Seed::from_yaml(
        r#"
project_id: 0123456789abcdef0123456789abcdef
instances:
  - id: apig0000000000000000000000000001
    flavour: apig
    envs: [TEST]
    groups: [g]
    apis:
      - {name: a1, group: g, method: GET, path: /a1, published: [RELEASE]}
  - id: roma0000000000000000000000000001
    flavour: roma
    groups: [g]
    apis:
      - {name: r1, group: g, method: GET, path: /r1, published: [RELEASE]}
  - id: otc00000000000000000000000000001
    flavour: otc
    groups: [g]
    apis:
      - {name: o1, group: g, method: GET, path: /o1, published: [RELEASE]}
"#,
        "test seed",
    )
    .expect("seed parses")
}

pub const APIG: &str = "3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d";
pub const ROMA: &str = "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49";

impl Client {
    /// `/v2/{project}/{apigw|apic}/instances/{instance}{suffix}` for the flavour.
    pub fn path(&self, flavour: Flavour, instance: &str, suffix: &str) -> String {
        format!(
            "/v2/{}/{}/instances/{instance}{suffix}",
            self.project,
            flavour.path_segment()
        )
    }

    pub fn call<'a>(&self, method: &'a str, path: String) -> Call<'a> {
        Call {
            method,
            path,
            query: Vec::new(),
            body: None,
            date: None,
            extra_headers: Vec::new(),
            tamper: None,
        }
    }

    /// Sends a call; panics on a transport error.
    pub async fn send(&self, call: Call<'_>) -> Resp {
        self.try_send(call).await.expect("transport ok")
    }

    /// Sends a call; returns the transport error instead of panicking.
    pub async fn try_send(&self, call: Call<'_>) -> Result<Resp, reqwest::Error> {
        let mut body = call.body.unwrap_or_default();
        let mut headers: Vec<(String, String)> = vec![(
            "Content-Type".to_string(),
            if body.is_empty() {
                "application/json".to_string()
            } else {
                "application/json;charset=utf-8".to_string()
            },
        )];
        headers.extend(call.extra_headers);
        let mut query = signing::canonical_query(&call.query);
        match &self.auth {
            Auth::Sign { ak, sk } => {
                headers.push((
                    signing::DATE_HEADER.to_string(),
                    call.date
                        .unwrap_or_else(|| sdk_date(jiff::Timestamp::now())),
                ));
                headers.push(("Host".to_string(), self.host.clone()));
                let auth = signing::sign(
                    &Request {
                        method: call.method,
                        path: &call.path,
                        query: &call.query,
                        headers: &headers,
                        body: &body,
                    },
                    ak,
                    sk,
                );
                headers.push(("Authorization".to_string(), auth));
            }
            Auth::Token(t) => headers.push(("X-Auth-Token".to_string(), t.clone())),
            Auth::None => {}
        }
        if let Some(tamper) = call.tamper {
            tamper(&mut headers, &mut query, &mut body);
        }
        let url = if query.is_empty() {
            format!("{}{}", self.base, call.path)
        } else {
            format!("{}{}?{query}", self.base, call.path)
        };
        let method = reqwest::Method::from_bytes(call.method.as_bytes()).expect("method");
        let mut req = self.http.request(method, url);
        for (k, v) in headers.iter().filter(|(k, _)| k != "Host") {
            req = req.header(k, v);
        }
        let resp = req.body(body).send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("json body")
        };
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    pub async fn get(&self, path: String, query: &[(&str, &str)]) -> Resp {
        let mut call = self.call("GET", path);
        call.query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.send(call).await
    }

    pub async fn json(&self, method: &str, path: String, body: &Value) -> Resp {
        let mut call = self.call(method, path);
        call.body = Some(serde_json::to_vec(body).expect("json"));
        self.send(call).await
    }

    pub async fn delete(&self, path: String) -> Resp {
        self.send(self.call("DELETE", path)).await
    }

    /// Creates a CORS plug-in on the demo apig instance; returns its id.
    pub async fn create_cors(&self, name: &str) -> String {
        let resp = self
            .json(
                "POST",
                self.path(Flavour::Apig, APIG, "/plugins"),
                &serde_json::json!({
                    "plugin_name": name, "plugin_type": "cors", "plugin_scope": "global",
                    "plugin_content": "{\"allow_origin\": \"*\"}",
                }),
            )
            .await;
        assert_eq!(resp.status, 201, "{:?}", resp.body);
        resp.body["plugin_id"].as_str().expect("id").to_string()
    }

    /// The id of an API of the demo apig instance, by name.
    pub async fn api_id(&self, name: &str) -> String {
        let resp = self
            .get(
                self.path(Flavour::Apig, APIG, "/apis"),
                &[("name", name), ("precise_search", "name")],
            )
            .await;
        resp.body["apis"][0]["id"]
            .as_str()
            .expect("api")
            .to_string()
    }

    /// The id of the TEST env of the demo apig instance.
    pub async fn test_env(&self) -> String {
        let resp = self
            .get(self.path(Flavour::Apig, APIG, "/envs"), &[("name", "TEST")])
            .await;
        resp.body["envs"][0]["id"]
            .as_str()
            .expect("env")
            .to_string()
    }
}
