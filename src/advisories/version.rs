//! Version validation and ordering for the distro package managers osv.dev covers: dpkg, rpm and apk.
//! Each scheme rejects what its own tool rejects, so a malformed advisory can't silently mis-sort.

use std::cmp::Ordering;

/// Which package manager's version rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VersionScheme {
    Dpkg,
    Rpm,
    Apk,
}

impl VersionScheme {
    /// Maps an OSV ecosystem string ("Debian:12", "Alpine:v3.18", "Rocky Linux:9", …) to its scheme.
    pub fn for_ecosystem(ecosystem: &str) -> Option<Self> {
        // OSV scopes distro releases with ":<release>" suffixes; only the name before the first colon matters.
        let name = ecosystem.split(':').next().unwrap_or_default().trim();
        match name {
            "Debian" | "Ubuntu" => Some(Self::Dpkg),
            "Alpine" => Some(Self::Apk),
            "Rocky Linux" | "AlmaLinux" | "Red Hat" | "openSUSE" | "SUSE" | "Mageia"
            | "openEuler" => Some(Self::Rpm),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dpkg => "dpkg",
            Self::Rpm => "rpm",
            Self::Apk => "apk",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum VersionError {
    #[error("invalid {} version {version:?}: {reason}", .scheme.as_str())]
    Invalid {
        scheme: VersionScheme,
        version: String,
        reason: String,
    },
}

/// Checks `v` with the same rules the scheme's own tool applies when parsing a version.
pub fn validate(scheme: VersionScheme, v: &str) -> Result<(), VersionError> {
    let checked = match scheme {
        VersionScheme::Dpkg => dpkg::parse(v).map(drop),
        VersionScheme::Rpm => rpm::parse(v).map(drop),
        VersionScheme::Apk => apk::validate(v),
    };
    checked.map_err(|reason| invalid(scheme, v, reason))
}

/// Orders two versions as the scheme's own tool would; both must be valid.
pub fn compare(scheme: VersionScheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    match scheme {
        VersionScheme::Dpkg => {
            let a = dpkg::parse(a).map_err(|r| invalid(scheme, a, r))?;
            let b = dpkg::parse(b).map_err(|r| invalid(scheme, b, r))?;
            Ok(a.cmp(&b))
        }
        VersionScheme::Rpm => {
            let a = rpm::parse(a).map_err(|r| invalid(scheme, a, r))?;
            let b = rpm::parse(b).map_err(|r| invalid(scheme, b, r))?;
            Ok(a.cmp(&b))
        }
        VersionScheme::Apk => {
            apk::validate(a).map_err(|r| invalid(scheme, a, r))?;
            apk::validate(b).map_err(|r| invalid(scheme, b, r))?;
            Ok(apk::compare(a.as_bytes(), b.as_bytes()))
        }
    }
}

/// A valid version parsed once, to be ordered against others of its scheme many times (an
/// advisory's events are parsed when the index is built, an installed version once per match).
#[derive(Clone, Debug)]
pub enum Parsed {
    Dpkg(debversion::Version),
    /// Validated; rpm's comparison borrows from the text and allocates nothing.
    Rpm(Box<str>),
    Apk(Box<str>),
}

impl Parsed {
    /// `v` checked with the scheme's rules (as [`validate`]), kept in comparable form.
    pub fn parse(scheme: VersionScheme, v: &str) -> Result<Parsed, VersionError> {
        match scheme {
            VersionScheme::Dpkg => dpkg::parse(v).map(Parsed::Dpkg).map_err(|r| invalid(scheme, v, r)),
            VersionScheme::Rpm => rpm::parse(v).map(|_| Parsed::Rpm(v.into())).map_err(|r| invalid(scheme, v, r)),
            VersionScheme::Apk => apk::validate(v).map(|_| Parsed::Apk(v.into())).map_err(|r| invalid(scheme, v, r)),
        }
    }

    /// The order [`compare`] gives the two texts. Versions of two schemes never meet (one
    /// advisory entry has one scheme); if they did, they would order by scheme.
    pub fn order(&self, other: &Parsed) -> Ordering {
        match (self, other) {
            (Parsed::Dpkg(a), Parsed::Dpkg(b)) => a.cmp(b),
            (Parsed::Rpm(a), Parsed::Rpm(b)) => match (rpm::parse(a), rpm::parse(b)) {
                (Ok(a), Ok(b)) => a.cmp(&b),
                _ => a.cmp(b),
            },
            (Parsed::Apk(a), Parsed::Apk(b)) => apk::compare(a.as_bytes(), b.as_bytes()),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Parsed::Dpkg(_) => 0,
            Parsed::Rpm(_) => 1,
            Parsed::Apk(_) => 2,
        }
    }
}

fn invalid(scheme: VersionScheme, version: &str, reason: String) -> VersionError {
    VersionError::Invalid {
        scheme,
        version: version.to_owned(),
        reason,
    }
}

/// dpkg: ordering comes from the `debversion` crate; parsing is ours because debversion's regex
/// accepts strings dpkg's `parseversion()` rejects ("a:0-0", "0:abc3-0", "1.0-").
mod dpkg {
    use debversion::Version;

    const UPSTREAM_EXTRA: &str = ".-+~:";
    const REVISION_EXTRA: &str = ".+~";

    /// Port of lib/dpkg/parsehelp.c `parseversion()`, with its error texts.
    pub(super) fn parse(input: &str) -> Result<Version, String> {
        let s = input.trim_matches([' ', '\t']);
        if s.is_empty() {
            return Err("version string is empty".into());
        }
        if s.contains([' ', '\t']) {
            return Err("version string has embedded spaces".into());
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((epoch, rest)) => (Some(parse_epoch(epoch)?), rest),
            None => (None, s),
        };
        if epoch.is_some() && rest.is_empty() {
            return Err("nothing after colon in version number".into());
        }
        let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
        if rest.contains('-') && revision.is_empty() {
            return Err("revision number is empty".into());
        }
        let Some(first) = upstream.bytes().next() else {
            return Err("version number is empty".into());
        };
        if !first.is_ascii_digit() {
            return Err("version number does not start with digit".into());
        }
        if let Some(c) = upstream
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || UPSTREAM_EXTRA.contains(*c)))
        {
            return Err(format!("invalid character {c:?} in version number"));
        }
        if let Some(c) = revision
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || REVISION_EXTRA.contains(*c)))
        {
            return Err(format!("invalid character {c:?} in revision number"));
        }
        Ok(Version {
            epoch,
            upstream_version: upstream.to_owned(),
            // An absent revision compares like "0", exactly as in dpkg.
            debian_revision: (!revision.is_empty()).then(|| revision.to_owned()),
        })
    }

    /// The epoch as `strtol()` reads it (optional sign, digits), which must end at the colon.
    fn parse_epoch(epoch: &str) -> Result<u32, String> {
        let (negative, unsigned) = match epoch.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, epoch.strip_prefix('+').unwrap_or(epoch)),
        };
        let digits = unsigned.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err("epoch in version is empty".into());
        }
        if digits != unsigned.len() {
            return Err("epoch in version is not number".into());
        }
        let significant = unsigned.trim_start_matches('0');
        if negative && !significant.is_empty() {
            return Err("epoch in version is negative".into());
        }
        match significant.parse::<u32>() {
            _ if significant.is_empty() => Ok(0),
            Ok(n) if n <= i32::MAX as u32 => Ok(n),
            _ => Err("epoch in version is too big".into()),
        }
    }
}

/// rpm: ordering comes from the `rpm-version` crate (a port of rpmvercmp); validation follows
/// rpmbuild, which only accepts alphanumerics and `._+%{}~^` in Version/Release (plus the `:`
/// and `-` separators of an EVR) and refuses "..", since rpm itself compares any garbage.
mod rpm {
    use rpm_version::Evr;

    const ALLOWED_EXTRA: &str = "._+%{}~^-:";

    pub(super) fn parse(s: &str) -> Result<Evr<'_>, String> {
        if s.is_empty() {
            return Err("version string is empty".into());
        }
        if let Some((at, c)) = s
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || ALLOWED_EXTRA.contains(*c)))
        {
            return Err(format!("illegal char {c:?} at byte {at}"));
        }
        if s.contains("..") {
            return Err("illegal sequence \"..\"".into());
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((epoch, rest)) => {
                if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("epoch is not a number".into());
                }
                // RPMTAG_EPOCH is a 32-bit integer.
                if epoch.parse::<u32>().is_err() {
                    return Err("epoch is too big".into());
                }
                (epoch, rest)
            }
            None => ("", s),
        };
        if rest.contains(':') {
            return Err("illegal char ':' in version".into());
        }
        // Like rpm's parseEVR the release starts after the last '-'; any earlier '-' would sit in
        // Version, where rpmbuild forbids it.
        let (version, release) = rest.rsplit_once('-').unwrap_or((rest, ""));
        if version.is_empty() {
            return Err("version is empty".into());
        }
        if version.contains('-') {
            return Err("illegal char '-' in version".into());
        }
        if rest.contains('-') && release.is_empty() {
            return Err("release is empty".into());
        }
        Ok(Evr::new(epoch, version, release))
    }
}

/// apk: hand-written because the only crates.io candidate (`apk-version` 0.1.0) is a single
/// unmaintained release wrapping a C copy through bindgen. This is a port of apk-tools' current
/// src/version.c tokenizer ("digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}").
mod apk {
    use std::cmp::Ordering;

    // Declaration order is the tokenizer's state order; transitions compare it, as in apk-tools.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum Token {
        InitialDigit,
        Digit,
        Letter,
        Suffix,
        SuffixNo,
        CommitHash,
        RevisionNo,
        End,
        Invalid,
    }

    // Pre-release suffixes sort below "no suffix", post-release ones above it.
    const SUFFIXES: [&[u8]; 10] = [
        b"alpha", b"beta", b"pre", b"rc", b"", b"cvs", b"svn", b"git", b"hg", b"p",
    ];
    const SUFFIX_NONE: usize = 4;

    struct State<'a> {
        token: Token,
        suffix: usize,
        value: &'a [u8],
        /// Bytes still to tokenize.
        rest: &'a [u8],
    }

    impl<'a> State<'a> {
        fn first(s: &'a [u8]) -> Self {
            let mut st = State {
                token: Token::InitialDigit,
                suffix: SUFFIX_NONE,
                value: &[],
                rest: s,
            };
            st.digits();
            st
        }

        fn digits(&mut self) {
            let n = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let (value, rest) = self.rest.split_at(n);
            self.value = value;
            self.rest = rest;
            if n == 0 {
                self.token = Token::Invalid;
            }
        }

        fn next(&mut self) {
            let Some(&c) = self.rest.first() else {
                self.token = Token::End;
                return;
            };
            let t = self.token;
            match c {
                b'a'..=b'z' if t <= Token::Digit => {
                    self.value = &self.rest[..1];
                    self.rest = &self.rest[1..];
                    self.token = Token::Letter;
                }
                b'.' if t <= Token::Digit => {
                    self.rest = &self.rest[1..];
                    self.token = Token::Digit;
                    self.digits();
                }
                b'0'..=b'9' if matches!(t, Token::InitialDigit | Token::Digit) => {
                    self.token = Token::Digit;
                    self.digits();
                }
                b'0'..=b'9' if t == Token::Suffix => {
                    self.token = Token::SuffixNo;
                    self.digits();
                }
                b'_' if t <= Token::SuffixNo => {
                    let after = &self.rest[1..];
                    let n = after.iter().take_while(|b| b.is_ascii_lowercase()).count();
                    self.value = &after[..n];
                    self.rest = &after[n..];
                    match SUFFIXES
                        .iter()
                        .position(|s| !s.is_empty() && *s == self.value)
                    {
                        Some(i) => {
                            self.suffix = i;
                            self.token = Token::Suffix;
                        }
                        None => self.token = Token::Invalid,
                    }
                }
                b'~' if t < Token::CommitHash => {
                    let after = &self.rest[1..];
                    let n = after
                        .iter()
                        .take_while(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                        .count();
                    self.value = &after[..n];
                    self.rest = &after[n..];
                    self.token = if n == 0 {
                        Token::Invalid
                    } else {
                        Token::CommitHash
                    };
                }
                b'-' if t < Token::RevisionNo && self.rest.starts_with(b"-r") => {
                    self.rest = &self.rest[2..];
                    self.token = Token::RevisionNo;
                    self.digits();
                }
                _ => self.token = Token::Invalid,
            }
        }
    }

    pub(super) fn validate(s: &str) -> Result<(), String> {
        let bytes = s.as_bytes();
        if bytes.is_empty() {
            return Err("version string is empty".into());
        }
        let mut st = State::first(bytes);
        if st.token == Token::Invalid {
            return Err("must start with a digit".into());
        }
        while st.token < Token::End {
            let offset = bytes.len() - st.rest.len();
            st.next();
            if st.token == Token::Invalid {
                return Err(describe_failure(s, offset));
            }
        }
        Ok(())
    }

    fn describe_failure(s: &str, offset: usize) -> String {
        let tail = s.get(offset..).unwrap_or_default();
        if let Some(suffix) = tail.strip_prefix('_') {
            let word: String = suffix
                .chars()
                .take_while(|c| c.is_ascii_lowercase())
                .collect();
            if !SUFFIXES
                .iter()
                .any(|s| !s.is_empty() && *s == word.as_bytes())
            {
                return format!("unknown suffix \"_{word}\" at byte {offset}");
            }
        }
        match tail.chars().next() {
            Some(c) => format!("unexpected {c:?} at byte {offset}"),
            None => "unexpected end of version".into(),
        }
    }

    /// Numeric order of two digit strings of any length (apk-tools uses u64, which no real version overflows).
    fn cmp_numeric(a: &[u8], b: &[u8]) -> Ordering {
        let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
        let (a, b) = (&a[strip(a)..], &b[strip(b)..]);
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }

    fn token_cmp(a: &State<'_>, b: &State<'_>) -> Ordering {
        match a.token {
            // A leading zero makes apk fall back to string order, like Gentoo ("8.2.0015" < "8.2.002").
            Token::Digit if a.value.first() == Some(&b'0') || b.value.first() == Some(&b'0') => {
                a.value.cmp(b.value)
            }
            Token::Digit | Token::InitialDigit | Token::SuffixNo | Token::RevisionNo => {
                cmp_numeric(a.value, b.value)
            }
            Token::Suffix => a.suffix.cmp(&b.suffix),
            // Letters and commit hashes compare as raw bytes.
            _ => a.value.cmp(b.value),
        }
    }

    /// Port of `apk_version_compare`; callers validate both sides first.
    pub(super) fn compare(a: &[u8], b: &[u8]) -> Ordering {
        let mut ta = State::first(a);
        let mut tb = State::first(b);
        while ta.token == tb.token && ta.token < Token::End {
            let r = token_cmp(&ta, &tb);
            if r != Ordering::Equal {
                return r;
            }
            ta.next();
            tb.next();
        }
        if ta.token == tb.token {
            return Ordering::Equal;
        }
        // Equal so far: the longer version wins unless what follows is a pre-release suffix.
        if ta.token == Token::Suffix && ta.suffix < SUFFIX_NONE {
            return Ordering::Less;
        }
        if tb.token == Token::Suffix && tb.suffix < SUFFIX_NONE {
            return Ordering::Greater;
        }
        tb.token.cmp(&ta.token)
    }
}

#[cfg(test)]
#[path = "version_tests.rs"]
mod tests;
