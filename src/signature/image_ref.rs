//! Container image references (`registry/repository[:tag][@sha256:…]`), parsed by Docker's rules
//! and normalised the way cosign writes them into the payloads it signs.

use std::fmt;

/// Docker Hub's API host. go-containerregistry (and so cosign) writes this, not "docker.io",
/// into `docker-reference`, so payloads we produce compare equal to the ones cosign produces.
pub const DOCKER_HUB_REGISTRY: &str = "index.docker.io";

/// distribution/reference's NameTotalLengthMax, counted over "registry/repository".
const MAX_NAME_LENGTH: usize = 255;
const MAX_TAG_LENGTH: usize = 128;

/// A parsed image reference; `registry` and `repository` are already normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    /// "sha256:<64 lowercase hex>"
    pub digest: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefError {
    #[error("the image reference is empty")]
    Empty,
    #[error("the image reference must not contain spaces or control characters")]
    Whitespace,
    #[error("leave out the scheme: write the image as registry/repository, without {0}://")]
    Scheme(String),
    #[error("the image name is {0} characters long; at most 255 are allowed")]
    NameTooLong(usize),
    #[error("\"{0}\" is not a valid registry host (expected a host name or IP address, optionally with :port)")]
    InvalidRegistry(String),
    #[error("the repository name is missing after the registry")]
    MissingRepository,
    #[error("a repository path has an empty component (look for \"//\" or a trailing \"/\")")]
    EmptyComponent,
    #[error("uppercase letters are not allowed in a repository name")]
    Uppercase,
    #[error("'{0}' is not allowed in a repository name (only lowercase letters, digits, '.', '_', '-' and '/')")]
    InvalidCharacter(char),
    #[error("the repository component \"{0}\" must start and end with a lowercase letter or digit, with single '.' or '_', '__', or dashes between them")]
    InvalidComponent(String),
    #[error("the tag after ':' is empty")]
    EmptyTag,
    #[error("the tag \"{0}\" is invalid: it must start with a letter, digit or '_' and contain only letters, digits, '_', '.' and '-'")]
    InvalidTag(String),
    #[error("the tag is {0} characters long; at most 128 are allowed")]
    TagTooLong(usize),
    #[error("the digest after '@' is empty")]
    EmptyDigest,
    #[error("only sha256 digests are supported, not {0}")]
    UnsupportedDigestAlgorithm(String),
    #[error("the digest must be written in lowercase hex")]
    UppercaseDigest,
    #[error("the digest must be sha256: followed by 64 lowercase hex digits")]
    MalformedDigest,
    #[error("the image must be pinned by digest (registry/repository@sha256:…), not only by tag")]
    NotPinned,
}

impl ImageRef {
    /// Parses a reference the way `docker pull` does, then normalises Docker Hub names
    /// ("nginx" → "index.docker.io/library/nginx").
    pub fn parse(input: &str) -> Result<ImageRef, ImageRefError> {
        if input.is_empty() {
            return Err(ImageRefError::Empty);
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ImageRefError::Whitespace);
        }
        if let Some((scheme, _)) = input.split_once("://") {
            return Err(ImageRefError::Scheme(scheme.to_string()));
        }

        let (name_and_tag, digest) = match input.split_once('@') {
            Some((name, digest)) => (name, Some(validate_digest(digest)?)),
            None => (input, None),
        };
        // A ':' after the last '/' starts the tag; one before it belongs to a registry port.
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_and_tag[last_slash..].find(':') {
            Some(i) => {
                let split = last_slash + i;
                (&name_and_tag[..split], Some(validate_tag(&name_and_tag[split + 1..])?))
            }
            None => (name_and_tag, None),
        };

        let (registry, path) = split_registry(name);
        if let Some(registry) = registry {
            validate_registry(registry)?;
        }
        if path.is_empty() {
            return Err(if name.is_empty() { ImageRefError::Empty } else { ImageRefError::MissingRepository });
        }
        validate_repository(path)?;
        if name.len() > MAX_NAME_LENGTH {
            return Err(ImageRefError::NameTooLong(name.len()));
        }

        let registry = match registry {
            None | Some("docker.io") => DOCKER_HUB_REGISTRY.to_string(),
            Some(other) => other.to_string(),
        };
        let repository = if registry == DOCKER_HUB_REGISTRY && !path.contains('/') { format!("library/{path}") } else { path.to_string() };
        Ok(ImageRef { registry, repository, tag, digest })
    }

    /// "registry/repository": what cosign signs as `critical.identity.docker-reference`.
    pub fn docker_reference(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
    }

    /// The digest, or an error telling the user to pin the image; signing a tag would sign
    /// whatever the tag points at later.
    pub fn pinned_digest(&self) -> Result<&str, ImageRefError> {
        self.digest.as_deref().ok_or(ImageRefError::NotPinned)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Checks a digest string: only sha256 with 64 lowercase hex digits is accepted, which is all
/// cosign and the registries we talk to produce.
pub fn validate_digest(digest: &str) -> Result<String, ImageRefError> {
    if digest.is_empty() {
        return Err(ImageRefError::EmptyDigest);
    }
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(ImageRefError::MalformedDigest);
    };
    if algorithm != "sha256" {
        if algorithm.eq_ignore_ascii_case("sha256") {
            return Err(ImageRefError::UppercaseDigest);
        }
        return Err(ImageRefError::UnsupportedDigestAlgorithm(algorithm.to_string()));
    }
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ImageRefError::MalformedDigest);
    }
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ImageRefError::UppercaseDigest);
    }
    Ok(digest.to_string())
}

/// Checks a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<String, ImageRefError> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut bytes = tag.bytes();
    match bytes.next() {
        None => return Err(ImageRefError::EmptyTag),
        Some(first) if !is_word(first) => return Err(ImageRefError::InvalidTag(tag.to_string())),
        Some(_) => {}
    }
    if !bytes.all(|b| is_word(b) || b == b'.' || b == b'-') {
        return Err(ImageRefError::InvalidTag(tag.to_string()));
    }
    if tag.len() > MAX_TAG_LENGTH {
        return Err(ImageRefError::TagTooLong(tag.len()));
    }
    Ok(tag.to_string())
}

/// Docker's rule: the first component names a registry only if it looks like a host
/// (has '.' or ':', or is "localhost"); otherwise the whole name is a Docker Hub repository.
fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (Some(first), rest),
        _ => (None, name),
    }
}

fn validate_registry(registry: &str) -> Result<(), ImageRefError> {
    let invalid = || ImageRefError::InvalidRegistry(registry.to_string());
    let (host_ok, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or_else(invalid)?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(invalid)?),
        };
        (ip.parse::<std::net::Ipv6Addr>().is_ok(), port)
    } else {
        let (host, port) = match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        };
        (!host.is_empty() && host.split('.').all(is_host_label), port)
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok());
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(invalid())
    }
}

fn is_host_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

/// Path components are `[a-z0-9]+` joined by '.', '_', '__' or runs of '-'.
fn validate_repository(path: &str) -> Result<(), ImageRefError> {
    // Report uppercase first: "MyApp" is a common mistake and deserves the precise message.
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ImageRefError::Uppercase);
    }
    if let Some(c) = path.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '/'))) {
        return Err(ImageRefError::InvalidCharacter(c));
    }
    for component in path.split('/') {
        if component.is_empty() {
            return Err(ImageRefError::EmptyComponent);
        }
        if !is_path_component(component) {
            return Err(ImageRefError::InvalidComponent(component.to_string()));
        }
    }
    Ok(())
}

fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    while i < bytes.len() {
        let run_start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == run_start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        let separator_start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[separator_start..i];
        let valid = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !valid || i == bytes.len() {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "4c1c50d0ffc614f90b93b07d778028dc765548e823f676fb027f61d281ac380d";

    fn parsed(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn official_image_gets_docker_hub_and_library() {
        let image = parsed("nginx");
        assert_eq!(image.registry, "index.docker.io");
        assert_eq!(image.repository, "library/nginx");
        assert_eq!(image.tag, None);
        assert_eq!(image.digest, None);
        assert_eq!(image.to_string(), "index.docker.io/library/nginx");
        assert!(!image.is_pinned());
        assert_eq!(image.pinned_digest(), Err(ImageRefError::NotPinned));
    }

    #[test]
    fn user_image_on_docker_hub_keeps_its_namespace() {
        let image = parsed("user/app:1.2");
        assert_eq!(image.docker_reference(), "index.docker.io/user/app");
        assert_eq!(image.tag.as_deref(), Some("1.2"));
    }

    #[test]
    fn docker_io_is_normalised_to_index_docker_io() {
        assert_eq!(parsed("docker.io/nginx:latest").to_string(), "index.docker.io/library/nginx:latest");
        assert_eq!(parsed("docker.io/user/app").docker_reference(), "index.docker.io/user/app");
        assert_eq!(parsed("index.docker.io/nginx").docker_reference(), "index.docker.io/library/nginx");
    }

    #[test]
    fn localhost_with_port_tag_and_digest() {
        let image = parsed(&format!("localhost:5000/a/b:1@sha256:{HEX}"));
        assert_eq!(image.registry, "localhost:5000");
        assert_eq!(image.repository, "a/b");
        assert_eq!(image.tag.as_deref(), Some("1"));
        assert_eq!(image.pinned_digest(), Ok(format!("sha256:{HEX}").as_str()));
        assert_eq!(image.to_string(), format!("localhost:5000/a/b:1@sha256:{HEX}"));
    }

    #[test]
    fn bare_localhost_is_a_registry() {
        let image = parsed("localhost/app");
        assert_eq!((image.registry.as_str(), image.repository.as_str()), ("localhost", "app"));
    }

    #[test]
    fn ip_registry_with_port_and_single_component() {
        let image = parsed("127.0.0.1:5000/x");
        assert_eq!(image.registry, "127.0.0.1:5000");
        assert_eq!(image.repository, "x");
        let image = parsed("[::1]:5000/x/y:t");
        assert_eq!(image.registry, "[::1]:5000");
        assert_eq!(image.tag.as_deref(), Some("t"));
    }

    #[test]
    fn ghcr_with_tag() {
        let image = parsed("ghcr.io/o/r:tag");
        assert_eq!(image.registry, "ghcr.io");
        assert_eq!(image.repository, "o/r");
        assert_eq!(image.tag.as_deref(), Some("tag"));
    }

    #[test]
    fn digest_without_tag() {
        let image = parsed(&format!("ghcr.io/o/r@sha256:{HEX}"));
        assert_eq!(image.tag, None);
        assert!(image.is_pinned());
    }

    #[test]
    fn separators_inside_components() {
        for ok in ["a.b/c_d/e__f/g-h/i---j", "my-org/my.app_v2"] {
            parsed(ok);
        }
        for (bad, component) in [("a..b", "a..b"), ("a___b", "a___b"), ("-a", "-a"), ("a-", "a-"), ("o/_x", "_x"), ("a._b", "a._b")] {
            assert_eq!(ImageRef::parse(bad), Err(ImageRefError::InvalidComponent(component.to_string())), "{bad}");
        }
    }

    #[test]
    fn a_first_component_without_dot_or_port_is_a_repository() {
        let image = parsed("myregistry/app");
        assert_eq!(image.docker_reference(), "index.docker.io/myregistry/app");
    }

    #[test]
    fn rejects_uppercase_repository() {
        assert_eq!(ImageRef::parse("User/App"), Err(ImageRefError::Uppercase));
        assert_eq!(ImageRef::parse("ghcr.io/Org/app"), Err(ImageRefError::Uppercase));
    }

    #[test]
    fn registry_host_may_have_uppercase() {
        assert_eq!(parsed("Registry.Example.com/app").registry, "Registry.Example.com");
    }

    #[test]
    fn rejects_bad_characters_and_empty_components() {
        assert_eq!(ImageRef::parse("ghcr.io/o/r$"), Err(ImageRefError::InvalidCharacter('$')));
        assert_eq!(ImageRef::parse("ghcr.io/o//r"), Err(ImageRefError::EmptyComponent));
        assert_eq!(ImageRef::parse("ghcr.io/o/"), Err(ImageRefError::EmptyComponent));
        assert_eq!(ImageRef::parse("ghcr.io/"), Err(ImageRefError::MissingRepository));
        assert_eq!(ImageRef::parse(""), Err(ImageRefError::Empty));
        assert_eq!(ImageRef::parse(":tag"), Err(ImageRefError::Empty));
        assert_eq!(ImageRef::parse("nginx latest"), Err(ImageRefError::Whitespace));
        assert_eq!(ImageRef::parse("https://ghcr.io/o/r"), Err(ImageRefError::Scheme("https".into())));
    }

    #[test]
    fn rejects_bad_registries() {
        for bad in ["bad_host.io/app", "-x.io/app", "x.io:/app", "x.io:99999/app", "x.io:5a/app", "[::zz]:5000/app", "[::1/app", "a..io/x"] {
            assert!(matches!(ImageRef::parse(bad), Err(ImageRefError::InvalidRegistry(_))), "{bad}: {:?}", ImageRef::parse(bad));
        }
    }

    #[test]
    fn tags() {
        assert_eq!(ImageRef::parse("nginx:"), Err(ImageRefError::EmptyTag));
        assert_eq!(ImageRef::parse("nginx:-x"), Err(ImageRefError::InvalidTag("-x".into())));
        // Docker reads "nginx:a" before a '/' as a registry with a (bad) port, not as a tag.
        assert_eq!(ImageRef::parse("nginx:a/b"), Err(ImageRefError::InvalidRegistry("nginx:a".into())));
        assert_eq!(ImageRef::parse("nginx:v1+x"), Err(ImageRefError::InvalidTag("v1+x".into())));
        assert_eq!(parsed("nginx:_V1.2-rc.3").tag.as_deref(), Some("_V1.2-rc.3"));
        let longest = "t".repeat(128);
        assert_eq!(parsed(&format!("nginx:{longest}")).tag.as_deref(), Some(longest.as_str()));
        assert_eq!(ImageRef::parse(&format!("nginx:{longest}t")), Err(ImageRefError::TagTooLong(129)));
    }

    #[test]
    fn digests() {
        assert_eq!(ImageRef::parse("nginx@"), Err(ImageRefError::EmptyDigest));
        assert_eq!(ImageRef::parse(&format!("nginx@sha256:{}", HEX.to_uppercase())), Err(ImageRefError::UppercaseDigest));
        assert_eq!(ImageRef::parse(&format!("nginx@SHA256:{HEX}")), Err(ImageRefError::UppercaseDigest));
        assert_eq!(ImageRef::parse(&format!("nginx@sha512:{HEX}{HEX}")), Err(ImageRefError::UnsupportedDigestAlgorithm("sha512".into())));
        assert_eq!(ImageRef::parse("nginx@sha256:abc"), Err(ImageRefError::MalformedDigest));
        assert_eq!(ImageRef::parse(&format!("nginx@{HEX}")), Err(ImageRefError::MalformedDigest));
        assert_eq!(ImageRef::parse(&format!("nginx@sha256:{HEX}@sha256:{HEX}")), Err(ImageRefError::MalformedDigest));
        assert_eq!(ImageRefError::MalformedDigest.to_string(), "the digest must be sha256: followed by 64 lowercase hex digits");
    }

    #[test]
    fn name_length_limit_counts_the_registry() {
        let repo = "a".repeat(255 - "ghcr.io/".len());
        parsed(&format!("ghcr.io/{repo}"));
        assert_eq!(ImageRef::parse(&format!("ghcr.io/{repo}a")), Err(ImageRefError::NameTooLong(256)));
    }

    #[test]
    fn non_ascii_input_is_rejected_without_panicking() {
        assert_eq!(ImageRef::parse("ghcr.io/é"), Err(ImageRefError::InvalidCharacter('é')));
        assert!(ImageRef::parse("é.io/app:ü").is_err());
        assert!(ImageRef::parse("app@sha256:é").is_err());
    }

    #[test]
    fn no_input_makes_it_panic() {
        // A fixed pseudo-random sweep over the characters that matter to the grammar.
        let alphabet: Vec<char> = "aZ9:/@._-_é🙂 sha256:0f".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let len = (seed >> 59) as usize;
            let text: String = (0..len)
                .map(|n| alphabet[((seed >> (n * 5 % 50)) as usize) % alphabet.len()])
                .collect();
            if let Ok(image) = ImageRef::parse(&text) {
                // Whatever parses prints back to something that parses to the same reference.
                assert_eq!(ImageRef::parse(&image.to_string()).as_ref(), Ok(&image), "{text:?}");
            }
        }
    }
}
