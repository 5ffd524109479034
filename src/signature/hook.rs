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
    let mut value = serde_json::to_value(configuration).unwrap_or_default();
    // apiVersion and kind first, as people write them.
    let mut out = String::new();
    if let serde_json::Value::Object(map) = &mut value {
        for key in ["apiVersion", "kind"] {
            if let Some(v) = map.remove(key) {
                out.push_str(&format!("{key}: {}\n", scalar(&v)));
            }
        }
    }
    write_value(&mut out, &value, 0);
    out
}

fn write_value(out: &mut String, value: &serde_json::Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match v {
                    serde_json::Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        write_value(out, v, indent + 2);
                    }
                    serde_json::Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        write_value(out, v, indent);
                    }
                    _ => out.push_str(&format!("{pad}{key}: {}\n", scalar(v))),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                match item {
                    serde_json::Value::Object(m) if !m.is_empty() => {
                        // The first key shares the dash's line; the rest line up under it.
                        let mut nested = String::new();
                        write_value(&mut nested, item, indent + 2);
                        let body = nested.trim_start_matches(' ');
                        out.push_str(&format!("{pad}- {body}"));
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// A scalar in flow style; strings are JSON-quoted (valid YAML) unless plainly safe.
fn scalar(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/' | '_'))
                && !matches!(s.as_str(), "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~")
                && !s.starts_with(|c: char| c.is_ascii_digit() || c == '-');
            if plain {
                s.clone()
            } else {
                serde_json::to_string(s).unwrap_or_default()
            }
        }
        serde_json::Value::Object(_) => "{}".into(),
        serde_json::Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_has_what_the_api_server_requires() {
        let config = configuration("Prod EU #1", &["shop".into(), "payments".into()], "https://console.example.com/api/v1/admission/3/bct_x", Some(b"PEM"));
        let yaml = to_yaml(&config);
        assert!(yaml.starts_with("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"), "{yaml}");
        for line in [
            "  name: bulwark-image-signature-prod-eu-1",
            "- admissionReviewVersions:",
            "  - v1",
            "  failurePolicy: Fail",
            "  sideEffects: None",
            "  timeoutSeconds: 10",
            "    url: \"https://console.example.com/api/v1/admission/3/bct_x\"",
            "    caBundle: UEVN",
            "      - shop",
            "    - deployments",
        ] {
            assert!(yaml.contains(line), "missing {line:?} in\n{yaml}");
        }
        // Every rule covers both create and update, namespaced only.
        let rules = config.webhooks.as_ref().unwrap()[0].rules.as_ref().unwrap();
        let resources: Vec<String> = rules.iter().flat_map(|r| r.resources.clone().unwrap()).collect();
        for kind in ["pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs", "replicationcontrollers"] {
            assert!(resources.iter().any(|r| r == kind), "{kind}");
        }
    }

    #[test]
    fn without_tls_there_is_no_ca_bundle() {
        let yaml = to_yaml(&configuration("c", &["a".into()], "https://x/y", None));
        assert!(!yaml.contains("caBundle"));
    }
}
