//! One authenticated session against one repository: the distribution API calls, token negotiation included.

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;

use super::http::{basic_authorization, header_string, parse_challenge, read_capped, registry_message, same_origin, status_error, transport_error, Challenge};
use super::manifest::{sha256_digest, FetchedManifest, Manifest};
use crate::server::outbound::Outbound;
use super::{
    RegistryAuth, RegistryError, Target, DOCKER_MANIFEST_MEDIA_TYPE, MAX_BLOB_BYTES, MAX_ERROR_BODY_BYTES, MAX_MANIFEST_BYTES, MAX_SIGNATURE_LAYERS,
    OCI_MANIFEST_MEDIA_TYPE,
};
use crate::signature::image_ref::{validate_digest, ImageRef};

#[derive(Clone, Copy)]
pub(super) enum Access {
    Pull,
    Push,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Access::Pull => "pull from",
            Access::Push => "push to",
        }
    }
}

/// One operation against one repository: remembers the Authorization header negotiated from the
/// registry's first 401 challenge so later requests reuse it.
pub(super) struct Session<'a> {
    http: &'a Outbound,
    base: Url,
    registry: &'a str,
    repository: &'a str,
    auth: &'a RegistryAuth,
    access: Access,
    authorization: Option<HeaderValue>,
}

struct Request<'b> {
    method: Method,
    url: Url,
    accept: Option<&'b str>,
    body: Option<(&'b [u8], &'b str)>,
}

impl<'a> Session<'a> {
    pub(super) fn open(http: &'a Outbound, target: Target<'a>, access: Access) -> Result<Self, RegistryError> {
        // Fields of ImageRef are public; re-parsing its canonical form keeps anything that was
        // not produced by ImageRef::parse (say "../x") out of the URLs below.
        let image = target.image;
        match ImageRef::parse(&image.to_string()) {
            Ok(reparsed) if reparsed == *image => {}
            Ok(_) => return Err(RegistryError::InvalidImage(format!("{image} is not in canonical form"))),
            Err(e) => return Err(RegistryError::InvalidImage(e.to_string())),
        }
        let scheme = if target.plain_http { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{}/", image.registry)).map_err(|e| RegistryError::InvalidImage(format!("{}: {e}", image.registry)))?;
        Ok(Session { http, base, registry: &image.registry, repository: &image.repository, auth: target.auth, access, authorization: None })
    }

    fn url(&self, kind: &str, reference: &str) -> Result<Url, RegistryError> {
        self.base
            .join(&format!("v2/{}/{kind}/{reference}", self.repository))
            .map_err(|e| RegistryError::InvalidImage(format!("{}/{}: {e}", self.registry, self.repository)))
    }

    fn describe(&self, what: &str, reference: &str) -> String {
        let separator = if reference.starts_with("sha256:") { '@' } else { ':' };
        format!("{what} {}/{}{separator}{reference}", self.registry, self.repository)
    }

    /// Sends a request; on a 401 negotiates credentials from the challenge and retries once.
    async fn send(&mut self, request: &Request<'_>) -> Result<reqwest::Response, RegistryError> {
        let mut retried = false;
        loop {
            let mut builder = self.http.request(request.method.clone(), request.url.clone())?;
            if let Some(accept) = request.accept {
                builder = builder.header(ACCEPT, accept);
            }
            if let Some((body, content_type)) = request.body {
                builder = builder.header(CONTENT_TYPE, content_type).body(body.to_vec());
            }
            // Upload locations may point at another host; credentials only go to the registry.
            if let Some(authorization) = self.authorization.as_ref().filter(|_| same_origin(&request.url, &self.base)) {
                builder = builder.header(AUTHORIZATION, authorization.clone());
            }
            let response = builder.send().await.map_err(|e| transport_error(self.registry, &e))?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            if retried {
                return Err(self.refused());
            }
            self.negotiate(response.headers()).await?;
            retried = true;
        }
    }

    fn refused(&self) -> RegistryError {
        match self.auth {
            RegistryAuth::Anonymous => RegistryError::CredentialsRequired,
            RegistryAuth::Basic { .. } => RegistryError::CredentialsRefused,
        }
    }

    async fn negotiate(&mut self, headers: &HeaderMap) -> Result<(), RegistryError> {
        let challenge = headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).and_then(parse_challenge);
        let Some(challenge) = challenge else {
            return Err(self.refused());
        };
        let value = if challenge.scheme.eq_ignore_ascii_case("basic") {
            let RegistryAuth::Basic { username, password } = self.auth else {
                return Err(RegistryError::CredentialsRequired);
            };
            basic_authorization(username, password)
        } else if challenge.scheme.eq_ignore_ascii_case("bearer") {
            format!("Bearer {}", self.fetch_token(&challenge).await?)
        } else {
            return Err(RegistryError::UnsupportedAuth(challenge.scheme));
        };
        let mut header = HeaderValue::from_str(&value).map_err(|_| RegistryError::Protocol {
            what: "the token service".into(),
            problem: "the token contains characters not allowed in a header".into(),
        })?;
        header.set_sensitive(true);
        self.authorization = Some(header);
        Ok(())
    }

    /// The Docker token flow: GET realm?service=…&scope=repository:<name>:<actions>, with the
    /// user's credentials as Basic auth when there are any.
    pub(super) async fn fetch_token(&self, challenge: &Challenge) -> Result<String, RegistryError> {
        let what = "the token service".to_string();
        let realm =
            challenge.params.get("realm").ok_or_else(|| RegistryError::Protocol { what: what.clone(), problem: "the Bearer challenge has no realm".into() })?;
        let mut url = Url::parse(realm).map_err(|e| RegistryError::Protocol { what: what.clone(), problem: format!("bad realm {realm:?}: {e}") })?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(RegistryError::Protocol { what, problem: format!("bad realm {realm:?}") });
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = challenge.params.get("service") {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &format!("repository:{}:{}", self.repository, self.access.actions()));
        }
        let host = url.host_str().unwrap_or_default().to_string();
        // The token service is reached only if the outbound policy allows its address.
        let mut builder = self.http.request(Method::GET, url.clone())?;
        if let RegistryAuth::Basic { username, password } = self.auth {
            // Credentials over plain HTTP are only acceptable when the registry itself is plain HTTP.
            if url.scheme() == "http" && self.base.scheme() == "https" {
                return Err(RegistryError::InsecureTokenService(host));
            }
            builder = builder.basic_auth(username, Some(password));
        }
        let response = builder.send().await.map_err(|e| transport_error(&host, &e))?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED => return Err(self.refused()),
            StatusCode::FORBIDDEN => return Err(self.forbidden(response).await),
            s => return Err(status_error(s, what, response).await),
        }
        #[derive(Deserialize)]
        struct TokenResponse {
            token: Option<String>,
            access_token: Option<String>,
        }
        let body = read_capped(response, MAX_ERROR_BODY_BYTES, &host, &what).await?;
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol { what: what.clone(), problem: e.to_string() })?;
        parsed.token.or(parsed.access_token).filter(|t| !t.is_empty()).ok_or(RegistryError::Protocol { what, problem: "the answer has no token".into() })
    }

    async fn forbidden(&self, response: reqwest::Response) -> RegistryError {
        RegistryError::Forbidden {
            action: self.access.verb(),
            repository: format!("{}/{}", self.registry, self.repository),
            message: registry_message(response).await,
        }
    }

    /// Checks the status of an answer that is not a 401, turning anything unexpected into the
    /// registry's own words.
    async fn expect(&self, response: reqwest::Response, ok: StatusCode, what: String) -> Result<reqwest::Response, RegistryError> {
        match response.status() {
            s if s == ok => Ok(response),
            StatusCode::FORBIDDEN => Err(self.forbidden(response).await),
            s => Err(status_error(s, what, response).await),
        }
    }

    pub(super) async fn manifest_exists(&mut self, reference: &str) -> Result<bool, RegistryError> {
        let request = Request { method: Method::HEAD, url: self.url("manifests", reference)?, accept: Some(MANIFEST_ACCEPT), body: None };
        let response = self.send(&request).await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(false),
            _ => self.expect(response, StatusCode::OK, self.describe("image", reference)).await.map(|_| true),
        }
    }

    /// The manifest under `tag`, or None when the tag (or the whole repository) does not exist.
    pub(super) async fn get_manifest(&mut self, tag: &str) -> Result<Option<FetchedManifest>, RegistryError> {
        let request = Request { method: Method::GET, url: self.url("manifests", tag)?, accept: Some(MANIFEST_ACCEPT), body: None };
        let response = self.send(&request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let what = self.describe("manifest", tag);
        let response = self.expect(response, StatusCode::OK, what.clone()).await?;
        let header_type =
            response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(|v| v.split(';').next().unwrap_or_default().trim().to_string());
        let announced_digest = header_string(response.headers(), "docker-content-digest");
        let body = read_capped(response, MAX_MANIFEST_BYTES, self.registry, &what).await?;
        let digest = sha256_digest(&body);
        if let Some(announced) = announced_digest.filter(|d| *d != digest) {
            return Err(RegistryError::DigestMismatch { what, expected: announced, actual: digest });
        }

        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Probe {
            media_type: Option<String>,
        }
        let probe: Probe = serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol { what: what.clone(), problem: e.to_string() })?;
        let media_type = probe.media_type.or(header_type).unwrap_or_else(|| OCI_MANIFEST_MEDIA_TYPE.to_string());
        if media_type != OCI_MANIFEST_MEDIA_TYPE && media_type != DOCKER_MANIFEST_MEDIA_TYPE {
            return Err(RegistryError::NotSignatureManifest { tag: tag.to_string(), media_type });
        }
        let manifest: Manifest = serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol { what: what.clone(), problem: e.to_string() })?;
        if manifest.layers.len() > MAX_SIGNATURE_LAYERS {
            return Err(RegistryError::Protocol { what, problem: format!("{} layers, more than the {MAX_SIGNATURE_LAYERS} accepted", manifest.layers.len()) });
        }
        Ok(Some(FetchedManifest { manifest, digest }))
    }

    /// Downloads a blob and checks its size and sha256 against the descriptor.
    pub(super) async fn get_blob(&mut self, digest: &str, size: u64) -> Result<Vec<u8>, RegistryError> {
        let what = self.describe("blob", digest);
        // The digest comes from the registry and goes into a URL: only a well-formed sha256 may.
        validate_digest(digest).map_err(|e| RegistryError::Protocol { what: what.clone(), problem: e.to_string() })?;
        if size > MAX_BLOB_BYTES as u64 {
            return Err(RegistryError::TooLarge { what, limit: MAX_BLOB_BYTES });
        }
        let request = Request { method: Method::GET, url: self.url("blobs", digest)?, accept: None, body: None };
        let response = self.send(&request).await?;
        let response = self.expect(response, StatusCode::OK, what.clone()).await?;
        let body = read_capped(response, MAX_BLOB_BYTES, self.registry, &what).await?;
        let actual = sha256_digest(&body);
        if actual != digest || body.len() as u64 != size {
            return Err(RegistryError::DigestMismatch {
                what,
                expected: digest.to_string(),
                actual: format!("{actual} ({} bytes, expected {size})", body.len()),
            });
        }
        Ok(body)
    }

    /// Uploads a blob unless the registry already has it, returning its digest. Monolithic
    /// upload: POST to open the session, PUT the bytes with `?digest=` to close it.
    pub(super) async fn upload_blob(&mut self, bytes: &[u8]) -> Result<String, RegistryError> {
        let digest = sha256_digest(bytes);
        let what = self.describe("blob", &digest);
        let head = Request { method: Method::HEAD, url: self.url("blobs", &digest)?, accept: None, body: None };
        if self.send(&head).await?.status() == StatusCode::OK {
            return Ok(digest);
        }

        let start = Request { method: Method::POST, url: self.url("blobs", "uploads/")?, accept: None, body: None };
        let response = self.send(&start).await?;
        let response = self.expect(response, StatusCode::ACCEPTED, format!("the upload of {what}")).await?;
        let location = header_string(response.headers(), LOCATION.as_str())
            .ok_or_else(|| RegistryError::Protocol { what: format!("the upload of {what}"), problem: "no Location header".into() })?;
        let mut url = self
            .base
            .join(&location)
            .map_err(|e| RegistryError::Protocol { what: format!("the upload of {what}"), problem: format!("bad Location {location:?}: {e}") })?;
        url.query_pairs_mut().append_pair("digest", &digest);

        let finish = Request { method: Method::PUT, url, accept: None, body: Some((bytes, "application/octet-stream")) };
        let response = self.send(&finish).await?;
        let response = self.expect(response, StatusCode::CREATED, format!("the upload of {what}")).await?;
        if let Some(stored) = header_string(response.headers(), "docker-content-digest").filter(|d| *d != digest) {
            return Err(RegistryError::DigestMismatch { what, expected: digest, actual: stored });
        }
        Ok(digest)
    }

    /// Stores a manifest under `reference`, returning the digest the registry confirmed.
    pub(super) async fn put_manifest(&mut self, reference: &str, body: &[u8], media_type: &str) -> Result<String, RegistryError> {
        let digest = sha256_digest(body);
        let what = self.describe("manifest", reference);
        let request = Request { method: Method::PUT, url: self.url("manifests", reference)?, accept: None, body: Some((body, media_type)) };
        let response = self.send(&request).await?;
        let response = self.expect(response, StatusCode::CREATED, what.clone()).await?;
        if let Some(stored) = header_string(response.headers(), "docker-content-digest").filter(|d| *d != digest) {
            return Err(RegistryError::DigestMismatch { what, expected: digest, actual: stored });
        }
        Ok(digest)
    }
}

/// Index types are accepted too, so that a `.sig` tag pointing at one is reported as such
/// instead of as a missing manifest.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";
