//! OSV documents as they arrive: a `.json` file, a folder of them, or a `.zip` such as osv.dev's
//! all.zip, read within limits so an archive cannot cost more than its allowance.

use std::fs;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use super::osv::{parse, starts_like_object, Advisory};

/// One advisory document as found on disk or in an archive.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// File path or zip entry name.
    pub name: String,
    pub result: Result<Advisory, String>,
}

/// Uploads and archives are untrusted, and no real OSV record comes near this size.
pub(crate) const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

/// How much an archive may hold before it is refused whole, so a small zip that expands to
/// gigabytes (a zip bomb) costs at most this much work and memory.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveLimits {
    pub max_entries: usize,
    /// Decompressed bytes of one entry (no real OSV record comes near a MiB).
    pub max_entry_bytes: u64,
    /// Decompressed bytes of every entry together (what is read, not what headers claim).
    pub max_total_bytes: u64,
}

/// An archive uploaded through the console or the API: osv.dev's largest per-ecosystem all.zip
/// holds some 60,000 records and expands to a few hundred MiB.
pub const UPLOAD_LIMITS: ArchiveLimits = ArchiveLimits { max_entries: 200_000, max_entry_bytes: 16 * 1024 * 1024, max_total_bytes: 1024 * 1024 * 1024 };

/// An archive an operator imports from the command line (`bulwark advisories import`).
pub const CLI_LIMITS: ArchiveLimits =
    ArchiveLimits { max_entries: 2_000_000, max_entry_bytes: MAX_DOCUMENT_BYTES, max_total_bytes: 8 * 1024 * 1024 * 1024 };

/// Reads a `.json` file, a folder (recursively, `*.json`, sorted by path) or a `.zip` such as
/// osv.dev's per-ecosystem all.zip. Unreadable or malformed documents become `Loaded` errors;
/// only a path that can't be opened at all, or a broken zip, fails the whole call.
pub fn read_path(path: &Path) -> io::Result<Vec<Loaded>> {
    if fs::metadata(path)?.is_dir() {
        let mut files = Vec::new();
        collect_json(path, &mut files)?;
        files.sort();
        return Ok(files
            .into_iter()
            .map(|file| Loaded {
                name: file.display().to_string(),
                result: load(fs::File::open(&file).and_then(read_capped), "cannot read"),
            })
            .collect());
    }
    let mut file = fs::File::open(path)?;
    let mut magic = Vec::new();
    file.by_ref().take(4).read_to_end(&mut magic)?;
    file.rewind()?;
    let name = path.display().to_string();
    if is_zip(&name, &magic) {
        return read_zip(io::BufReader::new(file), CLI_LIMITS)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
    }
    let result = load(Ok(read_capped(file)?), "cannot read");
    Ok(vec![Loaded { name, result }])
}

/// Reads an uploaded `.zip` or `.json`, recognised by name or content; a bad zip, or one past
/// `limits`, is an error. CPU-bound: call it off the async workers.
pub fn read_upload(file_name: &str, bytes: &[u8], limits: ArchiveLimits) -> Result<Vec<Loaded>, String> {
    if is_zip(file_name, bytes) {
        return read_zip(io::Cursor::new(bytes), limits);
    }
    if !file_name.to_ascii_lowercase().ends_with(".json") && !starts_like_object(bytes) {
        return Err(format!(
            "{file_name}: expected an OSV .json file or a .zip of them"
        ));
    }
    Ok(vec![Loaded {
        name: file_name.to_owned(),
        result: parse(bytes),
    }])
}

fn is_zip(name: &str, head: &[u8]) -> bool {
    // Local file header, or the end-of-directory record an empty archive starts with.
    name.to_ascii_lowercase().ends_with(".zip")
        || head.starts_with(b"PK\x03\x04")
        || head.starts_with(b"PK\x05\x06")
}

/// Reads one document, or `None` past `MAX_DOCUMENT_BYTES`; zip headers can lie about sizes,
/// so the cap applies to what is actually read.
pub(crate) fn read_capped(reader: impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_DOCUMENT_BYTES).then_some(bytes))
}

pub(crate) fn load(read: io::Result<Option<Vec<u8>>>, failure: &str) -> Result<Advisory, String> {
    match read {
        Err(e) => Err(format!("{failure}: {e}")),
        Ok(None) => Err(format!(
            "larger than {} MiB",
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        )),
        Ok(Some(bytes)) => parse(&bytes),
    }
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        // Symlinked folders are not followed, so a link cycle cannot recurse forever.
        if kind.is_dir() {
            collect_json(&path, out)?;
        } else if has_json_extension(&path)
            && (kind.is_file() || kind.is_symlink() && path.is_file())
        {
            out.push(path);
        }
    }
    Ok(())
}

fn has_json_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// "1024 MiB", or bytes below a MiB.
fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

fn read_zip<R: Read + Seek>(reader: R, limits: ArchiveLimits) -> Result<Vec<Loaded>, String> {
    let mut archive =
        zip::ZipArchive::new(reader).map_err(|e| format!("not a readable zip archive: {e}"))?;
    if archive.len() > limits.max_entries {
        return Err(format!(
            "the archive has {} entries; an import takes at most {}",
            archive.len(),
            limits.max_entries
        ));
    }
    let too_large = || format!("the archive expands to more than {}; an import takes at most that much", size_text(limits.max_total_bytes));
    let mut left = limits.max_total_bytes;
    let mut out = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index(index).and_then(|entry| {
            let name = entry.name()?.into_owned();
            Ok((name, entry))
        });
        let (name, entry) = match entry {
            Ok(found) => found,
            Err(e) => {
                out.push(Loaded {
                    name: format!("zip entry #{index}"),
                    result: Err(format!("cannot open zip entry: {e}")),
                });
                continue;
            }
        };
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        // Read at most what is left of the allowances (plus one byte, to notice going past).
        let mut bytes = Vec::new();
        let cap = left.min(limits.max_entry_bytes) + 1;
        let read = entry.take(cap).read_to_end(&mut bytes);
        let used = bytes.len() as u64;
        if used > limits.max_entry_bytes {
            return Err(format!(
                "{name} expands to more than {}; an import takes entries of at most that size",
                size_text(limits.max_entry_bytes)
            ));
        }
        if used > left {
            return Err(too_large());
        }
        left -= used;
        let result = match read {
            Err(e) => Err(format!("cannot decompress: {e}")),
            Ok(_) => parse(&bytes),
        };
        out.push(Loaded { name, result });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
