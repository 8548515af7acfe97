//! The store's REST API as the benchmarks call it (`store_bench`, and the
//! [`crate::search_bench`] and [`crate::sweep_bench`] it runs): JSON in and
//! out, the service token as a bearer, and an answer that is not 2xx an
//! error naming the route, its status and its body.

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// A keep-alive client of one store-server.
#[derive(Clone)]
pub struct StoreHttp {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl StoreHttp {
    /// A client of the store at `base`, each request given up after
    /// `timeout`.
    pub fn new(base: &str, token: &str, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            auth: format!("Bearer {token}"),
        })
    }

    /// `POST path` with a JSON body; the JSON answer.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let request = self.http.post(format!("{}{path}", self.base)).json(body);
        self.send(request, "POST", path).await
    }

    /// `GET path_and_query`; the JSON answer.
    pub async fn get(&self, path_and_query: &str) -> anyhow::Result<Value> {
        let request = self.http.get(format!("{}{path_and_query}", self.base));
        self.send(request, "GET", path_and_query).await
    }

    /// Creates a group of `users` named `name`; its id.
    pub async fn create_group<U: Serialize>(
        &self,
        name: &str,
        users: &[U],
    ) -> anyhow::Result<String> {
        let group = self
            .post("/group", &json!({"name": name, "users": users}))
            .await?;
        group["id"]
            .as_str()
            .map(str::to_owned)
            .context("group without id")
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        method: &str,
        route: &str,
    ) -> anyhow::Result<Value> {
        let response = request.header("authorization", &self.auth).send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            bail!("{method} {route}: {status} {body}");
        }
        Ok(body)
    }
}
