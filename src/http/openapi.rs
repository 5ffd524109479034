//! The HTTP API described by OpenAPI 3.1: every `/api/v1/…` route is registered through
//! utoipa-axum's `OpenApiRouter` beside its `#[utoipa::path]` description, so a route cannot be
//! served without being described. The document is served at `/api/openapi.json` and browsable
//! at `/api/docs` (Swagger UI, its files compiled into the binary).

use std::collections::BTreeMap;

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::server::AppState;

pub const DOCUMENT_PATH: &str = "/api/openapi.json";
pub const DOCS_PATH: &str = "/api/docs";

/// Bearer schemes, by the prefix of the secret each takes.
pub const API_TOKEN: &str = "api_token";
pub const ENROLLMENT_TOKEN: &str = "enrollment_token";
pub const AGENT_CREDENTIAL: &str = "agent_credential";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Bulwark API",
        description = "Ingestion, host agents, advisories, the key service, image signatures and the Kubernetes admission webhook. \
                       Errors share one shape (`Error`): a code, a sentence, and per-field messages for a request that did not validate.",
    ),
    components(schemas(Error, Accepted)),
    modifiers(&Schemes),
    tags(
        (name = "ingestion", description = "Assets, findings, alerts, baseline results and attacks pushed by scanners (API token)."),
        (name = "agents", description = "The host agent's protocol: enrollment (enrollment token), then heartbeats, inventories and fix jobs (agent credential)."),
        (name = "fix jobs", description = "Fix jobs and Trivy reports for one asset (API token)."),
        (name = "advisories", description = "OSV advisories uploaded to the account (API token, admin)."),
        (name = "key service", description = "Sign, verify, encrypt and decrypt with the account's keys (API token)."),
        (name = "signatures", description = "Image signatures in cosign's format (API token)."),
        (name = "admission", description = "The Kubernetes validating admission webhook; its URL carries the cluster's token."),
    )
)]
struct ApiDoc;

struct Schemes;

impl Modify for Schemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, format, description) in [
            (API_TOKEN, "blk_…", "An API token made in Settings › API tokens."),
            (ENROLLMENT_TOKEN, "benr_…", "An enrollment token made on Assets › Add host."),
            (AGENT_CREDENTIAL, "bagt_…", "The credential an agent received when it enrolled."),
        ] {
            let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format(format).description(Some(description)).build();
            components.add_security_scheme(name, SecurityScheme::Http(scheme));
        }
    }
}

/// Every error the API answers: 4xx for the caller's mistakes, 5xx for the console's.
#[derive(serde::Serialize, ToSchema)]
#[allow(dead_code)] // the shape `AppError` serialises to, described here
pub struct Error {
    /// A stable code: `validation`, `unauthorized`, `forbidden`, `not_found`, `conflict`, `too_large`, `rate_limited`, …
    #[schema(example = "validation")]
    error: String,
    /// What went wrong, in a sentence.
    #[schema(example = "Check the highlighted fields.")]
    message: String,
    /// For `validation`: a message per field, by its path in the request.
    #[schema(example = json!({"findings[0].severity": "must be critical, high, medium or low"}))]
    fields: Option<BTreeMap<String, String>>,
}

/// How many items of a batch were written.
#[derive(serde::Serialize, ToSchema)]
pub struct Accepted {
    #[schema(example = 2)]
    pub accepted: usize,
}

/// Splits the API's routes from their description, which starts from this module's (schemes,
/// tags, shared schemas).
pub fn describe(routes: OpenApiRouter<AppState>) -> (Router<AppState>, Document) {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(routes).split_for_parts()
}

/// The document and Swagger UI over it. Swagger UI runs scripts (its own, from the console), so
/// its pages get a policy that allows them where the rest of the API allows none.
pub fn routes(document: Document) -> Router<AppState> {
    let docs: Router<AppState> = SwaggerUi::new(DOCS_PATH).url(DOCUMENT_PATH, document).into();
    docs.layer(axum::middleware::map_response(|mut response: axum::response::Response| async move {
        response.headers_mut().insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
                 frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
            ),
        );
        response
    }))
}
