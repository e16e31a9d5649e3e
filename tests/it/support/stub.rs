//! A stub gateway: an in-test axum app on 127.0.0.1 and a client of it (ROMA, project
//! `p1`, instance `i1`, any AK/SK: the stub checks no signature).

use apigsync::api::{Client, ClientOptions, Credentials, Secret, Target};
use apigsync::model::Flavour;
use axum::Router;

/// Serves `app` on a free local port and returns a client of it.
pub async fn client_of(app: Router) -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let target = Target {
        flavour: Flavour::Roma,
        endpoint: endpoint.parse().unwrap(),
        project_id: "p1".into(),
        instance_id: "i1".into(),
    };
    let credentials = Credentials::AkSk {
        access_key: "AK".into(),
        secret_key: Secret::new("SK"),
        security_token: None,
    };
    Client::new(target, credentials, ClientOptions::default()).unwrap()
}
