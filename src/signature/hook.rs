//! The ValidatingWebhookConfiguration a cluster applies to call Bulwark: built from the typed
//! Kubernetes API objects (so its shape is the API server's), then written out as YAML.

use k8s_openapi::api::admissionregistration::v1::{RuleWithOperations, ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta};
use k8s_openapi::ByteString;

/// How long the API server waits for an answer; failurePolicy Fail rejects after that.
pub const TIMEOUT_SECONDS: i32 = 10;

/// The configuration for a cluster: `url` is the webhook's https URL, `ca_bundle` the PEM the
/// API server should trust for it (when the console serves TLS itself).
pub fn configuration(cluster_name: &str, namespaces: &[String], url: &str, ca_bundle: Option<&[u8]>) -> ValidatingWebhookConfiguration {
    let rule = |group: &str, resources: &[&str]| RuleWithOperations {
        api_groups: Some(vec![group.to_string()]),
        api_versions: Some(vec!["v1".to_string()]),
        operations: Some(vec!["CREATE".to_string(), "UPDATE".to_string()]),
        resources: Some(resources.iter().map(|r| r.to_string()).collect()),
        scope: Some("Namespaced".to_string()),
    };
    ValidatingWebhookConfiguration {
        metadata: ObjectMeta {
            name: Some(format!("bulwark-image-signature-{}", object_name(cluster_name))),
            labels: Some([("app.kubernetes.io/managed-by".to_string(), "bulwark".to_string())].into()),
            ..ObjectMeta::default()
        },
        webhooks: Some(vec![ValidatingWebhook {
            name: "image-signature.bulwark.security".to_string(),
            admission_review_versions: vec!["v1".to_string()],
            side_effects: "None".to_string(),
            failure_policy: Some("Fail".to_string()),
            match_policy: Some("Equivalent".to_string()),
            timeout_seconds: Some(TIMEOUT_SECONDS),
            // Only the namespaces registered for the cluster: kube-system and the rest never wait
            // on the console.
            namespace_selector: Some(LabelSelector {
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: "kubernetes.io/metadata.name".to_string(),
                    operator: "In".to_string(),
                    values: Some(namespaces.to_vec()),
                }]),
                match_labels: None,
            }),
            rules: Some(vec![
                rule("", &["pods", "pods/ephemeralcontainers", "replicationcontrollers"]),
                rule("apps", &["deployments", "replicasets", "statefulsets", "daemonsets"]),
                rule("batch", &["jobs", "cronjobs"]),
            ]),
            client_config: WebhookClientConfig {
                url: Some(url.to_string()),
                ca_bundle: ca_bundle.map(|pem| ByteString(pem.to_vec())),
                service: None,
            },
            object_selector: None,
            match_conditions: None,
        }]),
    }
}

/// A Kubernetes object name from a cluster's display name (lowercase letters, digits and '-').
fn object_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "cluster".to_string()
    } else {
        out.chars().take(40).collect::<String>().trim_end_matches('-').to_string()
    }
}

/// The configuration as YAML: `kubectl apply -f` takes it as it is.
pub fn to_yaml(configuration: &ValidatingWebhookConfiguration) -> String {
    // Plain data (strings, lists, maps) always serialises; an error here would be a bug in the types.
    yaml_serde::to_string(configuration).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_has_what_the_api_server_requires() {
        let config = configuration("Prod EU #1", &["shop".into(), "payments".into()], "https://console.example.com/api/v1/admission/3/bct_x", Some(b"PEM"));
        let yaml = to_yaml(&config);
        assert!(yaml.starts_with("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"), "{yaml}");
        // Verify the YAML reads back as the same object, and holds the values the API server needs.
        let parsed: serde_json::Value = yaml_serde::from_str(&yaml).unwrap();
        assert_eq!(parsed, serde_json::to_value(&config).unwrap());
        assert_eq!(parsed["metadata"]["name"], "bulwark-image-signature-prod-eu-1");
        let hook = &parsed["webhooks"][0];
        assert_eq!(hook["admissionReviewVersions"], serde_json::json!(["v1"]));
        assert_eq!(hook["failurePolicy"], "Fail");
        assert_eq!(hook["sideEffects"], "None");
        assert_eq!(hook["timeoutSeconds"], 10);
        assert_eq!(hook["clientConfig"]["url"], "https://console.example.com/api/v1/admission/3/bct_x");
        assert_eq!(hook["clientConfig"]["caBundle"], "UEVN");
        assert_eq!(hook["namespaceSelector"]["matchExpressions"][0]["values"], serde_json::json!(["shop", "payments"]));
        // Every rule covers both create and update, namespaced only.
        let rules = config.webhooks.as_ref().unwrap()[0].rules.as_ref().unwrap();
        let resources: Vec<String> = rules.iter().flat_map(|r| r.resources.clone().unwrap()).collect();
        for kind in ["pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs", "replicationcontrollers"] {
            assert!(resources.iter().any(|r| r == kind), "{kind}");
        }
    }

    #[test]
    fn bundles_that_need_base64_padding_read_back_whole() {
        // 1, 2 and 3 bytes: "==", "=" and no padding; '+' and '/' appear in the first two.
        for pem in [&b"\xfb"[..], b"\xfb\xff", b"\xfb\xef\xbe"] {
            let yaml = to_yaml(&configuration("c", &["a".into()], "https://x/y", Some(pem)));
            let parsed: ValidatingWebhookConfiguration = yaml_serde::from_str(&yaml).unwrap();
            let bundle = parsed.webhooks.unwrap()[0].client_config.ca_bundle.clone().unwrap();
            assert_eq!(bundle.0, pem, "{yaml}");
        }
    }

    #[test]
    fn without_tls_there_is_no_ca_bundle() {
        let yaml = to_yaml(&configuration("c", &["a".into()], "https://x/y", None));
        assert!(!yaml.contains("caBundle"));
    }
}
