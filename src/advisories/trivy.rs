//! Trivy JSON reports (`trivy image|fs|rootfs … --format json`) as findings of one asset.
//! OS packages become "Linux software" findings; language and application packages (Composer,
//! npm, WordPress plugins …) the "Web-CMS" category, the console's home for application code.

use serde::Deserialize;

use super::repo::FoundVulnerability;
use crate::agent::host::Package;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Report {
    #[serde(default)]
    results: Vec<ResultSet>,
    /// When Trivy ran (RFC 3339).
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    metadata: Metadata,
    /// `{"Version": "0.58.1"}` in recent reports.
    #[serde(default)]
    trivy: Option<TrivyInfo>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    #[serde(default)]
    repo_digests: Vec<String>,
    #[serde(default, rename = "OS")]
    os: Option<Os>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Os {
    #[serde(default)]
    family: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyInfo {
    #[serde(default)]
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResultSet {
    #[serde(default)]
    class: String,
    #[serde(default, rename = "Type")]
    kind: String,
    /// Every package found (`--list-all-pkgs`, the default for JSON since Trivy 0.50).
    #[serde(default)]
    packages: Vec<TrivyPackage>,
    #[serde(default)]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyPackage {
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    release: String,
    #[serde(default)]
    epoch: u32,
    #[serde(default)]
    arch: String,
    #[serde(default)]
    src_name: String,
    #[serde(default)]
    src_version: String,
    #[serde(default)]
    src_release: String,
    #[serde(default)]
    src_epoch: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: String,
    pkg_name: String,
    #[serde(default)]
    installed_version: String,
    #[serde(default)]
    fixed_version: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    title: String,
}

/// Vulnerabilities one report may list (its OS and application packages together); the body
/// limit of the HTTP import (32 MiB) bounds what is parsed before they are counted.
pub const MAX_VULNERABILITIES: usize = 100_000;

/// Parses a Trivy report into findings; the message names the offending path.
pub fn parse(bytes: &[u8]) -> Result<Vec<FoundVulnerability>, String> {
    let report = read(bytes)?;
    findings(report.results)
}

/// A Trivy image report (`trivy image --format json`): the digests it names, when it ran, its
/// vulnerabilities, and the packages it lists, by the OSV ecosystems they belong to.
pub struct ImageReport {
    /// "registry/repository@sha256:…", from `Metadata.RepoDigests`.
    pub repo_digests: Vec<String>,
    pub created_at: Option<i64>,
    /// "Trivy 0.58.1", or "Trivy" when the report does not say.
    pub scanner: String,
    pub found: Vec<FoundVulnerability>,
    /// Each result's packages with the OSV ecosystems to match them in (none known: left out).
    pub package_sets: Vec<(Vec<String>, Vec<Package>)>,
    pub package_count: usize,
}

/// Reads a Trivy image report; the message names the offending path.
pub fn parse_image(bytes: &[u8]) -> Result<ImageReport, String> {
    let mut report = read(bytes)?;
    let created_at = match report.created_at.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(text) => Some(
            chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|_| format!("CreatedAt: \"{text}\" is not an RFC 3339 time"))?
                .timestamp(),
        ),
    };
    let os_ecosystems = report.metadata.os.as_ref().map(|os| super::repo::ecosystems_for(&os.family.to_ascii_lowercase(), &os.name)).unwrap_or_default();
    let mut package_sets = Vec::new();
    let mut package_count = 0;
    for result in &mut report.results {
        let packages = std::mem::take(&mut result.packages);
        package_count += packages.len();
        let ecosystems = match result.class.as_str() {
            "os-pkgs" => os_ecosystems.clone(),
            "lang-pkgs" => language_ecosystem(&result.kind).map(|e| vec![e.to_string()]).unwrap_or_default(),
            _ => Vec::new(),
        };
        if ecosystems.is_empty() || packages.is_empty() {
            continue;
        }
        let packages = packages.into_iter().map(|p| {
            let version = full_version(p.epoch, &p.version, &p.release);
            let source = (!p.src_name.is_empty()).then(|| p.src_name.clone());
            let source_version = (!p.src_version.is_empty()).then(|| full_version(p.src_epoch, &p.src_version, &p.src_release));
            Package { name: p.name, version, arch: p.arch, source, source_version }
        });
        package_sets.push((ecosystems, packages.collect()));
    }
    let scanner = match report.trivy.as_ref().map(|t| t.version.trim()).filter(|v| !v.is_empty()) {
        Some(version) => format!("Trivy {}", version.chars().take(32).collect::<String>()),
        None => "Trivy".into(),
    };
    let repo_digests = std::mem::take(&mut report.metadata.repo_digests);
    let found = findings(report.results)?;
    Ok(ImageReport { repo_digests, created_at, scanner, found, package_sets, package_count })
}

/// "epoch:version-release" as dpkg and rpm order them (no epoch when 0, no release when empty).
fn full_version(epoch: u32, version: &str, release: &str) -> String {
    let mut text = if epoch > 0 { format!("{epoch}:{version}") } else { version.to_string() };
    if !release.is_empty() {
        text.push('-');
        text.push_str(release);
    }
    text
}

/// The OSV ecosystem of a Trivy language-package type.
fn language_ecosystem(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "npm" | "yarn" | "pnpm" | "node-pkg" | "bun" => "npm",
        "pip" | "pipenv" | "poetry" | "python-pkg" | "uv" | "conda-pkg" => "PyPI",
        "gomod" | "gobinary" => "Go",
        "cargo" | "rust-binary" => "crates.io",
        "composer" | "composer-vendor" => "Packagist",
        "bundler" | "gemspec" => "RubyGems",
        "jar" | "pom" | "gradle" | "sbt" => "Maven",
        "nuget" | "dotnet-core" | "packages-props" => "NuGet",
        _ => return None,
    })
}

fn read(bytes: &[u8]) -> Result<Report, String> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let report: Report = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        // The path says where; serde_json's "at line 1 column 70" means little in a one-line report.
        let message = error.into_inner().to_string();
        let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m).to_string();
        if path == "." {
            format!("not a Trivy JSON report: {message}")
        } else {
            format!("{path}: {message}")
        }
    })?;
    Ok(report)
}

fn findings(results: Vec<ResultSet>) -> Result<Vec<FoundVulnerability>, String> {
    let mut found = Vec::new();
    for (r, result) in results.into_iter().enumerate() {
        let category = match result.class.as_str() {
            "os-pkgs" => "linux",
            "lang-pkgs" => "web_cms",
            // Secrets, misconfigurations and licenses are not vulnerabilities.
            _ => continue,
        };
        if found.len() + result.vulnerabilities.len() > MAX_VULNERABILITIES {
            return Err("A Trivy report may list at most 100,000 vulnerabilities; this one lists more. Import it in parts (one per target).".into());
        }
        for (v, vulnerability) in result.vulnerabilities.into_iter().enumerate() {
            if vulnerability.vulnerability_id.trim().is_empty() || vulnerability.pkg_name.trim().is_empty() {
                return Err(format!("Results[{r}].Vulnerabilities[{v}]: VulnerabilityID and PkgName must not be empty"));
            }
            let severity = match vulnerability.severity.to_ascii_uppercase().as_str() {
                "CRITICAL" => "critical",
                "HIGH" => "high",
                "MEDIUM" => "medium",
                "LOW" | "UNKNOWN" | "" => "low",
                other => return Err(format!("Results[{r}].Vulnerabilities[{v}].Severity: unknown severity \"{other}\"")),
            };
            let fixed = vulnerability.fixed_version.trim().to_string();
            let fix = if fixed.is_empty() {
                "No fixed version published yet.".to_string()
            } else {
                format!("Upgrade {} to {fixed} or later.", vulnerability.pkg_name.trim())
            };
            let title = if vulnerability.title.trim().is_empty() { vulnerability.vulnerability_id.clone() } else { vulnerability.title };
            found.push(FoundVulnerability {
                advisory_id: vulnerability.vulnerability_id.trim().to_string(),
                package: vulnerability.pkg_name.trim().to_string(),
                title: title.trim().chars().take(500).collect(),
                severity: severity.into(),
                category: category.into(),
                affected_versions: String::new(),
                fix,
                installed_version: vulnerability.installed_version.trim().to_string(),
                fixed_version: fixed,
            });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{
      "SchemaVersion": 2, "ArtifactName": "registry.local/shop@sha256:ab", "ArtifactType": "container_image",
      "Results": [
        {"Target": "registry.local/shop (debian 12.5)", "Class": "os-pkgs", "Type": "debian",
         "Vulnerabilities": [
           {"VulnerabilityID": "CVE-2024-0727", "PkgName": "libssl3", "InstalledVersion": "3.0.11-1~deb12u2",
            "FixedVersion": "3.0.13-1~deb12u1", "Severity": "MEDIUM", "Title": "openssl: denial of service via null dereference"},
           {"VulnerabilityID": "CVE-2023-50495", "PkgName": "ncurses-base", "InstalledVersion": "6.4-4", "Severity": "UNKNOWN"}
         ]},
        {"Target": "app/composer.lock", "Class": "lang-pkgs", "Type": "composer",
         "Vulnerabilities": [
           {"VulnerabilityID": "GHSA-xxxx-yyyy-zzzz", "PkgName": "guzzlehttp/psr7", "InstalledVersion": "2.4.1",
            "FixedVersion": "2.4.5", "Severity": "HIGH", "Title": "Improper header validation"}
         ]},
        {"Target": "secrets", "Class": "secret"}
      ]
    }"#;

    #[test]
    fn maps_os_and_application_packages() {
        let found = parse(REPORT.as_bytes()).expect("parses");
        assert_eq!(found.len(), 3);
        assert_eq!((found[0].category.as_str(), found[0].severity.as_str()), ("linux", "medium"));
        assert_eq!(found[0].fixed_version, "3.0.13-1~deb12u1");
        assert_eq!(found[0].fix, "Upgrade libssl3 to 3.0.13-1~deb12u1 or later.");
        assert_eq!((found[1].severity.as_str(), found[1].title.as_str()), ("low", "CVE-2023-50495"));
        assert_eq!(found[1].fix, "No fixed version published yet.");
        assert_eq!((found[2].category.as_str(), found[2].severity.as_str()), ("web_cms", "high"));
    }

    #[test]
    fn rejects_malformed_reports_with_the_path() {
        assert_eq!(
            parse(br#"{"Results": [{"Class": "os-pkgs", "Vulnerabilities": [{"PkgName": "x"}]}]}"#).unwrap_err(),
            "Results[0].Vulnerabilities[0]: missing field `VulnerabilityID`"
        );
        assert!(parse(b"\"a string\"").unwrap_err().starts_with("not a Trivy JSON report"), "{:?}", parse(b"\"a string\""));
        let bad = r#"{"Results": [{"Class": "os-pkgs", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "x", "Severity": "SEVERE"}]}]}"#;
        assert_eq!(parse(bad.as_bytes()).unwrap_err(), "Results[0].Vulnerabilities[0].Severity: unknown severity \"SEVERE\"");
    }

    #[test]
    fn refuses_reports_past_the_vulnerability_limit() {
        let one = r#"{"VulnerabilityID": "CVE-1", "PkgName": "x"}"#;
        let half = vec![one; MAX_VULNERABILITIES / 2].join(",");
        let report = |extra: &str| format!(r#"{{"Results": [{{"Class": "os-pkgs", "Vulnerabilities": [{half}]}}, {{"Class": "lang-pkgs", "Vulnerabilities": [{half}{extra}]}}]}}"#);
        // Verify the limit itself is accepted, and one more is refused whole with the limit named.
        assert_eq!(parse(report("").as_bytes()).expect("at the limit").len(), MAX_VULNERABILITIES);
        let refused = parse(report(&format!(",{one}")).as_bytes()).unwrap_err();
        assert!(refused.contains("at most 100,000 vulnerabilities"), "{refused}");
    }
}
